//! Timing in rounds: enough iterations per round to be above clock noise,
//! several rounds, and their median.
//!
//! Two loops, because they answer two questions. [`measure`] runs operations
//! back to back, as a batch job does: the CPU overlaps one lookup's cache
//! misses with the next one's, so its time per operation is the inverse of
//! throughput, and below the latency of any single lookup. [`measure_chained`]
//! makes each operation wait for the previous one (its index depends on the
//! previous answer, and on x86-64 a load fence separates them), so its time
//! per operation is a latency, as a request that arrives after the previous
//! one was answered sees it.
//!
//! Rounds are timed in CPU time of the measuring thread, not wall time: on a
//! machine shared with other work (the reference VM has 2 cores and often 4
//! busy sessions), a round of a few milliseconds is often descheduled for part
//! of it, and wall time then measures the neighbours. The wall time is kept
//! beside it ([`RoundStats::wall_median_ns`]), so a report can say how much of
//! a CPU the probe got. Lookups timed one by one ([`crate::latency`]) are in
//! wall time: their tail is what a caller on this machine waits.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::latency::SampleBudget;

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
    /// Median of the rounds' wall time per operation (descheduled time
    /// included); 0 where only CPU time was taken.
    #[serde(default)]
    pub wall_median_ns: f64,
}

impl RoundStats {
    /// The same rounds counted per item, when each operation handled `items` (a batch of keys).
    pub fn per(self, items: u64) -> Self {
        let n = items.max(1) as f64;
        RoundStats {
            median_ns: self.median_ns / n,
            min_ns: self.min_ns / n,
            max_ns: self.max_ns / n,
            ops_per_round: self.ops_per_round * items.max(1),
            wall_median_ns: self.wall_median_ns / n,
            ..self
        }
    }

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
            wall_median_ns: 0.0,
        }
    }

    /// Rounds made of operations timed one by one (`times_ns`, in the order
    /// taken): `rounds` groups of consecutive operations (the last holds the
    /// remainder; one operation each when there are fewer), so that a slow
    /// operation's figure is, like a fast one's, the median of rounds' means,
    /// and an operation the scheduler interrupted moves one round, not the result.
    pub fn of_one_by_one(times_ns: &[u64], rounds: u32) -> Self {
        let per_round = (times_ns.len() / rounds.max(1) as usize).max(1);
        let means: Vec<f64> = times_ns
            .chunks(per_round)
            .filter(|c| c.len() == per_round)
            .map(|c| c.iter().sum::<u64>() as f64 / c.len() as f64)
            .collect();
        RoundStats { calls: times_ns.len() as u64, ..RoundStats::of(&means, per_round as u64) }
    }

    /// Operations timed in the rounds (warm-up and calibration not counted).
    pub fn samples(&self) -> u64 {
        u64::from(self.rounds) * self.ops_per_round
    }
}

/// How long to measure one workload.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Time for each way of timing the lookups (overlapped rounds, chained
    /// rounds, one by one). A slow operation ([`is_slow`]) is timed one by one
    /// only, for three times this.
    pub time: Duration,
    /// Rounds the overlapped and chained times are the median of.
    pub rounds: u32,
    /// Lookups timed one by one: at least this many, however long they take…
    pub min_samples: u64,
    /// …and at most this many.
    pub max_samples: u64,
}

impl Default for Plan {
    fn default() -> Self {
        Plan { time: Duration::from_millis(80), rounds: 11, min_samples: 10, max_samples: 200_000 }
    }
}

impl Plan {
    /// A few short rounds: checks that everything runs, figures are rough.
    pub fn quick() -> Self {
        Plan { time: Duration::from_millis(10), rounds: 3, min_samples: 3, max_samples: 2_000 }
    }

    /// How long one round lasts.
    pub fn round_time(&self) -> Duration {
        self.time / self.rounds.max(1)
    }

    /// The budget for timing lookups one by one: this plan's time, or all
    /// three shares of it for a slow operation, which is timed no other way.
    pub fn one_by_one(&self, slow: bool) -> SampleBudget {
        let max_time = if slow { self.time * 3 } else { self.time };
        SampleBudget { max_ops: self.max_samples, max_time, min_ops: self.min_samples }
    }
}

/// Operations at least this slow are timed one by one only: the overlap
/// between two consecutive lookups (a cache miss or two, well under 1 µs) is
/// then under 1 % of their time, so the mean of lookups timed alone is also
/// their throughput and their chained latency, and the whole budget buys
/// samples of one kind (a scan of a large file gets three times as many).
pub const SLOW_OP: Duration = Duration::from_micros(100);

/// Whether `ops` operations that took `elapsed` in all are slow ([`SLOW_OP`]).
pub fn is_slow(ops: u64, elapsed: Duration) -> bool {
    ops > 0 && elapsed.as_nanos() >= SLOW_OP.as_nanos() * u128::from(ops)
}

/// Calls `op(0)` to warm up, then `op(1)`, `op(2)`, … until 16 calls, or at
/// least 3 and 2 × [`SLOW_OP`] of CPU time, and says whether those were slow
/// (in CPU time, so that being descheduled does not make a fast operation
/// look slow; at least 3, so that one lucky key early in a scanned file does
/// not make a slow one look fast). Returns the calls made, so measuring can
/// continue the same sequence.
pub fn probe_speed<E>(mut op: impl FnMut(u64) -> Result<(), E>) -> Result<(bool, u64), E> {
    op(0)?;
    let start = thread_cpu_time();
    let elapsed = || thread_cpu_time().saturating_sub(start);
    let mut timed = 0;
    while timed < 16 && (timed < 3 || elapsed() < SLOW_OP * 2) {
        op(1 + timed)?;
        timed += 1;
    }
    Ok((is_slow(timed, elapsed()), 1 + timed))
}

/// Times `op(i)` for i = 0, 1, 2, … back to back, in rounds: the time per
/// operation when operations overlap (throughput).
///
/// One call warms up (its page faults and cache misses are not measured);
/// then batches double until one takes an eighth of a round, which sets how
/// many operations a round holds.
pub fn measure<E>(plan: &Plan, mut op: impl FnMut(u64) -> Result<(), E>) -> Result<RoundStats, E> {
    rounds(plan, |next| {
        op(*next)?;
        *next += 1;
        Ok(())
    })
}

/// Times `op(i)` for i = 0, 1, 2, … in rounds, each call waiting for the
/// previous one: the latency of one operation, without the clock's cost.
///
/// `op` returns a number read from its answer (a value's length, say); the
/// next index is computed from it (masked by a zero the compiler cannot see,
/// so the sequence is still 0, 1, 2, …), so the next call cannot start before
/// that answer has arrived. Answers that are a branch's outcome (found or
/// not) carry no such dependency, so on x86-64 a load fence (`lfence`: no
/// later instruction starts before every earlier one has completed)
/// separates the calls as well.
pub fn measure_chained<E>(plan: &Plan, mut op: impl FnMut(u64) -> Result<u64, E>) -> Result<RoundStats, E> {
    let zero = std::hint::black_box(0u64);
    rounds(plan, |next| {
        let answer = op(*next)?;
        *next += 1 + (answer & zero);
        wait_for_loads();
        Ok(())
    })
}

/// CPU time the calling thread has run so far (`CLOCK_THREAD_CPUTIME_ID`):
/// time it was descheduled does not count. A syscall (~0.3 µs), so read it
/// around rounds, not around single fast operations.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec for clock_gettime to write; the clock
    // id is one Linux always has, and on failure `ts` stays zero.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0))
}

/// Lets no later instruction start before every earlier load has completed.
#[inline(always)]
fn wait_for_loads() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: lfence needs SSE2, which every x86-64 CPU has; it touches no memory.
    unsafe {
        std::arch::x86_64::_mm_lfence();
    }
}

/// The rounds of [`measure`] and [`measure_chained`]: `step` makes one call
/// and moves the index it is given to the next call's.
fn rounds<E>(plan: &Plan, mut step: impl FnMut(&mut u64) -> Result<(), E>) -> Result<RoundStats, E> {
    let mut next = 0;
    // CPU time and wall time of `n` calls.
    let mut call = |n: u64| -> Result<(Duration, Duration), E> {
        let (wall, cpu) = (Instant::now(), thread_cpu_time());
        for _ in 0..n {
            step(&mut next)?;
        }
        Ok((thread_cpu_time().saturating_sub(cpu), wall.elapsed()))
    };
    call(1)?;
    let round_time = plan.round_time();
    let mut batch = 1u64;
    let mut fastest = Fastest::default();
    let per_round = loop {
        let (took, _) = call(batch)?;
        fastest.saw(batch, took);
        if took >= round_time / 8 || batch >= 1 << 24 {
            break fastest.ops_in(round_time);
        }
        batch *= 2;
    };
    let (mut cpu, mut wall) = (Vec::with_capacity(plan.rounds as usize), Vec::with_capacity(plan.rounds as usize));
    for _ in 0..plan.rounds {
        let (c, w) = call(per_round)?;
        cpu.push(c.as_nanos() as f64 / per_round as f64);
        wall.push(w.as_nanos() as f64 / per_round as f64);
    }
    let wall_median_ns = RoundStats::of(&wall, per_round).median_ns;
    Ok(RoundStats { calls: next, wall_median_ns, ..RoundStats::of(&cpu, per_round) })
}

/// The fastest time per operation seen over calibration batches: a batch
/// the scheduler interrupted (common on a shared machine) is slower than the
/// operations were, and sizing rounds by it would make them too short.
#[derive(Clone, Copy, Debug, Default)]
struct Fastest {
    /// Nanoseconds per operation of the fastest batch long enough to time, if any.
    timed: Option<f64>,
    /// Nanoseconds per operation of the last batch, whatever its length.
    last: f64,
}

impl Fastest {
    /// Batches shorter than this are within a few clock ticks and say little.
    const SHORTEST: Duration = Duration::from_micros(10);

    fn saw(&mut self, batch: u64, took: Duration) {
        let per_op = took.as_nanos().max(1) as f64 / batch.max(1) as f64;
        self.last = per_op;
        if took >= Self::SHORTEST {
            self.timed = Some(self.timed.map_or(per_op, |t| t.min(per_op)));
        }
    }

    /// Operations that fill `round` at the fastest pace seen (1 to 2^27).
    fn ops_in(&self, round: Duration) -> u64 {
        let per_op = self.timed.unwrap_or(self.last).max(f64::MIN_POSITIVE);
        (round.as_nanos() as f64 / per_op).clamp(1.0, (1u64 << 27) as f64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Plan {
        Plan { time: Duration::from_micros(150), rounds: 3, min_samples: 1, max_samples: 10 }
    }

    #[test]
    fn summary_statistics() {
        let s = RoundStats::of(&[5.0, 1.0, 3.0], 10);
        assert_eq!((s.median_ns, s.min_ns, s.max_ns, s.rounds, s.samples()), (3.0, 1.0, 5.0, 3, 30));
        assert_eq!(RoundStats::of(&[4.0, 1.0, 3.0, 2.0], 1).median_ns, 2.5);
        assert_eq!(RoundStats::of(&[], 1).rounds, 0);
    }

    #[test]
    fn one_by_one_times_make_rounds_of_consecutive_operations() {
        // 12 times in 3 rounds of 4; the 4 ms one (an interruption) moves one round only.
        let times = [10, 10, 10, 10, 20, 20, 20, 4_000, 30, 30, 30, 30];
        let s = RoundStats::of_one_by_one(&times, 3);
        assert_eq!((s.median_ns, s.min_ns, s.max_ns, s.rounds, s.ops_per_round), (30.0, 10.0, 1015.0, 3, 4));
        // 14 times: the 2 left over do not make a round of their own.
        let s = RoundStats::of_one_by_one(&[7; 14], 3);
        assert_eq!((s.rounds, s.ops_per_round, s.calls), (3, 4, 14));
        // Fewer times than rounds: a round each.
        assert_eq!(RoundStats::of_one_by_one(&[5, 1], 11).rounds, 2);
        assert_eq!(RoundStats::of_one_by_one(&[], 11).rounds, 0);
    }

    #[test]
    fn measure_calls_op_with_distinct_indices_and_stops_on_error() {
        let mut seen = Vec::new();
        let s = measure(&tiny(), |i| {
            seen.push(i);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(s.rounds, 3);
        assert!(seen.len() as u64 > 1 + 3 * s.ops_per_round, "warm-up and calibration calls come first");
        assert_eq!(s.calls, seen.len() as u64);
        assert!(seen.windows(2).all(|w| w[1] == w[0] + 1));
        assert_eq!(seen[0], 0);
        assert_eq!(measure(&tiny(), |i| if i == 2 { Err("boom") } else { Ok(()) }), Err("boom"));
    }

    #[test]
    fn a_chain_visits_the_same_sequence_whatever_the_answers() {
        let mut seen = Vec::new();
        let s = measure_chained(&tiny(), |i| {
            seen.push(i);
            Ok::<u64, ()>(i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        })
        .unwrap();
        assert_eq!(s.calls, seen.len() as u64);
        assert!(seen.iter().enumerate().all(|(n, &i)| i == n as u64), "answers must not change the keys looked up");
    }

    #[test]
    fn rounds_are_sized_by_the_fastest_batch_not_an_interrupted_one() {
        let mut f = Fastest::default();
        f.saw(1, Duration::from_nanos(900));
        f.saw(1024, Duration::from_micros(51));
        // The scheduler took the CPU away during this batch: 4 ms for 2048 operations of ~50 ns.
        f.saw(2048, Duration::from_millis(4));
        assert_eq!(f.ops_in(Duration::from_millis(10)), 200_784);
        // Only batches too short to time: the last one decides.
        let mut short = Fastest::default();
        short.saw(1, Duration::from_micros(2));
        assert_eq!(short.ops_in(Duration::from_micros(100)), 50);
        assert_eq!(Fastest::default().ops_in(Duration::ZERO), 1);
    }

    #[test]
    fn slowness_is_per_operation() {
        assert!(is_slow(1, SLOW_OP));
        assert!(is_slow(10, SLOW_OP * 10));
        assert!(!is_slow(10, SLOW_OP * 9));
        assert!(!is_slow(0, Duration::from_secs(1)));
    }

    #[test]
    fn speed_is_judged_after_a_warm_up_call() {
        let mut seen = Vec::new();
        let (slow, calls) = probe_speed(|i| {
            seen.push(i);
            // Spinning this long costs at least this much CPU time, whatever the machine.
            let start = thread_cpu_time();
            while thread_cpu_time() - start < SLOW_OP {}
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(slow);
        assert_eq!(
            (calls, seen),
            (4, vec![0, 1, 2, 3]),
            "one warm-up call, then three timed calls past the time limit"
        );
    }

    #[test]
    fn slow_operations_get_the_whole_budget_one_by_one() {
        let plan = Plan::default();
        assert_eq!(plan.one_by_one(true).max_time, plan.time * 3);
        assert_eq!(plan.one_by_one(false).max_time, plan.time);
        assert_eq!(plan.one_by_one(true).min_ops, plan.min_samples);
        assert_eq!(plan.round_time(), plan.time / plan.rounds);
    }
}
