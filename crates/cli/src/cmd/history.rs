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
    /// Also draw the trend charts (one per metric family, steps marked) and a README.md into this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
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
            let summary =
                format!("{} runs, {} figures; {} with a step or a drift", runs.len(), series.len(), found.len());
            println!("{summary}");
            println!("{}", human::table(&HEADER, &rows(&found)));
            if let Some(out) = &args.out {
                let charts = kvbench_report::trend::draw_all(&series, &found, out)?;
                let mut text = format!(
                    "# The history of main\n\nDrawn by `kvbench history report` from {}. {summary}. Steps: \
                     E-divisive means with a permutation test (significance 0.01), each at the first commit measured \
                     at the new level; drift: Mann-Kendall over the last {DRIFT_WINDOW} runs.\n\n",
                    args.history.display()
                );
                text.push_str(&kvbench_results::markdown::table(&HEADER, &rows(&found)));
                for chart in charts.iter().filter(|c| c.extension().is_some_and(|e| e == "png")) {
                    let name = chart.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    text.push_str(&format!("\n![{name}]({name})\n"));
                }
                let readme = out.join("README.md");
                std::fs::write(&readme, text).with_context(|| format!("cannot write {}", readme.display()))?;
                eprintln!("wrote {} charts and {}", charts.len(), readme.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The columns of the findings table.
const HEADER: [&str; 5] = ["figure", "what", "level", "change", "confidence"];

/// The findings as table rows: one per step and per drift.
fn rows(found: &[Findings]) -> Vec<Vec<String>> {
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
    rows
}

/// A commit as tables show it.
fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
