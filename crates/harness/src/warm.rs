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
//!
//! A strategy's own cache that kvbench cannot read (an engine's page cache,
//! redb's cache) is watched through what it costs instead ([`settled`]):
//! rounds of lookups until the calls that read its file stop falling and the
//! round's time stops falling, so that the first workload timed does not pay
//! for filling it and the order of the workloads changes no figure.

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

/// One round of lookups made to let a strategy's own caches fill.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Round {
    /// Lookups made.
    pub lookups: u64,
    /// Time the round took, in nanoseconds.
    pub ns: f64,
    /// System calls that read (`pread` into an engine's cache) the round made.
    pub read_calls: u64,
}

/// Rounds always made before [`settled`] may say yes: two to compare, each
/// after two before it.
pub const MIN_ROUNDS: usize = 4;

/// How much faster the last two rounds may be than the two before and still
/// count as no longer falling (3 %): a shared machine's rounds vary by about that.
pub const NOT_FALLING: f64 = 0.97;

/// Whether rounds of lookups show a strategy's caches settled: the last two
/// rounds made no fewer read calls than the two before them (within two
/// standard errors of counts that arrive as a Poisson stream), or under 0.01
/// a lookup, and took at least [`NOT_FALLING`] of their time. Pairs, not
/// single rounds: a cache filling by a few percent a round falls by less
/// than one round's noise.
pub fn settled(rounds: &[Round]) -> bool {
    let [.., a, b, c, d] = rounds else { return false };
    let (before, after) = ((a.read_calls + b.read_calls) as f64, (c.read_calls + d.read_calls) as f64);
    let few = after < 0.01 * (c.lookups + d.lookups) as f64;
    let calls_steady = few || before - after <= 2.0 * (before + after).sqrt();
    calls_steady && c.ns + d.ns >= NOT_FALLING * (a.ns + b.ns)
}

/// The time of the rounds before the first that ran at the settled speed
/// (within 10 % of the fastest round): what a start waits beyond its open
/// before its lookups run at the speed the tables report.
pub fn slow_start_ns(rounds: &[Round]) -> f64 {
    let fastest = rounds.iter().map(|r| r.ns / r.lookups.max(1) as f64).fold(f64::INFINITY, f64::min);
    rounds.iter().take_while(|r| r.ns / r.lookups.max(1) as f64 > 1.1 * fastest).map(|r| r.ns).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounds(ns: &[f64], calls: &[u64]) -> Vec<Round> {
        ns.iter().zip(calls).map(|(&ns, &read_calls)| Round { lookups: 2_000, ns, read_calls }).collect()
    }

    #[test]
    fn a_filling_cache_is_not_settled_until_its_reads_and_time_stop_falling() {
        // An engine's cache filling: reads per lookup falling, then none.
        let filling = rounds(&[9e6, 7e6, 5e6, 3.5e6, 3e6, 3e6, 3e6, 3e6], &[1_900, 1_400, 900, 300, 40, 0, 0, 0]);
        let first = (MIN_ROUNDS..=filling.len()).find(|&n| settled(&filling[..n]));
        assert_eq!(first, Some(8), "settled once two rounds read nothing and took as long as the two before");
        // Read calls steady at a plateau (a cache smaller than the store), time flat: settled.
        let plateau = rounds(&[4e6; 4], &[1_500, 1_520, 1_490, 1_510]);
        assert!(settled(&plateau));
        // A cache filling slowly: each round within one round's noise of the last, but two
        // rounds 15 % below the two before, well beyond their noise (2 x sqrt(1480) = 77).
        assert!(!settled(&rounds(&[4e6; 4], &[410, 390, 350, 330])));
        // Time still falling by more than 3 % although the reads are steady: not yet.
        assert!(!settled(&rounds(&[4e6, 4e6, 3.6e6, 3.6e6], &[0; 4])));
        // A round slower than the ones before is not falling.
        assert!(settled(&rounds(&[1e6, 1e6, 1e6, 1.4e6], &[0; 4])));
        assert!(!settled(&filling[..3]), "fewer than MIN_ROUNDS");
    }

    #[test]
    fn the_slow_start_is_the_rounds_before_the_settled_speed() {
        let filling = rounds(&[9e6, 7e6, 5e6, 3.5e6, 3.2e6, 3e6], &[0; 6]);
        assert_eq!(slow_start_ns(&filling), 9e6 + 7e6 + 5e6 + 3.5e6, "3.2e6 is within 10 % of 3e6");
        assert_eq!(slow_start_ns(&rounds(&[3e6, 3.1e6, 3e6, 3e6], &[0; 4])), 0.0, "at speed from the first");
    }

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
