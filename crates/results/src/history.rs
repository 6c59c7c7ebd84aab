//! The history of main: one results file per run of the CI bench set, and
//! each figure's series over those runs with its steps and drift
//! ([`crate::changepoint`]).
//!
//! **Where it lives.** A history folder holds one file per run, named
//! `<timestamp>-<commit>.json` so that names sort in time, each an ordinary
//! [`ResultSet`] (latency histograms dropped: a trend needs the figure, not
//! its distribution). The folder is meant to be a worktree of a branch of its
//! own (`bench-history`): the history stays with the repository and grows
//! with every push, without a clone of `main` carrying it.

use std::path::{Path, PathBuf};

use crate::changepoint::{self, ChangePoint, Drift, Settings};
use crate::schema::{Metric, Record, ResultSet};

/// Source of the result sets the history stores.
pub const SOURCE: &str = "kvbench history";

/// Runs at the end of a series that the drift check looks at.
pub const DRIFT_WINDOW: usize = 10;

/// Why the history could not be read or added to.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// A results file could not be read or written.
    #[error(transparent)]
    Results(#[from] crate::io::ResultsError),
    /// Nothing to add.
    #[error("no records to add to the history")]
    Empty,
    /// The records came from more than one commit: a run is one commit's.
    #[error("the records come from several commits ({0}): add one run at a time")]
    SeveralCommits(String),
    /// This run is in the history already.
    #[error("{} is in the history already", .0.display())]
    Exists(PathBuf),
}

/// Adds one run (the records of `sets`, all from one commit) to the history in
/// `dir` (created if needed), named by when it ended; returns the file written.
pub fn add(dir: &Path, sets: &[ResultSet]) -> Result<PathBuf, HistoryError> {
    add_at(dir, sets, None)
}

/// [`add`], named by `commit_time` (the commit's date, RFC 3339) when given: a
/// backfill measures old commits now, and the history must keep them in
/// commit order, not in the order they were measured.
pub fn add_at(dir: &Path, sets: &[ResultSet], commit_time: Option<&str>) -> Result<PathBuf, HistoryError> {
    let mut run = ResultSet::new(SOURCE);
    run.records =
        sets.iter().flat_map(|s| s.records.iter().cloned()).map(|r| Record { histogram: None, ..r }).collect();
    let first = run.records.first().ok_or(HistoryError::Empty)?;
    let commit = first.run.commit.clone().unwrap_or_else(|| "unknown".into());
    let mut commits: Vec<String> =
        run.records.iter().map(|r| r.run.commit.clone().unwrap_or_else(|| "unknown".into())).collect();
    commits.sort();
    commits.dedup();
    if commits.len() > 1 {
        return Err(HistoryError::SeveralCommits(commits.join(", ")));
    }
    // The commit's time, or the latest timestamp of the run: when it ended.
    let ended = run.records.iter().map(|r| r.run.timestamp.as_str()).max().unwrap_or("unknown");
    let stamp = commit_time.unwrap_or(ended).replace(':', "");
    let path = dir.join(format!("{stamp}-{}.json", commit.get(..12).unwrap_or(&commit)));
    if path.exists() {
        return Err(HistoryError::Exists(path));
    }
    crate::io::write(&path, &run)?;
    Ok(path)
}

/// The runs of the history in `dir`, oldest first.
pub fn load(dir: &Path) -> Result<Vec<ResultSet>, HistoryError> {
    // File names sort in time; `read_all` reads a folder's files in name order.
    Ok(crate::io::read_all(dir)?)
}

/// What one series follows: a metric of a case on a dataset and workload.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeriesKey {
    /// The metric.
    pub metric: Metric,
    /// The case (strategy label).
    pub strategy: String,
    /// The dataset's label (`10k`).
    pub dataset: String,
    /// The workload.
    pub workload: String,
}

/// One point of a series: a run's value and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The commit the run measured.
    pub commit: String,
    /// When the run ended.
    pub timestamp: String,
    /// The value.
    pub value: f64,
}

/// A figure over the runs of the history, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// What it follows.
    pub key: SeriesKey,
    /// Its values, one per run that measured it.
    pub points: Vec<Point>,
}

/// Every figure's series over `runs` (oldest first), by key; load runs and
/// memory-limited figures are left out.
pub fn series(runs: &[ResultSet]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for run in runs {
        for r in run.records.iter().filter(|r| r.load.is_none() && r.memory_limit.is_none()) {
            let key = SeriesKey {
                metric: r.metric,
                strategy: r.strategy.clone(),
                dataset: r.dataset.label(),
                workload: r.workload.clone(),
            };
            let point = Point {
                commit: r.run.commit.clone().unwrap_or_else(|| "unknown".into()),
                timestamp: r.run.timestamp.clone(),
                value: r.value,
            };
            match out.iter_mut().find(|s| s.key == key) {
                Some(s) => s.points.push(point),
                None => out.push(Series { key, points: vec![point] }),
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// A step of a series, placed at the commit that introduced it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The first commit measured at the new level.
    pub commit: String,
    /// The commit measured just before it.
    pub previous: String,
    /// The step as found.
    pub change: ChangePoint,
}

/// What the detector found in one series.
#[derive(Clone, Debug, PartialEq)]
pub struct Findings {
    /// The series.
    pub key: SeriesKey,
    /// Its steps, oldest first.
    pub steps: Vec<Step>,
    /// Its trend over the last [`DRIFT_WINDOW`] runs, when significant at the detector's level.
    pub drift: Option<Drift>,
}

/// The steps and drift of every series that has any.
pub fn analyze(series: &[Series], settings: &Settings) -> Vec<Findings> {
    series
        .iter()
        .filter_map(|s| {
            let values: Vec<f64> = s.points.iter().map(|p| p.value).collect();
            let steps: Vec<Step> = changepoint::change_points(&values, settings)
                .into_iter()
                .filter_map(|change| {
                    let at = s.points.get(change.index)?;
                    let before = s.points.get(change.index.checked_sub(1)?)?;
                    Some(Step { commit: at.commit.clone(), previous: before.commit.clone(), change })
                })
                .collect();
            let window = values.get(values.len().saturating_sub(DRIFT_WINDOW)..).unwrap_or_default();
            let drift = changepoint::drift(window).filter(|d| d.p_value <= settings.significance);
            (!steps.is_empty() || drift.is_some()).then(|| Findings { key: s.key.clone(), steps, drift })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DatasetInfo, RunInfo};

    fn run(commit: &str, minute: u32, values: &[(&str, f64)]) -> ResultSet {
        let info = RunInfo {
            cpu: "Test CPU".into(),
            cores: 2,
            os: "linux".into(),
            toolchain: "rustc".into(),
            commit: Some(commit.into()),
            timestamp: format!("2026-11-30T10:{minute:02}:00Z"),
            quick: false,
        };
        let mut set = ResultSet::new("kvbench suite");
        let dataset = DatasetInfo::generated(10_000, crate::DEFAULT_VALUE_LEN);
        for (strategy, v) in values {
            set.records.push(Record::new(strategy, &dataset, "uniform", Metric::Instructions, *v, &info));
        }
        set
    }

    #[test]
    fn runs_are_added_once_in_time_order_and_a_step_is_placed_at_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        // mmap-index steps from 566.5 to 582.5 instructions at commit c08; hashmap never moves.
        for i in 0..16u32 {
            let mmap = if i < 8 { 566.5 } else { 582.5 };
            let written = add(dir.path(), &[run(&format!("c{i:02}"), i, &[("mmap-index", mmap), ("hashmap", 401.0)])]);
            assert!(written.is_ok(), "{written:?}");
        }
        let again = add(dir.path(), &[run("c03", 3, &[("hashmap", 1.0)])]);
        assert!(matches!(again, Err(HistoryError::Exists(_))), "{again:?}");
        let mixed = add(dir.path(), &[run("a", 50, &[("hashmap", 1.0)]), run("b", 50, &[("hashmap", 1.0)])]);
        assert!(matches!(mixed, Err(HistoryError::SeveralCommits(_))), "{mixed:?}");
        assert!(matches!(add(dir.path(), &[]), Err(HistoryError::Empty)));
        // A backfilled run is named by its commit's date, so it sorts among the others in commit order.
        let old = tempfile::tempdir().unwrap();
        let named = add_at(old.path(), &[run("c99", 59, &[("hashmap", 1.0)])], Some("2026-11-01T09:00:00+00:00"));
        assert!(named.unwrap().ends_with("2026-11-01T090000+0000-c99.json"));

        let runs = load(dir.path()).unwrap();
        assert_eq!(runs.len(), 16);
        let all = series(&runs);
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|s| s.points.windows(2).all(|w| w[0].timestamp < w[1].timestamp)), "oldest first");
        let found = analyze(&all, &Settings::default());
        assert_eq!(found.len(), 1, "hashmap did not move: {found:?}");
        assert_eq!(found[0].key.strategy, "mmap-index");
        assert_eq!(found[0].steps.len(), 1);
        let step = &found[0].steps[0];
        assert_eq!((step.commit.as_str(), step.previous.as_str()), ("c08", "c07"));
        assert!((step.change.relative() - 16.0 / 566.5).abs() < 1e-9, "{step:?}");
        assert_eq!(found[0].drift, None, "one step is not a drift over the last 10 runs once it is behind them");
    }
}
