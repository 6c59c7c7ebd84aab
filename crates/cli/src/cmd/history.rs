//! `kvbench history`: the history of main (a results file per run of the CI
//! bench set) and the steps and drift the detector finds in it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use kvbench_results::changepoint::Settings;
use kvbench_results::history::{self, DRIFT_WINDOW, Findings};
use kvbench_results::units::{bytes, nanos};
use kvbench_results::{Metric, Unit};

use crate::human;

/// The `history` subcommands.
#[derive(Subcommand, Debug)]
pub enum History {
    /// Add one run (a results file, or a folder of them from one commit) to the history.
    Add(AddArgs),
    /// The steps (E-divisive, each at the commit that introduced it) and the drift over the
    /// last runs of every figure in the history.
    Report(ReportArgs),
}

/// Options of `kvbench history add`.
#[derive(Args, Debug)]
pub struct AddArgs {
    /// The run's results: a file, or a folder of results files (e.g. results/current).
    #[arg(value_name = "RESULTS")]
    results: PathBuf,
    /// The history folder (a worktree of the `bench-history` branch).
    #[arg(long, value_name = "DIR", default_value = "history")]
    history: PathBuf,
}

/// Options of `kvbench history report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The history folder.
    #[arg(long, value_name = "DIR", default_value = "history")]
    history: PathBuf,
}

/// Runs `kvbench history …`.
pub fn run(command: &History) -> anyhow::Result<ExitCode> {
    match command {
        History::Add(args) => {
            let sets = kvbench_results::io::read_all(&args.results)?;
            let path = history::add(&args.history, &sets)
                .with_context(|| format!("cannot add {} to the history", args.results.display()))?;
            eprintln!("added {}", path.display());
        }
        History::Report(args) => {
            let runs = history::load(&args.history)?;
            anyhow::ensure!(
                !runs.is_empty(),
                "no runs in {}: add some with `kvbench history add`",
                args.history.display()
            );
            let series = history::series(&runs);
            let found = history::analyze(&series, &Settings::default());
            println!("{} runs, {} figures; {} with a step or a drift", runs.len(), series.len(), found.len());
            print(&found);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The findings as a table: one row per step and per drift.
fn print(found: &[Findings]) {
    let value = |metric: Metric, v: f64| match metric.unit() {
        Unit::Ns => nanos(v),
        Unit::Bytes => bytes(v),
        _ => format!("{v:.1}"),
    };
    let mut rows = Vec::new();
    for f in found {
        let what = format!("{} {} {} {}", f.key.strategy, f.key.dataset, f.key.workload, f.key.metric.name());
        for s in &f.steps {
            rows.push(vec![
                what.clone(),
                format!("step at {} (after {})", short(&s.commit), short(&s.previous)),
                format!("{} -> {}", value(f.key.metric, s.change.before), value(f.key.metric, s.change.after)),
                format!("{:+.1}%", s.change.relative() * 100.0),
                format!("{:.1}%", s.change.confidence() * 100.0),
            ]);
        }
        if let Some(d) = f.drift {
            rows.push(vec![
                what.clone(),
                format!("drift over the last {DRIFT_WINDOW} runs"),
                format!("{} per run", value(f.key.metric, d.slope)),
                format!("{:+.1}%", d.relative * 100.0),
                format!("{:.1}%", (1.0 - d.p_value) * 100.0),
            ]);
        }
    }
    println!("{}", human::table(&["figure", "what", "level", "change", "confidence"], &rows));
}

/// A commit as tables show it.
fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
