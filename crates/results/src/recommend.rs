//! "What to use": for one dataset, the best strategy for each goal a user
//! weighs (latency, its tail, memory, start-up, latency within a memory
//! budget) and the runner-up, computed from a suite run's records and never
//! written by hand. The suite prints it after its tables and the report
//! opens with it, from the same [`recommend`] and [`Recommendation::rows`].
//!
//! Cold starts, the memchr floor and the naive `scan-lines` baseline are not
//! candidates: they are ways of starting, bounds and a yardstick, not
//! strategies to pick. A strategy whose lookups were
//! too slow to time 500 of them alone has no p99; it competes for the tail
//! with its slowest lookup, which can only flatter it less.

use std::fmt;

use crate::names::{CaseId, CaseStart, MEMCHR_PASS, NAIVE_BASELINE};
use crate::schema::{DatasetInfo, Metric, Record};
use crate::units;
use crate::workload::Workload;

/// What a user may optimise for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    /// The median lookup, each timed alone.
    LowestP50,
    /// The 99th percentile of lookups timed alone.
    LowestP99,
    /// Resident memory (anonymous + mapped file pages) after all lookups.
    LeastMemory,
    /// Time from open until the first answer can be given.
    FastestStart,
    /// Bytes per key of the index sidecar or engine store kept beside the data
    /// file (only when some strategy keeps one).
    LeastDisk,
    /// The lowest p50 among strategies whose resident memory fits the budget (bytes).
    LowestP50Within(u64),
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Goal::LowestP50 => f.write_str("lowest p50"),
            Goal::LowestP99 => f.write_str("lowest p99"),
            Goal::LeastMemory => f.write_str("least memory"),
            Goal::FastestStart => f.write_str("fastest start"),
            Goal::LeastDisk => f.write_str("least disk beside the data"),
            Goal::LowestP50Within(budget) => write!(f, "lowest p50 within {}", units::bytes(*budget as f64)),
        }
    }
}

/// Written as it reads (`lowest p50 within 64 MiB`), in JSON too.
impl serde::Serialize for Goal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One strategy's figure for a goal.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Pick {
    /// The case, e.g. `hashmap` or `mmap-index (reopen)`.
    pub case: CaseId,
    /// The figure it is ranked by (ns or bytes).
    pub value: f64,
    /// The figure's interval over runs, when it has one.
    pub interval: Option<(f64, f64)>,
    /// How the figure reads: `812 ns`, `max 2.1 ms` (fewer lookups timed than a p99 needs), `68.2 MiB`.
    pub shown: String,
}

/// Figures closer than this share of the best one cannot be told apart in
/// practice, whatever their intervals: a few percent is within what one
/// machine drifts between runs, and no one picks a design for it.
pub const PRACTICAL_SHARE: f64 = 0.03;

/// Times closer than this cannot be told apart: two ticks of the clock
/// (10 ns on the reference machine), below which a percentile only moves in steps.
pub const PRACTICAL_NS: f64 = 20.0;

impl Goal {
    /// The least difference from `best` that counts, in the goal's unit: the
    /// practical share of it, and for a time at least two clock ticks.
    pub fn margin(self, best: f64) -> f64 {
        let share = best.abs() * PRACTICAL_SHARE;
        match self {
            Goal::LeastMemory | Goal::LeastDisk => share,
            _ => share.max(PRACTICAL_NS),
        }
    }

    /// Whether `other` cannot be told from `best` for this goal: its interval
    /// (`[v / single, v × single]` for a figure of one run) reaches the
    /// best one's, or it lies within the goal's practical margin.
    fn indistinct(self, best: &Pick, other: &Pick, single: f64) -> bool {
        let bounds = |p: &Pick| p.interval.unwrap_or((p.value / single, p.value * single));
        bounds(other).0 <= bounds(best).1 || other.value - best.value <= self.margin(best.value)
    }
}

/// The best strategy for one goal, the runner-up, and every strategy the runs cannot tell from the best.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Choice {
    /// What is optimised.
    pub goal: Goal,
    /// The best strategy (its best case); `None` when no strategy had the figure.
    pub best: Option<Pick>,
    /// The next best strategy, when there are two or more.
    pub runner_up: Option<Pick>,
    /// Every other strategy not distinguished from the best ([`Goal::margin`],
    /// the runs' intervals), best first: empty when the best stands alone.
    pub not_distinguished: Vec<Pick>,
}

impl Choice {
    /// Whether the runs cannot tell the best from the runner-up.
    pub fn too_close(&self) -> bool {
        !self.not_distinguished.is_empty()
    }

    /// `lowest p50: phf-index (reopen) is not distinguished from hashmap, cdb (reopen)`, when it is not.
    pub fn ties(&self) -> Option<String> {
        let best = self.best.as_ref().filter(|_| self.too_close())?;
        let others: Vec<String> = self.not_distinguished.iter().map(|p| format!("{} {}", p.case, p.shown)).collect();
        Some(format!("{}: {} {} is not distinguished from {}", self.goal, best.case, best.shown, others.join(", ")))
    }
}

/// "What to use" for one dataset.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Recommendation {
    /// The dataset's label.
    pub dataset: String,
    /// The workload latency was ranked on, e.g. `uniform`.
    pub workload: Workload,
    /// One choice per goal.
    pub choices: Vec<Choice>,
    /// The confidence level of the figures' intervals (0.94 for 5 runs), when they have one.
    pub level: Option<f64>,
}

/// The column headers of [`Recommendation::rows`].
pub const HEADER: [&str; 5] = ["goal", "use", "figure", "runner-up", "figure"];

impl Recommendation {
    /// One row per goal, for a terminal or Markdown table under [`HEADER`].
    pub fn rows(&self) -> Vec<Vec<String>> {
        self.choices
            .iter()
            .map(|c| {
                let pick = |p: &Option<Pick>| {
                    p.as_ref().map_or(("-".into(), "-".into()), |p| (p.case.to_string(), p.shown.clone()))
                };
                let ((best, figure), (next, next_figure)) = (pick(&c.best), pick(&c.runner_up));
                let best = if c.too_close() { format!("{best} (tie)") } else { best };
                vec![c.goal.to_string(), best, figure, next, next_figure]
            })
            .collect()
    }

    /// One line per goal whose best is not distinguished from others, naming them all.
    pub fn ties(&self) -> Vec<String> {
        self.choices.iter().filter_map(Choice::ties).collect()
    }

    /// What the figures are, in one sentence, for under the table.
    pub fn legend(&self) -> String {
        let disk = if self.choices.iter().any(|c| c.goal == Goal::LeastDisk) {
            "; disk: bytes per key of the index sidecar or engine store kept beside the data file (the reused \
             one's)"
        } else {
            ""
        };
        format!(
            "p50/p99: each lookup of `{}` keys timed alone (max: too few timed for a p99, the slowest shown); \
             memory: anonymous + file-backed resident memory after all lookups (and a server's, for \
             `redis`); start: time to open (an index \
             built or reused, a table loaded){disk}. Each strategy competes with its best case; each \
             figure is the median of the runs. (tie): the runs cannot tell the best from the runner-up on \
             this machine: their intervals{level} overlap, or they lie within {share:.0} % (and, for a time, \
             {ns:.0} ns: two clock ticks) of each other; the lines below name every strategy not distinguished \
             from the best.",
            self.workload,
            level = self.level.map_or_else(String::new, |l| format!(" ({:.0} % confidence)", l * 100.0)),
            share = PRACTICAL_SHARE * 100.0,
            ns = PRACTICAL_NS,
        )
    }
}

/// The datasets of `records` (suite records, not load runs), in the order first recorded.
pub fn datasets(records: &[Record]) -> Vec<DatasetInfo> {
    let mut out: Vec<DatasetInfo> = Vec::new();
    for r in records.iter().filter(|r| r.load.is_none()) {
        if !out.contains(&r.dataset) {
            out.push(r.dataset.clone());
        }
    }
    out
}

/// The workload latency is ranked on: the first one of `dataset`'s records
/// that looked up keys of the file (not only misses, not a cold start).
pub fn latency_workload(records: &[Record], dataset: &DatasetInfo) -> Option<Workload> {
    records
        .iter()
        .filter(|r| &r.dataset == dataset && r.metric == Metric::LatencyP50 && !r.started(CaseStart::Cold))
        .filter_map(|r| r.workload)
        .find(|w| *w != Workload::MISS)
}

/// [`recommend`] for every dataset of `records` that has latency figures.
pub fn recommend_all(records: &[Record], budget: Option<u64>) -> Vec<Recommendation> {
    datasets(records)
        .iter()
        .filter_map(|d| Some(recommend(records, d, latency_workload(records, d)?, budget)))
        .collect()
}

/// The cases of one dataset that compete in "What to use", and their figure for each goal.
struct Candidates<'a> {
    /// The dataset's suite records of candidates (no cold start, floor or yardstick).
    ours: Vec<&'a Record>,
    /// Each case once, in the order first recorded.
    cases: Vec<&'a CaseId>,
    /// The workload latency is ranked on.
    workload: Workload,
}

impl<'a> Candidates<'a> {
    fn of(records: &'a [Record], dataset: &DatasetInfo, workload: Workload) -> Self {
        let ours: Vec<&Record> = records
            .iter()
            .filter(|r| &r.dataset == dataset && r.load.is_none())
            .filter(|r| {
                ![MEMCHR_PASS, NAIVE_BASELINE].contains(&r.case.strategy.as_str()) && !r.started(CaseStart::Cold)
            })
            .collect();
        let mut cases: Vec<&CaseId> = Vec::new();
        for r in &ours {
            if !cases.contains(&&r.case) {
                cases.push(&r.case);
            }
        }
        Candidates { ours, cases, workload }
    }

    fn find(&self, s: &CaseId, w: Option<Workload>, m: Metric) -> Option<&'a Record> {
        self.ours.iter().copied().find(|r| r.case == *s && r.workload == w && r.metric == m)
    }

    /// `case`'s figure for `goal`, when it has one.
    fn figure(&self, s: &CaseId, goal: Goal) -> Option<Pick> {
        // A record's figure as a pick, with the record's interval over runs.
        let pick = |r: &Record, shown: String| Pick {
            case: s.clone(),
            value: r.value,
            interval: r.spread.map(|s| (s.lower, s.upper)),
            shown,
        };
        let timed = |m: Metric| self.find(s, Some(self.workload), m).map(|r| pick(r, units::nanos(r.value)));
        let memory = || {
            let (anon, file) = (self.find(s, None, Metric::AnonRssBytes)?, self.find(s, None, Metric::FileRssBytes)?);
            // A strategy that asks a server is charged the server's memory: the data lives there.
            let server = self.find(s, None, Metric::ServerRss).map_or(0.0, |r| r.value);
            let value = anon.value + file.value + server;
            // The interval of a sum of medians, from the ends of each (a server's RSS is read once).
            let ends = |r: &Record| r.spread.map_or((r.value, r.value), |s| (s.lower, s.upper));
            let ((al, au), (fl, fu)) = (ends(anon), ends(file));
            let interval =
                (anon.spread.is_some() || file.spread.is_some()).then_some((al + fl + server, au + fu + server));
            Some(Pick { case: s.clone(), value, interval, shown: units::bytes(value) })
        };
        match goal {
            Goal::LowestP50 => timed(Metric::LatencyP50),
            Goal::LowestP99 => timed(Metric::LatencyP99).or_else(|| {
                let max = self.find(s, Some(self.workload), Metric::LatencyMax)?;
                Some(pick(max, format!("max {}", units::nanos(max.value))))
            }),
            Goal::LeastMemory => memory(),
            Goal::FastestStart => self.find(s, None, Metric::OpenTime).map(|r| pick(r, units::nanos(r.value))),
            // A build and a reopen share one store on disk: the reopened case stands for both.
            Goal::LeastDisk => {
                let r = self.find(s, None, Metric::DiskBytesPerKey).filter(|_| !s.started(CaseStart::Build))?;
                Some(pick(r, format!("{:.1} B/key", r.value)))
            }
            Goal::LowestP50Within(budget) => {
                let fits = memory().is_some_and(|m| m.value <= budget as f64);
                fits.then(|| timed(Metric::LatencyP50)).flatten()
            }
        }
    }

    /// Each strategy with a figure for `goal`, by its best case, best first:
    /// a strategy built or reopened is one choice, not two rivals.
    fn ranked(&self, goal: Goal) -> Vec<Pick> {
        let mut picks: Vec<Pick> = self.cases.iter().filter_map(|s| self.figure(s, goal)).collect();
        picks.sort_by(|a, b| a.value.total_cmp(&b.value));
        let mut seen: Vec<String> = Vec::new();
        picks.retain(|p| {
            let first = !seen.contains(&p.case.strategy);
            seen.push(p.case.strategy.clone());
            first
        });
        picks
    }

    fn choose(&self, goal: Goal) -> Choice {
        let ranked = self.ranked(goal);
        let not_distinguished = match ranked.first() {
            // A figure of one run has no interval: here it stands for itself alone.
            Some(best) => ranked[1..].iter().filter(|p| goal.indistinct(best, p, 1.0)).cloned().collect(),
            None => Vec::new(),
        };
        let mut picks = ranked.into_iter();
        Choice { goal, best: picks.next(), runner_up: picks.next(), not_distinguished }
    }
}

/// Ranks the strategies measured on `dataset` in `records` for each goal;
/// latency on `workload`; with `budget` (bytes), also the lowest p50 within it.
pub fn recommend(records: &[Record], dataset: &DatasetInfo, workload: Workload, budget: Option<u64>) -> Recommendation {
    let candidates = Candidates::of(records, dataset, workload);
    let mut choices: Vec<Choice> =
        [Goal::LowestP50, Goal::LowestP99, Goal::LeastMemory, Goal::FastestStart].map(|g| candidates.choose(g)).into();
    let on_disk = candidates.choose(Goal::LeastDisk);
    if on_disk.best.is_some() {
        choices.push(on_disk);
    }
    if let Some(budget) = budget {
        choices.push(candidates.choose(Goal::LowestP50Within(budget)));
    }
    let level = candidates.ours.iter().find_map(|r| r.spread.and_then(|s| s.level));
    Recommendation { dataset: dataset.label(), workload, choices, level }
}

/// The goals whose figures vary from run to run (the others are counts that
/// more runs would not change): the goals more runs can settle.
pub const TIMED_GOALS: [Goal; 3] = [Goal::LowestP50, Goal::LowestP99, Goal::FastestStart];

/// The spread between runs a figure of a single run is taken to have when
/// deciding whether it could still win: the interval `[v / 1.5, v × 1.5]`.
/// Five-run intervals of a default suite run at 1M keys reached -50 % and
/// +82 % (start-up); a case 2.25 times slower than the best still runs again.
pub const SINGLE_RUN_SPREAD: f64 = 1.5;

/// For `goal` on `dataset`, the cases the runs so far cannot yet rank below
/// the best, by the rule "What to use" calls a tie ([`Goal::margin`], each
/// strategy by its best case; the best included, unless no case is close).
/// A figure of one run has no interval; it stands for `[v / single, v ×
/// single]`, the run-to-run spread assumed for it.
pub fn contested(
    records: &[Record],
    dataset: &DatasetInfo,
    workload: Workload,
    goal: Goal,
    single: f64,
) -> Vec<CaseId> {
    let ranked = Candidates::of(records, dataset, workload).ranked(goal);
    let Some(best) = ranked.first() else { return Vec::new() };
    let rivals: Vec<CaseId> =
        ranked[1..].iter().filter(|p| goal.indistinct(best, p, single)).map(|p| p.case.clone()).collect();
    if rivals.is_empty() { rivals } else { std::iter::once(best.case.clone()).chain(rivals).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::RunInfo;
    use crate::names::parse_workload_label;
    use crate::schema::{Spread, SpreadKind};

    fn rec(strategy: &str, workload: &str, metric: Metric, value: f64, spread: Option<(f64, f64)>) -> Record {
        let dataset = DatasetInfo::generated(1_000, crate::DEFAULT_VALUE_LEN);
        let (case, workload) = (CaseId::from_label(strategy), parse_workload_label(workload).unwrap());
        let mut r = Record::new(case, &dataset, workload, metric, value, &RunInfo::detect(true));
        r.spread = spread.map(|(lower, upper)| Spread { lower, upper, kind: SpreadKind::MedianCi, level: Some(0.94) });
        r
    }

    /// The choice for `goal` that `records` of a 1,000-key dataset make, latency on uniform keys.
    fn chosen(records: &[Record], goal: Goal) -> Choice {
        let dataset = DatasetInfo::generated(1_000, crate::DEFAULT_VALUE_LEN);
        let r = recommend(records, &dataset, Workload::UNIFORM, None);
        r.choices.into_iter().find(|c| c.goal == goal).unwrap()
    }

    #[test]
    fn each_goal_names_the_best_and_the_runner_up() {
        let records = vec![
            rec("hashmap", "uniform", Metric::LatencyP50, 100.0, Some((95.0, 105.0))),
            rec("mmap-index (reopen)", "uniform", Metric::LatencyP50, 300.0, Some((280.0, 320.0))),
            rec("scan", "uniform", Metric::LatencyP50, 9_000.0, None),
            rec("mmap-index (cold)", "uniform@cold", Metric::LatencyP50, 50.0, None),
            rec(MEMCHR_PASS, "-", Metric::LookupMean, 10.0, None),
            rec(NAIVE_BASELINE, "-", Metric::AnonRssBytes, 1.0, None),
            rec(NAIVE_BASELINE, "-", Metric::FileRssBytes, 1.0, None),
            rec("hashmap", "uniform", Metric::LatencyP99, 400.0, Some((390.0, 420.0))),
            rec("mmap-index (reopen)", "uniform", Metric::LatencyP99, 410.0, Some((400.0, 900.0))),
            rec("scan", "uniform", Metric::LatencyMax, 20_000.0, None),
            rec("hashmap", "-", Metric::AnonRssBytes, 90e6, None),
            rec("hashmap", "-", Metric::FileRssBytes, 0.0, None),
            rec("mmap-index (reopen)", "-", Metric::AnonRssBytes, 1e6, None),
            rec("mmap-index (reopen)", "-", Metric::FileRssBytes, 60e6, None),
            rec("scan", "-", Metric::AnonRssBytes, 0.5e6, None),
            rec("scan", "-", Metric::FileRssBytes, 65e6, None),
            rec("hashmap", "-", Metric::OpenTime, 2e8, None),
            rec("mmap-index (reopen)", "-", Metric::OpenTime, 5e4, None),
            rec("scan", "-", Metric::OpenTime, 3e4, None),
        ];
        let dataset = DatasetInfo::generated(1_000, crate::DEFAULT_VALUE_LEN);
        let r = recommend(&records, &dataset, Workload::UNIFORM, Some(80 << 20));
        let names = |c: &Choice| {
            (c.best.as_ref().map(|p| p.case.to_string()), c.runner_up.as_ref().map(|p| p.case.to_string()))
        };
        let got: Vec<_> = r.choices.iter().map(|c| (c.goal, names(c))).collect();
        let pair = |a: &str, b: &str| (Some(a.to_owned()), Some(b.to_owned()));
        assert_eq!(
            got,
            [
                (Goal::LowestP50, pair("hashmap", "mmap-index (reopen)")),
                (Goal::LowestP99, pair("hashmap", "mmap-index (reopen)")),
                (Goal::LeastMemory, pair("mmap-index (reopen)", "scan")),
                (Goal::FastestStart, pair("scan", "mmap-index (reopen)")),
                (Goal::LowestP50Within(80 << 20), pair("mmap-index (reopen)", "scan")),
            ]
        );
        assert!(!r.choices[0].too_close());
        assert!(r.choices[1].too_close(), "400 [390, 420] vs 410 [400, 900] overlap");
        let rows = r.rows();
        assert_eq!(rows[1][1], "hashmap (tie)");
        assert_eq!(rows[2][2], units::bytes(61e6));
        let other = DatasetInfo::generated(2_000, crate::DEFAULT_VALUE_LEN);
        assert!(recommend(&records, &other, Workload::UNIFORM, None).choices.iter().all(|c| c.best.is_none()));
    }

    #[test]
    fn a_goal_is_contested_while_a_rival_interval_reaches_the_best_one() {
        let dataset = DatasetInfo::generated(1_000, crate::DEFAULT_VALUE_LEN);
        let p50 = |s: &str, v: f64, spread| rec(s, "uniform", Metric::LatencyP50, v, spread);
        let contested = |records: &[Record]| {
            let ids = contested(records, &dataset, Workload::UNIFORM, Goal::LowestP50, SINGLE_RUN_SPREAD);
            ids.iter().map(ToString::to_string).collect::<Vec<_>>()
        };
        // One run each: 100 counts as up to 150, 140 as down to 93: contested; 400 (down to 267) is not.
        let single = [p50("hashmap", 100.0, None), p50("phf-index (reopen)", 140.0, None), p50("scan", 400.0, None)];
        assert_eq!(contested(&single), ["hashmap", "phf-index (reopen)"]);
        // Intervals that no longer overlap settle it, whatever the single-run rule would say.
        let settled =
            [p50("hashmap", 100.0, Some((95.0, 105.0))), p50("phf-index (reopen)", 140.0, Some((120.0, 160.0)))];
        assert!(contested(&settled).is_empty());
        let overlapping =
            [p50("hashmap", 100.0, Some((95.0, 125.0))), p50("phf-index (reopen)", 140.0, Some((120.0, 160.0)))];
        assert_eq!(contested(&overlapping), ["hashmap", "phf-index (reopen)"]);
        // Cold starts and yardsticks never compete.
        assert!(contested(&[p50("hashmap", 100.0, None), p50("mmap-index (cold)", 90.0, None)]).is_empty());
    }

    #[test]
    fn a_tie_names_every_strategy_the_runs_cannot_tell_from_the_best() {
        let p50 = |s: &str, v: f64, spread: Option<(f64, f64)>| rec(s, "uniform", Metric::LatencyP50, v, spread);
        let choice = |records: &[Record]| chosen(records, Goal::LowestP50);
        let names = |picks: &[Pick]| picks.iter().map(|p| p.case.to_string()).collect::<Vec<_>>();
        // Three strategies whose intervals overlap the best's, a fourth clear of it.
        let three = [
            p50("phf-index (reopen)", 400.0, Some((380.0, 450.0))),
            p50("hashmap", 430.0, Some((400.0, 480.0))),
            p50("mmap-index (reopen)", 460.0, Some((455.0, 500.0))),
            p50("cdb (reopen)", 445.0, Some((420.0, 520.0))),
            p50("lmdb (reopen)", 900.0, Some((850.0, 950.0))),
        ];
        let c = choice(&three);
        assert_eq!(names(&c.not_distinguished), ["hashmap", "cdb (reopen)"], "mmap-index's interval starts past 450");
        let line = c.ties().unwrap();
        assert!(
            line.starts_with("lowest p50: phf-index (reopen) 400 ns is not distinguished from hashmap 430 ns"),
            "{line}"
        );
        // A gap under two clock ticks (20 ns) is no gap, however narrow the intervals.
        let close =
            [p50("hashmap", 100.0, Some((99.0, 101.0))), p50("phf-index (reopen)", 115.0, Some((114.0, 116.0)))];
        assert!(choice(&close).too_close());
        // 3 % of a long time is more than two ticks: 1000 vs 1025 ns is within it, 1000 vs 1040 ns is not.
        let within = [p50("hashmap", 1000.0, Some((990.0, 1010.0))), p50("scan", 1025.0, Some((1020.0, 1030.0)))];
        assert!(choice(&within).too_close());
        let apart = [p50("hashmap", 1000.0, Some((990.0, 1010.0))), p50("scan", 1040.0, Some((1035.0, 1045.0)))];
        assert!(!choice(&apart).too_close());
        // Intervals of 3 runs (75 %) are narrower than of 5 (94 %): the same medians part with the first, not the second.
        let three_runs =
            [p50("hashmap", 400.0, Some((390.0, 420.0))), p50("cdb (reopen)", 460.0, Some((440.0, 470.0)))];
        let five_runs = [p50("hashmap", 400.0, Some((380.0, 450.0))), p50("cdb (reopen)", 460.0, Some((430.0, 500.0)))];
        assert!(!choice(&three_runs).too_close() && choice(&five_runs).too_close());
        // A strategy competes with its best case: built and reopened, phf-index is one choice.
        let starts = [
            p50("phf-index (build)", 400.0, Some((390.0, 410.0))),
            p50("phf-index (reopen)", 405.0, Some((395.0, 415.0))),
            p50("hashmap", 600.0, Some((590.0, 610.0))),
        ];
        let c = choice(&starts);
        assert_eq!(c.runner_up.as_ref().map(|p| p.case.to_string()), Some("hashmap".into()));
        assert!(!c.too_close(), "a strategy is not tied with itself");
    }

    #[test]
    fn a_strategy_that_asks_a_server_is_charged_the_server_memory() {
        let records = vec![
            rec("phf-index (reopen)", "-", Metric::AnonRssBytes, 0.5e6, None),
            rec("phf-index (reopen)", "-", Metric::FileRssBytes, 70e6, None),
            rec("redis", "-", Metric::AnonRssBytes, 1e6, None),
            rec("redis", "-", Metric::FileRssBytes, 0.1e6, None),
            rec("redis", "-", Metric::ServerRss, 90e6, None),
        ];
        let memory = chosen(&records, Goal::LeastMemory);
        let (best, next) = (memory.best.as_ref().unwrap(), memory.runner_up.as_ref().unwrap());
        assert_eq!((best.case.to_string(), next.case.to_string()), ("phf-index (reopen)".into(), "redis".into()));
        assert_eq!(next.value, 91.1e6, "its own 1.1 MB and the server's 90 MB");
    }

    #[test]
    fn least_disk_ranks_reused_stores_and_appears_only_with_them() {
        let records = vec![
            rec("hashmap", "uniform", Metric::LatencyP50, 100.0, None),
            rec("lmdb (build)", "uniform", Metric::LatencyP50, 900.0, None),
            rec("lmdb (build)", "-", Metric::DiskBytesPerKey, 70.0, None),
            rec("lmdb (reopen)", "-", Metric::DiskBytesPerKey, 70.0, None),
            rec("fst (build)", "-", Metric::DiskBytesPerKey, 40.0, None),
            rec("fst (reopen)", "-", Metric::DiskBytesPerKey, 40.0, None),
        ];
        let dataset = DatasetInfo::generated(1_000, crate::DEFAULT_VALUE_LEN);
        let r = recommend(&records, &dataset, Workload::UNIFORM, None);
        let disk = chosen(&records, Goal::LeastDisk);
        let name = |p: &Option<Pick>| p.as_ref().map(|p| p.case.to_string());
        // A build and a reopen share one store: only the reopened case competes.
        assert_eq!(
            (name(&disk.best), name(&disk.runner_up)),
            (Some("fst (reopen)".into()), Some("lmdb (reopen)".into()))
        );
        assert_eq!(disk.best.as_ref().unwrap().shown, "40.0 B/key");
        assert!(r.legend().contains("disk: bytes per key"));
        let without: Vec<Record> = records.into_iter().filter(|r| r.metric != Metric::DiskBytesPerKey).collect();
        let r = recommend(&without, &dataset, Workload::UNIFORM, None);
        assert!(r.choices.iter().all(|c| c.goal != Goal::LeastDisk) && !r.legend().contains("disk:"));
    }
}
