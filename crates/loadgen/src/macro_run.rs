//! The macro benchmark's run: each [`Group`] of a plan is one server, started
//! by a [`Launcher`], loaded once per [`Load`] by this crate's generator,
//! with the server's CPU and RSS sampled; results in the one schema.
//!
//! Each load asks for keys of a seed of its own ([`load_seed`] of the run's
//! seed and the load's [`Load::id`]), drawn from every key of the file, so no
//! load replays the keys an earlier load left in a server's cache. The same
//! load on two servers gets the same seed: servers are compared on the same
//! keys. Before each load, windows of the same load warm the server
//! until its cache's hit rate settles ([`kvbench_harness::warm`], read from
//! its `/metrics`); the hit rate during the load is recorded beside it.
//!
//! The open loops of a group run at a fraction of the closed-loop maximum
//! measured on the same server and protocol at [`BASE_CONNECTIONS`]; once per
//! run, `wrk` repeats the base HTTP load on the same server and keys to
//! cross-check the generator's figures, and `redis-benchmark` (`--cluster`
//! for a cluster) the base RESP load on each Redis peer.
//!
//! A server answering through other processes (`redis-cluster`: kvbench over
//! a local Redis Cluster; `redis-cluster-server`: the cluster asked directly,
//! see [`crate::Running::nodes`]) has each node sampled beside it: its peak
//! RSS and CPU are recorded as the strategy `LABEL node I` (I from 1), and the
//! nodes' peak RSS summed as `LABEL nodes`, with the same metrics
//! (`server_rss`, `server_cpu`) as the server's own, which count every
//! process that serves (the server and its nodes), as requests per CPU-second do.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use kvbench_harness::progress::Progress;
use kvbench_harness::suite::dataset_info;
use kvbench_harness::warm::{self, Warmed};
use kvbench_peers::Pinning;
use kvbench_peers::perf::{PerfError, SyscallCount};
use kvbench_peers::redis_benchmark::{self, RedisBenchmarkLoad};
use kvbench_peers::wrk::{self, WrkError, WrkLoad};
use kvbench_results::{DatasetInfo, LoadInfo, Metric, Record, ResultSet, RunInfo};
use kvbench_workload::{Keys, Workload};

use crate::bench::{BenchError, Measured, ensure_data, measure};
use crate::cache::{CacheCounters, scrape};
use crate::launch::{Launched, Launcher};
use crate::record::{self, Subject};
use crate::run::{LoadSpec, Oracle, Stop};
use crate::sweep::{BASE_CONNECTIONS, Data, Group, Load, Pace, Server};
use crate::target::{Protocol, Target};

/// The keys every load asks for.
const WORKLOAD: Workload = Workload::UNIFORM;

/// At most this many of the file's keys go into wrk's script.
const WRK_KEYS: u64 = 10_000;

/// At most this many warm-up windows before a load (each of at least the cache's capacity).
const MAX_WARM_WINDOWS: u64 = 20;

/// The seed of load `i` ([`Load::id`]) of a run seeded `seed` (or of the
/// `i`-th warm-up window of a load seeded `seed`): a different stream of keys
/// for every `i` (splitmix64 of the two).
pub fn load_seed(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15_u64.wrapping_mul(i.wrapping_add(1)));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// How to run a plan.
#[derive(Clone, Debug)]
pub struct MacroOptions {
    /// Where datasets are generated and cached.
    pub data_dir: PathBuf,
    /// How long each load runs.
    pub duration: Duration,
    /// A smoke run (recorded with the results: figures are rough).
    pub quick: bool,
    /// Repeat the first base HTTP load with `wrk` (if installed), for a cross-check.
    pub cross_check: bool,
    /// Where this process (the load generator) and wrk run; servers are pinned by the [`Launcher`].
    pub pinning: Pinning,
    /// Seed of the run, from which every load's own seed is derived ([`load_seed`]).
    pub seed: u64,
}

/// One load of the plan, as measured.
#[derive(Clone, Debug)]
pub struct MacroRow {
    /// The server loaded.
    pub server: Server,
    /// The data it served.
    pub dataset: DatasetInfo,
    /// The load.
    pub load: Load,
    /// The rate offered, for an open loop.
    pub rate: Option<f64>,
    /// The seed of its keys.
    pub seed: u64,
    /// How the server was warmed up before it.
    pub warmed: Warmed,
    /// Requests of the warm-up answered wrongly or not at all.
    pub warm_up_errors: u64,
    /// The server's cache hit rate during the load, if it has a cache.
    pub hit_rate: Option<f64>,
    /// The server's system calls per request, counted after a base load where perf could.
    pub syscalls: Option<f64>,
    /// What the load and the server's sampling measured.
    pub measured: Measured,
}

/// What a plan's run measured.
#[derive(Debug)]
pub struct MacroOutcome {
    /// Every load's records (and wrk's, if it ran).
    pub results: ResultSet,
    /// Every load, in order.
    pub rows: Vec<MacroRow>,
    /// Findings for the user beside the table (wrk's cross-check).
    pub notes: Vec<String>,
}

impl MacroOutcome {
    /// Requests that failed or were answered wrongly, over every load and warm-up.
    pub fn errors(&self) -> u64 {
        self.rows.iter().map(|r| r.measured.report.errors.total() + r.warm_up_errors).sum()
    }
}

/// Runs every group of `plan`: starts its server with `launcher`, applies its loads in order.
pub fn run(
    plan: &[Group],
    options: &MacroOptions,
    launcher: &dyn Launcher,
    progress: &mut dyn Progress,
) -> Result<MacroOutcome, BenchError> {
    // Described before pinning, which would make this process see one CPU.
    let run_info = RunInfo::detect(options.quick);
    options.pinning.pin_this_process();
    progress.start(plan.iter().map(|g| g.loads.len() as u64).sum());
    let mut out = MacroOutcome { results: ResultSet::new("kvbench bench macro"), rows: Vec::new(), notes: Vec::new() };
    let mut cross_check = options.cross_check;
    // Until perf is found missing or refused, once.
    let mut count_syscalls = true;
    for group in plan {
        let (data, dataset) = match &group.dataset {
            Data::Generated(d) => (ensure_data(d, &options.data_dir)?, dataset_info(d)),
            Data::File { path, info } => (path.clone(), info.clone()),
        };
        progress.doing(&format!("{} on {}", group.server.label(), dataset.label()));
        let server = match launcher.start(&group.server, &data)? {
            Launched::Running(server) => server,
            Launched::Unavailable(why) => {
                progress.note(&format!("skipping {}: {why}", group.server.label()));
                progress.done(group.loads.len() as u64);
                continue;
            }
        };
        let oracle = Oracle::open(&data)?;
        let mut max_rate: Vec<(Protocol, f64)> = Vec::new();
        for load in &group.loads {
            let (Some(addr), Some(target)) = (server.addr(load.protocol), server.target(load.protocol)) else {
                continue;
            };
            let rate = match load.pace {
                Pace::Closed => None,
                Pace::FractionOfMax(f) => {
                    max_rate.iter().find(|(p, _)| *p == load.protocol).map(|(_, max)| (max * f).max(1.0))
                }
            };
            let seed = load_seed(options.seed, load.id());
            let spec = LoadSpec {
                target,
                connections: load.connections,
                threads: 1,
                stop: Stop::Duration(options.duration),
                rate,
                workload: WORKLOAD,
                seed,
                timeout: crate::REQUEST_TIMEOUT,
            };
            let cache = CacheWatch { http: server.addr(Protocol::Http) };
            let (warmed, warm_up_errors) = warm_up(&spec, &cache, &oracle, progress)?;
            if warm_up_errors > 0 {
                progress.note(&format!("{}: {warm_up_errors} errors while warming up", group.server.label()));
            }
            let before = cache.read(progress);
            let measured = measure(&spec, server.pid(), &server.nodes(), &oracle)?;
            let hit_rate = before.zip(cache.read(progress)).and_then(|(b, a)| a.hit_rate_since(&b));
            let throughput = measured.report.throughput();
            let base = load.pace == Pace::Closed && load.connections == BASE_CONNECTIONS;
            if base {
                max_rate.push((load.protocol, throughput));
            }
            let subject = Subject {
                strategy: group.server.label(),
                dataset: dataset.clone(),
                workload: WORKLOAD,
                load: LoadInfo {
                    protocol: load.protocol.name().to_owned(),
                    connections: load.connections as u32,
                    server_threads: group.server.threads() as u32,
                    rate: rate.map(|r| r as u64),
                    seed: Some(seed),
                    client: None,
                    pinned: options.pinning.active(),
                },
            };
            let records = record::records(&measured.report, Some(&measured.used), &subject, &run_info);
            out.results.records.extend(records);
            out.results.records.extend(subject.records(hit_rate.map(|r| (Metric::HitRate, r)), &run_info));
            out.results.records.extend(node_records(&measured, &subject, &run_info));
            progress.done(1);
            let mut syscalls = None;
            // perf counts one process: a cluster asked directly has no one process that serves alone.
            let one_process = !server.nodes().contains(&server.pid());
            if base && count_syscalls && one_process {
                match syscalls_per_request(&spec, server.pid(), &oracle, options.duration)? {
                    Ok(Some(per_request)) => {
                        syscalls = Some(per_request);
                        out.results
                            .records
                            .extend(subject.records([(Metric::SyscallsPerRequest, per_request)], &run_info));
                    }
                    Ok(None) => {}
                    Err(err) => {
                        count_syscalls = false;
                        progress.note(&format!("not counting the servers' system calls: {err}"));
                    }
                }
            }
            if base && load.protocol == Protocol::Http && cross_check {
                cross_check = false;
                let load = WrkLoad {
                    addr,
                    connections: BASE_CONNECTIONS,
                    duration: options.duration,
                    cpu: options.pinning.client_cpu(),
                };
                match wrk::run(&load, wrk_keys(&oracle.keys)) {
                    Ok(wrk) => {
                        out.notes.push(format!(
                            "wrk cross-check (HTTP, {BASE_CONNECTIONS} connections): wrk {:.0} requests/s, kvbench load {throughput:.0} ({:.2}x wrk)",
                            wrk.rps,
                            throughput / wrk.rps
                        ));
                        let figures = (wrk.rps, wrk.p50_ns, wrk.p99_ns);
                        out.results.records.extend(cross_check_records(&subject, "wrk", figures, &run_info));
                    }
                    Err(WrkError::NotInstalled) => progress.note("skipping the wrk cross-check: wrk not installed"),
                    Err(err) => progress.note(&format!("skipping the wrk cross-check: {err}")),
                }
            }
            let redis_peer = matches!(group.server, Server::Redis | Server::RedisCluster { .. });
            if base && load.protocol == Protocol::Resp && redis_peer && options.cross_check {
                let load = RedisBenchmarkLoad {
                    addr,
                    cluster: matches!(target, Target::Cluster(_)),
                    connections: BASE_CONNECTIONS,
                    // About as long as kvbench's load ran.
                    requests: (throughput * options.duration.as_secs_f64()).ceil() as u64,
                    cpu: options.pinning.client_cpu(),
                };
                match redis_benchmark::run(&load) {
                    Ok(theirs) => {
                        out.notes.push(format!(
                            "redis-benchmark cross-check ({}{BASE_CONNECTIONS} connections, GETs of absent keys): redis-benchmark {:.0} requests/s, kvbench load {throughput:.0} ({:.2}x redis-benchmark)",
                            if load.cluster { "--cluster, " } else { "" },
                            theirs.rps,
                            throughput / theirs.rps
                        ));
                        let figures = (theirs.rps, theirs.p50_ns, theirs.p99_ns);
                        out.results.records.extend(cross_check_records(
                            &subject,
                            "redis-benchmark",
                            figures,
                            &run_info,
                        ));
                    }
                    Err(err) => progress.note(&format!("skipping the redis-benchmark cross-check: {err}")),
                }
            }
            out.rows.push(MacroRow {
                server: group.server.clone(),
                dataset: dataset.clone(),
                load: *load,
                rate,
                seed,
                warmed,
                warm_up_errors,
                hit_rate,
                syscalls,
                measured,
            });
        }
    }
    Ok(out)
}

/// The records of a cross-check: another load tool's requests/s, p50 and p99
/// (ns) on the same server and load as `subject`, named as its client.
fn cross_check_records(subject: &Subject, tool: &str, (rps, p50, p99): (f64, f64, f64), run: &RunInfo) -> Vec<Record> {
    let load = LoadInfo { client: Some(tool.into()), ..subject.load.clone() };
    let values = [(Metric::Throughput, rps), (Metric::LatencyP50, p50), (Metric::LatencyP99, p99)];
    Subject { load, ..subject.clone() }.records(values, run)
}

/// Longest window a server's system calls are counted in, after its base load.
const SYSCALL_WINDOW: Duration = Duration::from_secs(2);

/// System calls per request of server `pid` under the load of `spec`, in a
/// window of its own (closed loop, at most [`SYSCALL_WINDOW`] and `duration`)
/// with `perf stat` attached; `Ok(Err)` where perf cannot count, `Ok(Ok(None))`
/// if the window answered nothing.
fn syscalls_per_request(
    spec: &LoadSpec,
    pid: u32,
    oracle: &Oracle,
    duration: Duration,
) -> Result<Result<Option<f64>, PerfError>, BenchError> {
    let count = match SyscallCount::attach(pid) {
        Ok(count) => count,
        Err(err) => return Ok(Err(err)),
    };
    let window = LoadSpec { stop: Stop::Duration(duration.min(SYSCALL_WINDOW)), rate: None, ..spec.clone() };
    let report = crate::run(&window, &oracle.keys, &*oracle.lookup, &AtomicU64::new(0))?;
    Ok(count.finish().map(|calls| (report.requests > 0).then(|| calls as f64 / report.requests as f64)))
}

/// The records of a server's nodes (a Redis Cluster's, for `redis-cluster`)
/// during a load: each node's peak RSS and CPU, labelled `LABEL node I` (from
/// 1), then all nodes' peak RSS summed, labelled `LABEL nodes`.
fn node_records(measured: &Measured, subject: &Subject, run: &RunInfo) -> Vec<Record> {
    if measured.nodes.is_empty() {
        return Vec::new();
    }
    let labelled = |label: String| Subject { strategy: label, ..subject.clone() };
    let mut records: Vec<Record> = measured
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, used)| {
            let values = [
                (Metric::ServerRss, used.rss_max as f64),
                (Metric::ServerCpu, used.user_percent + used.system_percent),
            ];
            labelled(format!("{} node {}", subject.strategy, i + 1)).records(values, run)
        })
        .collect();
    let total = measured.nodes.iter().map(|n| n.rss_max as f64).sum();
    records.extend(labelled(format!("{} nodes", subject.strategy)).records([(Metric::ServerRss, total)], run));
    records
}

/// Where a server's cache counters are read: its HTTP address (`/metrics`), if it serves HTTP.
struct CacheWatch {
    http: Option<SocketAddr>,
}

impl CacheWatch {
    /// The counters now; `None` for a server without them (or whose `/metrics` failed, with a note).
    fn read(&self, progress: &mut dyn Progress) -> Option<CacheCounters> {
        match scrape(self.http?) {
            Ok(counters) => counters,
            Err(err) => {
                progress.note(&format!("cannot read the server's cache counters: {err}"));
                None
            }
        }
    }
}

/// Warms the server for `spec`: windows of the same load (closed loop, each
/// [`warm::window`] requests of the cache's capacity and a seed of its own)
/// until the cache's hit rate settles; a single window of
/// [`warm::MIN_WINDOW`] requests for a server without a cache (connections,
/// buffers, the pages of a mapped file). Returns how it ended and the errors seen.
fn warm_up(
    spec: &LoadSpec,
    cache: &CacheWatch,
    oracle: &Oracle,
    progress: &mut dyn Progress,
) -> Result<(Warmed, u64), BenchError> {
    let mut last = cache.read(progress);
    let requests = warm::window(last.map_or(0, |c| c.capacity));
    let mut errors = 0;
    let warmed = warm::until_steady(MAX_WARM_WINDOWS, requests, |w| {
        let window =
            LoadSpec { stop: Stop::Requests(requests), rate: None, seed: load_seed(spec.seed, w), ..spec.clone() };
        errors += crate::run(&window, &oracle.keys, &*oracle.lookup, &AtomicU64::new(0))?.errors.total();
        let now = cache.read(progress);
        let rate = now.zip(last).and_then(|(now, last)| now.hit_rate_since(&last));
        last = now;
        Ok::<_, BenchError>(rate)
    })?;
    Ok((warmed, errors))
}

/// Up to [`WRK_KEYS`] keys spread over the file's, for wrk's script.
fn wrk_keys(keys: &dyn Keys) -> impl Iterator<Item = &[u8]> {
    let step = (keys.len() as u64 / WRK_KEYS).max(1);
    (0..(keys.len() as u64).min(WRK_KEYS)).map(move |i| keys.get(i * step))
}
