//! A change's figures against the recent history of main: whether each lies
//! within the range of main's last [`DRIFT_WINDOW`] runs, beyond it (by how
//! much), and whether with it as the newest run the figure drifts
//! (`kvbench history compare`, on a pull request's summary under the gate's
//! verdicts).
//!
//! This is context for the gate, not a second gate: the gate judges the
//! change against its base in one A/B job; this says whether the result is
//! unusual for main lately, and whether it continues a creep that no single
//! comparison flags. Counts (instructions, memory) are placed against every
//! recent run; a wall-clock figure only against runs on the change's machine
//! ([`compare::machine`]: CPU, cores, kernel), as figures of other machines
//! differ by the machine. Figures the gate only reports
//! ([`compare::reported_only`]) are left out, as are load runs and
//! memory-limited figures ([`history::tracked`]).

use std::fmt::Write;

use crate::changepoint::{self, Drift, Settings};
use crate::compare::{self, Thresholds};
use crate::history::{self, DRIFT_WINDOW, HistoryError, Series, SeriesKey};
use crate::markdown;
use crate::schema::{Direction, Record, ResultSet};
use crate::units;

/// The lowest and highest value of a figure over main's recent runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// How many recent runs measured it.
    pub runs: usize,
    /// The lowest value.
    pub low: f64,
    /// The highest value.
    pub high: f64,
}

/// Where a figure of the change lies against main's recent runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Placement {
    /// Worse than the worst recent run by this fraction (0.05 for 5 %).
    Worse(f64),
    /// Better than the best recent run by this fraction.
    Better(f64),
    /// Between the best and the worst recent run (or beyond by less than the gate's floor for its unit).
    Within,
    /// No recent run of main measured it.
    New,
    /// A wall-clock figure that recent runs measured on other machines only: not placed.
    OtherMachine,
}

impl Placement {
    /// How tables show it.
    pub fn label(self) -> String {
        match self {
            Placement::Worse(x) => format!("worse than the worst by {}", units::percent(x)),
            Placement::Better(x) => format!("better than the best by {}", units::percent(x)),
            Placement::Within => "within".into(),
            Placement::New => "new (not in main's recent runs)".into(),
            Placement::OtherMachine => "not placed (main's recent runs were on other machines)".into(),
        }
    }

    /// Sort order: worse first (largest first), then better, within, new, other machine.
    fn rank(self) -> (u8, f64) {
        match self {
            Placement::Worse(x) => (0, -x),
            Placement::Better(x) => (1, -x),
            Placement::Within => (2, 0.0),
            Placement::New => (3, 0.0),
            Placement::OtherMachine => (4, 0.0),
        }
    }
}

/// One figure of the change, placed.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    /// The figure.
    pub key: SeriesKey,
    /// The change's value (the median of its runs).
    pub value: f64,
    /// The recent runs' range it was placed in, when any run measured it.
    pub recent: Option<Range>,
    /// Where it lies.
    pub placement: Placement,
    /// The trend of the last [`DRIFT_WINDOW`] values with the change's as the
    /// newest, when significant at the detector's level.
    pub drift: Option<Drift>,
}

/// Every gated figure of a change against the recent history of main.
#[derive(Clone, Debug, PartialEq)]
pub struct AgainstRecent {
    /// One per figure: worse first, then better, within, not placed.
    pub placed: Vec<Placed>,
    /// Runs in the history.
    pub history_runs: usize,
    /// The change's machine.
    pub machine: String,
    /// The detector's significance level (for the drifts).
    pub significance: f64,
}

/// Places the figures of `candidate` (one or more runs of one change on one
/// machine, merged as the gate merges a side) against the last
/// [`DRIFT_WINDOW`] runs of `history` (oldest first) that measured each:
/// beyond their range by more than the gate's floor for the unit
/// (`thresholds`), and drifting at `settings`' significance with it as the newest.
pub fn against_recent(
    history: &[ResultSet],
    candidate: &[Vec<Record>],
    settings: &Settings,
    thresholds: &Thresholds,
) -> Result<AgainstRecent, HistoryError> {
    if history.is_empty() {
        return Err(HistoryError::NoRuns);
    }
    let merged = compare::merge_runs(candidate)?;
    let machine = merged.first().map(|r| compare::machine(&r.run)).unwrap_or_default();
    let all = history::series(history);
    let on_this_machine: Vec<ResultSet> = history
        .iter()
        .map(|run| ResultSet {
            records: run.records.iter().filter(|r| compare::machine(&r.run) == machine).cloned().collect(),
            ..ResultSet::new(history::SOURCE)
        })
        .collect();
    let same = history::series(&on_this_machine);
    let find = |series: &[Series], key: &SeriesKey| series.iter().find(|s| s.key == *key).map(recent);
    let mut placed: Vec<Placed> = merged
        .iter()
        .filter(|r| history::tracked(r) && !compare::reported_only(r.metric))
        .map(|r| {
            let key = SeriesKey::of(r);
            let values = if compare::is_deterministic(r.metric) { find(&all, &key) } else { find(&same, &key) };
            let Some(values) = values.filter(|v| !v.is_empty()) else {
                let placement = if find(&all, &key).is_some() { Placement::OtherMachine } else { Placement::New };
                return Placed { key, value: r.value, recent: None, placement, drift: None };
            };
            let range = Range {
                runs: values.len(),
                low: values.iter().copied().fold(f64::INFINITY, f64::min),
                high: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            };
            let floor = compare::floor(r.metric, &r.dataset, thresholds);
            let placement = place(r.value, &range, r.metric.direction(), floor);
            let window: Vec<f64> =
                values.iter().skip((values.len() + 1).saturating_sub(DRIFT_WINDOW)).copied().chain([r.value]).collect();
            let drift = changepoint::drift(&window).filter(|d| d.p_value <= settings.significance);
            Placed { key, value: r.value, recent: Some(range), placement, drift }
        })
        .collect();
    placed.sort_by(|a, b| {
        let (ra, rb) = (a.placement.rank(), b.placement.rank());
        ra.0.cmp(&rb.0)
            .then(ra.1.total_cmp(&rb.1))
            .then(b.drift.is_some().cmp(&a.drift.is_some()))
            .then(a.key.cmp(&b.key))
    });
    Ok(AgainstRecent { placed, history_runs: history.len(), machine, significance: settings.significance })
}

/// The last [`DRIFT_WINDOW`] values of a series.
fn recent(series: &Series) -> Vec<f64> {
    let from = series.points.len().saturating_sub(DRIFT_WINDOW);
    series.points.iter().skip(from).map(|p| p.value).collect()
}

/// Where `value` lies against `range`, for a figure whose better end is `direction`'s.
fn place(value: f64, range: &Range, direction: Direction, floor: f64) -> Placement {
    let (worst, best, worse) = match direction {
        Direction::LowerIsBetter => (range.high, range.low, value > range.high),
        Direction::HigherIsBetter => (range.low, range.high, value < range.low),
    };
    let better = match direction {
        Direction::LowerIsBetter => value < range.low,
        Direction::HigherIsBetter => value > range.high,
    };
    let beyond = |edge: f64| (value - edge).abs() > floor;
    let fraction = |edge: f64| if edge == 0.0 { f64::INFINITY } else { (value - edge).abs() / edge.abs() };
    if worse && beyond(worst) {
        Placement::Worse(fraction(worst))
    } else if better && beyond(best) {
        Placement::Better(fraction(best))
    } else {
        Placement::Within
    }
}

impl AgainstRecent {
    /// The table's columns.
    pub const HEADER: [&'static str; 5] =
        ["figure", "this change", "main's recent runs (low – high)", "placement", "drift with this change"];

    /// How many figures were worse, better, within, drifting and not placed.
    pub fn summary(&self) -> String {
        let count = |f: &dyn Fn(&Placed) -> bool| self.placed.iter().filter(|p| f(p)).count();
        let worse = count(&|p| matches!(p.placement, Placement::Worse(_)));
        let better = count(&|p| matches!(p.placement, Placement::Better(_)));
        let within = count(&|p| p.placement == Placement::Within);
        let drifting = count(&|p| p.drift.is_some());
        let new = count(&|p| p.placement == Placement::New);
        let other = count(&|p| p.placement == Placement::OtherMachine);
        format!(
            "{worse} worse than main's recent range, {better} better, {within} within; {drifting} drifting with \
             this change; {new} new; {other} wall-clock figures not placed (main's recent runs were on other machines)"
        )
    }

    /// One row per figure that is not simply within its range (every figure when `all`).
    pub fn rows(&self, all: bool) -> Vec<Vec<String>> {
        self.placed
            .iter()
            .filter(|p| all || p.placement != Placement::Within || p.drift.is_some())
            .map(|p| {
                let value = |v: f64| units::value(p.key.metric.unit(), v);
                vec![
                    p.key.name(),
                    value(p.value),
                    p.recent.map_or_else(
                        || "–".into(),
                        |r| format!("{} – {} ({} runs)", value(r.low), value(r.high), r.runs),
                    ),
                    p.placement.label(),
                    p.drift.map_or_else(
                        || "–".into(),
                        |d| {
                            format!(
                                "{} over the last {DRIFT_WINDOW} runs (confidence {:.1} %)",
                                units::signed_percent(d.relative),
                                (1.0 - d.p_value) * 100.0
                            )
                        },
                    ),
                ]
            })
            .collect()
    }

    /// A Markdown section for the pull request's summary: what was compared, the counts and [`AgainstRecent::rows`].
    pub fn markdown(&self, all: bool) -> String {
        let mut out = String::from("### Against the recent history of main\n\n");
        let _ = writeln!(
            out,
            "This change's figures placed among the last {DRIFT_WINDOW} runs of main that measured them (the \
             `bench-history` branch, {} runs in all): context for the verdicts above, not a verdict. Counts are \
             placed against every run; wall-clock figures only against runs on this machine ({}). A drift is \
             Mann-Kendall over the last {DRIFT_WINDOW} runs with this change as the newest (significance {}).\n",
            self.history_runs, self.machine, self.significance
        );
        let _ = writeln!(out, "**{}**\n", self.summary());
        let rows = self.rows(all);
        if !rows.is_empty() {
            out.push_str(&markdown::table(&Self::HEADER, &rows));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{DatasetInfo, Metric, SpreadKind};
    use crate::workload::Workload;
    use crate::{DEFAULT_VALUE_LEN, RunInfo};

    fn info(commit: &str, cpu: &str, i: usize) -> RunInfo {
        RunInfo {
            cpu: cpu.into(),
            cores: 2,
            os: "linux".into(),
            toolchain: "rustc".into(),
            commit: Some(commit.into()),
            timestamp: format!("2026-11-30T10:{i:02}:00Z"),
            quick: false,
        }
    }

    /// A run: mmap-index's instructions, hashmap's lookup mean (with its rounds' spread) and hit rate.
    fn records(commit: &str, cpu: &str, i: usize, instructions: f64, mean: f64) -> Vec<Record> {
        let run = info(commit, cpu, i);
        let dataset = DatasetInfo::generated(10_000, DEFAULT_VALUE_LEN);
        vec![
            Record::new("mmap-index", &dataset, Some(Workload::UNIFORM), Metric::Instructions, instructions, &run),
            Record::new("hashmap", &dataset, Some(Workload::UNIFORM), Metric::LookupMean, mean, &run).with_spread(
                mean * 0.98,
                mean * 1.05,
                SpreadKind::MinMax,
            ),
            Record::new("hashmap", &dataset, None, Metric::FileRssBytes, 1e6, &run),
        ]
    }

    fn history(values: &[(f64, f64)]) -> Vec<ResultSet> {
        values
            .iter()
            .enumerate()
            .map(|(i, (instructions, mean))| ResultSet {
                records: records(&format!("c{i:02}"), "CPU A", i, *instructions, *mean),
                ..ResultSet::new(history::SOURCE)
            })
            .collect()
    }

    fn placed<'a>(found: &'a AgainstRecent, strategy: &str) -> &'a Placed {
        found.placed.iter().find(|p| p.key.case.is_plain(strategy)).unwrap()
    }

    #[test]
    fn a_figure_beyond_the_recent_range_is_worse_by_its_distance_from_the_worst_run() {
        // 14 runs; the last 10 span 560–566 instructions and 40–44 ns.
        let main: Vec<(f64, f64)> = (0..14).map(|i| (560.0 + (i % 7) as f64, 40.0 + (i % 5) as f64)).collect();
        let change = [records("pr", "CPU A", 50, 594.3, 41.0), records("pr", "CPU A", 51, 594.3, 43.0)];
        let found = against_recent(&history(&main), &change, &Settings::default(), &Thresholds::default()).unwrap();
        assert_eq!(found.history_runs, 14);
        assert_eq!(found.placed.len(), 2, "file RSS is only reported by the gate: {found:?}");
        let mmap = placed(&found, "mmap-index");
        assert_eq!(mmap.recent, Some(Range { runs: 10, low: 560.0, high: 566.0 }));
        let Placement::Worse(by) = mmap.placement else { panic!("{mmap:?}") };
        assert!((by - 0.05).abs() < 1e-9, "594.3 is 5 % above 566: {by}");
        let hashmap = placed(&found, "hashmap");
        assert_eq!((hashmap.value, hashmap.placement), (42.0, Placement::Within), "the median of the two runs");
        assert!(found.placed[0].key.case.is_plain("mmap-index"), "worse first");
        let md = found.markdown(false);
        assert!(md.contains("1 worse than main's recent range, 0 better, 1 within"), "{md}");
        assert!(md.contains("worse than the worst by 5.0 %") && !md.contains("| hashmap"), "{md}");
        assert_eq!(found.rows(true).len(), 2);
    }

    #[test]
    fn a_change_that_continues_a_creep_is_a_drift_and_a_better_one_is_better() {
        // Instructions creep +1 per run (each step 0.2 %, far under the gate's 5 %), the lookup mean is flat.
        let main: Vec<(f64, f64)> = (0..12).map(|i| (500.0 + i as f64, 40.0 + (i % 3) as f64)).collect();
        let change = [records("pr", "CPU A", 50, 512.0, 30.0)];
        let found = against_recent(&history(&main), &change, &Settings::default(), &Thresholds::default()).unwrap();
        let mmap = placed(&found, "mmap-index");
        assert!(matches!(mmap.placement, Placement::Worse(_)), "{mmap:?}");
        let drift = mmap.drift.unwrap();
        assert!(drift.relative > 0.0 && drift.p_value <= 0.01, "{drift:?}");
        let hashmap = placed(&found, "hashmap");
        let Placement::Better(by) = hashmap.placement else { panic!("{hashmap:?}") };
        assert!((by - 0.25).abs() < 1e-9, "30 ns is 25 % under 40 ns: {by}");
        assert!(found.markdown(false).contains("1 drifting with this change"));
        assert_eq!(hashmap.drift, None, "a flat figure does not drift");
    }

    #[test]
    fn wall_clock_figures_are_placed_only_against_runs_on_the_same_machine() {
        let main: Vec<(f64, f64)> = (0..5).map(|i| (560.0, 40.0 + i as f64)).collect();
        let change = [records("pr", "CPU B", 50, 560.0, 90.0)];
        let found = against_recent(&history(&main), &change, &Settings::default(), &Thresholds::default()).unwrap();
        assert_eq!(placed(&found, "hashmap").placement, Placement::OtherMachine);
        assert_eq!(placed(&found, "mmap-index").placement, Placement::Within, "counts compare across machines");
        assert!(found.summary().contains("1 wall-clock figures not placed"), "{}", found.summary());

        let mut other = records("pr", "CPU A", 50, 560.0, 40.0);
        other[0].case = "phf-index".into();
        let found = against_recent(&history(&main), &[other], &Settings::default(), &Thresholds::default()).unwrap();
        assert_eq!(placed(&found, "phf-index").placement, Placement::New);

        let none =
            against_recent(&[], &[records("pr", "CPU A", 0, 1.0, 1.0)], &Settings::default(), &Thresholds::default());
        assert!(matches!(none, Err(HistoryError::NoRuns)), "{none:?}");
        let empty = against_recent(&history(&main), &[], &Settings::default(), &Thresholds::default());
        assert!(matches!(empty, Err(HistoryError::Candidate(_))), "{empty:?}");
    }

    #[test]
    fn a_change_under_the_gates_floor_is_within() {
        let range = Range { runs: 3, low: 100.0, high: 110.0 };
        assert_eq!(place(115.0, &range, Direction::LowerIsBetter, 10.0), Placement::Within);
        assert_eq!(place(121.0, &range, Direction::LowerIsBetter, 10.0), Placement::Worse(0.1));
        assert_eq!(place(90.0, &range, Direction::HigherIsBetter, 0.0), Placement::Worse(0.1));
        assert_eq!(place(121.0, &range, Direction::HigherIsBetter, 0.0), Placement::Better(0.1));
    }
}
