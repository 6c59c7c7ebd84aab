//! Records and result sets: what was measured, on what, and how precisely.
//!
//! The data model only: nothing here writes a figure for people. What does
//! ([`crate::units`], with [`DatasetInfo::label`]) imports this module, never
//! the other way round.

use serde::{Deserialize, Serialize};

use crate::env::RunInfo;
use crate::names::{CaseId, CaseStart};
use crate::workload::Workload;

/// Version of the file format; readers refuse files of another version.
///
/// Version 4 changed what the suite's figures mean: a suite record is the
/// median of fresh-process runs with a confidence interval
/// ([`SpreadKind::MedianCi`]), not one process's rounds with their min–max;
/// its per-lookup percentiles have the clock's cost subtracted
/// ([`Record::subtracted`]); and it says how many samples it rests on
/// ([`Record::samples`], [`Record::runs`]).
///
/// Version 5 added [`DatasetInfo::file`] (a file the user brought, described
/// as measured) and [`ResultSet::memory_budget`].
///
/// Version 6 added [`Record::memory_limit`] (a figure measured under a
/// cgroup memory limit), [`ResultSet::skipped`] (cases that could not fit)
/// and the fault and disk-read metrics.
///
/// Version 7 added [`Metric::SyscallsPerRequest`].
///
/// Version 8 typed what identifies a record: its case is a strategy name and
/// a [`CaseStart`] (`"strategy": "mmap-index", "start": "reopen"`, once the
/// label `mmap-index (reopen)`), and its workload a parsed [`Workload`],
/// absent when none applies (once `-`); a cold case's workload lost its
/// `@cold` mark, which the start says. Older files are upgraded as they are read
/// ([`crate::io::read`]).
pub const SCHEMA_VERSION: u32 = 8;

/// The oldest version this kvbench still reads: version 2 only added load
/// runs ([`Record::load`] and the server metrics), version 3 latency
/// histograms ([`Record::histogram`]) and the whole-process metrics of the
/// baselines, and versions 4 and 5 only optional fields, so older files read as
/// they are (with the meaning their version gave them), as do 6 and 7; files
/// before 8 have their labels parsed into the typed case and workload.
pub const OLDEST_READABLE_VERSION: u32 = 1;

/// The `source` of the result sets `kvbench bench baselines` writes, by which reports tell them apart.
pub const BASELINES_SOURCE: &str = "kvbench bench baselines";

/// What a record measures. Each metric has one unit and one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Mean time of one `get`, from criterion.
    GetMean,
    /// Time per lookup when lookups run back to back and overlap (a loop over
    /// independent keys, whose cache misses the CPU overlaps): the inverse of
    /// one thread's throughput, not the latency of one lookup. From `kvbench
    /// suite` (median of timed rounds) and `kvbench bench baselines` (what one
    /// more key adds to a process). The name stays `lookup_mean` so older files
    /// and stored gate runs still compare.
    LookupMean,
    /// Per-lookup latency percentiles, from HdrHistogram: each lookup timed on
    /// its own (in the suite, the clock's own cost subtracted).
    LatencyP50,
    /// 90th percentile.
    LatencyP90,
    /// 99th percentile.
    LatencyP99,
    /// 99.9th percentile.
    LatencyP999,
    /// Slowest lookup seen.
    LatencyMax,
    /// Time from open until the strategy can answer (build or reopen).
    OpenTime,
    /// Time from open until lookups run at their steady speed: the open, then
    /// the files' pages mapped in (`warming`: until its full map serves).
    ReadyTime,
    /// Fraction of lookups answered by a cache.
    HitRate,
    /// Live heap bytes held by the strategy.
    HeapBytes,
    /// Anonymous resident memory the strategy added.
    AnonRssBytes,
    /// File-backed resident memory the strategy added (mapped files).
    FileRssBytes,
    /// Anonymous resident bytes per key.
    AnonBytesPerKey,
    /// Live heap bytes right after open, before any lookup (a cache fills later).
    OpenHeapBytes,
    /// Anonymous resident memory right after open, before any lookup.
    OpenAnonRssBytes,
    /// File-backed resident memory right after open, before any lookup.
    OpenFileRssBytes,
    /// Requests answered per second under load.
    Throughput,
    /// Mean CPU use of the server under load (user + system), percent of one CPU.
    ServerCpu,
    /// Resident memory of the server: its highest under load (a load run), or
    /// after the lookups (a suite case of a strategy that asks a server, `redis`).
    ServerRss,
    /// Requests that failed or were answered wrongly under load.
    Errors,
    /// Wall time of a whole process answering one key (start-up, load, lookup, exit).
    ProcessTime,
    /// Peak resident memory of that process.
    ProcessPeakRss,
    /// Instructions retired by one operation, counted under Valgrind: deterministic, for the regression gate.
    Instructions,
    // --- The suite's measurement (schema 4): latency apart from throughput, cold starts, resident memory ---
    /// Latency of a lookup that waits for the previous one: mean time per
    /// lookup of a dependent chain (each key chosen after the previous answer
    /// arrived), with the chain loop's own cost subtracted.
    ChainLatency,
    /// For a cold case: the first lookup after opening with the page cache dropped.
    FirstLookup,
    /// For a cold case: fraction of the data file's pages still in the page
    /// cache after eviction, right before opening (near 0 when eviction worked).
    ColdResidentBefore,
    /// For a cold case: fraction of the data file's pages in the page cache
    /// right after opening (1 when opening read the whole file, so the
    /// lookups after it are warm).
    ColdResidentAfterOpen,
    /// Anonymous plus file-backed resident bytes per key: all the memory the
    /// strategy needs resident to answer at the speed measured.
    ResidentBytesPerKey,
    /// Bytes the strategy keeps on disk beside the data file (its index
    /// sidecar or engine store, not the data file itself), per key.
    DiskBytesPerKey,
    // --- The macro benchmark ---
    /// Mean CPU use of the load generator under load (user + system, all its threads), percent of one CPU:
    /// near 100 % of its one thread, the client and not the server sets the pace.
    ClientCpu,
    // --- Files larger than memory (schema 6) ---
    /// Page faults that read from disk, per lookup, over a workload's lookups.
    MajorFaultsPerLookup,
    /// Page faults served from the page cache (mapping a cached page), per lookup.
    MinorFaultsPerLookup,
    /// Bytes read from storage per lookup (readahead included), over a workload's lookups.
    DiskReadBytesPerLookup,
    /// System calls that read (`read`, `pread`, …: `syscr` of `/proc/self/io`) per lookup, over a
    /// workload's lookups: an engine reading pages with `pread` makes them, a map makes none.
    ReadCallsPerLookup,
    // --- Server efficiency (schema 7) ---
    /// System calls the server process made per request answered, counted by
    /// `perf stat` in a window of its own after the load (counting slows every
    /// system call, so the load's CPU figures are taken without it).
    SyscallsPerRequest,
}

/// The unit of a metric's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Nanoseconds.
    Ns,
    /// Bytes.
    Bytes,
    /// A fraction in 0..=1.
    Ratio,
    /// Events per second.
    PerSecond,
    /// Percent of one CPU.
    Percent,
    /// A plain count.
    Count,
}

/// Whether a larger value is better or worse (for comparisons).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Latency, time, memory.
    LowerIsBetter,
    /// Hit rate, throughput.
    HigherIsBetter,
}

impl Metric {
    /// Every metric, in table order.
    pub const ALL: [Metric; 36] = [
        Metric::GetMean,
        Metric::LookupMean,
        Metric::LatencyP50,
        Metric::LatencyP90,
        Metric::LatencyP99,
        Metric::LatencyP999,
        Metric::LatencyMax,
        Metric::OpenTime,
        Metric::ReadyTime,
        Metric::HitRate,
        Metric::HeapBytes,
        Metric::AnonRssBytes,
        Metric::FileRssBytes,
        Metric::AnonBytesPerKey,
        Metric::OpenHeapBytes,
        Metric::OpenAnonRssBytes,
        Metric::OpenFileRssBytes,
        Metric::Throughput,
        Metric::ServerCpu,
        Metric::ServerRss,
        Metric::Errors,
        Metric::ProcessTime,
        Metric::ProcessPeakRss,
        Metric::Instructions,
        Metric::ChainLatency,
        Metric::FirstLookup,
        Metric::ColdResidentBefore,
        Metric::ColdResidentAfterOpen,
        Metric::ResidentBytesPerKey,
        Metric::DiskBytesPerKey,
        Metric::ClientCpu,
        Metric::MajorFaultsPerLookup,
        Metric::MinorFaultsPerLookup,
        Metric::DiskReadBytesPerLookup,
        Metric::ReadCallsPerLookup,
        Metric::SyscallsPerRequest,
    ];

    /// The unit values of this metric are in.
    pub fn unit(self) -> Unit {
        match self {
            Metric::HitRate | Metric::ColdResidentBefore | Metric::ColdResidentAfterOpen => Unit::Ratio,
            Metric::HeapBytes
            | Metric::AnonRssBytes
            | Metric::FileRssBytes
            | Metric::AnonBytesPerKey
            | Metric::OpenHeapBytes
            | Metric::OpenAnonRssBytes
            | Metric::OpenFileRssBytes
            | Metric::ServerRss
            | Metric::ProcessPeakRss
            | Metric::ResidentBytesPerKey
            | Metric::DiskBytesPerKey
            | Metric::DiskReadBytesPerLookup => Unit::Bytes,
            Metric::Throughput => Unit::PerSecond,
            Metric::ServerCpu | Metric::ClientCpu => Unit::Percent,
            Metric::Errors
            | Metric::Instructions
            | Metric::MajorFaultsPerLookup
            | Metric::MinorFaultsPerLookup
            | Metric::ReadCallsPerLookup
            | Metric::SyscallsPerRequest => Unit::Count,
            _ => Unit::Ns,
        }
    }

    /// Which way is better.
    pub fn direction(self) -> Direction {
        match self {
            Metric::HitRate | Metric::Throughput => Direction::HigherIsBetter,
            _ => Direction::LowerIsBetter,
        }
    }

    /// The name used in files and exports, e.g. `latency_p99`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::GetMean => "get_mean",
            Metric::LookupMean => "lookup_mean",
            Metric::LatencyP50 => "latency_p50",
            Metric::LatencyP90 => "latency_p90",
            Metric::LatencyP99 => "latency_p99",
            Metric::LatencyP999 => "latency_p999",
            Metric::LatencyMax => "latency_max",
            Metric::OpenTime => "open_time",
            Metric::ReadyTime => "ready_time",
            Metric::HitRate => "hit_rate",
            Metric::HeapBytes => "heap_bytes",
            Metric::AnonRssBytes => "anon_rss_bytes",
            Metric::FileRssBytes => "file_rss_bytes",
            Metric::AnonBytesPerKey => "anon_bytes_per_key",
            Metric::OpenHeapBytes => "open_heap_bytes",
            Metric::OpenAnonRssBytes => "open_anon_rss_bytes",
            Metric::OpenFileRssBytes => "open_file_rss_bytes",
            Metric::Throughput => "throughput",
            Metric::ServerCpu => "server_cpu",
            Metric::ServerRss => "server_rss",
            Metric::Errors => "errors",
            Metric::ProcessTime => "process_time",
            Metric::ProcessPeakRss => "process_peak_rss",
            Metric::Instructions => "instructions",
            Metric::ChainLatency => "chain_latency",
            Metric::FirstLookup => "first_lookup",
            Metric::ColdResidentBefore => "cold_resident_before",
            Metric::ColdResidentAfterOpen => "cold_resident_after_open",
            Metric::ResidentBytesPerKey => "resident_bytes_per_key",
            Metric::DiskBytesPerKey => "disk_bytes_per_key",
            Metric::ClientCpu => "client_cpu",
            Metric::MajorFaultsPerLookup => "major_faults_per_lookup",
            Metric::MinorFaultsPerLookup => "minor_faults_per_lookup",
            Metric::DiskReadBytesPerLookup => "disk_read_bytes_per_lookup",
            Metric::ReadCallsPerLookup => "read_calls_per_lookup",
            Metric::SyscallsPerRequest => "syscalls_per_request",
        }
    }

    /// What the figure is, in words for tables: the suite's two lookup times
    /// are named apart (throughput vs latency), the rest by their file name.
    pub fn label(self) -> &'static str {
        match self {
            Metric::LookupMean => "time per lookup, overlapped (throughput)",
            Metric::ChainLatency => "latency, chained (each lookup waits for the previous)",
            Metric::LatencyP50 => "latency p50, each lookup timed alone",
            Metric::FirstLookup => "first lookup after a cold open",
            other => other.name(),
        }
    }
}

/// How the bounds of a [`Spread`] were obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpreadKind {
    /// A 95 % confidence interval of the estimate (criterion's bootstrap).
    Ci95,
    /// Fastest and slowest of repeated rounds, or of runs (`kvbench merge`).
    MinMax,
    /// A distribution-free confidence interval of the median of repeated
    /// fresh-process runs (two of the runs' own values; see [`crate::stats`]):
    /// asymmetric as the data, at the level in [`Spread::level`].
    MedianCi,
}

/// The uncertainty of a value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// What the bounds are.
    pub kind: SpreadKind,
    /// For a confidence interval whose level varies ([`SpreadKind::MedianCi`]):
    /// the probability it holds the true value, e.g. 0.9375 for the min–max of 5 runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<f64>,
}

impl Spread {
    /// The median of `samples`, and their range as a [`SpreadKind::MinMax`]
    /// spread (zeros when there are none).
    pub fn of_samples(samples: &[f64]) -> (f64, Spread) {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let at = |i: usize| sorted.get(i).copied().unwrap_or(0.0);
        let median = if n % 2 == 1 { at(n / 2) } else { (at((n / 2).saturating_sub(1)) + at(n / 2)) / 2.0 };
        let range = Spread { lower: at(0), upper: at(n.saturating_sub(1)), kind: SpreadKind::MinMax, level: None };
        (median, range)
    }
}

/// The dataset a record was measured on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Distinct keys in the file (for a generated dataset, its lines).
    pub keys: u64,
    /// Value-length distribution, e.g. [`DEFAULT_VALUE_LEN`](crate::DEFAULT_VALUE_LEN) or `fixed:300`;
    /// `file:NAME` for a file kvbench did not generate.
    pub value_len: String,
    /// What a file the user brought holds, measured; `None` for a generated dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileInfo>,
}

impl DatasetInfo {
    /// A dataset `kvbench gen` made: `keys` lines of values following `value_len`.
    pub fn generated(keys: u64, value_len: impl Into<String>) -> Self {
        DatasetInfo { keys, value_len: value_len.into(), file: None }
    }

    /// A file the user brought, described by what was measured of it.
    pub fn file(file: FileInfo) -> Self {
        DatasetInfo { keys: file.distinct_keys, value_len: format!("file:{}", file.name), file: Some(file) }
    }
}

/// A data file as measured: its size, records and the shape of its keys and
/// values, and a fingerprint of its bytes, so records of two files never
/// merge even when their names agree.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileInfo {
    /// The file's name (without its folder), which charts and tables show.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Lines that are records (duplicates included).
    pub records: u64,
    /// Distinct keys among them.
    pub distinct_keys: u64,
    /// Records whose key an earlier record already had (the first one wins).
    pub duplicates: u64,
    /// Malformed lines skipped (with `--lenient`; without it a malformed line is an error).
    pub skipped: u64,
    /// Key lengths in bytes, over every record.
    pub key_len: LenSummary,
    /// Value lengths in bytes, over every record.
    pub value_len: LenSummary,
    /// A hash of the file's bytes (XXH3-128, hex).
    pub fingerprint: String,
}

/// Minimum, median, 99th percentile and maximum of a set of lengths, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LenSummary {
    /// Shortest.
    pub min: u64,
    /// Median.
    pub median: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Longest.
    pub max: u64,
}

/// How a server was loaded, for records of load runs (`kvbench bench macro`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LoadInfo {
    /// `http` or `resp`.
    pub protocol: String,
    /// Client connections, each with one request in flight.
    pub connections: u32,
    /// Threads of the server (`kvbench serve --threads`; 1 for redis-server; 0 when unknown, as for `kvbench load`).
    pub server_threads: u32,
    /// Open loop at this many requests per second; `None` for closed loop.
    pub rate: Option<u64>,
    /// Seed of the keys asked for (each load of a run has its own), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The load generator, when not kvbench's own (`wrk` for the cross-check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Whether server and load generator were pinned to different CPUs.
    #[serde(default)]
    pub pinned: bool,
}

/// One measured value, with everything needed to interpret and compare it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The case: strategy name (`mmap-index`, `lru(0.5,hashmap)`) and start,
    /// written as two fields of the record (`strategy`, `start`).
    #[serde(flatten)]
    pub case: CaseId,
    /// The data it ran on.
    pub dataset: DatasetInfo,
    /// The workload (`uniform`, `zipf:0.99`, `miss`, …); `None` (absent in
    /// the file) for figures of the case as a whole: open time, memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<Workload>,
    /// What was measured.
    pub metric: Metric,
    /// The value, in `unit`.
    pub value: f64,
    /// The unit (always `metric.unit()`, stored so files read on their own).
    pub unit: Unit,
    /// Uncertainty, when the measurement has one.
    pub spread: Option<Spread>,
    /// Machine, toolchain, commit and time of the run.
    pub run: RunInfo,
    /// For load runs: protocol, connections, server threads, rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadInfo>,
    /// For the p50 record of a load run: the whole latency distribution it
    /// was read from, for the report's histograms and percentile curves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<LatencyHistogram>,
    // --- How much data a suite figure rests on (schema 4) ---
    /// Samples behind `value` in each run: lookups timed (one by one for
    /// percentiles, in rounds for means); the fewest of any run when `runs` > 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
    /// Fresh-process runs whose median `value` is (its spread is then a [`SpreadKind::MedianCi`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<u32>,
    /// The measurement's own cost already subtracted from `value`, in `unit`
    /// (the clock reads around a lookup timed alone; a chain loop's floor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtracted: Option<f64>,
    /// The memory limit (bytes, page cache included) the figure was measured
    /// under (`kvbench suite --memory-limit`), read back by the probe itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<u64>,
}

/// A latency distribution in log-spaced buckets: enough to draw a histogram
/// and a percentile curve (to a bucket's width) without storing every sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyHistogram {
    /// Non-empty buckets, by increasing bound.
    pub buckets: Vec<Bucket>,
}

/// The latencies above the previous bucket's bound, up to `le`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Upper bound, in ns (inclusive).
    pub le: f64,
    /// Samples in the bucket.
    pub count: u64,
}

impl LatencyHistogram {
    /// Samples in all buckets.
    pub fn total(&self) -> u64 {
        self.buckets.iter().map(|b| b.count).sum()
    }

    /// `(q, latency)` points of the percentile curve: for each bucket, the
    /// fraction of samples at or below its bound.
    pub fn quantiles(&self) -> Vec<(f64, f64)> {
        let total = self.total().max(1) as f64;
        let mut seen = 0;
        self.buckets
            .iter()
            .map(|b| {
                seen += b.count;
                (seen as f64 / total, b.le)
            })
            .collect()
    }
}

impl Record {
    /// A record of `metric` with its unit filled in.
    pub fn new(
        case: impl Into<CaseId>,
        dataset: &DatasetInfo,
        workload: Option<Workload>,
        metric: Metric,
        value: f64,
        run: &RunInfo,
    ) -> Self {
        Record {
            case: case.into(),
            dataset: dataset.clone(),
            workload,
            metric,
            value,
            unit: metric.unit(),
            spread: None,
            run: run.clone(),
            load: None,
            histogram: None,
            samples: None,
            runs: None,
            subtracted: None,
            memory_limit: None,
        }
    }

    /// The same record with a spread.
    pub fn with_spread(mut self, lower: f64, upper: f64, kind: SpreadKind) -> Self {
        self.spread = Some(Spread { lower, upper, kind, level: None });
        self
    }

    /// The same record with the number of samples its value rests on.
    pub fn with_samples(mut self, samples: u64) -> Self {
        self.samples = Some(samples);
        self
    }

    /// The same record with the measurement cost already subtracted from its value.
    pub fn with_subtracted(mut self, subtracted: f64) -> Self {
        self.subtracted = Some(subtracted);
        self
    }

    /// The median of `runs` (records of one measurement from fresh-process
    /// runs, in any order) with its confidence interval: the fewest samples
    /// of any run, the median of what each subtracted. `None` for no runs.
    pub fn median_of_runs(runs: &[Record]) -> Option<Record> {
        let values: Vec<f64> = runs.iter().map(|r| r.value).collect();
        let ci = crate::stats::median_ci(&values, crate::stats::TARGET_LEVEL)?;
        let subtracted: Vec<f64> = runs.iter().filter_map(|r| r.subtracted).collect();
        let mut out = Record {
            value: ci.median,
            spread: None,
            samples: runs.iter().filter_map(|r| r.samples).min(),
            runs: Some(runs.len() as u32),
            subtracted: crate::stats::median_ci(&subtracted, 0.0).map(|s| s.median),
            ..runs[0].clone()
        };
        if runs.len() > 1 {
            out.spread =
                Some(Spread { lower: ci.lower, upper: ci.upper, kind: SpreadKind::MedianCi, level: Some(ci.level) });
        }
        Some(out)
    }

    /// The same record of a load run.
    pub fn with_load(mut self, load: LoadInfo) -> Self {
        self.load = Some(load);
        self
    }

    /// The same record with its latency distribution.
    pub fn with_histogram(mut self, histogram: LatencyHistogram) -> Self {
        self.histogram = Some(histogram);
        self
    }

    /// Whether the record is of the plain (warm) case of the strategy named `strategy`.
    pub fn is_plain(&self, strategy: &str) -> bool {
        self.case.is_plain(strategy)
    }

    /// Whether the record's case started `start`.
    pub fn started(&self, start: CaseStart) -> bool {
        self.case.started(start)
    }

    /// The workload's label as comparison tables and BMF names spell it:
    /// `-` for none, `uniform@cold` for a cold case's first lookups.
    pub fn workload_label(&self) -> String {
        crate::names::workload_label(self.workload.as_ref(), self.case.start)
    }

    /// What identifies a measurement across runs: case, dataset, workload, metric, load.
    pub fn key(&self) -> RecordKey {
        (self.case.clone(), self.dataset.clone(), self.workload, self.metric, self.load.clone(), self.memory_limit)
    }
}

/// What identifies a measurement across runs ([`Record::key`]): case,
/// dataset, workload, metric, load and memory limit.
pub type RecordKey = (CaseId, DatasetInfo, Option<Workload>, Metric, Option<LoadInfo>, Option<u64>);

/// A results file: a schema version and records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultSet {
    /// Always [`SCHEMA_VERSION`] when written by this version.
    pub schema_version: u32,
    /// What produced the records (`kvbench suite`, `criterion`, …).
    pub source: String,
    /// The measurements.
    pub records: Vec<Record>,
    /// The memory budget (bytes) the run was asked to recommend within
    /// (`kvbench suite --memory-budget`), so the report recommends alike.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_budget: Option<u64>,
    /// Cases the run did not measure because they could not fit, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// What the fit estimate allowed each case that ran, to set beside what it used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub estimates: Vec<Estimate>,
}

/// The anonymous memory the fit estimate (`kvbench_harness::fit`) allowed
/// a case before it ran, kept so its error can be read against the memory
/// the case then added ([`Metric::OpenAnonRssBytes`], [`Metric::AnonRssBytes`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The case, as its records name it.
    #[serde(flatten)]
    pub case: CaseId,
    /// The data it ran on.
    pub dataset: DatasetInfo,
    /// The memory limit the run was under, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<u64>,
    /// Anonymous bytes the case was estimated to add (its probe's own not included).
    pub bytes: u64,
}

/// A case the run skipped before starting it, because its estimated memory
/// or disk did not fit (`kvbench_harness::fit`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// The case, as its records would have named it.
    #[serde(flatten)]
    pub case: CaseId,
    /// The data it would have run on.
    pub dataset: DatasetInfo,
    /// Why it was skipped, with the estimate and what was available.
    pub reason: String,
    /// The memory limit the run was under, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<u64>,
}

impl ResultSet {
    /// An empty set from `source`.
    pub fn new(source: &str) -> Self {
        ResultSet {
            schema_version: SCHEMA_VERSION,
            source: source.to_owned(),
            records: Vec::new(),
            memory_budget: None,
            skipped: Vec::new(),
            estimates: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::DEFAULT_VALUE_LEN;

    fn run() -> RunInfo {
        RunInfo {
            cpu: "Test CPU".into(),
            cores: 2,
            os: "linux".into(),
            toolchain: "rustc".into(),
            commit: None,
            timestamp: "2026-11-24T10:00:00Z".into(),
            quick: false,
        }
    }

    fn run_of(value: f64, samples: u64, subtracted: f64) -> Record {
        let dataset = DatasetInfo::generated(1_000_000, DEFAULT_VALUE_LEN);
        Record::new("hashmap", &dataset, Some(Workload::UNIFORM), Metric::LatencyP50, value, &run())
            .with_samples(samples)
            .with_subtracted(subtracted)
    }

    #[test]
    fn the_median_of_runs_keeps_the_skew_the_fewest_samples_and_the_level() {
        let runs: Vec<Record> = [(402.0, 900), (348.0, 1_000), (331.0, 1_200), (351.0, 1_000), (340.0, 1_100)]
            .map(|(v, n)| run_of(v, n, 20.0))
            .to_vec();
        let m = Record::median_of_runs(&runs).unwrap();
        assert_eq!((m.value, m.samples, m.runs, m.subtracted), (348.0, Some(900), Some(5), Some(20.0)));
        let spread = m.spread.unwrap();
        assert_eq!((spread.lower, spread.upper, spread.kind), (331.0, 402.0, SpreadKind::MedianCi));
        assert!((spread.level.unwrap() - 0.9375).abs() < 1e-9);
        // One run: its value, no interval to claim.
        let one = Record::median_of_runs(&runs[..1]).unwrap();
        assert_eq!((one.value, one.spread, one.runs), (402.0, None, Some(1)));
        assert_eq!(Record::median_of_runs(&[]), None);
    }

    #[test]
    fn the_new_fields_are_left_out_when_absent_and_read_back_when_present() {
        let plain = Record::new("scan", &DatasetInfo::generated(1, "x"), None, Metric::OpenTime, 1.0, &run());
        let text = serde_json::to_string(&plain).unwrap();
        assert!(!text.contains("samples") && !text.contains("runs") && !text.contains("subtracted"), "{text}");
        assert!(!text.contains("start") && !text.contains("workload"), "{text}");
        let m = Record::median_of_runs(&[run_of(1.0, 10, 2.0), run_of(3.0, 12, 4.0)]).unwrap();
        let back: Record = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(Metric::LookupMean.label(), "time per lookup, overlapped (throughput)");
        assert_eq!(Metric::HeapBytes.label(), "heap_bytes");
    }

    #[test]
    fn a_case_and_its_workload_are_fields_of_their_own() {
        let case = CaseId::new("mmap-index", Some(CaseStart::Cold));
        let dataset = DatasetInfo::generated(10_000, DEFAULT_VALUE_LEN);
        let record = Record::new(case, &dataset, Some(Workload::UNIFORM), Metric::FirstLookup, 9e4, &run());
        let text = serde_json::to_string(&record).unwrap();
        assert!(text.starts_with(r#"{"strategy":"mmap-index","start":"cold","dataset":"#), "{text}");
        assert!(text.contains(r#""workload":"uniform","metric":"first_lookup""#), "{text}");
        let back: Record = serde_json::from_str(&text).unwrap();
        assert_eq!(back, record);
        assert_eq!((back.case.to_string(), back.workload_label()), ("mmap-index (cold)".into(), "uniform@cold".into()));
    }
}
