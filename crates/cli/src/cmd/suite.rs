//! `kvbench suite` (the main job), `kvbench bench micro` (the same matrix,
//! any options) and `kvbench probe` (one measurement, run by them in a child).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kvbench_harness::cgroup::MemoryLimit;
use kvbench_harness::fit;
use kvbench_harness::latency::SampleBudget;
use kvbench_harness::probe::{self, ProbeReport, ProbeSpec};
use kvbench_harness::suite::{
    self as harness_suite, Case, ProbeOptions, cases_for, dataset_info, default_cases, default_workloads,
    probe_in_child, run_seed, schedule,
};
use kvbench_harness::timing::Plan;
use kvbench_lookup::{OpenOptions, Strategies, Strategy, StrategyKind};
use kvbench_peers::RedisCluster;
use kvbench_peers::cluster::DEFAULT_NODES;
use kvbench_results::units::ByteSize;
use kvbench_results::{DatasetInfo, Record, ResultSet, RunInfo, Skipped};
use kvbench_workload::{Count, Dataset, Workload};

use crate::data_args::DataArgs;
use crate::human;
use crate::output::progress_bar;

use super::suite_table;

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
                    case: case.id(),
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
                runs.iter().map(|r| harness_suite::records(info, &case.id(), r, &run_info)).collect();
            records.extend(harness_suite::aggregate(&each));
        }
        let table = suite_table::Table {
            records: &records,
            cases: &cases,
            reports: per_case,
            workloads: &workloads,
            wide: args.wide,
        };
        table.print(info, path, runs, seed);
        for (case, why) in cases.iter().zip(skip) {
            if let Some(why) = why {
                println!("{}: skipped, {why}", case.label());
            }
        }
        suite_table::what_to_use(&records, info, args.memory_budget);
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
