//! Data faults under a running `kvbench serve`: the data file deleted,
//! appended to, rewritten or truncated in place. Each has a defined result
//! and none produces a wrong value. (Atomic replacement plus SIGHUP is in
//! `serve.rs`; stale, truncated and corrupt sidecars in
//! `crates/lookup/tests/sidecar.rs`, and truncation under each strategy in
//! `crates/lookup/tests/truncate.rs`.)
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Served, http_get};
use kvbench_lookup::Reference;

const KEYS: usize = 500;
/// The strategies that serve from the data file, `rocksdb` too in a build with it.
fn strategies() -> impl Iterator<Item = &'static str> {
    let always = ["hashmap", "mmap-index", "phf-index", "scan", "fst", "lmdb", "sqlite", "cdb", "redb"];
    always.into_iter().chain(cfg!(feature = "rocksdb").then_some("rocksdb"))
}

fn write_data(path: &std::path::Path) {
    let text: String = (0..KEYS).map(|i| format!("k{i} v-{i}\n")).collect();
    std::fs::write(path, text).unwrap();
}

fn get(server: &Served, key: &str) -> (u16, Vec<u8>) {
    http_get(&mut BufReader::new(TcpStream::connect(server.http).unwrap()), &format!("/{key}")).unwrap()
}

/// A server with `strategy` on a fresh data file: (its folder, which must outlive it; the file; the server).
fn serve_fresh_data(strategy: &str) -> (tempfile::TempDir, std::path::PathBuf, Served) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.txt");
    write_data(&data);
    let server = Served::start(&data, &["--strategy", strategy]);
    (dir, data, server)
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
    for strategy in strategies() {
        let (_dir, data, mut server) = serve_fresh_data(strategy);
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
    for strategy in strategies() {
        let (_dir, data, mut server) = serve_fresh_data(strategy);
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
    for strategy in strategies() {
        let (_dir, data, mut server) = serve_fresh_data(strategy);
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

/// Keys of the truncation tests: enough pages that a cut leaves whole pages past the end.
const CUT_KEYS: usize = 20_000;

/// What a client may be told for a key while its file is cut under the server.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    /// 503 / `-ERR …changed…`: the lookup read a changed file and said so.
    changed: AtomicU64,
    /// Anything else than the value (or absence) in the file before or after the cut.
    wrong: AtomicU64,
    first_wrong: Mutex<Option<String>>,
}

/// An answer: a value, absent, or an error message.
type Answer = Result<Option<Vec<u8>>, String>;

impl Tally {
    fn judge(&self, key: usize, answer: Answer, before: &Reference, after: &Reference) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let name = format!("k{key}");
        let fine = match &answer {
            Ok(Some(value)) => {
                Some(value.as_slice()) == before.value(name.as_bytes())
                    || Some(value.as_slice()) == after.value(name.as_bytes())
            }
            Ok(None) => after.value(name.as_bytes()).is_none(),
            Err(message) if message.contains("changed under the server") => {
                self.changed.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => false,
        };
        if !fine {
            self.wrong.fetch_add(1, Ordering::Relaxed);
            self.first_wrong.lock().unwrap().get_or_insert_with(|| format!("{name}: {answer:?}"));
        }
    }
}

/// Asks for keys over HTTP and RESP (one connection each) until `stop`, judging every answer.
fn load_while(
    server: &Served,
    before: &Arc<Reference>,
    after: &Arc<Reference>,
    stop: &Arc<AtomicBool>,
) -> (Arc<Tally>, Vec<std::thread::JoinHandle<()>>) {
    let tally = Arc::new(Tally::default());
    let http = {
        let (tally, stop, before, after, addr) =
            (tally.clone(), stop.clone(), before.clone(), after.clone(), server.http);
        std::thread::spawn(move || {
            let mut stream = BufReader::new(TcpStream::connect(addr).unwrap());
            let mut key = 0;
            while !stop.load(Ordering::Relaxed) {
                key = (key + 7919) % CUT_KEYS;
                let answer = match http_get(&mut stream, &format!("/k{key}")).unwrap() {
                    (200, body) => Ok(Some(body)),
                    (404, _) => Ok(None),
                    (status, body) => Err(format!("{status} {}", String::from_utf8_lossy(&body))),
                };
                tally.judge(key, answer, &before, &after);
            }
        })
    };
    let resp = {
        let (tally, stop, before, after, addr) =
            (tally.clone(), stop.clone(), before.clone(), after.clone(), server.resp);
        std::thread::spawn(move || {
            let mut con = redis::Client::open(format!("redis://{addr}/")).unwrap().get_connection().unwrap();
            let mut key = 1;
            while !stop.load(Ordering::Relaxed) {
                key = (key + 7919) % CUT_KEYS;
                let answer = redis::cmd("GET").arg(format!("k{key}")).query::<Option<Vec<u8>>>(&mut con);
                tally.judge(key, answer.map_err(|e| e.to_string()), &before, &after);
            }
        })
    };
    (tally, vec![http, resp])
}

fn write_cut_data(path: &std::path::Path) -> Vec<u8> {
    let text: Vec<u8> = (0..CUT_KEYS).map(|i| format!("k{i} value-{i}\n")).collect::<String>().into();
    std::fs::write(path, &text).unwrap();
    text
}

/// Where line `k{key}` starts in `text`.
fn line_start(text: &[u8], key: usize) -> usize {
    let needle = format!("\nk{key} ");
    text.windows(needle.len()).position(|w| w == needle.as_bytes()).unwrap() + 1
}

#[test]
fn a_data_file_truncated_in_place_under_load_never_gives_a_wrong_value_and_is_reloaded() {
    let lru: &[&str] = &["--strategy", "lru(0.5,mmap-index)"];
    for args in [&["--strategy", "mmap-index"][..], &["--strategy", "scan"], lru] {
        let strategy = args.get(1..).unwrap_or_default().join(" ");
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.txt");
        let text = write_cut_data(&data);
        // Inside a value near the middle (not on a page boundary): that record
        // now ends early, which the reopened file serves as its value.
        let cut = line_start(&text, CUT_KEYS / 2) + format!("k{} val", CUT_KEYS / 2).len();
        assert_ne!(cut % 4096, 0);
        let before = Arc::new(Reference::from_bytes(&text));
        let after = Arc::new(Reference::from_bytes(&text[..cut]));
        let mut server = Served::start(&data, &[args, &["--threads", "2"]].concat());
        let stop = Arc::new(AtomicBool::new(false));
        let (tally, clients) = load_while(&server, &before, &after, &stop);
        std::thread::sleep(Duration::from_millis(300));
        std::fs::OpenOptions::new().write(true).open(&data).unwrap().set_len(cut as u64).unwrap();
        wait_for_log(&server, "reloaded");
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        clients.into_iter().for_each(|c| c.join().unwrap());
        let (requests, changed) = (tally.requests.load(Ordering::Relaxed), tally.changed.load(Ordering::Relaxed));
        eprintln!("{strategy}: {requests} requests, {changed} answered 'changed'");
        assert!(requests > 100, "{strategy}: {requests} requests");
        // The reload was asked for by a lookup that met the cut, and answered so.
        assert!(changed > 0, "{strategy}");
        assert_eq!(tally.wrong.load(Ordering::Relaxed), 0, "{strategy}: {:?}", tally.first_wrong.lock().unwrap());
        // Reloaded: every key as the cut file says, and no more errors.
        let mut stream = BufReader::new(TcpStream::connect(server.http).unwrap());
        for key in (0..CUT_KEYS).step_by(97).chain([CUT_KEYS / 2 - 1, CUT_KEYS / 2, CUT_KEYS / 2 + 1]) {
            let expected = match after.value(format!("k{key}").as_bytes()) {
                Some(value) => (200, value.to_vec()),
                None => (404, b"not found\n".to_vec()),
            };
            assert_eq!(http_get(&mut stream, &format!("/k{key}")).unwrap(), expected, "{strategy} k{key}");
        }
        let log = server.log();
        assert!(log.contains("changed under the server; reloading"), "{strategy}: {log}");
        let status = server.stop();
        assert!(status.success(), "{strategy}: {status:?}\n{log}");
    }
}

#[test]
fn a_cut_that_breaks_a_line_answers_503_until_a_good_file_is_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.txt");
    let text = write_cut_data(&data);
    let mut server = Served::start(&data, &["--strategy", "mmap-index"]);
    // Inside a key: the last line has no separator, so the strict reopen fails.
    let cut = line_start(&text, CUT_KEYS / 2) + 3;
    std::fs::OpenOptions::new().write(true).open(&data).unwrap().set_len(cut as u64).unwrap();
    let (status, body) = get(&server, "k1");
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("changed under the server"));
    wait_for_log(&server, "malformed line");
    assert_eq!(get(&server, "k2").0, 503, "still refusing, not answering from the cut file");
    // A complete file put in place (atomically) is picked up by the retries, without a SIGHUP.
    let fixed = dir.path().join("fixed.txt");
    std::fs::write(&fixed, &text).unwrap();
    std::fs::rename(&fixed, &data).unwrap();
    wait_for_log(&server, "reloaded");
    assert_eq!(get(&server, "k3"), (200, b"value-3".to_vec()));
    assert_eq!(get(&server, &format!("k{}", CUT_KEYS - 1)), (200, format!("value-{}", CUT_KEYS - 1).into_bytes()));
    assert!(server.stop().success(), "{}", server.log());
}
