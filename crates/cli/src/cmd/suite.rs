//! `kvbench suite` (the main job), `kvbench bench micro` (the same matrix,
//! any options) and `kvbench probe` (one measurement, run by them in a child).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kvbench_harness::cgroup::MemoryLimit;
use kvbench_harness::fit;
use kvbench_harness::latency::{MIN_BEYOND, SampleBudget};
use kvbench_harness::probe::{self, ProbeReport, ProbeSpec};
use kvbench_harness::suite::{
    self as harness_suite, Case, ProbeOptions, cases_for, dataset_info, default_cases, default_workloads,
    probe_in_child, run_seed, schedule,
};
use kvbench_harness::timing::{Plan, SLOW_OP};
use kvbench_lookup::{OpenOptions, Strategies, Strategy, StrategyKind};
use kvbench_peers::RedisCluster;
use kvbench_peers::cluster::DEFAULT_NODES;
use kvbench_results::recommend::{HEADER, latency_workload, recommend};
use kvbench_results::units::{ByteSize, approx_count, percentile_or_max, relative_interval};
use kvbench_results::{
    DatasetInfo, FileInfo, LenSummary, MEMCHR_PASS, Metric, Record, ResultSet, RunInfo, Skipped, names::cold_workload,
};
use kvbench_workload::{Count, Dataset, Workload};

use crate::data_args::DataArgs;
use crate::human;
use crate::output::progress_bar;

/// Options of `kvbench suite` and `kvbench bench micro`.
#[derive(Args, Debug)]
pub struct SuiteArgs {
    /// Folder for generated datasets (created if needed; reused across runs).
    #[arg(long, value_name = "DIR", default_value = "data")]
    data_dir: PathBuf,
    #[command(flatten)]
    datasets: DataArgs,
    /// Strategies to measure, comma-separated, e.g. `hashmap,mmap-index,lru(0.1,mmap-index)` [default: all].
    #[arg(long, value_name = "LIST")]
    strategies: Option<Strategies>,
    /// Also recommend the fastest strategy whose resident memory fits this size, e.g. `100MiB`.
    #[arg(long, value_name = "SIZE")]
    memory_budget: Option<ByteSize>,
    /// Workloads for every strategy, separated by semicolons: uniform, zipf:THETA, latest:THETA, miss;
    /// add ",miss=F" to mix in a fraction F of absent keys, ",batch=N" to ask N keys per call
    /// (time per key; e.g. "uniform;uniform,batch=64").
    #[arg(long, value_name = "W;W", value_delimiter = ';', default_value = "uniform;zipf:0.99;miss;uniform,batch=64")]
    workloads: Vec<Workload>,
    /// Draw hit lookups from at most this many of a file's keys (every k-th
    /// line) [default: all keys]. A smaller pool makes caches look better than
    /// they are.
    #[arg(long, value_name = "N", value_parser = Count::positive)]
    key_pool: Option<Count>,
    /// Runs of each case, each in a fresh process; a figure is their median,
    /// with a confidence interval (5 runs: their min–max, at 94 %) [default: 5, 3 with --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    runs: Option<u32>,
    /// Seed of the runs' order and of their keys [default: a new one each time, printed].
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Where to write the results (the one results schema).
    #[arg(long, value_name = "FILE", default_value = "results/latest/suite.json")]
    results: PathBuf,
    /// Short timing rounds: checks that everything runs; figures are rough.
    #[arg(long)]
    quick: bool,
    /// Then regenerate the report from the results file's folder into this folder.
    #[arg(long, value_name = "DIR", default_value = "results/latest/report")]
    report: PathBuf,
    /// Do not regenerate the report.
    #[arg(long)]
    no_report: bool,
    /// Print every column (intervals of every figure, lookups timed); by default the tables fit 100 columns.
    #[arg(long)]
    wide: bool,
    /// Run each probe inside a cgroup memory limit of SIZE that counts the page cache, e.g. `2GiB`:
    /// a file larger than SIZE is served as on a machine with that much memory. Needs root
    /// (cgroup v1 or v2); cases whose own memory cannot fit are skipped with the reason.
    #[arg(long, value_name = "SIZE")]
    memory_limit: Option<ByteSize>,
    /// Time for all the workloads of a case whose lookups are slow (a scan of a large file);
    /// workloads left when it runs out are not timed, and the output says so.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    case_budget: std::time::Duration,
}

/// Options of `kvbench probe`.
#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// The data file.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Strategy label: `scan`, `hashmap`, `lru(0.1,mmap-index)`, …
    #[arg(long)]
    strategy: Strategy,
    /// Workloads to run, in order (repeatable).
    #[arg(long = "workload", value_name = "W", default_values = ["uniform", "miss"])]
    workloads: Vec<Workload>,
    /// Delete the index sidecar before opening.
    #[arg(long)]
    fresh_index: bool,
    /// Drop the page cache before opening; time only the first lookups.
    #[arg(long)]
    cold: bool,
    /// Skip malformed lines.
    #[arg(long)]
    lenient: bool,
    /// At most this many keys are drawn from [default: all].
    #[arg(long, value_name = "N", value_parser = Count::positive)]
    key_pool: Option<Count>,
    /// Seed of the workloads' key streams.
    #[arg(long, value_name = "N", default_value_t = 7)]
    seed: u64,
    /// Short timing rounds.
    #[arg(long)]
    quick: bool,
    /// Join this memory-limited cgroup once the keys are drawn (made by `suite --memory-limit`).
    #[arg(long, value_name = "DIR", hide = true)]
    cgroup: Option<PathBuf>,
    /// Time for all the workloads of a slow case together.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    budget: Option<std::time::Duration>,
    /// For `redis-cluster`: the cluster's seed node URLs.
    #[arg(long, value_name = "URL,…", value_delimiter = ',')]
    redis_cluster: Option<Vec<String>>,
}

fn pool_size(count: Option<Count>) -> usize {
    count.map_or(usize::MAX, |c| usize::try_from(c.0).unwrap_or(usize::MAX))
}

fn plan(quick: bool) -> Plan {
    if quick { Plan::quick() } else { Plan::default() }
}

/// Runs `kvbench probe`: one measurement, JSON on stdout.
pub fn probe(args: &ProbeArgs) -> anyhow::Result<ExitCode> {
    let spec = ProbeSpec {
        data: args.data.clone(),
        strategy: args.strategy.clone(),
        opts: OpenOptions {
            lenient: args.lenient,
            redis_cluster: args.redis_cluster.clone(),
            ..OpenOptions::default()
        },
        fresh_index: args.fresh_index,
        cold: args.cold,
        workloads: args.workloads.clone(),
        key_pool: pool_size(args.key_pool),
        plan: plan(args.quick),
        first_lookups: SampleBudget { max_ops: 1000, max_time: std::time::Duration::from_secs(2), min_ops: 3 },
        seed: args.seed,
        cgroup: args.cgroup.clone(),
        budget: args.budget,
    };
    let report = probe::run(&spec)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// A seed for a suite run that was given none: a different order and keys each time.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// Runs the matrix: datasets, every run of every case in a fresh process in
/// shuffled order, tables, results.
pub fn run(args: &SuiteArgs) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the kvbench executable to run probes")?;
    let run_info = RunInfo::detect(args.quick);
    let cases = match &args.strategies {
        Some(list) => cases_for(&list.0),
        None => default_cases(),
    };
    anyhow::ensure!(!cases.is_empty(), "--strategies selected no strategy");
    let limit = args
        .memory_limit
        .map(|size| MemoryLimit::create(size.0))
        .transpose()
        .context("--memory-limit runs each probe in a cgroup")?;
    // A `redis-cluster` case reads a local cluster the suite starts (and stops when done).
    let cluster = cases
        .iter()
        .any(|c| c.strategy.reader() == StrategyKind::RedisCluster)
        .then(|| RedisCluster::start(DEFAULT_NODES))
        .transpose()
        .context("redis-cluster is measured over a local Redis Cluster")?;
    let datasets = datasets(args)?;
    let skips = skips(&datasets, &cases, limit.as_ref().map(MemoryLimit::bytes), args.datasets.lenient);
    for ((info, path), skip) in datasets.iter().zip(&skips) {
        let running: Vec<Case> =
            cases.iter().zip(skip).filter(|(_, why)| why.is_none()).map(|(c, _)| c.clone()).collect();
        let wrote = harness_suite::prepare_dataset(path, &running, args.datasets.lenient)
            .with_context(|| format!("cannot build the index of {}", path.display()))?;
        for sidecar in wrote.iter().filter(|_| info.file.is_some()) {
            eprintln!("wrote the index sidecar {} beside your file (later runs reuse it)", sidecar.display());
        }
    }
    let runs = args.runs.unwrap_or(if args.quick { 3 } else { 5 });
    let seed = args.seed.unwrap_or_else(fresh_seed);
    eprintln!("{runs} runs per case in shuffled order, seed {seed} (--seed {seed} repeats the order and the keys)");
    if let Some(limit) = &limit {
        eprintln!("each probe runs under a memory limit of {} (page cache included)", human::bytes(limit.bytes()));
    }
    let workloads = if args.workloads.is_empty() { default_workloads() } else { args.workloads.clone() };
    let jobs: Vec<_> = schedule(datasets.len(), cases.len(), runs, seed)
        .into_iter()
        .filter(|j| skips[j.dataset][j.case].is_none())
        .collect();
    let bar = progress_bar(jobs.len() as u64, "measuring");
    // Per dataset and case, the reports of its runs.
    let mut reports: Vec<Vec<Vec<ProbeReport>>> = vec![vec![Vec::new(); cases.len()]; datasets.len()];
    let mut failures = 0;
    // Without a terminal the bar is hidden: say each finished run on a line, so a piped run is not silent.
    let piped = !std::io::stderr().is_terminal();
    let total = jobs.len();
    for (done, job) in jobs.into_iter().enumerate() {
        let ((dataset, path), case) = (&datasets[job.dataset], &cases[job.case]);
        let what = format!("{} {} (run {})", dataset.label(), case.label(), job.run + 1);
        bar.set_message(what.clone());
        let started = std::time::Instant::now();
        let options = ProbeOptions {
            key_pool: pool_size(args.key_pool),
            workloads: workloads.clone(),
            quick: args.quick,
            seed: run_seed(seed, job.run),
            lenient: args.datasets.lenient,
            cgroup: limit.as_ref().map(|l| l.dir().to_owned()),
            budget: Some(args.case_budget),
            redis_cluster: cluster.as_ref().map(RedisCluster::urls),
        };
        match probe_in_child(&exe, path, case, &options) {
            Ok(report) if report.memory_limit != limit.as_ref().map(MemoryLimit::bytes) => {
                failures += 1;
                let read = report.memory_limit.map_or_else(|| "none".into(), human::bytes);
                bar.suspend(|| eprintln!("kvbench: {what}: the probe read back a memory limit of {read}"));
            }
            Ok(report) => reports[job.dataset][job.case].push(report),
            Err(e) => {
                failures += 1;
                bar.suspend(|| eprintln!("kvbench: {e}"));
            }
        }
        bar.inc(1);
        if piped {
            eprintln!("[{}/{total}] {what}: {}", done + 1, human::nanos(started.elapsed().as_nanos() as f64));
        }
    }
    bar.finish_and_clear();
    let mut results = ResultSet::new("kvbench suite");
    results.memory_budget = args.memory_budget.map(|b| b.0);
    for ((info, _), skip) in datasets.iter().zip(&skips) {
        for (case, why) in cases.iter().zip(skip) {
            if let Some(reason) = why {
                results.skipped.push(Skipped {
                    strategy: case.label(),
                    dataset: info.clone(),
                    reason: reason.clone(),
                    memory_limit: limit.as_ref().map(MemoryLimit::bytes),
                });
            }
        }
    }
    for (((info, path), per_case), skip) in datasets.iter().zip(&reports).zip(&skips) {
        let mut records = Vec::new();
        for (case, runs) in cases.iter().zip(per_case) {
            let each: Vec<Vec<Record>> =
                runs.iter().map(|r| harness_suite::records(info, &case.label(), r, &run_info)).collect();
            records.extend(harness_suite::aggregate(&each));
        }
        let table =
            Table { records: &records, cases: &cases, reports: per_case, workloads: &workloads, wide: args.wide };
        table.print(info, path, runs, seed);
        for (case, why) in cases.iter().zip(skip) {
            if let Some(why) = why {
                println!("{}: skipped, {why}", case.label());
            }
        }
        what_to_use(&records, info, args.memory_budget);
        results.records.extend(records);
    }
    kvbench_results::io::write(&args.results, &results)?;
    eprintln!("wrote {} records to {}", results.records.len(), args.results.display());
    if !args.no_report {
        let folder = args.results.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        super::report::write(folder, &args.report)?;
    }
    Ok(if failures == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Per dataset and case, why the case cannot run there ([`fit::why_not`]),
/// said as it is decided; `limit` is the memory limit the probes run under.
/// Disk is counted as it would fill: a store that a case builds is no
/// longer free for the next.
fn skips(
    datasets: &[(DatasetInfo, PathBuf)],
    cases: &[Case],
    limit: Option<u64>,
    lenient: bool,
) -> Vec<Vec<Option<String>>> {
    let opts = OpenOptions { lenient, ..OpenOptions::default() };
    // Read once: what the machine has available before any case runs.
    let memory = limit.or_else(fit::available_memory).unwrap_or(u64::MAX);
    let mut disk_used = 0;
    let mut planned: Vec<PathBuf> = Vec::new();
    datasets
        .iter()
        .map(|(info, path)| {
            let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
            cases
                .iter()
                .map(|case| {
                    let sidecar = case.strategy.sidecar(path, &opts);
                    let store_exists = sidecar.as_ref().is_some_and(|s| s.exists());
                    let disk = fit::free_disk(sidecar.as_deref().unwrap_or(path)).map(|d| d.saturating_sub(disk_used));
                    let room = fit::Room { memory, limited: limit.is_some(), disk, store_exists };
                    let why = fit::why_not(case, file_bytes, info.keys, room);
                    if let Some(why) = &why {
                        eprintln!("skipping {} {}: {why}", info.label(), case.label());
                    } else if let Some(sidecar) = sidecar.filter(|s| !planned.contains(s)) {
                        disk_used += fit::needs(case, file_bytes, info.keys, store_exists).disk;
                        planned.push(sidecar);
                    }
                    why
                })
                .collect()
        })
        .collect()
}

/// The datasets to measure, each as results name it and its path: the
/// generated ones (made on first use), then the user's files, described as measured.
fn datasets(args: &SuiteArgs) -> anyhow::Result<Vec<(DatasetInfo, PathBuf)>> {
    let keys = args.datasets.generated();
    anyhow::ensure!(!keys.is_empty() || !args.datasets.data.is_empty(), "no dataset: give --keys or --data");
    let mut datasets = Vec::new();
    for keys in keys {
        let dataset = Dataset::new(keys.0);
        let bar = progress_bar(keys.0, &format!("generating {keys}"));
        let (path, made) = dataset
            .ensure(&args.data_dir, |n| bar.set_position(n))
            .with_context(|| format!("cannot create dataset in {}", args.data_dir.display()))?;
        bar.finish_and_clear();
        match made {
            Some(s) => eprintln!("generated {} ({} keys, {})", path.display(), s.keys, human::bytes(s.bytes)),
            None => eprintln!("reusing {}", path.display()),
        }
        datasets.push((dataset_info(&dataset), path));
    }
    datasets.extend(args.datasets.files()?);
    Ok(datasets)
}

/// One dataset's results as the terminal shows them: start-up and memory,
/// one table of lookup times per workload, the cold starts.
struct Table<'a> {
    /// The dataset's records, each the median of its runs.
    records: &'a [Record],
    cases: &'a [Case],
    /// Per case (in `cases`' order), the reports of its runs: file size, notes, costs.
    reports: &'a [Vec<ProbeReport>],
    workloads: &'a [Workload],
    /// Every column (`--wide`), rather than what fits 100 columns.
    wide: bool,
}

/// Keeps the cells of the columns whose `keep` is true.
fn columns<T: Clone>(cells: &[T], keep: &[bool]) -> Vec<T> {
    cells.iter().zip(keep).filter(|(_, k)| **k).map(|(c, _)| c.clone()).collect()
}

impl Table<'_> {
    fn get(&self, case: &str, workload: &str, metric: Metric) -> Option<&Record> {
        self.records.iter().find(|r| r.strategy == case && r.workload == workload && r.metric == metric)
    }

    /// A record's value written by `write`, with its interval as percentages when it has one.
    fn with_interval(&self, record: Option<&Record>, write: impl Fn(f64) -> String) -> String {
        let Some(r) = record else { return "-".into() };
        match r.spread {
            Some(s) if r.value > 0.0 => format!("{} {}", write(r.value), relative_interval(r.value, s.lower, s.upper)),
            _ => write(r.value),
        }
    }

    /// A percentile's record, or the slowest lookup where too few were timed
    /// for it (`max of 194: 2.46 ms`; narrow tables: `max 2.46 ms`).
    fn percentile(&self, percentile: Option<&Record>, max: Option<&Record>) -> String {
        match (percentile, max) {
            (None, Some(m)) if !self.wide => format!("max {}", human::nanos(m.value)),
            _ => {
                let samples = max.and_then(|m| m.samples).unwrap_or(0);
                percentile_or_max(percentile.map(|r| r.value), max.map(|r| r.value), samples)
                    .unwrap_or_else(|| "-".into())
            }
        }
    }

    /// `rows` under `header`, only the columns `keep` marks unless wide; the first column left-aligned.
    fn show(&self, header: &[&str], rows: &[Vec<String>], keep: &[bool]) {
        let all = vec![true; header.len()];
        let keep = if self.wide { &all[..] } else { keep };
        let rows: Vec<Vec<String>> = rows.iter().map(|r| columns(r, keep)).collect();
        println!("{}\n", human::table_with(&columns(header, keep), &rows, 1));
    }

    fn plain(&self, record: Option<&Record>, write: impl Fn(f64) -> String) -> String {
        record.map_or_else(|| "-".into(), |r| write(r.value))
    }

    /// The first report of any run of any case, for what is the same in every run (the file's size, the clock).
    fn any_report(&self) -> Option<&ProbeReport> {
        self.reports.iter().flatten().next()
    }

    /// The median over runs and cases of a cost every probe measures.
    fn cost(&self, of: impl Fn(&ProbeReport) -> f64) -> f64 {
        let values: Vec<f64> = self.reports.iter().flatten().map(of).collect();
        kvbench_results::stats::median_ci(&values, 0.0).map_or(0.0, |m| m.median)
    }

    fn print(&self, dataset: &DatasetInfo, path: &Path, runs: u32, seed: u64) {
        let file_bytes = self.any_report().map_or(0, |r| r.file_bytes);
        let name = match &dataset.file {
            Some(_) => dataset.label(),
            None => format!("{} keys", dataset.label()),
        };
        println!(
            "\n{name}: {} ({}); each figure the median of {runs} {} in fresh processes",
            path.display(),
            human::bytes(file_bytes),
            human::plural(u64::from(runs), "run"),
        );
        if let Some(file) = &dataset.file {
            println!("{}", describe(file));
        }
        println!();
        self.start_up_and_memory();
        for w in self.workloads {
            self.lookups(&w.to_string());
        }
        self.cold_starts();
        self.explain(runs, seed);
        self.notes();
        self.ratios(file_bytes);
    }

    fn warm_cases(&self) -> impl Iterator<Item = String> + '_ {
        self.cases.iter().filter(|c| !c.cold).map(Case::label)
    }

    fn start_up_and_memory(&self) {
        println!("Start-up and memory");
        let bytes = |v: f64| human::bytes(v as u64);
        let rows: Vec<Vec<String>> = self
            .cases
            .iter()
            .zip(self.reports)
            // A case skipped (it could not fit) has no runs, and is listed after the tables.
            .filter(|(_, runs)| !runs.is_empty())
            .map(|(case, _)| {
                let c = case.label();
                let get = |m| self.get(&c, "-", m);
                let ready = if self.wide {
                    self.with_interval(get(Metric::ReadyTime), human::nanos)
                } else {
                    self.plain(get(Metric::ReadyTime), human::nanos)
                };
                vec![
                    c.clone(),
                    self.with_interval(get(Metric::OpenTime), human::nanos),
                    ready,
                    self.plain(get(Metric::HeapBytes), bytes),
                    self.plain(get(Metric::AnonRssBytes), bytes),
                    self.plain(get(Metric::FileRssBytes), bytes),
                    self.plain(get(Metric::AnonBytesPerKey), |v| format!("{v:.1}")),
                    self.plain(get(Metric::ResidentBytesPerKey), |v| format!("{v:.1}")),
                ]
            })
            .collect();
        let header = ["strategy", "open", "ready", "heap", "anon RSS", "file RSS", "anon B/key", "resident B/key"];
        self.show(&header, &rows, &[true, true, true, true, true, true, false, true]);
    }

    fn lookups(&self, workload: &str) {
        println!("{workload}: time per lookup");
        let rows: Vec<Vec<String>> = self
            .warm_cases()
            // Every case that measured the workload (a batched one has no lookups timed alone).
            .filter(|c| self.get(c, workload, Metric::LookupMean).is_some())
            .map(|c| {
                let get = |m| self.get(&c, workload, m);
                let tail = self.percentile(get(Metric::LatencyP99), get(Metric::LatencyMax));
                vec![
                    c.clone(),
                    self.with_interval(get(Metric::LookupMean), human::nanos),
                    self.with_interval(get(Metric::ChainLatency), human::nanos),
                    self.with_interval(get(Metric::LatencyP50), human::nanos),
                    tail,
                    samples(get(Metric::LookupMean), get(Metric::ChainLatency), get(Metric::LatencyMax)),
                    self.plain(get(Metric::HitRate), |h| format!("{:.0}%", h * 100.0)),
                    self.plain(get(Metric::MajorFaultsPerLookup), |f| format!("{f:.2}")),
                    self.plain(get(Metric::DiskReadBytesPerLookup), |b| human::bytes(b as u64)),
                ]
            })
            .collect();
        // Faults and reads matter where the data does not fit in memory; elsewhere they are ~0.
        let faulting = self
            .records
            .iter()
            .any(|r| r.workload == workload && r.metric == Metric::MajorFaultsPerLookup && r.value >= 0.01);
        let header = [
            "strategy",
            "overlapped",
            "chained",
            "alone p50",
            "alone p99",
            "lookups timed",
            "hit rate",
            "major faults/lookup",
            "read/lookup",
        ];
        self.show(&header, &rows, &[true, true, true, true, true, false, true, faulting, faulting]);
    }

    fn cold_starts(&self) {
        let cold: Vec<String> = self.cases.iter().filter(|c| c.cold).map(Case::label).collect();
        let Some(first) = self.workloads.first() else { return };
        if cold.is_empty() {
            return;
        }
        let workload = cold_workload(first);
        println!("Cold starts (page cache dropped before opening; {first} keys)");
        let percent = |v: f64| format!("{:.0}%", v * 100.0);
        let rows: Vec<Vec<String>> = cold
            .iter()
            .map(|c| {
                let get = |w: &str, m| self.get(c, w, m);
                let max = get(&workload, Metric::LatencyMax);
                let p50 = self.percentile(get(&workload, Metric::LatencyP50), max);
                let next = match self.wide {
                    true => format!("{p50} (of {})", approx_count(max.and_then(|m| m.samples).unwrap_or(0))),
                    false => p50,
                };
                vec![
                    c.clone(),
                    self.with_interval(get("-", Metric::OpenTime), human::nanos),
                    self.with_interval(get(&workload, Metric::FirstLookup), human::nanos),
                    next,
                    format!(
                        "{} -> {}",
                        self.plain(get("-", Metric::ColdResidentBefore), percent),
                        self.plain(get("-", Metric::ColdResidentAfterOpen), percent)
                    ),
                ]
            })
            .collect();
        let header = ["strategy", "open", "first lookup", "next p50", "cached before -> after open"];
        self.show(&header, &rows, &[true; 5]);
    }

    fn explain(&self, runs: u32, seed: u64) {
        let level =
            self.records.iter().find_map(|r| r.spread.and_then(|s| s.level)).map_or_else(String::new, |l| {
                format!(" (the true median lies inside with {:.0}% confidence)", l * 100.0)
            });
        let ns = |of: fn(&ProbeReport) -> f64| format!("{:.1} ns", self.cost(of));
        let text = format!(
            "How to read it. Each figure is the median of {runs} runs, each in a fresh process, all runs of all cases \
             in one shuffled order (seed {seed}); -a%/+b% is its confidence interval{level}, as lopsided as the runs \
             were.\n\
             - overlapped: lookups back to back over independent keys; the CPU overlaps their cache misses, so this \
             is one thread's throughput (1 / lookups per second), not the wait for one answer. It includes ~{} per \
             lookup of the loop fetching the next key.\n\
             - chained: each lookup starts only after the previous answer arrived (its key depends on that answer, \
             and an lfence separates them): the latency of one lookup when lookups do not overlap; the loop's own \
             ~{} subtracted.\n\
             - alone: each lookup timed on its own (HdrHistogram), ~{} of clock reads subtracted (the clock moves in \
             ~{} ticks). A percentile is shown only when at least {MIN_BEYOND} lookups lie beyond it (p99: 500), \
             otherwise the slowest of the n timed (`max`; --wide shows n and every interval).\n\
             - lookups timed (per run): overlapped / chained / alone. A lookup slower than {} is timed one by one \
             only ('one by one'): its overlapped and chained figures are the mean of those lookups, which do not \
             overlap by more than a cache miss.\n\
             - overlapped and chained are CPU time of the probe's thread (time the machine gave to other work \
             does not count; the probes ran for {} of the wall time of those rounds); alone is wall time.\n\
             - memory: growth of the probe process over its state before opening, after all lookups and after \
             malloc_trim (memory the allocator kept after freeing it is not charged); resident B/key counts \
             anonymous and file-backed (page cache of mapped files) memory per key.",
            ns(|r| r.harness_overhead_ns),
            ns(|r| r.chain_floor_ns),
            ns(|r| r.clock_overhead_ns),
            ns(|r| r.clock_tick_ns),
            human::nanos(SLOW_OP.as_nanos() as f64),
            self.cpu_share(),
        );
        println!("{}", human::wrap(&text, 100));
    }

    /// The median share of wall time the probes ran during their timed rounds, e.g. `93%`.
    fn cpu_share(&self) -> String {
        let shares: Vec<f64> = self
            .reports
            .iter()
            .flatten()
            .flat_map(|r| &r.workloads)
            .filter_map(|w| w.overlapped?.rounds)
            .filter(|r| r.wall_median_ns > 0.0)
            .map(|r| r.median_ns / r.wall_median_ns)
            .collect();
        kvbench_results::stats::median_ci(&shares, 0.0)
            .map_or_else(|| "?".into(), |m| format!("{:.0}%", m.median * 100.0))
    }

    /// What the strategies and the probe said about each case (index reused or
    /// rebuilt, a key pool that inflates hit rates, a failed eviction): the
    /// figures depend on it. Each distinct note once, however many runs said it.
    fn notes(&self) {
        for (case, runs) in self.cases.iter().zip(self.reports) {
            let mut notes: Vec<&str> = Vec::new();
            for note in runs.iter().flat_map(|r| &r.notes) {
                if !notes.contains(&note.as_str()) {
                    notes.push(note);
                }
            }
            let retained = runs.iter().filter_map(|r| r.allocator_retained).max().unwrap_or(0);
            let retained = (retained >= 1 << 20).then(|| {
                format!("the allocator kept {} freed during open (released before measuring)", human::bytes(retained))
            });
            let all: Vec<&str> = notes.into_iter().chain(retained.as_deref()).collect();
            if !all.is_empty() {
                println!("{}: {}", case.label(), all.join("; "));
            }
        }
    }

    fn ratios(&self, file_bytes: u64) {
        let scan = Strategy::Plain(StrategyKind::Scan).to_string();
        let miss = self.get(&scan, &Workload::MISS.to_string(), Metric::LookupMean);
        if let (Some(miss), Some(floor)) = (miss, self.get(MEMCHR_PASS, "-", Metric::LookupMean)) {
            println!(
                "scan: a miss (a full scan) takes {:.2}x one memchr pass over the file ({}), each the median of its runs",
                miss.value / floor.value,
                self.with_interval(Some(floor), human::nanos)
            );
        }
        let map = Strategy::Plain(StrategyKind::HashMap).to_string();
        if let Some(heap) = self.get(&map, "-", Metric::HeapBytes) {
            println!("hashmap heap / file size: {:.2}x", heap.value / file_bytes.max(1) as f64);
        }
    }
}

/// The recommendation for one dataset, computed from its records (`kvbench_results::recommend`).
fn what_to_use(records: &[Record], dataset: &DatasetInfo, budget: Option<ByteSize>) {
    let Some(workload) = latency_workload(records, dataset) else { return };
    let r = recommend(records, dataset, &workload, budget.map(|b| b.0));
    println!("\nWhat to use for {} on this machine", r.dataset);
    println!("{}", human::table(&HEADER, &r.rows()));
    println!("{}", human::wrap(&r.legend(), 100));
}

/// What a user's file holds, in one paragraph: records, keys, duplicates, lengths.
fn describe(file: &FileInfo) -> String {
    let lengths = |l: &LenSummary| format!("{}/{}/{}/{} B", l.min, l.median, l.p99, l.max);
    let skipped = match file.skipped {
        0 => String::new(),
        n => format!(", {n} malformed {} skipped", human::plural(n, "line")),
    };
    format!(
        "{} records, {} distinct keys, {} {} (the first line of a key wins){skipped}; \
         key length min/median/p99/max {}, value length {}; fingerprint {}",
        file.records,
        file.distinct_keys,
        file.duplicates,
        human::plural(file.duplicates, "duplicate"),
        lengths(&file.key_len),
        lengths(&file.value_len),
        file.fingerprint.get(..12).unwrap_or(&file.fingerprint),
    )
}

/// Lookups timed per run for each way of timing: `1.2M / 800k / 200k`, or
/// `12 one by one` for a slow lookup, whose three figures come from the same lookups.
fn samples(overlapped: Option<&Record>, chained: Option<&Record>, alone: Option<&Record>) -> String {
    let n = |r: Option<&Record>| r.and_then(|r| r.samples);
    match (n(overlapped), n(chained), n(alone)) {
        (Some(o), Some(c), Some(a)) if o == a && c == a => format!("{} one by one", approx_count(a)),
        (o, c, a) => [o, c, a].map(|n| n.map_or_else(|| "-".into(), approx_count)).join(" / "),
    }
}
