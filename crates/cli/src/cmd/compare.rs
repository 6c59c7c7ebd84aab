//! `kvbench compare BEFORE AFTER`: the regression gate for CI; `kvbench
//! merge`: several runs of the same code into one blessed run it compares with.
//!
//! Exit status: 0 when nothing regressed (noise and improvements pass), 1 on
//! a real regression, 2 when a results file cannot be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kvbench_results::compare::{Comparison, Thresholds, compare, merge_runs};
use kvbench_results::{Record, ResultSet, io};

use crate::human;

/// Options of `kvbench compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The results before the change (for CI, the blessed run in results/gate/): a file, or a folder of them (every `*.json`).
    #[arg(value_name = "BEFORE")]
    before: PathBuf,
    /// The results after the change, likewise.
    #[arg(value_name = "AFTER")]
    after: PathBuf,
    /// How much worse a wall-clock metric (time, latency, throughput, CPU)
    /// must be, in percent, before its spreads are even looked at.
    #[arg(long, value_name = "PCT", default_value_t = 15.0)]
    threshold: f64,
    /// The threshold for counts that barely move between runs (instructions,
    /// memory, hit rates, errors), in percent.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    deterministic_threshold: f64,
    /// Also write the comparison as Markdown (for a pull-request comment) to FILE.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// List unchanged measurements too.
    #[arg(long)]
    all: bool,
}

/// Runs `kvbench compare`.
pub fn run(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let (before, after) = (read(&args.before)?, read(&args.after)?);
    let thresholds = Thresholds {
        wall_clock: args.threshold / 100.0,
        deterministic: args.deterministic_threshold / 100.0,
        ..Thresholds::default()
    };
    let comparison: Comparison = compare(&before, &after, &thresholds);
    let rows = comparison.rows(args.all);
    if !rows.is_empty() {
        println!("{}", human::table(&Comparison::HEADER, &rows));
    }
    println!(
        "{} (thresholds: wall clock {}% with non-overlapping spreads, counts {}%)",
        comparison.summary(),
        args.threshold,
        args.deterministic_threshold
    );
    if let Some(path) = &args.markdown {
        std::fs::write(path, comparison.markdown(args.all))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if comparison.regressions() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Options of `kvbench merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Runs of the same code: each a results file or folder.
    #[arg(required = true, num_args = 2.., value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// Where to write the merged (blessed) run.
    #[arg(long, value_name = "FILE")]
    results: PathBuf,
}

/// Runs `kvbench merge`: several runs into one blessed run whose spreads cover them all.
pub fn merge(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let runs = args.runs.iter().map(|run| read(run)).collect::<anyhow::Result<Vec<_>>>()?;
    let mut set = ResultSet::new(&format!("kvbench merge of {} runs", runs.len()));
    set.records = merge_runs(&runs);
    io::write(&args.results, &set).with_context(|| format!("cannot write {}", args.results.display()))?;
    eprintln!("merged {} runs into {} records in {}", runs.len(), set.records.len(), args.results.display());
    Ok(ExitCode::SUCCESS)
}

/// Every record of the results file or folder at `path`.
fn read(path: &Path) -> anyhow::Result<Vec<Record>> {
    let sets = io::read_all(path).context("cannot read results")?;
    Ok(sets.into_iter().flat_map(|s| s.records).collect())
}
