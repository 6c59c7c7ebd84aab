//! When a cache is warm: windows of lookups until the hit rate stops moving.
//!
//! A fixed warm-up is not enough: after 3× its capacity of uniform lookups a
//! cache holding every key has seen only 95 % of them. The rule here is the
//! one [`crate::probe::warm_cache`] applies in the micro harness (windows of
//! `max(capacity, 10 000)` lookups until two in a row differ by under 0.2
//! points), with one addition: two windows also agree when they differ by
//! less than their sampling noise. A window of 10 000 lookups at a 50 % hit
//! rate has a standard error of 0.5 points, so two such windows of a cache
//! that has long settled still differ by more than 0.2 points three times in
//! four, and the strict rule would run until its limit. The macro benchmark
//! applies the rule to a server, whose counters it reads over `/metrics`.

/// Two windows in a row whose hit rates differ by less than this (0.2 points) mean the cache has settled.
pub const STEADY: f64 = 0.002;

/// The smallest window: a small cache still sees enough lookups per window for a stable rate.
pub const MIN_WINDOW: u64 = 10_000;

/// How many lookups make one warm-up window for a cache of `capacity` entries:
/// each window can turn the whole cache over.
pub fn window(capacity: u64) -> u64 {
    capacity.max(MIN_WINDOW)
}

/// Whether two windows of `lookups` lookups each, with hit rates `a` then
/// `b`, agree: within [`STEADY`], or within two standard errors of their difference.
pub fn agree(a: f64, b: f64, lookups: u64) -> bool {
    let noise = 2.0 * ((a * (1.0 - a) + b * (1.0 - b)) / lookups.max(1) as f64).sqrt();
    (b - a).abs() < STEADY.max(noise)
}

/// How a warm-up ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Warmed {
    /// Windows run.
    pub windows: u64,
    /// The hit rate of the last window (`None` if no window ran or none reported one).
    pub hit_rate: Option<f64>,
    /// Whether the last two windows agreed (else `max_windows` ran out, or there is no cache).
    pub steady: bool,
}

/// Runs `window(i)` for `i` = 0, 1, … (each makes one window of `lookups`
/// lookups and returns its hit rate, `None` when there is no cache to watch,
/// which ends the warm-up) until two windows in a row [`agree`] or
/// `max_windows` have run.
pub fn until_steady<E>(
    max_windows: u64,
    lookups: u64,
    mut window: impl FnMut(u64) -> Result<Option<f64>, E>,
) -> Result<Warmed, E> {
    let mut warmed = Warmed { windows: 0, hit_rate: None, steady: false };
    while warmed.windows < max_windows {
        let rate = window(warmed.windows)?;
        warmed.windows += 1;
        let previous = std::mem::replace(&mut warmed.hit_rate, rate);
        let Some(rate) = rate else { break };
        if previous.is_some_and(|p| agree(p, rate, lookups)) {
            warmed.steady = true;
            break;
        }
    }
    Ok(warmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rates: &[Option<f64>], max: u64, lookups: u64) -> Warmed {
        until_steady(max, lookups, |i| Ok::<_, ()>(rates[i as usize])).unwrap()
    }

    #[test]
    fn windows_run_until_two_in_a_row_agree() {
        let filling = [Some(0.05), Some(0.30), Some(0.45), Some(0.499), Some(0.5), Some(0.5)];
        let big = 10_000_000;
        assert_eq!(run(&filling, 10, big), Warmed { windows: 5, hit_rate: Some(0.5), steady: true });
        assert_eq!(run(&filling, 3, big), Warmed { windows: 3, hit_rate: Some(0.45), steady: false });
        assert_eq!(run(&[None, Some(0.5)], 10, big), Warmed { windows: 1, hit_rate: None, steady: false });
        assert_eq!(run(&[], 0, big), Warmed { windows: 0, hit_rate: None, steady: false });
        // 10 000 lookups at 50 %: 0.499 and 0.45 are 3.5 standard errors apart, 0.499 and 0.494 under one.
        let noisy = [Some(0.45), Some(0.499), Some(0.494)];
        assert_eq!(run(&noisy, 10, 10_000), Warmed { windows: 3, hit_rate: Some(0.494), steady: true });
    }

    #[test]
    fn windows_are_a_capacity_and_agreement_allows_for_noise() {
        assert_eq!(window(100), MIN_WINDOW);
        assert_eq!(window(500_000), 500_000);
        assert!(agree(0.5, 0.5019, u64::MAX) && !agree(0.5, 0.5021, u64::MAX));
        assert!(agree(0.5, 0.513, 10_000) && !agree(0.5, 0.515, 10_000));
        assert!(agree(1.0, 1.0, 0) && !agree(0.0, 0.01, 1 << 40));
    }
}
