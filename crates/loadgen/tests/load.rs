//! The load generator against servers whose behaviour is known: the real
//! kvbench server, and a tiny RESP server that stalls once or lies.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kvbench_harness::latency::{Percentiles, histogram};
use kvbench_loadgen::{LoadSpec, ProcSampler, Stop, Target, run};
use kvbench_lookup::{Lookup, OpenOptions, Strategy, StrategyKind};
use kvbench_server::{Config, DataSource, Limits, Server};
use kvbench_workload::Workload;
use kvbench_workload::{KeyPool, Keys, file_keys};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEYS: usize = 100;

fn data(dir: &std::path::Path) -> (PathBuf, KeyPool, Box<dyn Lookup>) {
    let path = dir.join("data.txt");
    let text: String = (0..KEYS).map(|i| format!("k{i} v{i}\n")).collect();
    std::fs::write(&path, &text).unwrap();
    let expect = kvbench_lookup::open(&path, &Strategy::Plain(StrategyKind::HashMap), &OpenOptions::default()).unwrap();
    (path, file_keys(text.as_bytes(), KEYS), expect)
}

fn spec(target: Target, connections: usize, stop: Stop, rate: Option<f64>, workload: Workload) -> LoadSpec {
    LoadSpec {
        target,
        connections,
        threads: 2,
        stop,
        rate,
        workload,
        seed: 7,
        timeout: kvbench_loadgen::REQUEST_TIMEOUT,
    }
}

#[test]
fn the_oracle_offers_every_key_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.txt");
    let text: String = (0..3000).map(|i| format!("key{i} v{i}\n")).collect();
    std::fs::write(&path, &text).unwrap();
    let oracle = kvbench_loadgen::Oracle::open(&path).unwrap();
    assert_eq!(oracle.keys.len(), 3000);
    assert_eq!((oracle.keys.get(0), oracle.keys.get(2999)), (&b"key0"[..], &b"key2999"[..]));
}

#[test]
fn every_answer_of_the_real_server_checks_out_over_both_protocols() {
    let dir = tempfile::tempdir().unwrap();
    let (path, keys, expect) = data(dir.path());
    let any = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let config = Config { http: any, resp: any, threads: 1, signals: false, limits: Limits::default() };
    let source =
        DataSource { path, strategy: Strategy::Plain(StrategyKind::MmapIndex), options: OpenOptions::default() };
    let server = Server::start(config, source).unwrap();
    let bound = server.bound();
    let half_misses: Workload = "uniform,miss=0.5".parse().unwrap();
    for target in [Target::Http(bound.http.unwrap()), Target::Resp(bound.resp.unwrap())] {
        let done = AtomicU64::new(0);
        let report = run(&spec(target, 4, Stop::Requests(400), None, half_misses), &keys, &*expect, &done).unwrap();
        assert_eq!(report.errors.total(), 0, "{target}: {:?}", report.errors);
        assert_eq!(report.requests, 400, "{target}");
        assert_eq!(done.load(Ordering::Relaxed), 400);
        assert_eq!(report.found + report.absent, 400);
        assert!(
            report.found > 100 && report.absent > 100,
            "{target}: {} found, {} absent",
            report.found,
            report.absent
        );
        assert_eq!(report.latency.len(), 400);
        assert!(report.uncorrected.is_none(), "closed loop has one latency");
    }
}

/// A RESP server for `GET k{i}` answering `v{i}`, which stalls once for
/// `stall` before answering request number `stall_at`, and lies about `k7`
/// (wrong value) and `k8` (an error reply).
async fn quirky_server(listener: tokio::net::TcpListener, stall_at: u64, stall: Duration) {
    let count = Arc::new(AtomicU64::new(0));
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { return };
        let count = count.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            loop {
                // Requests arrive one at a time: a command is complete after its 5th CRLF.
                while buf.windows(2).filter(|w| w == b"\r\n").count() < 5 {
                    if stream.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                        return;
                    }
                }
                let text = String::from_utf8(std::mem::take(&mut buf)).unwrap();
                let key = text.split("\r\n").nth(4).unwrap().to_owned();
                if count.fetch_add(1, Ordering::SeqCst) + 1 == stall_at {
                    tokio::time::sleep(stall).await;
                }
                let reply = match key.as_str() {
                    "k7" => "$5\r\nWRONG\r\n".to_owned(),
                    "k8" => "-ERR injected\r\n".to_owned(),
                    key => match key.strip_prefix('k').and_then(|i| i.parse::<usize>().ok()).filter(|&i| i < KEYS) {
                        Some(i) => format!("${}\r\nv{i}\r\n", format!("v{i}").len()),
                        None => "$-1\r\n".to_owned(),
                    },
                };
                if stream.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn start_quirky(
    stall_at: u64,
    stall: Duration,
) -> (SocketAddr, std::thread::JoinHandle<()>, tokio::sync::oneshot::Sender<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tokio::select! {
                () = quirky_server(listener, stall_at, stall) => {}
                _ = stopped => {}
            }
        });
    });
    (addr, thread, stop)
}

#[test]
fn open_loop_corrected_latency_shows_a_stall_the_uncorrected_one_hides() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, keys, expect) = data(dir.path());
    let stall = Duration::from_millis(500);
    let (addr, thread, stop) = start_quirky(400, stall);
    // 1000 requests/s on one connection for 2 s; request 400 is held for 500 ms,
    // so ~500 scheduled requests are late by up to 500 ms.
    let only_present: Workload = "uniform".parse().unwrap();
    let load = LoadSpec {
        threads: 1,
        ..spec(Target::Resp(addr), 1, Stop::Duration(Duration::from_secs(2)), Some(1000.0), only_present)
    };
    let report = run(&load, &keys, &*expect, &AtomicU64::new(0)).unwrap();
    let _ = stop.send(());
    thread.join().unwrap();
    let corrected = report.percentiles();
    let uncorrected = Percentiles::of(report.uncorrected.as_ref().unwrap());
    let ms = |ns: f64| ns / 1e6;
    assert!(ms(corrected.p90) > 100.0, "corrected p90 {} ms should show the stall", ms(corrected.p90));
    assert!(ms(corrected.max) >= 450.0, "corrected max {} ms", ms(corrected.max));
    assert!(ms(uncorrected.max) >= 450.0, "the stalled request itself is seen: {} ms", ms(uncorrected.max));
    assert!(ms(uncorrected.p90) < 50.0, "uncorrected p90 {} ms hides the stall", ms(uncorrected.p90));
    assert!(report.requests > 1500, "{} requests", report.requests);
}

#[test]
fn wrong_values_and_error_replies_are_counted_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, keys, expect) = data(dir.path());
    let (addr, thread, stop) = start_quirky(0, Duration::ZERO);
    let report = run(
        &spec(Target::Resp(addr), 3, Stop::Requests(3000), None, Workload::UNIFORM),
        &keys,
        &*expect,
        &AtomicU64::new(0),
    )
    .unwrap();
    let _ = stop.send(());
    thread.join().unwrap();
    let errors = &report.errors;
    assert_eq!(report.requests, 3000);
    assert!(errors.wrong_answer > 0 && errors.unexpected_status > 0, "{errors:?}");
    assert_eq!(errors.io, 0);
    assert_eq!(report.found + report.absent + errors.wrong_answer + errors.unexpected_status, 3000);
    assert!(errors.first.as_deref().is_some_and(|e| e.contains("k7") || e.contains("k8")), "{errors:?}");
}

#[test]
fn a_refused_connection_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, keys, expect) = data(dir.path());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let load = spec(Target::Http(closed), 2, Stop::Duration(Duration::from_millis(200)), None, Workload::UNIFORM);
    let report = run(&load, &keys, &*expect, &AtomicU64::new(0)).unwrap();
    assert_eq!(report.requests, 0);
    assert!(
        report.errors.io > 0 && report.errors.first.as_deref().unwrap().contains("cannot connect"),
        "{:?}",
        report.errors
    );
}

#[test]
fn a_server_that_never_answers_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, keys, expect) = data(dir.path());
    // Accepts (the kernel does, into the listen queue) and never reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let load = LoadSpec {
        timeout: Duration::from_millis(300),
        ..spec(Target::Resp(addr), 2, Stop::Duration(Duration::from_millis(200)), None, Workload::UNIFORM)
    };
    let started = std::time::Instant::now();
    let report = run(&load, &keys, &*expect, &AtomicU64::new(0)).unwrap();
    // Each connection's one request times out once, then the run is over.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(report.requests, 0);
    let first = report.errors.first.as_deref().unwrap();
    assert!(report.errors.io >= 2 && first.contains("no answer within 300ms"), "{:?}", report.errors);
    drop(silent);
}

#[test]
fn merged_histograms_give_the_percentiles_of_all_samples() {
    let (mut even, mut odd) = (histogram(), histogram());
    for ms in 1..=1000u64 {
        let hist = if ms % 2 == 0 { &mut even } else { &mut odd };
        hist.record(ms * 1_000_000).unwrap();
    }
    even.add(&odd).unwrap();
    let p = Percentiles::of(&even);
    let close = |got: f64, want_ms: f64| (got / 1e6 - want_ms).abs() <= want_ms * 0.001 + 1e-9;
    assert_eq!(p.count, 1000);
    assert!(close(p.p50, 500.0) && close(p.p90, 900.0) && close(p.p99, 990.0) && close(p.max, 1000.0), "{p:?}");
}

#[test]
fn the_proc_sampler_sees_this_process_work() {
    let sampler = ProcSampler::start(std::process::id(), Duration::from_millis(20));
    let start = std::time::Instant::now();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_millis(300) {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    let used = sampler.finish();
    assert!(used.samples >= 3, "{used:?}");
    assert!(used.user_percent + used.system_percent > 20.0, "a busy thread shows: {used:?}");
    assert!(used.rss_max > 1 << 20 && used.rss_mean > 0.0, "{used:?}");
    assert!(ProcSampler::start(u32::MAX, Duration::from_millis(10)).finish().samples == 0, "no such process: nothing");
}
