//! [`measure`]: a program timed the two ways a user feels it, its answers checked.
//!
//! - **Per process**: one key per run, the whole process timed (start-up,
//!   loading, one lookup, exit), over several runs like hyperfine; median and
//!   range, with peak RSS and CPU time.
//! - **Per lookup in steady state**: a batch of N keys in one process. The
//!   per-lookup time is (T(N) − T(1)) / (N − 1): what the batch adds over a
//!   single key, so the start-up and loading that every run pays once do not
//!   count. N grows ×4 from 16 until the batch adds [`RunBudget::batch_time`] or
//!   reaches [`RunBudget::max_batch`], so a scan (milliseconds a key) and a dict
//!   (a microsecond) are both measured well above the noise of a run.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use crate::process::{ProcessRun, Program, RunError, run_process};

/// How much to run each program.
#[derive(Clone, Copy, Debug)]
pub struct RunBudget {
    /// Untimed single-key runs first (page cache, interpreter files).
    pub warmup: usize,
    /// Timed single-key runs.
    pub runs: usize,
    /// Grow the batch until it takes this much longer than one key.
    pub batch_time: Duration,
    /// The largest batch (keys go on the command line: Linux allows ~2 MiB of arguments).
    pub max_batch: usize,
    /// Timed runs of the final batch.
    pub batch_runs: usize,
}

impl Default for RunBudget {
    fn default() -> Self {
        RunBudget { warmup: 1, runs: 10, batch_time: Duration::from_millis(500), max_batch: 16_384, batch_runs: 3 }
    }
}

impl RunBudget {
    /// A smoke run: a couple of runs and small batches.
    pub fn quick() -> Self {
        RunBudget { warmup: 0, runs: 2, batch_time: Duration::from_millis(20), max_batch: 64, batch_runs: 1 }
    }
}

/// Median and range of repeated measurements.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunStats {
    /// The median.
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl RunStats {
    /// The summary of `values` (all zero when there are none).
    pub fn of(values: Vec<f64>) -> RunStats {
        let (median, range) = kvbench_results::Spread::of_samples(&values);
        RunStats { median, min: range.lower, max: range.upper }
    }
}

/// What [`measure`] found.
#[derive(Clone, Copy, Debug)]
pub struct Measurement {
    /// Wall time of a whole process answering one key, ns.
    pub process: RunStats,
    /// CPU time (user + system) of that process, ns.
    pub cpu: RunStats,
    /// Peak RSS of that process, bytes.
    pub peak_rss: RunStats,
    /// Time one more key adds in a running process, ns (floored at 0: below that, noise).
    pub per_lookup: RunStats,
    /// Keys in the batch the per-lookup time comes from.
    pub batch: usize,
}

/// Why a program could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// It could not be run.
    #[error(transparent)]
    Run(#[from] RunError),
    /// It exited with a failure although every key asked for is in the file.
    #[error("`{program}` failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        program: String,
        /// How it ended.
        status: ExitStatus,
        /// The first line of what it said.
        stderr: String,
    },
    /// It printed something other than the values of the keys asked for.
    #[error("`{program}` answered {keys} keys wrongly: its output is not the file's values")]
    WrongAnswer {
        /// The command line.
        program: String,
        /// Keys asked in that run.
        keys: usize,
    },
}

/// Times `program` on `data`: single-key runs, then growing batches, every
/// run's output checked against `answers` (present keys and their values,
/// used in turn and cycled as needed). `progress` is called after each run.
pub fn measure(
    program: &Program,
    data: &Path,
    answers: &[(Vec<u8>, Vec<u8>)],
    budget: &RunBudget,
    mut progress: impl FnMut(),
) -> Result<Measurement, MeasureError> {
    let mut next = 0;
    let mut run = |n: usize| {
        let asked: Vec<&(Vec<u8>, Vec<u8>)> = answers.iter().cycle().skip(next).take(n).collect();
        next = (next + n) % answers.len().max(1);
        let done = checked(program, data, &asked);
        progress();
        done
    };
    for _ in 0..budget.warmup {
        run(1)?;
    }
    let singles = (0..budget.runs.max(1)).map(|_| run(1)).collect::<Result<Vec<_>, _>>()?;
    let single = RunStats::of(singles.iter().map(|r| ns(r.wall)).collect());
    let mut batch = 16.min(budget.max_batch).max(2);
    let mut timed = run(batch)?;
    while ns(timed.wall) - single.median < ns(budget.batch_time) && batch < budget.max_batch {
        batch = (batch * 4).min(budget.max_batch);
        timed = run(batch)?;
    }
    let mut batches = vec![timed];
    for _ in 1..budget.batch_runs.max(1) {
        batches.push(run(batch)?);
    }
    let added = |r: &ProcessRun| ((ns(r.wall) - single.median) / (batch - 1) as f64).max(0.0);
    Ok(Measurement {
        process: single,
        cpu: RunStats::of(singles.iter().map(|r| ns(r.cpu())).collect()),
        peak_rss: RunStats::of(singles.iter().map(|r| r.peak_rss_bytes as f64).collect()),
        per_lookup: RunStats::of(batches.iter().map(added).collect()),
        batch,
    })
}

/// One run on `asked`, failing unless it exits 0 and prints exactly their values.
fn checked(program: &Program, data: &Path, asked: &[&(Vec<u8>, Vec<u8>)]) -> Result<ProcessRun, MeasureError> {
    let keys: Vec<&OsStr> = asked.iter().map(|(key, _)| OsStr::from_bytes(key)).collect();
    let run = run_process(program, data, &keys)?;
    if !run.status.success() {
        let stderr = String::from_utf8_lossy(&run.stderr).lines().next().unwrap_or("").to_owned();
        return Err(MeasureError::Failed { program: program.to_string(), status: run.status, stderr });
    }
    let expected: Vec<u8> = asked.iter().flat_map(|(_, value)| value.iter().chain(b"\n")).copied().collect();
    if run.stdout != expected {
        return Err(MeasureError::WrongAnswer { program: program.to_string(), keys: asked.len() });
    }
    Ok(run)
}

fn ns(d: Duration) -> f64 {
    d.as_nanos() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_of_odd_even_and_empty_sets() {
        assert_eq!(RunStats::of(vec![3.0, 1.0, 2.0]), RunStats { median: 2.0, min: 1.0, max: 3.0 });
        assert_eq!(RunStats::of(vec![4.0, 1.0, 2.0, 3.0]), RunStats { median: 2.5, min: 1.0, max: 4.0 });
        assert_eq!(RunStats::of(Vec::new()), RunStats { median: 0.0, min: 0.0, max: 0.0 });
    }
}
