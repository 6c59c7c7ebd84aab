//! `kvbench serve` as its own process: signals (reload on SIGHUP under load,
//! graceful stop on SIGTERM) and the real `redis-cli` / `redis-benchmark`
//! against its RESP port. Every server binds port 0 and is stopped by its PID.
#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

use common::{Served, http_get};

const KEYS: usize = 2000;

/// Writes `k{i} {version}-{i}` for every key, atomically (rename), as a deploy would.
fn write_version(path: &Path, version: &str) {
    let tmp = path.with_extension("tmp");
    let mut out = std::io::BufWriter::new(File::create(&tmp).unwrap());
    for i in 0..KEYS {
        writeln!(out, "k{i} {version}-{i}").unwrap();
    }
    out.into_inner().unwrap().sync_all().unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// What a client thread saw while the data changed under it.
#[derive(Default)]
struct Seen {
    requests: AtomicU64,
    failures: AtomicU64,
    /// Answers from an older version after a newer one on the same connection.
    went_back: AtomicU64,
    newest: AtomicU64,
}

/// Asks for keys in a loop until `stop`, checking each answer is `v{n}-{i}` and `n` never decreases.
fn client(ask: &mut dyn FnMut(usize) -> Option<Vec<u8>>, seen: &Seen, stop: &AtomicBool) {
    let mut newest = 0;
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i = (i + 7) % KEYS;
        seen.requests.fetch_add(1, Ordering::Relaxed);
        let version = ask(i).and_then(|value| {
            let value = String::from_utf8(value).ok()?;
            let (version, key) = value.strip_prefix('v')?.split_once('-')?;
            (key == i.to_string()).then(|| version.parse::<u64>().ok()).flatten()
        });
        match version {
            None => {
                seen.failures.fetch_add(1, Ordering::Relaxed);
            }
            Some(v) if v < newest => {
                seen.went_back.fetch_add(1, Ordering::Relaxed);
            }
            Some(v) => {
                newest = v;
                seen.newest.fetch_max(v, Ordering::Relaxed);
            }
        }
    }
}

#[test]
fn sighup_reloads_under_load_without_a_failed_request_and_sigterm_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.txt");
    write_version(&data, "v1");
    let engines =
        ["fst", "lmdb", "sqlite", "cdb", "redb"].into_iter().chain(cfg!(feature = "rocksdb").then_some("rocksdb"));
    for strategy in ["mmap-index", "phf-index", "hashmap"].into_iter().chain(engines) {
        let mut server = Served::start(&data, &["--strategy", strategy, "--threads", "2"]);
        let (seen_http, seen_resp) = (Arc::new(Seen::default()), Arc::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let http = {
            let (seen, stop, addr) = (seen_http.clone(), stop.clone(), server.http);
            std::thread::spawn(move || {
                let mut stream = BufReader::new(TcpStream::connect(addr).unwrap());
                client(
                    &mut |i| match http_get(&mut stream, &format!("/k{i}")) {
                        Ok((200, body)) => Some(body),
                        _ => None,
                    },
                    &seen,
                    &stop,
                );
            })
        };
        let resp = {
            let (seen, stop, addr) = (seen_resp.clone(), stop.clone(), server.resp);
            std::thread::spawn(move || {
                let mut con = redis::Client::open(format!("redis://{addr}/")).unwrap().get_connection().unwrap();
                client(
                    &mut |i| redis::cmd("GET").arg(format!("k{i}")).query::<Option<Vec<u8>>>(&mut con).ok().flatten(),
                    &seen,
                    &stop,
                );
            })
        };
        let wait_for = |version: u64| {
            let start = Instant::now();
            while [&seen_http, &seen_resp].iter().any(|s| s.newest.load(Ordering::Relaxed) < version) {
                assert!(start.elapsed() < Duration::from_secs(20), "{strategy}: v{version} never served");
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        wait_for(1);
        for version in 2..=3 {
            write_version(&data, &format!("v{version}"));
            server.signal(libc::SIGHUP);
            wait_for(version);
            std::thread::sleep(Duration::from_millis(100)); // keep the load on the new data a while
        }
        // A reload of a broken file fails and keeps serving v3. (Replaced by
        // rename: truncating a mapped file in place is a different fault.)
        let broken = dir.path().join("broken.txt");
        std::fs::write(&broken, b"k0 v4-0\nno-separator-here\n").unwrap();
        std::fs::rename(&broken, &data).unwrap();
        server.signal(libc::SIGHUP);
        let start = Instant::now();
        while !server.log().contains("reload failed") {
            assert!(start.elapsed() < Duration::from_secs(10), "{}", server.log());
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        stop.store(true, Ordering::Relaxed);
        http.join().unwrap();
        resp.join().unwrap();
        for (protocol, seen) in [("http", &seen_http), ("resp", &seen_resp)] {
            let requests = seen.requests.load(Ordering::Relaxed);
            assert!(requests > 0, "{strategy} {protocol}: no requests");
            assert_eq!(seen.failures.load(Ordering::Relaxed), 0, "{strategy} {protocol}: failed of {requests}");
            assert_eq!(seen.went_back.load(Ordering::Relaxed), 0, "{strategy} {protocol}: old data after new");
            assert_eq!(seen.newest.load(Ordering::Relaxed), 3, "{strategy} {protocol}");
        }
        let status = server.stop();
        assert!(status.success(), "{strategy}: {status:?}\n{}", server.log());
        let log = server.log();
        assert!(
            log.contains("reload failed, still serving the previous data") && log.contains("malformed line"),
            "{log}"
        );
        assert!(log.contains("shutting down"), "{log}");
        write_version(&data, "v1");
    }
}

/// Whether `tool` is on PATH; outside CI a missing tool skips the test.
fn have(tool: &str) -> bool {
    let found =
        Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "CI must install {tool} (.ci/run installs redis-tools and python3)"
    );
    if !found {
        eprintln!("skipping: {tool} not installed");
    }
    found
}

#[test]
fn redis_cli_and_redis_benchmark_work_against_the_resp_port() {
    if !have("redis-cli") || !have("redis-benchmark") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.txt");
    write_version(&data, "v1");
    let mut server = Served::start(&data, &["--strategy", "hashmap", "--threads", "1"]);
    let port = server.resp.port().to_string();
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli").args(["-h", "127.0.0.1", "-p", &port]).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(cli(&["PING"]), "PONG\n");
    assert_eq!(cli(&["GET", "k42"]), "v1-42\n");
    assert_eq!(cli(&["GET", "nope"]), "\n");
    assert_eq!(cli(&["MGET", "k1", "nope", "k2"]), "v1-1\n\nv1-2\n");
    assert_eq!(cli(&["EXISTS", "k1", "nope"]), "1\n");
    assert_eq!(cli(&["DBSIZE"]), format!("{KEYS}\n"));
    assert!(cli(&["SET", "k1", "x"]).contains("read-only"));
    let mut piped = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    piped.stdin.take().unwrap().write_all(b"GET k7\nPING\n").unwrap();
    let mut out = String::new();
    piped.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(out, "v1-7\nPONG\n");
    assert!(piped.wait().unwrap().success());
    // redis-benchmark unchanged: its handshake, then GETs of existing keys (-r draws `key:…` names;
    // here the keys are k0..k1999, so the plain GET test is used). No timing is checked.
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port, "-t", "get,ping_mbulk", "-n", "2000", "-c", "4", "-P", "8", "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("GET: ") && text.contains("requests per second"), "{text}");
    assert!(server.stop().success());
}

#[test]
fn kvbench_load_checks_every_answer_and_samples_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.txt");
    write_version(&data, "v1");
    let mut server = Served::start(&data, &["--strategy", "hashmap", "--threads", "1"]);
    let pid = server.child.id().to_string();
    let load = |target: String, data: &Path, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kvbench"))
            .args(["load", "--target", &target, "--data", data.to_str().unwrap(), "-c", "4", "--server-pid", &pid])
            .args(extra)
            .output()
            .unwrap()
    };
    for target in [format!("http://{}", server.http), format!("resp://{}", server.resp)] {
        let results = dir.path().join("load.json");
        let results_arg = ["--results", results.to_str().unwrap(), "--label", "under-test"];
        let out = load(target.clone(), &data, &[&["-n", "500", "-w", "uniform,miss=0.5"][..], &results_arg].concat());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{target}: {text}{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("requests  500 in") && text.contains(", 0 errors"), "{text}");
        assert!(text.contains(&format!("server    PID {pid}: CPU")), "{text}");
        // The same run in the results schema: the server's CPU and RSS too, the histogram holding all 500.
        let set = kvbench_results::io::read(&results).unwrap();
        let get = |m| set.records.iter().find(|r| r.metric == m).unwrap();
        assert_eq!(get(kvbench_results::Metric::LatencyP50).histogram.as_ref().map(|h| h.total()), Some(500));
        assert!(get(kvbench_results::Metric::ServerRss).value > 0.0);
        let throughput = get(kvbench_results::Metric::Throughput);
        let workload = throughput.workload.map(|w| w.to_string());
        assert_eq!((throughput.case.to_string(), workload), ("under-test".into(), Some("uniform,miss=0.5".into())));
        assert_eq!(throughput.load.as_ref().map(|l| (l.protocol.as_str(), l.connections)), Some((&target[..4], 4)));
    }
    // For scripts: the run's records as JSON on stdout (as --results writes them), or as CSV; --quiet says nothing else.
    let http = format!("http://{}", server.http);
    let out = load(http.clone(), &data, &["-n", "200", "--format", "json", "--quiet"]);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let set: kvbench_results::ResultSet = serde_json::from_slice(&out.stdout).unwrap();
    assert!(set.records.iter().any(|r| r.metric == kvbench_results::Metric::Throughput && r.value > 0.0));
    let out = load(http, &data, &["-n", "200", "--format", "csv"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.starts_with("strategy,start,dataset,workload,metric,value,unit,"), "{csv}");
    assert!(csv.lines().any(|l| l.contains(",throughput,")), "{csv}");
    // Checked against another version of the data, every answer is wrong: exit status 1.
    let other = dir.path().join("other.txt");
    write_version(&other, "v2");
    let out = load(format!("resp://{}", server.resp), &other, &["-n", "100", "--rate", "2000"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("100 wrong answers") && text.contains("from the intended send (corrected)"), "{text}");
    assert!(server.stop().success());
}

/// `kvbench bench macro --quick ARGS`, results into `dir`: its table, and its results once it succeeded.
fn bench_macro_quick(dir: &Path, args: &[&str]) -> (String, kvbench_results::ResultSet) {
    let results = dir.join("macro.json");
    let out = Command::new(env!("CARGO_BIN_EXE_kvbench"))
        .args(["bench", "macro", "--quick"])
        .args(args)
        .arg("--results")
        .arg(&results)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    (text, kvbench_results::io::read(&results).unwrap())
}

#[test]
fn bench_macro_quick_serves_loads_and_records_every_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let (text, set) = bench_macro_quick(dir.path(), &["--data-dir", dir.path().to_str().unwrap()]);
    let loads: Vec<_> = set.records.iter().filter(|r| r.metric == kvbench_results::Metric::Throughput).collect();
    assert_eq!(loads.len(), 12, "{text}");
    assert!(loads.iter().all(|r| r.value > 0.0 && r.load.is_some()), "{loads:?}");
    assert!(loads.iter().any(|r| r.load.as_ref().unwrap().rate.is_some()), "an open-loop run");
    let errors = set.records.iter().filter(|r| r.metric == kvbench_results::Metric::Errors);
    assert!(errors.clone().count() == 12 && errors.into_iter().all(|r| r.value == 0.0));
    // Each load keeps its latency distribution, on its p50 record, with every request in it.
    let p50s: Vec<_> = set.records.iter().filter(|r| r.metric == kvbench_results::Metric::LatencyP50).collect();
    assert!(p50s.iter().all(|r| r.histogram.as_ref().is_some_and(|h| h.total() > 0)), "{p50s:?}");
    assert_eq!(set.records.iter().filter(|r| r.histogram.is_some()).count(), 12);
    // The cache's hit rate beside each of its loads, in the results and the table.
    let hit_rates = set.records.iter().filter(|r| r.metric == kvbench_results::Metric::HitRate);
    assert!(hit_rates.clone().count() == 2 && hit_rates.into_iter().all(|r| r.value > 0.0 && r.load.is_some()));
    assert!(text.contains("hit rate") && text.contains("client CPU"), "{text}");
}

#[test]
fn bench_macro_serves_a_users_own_file_with_the_chosen_strategies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mine.tsv");
    // Tabs, CRLF, a duplicate (first wins), values of many lengths.
    let mut text = String::from("dup\tfirst\r\ndup\tsecond\r\n");
    text.extend((0..3000).map(|i| format!("user-{i}\t{}\r\n", "v".repeat(i % 50))));
    std::fs::write(&data, text).unwrap();
    let (text, set) =
        bench_macro_quick(dir.path(), &["--strategies", "hashmap,lru(0.5,hashmap)", "--data", data.to_str().unwrap()]);
    let loads: Vec<_> = set.records.iter().filter(|r| r.metric == kvbench_results::Metric::Throughput).collect();
    let mut servers: Vec<&str> = loads.iter().map(|r| r.case.strategy.as_str()).collect();
    servers.dedup();
    // The chosen strategies over both protocols, then the peers that are installed here.
    assert_eq!(&servers[..2], ["hashmap", "lru(0.5,hashmap)"], "{text}");
    assert!(loads.iter().all(|r| r.dataset.file.as_ref().is_some_and(|f| f.name == "mine.tsv" && f.duplicates == 1)));
    // kvbench answered every request as the file gives it (the peers are other programs, loaded as they come).
    let ours = |r: &&kvbench_results::Record| r.case.strategy.contains("hashmap");
    let errors: Vec<_> =
        set.records.iter().filter(|r| r.metric == kvbench_results::Metric::Errors).filter(ours).collect();
    assert!(errors.len() == 4 && errors.iter().all(|r| r.value == 0.0), "{errors:?}");
    assert!(text.contains("mine.tsv"), "{text}");
}

#[test]
fn the_python_dict_baseline_answers_like_the_data_file() {
    if !have("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.txt");
    // Duplicates (first wins), a tab separator, CRLF and a value with spaces, beside the generated keys.
    let mut text = String::from("dup first\ndup second\ntabbed\tvalue with spaces\r\n");
    text.extend((0..KEYS).map(|i| format!("k{i} v1-{i}\n")));
    std::fs::write(&data, text).unwrap();
    let server = kvbench_peers::serve::ServeProcess::python_dict(&data, None, Duration::from_secs(30)).unwrap();
    let http = server.http.unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvbench"))
        .args(["load", "--target", &format!("http://{http}"), "--data", data.to_str().unwrap()])
        .args(["-c", "4", "-n", "400", "-w", "uniform,miss=0.3"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains(", 0 errors"), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let mut stream = BufReader::new(TcpStream::connect(http).unwrap());
    assert_eq!(http_get(&mut stream, "/dup").unwrap(), (200, b"first".to_vec()));
    assert_eq!(http_get(&mut stream, "/tabbed").unwrap(), (200, b"value with spaces".to_vec()));
    assert_eq!(http_get(&mut stream, "/nope").unwrap().0, 404);
}
