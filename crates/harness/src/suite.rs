//! The suite: every case (strategy configuration) on every dataset, each
//! probed in a fresh child process so memory figures are its own, and the
//! conversion of probe reports into result records.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kvbench_lookup::{Strategy, StrategyKind};
use kvbench_results::{CaseStart, DatasetInfo, MEMCHR_PASS, Metric, Record, RunInfo, SpreadKind};
use kvbench_workload::Workload;

use crate::probe::ProbeReport;

/// One configuration the suite measures.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The strategy and its configuration.
    pub strategy: Strategy,
    /// Delete the index sidecar first (times a cold `mmap-index` build).
    pub fresh_index: bool,
    /// Drop the page cache first and time only the first lookups.
    pub cold: bool,
}

impl Case {
    /// A case that opens `strategy` as the data folder finds it, warm.
    pub fn new(strategy: Strategy) -> Self {
        Case { strategy, fresh_index: false, cold: false }
    }

    /// How tables and results name the case, e.g. `mmap-index (build)`.
    pub fn label(&self) -> String {
        let s = &self.strategy;
        match (self.fresh_index, self.cold, s) {
            (_, true, _) => CaseStart::Cold.label(s),
            (true, false, _) => CaseStart::Build.label(s),
            (false, false, Strategy::Plain(StrategyKind::MmapIndex)) => CaseStart::Reopen.label(s),
            _ => s.to_string(),
        }
    }
}

/// The cases the main job runs: every strategy, `mmap-index` both built and
/// reopened, the LRU at 10 % and 50 % over `mmap-index`, and cold starts of
/// the two strategies that read the file through the page cache.
pub fn default_cases() -> Vec<Case> {
    let plain = |k| Case::new(Strategy::Plain(k));
    let lru = |ratio| Case::new(Strategy::Lru { ratio, backing: StrategyKind::MmapIndex });
    vec![
        plain(StrategyKind::ScanLines),
        plain(StrategyKind::Scan),
        plain(StrategyKind::HashMap),
        Case { fresh_index: true, ..plain(StrategyKind::MmapIndex) },
        plain(StrategyKind::MmapIndex),
        lru(0.1),
        lru(0.5),
        plain(StrategyKind::Warming),
        Case { cold: true, ..plain(StrategyKind::Scan) },
        Case { cold: true, ..plain(StrategyKind::MmapIndex) },
    ]
}

/// The workloads every warm case runs: uniform hits, Zipf 0.99 hits, misses.
pub fn default_workloads() -> Vec<Workload> {
    vec![Workload::UNIFORM, Workload::ZIPF, Workload::MISS]
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
    /// The probe's output was not a report.
    #[error("probe of {case} printed no report: {source}")]
    Output {
        /// Case label.
        case: String,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// How a child probe measures.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// At most this many of the file's keys are looked up.
    pub key_pool: usize,
    /// Workloads for warm cases (cold cases run only the first, uniform).
    pub workloads: Vec<Workload>,
    /// Short rounds ([`crate::timing::Plan::quick`]).
    pub quick: bool,
}

/// The arguments that make `kvbench probe` run `case` on `data` (after the subcommand).
pub fn probe_args(data: &Path, case: &Case, options: &ProbeOptions) -> Vec<String> {
    let mut args = vec![
        "--data".to_owned(),
        data.display().to_string(),
        "--strategy".to_owned(),
        case.strategy.to_string(),
        "--key-pool".to_owned(),
        options.key_pool.to_string(),
    ];
    let workloads = if case.cold { &options.workloads[..options.workloads.len().min(1)] } else { &options.workloads };
    for w in workloads {
        args.push("--workload".to_owned());
        args.push(w.to_string());
    }
    for (on, flag) in [(case.fresh_index, "--fresh-index"), (case.cold, "--cold"), (options.quick, "--quick")] {
        if on {
            args.push(flag.to_owned());
        }
    }
    args
}

/// Runs `<exe> probe …` for `case` and reads its JSON report from stdout.
pub fn probe_in_child(exe: &Path, data: &Path, case: &Case, options: &ProbeOptions) -> Result<ProbeReport, SuiteError> {
    let output = Command::new(exe)
        .arg("probe")
        .args(probe_args(data, case, options))
        .stdin(Stdio::null())
        .output()
        .map_err(|source| SuiteError::Spawn { exe: exe.to_owned(), source })?;
    if !output.status.success() {
        return Err(SuiteError::Failed {
            case: case.label(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    serde_json::from_slice(&output.stdout).map_err(|source| SuiteError::Output { case: case.label(), source })
}

/// How results name a dataset: its key count and value-length distribution.
pub fn dataset_info(dataset: &kvbench_workload::Dataset) -> DatasetInfo {
    DatasetInfo { keys: dataset.keys.0, value_len: dataset.value_len.to_string() }
}

/// The records of one probe: open and ready times, memory, and per workload
/// the round mean, latency percentiles and hit rate.
pub fn records(dataset: &DatasetInfo, case: &str, report: &ProbeReport, run: &RunInfo) -> Vec<Record> {
    let rec = |workload: &str, metric, value| Record::new(case, dataset, workload, metric, value, run);
    let mut out = vec![rec("-", Metric::OpenTime, report.open_ns as f64)];
    out.extend(report.ready_ns.map(|ns| rec("-", Metric::ReadyTime, ns as f64)));
    let (m, o) = (&report.memory_steady, &report.memory_open);
    for (metric, value) in [
        (Metric::HeapBytes, m.heap),
        (Metric::AnonRssBytes, m.anon),
        (Metric::FileRssBytes, m.file),
        (Metric::OpenHeapBytes, o.heap),
        (Metric::OpenAnonRssBytes, o.anon),
        (Metric::OpenFileRssBytes, o.file),
    ] {
        out.extend(value.map(|v| rec("-", metric, v as f64)));
    }
    if let (Some(anon), Some(keys)) = (m.anon, report.keys.or(report.records).filter(|&k| k > 0)) {
        out.push(rec("-", Metric::AnonBytesPerKey, anon as f64 / keys as f64));
    }
    for w in &report.workloads {
        let label = w.workload.as_str();
        if let Some(r) = &w.rounds {
            out.push(rec(label, Metric::LookupMean, r.median_ns).with_spread(r.min_ns, r.max_ns, SpreadKind::MinMax));
        }
        let l = &w.latency;
        for (metric, value) in [
            (Metric::LatencyP50, l.p50),
            (Metric::LatencyP90, l.p90),
            (Metric::LatencyP99, l.p99),
            (Metric::LatencyP999, l.p999),
            (Metric::LatencyMax, l.max),
        ] {
            out.push(rec(label, metric, value));
        }
        out.extend(w.hit_rate.map(|h| rec(label, Metric::HitRate, h)));
    }
    if let Some(floor) = &report.memchr_pass {
        // The bandwidth floor of a full scan, as a pseudo-strategy beside it.
        let record = Record::new(MEMCHR_PASS, dataset, "-", Metric::LookupMean, floor.median_ns, run);
        out.push(record.with_spread(floor.min_ns, floor.max_ns, SpreadKind::MinMax));
    }
    out
}
