//! The suite: every case (strategy configuration) on every dataset, each
//! probed in a fresh child process so memory figures are its own, and the
//! conversion of probe reports into result records.
//!
//! Each case runs several times, each run in a fresh process, all runs of all
//! cases in one shuffled order ([`schedule`]): the noise of a shared machine
//! comes and goes over minutes, and a figure's interval must show the
//! variation between runs, not only within one process. A record is the
//! median of its runs with a distribution-free confidence interval
//! ([`aggregate`], [`kvbench_results::stats`]).

use std::path::{Path, PathBuf};

use kvbench_lookup::{Family, OpenError, OpenOptions, Start, Strategy, StrategyKind};
use kvbench_results::{CaseId, DatasetInfo, FileInfo, LenSummary, MEMCHR_PASS, Metric, Record, RunInfo};
use kvbench_workload::Workload;

use crate::probe::{Mean, ProbeReport};

mod driver;
mod estimate;
pub mod sweep;

pub use crate::case::Case;
pub use driver::{
    DatasetOutcome, FIRST_LOOKUPS, Prober, SEQUENTIAL_RUNS, SuiteOutcome, SuitePlan, probe_in_child, run,
};
pub use estimate::{Planned, probe_time};

/// The cases the main job runs: each strategy as its facts say the default
/// suite starts it ([`kvbench_lookup::Facts::starts`]; `lru` at 10 % and
/// 50 % over `mmap-index`), so `mmap-index`, `phf-index` and the engines
/// (`fst`, `lmdb`, `sqlite`, `cdb`, `redb`, and `rocksdb` in a build with
/// it) are built and reopened, and `scan`, `mmap-index`, `phf-index` and the
/// engines but `fst` also start cold.
pub fn default_cases() -> Vec<Case> {
    let started = |strategy: &Strategy, start| Case {
        fresh_index: start == Start::Build,
        cold: start == Start::Cold,
        ..Case::new(strategy.clone())
    };
    // Only what this build has: a strategy left out (`rocksdb` is a feature off by default) is
    // measured when asked for by name, and then skipped saying which feature it needs.
    let mut cases: Vec<Case> = StrategyKind::ALL
        .into_iter()
        .filter(|kind| kind.is_built())
        .flat_map(|kind| {
            let strategies = kind.suite_strategies();
            strategies.into_iter().flat_map(move |s| kind.facts().starts.iter().map(move |&start| started(&s, start)))
        })
        .collect();
    // In the order the suite has always run them (the schedule shuffles
    // by index, and tables list cases as they come): kvbench's own
    // strategies warm, then their cold starts, then the engines.
    cases.sort_by_key(|c| (c.strategy.kind().facts().family == Family::Engine, c.cold));
    cases
}

/// The cases that measure `strategies`: the default cases of each (so
/// `mmap-index` is built, reopened and started cold), then for each one the
/// defaults do not cover a warm case (`lru(0.2,hashmap)`), or a load and a
/// reuse of the db of a server (`redis`), in the order given.
pub fn cases_for(strategies: &[Strategy]) -> Vec<Case> {
    let mut cases: Vec<Case> = default_cases().into_iter().filter(|c| strategies.contains(&c.strategy)).collect();
    for s in strategies {
        if !cases.iter().any(|c| &c.strategy == s) {
            // A store kept in a server (`redis`) is loaded, then reused, as a sidecar is built, then
            // reopened; an engine on its defaults reopens the store its tuned case builds.
            if s.kind().keeps_store() && !matches!(s, Strategy::Defaults(_)) {
                cases.push(Case { fresh_index: true, ..Case::new(s.clone()) });
            }
            cases.push(Case::new(s.clone()));
        }
    }
    cases
}

/// The workloads every warm case runs: uniform hits, Zipf 0.99 hits,
/// misses, and uniform hits asked 64 at a time (`Lookup::get_many`).
pub fn default_workloads() -> Vec<Workload> {
    vec![Workload::UNIFORM, Workload::ZIPF, Workload::MISS, Workload::UNIFORM.batched(64)]
}

/// The size of the file at `path` (0 if it cannot be read).
pub fn file_bytes(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Why a child probe failed.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The probe process could not be started.
    #[error("cannot run {exe}: {source}", exe = exe.display())]
    Spawn {
        /// The executable.
        exe: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The probe exited with an error.
    #[error("probe of {case} failed ({status}): {stderr}")]
    Failed {
        /// Case label.
        case: String,
        /// Exit status.
        status: std::process::ExitStatus,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The probe's spec could not be serialized.
    #[error("cannot write the probe of {case} as JSON: {source}")]
    Spec {
        /// Case label.
        case: String,
        /// The serialization error.
        source: serde_json::Error,
    },
    /// The probe's spec could not be handed to it on its stdin.
    #[error("cannot hand the probe of {case} its spec: {source}")]
    Handing {
        /// Case label.
        case: String,
        /// The write error.
        source: std::io::Error,
    },
    /// A memory limit needs each probe in a process of its own: a probe in
    /// this process would put the caller into the limited cgroup for good.
    #[error("a memory limit needs probes in child processes (Prober::Child)")]
    LimitInProcess,
    /// The probe's output was not a report.
    #[error("probe of {case} printed no report: {source}")]
    Output {
        /// Case label.
        case: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A probe run in this process ([`Prober::InProcess`]) failed.
    #[error("probe of {case} failed: {source}")]
    Probe {
        /// Case label.
        case: String,
        /// What went wrong.
        source: crate::probe::ProbeError,
    },
    /// The plan has no case to run.
    #[error("the suite has no case to run (no strategy selected)")]
    NoCases,
    /// The index sidecars or stores (a server's db included) that reopened cases reuse could not be built.
    #[error("cannot build the indexes and stores of {path} that the reopened cases reuse: {source}", path = path.display())]
    Prepare {
        /// The data file.
        path: PathBuf,
        /// Why.
        source: OpenError,
    },
    /// The memory limit the probes run under could not be set up.
    #[error("a memory limit runs each probe in a cgroup: {0}")]
    Limit(#[from] crate::cgroup::CgroupError),
    /// The local Redis Cluster that `redis-cluster` cases read could not be started.
    #[error("redis-cluster is measured over a local Redis Cluster: {0}")]
    Cluster(#[from] kvbench_peers::PeerError),
}

/// How results name a generated dataset: its key count and value-length distribution.
pub fn dataset_info(dataset: &kvbench_workload::Dataset) -> DatasetInfo {
    DatasetInfo::generated(dataset.keys.0, dataset.value_len.to_string())
}

/// How results name a file the user brought: its name and what it holds, as
/// measured ([`kvbench_lookup::profile`], with the strategies' record rules;
/// `lenient` skips and counts malformed lines).
pub fn file_info(path: &Path, lenient: bool) -> Result<DatasetInfo, OpenError> {
    let p = kvbench_lookup::profile(path, lenient)?;
    let lengths = |l: kvbench_lookup::Lengths| LenSummary { min: l.min, median: l.median, p99: l.p99, max: l.max };
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok(DatasetInfo::file(FileInfo {
        name,
        bytes: p.bytes,
        records: p.records,
        distinct_keys: p.distinct_keys,
        duplicates: p.duplicates,
        skipped: p.skipped,
        key_len: lengths(p.key_len),
        value_len: lengths(p.value_len),
        fingerprint: format!("{:032x}", p.fingerprint),
    }))
}

/// One run of one case: which dataset and case (indices into the suite's
/// lists), which of its runs, and what it measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Job {
    /// Index of the dataset.
    pub dataset: usize,
    /// Index of the case.
    pub case: usize,
    /// Which run of the case (0-based).
    pub run: u32,
    /// What the run is for.
    pub focus: Focus,
}

/// What one run of a case measures: all of it, or, for a run added only to
/// settle a goal of "What to use", just what that goal ranks (a run that
/// settles the fastest start need not time lookups).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Focus {
    /// Every workload, memory, start-up: the case's whole figures.
    Whole,
    /// The workload latency is ranked on, and the open (p50, p99, start).
    Latency(Workload),
    /// The open alone (start).
    Start,
}

impl Focus {
    /// Whether a run with this focus gives `record` as the case's figure
    /// (memory after lookups, say, only from a run that made them all).
    pub fn keeps(self, record: &Record) -> bool {
        let start = record.workload.is_none() && [Metric::OpenTime, Metric::ReadyTime].contains(&record.metric);
        match self {
            Focus::Whole => true,
            Focus::Latency(w) => start || record.workload == Some(w),
            Focus::Start => start,
        }
    }

    /// The workloads a run with this focus times, of the plan's `all`.
    pub fn workloads(self, all: &[Workload]) -> Vec<Workload> {
        match self {
            Focus::Whole => all.to_vec(),
            Focus::Latency(w) => vec![w],
            Focus::Start => Vec::new(),
        }
    }
}

/// Every run of every case on every dataset, shuffled by `seed`: a slow
/// minute on a shared machine then falls on runs of different cases, not on
/// all runs of one.
pub fn schedule(datasets: usize, cases: usize, runs: u32, seed: u64) -> Vec<Job> {
    let jobs: Vec<Job> = (0..datasets)
        .flat_map(|dataset| {
            (0..cases).flat_map(move |case| (0..runs).map(move |run| Job { dataset, case, run, focus: Focus::Whole }))
        })
        .collect();
    shuffled(jobs, seed)
}

/// `jobs` in an order shuffled by `seed` (Fisher–Yates over a SplitMix64 stream).
pub fn shuffled(mut jobs: Vec<Job>, seed: u64) -> Vec<Job> {
    let mut state = seed;
    for i in (1..jobs.len()).rev() {
        let j = (splitmix64(&mut state) % (i as u64 + 1)) as usize;
        jobs.swap(i, j);
    }
    jobs
}

/// The key streams' seed for run `run` of a suite seeded with `seed`: every
/// case's run `run` draws the same keys (strategies compare on equal terms),
/// and each run draws others.
pub fn run_seed(seed: u64, run: u32) -> u64 {
    let mut state = seed ^ u64::from(run).wrapping_mul(0xa076_1d64_78bd_642f);
    splitmix64(&mut state)
}

/// The next number of a SplitMix64 stream (Steele, Lea and Flood 2014).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Builds the stores of `data` that a case reuses (index sidecars, engine
/// stores, a server's db), each once and in this process, with the options
/// `opts` gives each case: in shuffled order a reopen may run before any
/// build, and would time the build. Returns the files it wrote (a sidecar,
/// when there was none or it was stale), so the user hears that a file
/// appeared beside their data.
pub fn prepare_dataset(
    data: &Path,
    cases: &[Case],
    opts: impl Fn(&Case) -> OpenOptions,
) -> Result<Vec<PathBuf>, OpenError> {
    let mut wrote = Vec::new();
    let mut opened: Vec<Strategy> = Vec::new();
    for case in cases.iter().filter(|c| !c.fresh_index && c.strategy.reader().keeps_store()) {
        // An lru reuses its backing's store.
        let reader = Strategy::Plain(case.strategy.reader());
        if opened.contains(&reader) {
            continue;
        }
        wrote.extend(kvbench_lookup::open(data, &reader, &opts(case))?.info().wrote);
        opened.push(reader);
    }
    Ok(wrote)
}

/// The records of one probe (one run): open and ready times, memory, and per
/// workload the overlapped and chained times, the supported latency
/// percentiles and the hit rate, each with the samples it rests on.
pub fn records(dataset: &DatasetInfo, case: &CaseId, report: &ProbeReport, run: &RunInfo) -> Vec<Record> {
    let rec =
        |workload: Option<Workload>, metric, value| Record::new(case.clone(), dataset, workload, metric, value, run);
    // One open, one snapshot per run: a single sample each.
    let once = |workload: Option<Workload>, metric, value| rec(workload, metric, value).with_samples(1);
    let mut out = vec![once(None, Metric::OpenTime, report.open_ns as f64)];
    out.extend(report.ready_ns.map(|ns| once(None, Metric::ReadyTime, ns as f64)));
    let (m, o) = (&report.memory_steady, &report.memory_open);
    for (metric, value) in [
        (Metric::HeapBytes, m.heap),
        (Metric::AnonRssBytes, m.anon),
        (Metric::FileRssBytes, m.file),
        (Metric::OpenHeapBytes, o.heap),
        (Metric::OpenAnonRssBytes, o.anon),
        (Metric::OpenFileRssBytes, o.file),
    ] {
        out.extend(value.map(|v| once(None, metric, v as f64)));
    }
    out.extend(report.server_bytes.map(|b| once(None, Metric::ServerRss, b as f64)));
    if let Some(keys) = report.keys.or(report.records).filter(|&k| k > 0) {
        let per_key = |bytes: u64| bytes as f64 / keys as f64;
        out.extend(m.anon.map(|a| once(None, Metric::AnonBytesPerKey, per_key(a))));
        // A server's memory is the case's too: the data lives there, not in the asking process.
        let resident = m.anon.zip(m.file).map(|(a, f)| a + f + report.server_bytes.unwrap_or(0));
        out.extend(resident.map(|r| once(None, Metric::ResidentBytesPerKey, per_key(r))));
        out.extend(report.index_bytes.map(|b| once(None, Metric::DiskBytesPerKey, per_key(b))));
    }
    out.extend(report.resident_before.map(|f| once(None, Metric::ColdResidentBefore, f)));
    out.extend(report.resident_after_open.map(|f| once(None, Metric::ColdResidentAfterOpen, f)));
    for w in &report.workloads {
        let label = Some(w.workload);
        let mean = |metric, m: &Mean| rec(label, metric, m.ns).with_samples(m.samples).with_subtracted(m.subtracted);
        out.extend(w.overlapped.map(|m| mean(Metric::LookupMean, &m)));
        out.extend(w.chained.map(|m| mean(Metric::ChainLatency, &m)));
        out.extend(w.first_ns.map(|ns| once(label, Metric::FirstLookup, ns).with_subtracted(report.clock_overhead_ns)));
        let l = &w.alone;
        for (metric, value) in [
            (Metric::LatencyP50, l.p50),
            (Metric::LatencyP90, l.p90),
            (Metric::LatencyP99, l.p99),
            (Metric::LatencyP999, l.p999),
            (Metric::LatencyMax, Some(l.max).filter(|_| l.count > 0)),
        ] {
            out.extend(value.map(|v| rec(label, metric, v).with_samples(l.count).with_subtracted(l.subtracted)));
        }
        out.extend(w.hit_rate.map(|h| rec(label, Metric::HitRate, h).with_samples(l.count)));
        if let Some(io) = w.io.filter(|io| io.lookups > 0) {
            let per_lookup = |metric, n: u64| rec(label, metric, n as f64 / io.lookups as f64).with_samples(io.lookups);
            out.push(per_lookup(Metric::MajorFaultsPerLookup, io.counters.major_faults));
            out.push(per_lookup(Metric::MinorFaultsPerLookup, io.counters.minor_faults));
            out.extend(io.counters.read_bytes.map(|b| per_lookup(Metric::DiskReadBytesPerLookup, b)));
            out.extend(io.counters.read_calls.map(|n| per_lookup(Metric::ReadCallsPerLookup, n)));
        }
    }
    if let Some(floor) = &report.memchr_pass {
        // The bandwidth floor of a full scan, as a pseudo-strategy beside it.
        let record = Record::new(MEMCHR_PASS, dataset, None, Metric::LookupMean, floor.median_ns, run);
        out.push(record.with_samples(floor.samples()));
    }
    for record in &mut out {
        record.memory_limit = report.memory_limit;
    }
    out
}

/// The records of several runs of the same cases, one per measurement: the
/// median of its runs with their confidence interval, in the order first
/// recorded. A measurement missing from some runs (a percentile that one
/// run's sample count did not support) is the median of the runs that have it.
pub fn aggregate(runs: &[Vec<Record>]) -> Vec<Record> {
    let mut groups: Vec<Vec<Record>> = Vec::new();
    for record in runs.iter().flatten() {
        match groups.iter_mut().find(|g| g[0].key() == record.key()) {
            Some(group) => group.push(record.clone()),
            None => groups.push(vec![record.clone()]),
        }
    }
    groups.iter().filter_map(|g| Record::median_of_runs(g)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_holds_every_run_once_in_a_seeded_order() {
        let jobs = schedule(2, 3, 5, 42);
        assert_eq!(jobs.len(), 30);
        let mut sorted = jobs.clone();
        sorted.sort_by_key(|j| (j.dataset, j.case, j.run));
        let in_order: Vec<Job> = (0..2)
            .flat_map(|d| {
                (0..3).flat_map(move |c| (0..5).map(move |r| Job { dataset: d, case: c, run: r, focus: Focus::Whole }))
            })
            .collect();
        assert_eq!(sorted, in_order, "every run exactly once");
        assert_ne!(jobs, in_order, "shuffled");
        assert_eq!(jobs, schedule(2, 3, 5, 42), "the same seed gives the same order");
        assert_ne!(jobs, schedule(2, 3, 5, 43));
        assert!(schedule(0, 3, 5, 1).is_empty());
    }

    fn report(open_ns: u64, p50: f64) -> ProbeReport {
        let rounds = crate::timing::RoundStats::of(&[40.0, 41.0, 39.0], 1_000);
        let mean = |ns| Mean { ns, samples: 3_000, subtracted: 12.0, rounds: Some(rounds) };
        let alone = crate::latency::Latencies {
            p50: Some(p50),
            p90: Some(p50 * 2.0),
            max: 900.0,
            mean: p50,
            count: 100,
            subtracted: 20.0,
            ..Default::default()
        };
        let memory = crate::memory::MemorySnapshot { heap: Some(1_000), anon: Some(4_096), file: Some(8_192) };
        ProbeReport {
            strategy: "hashmap".into(),
            fresh_index: false,
            cold: false,
            file_bytes: 1 << 20,
            index_bytes: Some(2_048),
            keys: Some(1_024),
            records: Some(1_024),
            open_ns,
            ready_ns: None,
            settling: None,
            workloads: vec![crate::probe::WorkloadReport {
                workload: Workload::UNIFORM,
                overlapped: Some(mean(40.0)),
                chained: Some(mean(45.0)),
                alone,
                first_ns: None,
                hit_rate: None,
                io: None,
            }],
            memory_open: memory,
            memory_steady: memory,
            allocator_retained: Some(0),
            resident_before: None,
            resident_after_open: None,
            clock_overhead_ns: 20.0,
            clock_tick_ns: 10.0,
            harness_overhead_ns: 3.0,
            chain_floor_ns: 12.0,
            memchr_pass: None,
            notes: Vec::new(),
            memory_limit: None,
            server_bytes: None,
        }
    }

    #[test]
    fn a_run_records_what_its_samples_support_and_how_many_they_were() {
        let dataset = DatasetInfo::generated(1_024, kvbench_results::DEFAULT_VALUE_LEN);
        let out = records(&dataset, &"hashmap".into(), &report(1_000, 50.0), &RunInfo::detect(true));
        let uniform = Some(Workload::UNIFORM);
        let find = |w: Option<Workload>, m| out.iter().find(|r| r.workload == w && r.metric == m);
        assert!(out.iter().all(|r| r.samples.is_some()), "every record says how many samples it rests on");
        // 100 lookups timed alone support p50 and p90, not p99 or p99.9: the max of 100 stands for the tail.
        assert!(find(uniform, Metric::LatencyP90).is_some() && find(uniform, Metric::LatencyP99).is_none());
        assert_eq!(find(uniform, Metric::LatencyMax).map(|r| (r.value, r.samples)), Some((900.0, Some(100))));
        let chain = find(uniform, Metric::ChainLatency).unwrap();
        assert_eq!((chain.value, chain.samples, chain.subtracted), (45.0, Some(3_000), Some(12.0)));
        assert_eq!(find(uniform, Metric::LatencyP50).unwrap().subtracted, Some(20.0));
        // Resident memory counts the mapped file's pages too: (4 KiB + 8 KiB) / 1 024 keys.
        assert_eq!(find(None, Metric::ResidentBytesPerKey).unwrap().value, 12.0);
        assert_eq!(find(None, Metric::AnonBytesPerKey).unwrap().value, 4.0);
        assert_eq!(find(None, Metric::DiskBytesPerKey).unwrap().value, 2.0);
    }

    #[test]
    fn runs_aggregate_into_medians_with_intervals() {
        let dataset = DatasetInfo::generated(1_024, kvbench_results::DEFAULT_VALUE_LEN);
        let run = RunInfo::detect(true);
        let runs: Vec<Vec<Record>> = [(3_000, 52.0), (1_000, 50.0), (2_000, 70.0)]
            .iter()
            .map(|&(open, p50)| records(&dataset, &"hashmap".into(), &report(open, p50), &run))
            .collect();
        let merged = aggregate(&runs);
        assert_eq!(merged.len(), runs[0].len(), "one record per measurement");
        let open = merged.iter().find(|r| r.metric == Metric::OpenTime).unwrap();
        let spread = open.spread.unwrap();
        assert_eq!((open.value, spread.lower, spread.upper, open.runs), (2_000.0, 1_000.0, 3_000.0, Some(3)));
        let p50 = merged.iter().find(|r| r.metric == Metric::LatencyP50).unwrap();
        assert_eq!((p50.value, p50.spread.map(|s| (s.lower, s.upper))), (52.0, Some((50.0, 70.0))));
    }

    #[test]
    fn cases_are_chosen_by_strategy() {
        let mmap = Strategy::Plain(StrategyKind::MmapIndex);
        let extra: Strategy = "lru(0.2,hashmap)".parse().unwrap();
        let redis = Strategy::Plain(StrategyKind::Redis);
        let cases = cases_for(&[extra.clone(), mmap.clone(), redis, Strategy::Defaults(StrategyKind::Sqlite)]);
        let labels: Vec<String> = cases.iter().map(Case::label).collect();
        let expected = ["mmap-index (build)", "mmap-index (reopen)", "mmap-index (cold)", "lru(0.2,hashmap)"];
        // A server's first load is its build, timed apart from the reuse of what it loaded; an
        // engine on its defaults reopens the store the tuned engine builds.
        let then = ["redis (build)", "redis (reopen)", "sqlite(defaults) (reopen)"];
        assert_eq!(labels, [&expected[..], &then[..]].concat());
        assert!(cases_for(&[]).is_empty());
        let all: Vec<Strategy> = default_cases().into_iter().map(|c| c.strategy).collect();
        assert_eq!(cases_for(&all), default_cases(), "every default strategy: the default cases");
    }

    #[test]
    fn the_default_cases_are_those_run_before_the_facts_moved() {
        let labels: Vec<String> = default_cases().iter().map(Case::label).collect();
        let before = [
            "scan-lines",
            "scan",
            "hashmap",
            "mmap-index (build)",
            "mmap-index (reopen)",
            "phf-index (build)",
            "phf-index (reopen)",
            "lru(0.1,mmap-index)",
            "lru(0.5,mmap-index)",
            "warming",
            "scan (cold)",
            "mmap-index (cold)",
            "phf-index (cold)",
            "fst (build)",
            "fst (reopen)",
            "lmdb (build)",
            "lmdb (reopen)",
            "sqlite (build)",
            "sqlite (reopen)",
            "cdb (build)",
            "cdb (reopen)",
            "redb (build)",
            "redb (reopen)",
            // Since the engines start cold too (issue 34).
            "lmdb (cold)",
            "sqlite (cold)",
            "cdb (cold)",
            "redb (cold)",
        ];
        let (rocksdb, others): (Vec<String>, Vec<String>) = labels.into_iter().partition(|l| l.starts_with("rocksdb"));
        assert_eq!(others, before);
        // Since RocksDB (issue 34), in a build with it.
        let expected: &[&str] = if StrategyKind::Rocksdb.is_built() {
            &["rocksdb (build)", "rocksdb (reopen)", "rocksdb (cold)"]
        } else {
            &[]
        };
        assert_eq!(rocksdb, expected);
    }

    #[test]
    fn each_run_draws_its_own_keys() {
        let seeds: Vec<u64> = (0..5).map(|r| run_seed(7, r)).collect();
        assert!(seeds.iter().enumerate().all(|(i, s)| !seeds[..i].contains(s)), "{seeds:?}");
        assert_eq!(run_seed(7, 3), run_seed(7, 3));
        assert_ne!(run_seed(7, 0), run_seed(8, 0));
    }
}
