//! Records and result sets: what was measured, on what, and how precisely.

use serde::{Deserialize, Serialize};

use crate::env::RunInfo;
use crate::names::DEFAULT_VALUE_LEN;
use crate::units;

/// Version of the file format; readers refuse files of another version.
pub const SCHEMA_VERSION: u32 = 3;

/// The oldest version this kvbench still reads: version 2 only added load
/// runs ([`Record::load`] and the server metrics) and version 3 latency
/// histograms ([`Record::histogram`]) and the whole-process metrics of the
/// baselines, so older files read as they are.
pub const OLDEST_READABLE_VERSION: u32 = 1;

/// The `source` of the result sets `kvbench bench baselines` writes, by which reports tell them apart.
pub const BASELINES_SOURCE: &str = "kvbench bench baselines";

/// What a record measures. Each metric has one unit and one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Mean time of one `get`, from criterion.
    GetMean,
    /// Mean time of one lookup over timed rounds (median of rounds), from `kvbench suite`.
    LookupMean,
    /// Per-lookup latency percentiles, from HdrHistogram.
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
    /// For `warming`: time from open until the full map serves.
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
    /// Highest resident memory of the server under load.
    ServerRss,
    /// Requests that failed or were answered wrongly under load.
    Errors,
    /// Wall time of a whole process answering one key (start-up, load, lookup, exit).
    ProcessTime,
    /// Peak resident memory of that process.
    ProcessPeakRss,
    /// Instructions retired by one operation, counted under Valgrind: deterministic, for the regression gate.
    Instructions,
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
    pub const ALL: [Metric; 24] = [
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
    ];

    /// The unit values of this metric are in.
    pub fn unit(self) -> Unit {
        match self {
            Metric::HitRate => Unit::Ratio,
            Metric::HeapBytes
            | Metric::AnonRssBytes
            | Metric::FileRssBytes
            | Metric::AnonBytesPerKey
            | Metric::OpenHeapBytes
            | Metric::OpenAnonRssBytes
            | Metric::OpenFileRssBytes
            | Metric::ServerRss
            | Metric::ProcessPeakRss => Unit::Bytes,
            Metric::Throughput => Unit::PerSecond,
            Metric::ServerCpu => Unit::Percent,
            Metric::Errors | Metric::Instructions => Unit::Count,
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
        let range = Spread { lower: at(0), upper: at(n.saturating_sub(1)), kind: SpreadKind::MinMax };
        (median, range)
    }
}

/// The dataset a record was measured on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Lines (keys) in the file.
    pub keys: u64,
    /// Value-length distribution, e.g. [`DEFAULT_VALUE_LEN`] or `fixed:300`.
    pub value_len: String,
}

impl DatasetInfo {
    /// A short label: `10k`, `1M`, or `1M fixed:300` for non-default values.
    pub fn label(&self) -> String {
        let keys = units::count(self.keys);
        if self.value_len == DEFAULT_VALUE_LEN { keys } else { format!("{keys} {}", self.value_len) }
    }
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
    /// Strategy label, e.g. `mmap-index` or `lru(0.5,hashmap)`.
    pub strategy: String,
    /// The data it ran on.
    pub dataset: DatasetInfo,
    /// Workload label (`uniform`, `zipf:0.99`, `miss`, …), or `-` when none applies.
    pub workload: String,
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
        strategy: &str,
        dataset: &DatasetInfo,
        workload: &str,
        metric: Metric,
        value: f64,
        run: &RunInfo,
    ) -> Self {
        Record {
            strategy: strategy.to_owned(),
            dataset: dataset.clone(),
            workload: workload.to_owned(),
            metric,
            value,
            unit: metric.unit(),
            spread: None,
            run: run.clone(),
            load: None,
            histogram: None,
        }
    }

    /// The same record with a spread.
    pub fn with_spread(mut self, lower: f64, upper: f64, kind: SpreadKind) -> Self {
        self.spread = Some(Spread { lower, upper, kind });
        self
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

    /// What identifies a measurement across runs: strategy, dataset, workload, metric, load.
    pub fn key(&self) -> (String, DatasetInfo, String, Metric, Option<LoadInfo>) {
        (self.strategy.clone(), self.dataset.clone(), self.workload.clone(), self.metric, self.load.clone())
    }
}

/// A results file: a schema version and records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultSet {
    /// Always [`SCHEMA_VERSION`] when written by this version.
    pub schema_version: u32,
    /// What produced the records (`kvbench suite`, `criterion`, …).
    pub source: String,
    /// The measurements.
    pub records: Vec<Record>,
}

impl ResultSet {
    /// An empty set from `source`.
    pub fn new(source: &str) -> Self {
        ResultSet { schema_version: SCHEMA_VERSION, source: source.to_owned(), records: Vec::new() }
    }
}
