//! `kvbench history`: the history of main (a results file per run of the CI
//! bench set) and the steps and drift the detector finds in it.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

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
    /// Start a history for an existing project: build each commit of a range in a worktree,
    /// run the CI bench set on it (suite on 10K keys, instruction counts) and add the run.
    Backfill(BackfillArgs),
}

/// Options of `kvbench history backfill`.
#[derive(Args, Debug)]
pub struct BackfillArgs {
    /// The commits, as `git rev-list` takes them, e.g. `HEAD~12..HEAD`; measured oldest first,
    /// each skipped if the history has it already.
    #[arg(long, value_name = "RANGE")]
    commits: String,
    /// The history folder.
    #[arg(long, value_name = "DIR", default_value = "history")]
    history: PathBuf,
    /// Where the worktree, the build folder (shared by every commit, so each build reuses what
    /// it can) and the runs go.
    #[arg(long, value_name = "DIR", default_value = "target/history-backfill")]
    work: PathBuf,
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
        History::Backfill(args) => return backfill(args),
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

/// Runs `kvbench history backfill`: every commit of the range in turn; a
/// commit that fails to build or measure is reported and skipped.
fn backfill(args: &BackfillArgs) -> anyhow::Result<ExitCode> {
    let listed = output(Command::new("git").args(["rev-list", "--reverse", &args.commits]))?;
    let commits: Vec<&str> = listed.lines().filter(|l| !l.is_empty()).collect();
    anyhow::ensure!(!commits.is_empty(), "{} names no commit", args.commits);
    std::fs::create_dir_all(&args.work).with_context(|| format!("cannot create {}", args.work.display()))?;
    let work = std::fs::canonicalize(&args.work)?;
    let (tree, target, data) = (work.join("tree"), work.join("target"), work.join("data"));
    let have: Vec<String> = std::fs::read_dir(&args.history)
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    let mut failed = Vec::new();
    for (i, commit) in commits.iter().enumerate() {
        let short = commit.get(..12).unwrap_or(commit);
        if have.iter().any(|name| name.contains(short)) {
            eprintln!("[{}/{}] {short}: in the history already", i + 1, commits.len());
            continue;
        }
        let started = std::time::Instant::now();
        let out = work.join("runs").join(short);
        let measured = measure_commit(commit, &tree, &target, &data, &out).and_then(|()| {
            // Named by the commit's date, so that the history reads in commit order.
            let date = output(Command::new("git").args(["log", "-1", "--format=%cI", commit]))?;
            let sets = kvbench_results::io::read_all(&out)?;
            Ok(history::add_at(&args.history, &sets, Some(date.trim()))?)
        });
        // The worktree goes whatever happened; the build folder stays for the next commit.
        let _ = Command::new("git").args(["worktree", "remove", "--force"]).arg(&tree).stderr(Stdio::null()).status();
        match measured {
            Ok(path) => eprintln!(
                "[{}/{}] {short}: added {} ({})",
                i + 1,
                commits.len(),
                path.display(),
                human::nanos(started.elapsed().as_nanos() as f64)
            ),
            Err(e) => {
                eprintln!("[{}/{}] {short}: skipped: {e:#}", i + 1, commits.len());
                failed.push(short.to_owned());
            }
        }
    }
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{} commits not measured: {}", failed.len(), failed.join(", "));
    Ok(ExitCode::from(1))
}

/// Checks `commit` out into `tree` and runs the CI bench set there (as its own `just
/// ci-bench-run` does): the suite on 10K keys and the instruction counts, into `out`.
fn measure_commit(commit: &str, tree: &Path, target: &Path, data: &Path, out: &Path) -> anyhow::Result<()> {
    let _ = Command::new("git").args(["worktree", "remove", "--force"]).arg(tree).stderr(Stdio::null()).status();
    output(Command::new("git").args(["worktree", "add", "--detach"]).arg(tree).arg(commit))?;
    let in_tree = |program: &str| {
        let mut command = Command::new(program);
        command.current_dir(tree).env("CARGO_TARGET_DIR", target);
        command
    };
    output(in_tree("cargo").args(["build", "--release", "--locked", "--quiet", "-p", "kvbench"]))?;
    let kvbench = target.join("release").join("kvbench");
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out)?;
    let suite = out.join("suite.json");
    output(
        in_tree(&kvbench.to_string_lossy())
            .args(["suite", "--keys", "10k", "--workloads", "uniform;miss", "--no-report", "--data-dir"])
            .arg(data)
            .arg("--results")
            .arg(&suite),
    )?;
    let _ = std::fs::remove_dir_all(target.join("gungraun"));
    output(in_tree("cargo").args([
        "bench",
        "--quiet",
        "--locked",
        "--bench",
        "instructions",
        "--",
        "--save-summary=json",
    ]))?;
    output(
        in_tree(&kvbench.to_string_lossy())
            .args(["import", "--from", "gungraun"])
            .arg(target.join("gungraun"))
            .arg("--results")
            .arg(out.join("instructions.json")),
    )?;
    Ok(())
}

/// Runs `command` to the end; its stdout, or an error with the tail of what it said.
fn output(command: &mut Command) -> anyhow::Result<String> {
    let shown = format!("{command:?}");
    let out = command.stdin(Stdio::null()).output().with_context(|| format!("cannot run {shown}"))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = said.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        anyhow::bail!("{shown} failed ({}): {}", out.status, tail.join(" | "));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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
