//! The macro benchmark's run and the soak, without the kvbench binary: their
//! servers are started in this process (port 0) by a [`Launcher`] of the test's own.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use kvbench_harness::progress::Progress;
use kvbench_loadgen::LaunchError;
use kvbench_loadgen::sweep::{BASE_CONNECTIONS, Group, Load, Pace, Scale, Server, plan};
use kvbench_loadgen::{Launched, Launcher, MacroOptions, Protocol, Running, Soak, SoakOptions, macro_run};
use kvbench_lookup::OpenOptions;
use kvbench_peers::{Pinning, RedisCluster};
use kvbench_results::Metric;
use kvbench_server::{Config, DataSource, Limits};
use kvbench_workload::Dataset;

/// Starts kvbench servers in this process; peers are "unavailable".
struct InProcess;

/// An in-process server: its CPU and RSS are this test's.
struct Served(kvbench_server::Server);

impl Running for Served {
    fn pid(&self) -> u32 {
        std::process::id()
    }

    fn addr(&self, protocol: Protocol) -> Option<SocketAddr> {
        let bound = self.0.bound();
        match protocol {
            Protocol::Http => bound.http,
            Protocol::Resp => bound.resp,
        }
    }
}

impl Launcher for InProcess {
    fn start(&self, server: &Server, data: &Path) -> Result<Launched, LaunchError> {
        let Server::Kvbench { strategy, threads } = server else {
            return Ok(Launched::Unavailable("not started by this test".into()));
        };
        let any = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        let config = Config { http: any, resp: any, threads: *threads, signals: false, limits: Limits::default() };
        let source = DataSource { path: data.to_owned(), strategy: strategy.clone(), options: OpenOptions::default() };
        let server = kvbench_server::Server::start(config, source).map_err(|e| LaunchError::Other(Box::new(e)))?;
        Ok(Launched::Running(Box::new(Served(server))))
    }
}

/// Starts a local Redis Cluster and a kvbench server in this process answering from it.
struct InProcessOverCluster;

/// The server and the cluster it answers from; the server stops first.
struct OverCluster {
    served: Served,
    cluster: RedisCluster,
}

impl Running for OverCluster {
    fn pid(&self) -> u32 {
        self.served.pid()
    }

    fn addr(&self, protocol: Protocol) -> Option<SocketAddr> {
        self.served.addr(protocol)
    }

    fn nodes(&self) -> Vec<u32> {
        self.cluster.pids()
    }
}

impl Launcher for InProcessOverCluster {
    fn start(&self, server: &Server, data: &Path) -> Result<Launched, LaunchError> {
        let Server::Kvbench { strategy, threads } = server else {
            return Ok(Launched::Unavailable("not started by this test".into()));
        };
        let Some(cluster) = RedisCluster::for_test() else {
            return Ok(Launched::Unavailable("redis-server not installed".into()));
        };
        let any = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        let config = Config { http: any, resp: any, threads: *threads, signals: false, limits: Limits::default() };
        let options = OpenOptions { redis_cluster: Some(cluster.urls()), ..OpenOptions::default() };
        let source = DataSource { path: data.to_owned(), strategy: strategy.clone(), options };
        let server = kvbench_server::Server::start(config, source).map_err(|e| LaunchError::Other(Box::new(e)))?;
        Ok(Launched::Running(Box::new(OverCluster { served: Served(server), cluster })))
    }
}

/// Counts what a run reports.
#[derive(Default)]
struct Counted {
    total: u64,
    done: u64,
    notes: Vec<String>,
}

impl Progress for Counted {
    fn start(&mut self, total: u64) {
        self.total = total;
    }

    fn done(&mut self, steps: u64) {
        self.done += steps;
    }

    fn note(&mut self, message: &str) {
        self.notes.push(message.to_owned());
    }
}

#[test]
fn the_quick_plan_runs_every_load_with_checked_answers_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut groups = plan(Scale::Quick);
    assert!(groups.iter().all(|g| g.dataset == Dataset::new(10_000).into()));
    let loads: usize = groups.iter().map(|g| g.loads.len()).sum();
    // A peer this launcher cannot start is skipped, with a note.
    let redis = Group { server: Server::Redis, ..groups[0].clone() };
    groups.push(redis.clone());
    let options = quick_options(dir.path(), 42);
    let mut progress = Counted::default();
    let out = macro_run::run(&groups, &options, &InProcess, &mut progress).unwrap();
    assert_eq!((progress.total, progress.done), ((loads + redis.loads.len()) as u64, progress.total));
    assert_eq!(progress.notes, ["skipping redis-server: not started by this test"]);
    assert_eq!(out.rows.len(), loads);
    assert_eq!(out.errors(), 0);
    assert!(out.notes.is_empty(), "no wrk cross-check was asked for");
    for row in &out.rows {
        let report = &row.measured.report;
        assert!(report.requests > 0 && report.found == report.requests, "{:?}", row.load);
        assert_eq!(row.rate.is_some(), row.load.pace != Pace::Closed, "{:?}", row.load);
    }
    let of = |metric| out.results.records.iter().filter(move |r| r.metric == metric);
    for metric in [Metric::Throughput, Metric::LatencyP50, Metric::LatencyP99, Metric::Errors, Metric::ServerRss] {
        assert_eq!(of(metric).count(), loads, "{metric:?}");
    }
    assert!(of(Metric::Throughput).all(|r| r.value > 0.0 && r.load.is_some()));
    assert!(of(Metric::LatencyP50).all(|r| r.value > 0.0 && r.histogram.as_ref().is_some_and(|h| h.total() > 0)));
    assert!(of(Metric::Errors).all(|r| r.value == 0.0));
    assert_eq!(of(Metric::ClientCpu).count(), loads);
    assert!(out.results.records.iter().all(|r| !r.is_plain("redis-server")));
    // Every load of a server asks for keys of its own seed, recorded with it;
    // the same load on two servers has the same seed (the same keys).
    for group in out.rows.chunk_by(|a, b| a.server == b.server) {
        let seeds: std::collections::BTreeSet<u64> = group.iter().map(|r| r.seed).collect();
        assert_eq!(seeds.len(), group.len(), "{:?}", group[0].server);
    }
    let pairs = out.rows.iter().flat_map(|a| out.rows.iter().map(move |b| (a, b)));
    assert!(pairs.clone().any(|(a, b)| a.server != b.server && a.load == b.load), "the plan has a shared load");
    for (a, b) in pairs {
        assert_eq!(a.seed == b.seed, a.load == b.load, "{:?} {:?}", a.load, b.load);
    }
    assert!(of(Metric::Throughput).all(|r| out.rows.iter().any(|row| r.load.as_ref().unwrap().seed == Some(row.seed))));
    // Servers without a cache get one warm-up window and no hit rate.
    let (cached, plain): (Vec<_>, Vec<_>) = out.rows.iter().partition(|r| r.server.label().starts_with("lru"));
    assert!(plain.iter().all(|r| r.hit_rate.is_none() && r.warmed.windows == 1 && r.warmed.hit_rate.is_none()));
    // The cache is warmed until its hit rate settles, then its hit rate is
    // recorded beside each load: lru(0.5) under uniform keys hits half the
    // time, over HTTP and over RESP alike (the RESP load does not replay the
    // keys the HTTP load left in the cache).
    assert_eq!(cached.len(), 2);
    for row in &cached {
        assert!(row.warmed.windows >= 2 && row.warmed.hit_rate.is_some(), "{:?}", row.warmed);
        let rate = row.hit_rate.unwrap();
        assert!((0.35..0.65).contains(&rate), "{:?}: hit rate {rate}", row.load);
    }
    let hit_rates: Vec<_> = of(Metric::HitRate).collect();
    assert_eq!(hit_rates.len(), 2);
    assert!(hit_rates.iter().all(|r| r.is_plain("lru(0.5,mmap-index)") && r.load.as_ref().unwrap().seed.is_some()));
}

#[test]
fn wrk_repeats_the_base_http_load_once_where_it_is_installed() {
    let dir = tempfile::tempdir().unwrap();
    let base = Load { protocol: Protocol::Http, connections: BASE_CONNECTIONS, pace: Pace::Closed };
    let group = plan(Scale::Quick).swap_remove(0);
    let groups = [Group { loads: vec![base, base], ..group }];
    let options = MacroOptions {
        data_dir: dir.path().to_owned(),
        duration: Duration::from_millis(100),
        quick: true,
        cross_check: true,
        pinning: Pinning::none(),
        seed: 42,
    };
    let mut progress = Counted::default();
    let out = macro_run::run(&groups, &options, &InProcess, &mut progress).unwrap();
    let wrk: Vec<_> = out.results.records.iter().filter(|r| r.load.as_ref().unwrap().client.is_some()).collect();
    if progress.notes.iter().any(|n| n.contains("wrk not installed")) {
        assert!(wrk.is_empty() && out.notes.is_empty());
        return;
    }
    assert!(progress.notes.is_empty(), "{:?}", progress.notes);
    assert!(
        out.notes.len() == 1 && out.notes[0].starts_with("wrk cross-check (HTTP, 64 connections)"),
        "{:?}",
        out.notes
    );
    let metrics: Vec<Metric> = wrk.iter().map(|r| r.metric).collect();
    assert_eq!(metrics, [Metric::Throughput, Metric::LatencyP50, Metric::LatencyP99]);
    assert!(wrk.iter().all(|r| r.value > 0.0));
}

#[test]
fn a_short_soak_runs_every_slice_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let options = SoakOptions {
        dataset: Dataset::new(10_000),
        data_dir: dir.path().to_owned(),
        duration: Duration::from_millis(250),
        slice: Duration::from_millis(100),
        fraction: 0.5,
        threads: 2,
        connections: 4,
        protocol: Protocol::Resp,
    };
    let soak = Soak::start(options.clone(), &InProcess).unwrap();
    assert!(soak.max() > 0.0 && soak.rate() == soak.max() * 0.5);
    assert_eq!(soak.slices(), 3);
    let mut progress = Counted::default();
    let out = soak.run(&mut progress).unwrap();
    assert_eq!((out.slices.len(), progress.total, progress.done), (3, 3, 3));
    assert_eq!(out.errors(), 0);
    assert!(out.requests() > 0 && out.rss_peak() >= out.rss_last() && out.rss_last() > 0);
    let bad = SoakOptions { fraction: 1.5, ..options };
    assert!(matches!(Soak::start(bad, &InProcess), Err(kvbench_loadgen::BenchError::Options(_))));
}

#[test]
fn a_server_over_a_cluster_answers_rightly_and_each_nodes_memory_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let strategy = kvbench_lookup::Strategy::Plain(kvbench_lookup::StrategyKind::RedisCluster);
    let load = |protocol| Load { protocol, connections: 4, pace: Pace::Closed };
    let group = Group {
        server: Server::Kvbench { strategy, threads: 1 },
        dataset: Dataset::new(2_000).into(),
        loads: vec![load(Protocol::Http), load(Protocol::Resp)],
    };
    let options = quick_options(dir.path(), 7);
    let mut progress = Counted::default();
    let out = macro_run::run(&[group], &options, &InProcessOverCluster, &mut progress).unwrap();
    if progress.notes.iter().any(|n| n.contains("not installed")) {
        return;
    }
    assert_eq!(out.rows.len(), 2, "{:?}", progress.notes);
    assert_eq!(out.errors(), 0);
    for row in &out.rows {
        assert!(row.measured.report.found == row.measured.report.requests && row.measured.report.requests > 0);
        assert_eq!(row.measured.nodes.len(), 3);
        assert!(row.measured.nodes.iter().all(|n| n.rss_max > 0), "{:?}", row.measured.nodes);
    }
    let rss =
        |label: &str| out.results.records.iter().filter(|r| r.metric == Metric::ServerRss && r.is_plain(label)).count();
    for label in ["redis-cluster", "redis-cluster node 1", "redis-cluster node 2", "redis-cluster node 3"] {
        assert_eq!(rss(label), 2, "{label}");
    }
    let total: Vec<_> = out.results.records.iter().filter(|r| r.is_plain("redis-cluster nodes")).collect();
    assert!(total.len() == 2 && total.iter().all(|r| r.metric == Metric::ServerRss && r.value > 0.0));
}

/// A quick macro run's options: 100 ms loads, no cross-check, unpinned, data generated into `dir`.
fn quick_options(dir: &std::path::Path, seed: u64) -> MacroOptions {
    MacroOptions {
        data_dir: dir.to_owned(),
        duration: Duration::from_millis(100),
        quick: true,
        cross_check: false,
        pinning: Pinning::none(),
        seed,
    }
}

#[test]
fn a_cluster_asked_directly_answers_rightly_and_every_node_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let group = Group {
        server: Server::RedisCluster { nodes: 3 },
        dataset: Dataset::new(2_000).into(),
        loads: vec![Load { protocol: Protocol::Resp, connections: BASE_CONNECTIONS, pace: Pace::Closed }],
    };
    // The real launcher: the cluster is started, loaded and pinned as `bench macro` does (no kvbench serve needed).
    let launcher = kvbench_loadgen::Processes::new("kvbench-not-needed".into(), Pinning::none());
    let options = MacroOptions { cross_check: true, ..quick_options(dir.path(), 11) };
    let mut progress = Counted::default();
    let out = macro_run::run(&[group], &options, &launcher, &mut progress).unwrap();
    if progress.notes.iter().any(|n| n.contains("redis-cluster-server: not installed")) {
        return;
    }
    assert_eq!((out.rows.len(), out.errors()), (1, 0), "{:?}", progress.notes);
    let measured = &out.rows[0].measured;
    assert!(measured.report.requests > 0 && measured.report.found == measured.report.requests);
    // Every node sampled, and the cluster's figures are all of them together.
    assert_eq!(measured.nodes.len(), 3);
    assert!(measured.nodes.iter().all(|n| n.rss_max > 1 << 20), "{:?}", measured.nodes);
    assert_eq!(measured.used.rss_max, measured.nodes.iter().map(|n| n.rss_max).sum::<u64>());
    assert_eq!(out.rows[0].syscalls, None, "no one process serves alone");
    let labels: Vec<&str> = out.results.records.iter().map(|r| r.case.strategy.as_str()).collect();
    for label in ["redis-cluster-server", "redis-cluster-server node 1", "redis-cluster-server node 3"] {
        assert!(labels.contains(&label), "{label}: {labels:?}");
    }
    // redis-benchmark repeats the base load on the same cluster, where it is installed.
    let cross_checked =
        out.notes.iter().any(|n| n.starts_with("redis-benchmark cross-check (--cluster, 64 connections"));
    let skipped = progress.notes.iter().any(|n| n.contains("redis-benchmark not installed"));
    assert!(cross_checked ^ skipped, "{:?} {:?}", out.notes, progress.notes);
}
