//! What a suite is about to do, said before it starts: its probes, a rough
//! time and the disk it will write, so that a user can stop a run they
//! would not have started.

use std::time::Duration;

use kvbench_lookup::{Family, WarmUp};

use super::Focus;
use crate::case::Case;
use crate::timing::Plan;

/// A suite's plan, as [`crate::progress::Progress::plan`] is told it.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    /// Cases that will run (on any dataset), and datasets.
    pub cases: usize,
    /// Datasets measured.
    pub datasets: usize,
    /// Probes of the first round (every case that fits, as many runs as it gets first).
    pub first_probes: u64,
    /// Probes if every case were run the most times (equal to `first_probes` unless sequential).
    pub most_probes: u64,
    /// Estimated time of the first round, and of every case run the most times.
    pub time: (Duration, Duration),
    /// Bytes the run writes beside the data (index sidecars and engine stores it builds).
    pub disk: u64,
}

/// What one probe of `case` costs, roughly, on a file of `keys` keys and
/// `file_bytes` bytes: a model fitted by eye to a default run at 10k and 1M
/// keys on the reference machine (each workload ~3 timing shares plus its
/// key stream; a cache's streams and warm-up ~3 times that; a build at its
/// facts' time per key). An estimate to plan by, never a result.
pub fn probe_time(case: &Case, focus: Focus, workloads: usize, keys: u64, plan: &Plan) -> Duration {
    let facts = case.strategy.kind().facts();
    let reader = case.strategy.reader().facts();
    let keys_s = keys as f64 * 1e-6;
    let mut seconds = 0.25 + 0.2 * keys_s;
    let timed = match focus {
        Focus::Whole if case.cold => 0,
        Focus::Whole => workloads,
        Focus::Latency(_) => 1,
        Focus::Start => 0,
    };
    let per_workload = match facts.family {
        // Slow lookups are timed one by one for three shares, after up to 16 to tell their speed.
        Family::Baseline => 4.0 * plan.time.as_secs_f64() + 0.25 * keys_s,
        _ => 3.0 * plan.time.as_secs_f64() + 0.13 + 0.25 * keys_s,
    };
    let cache = if facts.warm_up == WarmUp::Cache { 3.0 } else { 1.0 };
    seconds += timed as f64 * per_workload * cache;
    if case.cold {
        seconds += 0.5;
    }
    if case.fresh_index {
        seconds += reader.store.map_or(0.0, |s| s.build_ns_per_key as f64 * keys as f64 * 1e-9);
    }
    Duration::from_secs_f64(seconds)
}
