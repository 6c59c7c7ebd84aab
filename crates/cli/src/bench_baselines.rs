//! `kvbench bench baselines`: the original study's programs (bash, Python)
//! beside `kvbench get` for each strategy, timed as whole processes and per
//! lookup in steady state, every answer checked; results in the one schema.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kvbench_baselines::measure::{Budget, Measurement, Summary, measure};
use kvbench_baselines::{Baseline, Program, Scripts};
use kvbench_harness::suite::dataset_info;
use kvbench_loadgen::Reference;
use kvbench_lookup::{Strategy, StrategyKind};
use kvbench_results::{Metric, Record, ResultSet, RunInfo, SpreadKind};
use kvbench_workload::{Count, Dataset, Workload};

use crate::output::progress_bar;
use crate::human;

/// Keys drawn per dataset; batches cycle through them.
const ANSWERS: usize = 16_384;

/// Options of `kvbench bench baselines`.
#[derive(Args, Debug)]
pub struct BaselinesArgs {
    /// Folder for generated datasets (created if needed; reused across runs).
    #[arg(long, value_name = "DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Dataset sizes, comma-separated.
    #[arg(long, value_name = "N,N", value_delimiter = ',', default_value = "10k,1M")]
    keys: Vec<Count>,
    /// Timed single-key runs of each program (after one untimed run).
    #[arg(long, value_name = "N", default_value_t = 10)]
    runs: usize,
    /// Where to write the results (the one results schema).
    #[arg(long, value_name = "FILE", default_value = "results/latest/baselines.json")]
    results: PathBuf,
    /// Smoke run: two runs per program, small batches; figures are rough.
    #[arg(long)]
    quick: bool,
}

/// The kvbench strategies timed beside the baselines (`redis` needs a server, `warming` a long-running process).
fn strategies() -> [Strategy; 5] {
    [
        Strategy::Plain(StrategyKind::ScanLines),
        Strategy::Plain(StrategyKind::Scan),
        Strategy::Plain(StrategyKind::HashMap),
        Strategy::Plain(StrategyKind::MmapIndex),
        Strategy::Lru { ratio: 0.1, backing: StrategyKind::MmapIndex },
    ]
}

/// Runs `kvbench bench baselines`.
pub fn run(args: &BaselinesArgs) -> anyhow::Result<ExitCode> {
    let budget = if args.quick { Budget::quick() } else { Budget { runs: args.runs, ..Budget::default() } };
    let exe = std::env::current_exe().context("cannot find the kvbench executable to time `kvbench get` with")?;
    let run_info = RunInfo::detect(args.quick);
    let scripts = Scripts::install().context("cannot write the baseline programs")?;
    let mut programs: Vec<(String, Program)> = Vec::new();
    for baseline in Baseline::ALL {
        match baseline.check() {
            Ok(()) => programs.push((baseline.name().into(), Program::baseline(baseline, &scripts).through(&exe))),
            Err(why) => eprintln!("{baseline}: skipped: {why}"),
        }
    }
    for strategy in strategies() {
        let get = ["get".to_owned(), "--strategy".into(), strategy.to_string(), "--data".into()];
        programs.push((format!("kvbench {strategy}"), Program::new(&exe, get).through(&exe)));
    }
    let bar = progress_bar((programs.len() * args.keys.len()) as u64, "baselines");
    let mut results = ResultSet::new(kvbench_results::BASELINES_SOURCE);
    let (mut rows, mut failures) = (Vec::new(), Vec::new());
    for &keys in &args.keys {
        let dataset = Dataset::new(keys.0);
        let (data, _) = dataset
            .ensure(&args.data_dir, |_| {})
            .with_context(|| format!("cannot generate the dataset into {}", args.data_dir.display()))?;
        // Checking answers with mmap-index also leaves its sidecar, so `kvbench mmap-index` times a reopen.
        let reference = Reference::open(&data)?;
        let stream = Workload::UNIFORM.stream(&reference.keys, ANSWERS, 7);
        let mut answers = Vec::with_capacity(ANSWERS);
        for i in 0..stream.len() as u64 {
            let (key, _) = stream.get(i);
            if let Some(value) = reference.lookup.get(key)? {
                answers.push((key.to_vec(), value.to_vec()));
            }
        }
        let info = dataset_info(&dataset);
        for (label, program) in &programs {
            bar.set_message(format!("{label} on {}", info.label()));
            match measure(program, &data, &answers, &budget, || bar.tick()) {
                Ok(m) => {
                    rows.push(row(label, &info.label(), &m));
                    results.records.extend(records(label, &info, &m, &run_info));
                }
                Err(e) => failures.push(format!("{label} on {}: {e}", info.label())),
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let header = ["program", "keys", "per process", "CPU", "peak RSS", "per lookup", "batch"];
    println!("{}", human::table(&header, &rows));
    println!(
        "per process: one key, the whole process ({} runs after {} untimed: median [min–max]); \
         per lookup: (T(batch) − T(1 key)) / (batch − 1), {} runs",
        budget.runs, budget.warmup, budget.batch_runs
    );
    for failure in &failures {
        eprintln!("error: {failure}");
    }
    kvbench_results::io::write(&args.results, &results)?;
    eprintln!("wrote {} records to {}", results.records.len(), args.results.display());
    Ok(if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn spread(s: &Summary) -> String {
    format!("{} [{}–{}]", human::nanos(s.median), human::nanos(s.min), human::nanos(s.max))
}

fn row(label: &str, keys: &str, m: &Measurement) -> Vec<String> {
    vec![
        label.to_owned(),
        keys.to_owned(),
        spread(&m.process),
        human::nanos(m.cpu.median),
        human::bytes(m.peak_rss.median as u64),
        spread(&m.per_lookup),
        m.batch.to_string(),
    ]
}

/// Per-process time and peak RSS, and the steady-state time per lookup, each with its range.
fn records(label: &str, dataset: &kvbench_results::DatasetInfo, m: &Measurement, run: &RunInfo) -> Vec<Record> {
    [(Metric::ProcessTime, m.process), (Metric::ProcessPeakRss, m.peak_rss), (Metric::LookupMean, m.per_lookup)]
        .into_iter()
        .map(|(metric, s)| {
            Record::new(label, dataset, &Workload::UNIFORM.to_string(), metric, s.median, run).with_spread(
                s.min,
                s.max,
                SpreadKind::MinMax,
            )
        })
        .collect()
}
