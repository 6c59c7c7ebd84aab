//! Change points and drift in a series of one figure over commits: where it
//! stepped, by how much, with what confidence, and whether it is creeping.
//!
//! **Steps: E-divisive with a permutation test** (Matteson and James, "A
//! Nonparametric Approach for Multiple Change Point Analysis of Multivariate
//! Data", JASA 2014; the method MongoDB's performance CI adopted, Daly et al.,
//! ICPE 2020). For every split of a segment, the energy statistic
//!
//! ```text
//! Q(τ) = τ(n−τ)/n · ( 2/(τ(n−τ)) Σ_{i≤τ<j} |xᵢ−xⱼ|^α − 1/C(τ,2) Σ_{i<k≤τ} |xᵢ−xₖ|^α − 1/C(n−τ,2) Σ_{τ<j<k} |xⱼ−xₖ|^α )
//! ```
//!
//! measures how far apart the two sides' distributions are; the best split's
//! significance is the share of random reorderings of the segment whose best
//! split scores at least as high. A significant split is kept and both sides
//! are searched again; a split between two sides that each repeat one value
//! exactly (a deterministic figure that stepped) is kept without the test,
//! which cannot reach significance with a few runs a side. Nothing is tuned per metric: one significance level
//! and one minimum segment length serve instruction counts (nearly
//! noiseless: a step of a few percent stands out) and wall-clock figures
//! (noisy: a step is reported with the confidence the test gives it). The
//! reorderings come from a seeded generator, so a series always gives the
//! same answer.
//!
//! **Drift: Mann–Kendall** over a window, with the Theil–Sen slope for its
//! size: five changes of +4 % each, none of which a per-commit threshold
//! would flag, add up to a monotone trend the test finds.

/// How the detector decides.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Exponent of the distances, in (0, 2): 1 compares means and spreads alike.
    pub alpha: f64,
    /// Random reorderings per significance test.
    pub permutations: usize,
    /// A split is kept when its permutation p-value is at most this.
    pub significance: f64,
    /// Fewest points on each side of a split.
    pub min_segment: usize,
    /// Seed of the reorderings.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { alpha: 1.0, permutations: 199, significance: 0.01, min_segment: 3, seed: 0x006b_7662_656e_6368 }
    }
}

/// A step found in a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChangePoint {
    /// Index of the first point after the step.
    pub index: usize,
    /// Median of the points from the previous change point (or the start) up to the step.
    pub before: f64,
    /// Median of the points from the step up to the next change point (or the end).
    pub after: f64,
    /// Permutation p-value of the split when it was found.
    pub p_value: f64,
}

impl ChangePoint {
    /// The step relative to the level before it: 0.05 for +5 %.
    pub fn relative(&self) -> f64 {
        if self.before == 0.0 { 0.0 } else { self.after / self.before - 1.0 }
    }

    /// Confidence that the step is real: 1 − its p-value.
    pub fn confidence(&self) -> f64 {
        1.0 - self.p_value
    }
}

/// The change points of `series`, in order (E-divisive, see the module docs).
pub fn change_points(series: &[f64], settings: &Settings) -> Vec<ChangePoint> {
    let mut rng = settings.seed;
    let mut splits: Vec<(usize, f64)> = Vec::new();
    let mut pending = vec![(0, series.len())];
    while let Some((start, end)) = pending.pop() {
        let Some(segment) = series.get(start..end) else { continue };
        let Some((at, score)) = best_split(segment, settings) else { continue };
        // Two sides that are each one repeated value, and differ, are two
        // distributions for certain: a deterministic figure (instruction
        // counts) stepped. A permutation test could not say so with a few
        // runs a side (3 against 4 orders only 35 ways).
        let constant = |side: &[f64]| side.windows(2).all(|w| w[0] == w[1]);
        let certain = segment.split_at_checked(at).is_some_and(|(l, r)| constant(l) && constant(r));
        let p_value = if certain { 0.0 } else { permutation_p(segment, score, settings, &mut rng) };
        if p_value <= settings.significance {
            splits.push((start + at, p_value));
            pending.push((start, start + at));
            pending.push((start + at, end));
        }
    }
    splits.sort_by_key(|s| s.0);
    let bounds: Vec<usize> =
        std::iter::once(0).chain(splits.iter().map(|s| s.0)).chain(std::iter::once(series.len())).collect();
    splits
        .iter()
        .enumerate()
        .map(|(i, &(index, p_value))| {
            let level = |from: usize, to: usize| median(series.get(from..to).unwrap_or_default());
            ChangePoint { index, before: level(bounds[i], index), after: level(index, bounds[i + 2]), p_value }
        })
        .collect()
}

/// The split of `x` with the highest energy statistic, if any scores above 0.
fn best_split(x: &[f64], settings: &Settings) -> Option<(usize, f64)> {
    let n = x.len();
    let m = settings.min_segment.max(1);
    if n < 2 * m {
        return None;
    }
    let d = |i: usize, j: usize| (x[i] - x[j]).abs().powf(settings.alpha);
    // Moving the split one to the right moves one point from the right side
    // to the left: each sum is updated in O(n), every split in O(n²).
    let (mut within_left, mut between) = (0.0, 0.0);
    let mut within_right: f64 = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).map(|(i, j)| d(i, j)).sum();
    let mut best: Option<(usize, f64)> = None;
    for tau in 1..n {
        // Point `tau - 1` joins the left side.
        let moved = tau - 1;
        let to_left: f64 = (0..moved).map(|i| d(i, moved)).sum();
        let to_right: f64 = (tau..n).map(|j| d(moved, j)).sum();
        within_left += to_left;
        within_right -= to_right;
        between += to_right - to_left;
        if tau < m || n - tau < m {
            continue;
        }
        let (l, r) = (tau as f64, (n - tau) as f64);
        let pairs = |k: f64| if k > 1.0 { k * (k - 1.0) / 2.0 } else { 1.0 };
        let energy = 2.0 * between / (l * r) - within_left / pairs(l) - within_right / pairs(r);
        let score = l * r / n as f64 * energy;
        if score > 1e-12 * (1.0 + between.abs()) && best.is_none_or(|(_, s)| score > s) {
            best = Some((tau, score));
        }
    }
    best
}

/// The share of random reorderings of `x` whose best split scores at least `score` (the observed one counts too).
fn permutation_p(x: &[f64], score: f64, settings: &Settings, rng: &mut u64) -> f64 {
    let mut shuffled = x.to_vec();
    let mut at_least = 1;
    for _ in 0..settings.permutations {
        for i in (1..shuffled.len()).rev() {
            let j = (next(rng) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        if best_split(&shuffled, settings).is_some_and(|(_, s)| s >= score) {
            at_least += 1;
        }
    }
    at_least as f64 / (settings.permutations + 1) as f64
}

/// The next number of a SplitMix64 stream.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A monotone trend over a window of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Drift {
    /// Theil–Sen slope: the median change per point.
    pub slope: f64,
    /// The slope over the whole window relative to the window's median: 0.2 for +20 %.
    pub relative: f64,
    /// Two-sided p-value of the Mann–Kendall test (normal approximation, ties corrected).
    pub p_value: f64,
}

/// The trend of `window` (Mann–Kendall, Theil–Sen), or `None` for fewer than 4 points.
pub fn drift(window: &[f64]) -> Option<Drift> {
    let n = window.len();
    if n < 4 {
        return None;
    }
    let pairs = || (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j)));
    let s: f64 = pairs().map(|(i, j)| sign(window[j] - window[i])).sum();
    let mut sorted = window.to_vec();
    sorted.sort_by(f64::total_cmp);
    // Ties shrink the variance: Σ t(t−1)(2t+5) over groups of equal values.
    let mut ties = 0.0;
    let mut i = 0;
    while i < n {
        let t = sorted[i..].iter().take_while(|v| **v == sorted[i]).count();
        ties += (t * (t.saturating_sub(1)) * (2 * t + 5)) as f64;
        i += t;
    }
    let nf = n as f64;
    let variance = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let z = if variance <= 0.0 || s == 0.0 { 0.0 } else { (s - s.signum()) / variance.sqrt() };
    let p_value = if z == 0.0 { 1.0 } else { (2.0 * (1.0 - normal_cdf(z.abs()))).clamp(0.0, 1.0) };
    let slopes: Vec<f64> = pairs().map(|(i, j)| (window[j] - window[i]) / (j - i) as f64).collect();
    let slope = median(&slopes);
    let level = median(window);
    let relative = if level == 0.0 { 0.0 } else { slope * (nf - 1.0) / level };
    Some(Drift { slope, relative, p_value })
}

fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// The standard normal distribution function (Abramowitz and Stegun 7.1.26, error under 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise: uniform in [-1, 1), from a seeded stream.
    fn noise(seed: u64, n: usize) -> Vec<f64> {
        let mut state = seed;
        (0..n).map(|_| (next(&mut state) >> 11) as f64 / (1u64 << 52) as f64 - 1.0).collect()
    }

    #[test]
    fn a_5_percent_step_in_a_noiseless_series_is_found_where_it_is() {
        let series: Vec<f64> = (0..24).map(|i| if i < 14 { 582.5 } else { 611.6 }).collect();
        let found = change_points(&series, &Settings::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].index, 14);
        assert!((found[0].relative() - 0.05).abs() < 0.001, "{found:?}");
        assert!(found[0].p_value <= 0.01);
        assert!(change_points(&[582.5; 24], &Settings::default()).is_empty(), "a constant series has no step");
    }

    #[test]
    fn a_20_percent_step_in_a_noisy_series_is_found_with_its_confidence() {
        // ±8 % noise around 1000 ns, +20 % from commit 15 on.
        let series: Vec<f64> = noise(3, 30)
            .iter()
            .enumerate()
            .map(|(i, e)| if i < 15 { 1000.0 } else { 1200.0 } * (1.0 + 0.08 * e))
            .collect();
        let found = change_points(&series, &Settings::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((14..=16).contains(&found[0].index), "{found:?}");
        assert!((found[0].relative() - 0.2).abs() < 0.06, "{found:?}");
        assert!(found[0].confidence() >= 0.99, "{found:?}");
    }

    #[test]
    fn a_flat_noisy_series_has_no_change_point() {
        for seed in 0..20 {
            let series: Vec<f64> = noise(seed, 30).iter().map(|e| 1000.0 * (1.0 + 0.1 * e)).collect();
            let found = change_points(&series, &Settings::default());
            assert!(found.is_empty(), "seed {seed}: {found:?}");
            assert!(drift(&series).is_none_or(|d| d.p_value > 0.01), "seed {seed}: {:?}", drift(&series));
        }
    }

    #[test]
    fn a_slow_drift_of_small_steps_is_found_as_a_trend() {
        // Five changes of +4 % each, three commits apart, ±1 % noise: each under a 5 % gate.
        let series: Vec<f64> = noise(11, 18)
            .iter()
            .enumerate()
            .map(|(i, e)| 1000.0 * 1.04f64.powi((i / 3) as i32) * (1.0 + 0.01 * e))
            .collect();
        let d = drift(&series).unwrap();
        assert!(d.p_value < 0.001, "{d:?}");
        assert!((0.18..0.26).contains(&d.relative), "+21.7 % over the window: {d:?}");
        let flat = drift(&[5.0, 5.0, 5.0, 5.0, 5.0]).unwrap();
        assert_eq!((flat.p_value, flat.relative), (1.0, 0.0));
        assert!(drift(&[1.0, 2.0]).is_none());
    }

    #[test]
    fn a_deterministic_figure_that_steps_twice_a_few_runs_apart_shows_both_steps() {
        // The truncation guard's history: +33 instructions, then -17 three commits later.
        let series: Vec<f64> = [566.5; 6].into_iter().chain([599.5; 3]).chain([582.5; 4]).collect();
        let found = change_points(&series, &Settings::default());
        assert_eq!(found.iter().map(|c| c.index).collect::<Vec<_>>(), [6, 9], "{found:?}");
        assert_eq!((found[0].before, found[0].after, found[1].after), (566.5, 599.5, 582.5));
        // With noise the same shape needs more runs a side: not claimed from 3.
        let noisy: Vec<f64> = series.iter().zip(noise(5, 13)).map(|(v, e)| v * (1.0 + 0.001 * e)).collect();
        assert!(change_points(&noisy, &Settings::default()).iter().all(|c| c.index != 9));
    }

    #[test]
    fn two_steps_are_both_found_and_the_answer_is_repeatable() {
        let series: Vec<f64> = (0..30).map(|i| [434.0, 463.0, 450.0][i / 10]).collect();
        let found = change_points(&series, &Settings::default());
        assert_eq!(found.iter().map(|c| c.index).collect::<Vec<_>>(), [10, 20], "{found:?}");
        assert_eq!(found, change_points(&series, &Settings::default()));
        assert!(change_points(&[], &Settings::default()).is_empty());
        assert!(change_points(&[1.0, 2.0], &Settings::default()).is_empty());
    }

    #[test]
    fn the_normal_distribution_function_is_accurate() {
        for (z, p) in [(0.0, 0.5), (1.0, 0.841_344_7), (1.96, 0.975_002_1), (-2.576, 0.004_997_9)] {
            assert!((normal_cdf(z) - p).abs() < 1e-6, "{z}: {}", normal_cdf(z));
        }
    }
}
