//! Data faults under a running `kvbench serve`: the data file deleted,
//! appended to, or rewritten in place. Each has a defined result and none
//! produces a wrong value. (Atomic replacement plus SIGHUP is in `serve.rs`;
//! stale, truncated and corrupt sidecars in `crates/lookup/tests/sidecar.rs`.)
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Served, http_get};

const KEYS: usize = 500;
const STRATEGIES: [&str; 3] = ["hashmap", "mmap-index", "scan"];

fn write_data(path: &std::path::Path) {
    let text: String = (0..KEYS).map(|i| format!("k{i} v-{i}\n")).collect();
    std::fs::write(path, text).unwrap();
}

fn get(server: &Served, key: &str) -> (u16, Vec<u8>) {
    http_get(&mut BufReader::new(TcpStream::connect(server.http).unwrap()), &format!("/{key}")).unwrap()
}

/// Waits (at most 10 s) until the server's log contains `text`.
fn wait_for_log(server: &Served, text: &str) {
    let start = Instant::now();
    while !server.log().contains(text) {
        assert!(start.elapsed() < Duration::from_secs(10), "no {text:?} in the log:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_deleted_data_file_keeps_being_served_and_its_reload_fails_clearly() {
    for strategy in STRATEGIES {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.txt");
        write_data(&data);
        let mut server = Served::start(&data, &["--strategy", strategy]);
        std::fs::remove_file(&data).unwrap();
        // The open file (or its copy in memory) lives on: same answers.
        assert_eq!(get(&server, "k3"), (200, b"v-3".to_vec()), "{strategy}");
        server.signal(libc::SIGHUP);
        wait_for_log(&server, "reload failed");
        assert!(server.log().contains("No such file"), "{strategy}: {}", server.log());
        assert_eq!(get(&server, "k499"), (200, b"v-499".to_vec()), "{strategy} after the failed reload");
        assert_eq!(get(&server, "nope").0, 404);
        assert!(server.stop().success(), "{strategy}: {}", server.log());
    }
}

#[test]
fn appending_in_place_never_gives_a_wrong_value_and_sighup_serves_the_new_keys() {
    for strategy in STRATEGIES {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.txt");
        write_data(&data);
        let mut server = Served::start(&data, &["--strategy", strategy]);
        let mut file = std::fs::OpenOptions::new().append(true).open(&data).unwrap();
        file.write_all(b"appended new-value\nk3 a-later-duplicate\n").unwrap();
        file.sync_all().unwrap();
        // Before a reload: the old keys as before (the first record of a key wins), the new key not yet.
        assert_eq!(get(&server, "k3"), (200, b"v-3".to_vec()), "{strategy}");
        assert!(matches!(get(&server, "appended"), (404, _) | (200, _)), "{strategy}");
        if let (200, value) = get(&server, "appended") {
            assert_eq!(value, b"new-value", "{strategy}: a visible new key has its own value");
        }
        server.signal(libc::SIGHUP);
        wait_for_log(&server, "reloaded");
        assert_eq!(get(&server, "appended"), (200, b"new-value".to_vec()), "{strategy}");
        assert_eq!(get(&server, "k3"), (200, b"v-3".to_vec()), "{strategy}: first record still wins");
        assert!(server.stop().success(), "{strategy}: {}", server.log());
    }
}

#[test]
fn a_value_rewritten_in_place_reads_as_the_file_now_says_or_as_before_never_a_mix_of_keys() {
    for strategy in STRATEGIES {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.txt");
        write_data(&data);
        let mut server = Served::start(&data, &["--strategy", strategy]);
        // Same length, in place: k10's value changes, and k11's key becomes k99999 (the index still points there).
        let text = std::fs::read_to_string(&data).unwrap();
        let changed = text.replace("k10 v-10\n", "k10 X-10\n").replace("k11 v-11\n", "q11 v-11\n");
        assert_eq!(changed.len(), text.len());
        std::fs::OpenOptions::new().write(true).open(&data).unwrap().write_all(changed.as_bytes()).unwrap();
        let (status, value) = get(&server, "k10");
        assert!(status == 200 && (value == b"v-10" || value == b"X-10"), "{strategy}: {status} {value:?}");
        // A key that is no longer at the offset the index holds is absent, not another key's value.
        let (status, value) = get(&server, "k11");
        assert!(status == 404 || (status == 200 && value == b"v-11"), "{strategy}: {status} {value:?}");
        assert!(server.stop().success(), "{strategy}: {}", server.log());
    }
}
