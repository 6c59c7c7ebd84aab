//! Per-lookup latency: each lookup timed on its own into an HdrHistogram.
//!
//! Criterion and [`crate::timing`] give means; users also need the tail.
//! Timing each call adds the clock's own cost (two reads of a monotonic
//! clock), which [`clock_overhead_ns`] measures so reports can state it.

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
#[derive(Clone, Copy, Debug)]
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
pub fn record<E>(budget: &SampleBudget, mut op: impl FnMut(u64) -> Result<(), E>) -> Result<Histogram<u64>, E> {
    let mut hist = histogram();
    let start = Instant::now();
    let mut i = 0;
    while i < budget.max_ops && (i < budget.min_ops || start.elapsed() < budget.max_time) {
        let t = Instant::now();
        op(i)?;
        hist.saturating_record(t.elapsed().as_nanos() as u64);
        i += 1;
    }
    Ok(hist)
}

/// Median cost of timing an empty operation this way, in nanoseconds.
pub fn clock_overhead_ns() -> f64 {
    let budget = SampleBudget { max_ops: 10_000, max_time: Duration::from_millis(50), min_ops: 100 };
    match record(&budget, |_| Ok::<(), ()>(())) {
        Ok(hist) => Percentiles::of(&hist).p50,
        Err(()) => 0.0,
    }
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
    fn record_respects_the_budget_and_errors() {
        let budget = SampleBudget { max_ops: 50, max_time: Duration::from_secs(60), min_ops: 1 };
        let hist = record(&budget, |_| Ok::<(), ()>(())).unwrap();
        assert_eq!(hist.len(), 50);
        assert_eq!(record(&budget, |i| if i == 3 { Err("stop") } else { Ok(()) }).unwrap_err(), "stop");
    }
}
