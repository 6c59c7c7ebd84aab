//! The clients people use, installed from their registries, against
//! `kvbench serve` on their default settings: redis-py (RESP3 by default, and
//! `protocol=2`), node-redis, and requests over one kept-alive HTTP
//! connection. Each does GET, MGET, pipelines, transactions, misses (absent
//! keys and keys no file can hold) and binary values, and checks every
//! answer against the data file (`tests/clients/*.py`, `*.mjs`).
//!
//! The clients live in `tests/clients/` once `tests/clients/install.sh` has
//! run (`.ci/run` runs it). Where they are missing the checks are skipped
//! with a message, except on CI (`CI` set), where that is a failure.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kvbench_lookup::{OpenOptions, Strategy};
use kvbench_server::{Config, DataSource, Limits, Protocol, Server};

/// How long one client may take before it is killed and the check fails.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

fn clients() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// The program to run a client with, or `None` (after saying why) when it is not installed.
fn installed(program: &Path, what: &str) -> Option<PathBuf> {
    if program.exists() {
        return Some(program.to_owned());
    }
    let message = format!("{what} is not installed: run crates/server/tests/clients/install.sh");
    assert!(std::env::var_os("CI").is_none(), "{message} (.ci/run does)");
    eprintln!("skipped: {message}");
    None
}

/// A data file with what real files have: UUID keys, values with spaces,
/// tabs as separators, CRLF lines, a duplicate key, binary values, long values.
fn data_file(dir: &Path) -> PathBuf {
    let mut data = Vec::new();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..300 {
        let (a, b) = (next(), next());
        let key = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        );
        let sep = if i % 7 == 0 { '\t' } else { ' ' };
        let end = if i % 11 == 0 { "\r\n" } else { "\n" };
        data.extend_from_slice(format!("{key}{sep}value {i} {}{end}", "x".repeat((i * 37) % 200)).as_bytes());
    }
    data.extend_from_slice(b"bin \xff\xfe\x00\x01\x80 high bytes\n");
    data.extend_from_slice("ключ значение\n".as_bytes());
    data.extend_from_slice(b"percent%2Fkey slash/and%percent\n");
    data.extend_from_slice(b"bin DUPLICATE: the first line of a key wins\n");
    let path = dir.join("clients.txt");
    std::fs::write(&path, data).unwrap();
    path
}

fn start(path: &Path) -> Server {
    let any = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let config = Config { http: any, resp: any, threads: 2, signals: false, limits: Limits::default() };
    let source = DataSource {
        path: path.to_owned(),
        strategy: "hashmap".parse::<Strategy>().unwrap(),
        options: OpenOptions::default(),
    };
    Server::start(config, source).unwrap()
}

/// Runs a client to the end (killing it past [`CLIENT_TIMEOUT`]) and returns
/// the JSON line it prints; panics with its stderr if it found a wrong answer.
fn run(program: &Path, args: &[&str]) -> String {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(clients())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CLIENT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} {args:?} did not finish within {CLIENT_TIMEOUT:?}", program.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{} {args:?}: {status}\n{err}{out}", program.display());
    let summary = out.lines().last().unwrap_or_default().to_owned();
    eprintln!("{summary}");
    summary
}

/// The count a client's summary gives for an operation (0 when absent).
fn count(summary: &str, operation: &str) -> u64 {
    let value: serde_json::Value = serde_json::from_str(summary).unwrap();
    value.get(operation).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

#[test]
fn redis_py_on_its_defaults_and_on_resp2() {
    let Some(python) = installed(&clients().join(".venv/bin/python"), "redis-py") else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = data_file(dir.path());
    let server = start(&path);
    let port = server.bound().resp.unwrap().port().to_string();
    for (settings, proto) in [("default", 3), ("2", 2)] {
        let summary = run(&python, &["redis_py.py", &port, path.to_str().unwrap(), settings]);
        assert_eq!(count(&summary, "proto"), proto, "{summary}");
        for operation in ["get", "miss", "mget", "exists", "pipeline", "transaction", "binary", "dbsize"] {
            assert!(count(&summary, operation) > 0, "{operation} not checked: {summary}");
        }
    }
}

#[test]
fn node_redis_on_its_defaults() {
    if installed(&clients().join("node_modules/redis/package.json"), "node-redis").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = data_file(dir.path());
    let server = start(&path);
    let port = server.bound().resp.unwrap().port().to_string();
    // install.sh puts a Node of its own there when the machine's is too old for node-redis.
    let own = clients().join("node_modules/.bin/node");
    let node = if own.exists() { own } else { PathBuf::from("node") };
    let summary = run(&node, &["node_redis.mjs", &port, path.to_str().unwrap()]);
    for operation in ["get", "miss", "mget", "exists", "pipeline", "transaction", "binary", "dbsize"] {
        assert!(count(&summary, operation) > 0, "{operation} not checked: {summary}");
    }
}

#[test]
fn requests_over_one_kept_alive_connection() {
    let Some(python) = installed(&clients().join(".venv/bin/python"), "requests") else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = data_file(dir.path());
    let server = start(&path);
    let port = server.bound().http.unwrap().port().to_string();
    let summary = run(&python, &["http_py.py", &port, path.to_str().unwrap()]);
    for operation in ["get", "miss", "binary", "head"] {
        assert!(count(&summary, operation) > 0, "{operation} not checked: {summary}");
    }
    assert_eq!(server.metrics().accepted(Protocol::Http), 1, "every request on one kept-alive connection");
}
