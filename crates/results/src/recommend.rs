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
use crate::schema::{DatasetInfo, Metric, Record, Skipped};
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
            Goal::LeastDisk => f.write_str("least disk"),
            Goal::LowestP50Within(budget) => write!(f, "p50 within {}", units::bytes(*budget as f64)),
        }
    }
}

/// Written as it reads (`p50 within 64 MiB`), in JSON too.
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
    /// What goes with the figure, said beside the pick: its latency for a
    /// memory figure (`p50 1.2 ms`), the build a reopen needs once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
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
    /// What the figures rest on, when a reader must know it to trust the
    /// pick (a budget answered from runs under it, or only estimated).
    pub note: Option<String>,
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
                let ((best, mut figure), (next, next_figure)) = (pick(&c.best), pick(&c.runner_up));
                // What goes with the best figure is said in its row: the least memory may be the slowest.
                if let Some(at) = c.best.as_ref().and_then(|p| p.at.as_ref()) {
                    figure = format!("{figure}, {at}");
                }
                let best = if c.too_close() { format!("{best} (tie)") } else { best };
                vec![c.goal.to_string(), best, figure, next, next_figure]
            })
            .collect()
    }

    /// The lines under the table: one per goal whose best is not
    /// distinguished from others, naming them all, then what a goal's figures rest on.
    pub fn notes(&self) -> Vec<String> {
        let ties = self.choices.iter().filter_map(Choice::ties);
        ties.chain(self.choices.iter().filter_map(|c| c.note.as_ref().map(|n| format!("{}: {n}", c.goal)))).collect()
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
             `redis`), or, where the runs under memory limits show a smaller one, the smallest limit under \
             which the strategy's p99 stayed within {slowdown:.0}× of its p99 without one; start: time until lookups run at \
             speed (the open: an index built or reused, a table loaded; then the files mapped in), a reopen \
             with the build it needs once{disk}. Each strategy competes with its best case; each \
             figure is the median of the runs. (tie): the runs cannot tell the best from the runner-up on \
             this machine: their intervals{level} overlap, or they lie within {share:.0} % (and, for a time, \
             {ns:.0} ns: two clock ticks) of each other; the lines below name every strategy not distinguished \
             from the best.",
            self.workload,
            level = self.level.map_or_else(String::new, |l| format!(" ({:.0} % confidence)", l * 100.0)),
            share = PRACTICAL_SHARE * 100.0,
            ns = PRACTICAL_NS,
            slowdown = BUDGET_SLOWDOWN,
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

/// [`recommend_with`] for every dataset of `records` that has latency figures.
pub fn recommend_all(records: &[Record], skipped: &[Skipped], budget: Option<u64>) -> Vec<Recommendation> {
    datasets(records)
        .iter()
        .filter_map(|d| Some(recommend_with(records, skipped, d, latency_workload(records, d)?, budget)))
        .collect()
}

/// A strategy keeps to a memory limit while its p99 under the limit stays
/// within this factor of its p99 without one: past that, the budget has
/// changed what the strategy is (a lookup from memory became one from disk).
pub const BUDGET_SLOWDOWN: f64 = 2.0;

/// The memory limit the main figures of `dataset` were measured under: none
/// when any were measured without one (the others are a sweep's, or a
/// budget's), else the largest (a whole suite run with `--memory-limit`).
pub fn main_limit(records: &[Record], dataset: &DatasetInfo) -> Option<u64> {
    let limits: Vec<Option<u64>> =
        records.iter().filter(|r| &r.dataset == dataset && r.load.is_none()).map(|r| r.memory_limit).collect();
    if limits.contains(&None) { None } else { limits.into_iter().flatten().max() }
}

/// The cases of one dataset that compete in "What to use", and their figure for each goal.
struct Candidates<'a> {
    /// The dataset's suite records of candidates (no cold start, floor or
    /// yardstick), under every memory limit they were measured under.
    ours: Vec<&'a Record>,
    /// Each case of the main figures once, in the order first recorded.
    cases: Vec<&'a CaseId>,
    /// The workload latency is ranked on.
    workload: Workload,
    /// The memory limit of the main figures ([`main_limit`]).
    limit: Option<u64>,
    /// The memory limits some case of the dataset was skipped under (it could not fit).
    skipped_under: Vec<u64>,
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
        let limit = main_limit(records, dataset);
        let mut cases: Vec<&CaseId> = Vec::new();
        for r in ours.iter().filter(|r| r.memory_limit == limit) {
            if !cases.contains(&&r.case) {
                cases.push(&r.case);
            }
        }
        Candidates { ours, cases, workload, limit, skipped_under: Vec::new() }
    }

    /// `s`'s record of `m` on `w` among the main figures.
    fn find(&self, s: &CaseId, w: Option<Workload>, m: Metric) -> Option<&'a Record> {
        self.find_under(self.limit, s, w, m)
    }

    /// `s`'s record of `m` on `w` measured under `limit`.
    fn find_under(&self, limit: Option<u64>, s: &CaseId, w: Option<Workload>, m: Metric) -> Option<&'a Record> {
        self.ours.iter().copied().find(|r| r.memory_limit == limit && r.case == *s && r.workload == w && r.metric == m)
    }

    /// The limits of a sweep or budget beside the main figures, smallest first.
    fn swept(&self) -> Vec<u64> {
        let mut limits: Vec<u64> =
            self.ours.iter().filter_map(|r| r.memory_limit).filter(|l| Some(*l) != self.limit).collect();
        limits.sort_unstable();
        limits.dedup();
        limits
    }

    /// `s`'s tail on the ranked workload under `limit`: its p99, or its
    /// slowest lookup where too few were timed for one.
    fn tail(&self, limit: Option<u64>, s: &CaseId) -> Option<f64> {
        let w = Some(self.workload);
        self.find_under(limit, s, w, Metric::LatencyP99)
            .or_else(|| self.find_under(limit, s, w, Metric::LatencyMax))
            .map(|r| r.value)
    }

    /// The smallest limit `s` was measured under that keeps its tail within
    /// [`BUDGET_SLOWDOWN`] of its tail without it, every larger limit
    /// measured keeping it too; with that tail.
    fn smallest_budget(&self, s: &CaseId) -> Option<(u64, f64)> {
        let unlimited = self.tail(self.limit, s)?;
        let mut kept = None;
        for limit in self.swept().into_iter().rev() {
            let Some(tail) = self.tail(Some(limit), s) else { continue };
            if tail > unlimited * BUDGET_SLOWDOWN {
                break;
            }
            kept = Some((limit, tail));
        }
        kept
    }

    /// `case`'s figure for `goal`, when it has one.
    fn figure(&self, s: &CaseId, goal: Goal) -> Option<Pick> {
        // A record's figure as a pick, with the record's interval over runs.
        let pick = |r: &Record, shown: String| Pick {
            case: s.clone(),
            value: r.value,
            interval: r.spread.map(|s| (s.lower, s.upper)),
            shown,
            at: None,
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
            Some(Pick { case: s.clone(), value, interval, shown: units::bytes(value), at: None })
        };
        let p50 =
            || self.find(s, Some(self.workload), Metric::LatencyP50).map(|r| format!("p50 {}", units::nanos(r.value)));
        match goal {
            Goal::LowestP50 => timed(Metric::LatencyP50),
            Goal::LowestP99 => timed(Metric::LatencyP99).or_else(|| {
                let max = self.find(s, Some(self.workload), Metric::LatencyMax)?;
                Some(pick(max, format!("max {}", units::nanos(max.value))))
            }),
            // The least memory a strategy can be given without leaving its
            // speed: what it held without a limit, or a smaller limit the runs
            // under limits show it kept to. Either way its latency is said
            // beside it: the least memory can be the slowest. A strategy
            // measured under limits competes with the case that was.
            Goal::LeastMemory if self.strategy_swept(s) && !self.case_swept(s) => None,
            Goal::LeastMemory => {
                let held = memory().map(|m| Pick { at: p50(), ..m });
                match (self.smallest_budget(s), held) {
                    (Some((limit, tail)), held) if held.as_ref().is_none_or(|h| (limit as f64) < h.value) => {
                        Some(Pick {
                            case: s.clone(),
                            value: limit as f64,
                            interval: None,
                            shown: format!("{} limit", units::bytes(limit as f64)),
                            at: Some(format!("p99 {}", units::nanos(tail))),
                        })
                    }
                    (_, held) => held,
                }
            }
            // Until lookups run at speed (open, then mapped in), where measured; a
            // reopen also names the build it needs once.
            Goal::FastestStart => {
                let r = self.find(s, None, Metric::ReadyTime).or_else(|| self.find(s, None, Metric::OpenTime))?;
                let build = CaseId::new(s.strategy.clone(), Some(CaseStart::Build));
                let built = self.find(&build, None, Metric::OpenTime).filter(|_| s.started(CaseStart::Reopen));
                let at = built.map(|b| format!("+{} build", units::nanos(b.value)));
                Some(Pick { at, ..pick(r, units::nanos(r.value)) })
            }
            // A build and a reopen share one store on disk: the reopened case stands for both.
            Goal::LeastDisk => {
                let r = self.find(s, None, Metric::DiskBytesPerKey).filter(|_| !s.started(CaseStart::Build))?;
                Some(pick(r, format!("{:.1} B/key", r.value)))
            }
            // Measured under the budget where a run was; else estimated from what it held.
            Goal::LowestP50Within(budget) if self.measured_under(budget) => {
                let r = self.find_under(Some(budget), s, Some(self.workload), Metric::LatencyP50)?;
                Some(pick(r, units::nanos(r.value)))
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

    /// Whether strategies were measured (or found not to fit) under a memory limit of `budget`.
    fn measured_under(&self, budget: u64) -> bool {
        self.skipped_under.contains(&budget) || self.ours.iter().any(|r| r.memory_limit == Some(budget))
    }

    /// Whether some case of `s`'s strategy ran under a limit beside the main figures.
    fn strategy_swept(&self, s: &CaseId) -> bool {
        self.ours
            .iter()
            .any(|r| r.case.strategy == s.strategy && r.memory_limit.is_some() && r.memory_limit != self.limit)
    }

    /// Whether `s` itself ran under a limit beside the main figures.
    fn case_swept(&self, s: &CaseId) -> bool {
        self.ours.iter().any(|r| r.case == *s && r.memory_limit.is_some() && r.memory_limit != self.limit)
    }

    /// What `goal`'s figures rest on, when the reader must know it.
    fn basis(&self, goal: Goal, found: bool) -> Option<String> {
        let Goal::LowestP50Within(budget) = goal else { return None };
        let size = units::bytes(budget as f64);
        Some(match (self.measured_under(budget), found) {
            (true, true) => {
                format!("measured: each lookup ran in a process under a memory limit of {size} (page cache counted)")
            }
            (true, false) => {
                format!("no strategy can serve within {size}: each was skipped as too large for it or failed under it")
            }
            (false, true) => format!(
                "estimated from resident memory read without a limit, not measured under {size} (a limit needs root \
                 and cgroups: run as root to measure it)"
            ),
            (false, false) => {
                format!("no strategy held less than {size} without a limit (an estimate: none was measured under it)")
            }
        })
    }

    fn choose(&self, goal: Goal) -> Choice {
        let ranked = self.ranked(goal);
        let note = self.basis(goal, !ranked.is_empty());
        let not_distinguished = match ranked.first() {
            // A figure of one run has no interval: here it stands for itself alone.
            Some(best) => ranked[1..].iter().filter(|p| goal.indistinct(best, p, 1.0)).cloned().collect(),
            None => Vec::new(),
        };
        let mut picks = ranked.into_iter();
        Choice { goal, best: picks.next(), runner_up: picks.next(), not_distinguished, note }
    }
}

/// Ranks the strategies measured on `dataset` in `records` for each goal;
/// latency on `workload`; with `budget` (bytes), also the lowest p50 within it.
pub fn recommend(records: &[Record], dataset: &DatasetInfo, workload: Workload, budget: Option<u64>) -> Recommendation {
    recommend_with(records, &[], dataset, workload, budget)
}

/// [`recommend`], knowing which cases were `skipped` (and under which memory
/// limit): a budget whose every case was skipped is one nobody can meet, not one never measured.
pub fn recommend_with(
    records: &[Record],
    skipped: &[Skipped],
    dataset: &DatasetInfo,
    workload: Workload,
    budget: Option<u64>,
) -> Recommendation {
    let mut candidates = Candidates::of(records, dataset, workload);
    candidates.skipped_under =
        skipped.iter().filter(|s| &s.dataset == dataset).filter_map(|s| s.memory_limit).collect();
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
        assert_eq!(rows[2][2], format!("{}, p50 300 ns", units::bytes(61e6)), "its speed in the same line");
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

    /// `rec` measured under a memory limit of `limit` bytes.
    fn under(limit: u64, mut r: Record) -> Record {
        r.memory_limit = Some(limit);
        r
    }

    #[test]
    fn a_budget_is_answered_from_the_runs_under_it_and_said_so() {
        const MIB: u64 = 1 << 20;
        let p50 = |s: &str, v: f64| rec(s, "uniform", Metric::LatencyP50, v, None);
        let held = |s: &str, anon: f64, file: f64| {
            [rec(s, "-", Metric::AnonRssBytes, anon, None), rec(s, "-", Metric::FileRssBytes, file, None)]
        };
        let mut records = vec![p50("hashmap", 100.0), p50("phf-index (reopen)", 300.0), p50("scan", 9_000.0)];
        records.extend(held("hashmap", 90e6, 0.0));
        records.extend(held("phf-index (reopen)", 1e6, 64e6));
        records.extend(held("scan", 0.5e6, 64e6));
        // Without a run under 32 MiB, nothing read below it: no pick, and said to be an estimate.
        let dataset = DatasetInfo::generated(1_000, crate::DEFAULT_VALUE_LEN);
        let budget = |records: &[Record], skipped: &[Skipped]| {
            let r = recommend_with(records, skipped, &dataset, Workload::UNIFORM, Some(32 * MIB));
            r.choices.into_iter().find(|c| matches!(c.goal, Goal::LowestP50Within(_))).unwrap()
        };
        let estimated = budget(&records, &[]);
        assert!(estimated.best.is_none());
        assert!(estimated.note.as_deref().unwrap().contains("an estimate"), "{:?}", estimated.note);
        // Measured under the limit: phf-index ran within it (slower), hashmap was skipped.
        records.push(under(32 * MIB, p50("phf-index (reopen)", 52_000.0)));
        records.push(under(32 * MIB, p50("scan", 2e6)));
        let skipped = [Skipped {
            case: CaseId::from_label("hashmap"),
            dataset: dataset.clone(),
            reason: "needs ~100 MiB".into(),
            memory_limit: Some(32 * MIB),
        }];
        let measured = budget(&records, &skipped);
        let name = |p: &Option<Pick>| p.as_ref().map(|p| (p.case.to_string(), p.value));
        assert_eq!(name(&measured.best), Some(("phf-index (reopen)".into(), 52_000.0)), "its figure under the limit");
        assert_eq!(name(&measured.runner_up), Some(("scan".into(), 2e6)));
        assert!(measured.note.as_deref().unwrap().starts_with("measured"), "{:?}", measured.note);
        // A budget every case was skipped under is one nobody can meet.
        let none = budget(&records[..9], &skipped);
        assert!(none.best.is_none() && none.note.as_deref().unwrap().starts_with("no strategy can serve"));
        // The main figures stay those without a limit.
        assert_eq!(chosen(&records, Goal::LowestP50).best.map(|p| p.value), Some(100.0));
    }

    #[test]
    fn least_memory_is_the_smallest_limit_that_keeps_the_tail() {
        const MIB: u64 = 1 << 20;
        let p99 = |s: &str, v: f64| rec(s, "uniform", Metric::LatencyP99, v, None);
        let mut records = vec![
            rec("mmap-index (reopen)", "uniform", Metric::LatencyP50, 400.0, None),
            rec("mmap-index (build)", "uniform", Metric::LatencyP50, 400.0, None),
            p99("mmap-index (reopen)", 1_000.0),
            rec("mmap-index (reopen)", "-", Metric::AnonRssBytes, 1e6, None),
            rec("mmap-index (reopen)", "-", Metric::FileRssBytes, 80e6, None),
            rec("mmap-index (build)", "-", Metric::AnonRssBytes, 1e6, None),
            rec("mmap-index (build)", "-", Metric::FileRssBytes, 20e6, None),
            rec("scan", "uniform", Metric::LatencyP50, 9e5, None),
            rec("scan", "-", Metric::AnonRssBytes, 0.5e6, None),
            rec("scan", "-", Metric::FileRssBytes, 70e6, None),
        ];
        // Within 2× at 96 and 64 MiB, not at 32 MiB; 16 MiB within again (noise) does not count past the break.
        for (limit, tail) in [(96, 1_100.0), (64, 1_900.0), (32, 40_000.0), (16, 1_500.0)] {
            records.push(under(limit * MIB, p99("mmap-index (reopen)", tail)));
        }
        let memory = chosen(&records, Goal::LeastMemory);
        let best = memory.best.unwrap();
        assert_eq!((best.case.to_string(), best.value), ("mmap-index (reopen)".into(), (64 * MIB) as f64));
        assert_eq!((best.shown.as_str(), best.at.as_deref()), ("64 MiB limit", Some("p99 1.9 µs")));
        // The built case was never limited: it does not undercut with what it held.
        let next = memory.runner_up.unwrap();
        assert_eq!(next.case.to_string(), "scan");
        assert_eq!(next.at.as_deref(), Some("p50 900 µs"), "what it held, with its speed");
    }
}
