//! Memory as a budget: the suite's cases measured again under a series of
//! cgroup memory limits (page cache counted), so "I have N bytes: what is
//! fastest?" is answered from lookups that ran inside N bytes, not from a
//! resident-memory reading taken without a limit.
//!
//! Each point of the sweep is one suite run ([`run`](super::run)) of one
//! dataset under one limit: its own fit skips (a case that cannot fit is
//! skipped with the reason), its probes in fresh processes inside the limit,
//! its records carrying the limit ([`kvbench_results::Record::memory_limit`]).

use std::fmt;
use std::str::FromStr;

use kvbench_results::names::NAIVE_BASELINE;
use kvbench_results::units::{ByteSize, bytes};
use kvbench_results::{DatasetInfo, Record, Skipped};
use kvbench_workload::Workload;

use super::{Case, SuiteError, SuiteOutcome, SuitePlan};
use crate::progress::Progress;

/// One memory limit of a sweep: a size, or a multiple of each file's size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    /// This many bytes, whatever the file.
    Bytes(u64),
    /// This multiple of the data file's size (`0.5x`: half the file).
    OfFile(f64),
}

/// The limits a sweep uses unless told others: from more than the file
/// (everything fits, the page cache included) down to a tenth of it.
pub const DEFAULT_SWEEP: [Budget; 5] =
    [Budget::OfFile(1.5), Budget::OfFile(1.0), Budget::OfFile(0.5), Budget::OfFile(0.25), Budget::OfFile(0.1)];

/// The unit a memory limit is kept in.
const PAGE: u64 = 4096;

/// The least limit a sweep sets: below this a probe's own process (the
/// executable, its key streams' pages touched again) is most of what is measured.
pub const MIN_LIMIT: u64 = 8 << 20;

impl Budget {
    /// The limit in bytes for a data file of `file_bytes`, in whole pages as
    /// the kernel keeps it (a multiple never below [`MIN_LIMIT`]).
    pub fn bytes(self, file_bytes: u64) -> u64 {
        let bytes = match self {
            Budget::Bytes(b) => b,
            Budget::OfFile(f) => ((file_bytes as f64 * f) as u64).max(MIN_LIMIT),
        };
        bytes / PAGE * PAGE
    }
}

impl FromStr for Budget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        match t.strip_suffix(['x', 'X']) {
            Some(f) => match f.trim().parse::<f64>() {
                Ok(f) if f.is_finite() && f > 0.0 => Ok(Budget::OfFile(f)),
                _ => Err(format!("{s:?}: a multiple of the file's size is a positive number, e.g. 0.5x")),
            },
            None => t.parse::<ByteSize>().map(|b| Budget::Bytes(b.0)),
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Budget::Bytes(b) => f.write_str(&bytes(*b as f64)),
            Budget::OfFile(x) => write!(f, "{x}x"),
        }
    }
}

/// The cases a sweep measures: each strategy of `cases` once, as it serves
/// once its store exists (reopened, or warm), never a cold start or the
/// naive yardstick (`scan-lines`; the plain `scan` is the baseline a budget
/// question starts from): a budget is what a running service is given.
pub fn sweep_cases(cases: &[Case]) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    for case in cases.iter().filter(|c| !c.cold && c.strategy.to_string() != NAIVE_BASELINE) {
        let served = Case { fresh_index: false, ..case.clone() };
        if !out.contains(&served) {
            out.push(served);
        }
    }
    out
}

/// One point of a sweep: a dataset measured under one limit.
#[derive(Clone, Debug)]
pub struct SweepPoint {
    /// The dataset.
    pub dataset: DatasetInfo,
    /// The limit as asked (`0.5x`, `64 MiB`).
    pub budget: Budget,
    /// The limit in bytes it came to for this dataset's file.
    pub limit: u64,
    /// What the suite measured under it.
    pub outcome: SuiteOutcome,
}

/// What a sweep measured, point by point.
#[derive(Clone, Debug, Default)]
pub struct SweepOutcome {
    /// Per dataset, per limit (largest first), what ran.
    pub points: Vec<SweepPoint>,
}

impl SweepOutcome {
    /// Every point's records (each carries its limit).
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.points.iter().flat_map(|p| &p.outcome.results.records)
    }

    /// Every case a point skipped, with why and under which limit.
    pub fn skipped(&self) -> impl Iterator<Item = &Skipped> {
        self.points.iter().flat_map(|p| &p.outcome.results.skipped)
    }

    /// Runs that failed, each said.
    pub fn failures(&self) -> impl Iterator<Item = &String> {
        self.points.iter().flat_map(|p| &p.outcome.failures)
    }
}

/// Measures `plan`'s [`sweep_cases`] on each of its datasets under each of
/// `budgets` (largest first), each point a suite run of its own with the
/// plan's runs and seed; lookups of the plan's first hit workload only
/// (uniform by default): latency alone, overlapped time, faults and bytes
/// read per lookup. A limit that cannot be set up stops the sweep
/// ([`SuiteError::Limit`]); a case that cannot fit under a limit is skipped there.
pub fn run(plan: &SuitePlan, budgets: &[Budget], progress: &mut dyn Progress) -> Result<SweepOutcome, SuiteError> {
    let cases = sweep_cases(&plan.cases);
    if cases.is_empty() {
        return Err(SuiteError::NoCases);
    }
    let workload = plan.workloads.iter().copied().find(|w| *w != Workload::MISS).unwrap_or(Workload::UNIFORM);
    let mut points = Vec::new();
    let mut progress = Counted { inner: progress, before: 0, total: 0 };
    for (info, path) in &plan.datasets {
        let file = super::file_bytes(path);
        let mut limits: Vec<(Budget, u64)> = budgets.iter().map(|&b| (b, b.bytes(file))).collect();
        limits.sort_by_key(|&(_, bytes)| std::cmp::Reverse(bytes));
        limits.dedup_by_key(|&mut (_, bytes)| bytes);
        for (budget, limit) in limits {
            progress.note(&format!("memory sweep: {} under {}", info.label(), describe(budget, limit, file)));
            let point = SuitePlan {
                datasets: vec![(info.clone(), path.clone())],
                cases: cases.clone(),
                workloads: vec![workload],
                memory_limit: Some(limit),
                ..plan.clone()
            };
            let outcome = super::run(&point, &mut progress)?;
            progress.before += progress.total;
            points.push(SweepPoint { dataset: info.clone(), budget, limit, outcome });
        }
    }
    Ok(SweepOutcome { points })
}

/// One progress count over all the points' runs: each point's run counts
/// its steps from zero, the user sees them continue.
struct Counted<'a> {
    inner: &'a mut dyn Progress,
    /// Steps of the points before this one.
    before: u64,
    /// Steps of this point so far.
    total: u64,
}

impl Progress for Counted<'_> {
    fn start(&mut self, total: u64) {
        self.total = total;
        self.inner.start(self.before + total);
    }
    fn doing(&mut self, what: &str) {
        self.inner.doing(what);
    }
    fn tick(&mut self) {
        self.inner.tick();
    }
    fn done(&mut self, steps: u64) {
        self.inner.done(steps);
    }
    fn plan(&mut self, planned: &super::Planned) {
        self.inner.plan(planned);
    }
    fn note(&mut self, message: &str) {
        self.inner.note(message);
    }
}

/// `32 MiB (0.5× the 64 MiB file)`, or the size alone when it was asked as one.
pub fn describe(budget: Budget, limit: u64, file_bytes: u64) -> String {
    match budget {
        Budget::OfFile(x) => format!("{} ({x}× the {} file)", bytes(limit as f64), bytes(file_bytes as f64)),
        Budget::Bytes(_) => bytes(limit as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_a_size_or_a_multiple_of_the_file() {
        assert_eq!("0.5x".parse(), Ok(Budget::OfFile(0.5)));
        assert_eq!(" 2X ".parse(), Ok(Budget::OfFile(2.0)));
        assert_eq!("64MiB".parse(), Ok(Budget::Bytes(64 << 20)));
        assert!("0x".parse::<Budget>().is_err());
        assert!("-1x".parse::<Budget>().is_err());
        assert!("lots".parse::<Budget>().is_err());
        assert_eq!(Budget::OfFile(0.5).bytes(100 << 20), 50 << 20);
        assert_eq!(Budget::OfFile(0.5).bytes(10_001), MIN_LIMIT);
        assert_eq!(Budget::OfFile(0.5).bytes(100_000_000), 49_999_872, "whole pages");
        assert_eq!(Budget::OfFile(0.1).bytes(1 << 20), MIN_LIMIT, "never below what a probe itself needs");
        assert_eq!(Budget::Bytes(1 << 20).bytes(100 << 20), 1 << 20, "a size asked for is kept");
    }

    #[test]
    fn a_sweep_measures_each_strategy_as_it_serves() {
        let cases = crate::suite::cases_for(&[
            "scan-lines".parse().expect("a strategy"),
            "mmap-index".parse().expect("a strategy"),
            "hashmap".parse().expect("a strategy"),
            "scan".parse().expect("a strategy"),
        ]);
        let labels: Vec<String> = sweep_cases(&cases).iter().map(Case::label).collect();
        assert_eq!(labels, ["scan", "hashmap", "mmap-index (reopen)"], "in the suite's order");
    }
}
