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
//!
//! **The gate's verdicts on the history** ([`gate_marks`]) are computed, not
//! stored: see there why.

use std::path::{Path, PathBuf};

use crate::changepoint::{self, ChangePoint, Drift, Settings};
use crate::compare::{self, Thresholds, Verdict};
use crate::names::CaseId;
use crate::schema::{Metric, Record, ResultSet, Spread};
use crate::workload::Workload;

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
    /// The history holds no runs to compare with.
    #[error("the history holds no runs: add some with `kvbench history add`")]
    NoRuns,
    /// The runs of the change to place could not be merged.
    #[error("the change's runs: {0}")]
    Candidate(#[from] crate::compare::MergeError),
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
    let commit = commit_of(first);
    let mut commits: Vec<String> = run.records.iter().map(commit_of).collect();
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
    /// The case.
    pub case: CaseId,
    /// The dataset's label (`10k`).
    pub dataset: String,
    /// The workload, if one applies.
    pub workload: Option<Workload>,
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
    /// Its uncertainty within the run, when the figure has one (a lookup mean's rounds).
    pub spread: Option<Spread>,
}

/// A figure over the runs of the history, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// What it follows.
    pub key: SeriesKey,
    /// Its values, one per run that measured it.
    pub points: Vec<Point>,
}

impl SeriesKey {
    /// The key of the series `record` belongs to.
    pub fn of(record: &Record) -> Self {
        SeriesKey {
            metric: record.metric,
            case: record.case.clone(),
            dataset: record.dataset.label(),
            workload: record.workload,
        }
    }

    /// `strategy dataset workload metric`, as tables name the figure.
    pub fn name(&self) -> String {
        format!("{} {} {} {}", self.case, self.dataset, self.workload_label(), self.metric.name())
    }

    /// The workload as tables name it: `-` for none, `uniform@cold` for a cold case's.
    pub fn workload_label(&self) -> String {
        crate::names::workload_label(self.workload.as_ref(), self.case.start)
    }
}

/// Whether the history follows `record`: load runs and memory-limited figures are left out.
pub fn tracked(record: &Record) -> bool {
    record.load.is_none() && record.memory_limit.is_none()
}

/// The commit a record names, `unknown` when it names none.
fn commit_of(record: &Record) -> String {
    record.run.commit.clone().unwrap_or_else(|| "unknown".into())
}

/// Every figure's series over `runs` (oldest first), by key; only [`tracked`] figures.
pub fn series(runs: &[ResultSet]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for run in runs {
        for r in run.records.iter().filter(|r| tracked(r)) {
            let key = SeriesKey::of(r);
            let point =
                Point { commit: commit_of(r), timestamp: r.run.timestamp.clone(), value: r.value, spread: r.spread };
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

/// The gate's verdict on one figure of a run of the history, against the run before it.
#[derive(Clone, Debug, PartialEq)]
pub struct GateMark {
    /// The figure.
    pub key: SeriesKey,
    /// The commit of the run judged.
    pub commit: String,
    /// The commit of the run before it, judged against.
    pub previous: String,
    /// [`Verdict::Regressed`] or [`Verdict::Improved`].
    pub verdict: Verdict,
    /// (after − before) / before of the two values.
    pub change: Option<f64>,
}

/// The regressions and improvements the gate's rule ([`compare::compare`],
/// with `thresholds`) finds between each run of the history and the run
/// before it, oldest first.
///
/// **Computed, not stored.** The gate of a pull request judges its own A/B
/// job (the base and the merge commit, ten runs a side in one job); the run
/// the history keeps is another job, on the push to main, and a commit pushed
/// without a pull request (or backfilled) was never gated at all. Storing the
/// pull request's verdict beside the run would mark the chart with a judgement
/// of other runs than the ones drawn, and only for some commits. Judging each
/// drawn run against the one drawn before it, with the very code and
/// thresholds the gate uses, marks every run alike and can be redrawn from the
/// history alone. It is weaker evidence than the gate's: one run a side from
/// two jobs. The gate's rule already says what that allows: counts
/// (instructions, heap) are judged on their values; a wall-clock figure with
/// no spread within its run (a percentile, an open time) is noise, never a
/// regression; and wall-clock figures of runs on different machines get no
/// verdict ([`Verdict::OtherMachine`]). So the marks are mostly on counts and
/// on lookup means (whose timed rounds give a spread).
pub fn gate_marks(runs: &[ResultSet], thresholds: &Thresholds) -> Vec<GateMark> {
    let tracked_records = |run: &ResultSet| run.records.iter().filter(|r| tracked(r)).cloned().collect::<Vec<_>>();
    let mut out = Vec::new();
    for pair in runs.windows(2) {
        let (before, after) = (tracked_records(&pair[0]), tracked_records(&pair[1]));
        let (Some(previous), Some(commit)) = (before.first().map(commit_of), after.first().map(commit_of)) else {
            continue;
        };
        let judged = compare::compare(&[before], &[after], thresholds);
        for change in judged.changes.iter().filter(|c| matches!(c.verdict, Verdict::Regressed | Verdict::Improved)) {
            out.push(GateMark {
                key: SeriesKey {
                    metric: change.metric,
                    case: change.case.clone(),
                    dataset: change.dataset.label(),
                    workload: change.workload,
                },
                commit: commit.clone(),
                previous: previous.clone(),
                verdict: change.verdict,
                change: change.change,
            });
        }
    }
    out
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
            set.records.push(Record::new(
                *strategy,
                &dataset,
                Some(Workload::UNIFORM),
                Metric::Instructions,
                *v,
                &info,
            ));
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
        assert_eq!(found[0].key.case, CaseId::plain("mmap-index"));
        assert_eq!(found[0].steps.len(), 1);
        let step = &found[0].steps[0];
        assert_eq!((step.commit.as_str(), step.previous.as_str()), ("c08", "c07"));
        assert!((step.change.relative() - 16.0 / 566.5).abs() < 1e-9, "{step:?}");
        assert_eq!(found[0].drift, None, "one step is not a drift over the last 10 runs once it is behind them");
    }

    #[test]
    fn the_gates_rule_marks_each_run_against_the_one_before() {
        // Instructions: +9.4 % at c04 (beyond the gate's 5 %), -10 % at c06; +2 % at c02 is under it.
        let values = [566.5, 566.5, 577.8, 577.8, 632.0, 632.0, 568.8];
        let mut runs: Vec<ResultSet> =
            values.iter().enumerate().map(|(i, v)| run(&format!("c{i:02}"), i as u32, &[("mmap-index", *v)])).collect();
        // A lookup mean whose best round is 40 % slower at c05, and whose spread overlaps at c06.
        for (i, set) in runs.iter_mut().enumerate() {
            let mean = if i == 5 { 56.0 } else { 40.0 };
            let r = Record {
                metric: Metric::LookupMean,
                value: mean,
                unit: Metric::LookupMean.unit(),
                ..set.records[0].clone()
            };
            set.records.push(r.with_spread(mean * 0.99, mean * 1.1, crate::SpreadKind::MinMax));
        }
        let marks = gate_marks(&runs, &Thresholds::default());
        let seen: Vec<(&str, &str, Metric, Verdict)> =
            marks.iter().map(|m| (m.commit.as_str(), m.previous.as_str(), m.key.metric, m.verdict)).collect();
        assert_eq!(
            seen,
            [
                ("c04", "c03", Metric::Instructions, Verdict::Regressed),
                ("c05", "c04", Metric::LookupMean, Verdict::Regressed),
                ("c06", "c05", Metric::LookupMean, Verdict::Improved),
                ("c06", "c05", Metric::Instructions, Verdict::Improved),
            ]
        );
        assert!((marks[0].change.unwrap() - (632.0 / 577.8 - 1.0)).abs() < 1e-9);
        assert_eq!(marks[0].key.case, CaseId::plain("mmap-index"));
        // Runs on another machine: the lookup mean's jump is not judged, the count's is.
        runs[5].records.iter_mut().for_each(|r| r.run.cpu = "Other CPU".into());
        let marks = gate_marks(&runs, &Thresholds::default());
        assert!(marks.iter().all(|m| m.key.metric == Metric::Instructions), "{marks:?}");
    }
}
