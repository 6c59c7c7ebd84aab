//! Per-lookup latency: each lookup timed on its own into an HdrHistogram.
//!
//! Criterion and [`crate::timing`] give means; users also need the tail.
//! Timing each call adds the clock's own cost (two reads of a monotonic
//! clock, ~20 ns on the reference VM), which [`clock_overhead_ns`] measures
//! and [`Latencies::of`] subtracts; the clock also moves in ticks
//! ([`clock_tick_ns`], ~10 ns there), below which no figure is resolved.
//!
//! A percentile is only reported where the sample count supports it
//! ([`supports`]): the p99 of 5 lookups is their maximum, and saying "p99"
//! hides that.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Latency percentiles of one run, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest.
    pub max: f64,
    /// Lookups recorded.
    pub count: u64,
}

impl Percentiles {
    /// Reads the percentiles of `hist`.
    pub fn of(hist: &Histogram<u64>) -> Self {
        let q = |q: f64| hist.value_at_quantile(q) as f64;
        Percentiles {
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            max: hist.max() as f64,
            count: hist.len(),
        }
    }
}

/// A percentile `q` is reported only when at least this many samples lie
/// beyond it, so it is not simply one of the few largest values.
pub const MIN_BEYOND: f64 = 5.0;

/// Whether `count` samples support the `q` percentile (`q` in 0..1):
/// p50 needs 10 samples, p90 50, p99 500, p99.9 5 000.
pub fn supports(count: u64, q: f64) -> bool {
    count as f64 * (1.0 - q) >= MIN_BEYOND - 1e-9
}

/// Latency of lookups timed one by one, as reported: the clock's cost
/// subtracted from every figure, and only the percentiles the sample count
/// supports (the others `None`: then [`Latencies::max`] of `count` is what there is).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latencies {
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 99.9th percentile.
    pub p999: Option<f64>,
    /// Slowest lookup.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Lookups timed.
    pub count: u64,
    /// The clock's cost subtracted from each figure.
    pub subtracted: f64,
}

impl Latencies {
    /// The figures of `hist` that its count supports, less `clock_ns` (never below 0).
    pub fn of(hist: &Histogram<u64>, clock_ns: f64) -> Self {
        let count = hist.len();
        let less = |v: f64| (v - clock_ns).max(0.0);
        let at = |q: f64| supports(count, q).then(|| less(hist.value_at_quantile(q) as f64));
        Latencies {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p999: at(0.999),
            max: less(hist.max() as f64),
            mean: if count == 0 { 0.0 } else { less(hist.mean()) },
            count,
            subtracted: clock_ns,
        }
    }
}

/// `hist` in log-spaced buckets (four per doubling, from 100 ns) for the
/// results file: a few dozen numbers however many samples it holds.
pub fn buckets(hist: &Histogram<u64>) -> kvbench_results::LatencyHistogram {
    let buckets = hist
        .iter_log(100, 2f64.powf(0.25))
        .filter(|v| v.count_since_last_iteration() > 0)
        .map(|v| kvbench_results::Bucket { le: v.value_iterated_to() as f64, count: v.count_since_last_iteration() })
        .collect();
    kvbench_results::LatencyHistogram { buckets }
}

/// A histogram for latencies from 1 ns to 1 hour at 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    // Constant bounds that `new_with_bounds` documents as valid (low >= 1,
    // high >= 2 * low, sigfig <= 5): this cannot fail on any input.
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("constant histogram bounds are valid")
}

/// How many lookups to time one by one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleBudget {
    /// Stop after this many lookups…
    pub max_ops: u64,
    /// …or once this much time has passed (after at least `min_ops`).
    pub max_time: Duration,
    /// Always time at least this many.
    pub min_ops: u64,
}

impl Default for SampleBudget {
    fn default() -> Self {
        SampleBudget { max_ops: 200_000, max_time: Duration::from_millis(300), min_ops: 5 }
    }
}

impl SampleBudget {
    /// A short budget for smoke runs.
    pub fn quick() -> Self {
        SampleBudget { max_ops: 2_000, max_time: Duration::from_millis(30), min_ops: 2 }
    }
}

/// Times `op(i)` for i = 0, 1, … one call at a time, within `budget`.
pub fn record<E>(budget: &SampleBudget, op: impl FnMut(u64) -> Result<(), E>) -> Result<Histogram<u64>, E> {
    let mut hist = histogram();
    time_each(budget, op, Instant::now, |t| hist.saturating_record(t.elapsed().as_nanos() as u64))?;
    Ok(hist)
}

/// One operation's wall time and the CPU time its thread spent, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timed {
    /// Wall time (descheduled time included): what a caller waited.
    pub wall_ns: u64,
    /// CPU time of the thread (descheduled time left out): what the operation cost.
    pub cpu_ns: u64,
}

/// Like [`record`], but every operation's wall and CPU time, in the order
/// taken: for slow operations, which are few, and whose rounds are made of
/// consecutive operations. (The CPU clock costs a syscall per read, so this
/// is for operations that take far longer than one.)
pub fn record_each<E>(budget: &SampleBudget, op: impl FnMut(u64) -> Result<(), E>) -> Result<Vec<Timed>, E> {
    let mut times = Vec::new();
    let start = || (Instant::now(), crate::timing::thread_cpu_time());
    time_each(budget, op, start, |(wall, cpu)| {
        let cpu_ns = crate::timing::thread_cpu_time().saturating_sub(cpu).as_nanos() as u64;
        times.push(Timed { wall_ns: wall.elapsed().as_nanos() as u64, cpu_ns });
    })?;
    Ok(times)
}

/// A histogram of `times_ns`.
pub fn histogram_of(times_ns: impl IntoIterator<Item = u64>) -> Histogram<u64> {
    let mut hist = histogram();
    for ns in times_ns {
        hist.saturating_record(ns);
    }
    hist
}

/// Calls `op(i)` for i = 0, 1, … one at a time within `budget`, between
/// `start()` and `stop(what start returned)`.
fn time_each<E, S>(
    budget: &SampleBudget,
    mut op: impl FnMut(u64) -> Result<(), E>,
    start: impl Fn() -> S,
    mut stop: impl FnMut(S),
) -> Result<(), E> {
    let begun = Instant::now();
    let mut i = 0;
    while i < budget.max_ops && (i < budget.min_ops || begun.elapsed() < budget.max_time) {
        let stamp = start();
        op(i)?;
        stop(stamp);
        i += 1;
    }
    Ok(())
}

/// Median cost of timing an empty operation this way, in nanoseconds.
pub fn clock_overhead_ns() -> f64 {
    let budget = SampleBudget { max_ops: 10_000, max_time: Duration::from_millis(50), min_ops: 100 };
    match record(&budget, |_| Ok::<(), ()>(())) {
        Ok(hist) => Percentiles::of(&hist).p50,
        Err(()) => 0.0,
    }
}

/// The clock's resolution, from the steps between 10 000 consecutive
/// readings, in nanoseconds (see [`tick_of`]).
pub fn clock_tick_ns() -> f64 {
    let mut steps = Vec::with_capacity(10_000);
    let mut last = Instant::now();
    for _ in 0..10_000 {
        let now = Instant::now();
        steps.push(now.duration_since(last).as_nanos() as u64);
        last = now;
    }
    tick_of(&steps)
}

/// The tick of a clock whose consecutive readings were `steps` apart.
///
/// A reading costs more than a tick, so the smallest step is the cost, not
/// the tick; but the steps bunch at multiples of the tick (20, 30, 40 ns on
/// the reference VM), each smeared by a nanosecond of scaling jitter (21,
/// 31). So: the step values seen at least 1 % of the time, those within 2 ns
/// of a more frequent one dropped, and the smallest gap between the rest
/// (the only value when one remains; 0 with no steps). A clock finer than
/// the jitter reads as ~3 ns.
pub fn tick_of(steps: &[u64]) -> f64 {
    let mut counts: Vec<(u64, usize)> = Vec::new();
    for &s in steps.iter().filter(|&&s| s > 0) {
        match counts.iter_mut().find(|(v, _)| *v == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((s, 1)),
        }
    }
    counts.retain(|&(_, n)| n * 100 >= steps.len());
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let mut peaks: Vec<u64> = Vec::new();
    for (v, _) in counts {
        if !peaks.iter().any(|p| p.abs_diff(v) <= 2) {
            peaks.push(v);
        }
    }
    peaks.sort_unstable();
    let gap = peaks.windows(2).map(|w| w[1] - w[0]).min();
    gap.or(peaks.first().copied()).unwrap_or(0) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut hist = histogram();
        for v in 1..=1000u64 {
            hist.record(v * 1000).unwrap();
        }
        let p = Percentiles::of(&hist);
        assert_eq!(p.count, 1000);
        let near = |a: f64, b: f64| (a - b).abs() / b < 0.01;
        assert!(near(p.p50, 500_000.0) && near(p.p90, 900_000.0) && near(p.p99, 990_000.0), "{p:?}");
        assert!(near(p.max, 1_000_000.0), "{p:?}");
    }

    #[test]
    fn buckets_keep_every_sample_and_the_percentile_curve() {
        let mut hist = histogram();
        for v in 1..=1000u64 {
            hist.record(v * 1000).unwrap();
        }
        hist.record(50).unwrap();
        let b = buckets(&hist);
        assert_eq!(b.total(), 1001);
        assert!(b.buckets.windows(2).all(|w| w[0].le < w[1].le));
        assert!(b.buckets[0].count == 1 && b.buckets[0].le < 100.0, "{:?}", b.buckets[0]);
        let curve = b.quantiles();
        assert_eq!(curve.last().map(|p| p.0), Some(1.0));
        // The median falls in the bucket holding 500 µs, which is at most 19 % wide.
        let median = curve.iter().find(|(q, _)| *q >= 0.5).map(|p| p.1).unwrap();
        assert!((500_000.0..=500_000.0 * 1.19).contains(&median), "{median}");
    }

    #[test]
    fn percentiles_need_samples_beyond_them() {
        assert!(supports(10, 0.5) && !supports(9, 0.5));
        assert!(supports(500, 0.99) && !supports(499, 0.99));
        assert!(supports(5_000, 0.999) && !supports(4_999, 0.999));
    }

    #[test]
    fn latencies_subtract_the_clock_and_drop_unsupported_percentiles() {
        let mut hist = histogram();
        for v in 1..=100u64 {
            hist.record(v * 10).unwrap();
        }
        let l = Latencies::of(&hist, 20.0);
        assert_eq!((l.count, l.subtracted, l.max), (100, 20.0, 1_000.0 - 20.0));
        assert_eq!((l.p50, l.p90, l.p99, l.p999), (Some(500.0 - 20.0), Some(900.0 - 20.0), None, None));
        assert_eq!(l.mean, 505.0 - 20.0);
        // Five lookups: no percentile at all, only the max of 5.
        let mut few = histogram();
        for v in [30, 40, 50, 60, 70u64] {
            few.record(v).unwrap();
        }
        let l = Latencies::of(&few, 35.0);
        assert_eq!((l.p50, l.max, l.count), (None, 35.0, 5));
        assert_eq!(Latencies::of(&histogram(), 20.0).mean, 0.0);
    }

    #[test]
    fn the_clock_tick_is_the_gap_between_the_steps_readings_bunch_at() {
        // The reference VM: readings ~25 ns apart, landing 20, 30 or 40 ns apart, ±1 ns.
        let mut steps = Vec::new();
        for (step, n) in [(20, 57), (21, 2), (30, 113), (31, 5), (40, 20), (41, 1), (170, 1)] {
            steps.extend(std::iter::repeat_n(step, n));
        }
        assert_eq!(tick_of(&steps), 10.0);
        // A nanosecond clock: the steps spread over every value, and jitter merging leaves 3 ns.
        assert_eq!(tick_of(&(0..1000).map(|i| 20 + i % 7).collect::<Vec<_>>()), 3.0);
        assert_eq!(tick_of(&[25; 10]), 25.0);
        assert_eq!(tick_of(&[0, 0]), 0.0);
    }

    #[test]
    fn record_respects_the_budget_and_errors() {
        let budget = SampleBudget { max_ops: 50, max_time: Duration::from_secs(60), min_ops: 1 };
        let hist = record(&budget, |_| Ok::<(), ()>(())).unwrap();
        assert_eq!(hist.len(), 50);
        assert_eq!(record(&budget, |i| if i == 3 { Err("stop") } else { Ok(()) }).unwrap_err(), "stop");
        let times = record_each(&budget, |_| Ok::<(), ()>(())).unwrap();
        assert_eq!((times.len(), histogram_of(times.iter().map(|t| t.wall_ns)).len()), (50, 50));
    }
}
