//! One strategy on one data file: open it, run workloads, account memory.
//!
//! A probe is meant to run alone in a fresh process (see [`crate::suite`]),
//! so the memory it reports belongs to the strategy and nothing else.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kvbench_lookup::DataFile;
use kvbench_lookup::default_sidecar_path;
use kvbench_lookup::{Lookup, LookupError, OpenError, OpenOptions, Strategy, StrategyKind};
use kvbench_workload::file_keys;
use kvbench_workload::{KeyStream, Workload};
use serde::{Deserialize, Serialize};

use crate::latency::{self, Percentiles, SampleBudget};
use crate::memory::{MemorySnapshot, evict_page_cache};
use crate::timing::{Plan, RoundStats, measure};

/// What a probe measures.
#[derive(Clone, Debug)]
pub struct ProbeSpec {
    /// The data file.
    pub data: PathBuf,
    /// The strategy to open on it.
    pub strategy: Strategy,
    /// Open options (lenient parsing, sidecar path).
    pub opts: OpenOptions,
    /// Delete an existing index sidecar first, to time a cold build.
    pub fresh_index: bool,
    /// Drop the data file (and sidecar) from the page cache before opening,
    /// and time only the first lookups: a cold start.
    pub cold: bool,
    /// Workloads to run, in order, on the same opened strategy.
    pub workloads: Vec<Workload>,
    /// At most this many of the file's keys are drawn from (every k-th line beyond).
    pub key_pool: usize,
    /// How long to time rounds of lookups.
    pub plan: Plan,
    /// How many lookups to time one by one.
    pub budget: SampleBudget,
    /// Seed for the workloads' streams.
    pub seed: u64,
}

/// One workload's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadReport {
    /// Workload label (`uniform`, `zipf:0.99`, `miss`; `@cold` appended for a cold start).
    pub workload: String,
    /// Mean time per lookup over timed rounds (absent for cold starts).
    pub rounds: Option<RoundStats>,
    /// Per-lookup latency percentiles.
    pub latency: Percentiles,
    /// Cache hit rate during the timed lookups, for caching strategies.
    pub hit_rate: Option<f64>,
}

/// What a probe found. Memory figures are growth over the process before opening.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// Strategy label, e.g. `lru(0.1,mmap-index)`.
    pub strategy: String,
    /// Whether an index sidecar was deleted before opening.
    pub fresh_index: bool,
    /// Whether the page cache was dropped before opening.
    pub cold: bool,
    /// Size of the data file.
    pub file_bytes: u64,
    /// Distinct keys, if the strategy counts them.
    pub keys: Option<u64>,
    /// Records in the file, if the strategy counts them.
    pub records: Option<u64>,
    /// Time from calling open to a strategy able to answer.
    pub open_ns: u64,
    /// For `warming`: time from open until the hashmap was serving.
    pub ready_ns: Option<u64>,
    /// Results per workload, in the order run.
    pub workloads: Vec<WorkloadReport>,
    /// Memory growth right after open (and, for warming, readiness).
    pub memory_open: MemorySnapshot,
    /// Memory growth after all lookups: what serving costs in steady state.
    pub memory_steady: MemorySnapshot,
    /// Median cost of reading the clock around one lookup (included in percentiles).
    pub clock_overhead_ns: f64,
    /// Mean cost of the timing loop fetching the next key without looking it
    /// up (included in the round means).
    pub harness_overhead_ns: f64,
    /// For `scan`: one `memchr` pass over the whole file, timed in the same
    /// process right after the workloads: the floor a full scan compares to.
    pub memchr_pass: Option<RoundStats>,
    /// The strategy's own notes (index reused or rebuilt, fallbacks).
    pub notes: Vec<String>,
}

impl ProbeReport {
    /// The results of the workload labelled `label`.
    pub fn workload(&self, label: &str) -> Option<&WorkloadReport> {
        self.workloads.iter().find(|w| w.workload == label)
    }
}

/// Why a probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The strategy could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// A lookup failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// A present key was not found, or an absent key was: a wrong answer.
    #[error("wrong answer for key {key:?}: expected it to be {expected}")]
    WrongAnswer {
        /// The key, lossily decoded.
        key: String,
        /// "present" or "absent".
        expected: &'static str,
    },
    /// A file could not be prepared (sidecar deleted, page cache dropped).
    #[error("cannot prepare {path}: {source}", path = path.display())]
    Prepare {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `warming` did not become ready in time.
    #[error("warming did not become ready within {0:?}: {1}")]
    NotReady(Duration, String),
}

/// Length of each workload's key stream; lookups cycle through it.
const STREAM_LEN: usize = 1 << 20;

/// For caching strategies the stream is made at least this many times
/// longer than the key count (up to [`MAX_CACHE_STREAM`]): a cache fed a short
/// repeating stream ends up holding all of it and reports hits a real
/// workload would not give.
const CACHE_STREAM_FACTOR: usize = 5;
const MAX_CACHE_STREAM: usize = 16 << 20;

/// Builds the workloads' streams from the file's keys, using a temporary
/// mapping that is dropped before measuring, so the probe's own reads do not
/// count as the strategy's file-backed memory.
fn streams(spec: &ProbeSpec) -> Result<Vec<(Workload, KeyStream)>, OpenError> {
    let file = DataFile::open(&spec.data)?;
    let keys = file_keys(file.bytes(), spec.key_pool);
    let len = match (&spec.strategy, spec.cold) {
        (_, true) => spec.budget.max_ops as usize,
        (Strategy::Lru { .. }, false) => (keys.len() * CACHE_STREAM_FACTOR).clamp(STREAM_LEN, MAX_CACHE_STREAM),
        _ => STREAM_LEN,
    };
    Ok(spec.workloads.iter().map(|w| (*w, w.stream(&keys, len.max(1), spec.seed))).collect())
}

/// Looks up the `i`-th key of `stream` and checks the answer.
fn lookup_checked(lookup: &dyn Lookup, stream: &KeyStream, i: u64) -> Result<(), ProbeError> {
    let (key, present) = stream.get(i);
    let found = std::hint::black_box(lookup.get(std::hint::black_box(key))?).is_some();
    if found != present {
        let expected = if present { "present" } else { "absent" };
        return Err(ProbeError::WrongAnswer { key: String::from_utf8_lossy(key).into_owned(), expected });
    }
    Ok(())
}

/// Looks up `op(0)`, `op(1)`, … until a cache's hit rate settles: windows of
/// `max(capacity, 10 000)` lookups until two in a row differ by under 0.2
/// points, or `limit` lookups. Returns how many it made (0 for a strategy
/// without a cache), so measuring can continue the same key sequence.
///
/// A fixed warm-up is not enough: after 3× its capacity of uniform lookups a
/// cache holding every key has seen only 95 % of them.
pub fn warm_cache<E>(lookup: &dyn Lookup, limit: u64, mut op: impl FnMut(u64) -> Result<(), E>) -> Result<u64, E> {
    let Some(cache) = lookup.info().cache else { return Ok(0) };
    let window = cache.capacity.max(10_000);
    let counts = || lookup.info().cache.map_or((0, 0), |c| (c.hits, c.hits + c.misses));
    let (mut done, mut previous) = (0, None::<f64>);
    while done + window <= limit.max(window) {
        let (hits, total) = counts();
        for _ in 0..window {
            op(done)?;
            done += 1;
        }
        let (hits2, total2) = counts();
        let rate = (hits2 - hits) as f64 / (total2 - total).max(1) as f64;
        if previous.is_some_and(|p| (rate - p).abs() < 0.002) {
            break;
        }
        previous = Some(rate);
    }
    Ok(done)
}

/// Waits for a strategy that reports readiness (`warming`) to become ready.
fn wait_ready(lookup: &dyn Lookup, timeout: Duration) -> Result<(), ProbeError> {
    let start = Instant::now();
    loop {
        let info = lookup.info();
        if info.ready_after.is_some() {
            return Ok(());
        }
        if !info.notes.is_empty() || start.elapsed() > timeout {
            return Err(ProbeError::NotReady(timeout, info.notes.join("; ")));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn prepare(spec: &ProbeSpec) -> Result<(), ProbeError> {
    let sidecar = spec.opts.index_path.clone().unwrap_or_else(|| default_sidecar_path(&spec.data));
    if spec.fresh_index {
        match std::fs::remove_file(&sidecar) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ProbeError::Prepare { path: sidecar, source: e });
            }
            _ => {}
        }
    }
    if spec.cold {
        for path in [&spec.data, &sidecar].into_iter().filter(|p| p.exists()) {
            evict_page_cache(path).map_err(|source| ProbeError::Prepare { path: path.clone(), source })?;
        }
    }
    Ok(())
}

/// Runs one workload on an opened strategy.
fn run_workload(
    spec: &ProbeSpec,
    lookup: &dyn Lookup,
    workload: Workload,
    stream: &KeyStream,
) -> Result<WorkloadReport, ProbeError> {
    if spec.cold {
        let hist = latency::record(&spec.budget, |i| lookup_checked(lookup, stream, i))?;
        return Ok(WorkloadReport {
            workload: kvbench_results::names::cold_workload(workload),
            rounds: None,
            latency: Percentiles::of(&hist),
            hit_rate: None,
        });
    }
    // Warm a cache until its hit rate settles (within half the stream, which
    // must not wrap under a cache); timing continues the same stream.
    let warm_up = warm_cache(lookup, stream.len() as u64 / 2, |i| lookup_checked(lookup, stream, i))?;
    let cache_before = lookup.info().cache;
    let rounds = measure(&spec.plan, |i| lookup_checked(lookup, stream, warm_up + i))?;
    // Per-lookup timing continues the stream: replaying keys the rounds just
    // looked up would find them in every cache.
    let done = warm_up + rounds.calls;
    let hist = latency::record(&spec.budget, |i| lookup_checked(lookup, stream, done + i))?;
    let hit_rate = cache_before.zip(lookup.info().cache).map(|(b, a)| {
        let (hits, total) = (a.hits - b.hits, (a.hits + a.misses) - (b.hits + b.misses));
        if total == 0 { 0.0 } else { hits as f64 / total as f64 }
    });
    Ok(WorkloadReport {
        workload: workload.to_string(),
        rounds: Some(rounds),
        latency: Percentiles::of(&hist),
        hit_rate,
    })
}

/// Runs the probe in this process.
pub fn run(spec: &ProbeSpec) -> Result<ProbeReport, ProbeError> {
    let streams = streams(spec)?;
    let clock_overhead_ns = latency::clock_overhead_ns();
    let harness_overhead_ns = match streams.first() {
        Some((_, stream)) => {
            measure(&spec.plan, |i| {
                std::hint::black_box(stream.get(i));
                Ok::<(), ProbeError>(())
            })?
            .median_ns
        }
        None => 0.0,
    };
    prepare(spec)?;
    let before = MemorySnapshot::now();
    let start = Instant::now();
    let lookup = kvbench_lookup::open(&spec.data, &spec.strategy, &spec.opts)?;
    let open_ns = start.elapsed().as_nanos() as u64;
    let ready_ns = if spec.strategy.kind() == StrategyKind::Warming && !spec.cold {
        wait_ready(&*lookup, Duration::from_secs(600))?;
        lookup.info().ready_after.map(|d| d.as_nanos() as u64)
    } else {
        None
    };
    let memory_open = MemorySnapshot::now().since(&before);
    let workloads =
        streams.iter().map(|(w, stream)| run_workload(spec, &*lookup, *w, stream)).collect::<Result<Vec<_>, _>>()?;
    let memory_steady = MemorySnapshot::now().since(&before);
    let memchr_pass = match (&spec.strategy, spec.cold) {
        (Strategy::Plain(StrategyKind::Scan), false) => Some(memchr_pass(&spec.data, &spec.plan)?),
        _ => None,
    };
    let info = lookup.info();
    let mut notes = info.notes;
    if let (Some((_, stream)), Some(keys)) = (streams.first(), info.keys)
        && spec.key_pool < keys as usize
    {
        notes.push(format!(
            "lookups drew from {} of {keys} keys (--key-pool): cache hit rates are inflated",
            stream.len().min(spec.key_pool)
        ));
    }
    Ok(ProbeReport {
        strategy: spec.strategy.to_string(),
        fresh_index: spec.fresh_index,
        cold: spec.cold,
        file_bytes: std::fs::metadata(&spec.data).map(|m| m.len()).unwrap_or(0),
        keys: info.keys,
        records: info.records,
        open_ns,
        ready_ns,
        workloads,
        memory_open,
        memory_steady,
        clock_overhead_ns,
        harness_overhead_ns,
        memchr_pass,
        notes,
    })
}

/// Time to run `memchr` over the whole file once (for a byte it does not hold):
/// the floor a full scan is compared with.
pub fn memchr_pass(path: &Path, plan: &Plan) -> Result<RoundStats, OpenError> {
    let file = DataFile::open(path)?;
    let data = file.bytes();
    let _ = std::hint::black_box(memchr::memchr(0, data));
    measure(plan, |_| {
        std::hint::black_box(memchr::memchr(0, std::hint::black_box(data)));
        Ok::<(), OpenError>(())
    })
}
