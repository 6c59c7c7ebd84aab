//! `kvbench history`: the history of main (a results file per run of the CI
//! bench set), the steps, drift and gate verdicts found in it, the CI bench set
//! itself (`run`, which the CI job on main and `backfill` share), and a
//! change's figures placed against the recent runs (`compare`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::Context;
use clap::{Args, Subcommand};
use kvbench_report::trend;
use kvbench_results::changepoint::Settings;
use kvbench_results::compare::Thresholds;
use kvbench_results::history;
use kvbench_results::recent::{self, AgainstRecent};

use crate::human;

/// The `history` subcommands.
#[derive(Subcommand, Debug)]
pub enum History {
    /// Add one run (a results file, or a folder of them from one commit) to the history.
    Add(AddArgs),
    /// The steps (E-divisive, each at the commit that introduced it), the drift over the last
    /// runs and the gate's verdicts (each run against the one before) of every figure in the history.
    Report(ReportArgs),
    /// Run the CI bench set on this checkout (suite on 10K keys, instruction counts) into a folder,
    /// as CI does on every push to main before `history add`.
    Run(RunArgs),
    /// Place a change's figures (e.g. the gate's results/current/after) against the last runs of
    /// main in the history: within their range, beyond it by how much, drifting with it.
    Compare(CompareArgs),
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
    /// Name the run by this time (RFC 3339, e.g. the commit's `git log -1 --format=%cI`) instead of
    /// when it ended, so runs sort in commit order whenever they were measured.
    #[arg(long, value_name = "TIME")]
    date: Option<String>,
}

/// Options of `kvbench history report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The history folder.
    #[arg(long, value_name = "DIR", default_value = "history")]
    history: PathBuf,
    /// Also draw the trend charts (one per metric family: spreads, steps and the gate's verdicts
    /// marked) and the findings as README.md and index.html into this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Options of `kvbench history run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Where the run's results go (emptied first): suite.json and instructions.json.
    #[arg(long, value_name = "DIR", default_value = "results/current")]
    out: PathBuf,
    /// Where the suite's dataset is generated (or found).
    #[arg(long, value_name = "DIR", default_value = "data")]
    data_dir: PathBuf,
}

/// Options of `kvbench history compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The change's results: a file, or a folder of runs as `kvbench compare` reads it (the gate's
    /// results/current/after).
    #[arg(value_name = "RESULTS")]
    results: PathBuf,
    /// The history folder.
    #[arg(long, value_name = "DIR", default_value = "history")]
    history: PathBuf,
    /// Also write the placement as Markdown (for the pull request's summary) to FILE.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// List the figures within their range too.
    #[arg(long)]
    all: bool,
}

/// Runs `kvbench history …`.
pub fn run(command: &History) -> anyhow::Result<ExitCode> {
    match command {
        History::Add(args) => {
            let sets = kvbench_results::io::read_all(&args.results)?;
            let path = history::add_at(&args.history, &sets, args.date.as_deref())
                .with_context(|| format!("cannot add {} to the history", args.results.display()))?;
            crate::output::say(format_args!("added {}", path.display()));
        }
        History::Backfill(args) => return backfill(args),
        History::Run(args) => {
            let target = target_dir()?;
            let kvbench = std::env::current_exe().context("cannot find this kvbench's executable")?;
            measure_tree(Path::new("."), &kvbench, &target, &args.data_dir, &args.out)?;
            crate::output::say(format_args!("the CI bench set's results are in {}", args.out.display()));
        }
        History::Compare(args) => {
            let runs = history::load(&args.history)?;
            let change = kvbench_results::io::read_runs(&args.results).context("cannot read results")?;
            let placed = recent::against_recent(&runs, &change, &Settings::default(), &Thresholds::default())
                .with_context(|| {
                    format!("cannot place {} against {}", args.results.display(), args.history.display())
                })?;
            let rows = placed.rows(args.all);
            if !rows.is_empty() {
                println!("{}", human::table(&AgainstRecent::HEADER, &rows));
            }
            println!("{}", placed.summary());
            if let Some(path) = &args.markdown {
                std::fs::write(path, placed.markdown(args.all))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
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
            let marks = history::gate_marks(&runs, &Thresholds::default());
            println!("{}", trend::summary(runs.len(), &series, &found));
            println!("{}", human::table(&trend::FINDINGS_HEADER, &trend::findings_rows(&found)));
            if !marks.is_empty() {
                println!("the gate's verdicts, each run against the run before it:");
                println!("{}", human::table(&trend::GATE_HEADER, &trend::gate_rows(&marks)));
            }
            if let Some(out) = &args.out {
                let source = args.history.display().to_string();
                let written = trend::write_report(&source, runs.len(), &series, &found, &marks, out)?;
                crate::output::say(format_args!("wrote {} files into {}", written.len(), out.display()));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The target directory cargo builds this workspace into (`cargo metadata`).
fn target_dir() -> anyhow::Result<PathBuf> {
    let metadata = output(Command::new("cargo").args(["metadata", "--format-version", "1", "--no-deps"]))?;
    let json: serde_json::Value = serde_json::from_str(&metadata).context("cannot read cargo metadata")?;
    let dir =
        json.get("target_directory").and_then(|d| d.as_str()).context("cargo metadata names no target directory")?;
    Ok(PathBuf::from(dir))
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
            crate::output::say(format_args!("[{}/{}] {short}: in the history already", i + 1, commits.len()));
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
            Ok(path) => crate::output::say(format_args!(
                "[{}/{}] {short}: added {} ({})",
                i + 1,
                commits.len(),
                path.display(),
                human::nanos(started.elapsed().as_nanos() as f64)
            )),
            Err(e) => {
                crate::output::say(format_args!("[{}/{}] {short}: skipped: {e:#}", i + 1, commits.len()));
                failed.push(short.to_owned());
            }
        }
    }
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    crate::output::say(format_args!("{} commits not measured: {}", failed.len(), failed.join(", ")));
    Ok(ExitCode::from(1))
}

/// Checks `commit` out into `tree`, builds its kvbench and runs the CI bench set there with it
/// ([`measure_tree`]) into `out`: an old commit is measured by its own code.
fn measure_commit(commit: &str, tree: &Path, target: &Path, data: &Path, out: &Path) -> anyhow::Result<()> {
    let _ = Command::new("git").args(["worktree", "remove", "--force"]).arg(tree).stderr(Stdio::null()).status();
    output(Command::new("git").args(["worktree", "add", "--detach"]).arg(tree).arg(commit))?;
    output(Command::new("cargo").current_dir(tree).env("CARGO_TARGET_DIR", target).args([
        "build",
        "--release",
        "--locked",
        "--quiet",
        "-p",
        "kvbench",
    ]))?;
    measure_tree(tree, &target.join("release").join("kvbench"), target, data, out)
}

/// The CI bench set, run in the source tree `tree` with the kvbench binary `kvbench` (built from
/// it) and the build folder `target`: the suite on 10K keys (dataset in `data`) and the
/// instruction counts (`cargo bench --bench instructions`, imported), into `out` (emptied first).
fn measure_tree(tree: &Path, kvbench: &Path, target: &Path, data: &Path, out: &Path) -> anyhow::Result<()> {
    let in_tree = |program: &Path| {
        let mut command = Command::new(program);
        command.current_dir(tree).env("CARGO_TARGET_DIR", target);
        command
    };
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    // Paths the commands get are absolute: they run in `tree`.
    let (data, out) = (std::path::absolute(data)?, std::path::absolute(out)?);
    // Every case the same runs, as the history has always measured: `--full`
    // since the suite stops early by default; older binaries have no such flag and need none.
    let help = output(in_tree(kvbench).args(["suite", "--help"]))?;
    let full: &[&str] = if help.contains("--full") { &["--full"] } else { &[] };
    output(
        in_tree(kvbench)
            .args(["suite", "--keys", "10k", "--workloads", "uniform;miss", "--no-report", "--data-dir"])
            .arg(&data)
            .arg("--results")
            .arg(out.join("suite.json"))
            .args(full),
    )?;
    let _ = std::fs::remove_dir_all(target.join("gungraun"));
    output(in_tree(Path::new("cargo")).args([
        "bench",
        "--quiet",
        "--locked",
        "--bench",
        "instructions",
        "--",
        "--save-summary=json",
    ]))?;
    output(
        in_tree(kvbench)
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
