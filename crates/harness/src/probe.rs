//! One strategy on one data file: open it, look keys up, account memory.
//!
//! A probe is meant to run alone in a fresh process (see [`crate::suite`]),
//! so the memory it reports belongs to the strategy and nothing else.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kvbench_lookup::mmap_index::default_sidecar_path;
use kvbench_lookup::source::DataFile;
use kvbench_lookup::{Lookup, LookupError, OpenError, OpenOptions, Strategy};
use kvbench_workload::keys::{KeyPool, absent_keys, file_keys, uniform_indexes};
use serde::{Deserialize, Serialize};

use crate::memory::MemorySnapshot;
use crate::timing::{Plan, Summary, measure};

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
    /// At most this many of the file's keys are looked up (every k-th line
    /// beyond that); lookups draw from them uniformly at random.
    pub key_pool: usize,
    /// How long to time lookups.
    pub plan: Plan,
    /// Seed for key sampling.
    pub seed: u64,
}

/// What a probe found. Memory figures are growth over the process before opening.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// Strategy label, e.g. `lru(0.1,mmap-index)`.
    pub strategy: String,
    /// Whether an index sidecar was deleted before opening.
    pub fresh_index: bool,
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
    /// Per-lookup time for present keys (uniform over the sampled pool).
    pub hit: Summary,
    /// Per-lookup time for absent keys.
    pub miss: Summary,
    /// Memory growth right after open (and, for warming, readiness).
    pub memory_open: MemorySnapshot,
    /// Memory growth after all lookups: what serving costs in steady state.
    pub memory_steady: MemorySnapshot,
    /// Cache hit rate over the hit lookups, for caching strategies.
    pub cache_hit_rate: Option<f64>,
    /// The strategy's own notes (index reused or rebuilt, fallbacks).
    pub notes: Vec<String>,
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
    /// A sampled present key was not found, or an absent key was: a wrong answer.
    #[error("wrong answer for key {key:?}: expected it to be {expected}")]
    WrongAnswer {
        /// The key, lossily decoded.
        key: String,
        /// "present" or "absent".
        expected: &'static str,
    },
    /// The sidecar could not be deleted for a fresh build.
    #[error("cannot delete {path}: {source}", path = path.display())]
    Sidecar {
        /// The sidecar.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `warming` did not become ready in time.
    #[error("warming did not become ready within {0:?}: {1}")]
    NotReady(Duration, String),
}

/// Length of the uniform key stream. Lookups cycle through it; it is long
/// against any cache, so the cycle looks random to the strategy.
const STREAM_LEN: usize = 1 << 20;

/// Reads keys with a temporary mapping that is dropped before measuring, so
/// the probe's own reads do not count as the strategy's file-backed memory.
///
/// Present keys are laid out in lookup order, so fetching the next key reads
/// memory sequentially and the harness adds no cache miss of its own.
fn sample_keys(path: &Path, max: usize, seed: u64) -> Result<(KeyPool, KeyPool), OpenError> {
    let file = DataFile::open(path)?;
    let pool = file_keys(file.bytes(), max);
    let mut stream = KeyPool::default();
    for i in uniform_indexes(pool.len(), STREAM_LEN, seed) {
        stream.push(pool.get(u64::from(i)));
    }
    Ok((stream, absent_keys(10_000, seed)))
}

/// Times lookups of `keys` from position `start` of their order on.
fn time_lookups(
    lookup: &dyn Lookup,
    keys: &KeyPool,
    start: u64,
    present: bool,
    plan: &Plan,
) -> Result<Summary, ProbeError> {
    measure(plan, |i| {
        let key = keys.get(start + i);
        let found = std::hint::black_box(lookup.get(std::hint::black_box(key))?).is_some();
        if found != present {
            let expected = if present { "present" } else { "absent" };
            return Err(ProbeError::WrongAnswer { key: String::from_utf8_lossy(key).into_owned(), expected });
        }
        Ok(())
    })
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

/// Runs the probe in this process.
pub fn run(spec: &ProbeSpec) -> Result<ProbeReport, ProbeError> {
    let (hits, misses) = sample_keys(&spec.data, spec.key_pool, spec.seed)?;
    if spec.fresh_index {
        let sidecar = spec.opts.index_path.clone().unwrap_or_else(|| default_sidecar_path(&spec.data));
        match std::fs::remove_file(&sidecar) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ProbeError::Sidecar { path: sidecar, source: e });
            }
            _ => {}
        }
    }
    let before = MemorySnapshot::now();
    let start = Instant::now();
    let lookup = kvbench_lookup::open(&spec.data, &spec.strategy, &spec.opts)?;
    let open_ns = start.elapsed().as_nanos() as u64;
    let ready_ns = if spec.strategy.kind() == kvbench_lookup::StrategyKind::Warming {
        wait_ready(&*lookup, Duration::from_secs(600))?;
        lookup.info().ready_after.map(|d| d.as_nanos() as u64)
    } else {
        None
    };
    let memory_open = MemorySnapshot::now().since(&before);
    // Fill a cache first (three times its capacity), so its hit rate and
    // latency are steady-state; timing continues the same key stream.
    let warm_up = lookup.info().cache.map_or(0, |c| c.capacity.saturating_mul(3));
    for i in 0..warm_up {
        lookup.get(hits.get(i))?;
    }
    let cache_before = lookup.info().cache;
    let hit = time_lookups(&*lookup, &hits, warm_up, true, &spec.plan)?;
    let cache_after = lookup.info().cache;
    let miss = time_lookups(&*lookup, &misses, 0, false, &spec.plan)?;
    let memory_steady = MemorySnapshot::now().since(&before);
    let info = lookup.info();
    let cache_hit_rate = cache_before.zip(cache_after).map(|(b, a)| {
        let (hits, total) = (a.hits - b.hits, (a.hits + a.misses) - (b.hits + b.misses));
        if total == 0 { 0.0 } else { hits as f64 / total as f64 }
    });
    Ok(ProbeReport {
        strategy: spec.strategy.to_string(),
        fresh_index: spec.fresh_index,
        file_bytes: std::fs::metadata(&spec.data).map(|m| m.len()).unwrap_or(0),
        keys: info.keys,
        records: info.records,
        open_ns,
        ready_ns,
        hit,
        miss,
        memory_open,
        memory_steady,
        cache_hit_rate,
        notes: info.notes,
    })
}

/// Time to run `memchr` over the whole file once (for a byte it does not hold):
/// the floor a full scan is compared with.
pub fn memchr_pass(path: &Path, plan: &Plan) -> Result<Summary, OpenError> {
    let file = DataFile::open(path)?;
    let data = file.bytes();
    let _ = std::hint::black_box(memchr::memchr(0, data));
    measure(plan, |_| {
        std::hint::black_box(memchr::memchr(0, std::hint::black_box(data)));
        Ok::<(), OpenError>(())
    })
}
