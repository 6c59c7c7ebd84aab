//! `kvbench suite` (the main job), `kvbench bench micro` (the same matrix,
//! any options) and `kvbench probe` (one measurement, run by them in a child).

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kvbench_harness::probe::{self, ProbeSpec};
use kvbench_harness::progress::Progress;
use kvbench_harness::suite::sweep::{self, Budget, DEFAULT_SWEEP, SweepOutcome};
use kvbench_harness::suite::{
    self, Planned, Prober, SuiteError, SuiteOutcome, SuitePlan, cases_for, dataset_info, default_cases,
    default_workloads,
};
use kvbench_lookup::Strategies;
use kvbench_results::DatasetInfo;
use kvbench_results::recommend::recommend_all;
use kvbench_results::table;
use kvbench_results::units::ByteSize;
use kvbench_workload::{Count, Dataset, Workload};

use crate::data_args::DataArgs;
use crate::human;
use crate::output::{self, Bar, Format, progress_bar, records_table, say};

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
    /// Also recommend the fastest strategy within this much memory, e.g. `100MiB`: each
    /// strategy runs again under a memory limit of SIZE that counts the page cache (needs root
    /// and cgroups; without them the answer is estimated from resident memory, and says so).
    #[arg(long, value_name = "SIZE")]
    memory_budget: Option<ByteSize>,
    /// Then measure each strategy under each of these memory limits (page cache counted):
    /// sizes, or multiples of the file's size such as `0.5x` [default when given alone:
    /// 1.5x,1x,0.5x,0.25x,0.1x]. Least memory then names the smallest limit that keeps a
    /// strategy's p99 within 2× of its own without one. Needs root and cgroups.
    #[arg(long, value_name = "LIST", value_delimiter = ',', num_args = 0.., require_equals = true)]
    memory_sweep: Option<Vec<Budget>>,
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
    /// The most runs of a case, each in a fresh process; a figure is their median,
    /// with a confidence interval (5 runs: their min–max, at 94 %). Without --full a
    /// case runs once, then up to 3 and N times only while it could still be the best
    /// for a goal of "What to use" [default: 5, 3 with --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    runs: Option<u32>,
    /// The thorough run the published reference uses: 10k and 1M keys, every case
    /// --runs times (about 10 minutes), rather than 1M keys and more runs only where
    /// the answer needs them (about 3 minutes).
    #[arg(long)]
    full: bool,
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
    /// How to print the results: the tables as text or Markdown, every figure as CSV, or
    /// JSON (`{results, what_to_use}`: the results file's records and the recommendation).
    #[arg(long, value_enum, default_value_t)]
    format: Format,
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

/// Options of `kvbench probe`: a suite's child process, handed its whole probe as one value.
#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// The probe to run: a `ProbeSpec` as JSON, from this file, or `-` for stdin (as the suite hands it).
    #[arg(long, value_name = "FILE", default_value = "-")]
    spec: PathBuf,
}

/// Runs `kvbench probe`: one measurement, its report as JSON on stdout.
pub fn probe(args: &ProbeArgs) -> anyhow::Result<ExitCode> {
    let json = if args.spec.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read the probe's spec from stdin")?;
        text
    } else {
        std::fs::read_to_string(&args.spec).with_context(|| format!("cannot read {}", args.spec.display()))?
    };
    let spec: ProbeSpec = serde_json::from_str(&json).context("the probe's spec is not a ProbeSpec")?;
    let report = probe::run(&spec)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// A seed for a suite run that was given none: a different order and keys each time.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// Runs the matrix ([`kvbench_harness::suite::run`], each probe in a fresh
/// process of this executable), prints its tables, writes the results and the report.
pub fn run(args: &SuiteArgs) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the kvbench executable to run probes")?;
    let cases = match &args.strategies {
        Some(list) => cases_for(&list.0),
        None => default_cases(),
    };
    anyhow::ensure!(!cases.is_empty(), "--strategies selected no strategy");
    let plan = SuitePlan {
        datasets: datasets(args)?,
        cases,
        workloads: if args.workloads.is_empty() { default_workloads() } else { args.workloads.clone() },
        runs: args.runs.unwrap_or(if args.quick { 3 } else { 5 }),
        sequential: !args.full,
        seed: args.seed.unwrap_or_else(fresh_seed),
        key_pool: args.key_pool.map_or(usize::MAX, |c| usize::try_from(c.0).unwrap_or(usize::MAX)),
        quick: args.quick,
        lenient: args.datasets.lenient,
        memory_limit: args.memory_limit.map(|size| size.0),
        case_budget: Some(args.case_budget),
        prober: Prober::Child(exe),
    };
    let seed = plan.seed;
    say(format_args!("seed {seed} (--seed {seed} repeats the order and the keys)"));
    if let Some(limit) = plan.memory_limit {
        say(format_args!("each probe runs under a memory limit of {} (page cache included)", human::bytes(limit)));
    }
    let mut outcome = suite::run(&plan, &mut RunLines::new("measuring"))?;
    // In whole pages, as the limit it is measured under is kept.
    outcome.results.memory_budget = args.memory_budget.map(|b| Budget::Bytes(b.0).bytes(0));
    let swept = under_limits(args, &plan)?;
    outcome.results.records.extend(swept.records().cloned());
    outcome.results.skipped.extend(swept.skipped().cloned());
    outcome.results.estimates.extend(swept.points.iter().flat_map(|p| p.outcome.results.estimates.iter().cloned()));
    outcome.failures.extend(swept.failures().cloned());
    match args.format {
        Format::Json => {
            let results = &outcome.results;
            let what_to_use = recommend_all(&results.records, &results.skipped, results.memory_budget);
            let json = serde_json::json!({ "results": &outcome.results, "what_to_use": what_to_use });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Format::Csv => print!("{}", records_table(&outcome.results.records).csv()),
        Format::Text => print_tables(args, &plan, &outcome, &swept, table::Format::Text),
        Format::Markdown => print_tables(args, &plan, &outcome, &swept, table::Format::Markdown),
    }
    kvbench_results::io::write(&args.results, &outcome.results)?;
    say(format_args!("wrote {} records to {}", outcome.results.records.len(), args.results.display()));
    if !args.no_report {
        let folder = args.results.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        super::report::write(folder, &args.report)?;
    }
    Ok(if outcome.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The runs under memory limits the flags ask for: the sweep, and the
/// budget's limit. Where no limit can be set, a budget alone is answered
/// by an estimate (said); a sweep asked for is an error.
fn under_limits(args: &SuiteArgs, plan: &SuitePlan) -> anyhow::Result<SweepOutcome> {
    let mut budgets: Vec<Budget> = match &args.memory_sweep {
        Some(list) if list.is_empty() => DEFAULT_SWEEP.to_vec(),
        Some(list) => list.clone(),
        None => Vec::new(),
    };
    budgets.extend(args.memory_budget.map(|b| Budget::Bytes(b.0)).filter(|b| !budgets.contains(b)));
    if budgets.is_empty() {
        return Ok(SweepOutcome::default());
    }
    match sweep::run(plan, &budgets, &mut RunLines::new("under memory limits")) {
        Err(SuiteError::Limit(e)) if args.memory_sweep.is_none() => {
            say(format_args!(
                "cannot run under a memory limit here ({e}): the budget's answer is estimated from resident memory"
            ));
            Ok(SweepOutcome::default())
        }
        Err(SuiteError::Limit(e)) => {
            Err(anyhow::anyhow!("--memory-sweep runs each probe under a cgroup memory limit, and here: {e}"))
        }
        other => Ok(other?),
    }
}

/// Each dataset's tables, notes and "What to use", as text or Markdown tables.
fn print_tables(
    args: &SuiteArgs,
    plan: &SuitePlan,
    outcome: &SuiteOutcome,
    swept: &SweepOutcome,
    format: table::Format,
) {
    for d in &outcome.datasets {
        let table = suite_table::Table {
            records: &d.records,
            cases: &plan.cases,
            reports: &d.reports,
            workloads: &plan.workloads,
            wide: args.wide,
            format,
        };
        table.print(&d.info, &d.path, plan.seed);
        for (case, why) in plan.cases.iter().zip(&d.skipped) {
            if let Some(why) = why {
                println!("{}: skipped, {why}", case.label());
            }
        }
        suite_table::estimates(&outcome.results, &d.info);
        suite_table::under_limits(swept, &d.info, &d.records, args.wide, format);
        suite_table::what_to_use(&outcome.results, &d.info, outcome.results.memory_budget, format);
    }
}

/// The suite's progress: a bar on a terminal; piped, a line per finished run,
/// so a run in CI or under `tee` is not silent for minutes.
struct RunLines {
    bar: Bar,
    piped: bool,
    what: String,
    started: std::time::Instant,
    done: u64,
    total: u64,
}

impl RunLines {
    fn new(what: &str) -> Self {
        let piped = !std::io::stderr().is_terminal();
        RunLines {
            bar: Bar::new(what),
            piped,
            what: String::new(),
            started: std::time::Instant::now(),
            done: 0,
            total: 0,
        }
    }
}

impl Progress for RunLines {
    fn start(&mut self, total: u64) {
        self.total = total;
        self.bar.start(total);
    }

    fn doing(&mut self, what: &str) {
        self.what = what.to_owned();
        self.started = std::time::Instant::now();
        self.bar.doing(what);
    }

    fn done(&mut self, steps: u64) {
        self.done += steps;
        self.bar.done(steps);
        if self.piped && !output::quiet() {
            let took = human::nanos(self.started.elapsed().as_nanos() as f64);
            crate::output::say(format_args!("[{}/{}] {}: {took}", self.done, self.total, self.what));
        }
    }

    fn note(&mut self, message: &str) {
        self.bar.note(message);
    }

    fn plan(&mut self, planned: &Planned) {
        let about = |d: std::time::Duration| match d.as_secs_f64() {
            s if s < 90.0 => format!("{s:.0} s"),
            s => format!("{:.1} min", s / 60.0),
        };
        let (first, most) = (planned.first_probes, planned.most_probes);
        let runs = if first == most {
            format!("{first} probes; about {}", about(planned.time.0))
        } else {
            let (low, high) = (about(planned.time.0), about(planned.time.1));
            format!(
                "{first} probes first, at most {most} (more runs only where the answer needs them); about {low} to {high}"
            )
        };
        let disk = match planned.disk {
            0 => "no index or store to build".to_owned(),
            n => format!("~{} of indexes and stores beside the data", human::bytes(n)),
        };
        let cases = format!("{} {}", planned.cases, human::plural(planned.cases as u64, "case"));
        let datasets = format!("{} {}", planned.datasets, human::plural(planned.datasets as u64, "dataset"));
        self.bar.note(&format!("plan: {cases} on {datasets}, {runs}; {disk}"));
    }
}

/// The datasets to measure, each as results name it and its path: the
/// generated ones (made on first use), then the user's files, described as measured.
fn datasets(args: &SuiteArgs) -> anyhow::Result<Vec<(DatasetInfo, PathBuf)>> {
    let keys = args.datasets.generated(if args.full { &[10_000, 1_000_000] } else { &[1_000_000] });
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
            Some(s) => say(format_args!("generated {} ({} keys, {})", path.display(), s.keys, human::bytes(s.bytes))),
            None => say(format_args!("reusing {}", path.display())),
        }
        datasets.push((dataset_info(&dataset), path));
    }
    datasets.extend(args.datasets.files()?);
    Ok(datasets)
}
