//! `kvbench bench macro`: `kvbench serve` in its own process per
//! configuration, loaded by the in-process load generator, results in the one schema.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use kvbench_harness::suite::dataset_info;
use kvbench_loadgen::record::{self, Subject};
use kvbench_loadgen::sweep::{BASE_CONNECTIONS, Group, Load, Pace, Scale, Server, plan};
use kvbench_loadgen::{LoadReport, LoadSpec, ProcSampler, Protocol, Reference, Resources, Stop};
use kvbench_lookup::OpenOptions;
use kvbench_peers::serve::ServeProcess;
use kvbench_peers::{PeerError, RedisServer};
use kvbench_results::{LoadInfo, Metric, ResultSet, RunInfo};
use kvbench_workload::Workload;

use crate::generate::progress_bar;
use crate::human;

/// The keys every load asks for.
const WORKLOAD: Workload = Workload::UNIFORM;

/// Options of `kvbench bench macro`.
#[derive(Args, Debug)]
pub struct MacroArgs {
    /// Where datasets are generated and cached.
    #[arg(long, value_name = "DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Where to write the results (the one results schema).
    #[arg(long, value_name = "FILE", default_value = "results/latest/macro.json")]
    results: PathBuf,
    /// How long each load runs.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Smoke run: 10K keys, a few loads of 300 ms.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// Add 10M keys (hashmap and mmap-index) to the sweep.
    #[arg(long)]
    full: bool,
}

/// Runs `kvbench bench macro`.
pub fn run(args: &MacroArgs) -> anyhow::Result<ExitCode> {
    let scale = if args.quick {
        Scale::Quick
    } else if args.full {
        Scale::Full
    } else {
        Scale::Default
    };
    let duration = if args.quick { Duration::from_millis(300) } else { args.duration };
    let exe = std::env::current_exe().context("cannot find the kvbench executable to start servers with")?;
    // Described before pinning, which would make this process see one CPU.
    let run_info = RunInfo::detect(args.quick);
    let pinning = Pinning::detect();
    pinning.pin_this_process();
    let groups = plan(scale);
    // The Python baseline ships inside the binary, so `bench macro` runs from anywhere.
    let script = std::env::temp_dir().join(format!("kvbench-dict-server-{}.py", std::process::id()));
    std::fs::write(&script, DICT_SERVER).context("cannot write the Python baseline server")?;
    let _remove = RemoveOnDrop(script.clone());
    let total = groups.iter().map(|g| g.loads.len() as u64).sum();
    let bar = progress_bar(total, "macro");
    let mut results = ResultSet::new("kvbench bench macro");
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut cross_checked = false;
    for group in &groups {
        bar.set_message(format!("{} on {}", group.server.label(), group.dataset.keys));
        let (data, _) = group
            .dataset
            .ensure(&args.data_dir, |_| {})
            .with_context(|| format!("cannot generate the dataset into {}", args.data_dir.display()))?;
        let Some(server) = start(&group.server, &data, &exe, &pinning, &script)? else {
            bar.inc(group.loads.len() as u64);
            continue;
        };
        let reference = Reference::open(&data)?;
        let mut max_rate = Vec::new();
        for load in &group.loads {
            let Some(addr) = server.addr(load.protocol) else { continue };
            let rate = match load.pace {
                Pace::Closed => None,
                Pace::FractionOfMax(f) => {
                    max_rate.iter().find(|(p, _)| *p == load.protocol).map(|(_, max): &(_, f64)| (max * f).max(1.0))
                }
            };
            let spec = LoadSpec {
                target: load.protocol.at(addr),
                connections: load.connections,
                threads: 1,
                stop: Stop::Duration(duration),
                rate,
                workload: WORKLOAD,
                seed: 42,
            };
            let sampler = ProcSampler::start(server.pid(), Duration::from_millis(100));
            let report = kvbench_loadgen::run(&spec, &reference.keys, &*reference.lookup, &AtomicU64::new(0))?;
            let used = sampler.finish();
            if load.pace == Pace::Closed && load.connections == BASE_CONNECTIONS {
                max_rate.push((load.protocol, report.throughput()));
            }
            let subject = Subject {
                strategy: group.server.label(),
                dataset: dataset_info(&group.dataset),
                workload: WORKLOAD.to_string(),
                load: LoadInfo {
                    protocol: load.protocol.name().to_owned(),
                    connections: load.connections as u32,
                    server_threads: group.server.threads() as u32,
                    rate: rate.map(|r| r as u64),
                    client: None,
                    pinned: pinning.active(),
                },
            };
            results.records.extend(record::records(&report, Some(&used), &subject, &run_info));
            rows.push(row(group, load, rate, &report, &used));
            bar.inc(1);
            let base_http = load.protocol == Protocol::Http && load.pace == Pace::Closed;
            if base_http && load.connections == BASE_CONNECTIONS && !cross_checked && scale != Scale::Quick {
                cross_checked = true;
                if let Some(check) = wrk_cross_check(addr, &reference.keys, duration, &pinning, report.throughput()) {
                    notes.push(check.message);
                    let wrk =
                        Subject { load: LoadInfo { client: Some("wrk".into()), ..subject.load.clone() }, ..subject };
                    let values = [
                        (Metric::Throughput, check.rps),
                        (Metric::LatencyP50, check.p50),
                        (Metric::LatencyP99, check.p99),
                    ];
                    results.records.extend(wrk.records(values, &run_info));
                }
            }
        }
    }
    bar.finish_and_clear();
    let header = [
        "strategy",
        "data",
        "threads",
        "protocol",
        "conns",
        "rate",
        "requests/s",
        "p50",
        "p99",
        "CPU",
        "RSS",
        "errors",
    ];
    println!("{}", human::table(&header, &rows));
    println!("{}", pinning.describe());
    for note in &notes {
        println!("{note}");
    }
    kvbench_results::io::write(&args.results, &results)?;
    eprintln!("wrote {} records to {}", results.records.len(), args.results.display());
    let errors: u64 = results.records.iter().filter(|r| r.metric == Metric::Errors).map(|r| r.value as u64).sum();
    Ok(if errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The seed-style Python baseline (`benches/server/dict_server.py`).
const DICT_SERVER: &str = include_str!("../../../benches/server/dict_server.py");

/// Deletes a temporary file when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A server under test, running; stopped when dropped.
enum Running {
    Process(ServeProcess),
    Redis(RedisServer),
}

impl Running {
    fn pid(&self) -> u32 {
        match self {
            Running::Process(p) => p.pid(),
            Running::Redis(r) => r.pid(),
        }
    }

    fn addr(&self, protocol: Protocol) -> Option<SocketAddr> {
        match (self, protocol) {
            (Running::Process(p), Protocol::Http) => p.http,
            (Running::Process(p), Protocol::Resp) => p.resp,
            (Running::Redis(r), Protocol::Resp) => Some(r.addr()),
            (Running::Redis(_), Protocol::Http) => None,
        }
    }
}

/// Starts `server` on `data`; `None` (with a message) for a peer that is not installed.
fn start(
    server: &Server,
    data: &Path,
    exe: &Path,
    pinning: &Pinning,
    script: &Path,
) -> anyhow::Result<Option<Running>> {
    let timeout = Duration::from_secs(300);
    match server {
        Server::Kvbench { strategy, threads } => {
            let args = ["--threads".to_owned(), threads.to_string(), "--strategy".into(), strategy.to_string()];
            let cpus = pinning.server_cpus(*threads);
            Ok(Some(Running::Process(ServeProcess::kvbench(exe, data, &args, cpus.as_deref(), timeout)?)))
        }
        Server::Redis => {
            let redis = match RedisServer::start() {
                Ok(redis) => redis,
                Err(PeerError::NotInstalled) => {
                    eprintln!("skipping redis-server: not installed (Debian: apt-get install redis-server)");
                    return Ok(None);
                }
                Err(err) => return Err(err.into()),
            };
            if pinning.active() {
                kvbench_peers::serve::pin(redis.pid(), 0);
            }
            kvbench_lookup::redis::load(data, &redis.url(), &OpenOptions::default())?;
            Ok(Some(Running::Redis(redis)))
        }
        Server::PythonDict => {
            if kvbench_baselines::Tool::Python3.find().is_none() {
                eprintln!("skipping python-dict: python3 not installed");
                return Ok(None);
            }
            let cpus = pinning.server_cpus(1);
            Ok(Some(Running::Process(ServeProcess::python_dict(script, data, cpus.as_deref(), timeout)?)))
        }
    }
}

/// What `wrk` measured on the same server and load as kvbench's generator.
struct CrossCheck {
    rps: f64,
    p50: f64,
    p99: f64,
    message: String,
}

/// Runs `wrk` (if installed) with the same connections and duration on the
/// same server, asking for the data file's keys, so kvbench's closed-loop
/// figures can be checked against a tool people trust (same CPU pinning).
fn wrk_cross_check(
    addr: SocketAddr,
    keys: &kvbench_workload::keys::KeyPool,
    duration: Duration,
    pinning: &Pinning,
    kvbench_rps: f64,
) -> Option<CrossCheck> {
    if !std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok_and(|o| !o.stdout.is_empty() || !o.stderr.is_empty())
    {
        eprintln!("skipping the wrk cross-check: wrk not installed");
        return None;
    }
    let sample = (0..keys.len().min(10_000) as u64).map(|i| keys.get(i * (keys.len() as u64 / 10_000).max(1)));
    let mut lua = String::from("local keys = {\n");
    for key in sample {
        lua += &format!("  {:?},\n", String::from_utf8_lossy(key));
    }
    lua += "}\nmath.randomseed(42)\nrequest = function()\n  return wrk.format(\"GET\", \"/\" .. keys[math.random(#keys)])\nend\n";
    let script = std::env::temp_dir().join(format!("kvbench-wrk-{}.lua", std::process::id()));
    std::fs::write(&script, lua).ok()?;
    let _remove = RemoveOnDrop(script.clone());
    let mut command = match pinning.client_cpu() {
        Some(cpu) => {
            let mut c = std::process::Command::new("taskset");
            c.args(["-c", &cpu.to_string(), "wrk"]);
            c
        }
        None => std::process::Command::new("wrk"),
    };
    let seconds = duration.as_secs().max(1).to_string();
    let out = command
        .args(["-t1", &format!("-c{BASE_CONNECTIONS}"), &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(&script)
        .arg(format!("http://{addr}/"))
        .output()
        .ok()?;
    let (rps, p50, p99) = parse_wrk(&String::from_utf8_lossy(&out.stdout))?;
    let message = format!(
        "wrk cross-check (HTTP, {BASE_CONNECTIONS} connections): wrk {rps:.0} requests/s, kvbench load {kvbench_rps:.0} ({:.2}x wrk)",
        kvbench_rps / rps
    );
    Some(CrossCheck { rps, p50, p99, message })
}

/// `(requests/s, p50 ns, p99 ns)` from `wrk --latency` output.
fn parse_wrk(text: &str) -> Option<(f64, f64, f64)> {
    let field =
        |prefix: &str| text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|rest| rest.trim().to_owned()));
    let rps = field("Requests/sec:")?.parse().ok()?;
    let nanos = |value: String| {
        let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let scale = match &value[digits.len()..] {
            "us" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            _ => return None,
        };
        digits.parse::<f64>().ok().map(|v| v * scale)
    };
    Some((rps, nanos(field("50%")?)?, nanos(field("99%")?)?))
}

fn row(group: &Group, load: &Load, rate: Option<f64>, report: &LoadReport, used: &Resources) -> Vec<String> {
    [
        group.server.label(),
        dataset_info(&group.dataset).label(),
        group.server.threads().to_string(),
        load.protocol.name().to_owned(),
        load.connections.to_string(),
        rate.map_or("closed".into(), |r| format!("{r:.0}/s")),
    ]
    .into_iter()
    .chain(load_cells(report, used))
    .collect()
}

/// What one load measured, as table cells: requests/s, p50, p99, server CPU, RSS, errors.
pub(crate) fn load_cells(report: &LoadReport, used: &Resources) -> [String; 6] {
    let p = report.percentiles();
    [
        format!("{:.0}", report.throughput()),
        human::nanos(p.p50),
        human::nanos(p.p99),
        format!("{:.0} %", used.user_percent + used.system_percent),
        human::bytes(used.rss_max),
        report.errors.total().to_string(),
    ]
}

/// Which CPUs the server and the load generator run on, so they do not
/// take turns on one core: the load generator on the last CPU, a
/// single-threaded server on the first, a multi-threaded one on all of them.
struct Pinning {
    cpus: usize,
    taskset: bool,
}

impl Pinning {
    fn detect() -> Pinning {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let taskset = std::process::Command::new("taskset").arg("-V").output().is_ok_and(|o| o.status.success());
        Pinning { cpus, taskset }
    }

    fn active(&self) -> bool {
        self.cpus >= 2 && self.taskset
    }

    fn pin_this_process(&self) {
        if let Some(cpu) = self.client_cpu() {
            // Threads started from here on (the load generator's) inherit it.
            kvbench_peers::serve::pin(std::process::id(), cpu);
        }
    }

    fn client_cpu(&self) -> Option<usize> {
        self.active().then(|| self.cpus - 1)
    }

    fn server_cpus(&self, threads: usize) -> Option<String> {
        self.active().then(|| if threads == 1 { "0".to_owned() } else { format!("0-{}", self.cpus - 1) })
    }

    fn describe(&self) -> String {
        if self.active() {
            format!(
                "pinning: load generator on CPU {}, 1-thread servers on CPU 0, multi-thread servers on CPUs 0-{} (shared)",
                self.cpus - 1,
                self.cpus - 1
            )
        } else {
            "pinning: none (needs 2+ CPUs and taskset)".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_wrk;

    #[test]
    fn wrk_output_is_read() {
        let text = "Running 5s test @ http://127.0.0.1:1/\n  Latency Distribution\n     50%  545.00us\n     75%  600.12us\n     \
                    90%  700.00us\n     99%    1.25ms\n  500000 requests in 5.00s, 40.00MB read\nRequests/sec: 100000.50\n";
        assert_eq!(parse_wrk(text), Some((100000.5, 545_000.0, 1_250_000.0)));
        assert_eq!(parse_wrk("garbage"), None);
    }
}
