//! `kvbench compare BEFORE AFTER`: the regression gate's judgement; `kvbench
//! merge`: several runs of the same code pooled into one result set (each
//! side of the gate's A/B run, or a blessed run to keep).
//!
//! Exit status: 0 when nothing regressed (noise and improvements pass), 1 on
//! a real regression, 2 when a results file cannot be read.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kvbench_results::compare::{Comparison, Thresholds, Verdict, compare, merge_runs};
use kvbench_results::table::{self, Table};
use kvbench_results::{ResultSet, io};

use crate::human;
use crate::output::{self, Format, say};

/// Options of `kvbench compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The results before the change: a file, or a folder of them (every
    /// `*.json`) whose subfolders hold further runs (the gate's `before/1/`, `before/2/`, …).
    #[arg(value_name = "BEFORE")]
    before: PathBuf,
    /// The results after the change, likewise.
    #[arg(value_name = "AFTER")]
    after: PathBuf,
    /// How much worse a wall-clock figure (mean, p50, p90, open time,
    /// throughput, CPU) must be, in percent, in its best and its median run.
    #[arg(long, value_name = "PCT", default_value_t = 15.0)]
    threshold: f64,
    /// The same for tail latencies (p99, p99.9), which move most between runs.
    #[arg(long, value_name = "PCT", default_value_t = 50.0)]
    tail_threshold: f64,
    /// The threshold for counts that barely move between runs (instructions,
    /// memory, hit rates, errors), in percent.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    deterministic_threshold: f64,
    /// The clock's tick in ns: percentiles of lookups timed alone must move by two ticks to count.
    #[arg(long, value_name = "NS", default_value_t = 10.0)]
    clock_tick: f64,
    /// Also write the comparison as Markdown (for a pull-request comment) to FILE.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// List unchanged measurements too.
    #[arg(long)]
    all: bool,
    /// How to print the comparison: a text table, JSON (`{summary, regressions, changes}`), CSV or Markdown.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs `kvbench compare`.
pub fn run(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let before = io::read_runs(&args.before).context("cannot read results")?;
    let after = io::read_runs(&args.after).context("cannot read results")?;
    let thresholds = Thresholds {
        wall_clock: args.threshold / 100.0,
        tail: args.tail_threshold / 100.0,
        deterministic: args.deterministic_threshold / 100.0,
        clock_tick_ns: args.clock_tick,
        ..Thresholds::default()
    };
    let comparison: Comparison = compare(&before, &after, &thresholds);
    let rows = comparison.rows(args.all);
    match output::table_format(args.format) {
        None => {
            let changes: Vec<_> =
                comparison.changes.iter().filter(|c| args.all || c.verdict != Verdict::Unchanged).collect();
            let json = serde_json::json!({
                "summary": comparison.summary(),
                "regressions": comparison.regressions(),
                "changes": changes,
                "notes": comparison.notes(),
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Some(table::Format::Text) => print_text(args, &comparison, &rows),
        Some(format) => print!("{}", Table::of(&Comparison::HEADER, &rows).render(format)),
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, comparison.markdown(args.all))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if comparison.regressions() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The comparison for people: its table, its summary and notes.
fn print_text(args: &CompareArgs, comparison: &Comparison, rows: &[Vec<String>]) {
    if !rows.is_empty() {
        println!("{}", human::table(&Comparison::HEADER, rows));
    }
    println!(
        "{} (thresholds: wall clock {}%, tails {}%, of the best and the median run alike; counts {}%)",
        comparison.summary(),
        args.threshold,
        args.tail_threshold,
        args.deterministic_threshold
    );
    for note in comparison.notes() {
        println!("note: {note}");
    }
}

/// Options of `kvbench merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Runs of the same code on one machine, each a fresh process: each a results file or folder.
    #[arg(required = true, num_args = 2.., value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// Where to write the merged run.
    #[arg(long, value_name = "FILE")]
    results: PathBuf,
}

/// Runs `kvbench merge`: several runs into one result set whose spreads cover them all.
pub fn merge(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let runs = args.runs.iter().map(|run| io::read_records(run)).collect::<Result<Vec<_>, _>>();
    let runs = runs.context("cannot read results")?;
    let mut set = ResultSet::new(&format!("kvbench merge of {} runs", runs.len()));
    set.records = merge_runs(&runs)?;
    io::write(&args.results, &set).with_context(|| format!("cannot write {}", args.results.display()))?;
    say(format_args!("merged {} runs into {} records in {}", runs.len(), set.records.len(), args.results.display()));
    Ok(ExitCode::SUCCESS)
}
