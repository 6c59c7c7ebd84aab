//! `kvbench bench baselines`: the original study's programs (bash, Python)
//! beside `kvbench get` for each strategy, timed as whole processes and per
//! lookup in steady state, every answer checked; results in the one schema.
//! The run is `kvbench_baselines::bench`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kvbench_baselines::bench::{BaselineRow, BaselinesOptions};
use kvbench_baselines::measure::{RunBudget, RunStats};
use kvbench_workload::Dataset;

use crate::data_args::DataArgs;
use crate::human;
use crate::output::Bar;

/// Options of `kvbench bench baselines`.
#[derive(Args, Debug)]
pub struct BaselinesArgs {
    /// Folder for generated datasets (created if needed; reused across runs).
    #[arg(long, value_name = "DIR", default_value = "data")]
    data_dir: PathBuf,
    #[command(flatten)]
    datasets: DataArgs,
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

/// Runs `kvbench bench baselines`.
pub fn run(args: &BaselinesArgs) -> anyhow::Result<ExitCode> {
    let budget = if args.quick { RunBudget::quick() } else { RunBudget { runs: args.runs, ..RunBudget::default() } };
    let options = BaselinesOptions {
        kvbench: std::env::current_exe().context("cannot find the kvbench executable to time `kvbench get` with")?,
        data_dir: args.data_dir.clone(),
        datasets: args.datasets.generated(&[10_000, 1_000_000]).iter().map(|keys| Dataset::new(keys.0)).collect(),
        files: args.datasets.files()?,
        lenient: args.datasets.lenient,
        budget,
        quick: args.quick,
    };
    let outcome = kvbench_baselines::bench::run(&options, &mut Bar::new("baselines"))?;
    let header = ["program", "keys", "per process", "CPU", "peak RSS", "per lookup", "batch"];
    let rows: Vec<Vec<String>> = outcome.rows.iter().map(row).collect();
    println!("{}", human::table(&header, &rows));
    println!(
        "per process: one key, the whole process ({} runs after {} untimed: median [min–max]); \
         per lookup: (T(batch) − T(1 key)) / (batch − 1), {} runs",
        budget.runs, budget.warmup, budget.batch_runs
    );
    for failure in &outcome.failures {
        eprintln!("error: {failure}");
    }
    kvbench_results::io::write(&args.results, &outcome.results)?;
    eprintln!("wrote {} records to {}", outcome.results.records.len(), args.results.display());
    Ok(if outcome.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn spread(s: &RunStats) -> String {
    format!("{} [{}–{}]", human::nanos(s.median), human::nanos(s.min), human::nanos(s.max))
}

fn row(row: &BaselineRow) -> Vec<String> {
    let m = &row.measurement;
    vec![
        row.program.clone(),
        row.dataset.label(),
        spread(&m.process),
        human::nanos(m.cpu.median),
        human::bytes(m.peak_rss.median as u64),
        spread(&m.per_lookup),
        m.batch.to_string(),
    ]
}
