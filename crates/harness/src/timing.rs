//! Timing in rounds: enough iterations per round to be above clock noise,
//! several rounds, and the median with its spread.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Per-operation time over several rounds, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundStats {
    /// Median of the rounds' per-operation times.
    pub median_ns: f64,
    /// Fastest round.
    pub min_ns: f64,
    /// Slowest round.
    pub max_ns: f64,
    /// Rounds measured.
    pub rounds: u32,
    /// Operations per round.
    pub ops_per_round: u64,
    /// Every call made, warm-up and calibration included: the index the
    /// next measurement over the same sequence should start from.
    #[serde(default)]
    pub calls: u64,
}

impl RoundStats {
    /// Summarises per-operation times of several rounds.
    pub fn of(per_op_ns: &[f64], ops_per_round: u64) -> Self {
        let (median, range) = kvbench_results::Spread::of_samples(per_op_ns);
        RoundStats {
            median_ns: median,
            min_ns: range.lower,
            max_ns: range.upper,
            rounds: per_op_ns.len() as u32,
            ops_per_round,
            calls: 0,
        }
    }
}

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Aim for rounds at least this long (slow operations run once per round).
    pub round_time: Duration,
    /// Rounds when one operation is fast.
    pub rounds: u32,
    /// Rounds when one operation alone takes longer than `round_time`.
    pub slow_rounds: u32,
}

impl Default for Plan {
    fn default() -> Self {
        Plan { round_time: Duration::from_millis(20), rounds: 11, slow_rounds: 5 }
    }
}

impl Plan {
    /// A few short rounds: checks that everything runs, figures are rough.
    pub fn quick() -> Self {
        Plan { round_time: Duration::from_millis(2), rounds: 3, slow_rounds: 2 }
    }
}

/// Times `op(i)` for i = 0, 1, 2, … in rounds.
///
/// One call warms up (its page faults and cache misses are not measured);
/// then batches double until one takes an eighth of a round, which sets how
/// many operations a round holds. Operations slower than a round run once per
/// round, for `slow_rounds` rounds.
pub fn measure<E>(plan: &Plan, mut op: impl FnMut(u64) -> Result<(), E>) -> Result<RoundStats, E> {
    let mut next = 0;
    let mut call = |n: u64, op: &mut dyn FnMut(u64) -> Result<(), E>| -> Result<Duration, E> {
        let start = Instant::now();
        for _ in 0..n {
            op(next)?;
            next += 1;
        }
        Ok(start.elapsed())
    };
    call(1, &mut op)?;
    let mut batch = 1u64;
    let per_round = loop {
        let took = call(batch, &mut op)?.max(Duration::from_nanos(1));
        if took >= plan.round_time / 8 || batch >= 1 << 24 {
            break (plan.round_time.as_nanos() * u128::from(batch) / took.as_nanos()).clamp(1, 1 << 27) as u64;
        }
        batch *= 2;
    };
    let rounds = if per_round == 1 { plan.slow_rounds } else { plan.rounds };
    let mut samples = Vec::with_capacity(rounds as usize);
    for _ in 0..rounds {
        samples.push(call(per_round, &mut op)?.as_nanos() as f64 / per_round as f64);
    }
    Ok(RoundStats { calls: next, ..RoundStats::of(&samples, per_round) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_statistics() {
        let s = RoundStats::of(&[5.0, 1.0, 3.0], 10);
        assert_eq!((s.median_ns, s.min_ns, s.max_ns, s.rounds), (3.0, 1.0, 5.0, 3));
        assert_eq!(RoundStats::of(&[4.0, 1.0, 3.0, 2.0], 1).median_ns, 2.5);
        assert_eq!(RoundStats::of(&[], 1).rounds, 0);
    }

    #[test]
    fn measure_calls_op_with_distinct_indices_and_stops_on_error() {
        let plan = Plan { round_time: Duration::from_micros(50), rounds: 3, slow_rounds: 2 };
        let mut seen = Vec::new();
        let s = measure(&plan, |i| {
            seen.push(i);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(s.rounds, 3);
        assert!(seen.len() as u64 > 1 + 3 * s.ops_per_round, "warm-up and calibration calls come first");
        assert_eq!(s.calls, seen.len() as u64);
        assert!(seen.windows(2).all(|w| w[1] == w[0] + 1));
        assert_eq!(seen[0], 0);
        assert_eq!(measure(&plan, |i| if i == 2 { Err("boom") } else { Ok(()) }), Err("boom"));
    }
}
