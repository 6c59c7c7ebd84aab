//! Two sides' runs compared: which changes are real regressions, and which
//! are the noise of a shared machine.
//!
//! The regression gate (`benches/gate.sh`, `just ci-bench`) runs the before
//! commit and the candidate alternately in one job, ten fresh processes each,
//! and [`compare`]s the two sides' runs. Both sides ran on the same machine
//! in the same minutes, so what differs between them is the code: nothing is
//! divided out, and a slowdown of every strategy is a slowdown.
//!
//! On a shared machine noise adds time: a preempted round, a neighbour
//! thrashing the cache. Runs of unchanged code there (`tests/data/`) fall
//! into a fast mode and a mode up to twice as slow, so a run's median moves
//! by tens of percent while the best of ten runs stays within a few percent.
//! So each run contributes its best reading of a figure (a lookup mean its
//! fastest round; a percentile or an open time its one value), and a
//! wall-clock figure *regressed* only when, beyond its threshold, the after
//! side's best run and its lower quartile are worse than the before side's,
//! and even its best run is worse than the before side's median run: the
//! fast end of the runs moved, not one lucky or unlucky run. Improvements
//! are the same test the other way. A figure measured once by a single run
//! (a percentile) has no spread to tell its noise and is reported as noise,
//! never failed, as are the figures the machine sets rather than the code
//! ([`reported_only`]: the slowest lookup, file-backed RSS). Counts
//! (instructions, heap bytes, hit rates) barely move between runs and are
//! judged on their median alone.
//!
//! Runs from different machines (a stored run against today's) say nothing
//! about wall-clock figures: [`Comparison::differences`] names what differs,
//! and those figures get [`Verdict::OtherMachine`] instead of a verdict.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::env::RunInfo;
use crate::markdown;
use crate::names::{CaseId, CaseStart};
use crate::schema::{DatasetInfo, Direction, LoadInfo, Metric, Record, RecordKey, Spread, SpreadKind};
use crate::units;
use crate::workload::Workload;

/// How large a change must be to count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// For wall-clock figures of a typical operation (means, p50, p90, open
    /// and ready times, throughput, CPU), as a fraction (0.15 = 15 %).
    pub wall_clock: f64,
    /// For tail latencies (p99, p99.9, max), which move most between runs of
    /// unchanged code (a cache miss more or less in 1 % of lookups), and for
    /// every figure of a cold case, which times reads from the machine's shared disk.
    pub tail: f64,
    /// For counts that barely move between runs: instructions, memory, hit rates, errors.
    pub deterministic: f64,
    /// Resident-memory changes smaller than this many bytes never count:
    /// resident memory moves in the kernel's steps (pages, 64 KiB of
    /// fault-around), not in the code's.
    pub resident_floor: f64,
    /// Heap changes smaller than this many bytes never count: the probe's own
    /// allocations and `lru`'s seeded shards moved heap figures by up to
    /// 10 KiB between processes of the same binary (`scan`'s heap at open
    /// read 8.9 or 15.4 KiB), which is 60 % of a small figure.
    pub heap_floor: f64,
    /// The clock's tick in ns. A lookup timed alone reads a whole number of
    /// ticks, so a percentile can move by one tick when the true value moves
    /// by a hair: changes under two ticks never count.
    pub clock_tick_ns: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            wall_clock: 0.15,
            tail: 0.5,
            deterministic: 0.05,
            resident_floor: 64.0 * 1024.0,
            heap_floor: 16.0 * 1024.0,
            clock_tick_ns: 10.0,
        }
    }
}

/// Whether a metric's value is (nearly) the same on every run of the same code.
///
/// File-backed RSS is not: which pages of a mapped file are resident follows
/// the kernel's fault-around and readahead (64 KiB steps, and whatever the
/// page cache already holds); see [`reported_only`].
pub fn is_deterministic(metric: Metric) -> bool {
    matches!(
        metric,
        Metric::Instructions
            | Metric::HeapBytes
            | Metric::AnonRssBytes
            | Metric::AnonBytesPerKey
            | Metric::OpenHeapBytes
            | Metric::OpenAnonRssBytes
            | Metric::ProcessPeakRss
            | Metric::HitRate
            | Metric::Errors
    )
}

/// Whether a figure is the machine's rather than the code's, and so is
/// reported (as noise) but never fails the gate: the slowest lookup of a run
/// is a preemption or an interrupt, and file-backed RSS is which pages of a
/// file the kernel's page cache and fault-around left mapped (`hashmap`'s read
/// 64–232 KiB, `scan-lines`' 64–152 KiB across runs of unchanged code, and
/// one side's median moved by 20 % in an A/B job of unchanged code).
pub fn reported_only(metric: Metric) -> bool {
    matches!(metric, Metric::LatencyMax | Metric::FileRssBytes | Metric::OpenFileRssBytes)
}

/// The threshold a figure of `metric` measured by `case` is judged with.
fn threshold(metric: Metric, case: &CaseId, t: &Thresholds) -> f64 {
    let tail = matches!(metric, Metric::LatencyP99 | Metric::LatencyP999 | Metric::LatencyMax);
    if is_deterministic(metric) {
        t.deterministic
    } else if tail || reported_only(metric) || case.started(CaseStart::Cold) {
        t.tail
    } else {
        t.wall_clock
    }
}

/// The smallest change of `metric` that can count, in its unit, whatever its percentage.
pub(crate) fn floor(metric: Metric, dataset: &DatasetInfo, t: &Thresholds) -> f64 {
    match metric {
        Metric::LatencyP50 | Metric::LatencyP90 | Metric::LatencyP99 | Metric::LatencyP999 | Metric::LatencyMax => {
            2.0 * t.clock_tick_ns
        }
        Metric::AnonRssBytes
        | Metric::FileRssBytes
        | Metric::OpenAnonRssBytes
        | Metric::OpenFileRssBytes
        | Metric::ServerRss
        | Metric::ProcessPeakRss => t.resident_floor,
        Metric::AnonBytesPerKey => t.resident_floor / dataset.keys.max(1) as f64,
        Metric::HeapBytes | Metric::OpenHeapBytes => t.heap_floor,
        _ => 0.0,
    }
}

/// What a comparison of one measurement concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Worse beyond the threshold at the fast end of the runs (see the module docs): fails the gate.
    Regressed,
    /// Worse beyond the threshold in its best or median run, but not at the
    /// whole fast end (or with no spread to tell): within the noise.
    Noise,
    /// A wall-clock change beyond the threshold between runs on different
    /// machines: not judged (see [`Comparison::differences`]).
    OtherMachine,
    /// Better beyond the threshold at the fast end of the runs.
    Improved,
    /// Within the threshold.
    Unchanged,
    /// Only in the results before (a measurement went away).
    OnlyBefore,
    /// Only in the results after (a new measurement).
    OnlyAfter,
}

impl Verdict {
    /// How tables show it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regressed => "REGRESSED",
            Verdict::Noise => "noise",
            Verdict::OtherMachine => "other machine",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::OnlyBefore => "only before",
            Verdict::OnlyAfter => "only after",
        }
    }
}

/// One measurement in the two sets.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Change {
    /// The case: strategy (or server, or program) and its start.
    #[serde(flatten)]
    pub case: CaseId,
    /// The dataset.
    pub dataset: DatasetInfo,
    /// The workload, if one applies.
    pub workload: Option<Workload>,
    /// The metric.
    pub metric: Metric,
    /// The load, for server runs.
    pub load: Option<LoadInfo>,
    /// The value and spread before.
    pub before: Option<(f64, Option<Spread>)>,
    /// The value and spread after.
    pub after: Option<(f64, Option<Spread>)>,
    /// (after − before) / before of the values (the medians of merged runs), when both exist.
    pub change: Option<f64>,
    /// The same of the best ends of the spreads (the fastest run or round), when both sides have one.
    pub best_change: Option<f64>,
    /// What it means.
    pub verdict: Verdict,
}

/// A way in which the machines or toolchains of the two sides differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// What differs: `cpu`, `cores`, `os` or `toolchain`.
    pub what: &'static str,
    /// The values in the records before (distinct, sorted).
    pub before: Vec<String>,
    /// The values in the records after.
    pub after: Vec<String>,
}

impl Difference {
    /// Whether it is the machine that differs (CPU, cores, kernel), not only the toolchain.
    pub fn is_machine(&self) -> bool {
        self.what != "toolchain"
    }
}

/// Every measurement of either side, compared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    /// One per measurement, regressions first.
    pub changes: Vec<Change>,
    /// How the two sides' machines and toolchains differ (empty when they ran alike).
    pub differences: Vec<Difference>,
}

type Key = RecordKey;

/// Compares the runs `after` with the runs `before`: each side one or more
/// runs of the same code on one machine (each a fresh process), every run a
/// list of records matched across runs and sides by strategy, dataset,
/// workload, metric and load (when a run holds a key twice, its last record
/// counts). Two single result sets compare as `compare(&[before], &[after], …)`.
pub fn compare(before: &[Vec<Record>], after: &[Vec<Record>], thresholds: &Thresholds) -> Comparison {
    let mut pairs: BTreeMap<Key, (Vec<&Record>, Vec<&Record>)> = BTreeMap::new();
    for (side, runs) in [(0, before), (1, after)] {
        for run in runs {
            let last: BTreeMap<Key, &Record> = run.iter().map(|r| (r.key(), r)).collect();
            for (key, r) in last {
                let entry = pairs.entry(key).or_default();
                if side == 0 { entry.0.push(r) } else { entry.1.push(r) }
            }
        }
    }
    let all = |runs: &[Vec<Record>]| runs.iter().flatten().cloned().collect::<Vec<_>>();
    let differences = differences(&all(before), &all(after));
    let other_machine = differences.iter().any(Difference::is_machine);
    let mut changes: Vec<Change> = pairs
        .into_iter()
        .map(|((case, dataset, workload, metric, load, _memory_limit), (b, c))| {
            let verdict = match (b.is_empty(), c.is_empty()) {
                (false, false) => match judge(&b, &c, thresholds) {
                    // Wall-clock figures from two machines differ by the machines.
                    Verdict::Regressed | Verdict::Improved | Verdict::Noise
                        if other_machine && !is_deterministic(metric) =>
                    {
                        Verdict::OtherMachine
                    }
                    v => v,
                },
                (false, true) => Verdict::OnlyBefore,
                (true, _) => Verdict::OnlyAfter,
            };
            let (b, c) = (pool(&b), pool(&c));
            let best = |r: &Record| r.spread.map(|s| best(metric, &s));
            Change {
                change: b.as_ref().zip(c.as_ref()).and_then(|(b, c)| relative(b.value, c.value)),
                best_change: b.as_ref().and_then(best).zip(c.as_ref().and_then(best)).and_then(|(b, c)| relative(b, c)),
                case,
                dataset,
                workload,
                metric,
                load,
                before: b.map(|r| (r.value, r.spread)),
                after: c.map(|r| (r.value, r.spread)),
                verdict,
            }
        })
        .collect();
    changes.sort_by_key(|c| c.verdict);
    Comparison { changes, differences }
}

/// A field of [`RunInfo`] read as text.
type Field = fn(&RunInfo) -> String;

/// The machine and toolchain fields in which `before` and `after` differ.
fn differences(before: &[Record], after: &[Record]) -> Vec<Difference> {
    let fields: [(&'static str, Field); 4] = [
        ("cpu", |r| r.cpu.clone()),
        ("cores", |r| r.cores.to_string()),
        ("os", |r| r.os.clone()),
        ("toolchain", |r| r.toolchain.clone()),
    ];
    let values =
        |records: &[Record], field: Field| -> BTreeSet<String> { records.iter().map(|r| field(&r.run)).collect() };
    fields
        .into_iter()
        .filter_map(|(what, field)| {
            let (b, a) = (values(before, field), values(after, field));
            (!b.is_empty() && !a.is_empty() && b != a).then(|| Difference {
                what,
                before: b.into_iter().collect(),
                after: a.into_iter().collect(),
            })
        })
        .collect()
}

/// (to − from) / |from|, `None` when `from` is 0 and `to` is not.
fn relative(from: f64, to: f64) -> Option<f64> {
    if from != 0.0 {
        Some((to - from) / from.abs())
    } else if to == 0.0 {
        Some(0.0)
    } else {
        None
    }
}

/// The best end of a spread: the lowest time, the highest throughput.
fn best(metric: Metric, s: &Spread) -> f64 {
    match metric.direction() {
        Direction::LowerIsBetter => s.lower,
        Direction::HigherIsBetter => s.upper,
    }
}

/// `x` of `metric` as a cost, lower is better: throughput as time per request.
fn cost(metric: Metric, x: f64) -> f64 {
    match metric.direction() {
        Direction::LowerIsBetter => x,
        Direction::HigherIsBetter if x > 0.0 => 1.0 / x,
        Direction::HigherIsBetter => f64::INFINITY,
    }
}

/// The `q`-quantile of `sorted` (ascending, not empty), interpolated between neighbours.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len().saturating_sub(1)) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    let at = |i: usize| sorted.get(i.min(sorted.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
    at(i) * (1.0 - frac) + at(i + 1) * frac
}

/// The verdict on one measurement, from its records in each side's runs (neither empty).
fn judge(before: &[&Record], after: &[&Record], t: &Thresholds) -> Verdict {
    let Some(last) = after.last() else { return Verdict::OnlyBefore };
    let metric = last.metric;
    let threshold = threshold(metric, &last.case, t);
    let floor = floor(metric, &last.dataset, t);
    // Worse than `from` beyond the threshold and the floor, in cost (lower is better).
    let beyond = |from: f64, to: f64| to - from > threshold * from.abs() && (to - from) >= floor;
    // Each run's value, and its best reading (a lookup mean's fastest round), as sorted costs.
    let costs = |records: &[&Record], reading: &dyn Fn(&Record) -> f64| {
        let mut c: Vec<f64> = records.iter().map(|r| cost(metric, reading(r))).collect();
        c.sort_by(f64::total_cmp);
        c
    };
    let value = |r: &Record| r.value;
    let best_reading = |r: &Record| r.spread.map_or(r.value, |s| best(metric, &s));
    let (b, c) = (costs(before, &best_reading), costs(after, &best_reading));
    let (b_values, c_values) = (costs(before, &value), costs(after, &value));
    if is_deterministic(metric) {
        let (b, c) = (quantile(&b_values, 0.5), quantile(&c_values, 0.5));
        return if beyond(b, c) {
            Verdict::Regressed
        } else if beyond(c, b) {
            Verdict::Improved
        } else {
            Verdict::Unchanged
        };
    }
    // A single run without a spread (a percentile, an open time) cannot tell its noise.
    let spread = |records: &[&Record]| records.len() > 1 || records.iter().any(|r| r.spread.is_some());
    let judged = spread(before) && spread(after) && !reported_only(metric);
    // Slower at the fast end of the runs: the best run, the lower quartile,
    // and the best run after against the median run before.
    let slower = |b: &[f64], c: &[f64]| {
        let (best_b, best_c) = (quantile(b, 0.0), quantile(c, 0.0));
        beyond(best_b, best_c) && beyond(quantile(b, 0.25), quantile(c, 0.25)) && best_c > quantile(b, 0.5)
    };
    if judged && slower(&b, &c) {
        Verdict::Regressed
    } else if judged && slower(&c, &b) {
        Verdict::Improved
    } else if beyond(quantile(&b, 0.0), quantile(&c, 0.0)) || beyond(quantile(&b_values, 0.5), quantile(&c_values, 0.5))
    {
        Verdict::Noise
    } else {
        Verdict::Unchanged
    }
}

/// Why runs could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// There was nothing to merge.
    #[error("no runs to merge")]
    NoRuns,
    /// The runs come from different machines, whose figures differ by the machine.
    #[error("the runs come from different machines ({first}; {other}): merge runs of one machine only")]
    Machines {
        /// The machine of the first record.
        first: String,
        /// Another machine found.
        other: String,
    },
}

/// CPU, cores and kernel of a run, as one string: runs whose wall-clock figures compare have the same.
pub fn machine(run: &RunInfo) -> String {
    format!("{}, {} cores, {}", run.cpu, run.cores, run.os)
}

/// Several runs of the same code, each a fresh process, pooled into one
/// result set by [`pool`]ing each measurement's records. Runs must come from
/// one machine: figures of two machines differ by the machines.
pub fn merge_runs(runs: &[Vec<Record>]) -> Result<Vec<Record>, MergeError> {
    let first = runs.iter().flatten().next().ok_or(MergeError::NoRuns)?;
    let first_machine = machine(&first.run);
    if let Some(other) = runs.iter().flatten().map(|r| machine(&r.run)).find(|m| *m != first_machine) {
        return Err(MergeError::Machines { first: first_machine, other });
    }
    let mut by_key: BTreeMap<Key, Vec<&Record>> = BTreeMap::new();
    for run in runs {
        for r in run {
            by_key.entry(r.key()).or_default().push(r);
        }
    }
    Ok(by_key.values().filter_map(|records| pool(records)).collect())
}

/// One measurement's records from several runs as one record: the median of
/// their values, with a min–max spread that covers every run and every run's
/// own spread (its rounds), so its best end is the run or round least
/// disturbed by the machine. A figure that one run measures once (a
/// percentile, an open time) gets its spread from the runs; a single record
/// stays as it is. `None` when there are no records.
pub fn pool(records: &[&Record]) -> Option<Record> {
    let first = *records.first()?;
    if records.len() == 1 {
        return Some(first.clone());
    }
    let values: Vec<f64> = records.iter().map(|r| r.value).collect();
    let (median, _) = Spread::of_samples(&values);
    let bounds = |r: &&Record| r.spread.map_or((r.value, r.value), |s| (s.lower, s.upper));
    let lower = records.iter().map(bounds).map(|b| b.0).fold(f64::INFINITY, f64::min);
    let upper = records.iter().map(bounds).map(|b| b.1).fold(f64::NEG_INFINITY, f64::max);
    Some(Record { value: median, ..first.clone() }.with_spread(lower, upper, SpreadKind::MinMax))
}

impl Comparison {
    /// How many changes fail the gate.
    pub fn regressions(&self) -> usize {
        self.changes.iter().filter(|c| c.verdict == Verdict::Regressed).count()
    }

    /// How many changes have each verdict, in verdict order.
    pub fn counts(&self) -> Vec<(Verdict, usize)> {
        let mut out: Vec<(Verdict, usize)> = Vec::new();
        for c in &self.changes {
            match out.iter_mut().find(|(v, _)| *v == c.verdict) {
                Some((_, n)) => *n += 1,
                None => out.push((c.verdict, 1)),
            }
        }
        out
    }

    /// The table's columns.
    pub const HEADER: [&'static str; 7] = ["measurement", "metric", "before", "after", "change", "best", "verdict"];

    /// One row per change that is not `unchanged` (every change when `all`),
    /// values in their metric's unit ([`units::value`]); `best` is the change
    /// of the best ends of the spreads.
    pub fn rows(&self, all: bool) -> Vec<Vec<String>> {
        let percent = |x: Option<f64>| x.map_or_else(|| "–".into(), |x| format!("{:+.1} %", x * 100.0));
        self.changes
            .iter()
            .filter(|c| all || c.verdict != Verdict::Unchanged)
            .map(|c| {
                let value = |v: &Option<(f64, Option<Spread>)>| {
                    v.map_or_else(|| "–".into(), |(v, _)| units::value(c.metric.unit(), v))
                };
                vec![
                    c.name(),
                    c.metric.name().to_owned(),
                    value(&c.before),
                    value(&c.after),
                    percent(c.change),
                    percent(c.best_change),
                    c.verdict.label().to_owned(),
                ]
            })
            .collect()
    }

    /// The verdict counts, e.g. `no regression: 3 noise, 120 unchanged`.
    pub fn summary(&self) -> String {
        let counts: Vec<String> = self.counts().iter().map(|(v, n)| format!("{n} {}", v.label())).collect();
        format!("{}: {}", self.headline(), counts.join(", "))
    }

    /// One sentence per way the two sides' machines or toolchains differ,
    /// and what that means for the verdicts.
    pub fn notes(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .differences
            .iter()
            .map(|d| format!("{} differs: {} before, {} after", d.what, d.before.join(" / "), d.after.join(" / ")))
            .collect();
        if self.differences.iter().any(Difference::is_machine) {
            out.push(
                "the two sides ran on different machines: wall-clock changes are not judged (verdict \
                 'other machine'); run both sides in one job (`just ci-bench`) to judge them"
                    .into(),
            );
        } else if !self.differences.is_empty() {
            out.push("every change includes the toolchain's".into());
        }
        out
    }

    /// A Markdown report (for a pull-request comment): the summary, the notes and [`Comparison::rows`].
    pub fn markdown(&self, all: bool) -> String {
        let mut out = format!("**{}**\n\n", self.summary());
        for note in self.notes() {
            let _ = writeln!(out, "- {note}");
        }
        if !self.differences.is_empty() {
            out.push('\n');
        }
        out + &markdown::table(&Self::HEADER, &self.rows(all))
    }

    /// One line: whether the gate passes.
    pub fn headline(&self) -> String {
        match self.regressions() {
            0 => "no regression".into(),
            1 => "1 regression".into(),
            n => format!("{n} regressions"),
        }
    }
}

impl Change {
    /// `strategy · dataset · workload` (and the load, for server runs).
    pub fn name(&self) -> String {
        let workload = crate::names::workload_label(self.workload.as_ref(), self.case.start);
        let mut name = format!("{} · {} · {workload}", self.case, self.dataset.label());
        if let Some(l) = &self.load {
            let _ = write!(name, " · {} c{} t{}", l.protocol, l.connections, l.server_threads);
            if let Some(rate) = l.rate {
                let _ = write!(name, " @{rate}/s");
            }
        }
        name
    }
}
