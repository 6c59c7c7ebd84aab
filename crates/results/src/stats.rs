//! Statistics of repeated runs: the median and a confidence interval for it
//! that assumes nothing about the shape of the distribution.
//!
//! Timings on a shared machine are skewed (a run is slowed far more often
//! than sped up), so a symmetric "± half the range" misdescribes them, and a
//! mean is pulled by one disturbed run. The median of independent runs with
//! an interval between two of the runs' own values (order statistics) is
//! neither: the interval is as asymmetric as the data, and its confidence
//! level follows from the binomial distribution alone (Conover, *Practical
//! Nonparametric Statistics*, §3.2). With 5 runs the min–max is a 93.8 %
//! interval, with 3 runs only a 75 % one, which is why the level is kept.

/// The median of some values, with a distribution-free confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MedianCi {
    /// The sample median (mean of the middle two for an even count).
    pub median: f64,
    /// Lower bound: the k-th smallest value.
    pub lower: f64,
    /// Upper bound: the k-th largest value.
    pub upper: f64,
    /// Probability that `lower..=upper` holds the true median (0 with a single value).
    pub level: f64,
}

/// The confidence level the suite aims for; with too few runs it gets the widest interval they allow.
pub const TARGET_LEVEL: f64 = 0.95;

/// The median of `values` and the narrowest order-statistic interval whose
/// confidence reaches `target` (or, when even the min–max falls short, the
/// min–max and its lower level). `None` for no values; NaNs sort last.
pub fn median_ci(values: &[f64], target: f64) -> Option<MedianCi> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let (first, last) = (*sorted.first()?, *sorted.last()?);
    let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
    if n == 1 {
        return Some(MedianCi { median, lower: first, upper: last, level: 0.0 });
    }
    // Widen from the innermost pair outwards; the first k (counted from the
    // ends) whose coverage reaches the target is the narrowest that does.
    let mut k = 1;
    while k < n.div_ceil(2) && coverage(n, k + 1) >= target {
        k += 1;
    }
    Some(MedianCi { median, lower: sorted[k - 1], upper: sorted[n - k], level: coverage(n, k) })
}

/// Probability that the k-th smallest and k-th largest of `n` independent
/// values enclose the median: 1 − 2·P(Binomial(n, ½) ≤ k − 1).
pub fn coverage(n: usize, k: usize) -> f64 {
    if k == 0 || 2 * k > n + 1 {
        return 0.0;
    }
    // Binomial probabilities in log space, so that large `n` does not underflow 2^-n.
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_choose = 0.0;
    let mut below = 0.0;
    for i in 0..k {
        below += (ln_choose + ln_half_n).exp();
        ln_choose += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
    }
    (1.0 - 2.0 * below).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn coverage_matches_the_binomial_by_hand() {
        // Min–max of n values: 1 − 2/2^n.
        assert!(near(coverage(3, 1), 0.75));
        assert!(near(coverage(5, 1), 1.0 - 2.0 / 32.0));
        // Second smallest and largest of 10: 1 − 2·(1 + 10)/1024.
        assert!(near(coverage(10, 2), 1.0 - 22.0 / 1024.0));
        assert_eq!((coverage(4, 0), coverage(4, 3)), (0.0, 0.0));
        // Large counts do not underflow: the interval widens only as √n.
        assert!(coverage(5_000, 2_430) > 0.95 && coverage(5_000, 2_480) < 0.95);
    }

    #[test]
    fn five_runs_give_the_min_max_at_94_percent_and_keep_the_skew() {
        let ci = median_ci(&[340.0, 402.0, 331.0, 348.0, 351.0], TARGET_LEVEL).unwrap();
        assert_eq!((ci.median, ci.lower, ci.upper), (348.0, 331.0, 402.0));
        assert!(near(ci.level, 0.9375));
        // Asymmetric as the data: 17 ns below, 54 ns above.
        assert!(ci.median - ci.lower < ci.upper - ci.median);
    }

    #[test]
    fn more_runs_narrow_the_interval_to_the_target() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        let ci = median_ci(&values, TARGET_LEVEL).unwrap();
        assert_eq!((ci.median, ci.lower, ci.upper), (10.5, 6.0, 15.0));
        assert!(ci.level >= TARGET_LEVEL && coverage(20, 7) < TARGET_LEVEL, "{ci:?}");
    }

    #[test]
    fn few_values() {
        assert_eq!(median_ci(&[], TARGET_LEVEL), None);
        assert_eq!(median_ci(&[7.0], TARGET_LEVEL), Some(MedianCi { median: 7.0, lower: 7.0, upper: 7.0, level: 0.0 }));
        let two = median_ci(&[4.0, 2.0], TARGET_LEVEL).unwrap();
        assert_eq!((two.median, two.lower, two.upper, two.level), (3.0, 2.0, 4.0, 0.5));
        assert!(near(median_ci(&[3.0, 1.0, 2.0], TARGET_LEVEL).unwrap().level, 0.75));
    }
}
