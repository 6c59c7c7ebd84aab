//! `kvbench load`: closed- or open-loop load on a server, checked answers, a summary.
//!
//! Exit status: 0 when every answer matched the data file, 1 when some did
//! not (or failed), 2 on a usage or data error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use kvbench_harness::latency::Percentiles;
use kvbench_loadgen::record::{self, Subject};
use kvbench_loadgen::{LoadSpec, Oracle, ProcSampler, Resources, Stop, Target};
use kvbench_results::{DatasetInfo, LoadInfo, ResultSet, RunInfo};
use kvbench_workload::Workload;

use crate::human;
use crate::output::{Format, print_records, progress_bar, say};

/// Options of `kvbench load`.
#[derive(Args, Debug)]
pub struct LoadArgs {
    /// The server: http://IP:PORT or resp://IP:PORT; or redis-cluster://IP:PORT, any node of a Redis
    /// Cluster, each key then sent to the node serving its slot as a cluster client sends it.
    #[arg(long, short = 'T', value_name = "URL")]
    target: Target,
    /// The data file the server serves: keys are drawn from it and every answer is checked against it.
    #[arg(long, short, value_name = "FILE")]
    data: PathBuf,
    /// Which keys to ask for: uniform, zipf:0.99, latest:0.99, miss, any of them with ,miss=F.
    #[arg(long, short, default_value = "uniform", value_parser = one_key_per_request)]
    workload: Workload,
    /// Connections, each with one request in flight.
    #[arg(long, short, default_value_t = 64)]
    connections: usize,
    /// Threads running the connections.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// How long to run (e.g. 10s, 1m).
    #[arg(long, short = 'z', value_name = "DURATION", value_parser = humantime::parse_duration, conflicts_with = "requests")]
    duration: Option<Duration>,
    /// How many requests to send, instead of a duration.
    #[arg(long, short = 'n', value_name = "N")]
    requests: Option<u64>,
    /// Open loop at this many requests/s (all connections together), latency
    /// corrected for coordinated omission; without it, closed loop.
    #[arg(long, short, value_name = "PER_SECOND")]
    rate: Option<f64>,
    /// Sample this process's CPU and RSS from /proc during the run (the server's PID).
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// Seed of the key stream.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// How long a request (or a connection) may wait for its answer before it counts as an error and
    /// its connection is opened again.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "10s")]
    timeout: Duration,
    /// Also write the measurements to FILE in the results schema (for `kvbench report` and `kvbench compare`).
    #[arg(long, value_name = "FILE")]
    results: Option<PathBuf>,
    /// How the results name the server (default: the target URL).
    #[arg(long, value_name = "NAME")]
    label: Option<String>,
    /// How to print the run: a summary (text), or its records as JSON (as --results writes them), CSV or Markdown.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// A workload that asks one key per request: the load generator sends no batches.
fn one_key_per_request(s: &str) -> Result<Workload, String> {
    let workload = s.parse::<Workload>().map_err(|e| e.to_string())?;
    if workload.batch > 1 {
        return Err("kvbench load sends one key per request: batched workloads (,batch=N) are measured by \
                    `kvbench suite` and `cargo bench --bench lookup`"
            .into());
    }
    Ok(workload)
}

/// Runs `kvbench load`.
pub fn run(args: &LoadArgs) -> anyhow::Result<ExitCode> {
    let stop = match (args.duration, args.requests) {
        (_, Some(n)) => Stop::Requests(n),
        (Some(d), None) => Stop::Duration(d),
        (None, None) => Stop::Duration(Duration::from_secs(10)),
    };
    let oracle = Oracle::open(&args.data).context("cannot open the data file to check answers against")?;
    let spec = LoadSpec {
        target: args.target,
        connections: args.connections,
        threads: args.threads,
        stop,
        rate: args.rate,
        workload: args.workload,
        seed: args.seed,
        timeout: args.timeout,
    };
    let done = AtomicU64::new(0);
    let sampler = args.server_pid.map(|pid| ProcSampler::start(pid, Duration::from_millis(100)));
    let finished = AtomicBool::new(false);
    let report = std::thread::scope(|scope| {
        let progress = scope.spawn(|| show_progress(&spec.stop, &done, &finished));
        let report = kvbench_loadgen::run(&spec, &oracle.keys, &*oracle.lookup, &done);
        finished.store(true, Ordering::Relaxed);
        let _ = progress.join();
        report
    })?;
    let resources = sampler.map(ProcSampler::finish);
    let name = args.data.file_name().map_or_else(|| args.data.display().to_string(), |n| n.to_string_lossy().into());
    let subject = Subject {
        strategy: args.label.clone().unwrap_or_else(|| args.target.to_string()),
        dataset: DatasetInfo {
            keys: oracle.lookup.info().keys.unwrap_or(0),
            value_len: format!("file:{name}"),
            file: None,
        },
        workload: args.workload,
        load: LoadInfo {
            protocol: args.target.protocol().name().to_owned(),
            connections: args.connections as u32,
            server_threads: 0,
            rate: args.rate.map(|r| r as u64),
            seed: Some(args.seed),
            client: None,
            pinned: false,
        },
    };
    let mut set = ResultSet::new("kvbench load");
    set.records = record::records(&report, resources.as_ref(), &subject, &RunInfo::detect(false));
    match args.format {
        Format::Text => print!("{}", summary(&spec, &report, resources.as_ref(), args.server_pid)),
        format => print_records(&set, format)?,
    }
    if let Some(path) = &args.results {
        kvbench_results::io::write(path, &set)?;
        say(format_args!("wrote {} records to {}", set.records.len(), path.display()));
    }
    Ok(if report.errors.total() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// A progress bar on stderr (terminals only) until `finished`.
fn show_progress(stop: &Stop, done: &AtomicU64, finished: &AtomicBool) {
    let (len, what) = match stop {
        Stop::Duration(d) => (d.as_millis() as u64, "load (ms)"),
        Stop::Requests(n) => (*n, "load (requests)"),
    };
    let bar = progress_bar(len, what);
    let start = Instant::now();
    while !finished.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let answered = done.load(Ordering::Relaxed);
        bar.set_position(match stop {
            Stop::Duration(_) => start.elapsed().as_millis() as u64,
            Stop::Requests(_) => answered,
        });
        bar.set_message(format!("{:.0} requests/s", answered as f64 / start.elapsed().as_secs_f64()));
    }
    bar.finish_and_clear();
}

/// The run in words and numbers, like oha's summary.
fn summary(
    spec: &LoadSpec,
    report: &kvbench_loadgen::LoadReport,
    resources: Option<&Resources>,
    pid: Option<u32>,
) -> String {
    let mode = match spec.rate {
        Some(rate) => format!("open loop at {rate:.0} requests/s"),
        None => "closed loop".to_owned(),
    };
    let mut out = format!(
        "{} — {mode}, {} connections, {} thread(s), workload {}\n",
        spec.target,
        spec.connections,
        spec.threads.min(spec.connections),
        spec.workload
    );
    out += &format!(
        "  requests  {} in {:.2} s = {:.1} requests/s\n  answers   {} found, {} absent, {} errors\n",
        report.requests,
        report.elapsed.as_secs_f64(),
        report.throughput(),
        report.found,
        report.absent,
        report.errors.total()
    );
    if report.errors.total() > 0 {
        let e = &report.errors;
        out += &format!(
            "  errors    {} wrong answers, {} unexpected statuses, {} connection failures; first: {}\n",
            e.wrong_answer,
            e.unexpected_status,
            e.io,
            e.first.as_deref().unwrap_or("-")
        );
    }
    let corrected = if spec.rate.is_some() { "latency, from the intended send (corrected)" } else { "latency" };
    out += &percentiles(corrected, &report.percentiles());
    if let Some(uncorrected) = &report.uncorrected {
        out += &percentiles("latency, from the actual send (uncorrected)", &Percentiles::of(uncorrected));
    }
    if let (Some(r), Some(pid)) = (resources, pid) {
        out += &format!(
            "  server    PID {pid}: CPU {:.0} % user + {:.0} % system (max {:.0} %), RSS mean {} max {} ({} samples)\n",
            r.user_percent,
            r.system_percent,
            r.max_percent,
            human::bytes(r.rss_mean as u64),
            human::bytes(r.rss_max),
            r.samples
        );
    }
    out += &format!(
        "  client    this process: CPU {:.0} % of one CPU ({} thread(s) of load)\n",
        report.client_cpu_percent(),
        spec.threads.min(spec.connections)
    );
    out
}

fn percentiles(what: &str, p: &Percentiles) -> String {
    let t = |ns: f64| human::nanos(ns);
    format!(
        "  {what}\n    p50 {}  p90 {}  p99 {}  p99.9 {}  max {}\n",
        t(p.p50),
        t(p.p90),
        t(p.p99),
        t(p.p999),
        t(p.max)
    )
}
