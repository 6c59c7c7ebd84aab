//! Two result sets compared: which changes are real regressions, and which
//! are the noise of a shared machine.
//!
//! A fixed threshold on wall-clock time cries wolf on a noisy 2-core VM (a
//! run of the same code can be 30 % slower than the last one). So a change
//! counts as a *regression* only when it is in the worse direction (lower is
//! better for time and memory, higher for throughput and hit rate), beyond
//! the threshold of its kind of metric, and, for wall-clock metrics, outside
//! the noise: the two records' spreads (min–max of rounds, or confidence
//! intervals) do not overlap. A wall-clock record without a spread cannot
//! show that, so its large changes are reported as noise, never failed.
//! Counts (instructions, memory, hit rates) barely move between runs of the
//! same code, so they get a tight threshold and no spread is needed.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::markdown;
use crate::schema::{DatasetInfo, Direction, LoadInfo, Metric, Record, Spread, SpreadKind, Unit};
use crate::units;

/// How large a change must be to count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// For wall-clock metrics (times, latencies, throughput, CPU), as a fraction (0.15 = 15 %).
    pub wall_clock: f64,
    /// For counts that barely move between runs: instructions, memory, hit rates, errors.
    pub deterministic: f64,
    /// Memory changes smaller than this many bytes never count: resident
    /// memory moves in pages, and a few pages are a large fraction of a small figure.
    pub bytes_floor: f64,
    /// Time changes smaller than this many nanoseconds never count: a lookup
    /// of a few tens of ns moves by that much with cache and scheduler state
    /// (`warming`'s 29 ns misses read 50 ns in one run of unchanged code). The
    /// instruction counts watch those paths instead.
    pub ns_floor: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { wall_clock: 0.15, deterministic: 0.05, bytes_floor: 64.0 * 1024.0, ns_floor: 25.0 }
    }
}

/// Whether a metric's value is (nearly) the same on every run of the same code.
///
/// File-backed RSS is not: which pages of a mapped file are resident follows
/// the kernel's fault-around and readahead (64 KiB steps, and whatever the
/// page cache already holds), so on small files it moved by 6–50 % between
/// runs of unchanged code. It is compared like a wall-clock figure.
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

/// What a comparison of one measurement concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Worse beyond the threshold, and outside the noise: fails the gate.
    Regressed,
    /// Worse beyond the threshold, but within the noise (or with no spread to tell).
    Noise,
    /// Better beyond the threshold, outside the noise.
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
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::OnlyBefore => "only before",
            Verdict::OnlyAfter => "only after",
        }
    }
}

/// One measurement in the two sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Strategy (or server, or program) label.
    pub strategy: String,
    /// The dataset.
    pub dataset: DatasetInfo,
    /// The workload label.
    pub workload: String,
    /// The metric.
    pub metric: Metric,
    /// The load, for server runs.
    pub load: Option<LoadInfo>,
    /// The value and spread before.
    pub before: Option<(f64, Option<Spread>)>,
    /// The value and spread after.
    pub after: Option<(f64, Option<Spread>)>,
    /// (after − before) / before when both exist, once the
    /// value after is divided by its metric's drift (see [`Comparison::drifts`]).
    pub change: Option<f64>,
    /// What it means.
    pub verdict: Verdict,
}

/// Every measurement of either set, compared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    /// One per measurement, regressions first.
    pub changes: Vec<Change>,
    /// Per timed metric, the whole run's median shift (after / before)
    /// that its changes were judged relative to (see [`compare`]).
    pub drifts: Vec<(Metric, f64)>,
}

type Key = (String, DatasetInfo, String, Metric, Option<LoadInfo>);

/// Compares `after` with `before`, matching records by strategy, dataset,
/// workload, metric and load (when a set holds a key twice, its last record counts).
pub fn compare(before: &[Record], after: &[Record], thresholds: &Thresholds) -> Comparison {
    let mut pairs: BTreeMap<Key, (Option<&Record>, Option<&Record>)> = BTreeMap::new();
    for r in before {
        pairs.entry(r.key()).or_default().0 = Some(r);
    }
    for r in after {
        pairs.entry(r.key()).or_default().1 = Some(r);
    }
    let drifts = drifts(&pairs);
    let mut changes: Vec<Change> = pairs
        .into_iter()
        .map(|((strategy, dataset, workload, metric, load), (b, c))| {
            let drift = drifts.iter().find(|(m, _)| *m == metric).map_or(1.0, |d| d.1);
            let (change, verdict) = match (b, c) {
                (Some(b), Some(c)) => judge(b, &rescaled(c, drift), thresholds),
                (Some(_), None) => (None, Verdict::OnlyBefore),
                (None, _) => (None, Verdict::OnlyAfter),
            };
            Change {
                strategy,
                dataset,
                workload,
                metric,
                load,
                before: b.map(|r| (r.value, r.spread)),
                after: c.map(|r| (r.value, r.spread)),
                change,
                verdict,
            }
        })
        .collect();
    changes.sort_by_key(|c| c.verdict);
    Comparison { changes, drifts }
}

/// Pairs of one wall-clock metric needed before the run's drift is estimated from them.
const MIN_PAIRS_FOR_DRIFT: usize = 8;

/// How much each timed metric moved as a whole between the runs: the median
/// of after / before over every measurement of it, for metrics with at
/// least [`MIN_PAIRS_FOR_DRIFT`] pairs.
///
/// A shared machine makes whole runs faster or slower (noisy neighbours,
/// frequency, cache pressure); a regression in the code under test moves
/// only the measurements that run it. Judging each change relative to the
/// run's median shift keeps the first from failing the gate and leaves the
/// second standing out. The price: a change that slows *every* measurement
/// alike is invisible to the wall-clock gate; the instruction counts, which
/// are not rescaled, still see it.
fn drifts(pairs: &BTreeMap<Key, (Option<&Record>, Option<&Record>)>) -> Vec<(Metric, f64)> {
    let mut ratios: BTreeMap<Metric, Vec<f64>> = BTreeMap::new();
    for (b, c) in pairs.values() {
        if let (Some(b), Some(c)) = (b, c) {
            let timed = matches!(b.metric.unit(), Unit::Ns | Unit::PerSecond);
            if timed && b.value > 0.0 && c.value > 0.0 {
                ratios.entry(b.metric).or_default().push(c.value / b.value);
            }
        }
    }
    ratios
        .into_iter()
        .filter(|(_, r)| r.len() >= MIN_PAIRS_FOR_DRIFT)
        .map(|(metric, r)| (metric, Spread::of_samples(&r).0))
        .collect()
}

/// `record` with its value and spread divided by `drift`.
fn rescaled(record: &Record, drift: f64) -> Record {
    let mut out = record.clone();
    if drift > 0.0 && drift != 1.0 {
        out.value /= drift;
        if let Some(s) = out.spread.as_mut() {
            s.lower /= drift;
            s.upper /= drift;
        }
    }
    out
}

/// Several runs of the same code merged into one blessed run: per measurement,
/// the median of the runs' values, with a min–max spread that covers every
/// run's own spread. A single run's spread (its rounds) misses how much a
/// whole run moves on a shared machine; the envelope of a few runs does not.
/// A measurement without a spread in its runs (a percentile, a count) gets
/// none: two or three values of a tail percentile say too little about its
/// noise to fail a gate on.
pub fn merge_runs(runs: &[Vec<Record>]) -> Vec<Record> {
    let mut by_key: BTreeMap<Key, Vec<&Record>> = BTreeMap::new();
    for run in runs {
        for r in run {
            by_key.entry(r.key()).or_default().push(r);
        }
    }
    by_key
        .into_values()
        .filter_map(|records| {
            let values: Vec<f64> = records.iter().map(|r| r.value).collect();
            let (median, _) = Spread::of_samples(&values);
            let bounds = |r: &&Record| r.spread.map_or((r.value, r.value), |s| (s.lower, s.upper));
            let lower = records.iter().map(bounds).map(|b| b.0).fold(f64::INFINITY, f64::min);
            let upper = records.iter().map(bounds).map(|b| b.1).fold(f64::NEG_INFINITY, f64::max);
            let first = (*records.first()?).clone();
            let merged = Record { value: median, ..first };
            Some(if records.iter().any(|r| r.spread.is_some()) {
                merged.with_spread(lower, upper, SpreadKind::MinMax)
            } else {
                Record { spread: None, ..merged }
            })
        })
        .collect()
}

/// The verdict on one pair of records.
fn judge(before: &Record, after: &Record, t: &Thresholds) -> (Option<f64>, Verdict) {
    let metric = after.metric;
    let (b, c) = (before.value, after.value);
    let change = if b != 0.0 {
        (c - b) / b.abs()
    } else if c == 0.0 {
        0.0
    } else {
        f64::INFINITY
    };
    let worse = match metric.direction() {
        Direction::LowerIsBetter => change,
        Direction::HigherIsBetter => -change,
    };
    let deterministic = is_deterministic(metric);
    let threshold = if deterministic { t.deterministic } else { t.wall_clock };
    let small = match metric.unit() {
        Unit::Bytes => (c - b).abs() < t.bytes_floor,
        Unit::Ns => (c - b).abs() < t.ns_floor,
        _ => false,
    };
    let verdict = if worse.abs() <= threshold || small {
        Verdict::Unchanged
    } else if deterministic || separated(before, after) {
        if worse > 0.0 { Verdict::Regressed } else { Verdict::Improved }
    } else if worse > 0.0 {
        Verdict::Noise
    } else {
        Verdict::Unchanged
    };
    (change.is_finite().then_some(change), verdict)
}

/// Whether the two records' spreads are disjoint (false when either has none).
fn separated(a: &Record, b: &Record) -> bool {
    match (a.spread, b.spread) {
        (Some(x), Some(y)) => x.upper < y.lower || y.upper < x.lower,
        _ => false,
    }
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
    pub const HEADER: [&'static str; 6] = ["measurement", "metric", "before", "after", "change", "verdict"];

    /// One row per change that is not `unchanged` (every change when `all`),
    /// values in their metric's unit ([`units::value`]).
    pub fn rows(&self, all: bool) -> Vec<Vec<String>> {
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
                    c.change.map_or_else(|| "–".into(), |x| format!("{:+.1} %", x * 100.0)),
                    c.verdict.label().to_owned(),
                ]
            })
            .collect()
    }

    /// The verdict counts, e.g. `no regression: 3 noise, 120 unchanged`.
    pub fn summary(&self) -> String {
        let counts: Vec<String> = self.counts().iter().map(|(v, n)| format!("{n} {}", v.label())).collect();
        let mut out = format!("{}: {}", self.headline(), counts.join(", "));
        if !self.drifts.is_empty() {
            let drifts: Vec<String> = self.drifts.iter().map(|(m, d)| format!("{} ×{d:.2}", m.name())).collect();
            let _ = write!(out, " (judged relative to the run's median shift: {})", drifts.join(", "));
        }
        out
    }

    /// A Markdown report (for a pull-request comment): the summary and [`Comparison::rows`].
    pub fn markdown(&self, all: bool) -> String {
        format!("**{}**\n\n{}", self.summary(), markdown::table(&Self::HEADER, &self.rows(all)))
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
        let mut name = format!("{} · {} · {}", self.strategy, self.dataset.label(), self.workload);
        if let Some(l) = &self.load {
            let _ = write!(name, " · {} c{} t{}", l.protocol, l.connections, l.server_threads);
            if let Some(rate) = l.rate {
                let _ = write!(name, " @{rate}/s");
            }
        }
        name
    }
}
