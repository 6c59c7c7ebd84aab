//! One strategy on one data file: open it, run workloads, account memory.
//!
//! A probe is meant to run alone in a fresh process (see [`crate::suite`]),
//! so the memory it reports belongs to the strategy and nothing else. What
//! the process needs for itself is set up before the baseline snapshot: the
//! key streams, rayon's thread pool (which open uses; its threads' stacks and
//! allocator arenas are a fixed ~50 KiB that would otherwise be charged per
//! key) and the allocator trimmed ([`crate::memory::trim_allocator`]).
//!
//! Each workload's lookups are timed three ways (see [`crate::timing`]):
//! back to back (time per lookup, overlapped: throughput), chained (each
//! waits for the previous: latency), and one by one (latency percentiles).
//! A slow lookup ([`crate::timing::SLOW_OP`]) is timed one by one only.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kvbench_lookup::DataFile;
use kvbench_lookup::{Lookup, LookupError, OpenError, OpenOptions, Strategy, WarmUp};
use kvbench_workload::file_keys;
use kvbench_workload::{KeyStream, KeyStreams, Workload};
use serde::{Deserialize, Serialize};

use crate::cgroup::{self, CgroupError};
use crate::io::IoCounters;
use crate::latency::{self, Latencies, SampleBudget};
use crate::memory::{MemorySnapshot, evict_page_cache, resident_fraction, trim_main_arena, warm_page_cache};
use crate::timing::{Plan, RoundStats, measure, measure_chained, probe_speed};
use crate::warm;

/// What a probe measures: all of it, so that a suite hands a child process
/// its probe as one serialized value (JSON on its stdin) and a probe
/// option is one field here, checked by the compiler on both sides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeSpec {
    /// The data file (its name need not be UTF-8).
    #[serde(with = "crate::text::path")]
    pub data: PathBuf,
    /// The strategy to open on it, by its label (`lru(0.1,mmap-index)`).
    #[serde(with = "crate::text")]
    pub strategy: Strategy,
    /// Open options (lenient parsing, sidecar path).
    pub opts: OpenOptions,
    /// Delete an existing index sidecar first, to time a cold build.
    pub fresh_index: bool,
    /// Drop the data file (and sidecar) from the page cache before opening,
    /// and time only the first lookups: a cold start. (Otherwise both are read
    /// into the page cache first, whatever ran before.)
    pub cold: bool,
    /// Workloads to run, in order, on the same opened strategy (stored by their labels).
    pub workloads: Vec<Workload>,
    /// At most this many of the file's keys are drawn from (every k-th line beyond).
    pub key_pool: usize,
    /// How long to time each workload.
    pub plan: Plan,
    /// How many of the first lookups a cold start times.
    pub first_lookups: SampleBudget,
    /// Seed for the workloads' streams: a fresh one per run, so that slow
    /// cases, which time few lookups, do not time the same keys every run.
    pub seed: u64,
    /// A cgroup with a memory limit ([`crate::cgroup::MemoryLimit`]) to join
    /// once the key streams are drawn: the strategy then runs within the
    /// limit, page cache included, starting from its files evicted.
    pub cgroup: Option<PathBuf>,
    /// Time for all the workloads of a slow case together: once it has run
    /// out, the remaining workloads are not timed (and say so), so a scan of
    /// a 100M-key file takes minutes, not hours.
    pub budget: Option<Duration>,
    /// How long `warming` may take to become ready before the probe gives up
    /// (a spec written without it waits 600 s, as probes always did).
    #[serde(default = "ready_timeout")]
    pub ready_timeout: Duration,
}

/// How long a `warming` case may take to become ready, unless its spec says otherwise.
pub const READY_TIMEOUT: Duration = Duration::from_secs(600);

/// [`READY_TIMEOUT`], for a spec written without it.
fn ready_timeout() -> Duration {
    READY_TIMEOUT
}

/// A time per lookup and what it rests on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mean {
    /// Nanoseconds per lookup.
    pub ns: f64,
    /// Lookups timed.
    pub samples: u64,
    /// The measurement's own cost already subtracted from `ns`.
    pub subtracted: f64,
    /// The rounds: of lookups back to back, or, for slow lookups, of
    /// consecutive lookups timed one by one ([`RoundStats::of_one_by_one`]).
    pub rounds: Option<RoundStats>,
}

impl Mean {
    /// The median of `rounds` less `floor` (the same loop without the lookup).
    fn of_rounds(rounds: RoundStats, floor: f64) -> Self {
        Mean {
            ns: (rounds.median_ns - floor).max(0.0),
            samples: rounds.samples(),
            subtracted: floor,
            rounds: Some(rounds),
        }
    }
}

/// One workload's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadReport {
    /// The workload (`uniform`, `zipf:0.99`, `miss`), written as its label.
    pub workload: Workload,
    /// Time per lookup with lookups back to back, overlapping (throughput);
    /// the harness's loop is included, not subtracted. `None` for cold starts.
    pub overlapped: Option<Mean>,
    /// Latency of lookups that each wait for the previous one (chain loop's
    /// floor subtracted). `None` for cold starts.
    pub chained: Option<Mean>,
    /// Lookups timed one by one: the percentiles their count supports.
    pub alone: Latencies,
    /// For a cold start: the very first lookup after opening (clock subtracted).
    pub first_ns: Option<f64>,
    /// Cache hit rate during the timed lookups, for caching strategies.
    pub hit_rate: Option<f64>,
    /// Page faults and disk reads over all the workload's lookups (warm-up included).
    #[serde(default)]
    pub io: Option<WorkloadIo>,
}

/// Page faults and disk reads over a workload's lookups: what serving costs
/// when the data does not fit in memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadIo {
    /// Lookups made (warm-up, speed probe and every way of timing).
    pub lookups: u64,
    /// What the counters grew by over them.
    pub counters: IoCounters,
}

impl WorkloadIo {
    /// Major faults per lookup.
    pub fn major_per_lookup(&self) -> f64 {
        self.counters.major_faults as f64 / self.lookups.max(1) as f64
    }
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
    /// Bytes of the index sidecar or engine store beside the data, if the strategy keeps one.
    #[serde(default)]
    pub index_bytes: Option<u64>,
    /// Distinct keys, if the strategy counts them.
    pub keys: Option<u64>,
    /// Records in the file, if the strategy counts them.
    pub records: Option<u64>,
    /// Time from calling open to a strategy able to answer.
    pub open_ns: u64,
    /// Time from calling open until lookups run at their steady speed: the
    /// open, the files' pages mapped in and an engine's cache filled
    /// (`Lookup::populate`), then the lookups made before they ran at the
    /// settled speed ([`Settling::slow_ns`]); `warming`: until its hashmap
    /// was serving. None for a cold start.
    pub ready_ns: Option<u64>,
    /// How the strategy's own caches settled before the workloads were timed (warm cases).
    #[serde(default)]
    pub settling: Option<Settling>,
    /// Results per workload, in the order run.
    pub workloads: Vec<WorkloadReport>,
    /// Memory growth right after open (and, for warming, readiness).
    pub memory_open: MemorySnapshot,
    /// Memory growth after all lookups: what serving costs in steady state.
    pub memory_steady: MemorySnapshot,
    /// Anonymous memory the allocator had kept after open (freed by the
    /// build, not yet returned to the kernel) and released on `malloc_trim`
    /// before the snapshot: not charged to the strategy.
    pub allocator_retained: Option<u64>,
    /// For a cold start: fraction of the data file in the page cache after
    /// eviction, right before opening (near 0 when eviction worked).
    pub resident_before: Option<f64>,
    /// For a cold start: fraction of the data file in the page cache right
    /// after opening (1 when opening read all of it).
    pub resident_after_open: Option<f64>,
    /// Median cost of reading the clock around one lookup (subtracted from percentiles).
    pub clock_overhead_ns: f64,
    /// The clock's resolution: no figure is resolved below it.
    pub clock_tick_ns: f64,
    /// Mean cost of the overlapped loop fetching the next key without looking
    /// it up (included in the overlapped times, as any caller's loop would be).
    pub harness_overhead_ns: f64,
    /// Mean cost of the chained loop without a lookup (fetching the key, the
    /// dependency and the fence): subtracted from the chained latencies.
    pub chain_floor_ns: f64,
    /// For `scan`: one `memchr` pass over the whole file, timed in the same
    /// process right after the workloads: the floor a full scan compares to.
    pub memchr_pass: Option<RoundStats>,
    /// The strategy's own notes (index reused or rebuilt, fallbacks).
    pub notes: Vec<String>,
    /// The memory limit the probe ran under, read back from its own cgroup after joining it.
    #[serde(default)]
    pub memory_limit: Option<u64>,
    /// Resident memory of the server(s) the strategy asks, after the lookups
    /// ([`kvbench_lookup::StrategyInfo::server_bytes`]): charged to the case beside its own.
    #[serde(default)]
    pub server_bytes: Option<u64>,
}

impl ProbeReport {
    /// The results of `workload`.
    pub fn workload(&self, workload: Workload) -> Option<&WorkloadReport> {
        self.workloads.iter().find(|w| w.workload == workload)
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
    /// The memory limit could not be joined, or did not hold once joined.
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
}

/// Length of each workload's key stream; lookups cycle through it.
const STREAM_LEN: usize = 1 << 20;

/// For caching strategies ([`WarmUp::Cache`]) the stream is made at least
/// this many times longer than the key count (up to [`MAX_CACHE_STREAM`]): a
/// cache fed a short repeating stream ends up holding all of it and reports
/// hits a real workload would not give.
const CACHE_STREAM_FACTOR: usize = 5;
const MAX_CACHE_STREAM: usize = 16 << 20;

/// Lookups per round while a strategy's own caches settle ([`settle`]).
const SETTLE_ROUND: u64 = 2_000;

/// The most a probe spends letting a strategy's caches settle.
const SETTLE_BUDGET: Duration = Duration::from_secs(3);

/// A slow start of settling rounds this long or longer gets a note.
const NOTED_SLOW_START: Duration = Duration::from_millis(20);

/// Drawn into the seed of the settling stream, so that it differs from every workload's.
const SETTLE_SEED: u64 = 0x5e77_1e5e_ed00_0001;

/// The workloads' streams, and the uniform stream a warm case settles on
/// ([`settles`]).
type Streams = (Vec<(Workload, KeyStream)>, Option<KeyStream>);

/// Builds the workloads' streams from the file's keys, using a temporary
/// mapping that is dropped before measuring, so the probe's own reads do not
/// count as the strategy's file-backed memory.
fn streams(spec: &ProbeSpec) -> Result<Streams, OpenError> {
    let file = DataFile::open(&spec.data)?;
    let keys = file_keys(file.bytes(), spec.key_pool);
    let len = match (spec.strategy.kind().facts().warm_up, spec.cold) {
        (_, true) => spec.first_lookups.max_ops as usize + 1,
        (WarmUp::Cache, false) => (keys.len() * CACHE_STREAM_FACTOR).clamp(STREAM_LEN, MAX_CACHE_STREAM),
        _ => STREAM_LEN,
    };
    let workloads = spec.workloads.iter().map(|w| (*w, w.stream(&keys, len.max(1), spec.seed))).collect();
    let settling = settles(spec).then(|| Workload::UNIFORM.stream(&keys, STREAM_LEN, spec.seed ^ SETTLE_SEED));
    Ok((workloads, settling))
}

/// Whether a probe lets the strategy's own caches settle before timing: a
/// warm case of any strategy but those whose lookups take too long to make
/// rounds of (the baselines, which have no cache). An `lru` settles too, so
/// that its ready time counts its cache filling like any other's; each
/// workload then warms it further until its hit rate settles.
fn settles(spec: &ProbeSpec) -> bool {
    !spec.cold && spec.strategy.kind().facts().family != kvbench_lookup::Family::Baseline
}

/// How the strategy's caches settled before timing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settling {
    /// Rounds of 2,000 uniform lookups made.
    pub rounds: usize,
    /// Their time, in nanoseconds.
    pub ns: u64,
    /// The time of the rounds before the first at the settled speed (counted in the ready time).
    pub slow_ns: u64,
    /// Whether the rounds settled ([`warm::settled`]) before the budget ran out.
    pub settled: bool,
}

/// Makes rounds of lookups over `stream` until the strategy's own caches
/// settle ([`warm::settled`]) or [`SETTLE_BUDGET`] runs out.
fn settle(lookup: &dyn Lookup, stream: &KeyStream) -> Result<Settling, ProbeError> {
    let start = Instant::now();
    let mut rounds = Vec::new();
    let mut next = 0;
    let settled = loop {
        let (before, round) = (IoCounters::now(), Instant::now());
        for i in next..next + SETTLE_ROUND {
            lookup_checked(lookup, stream, i)?;
        }
        next += SETTLE_ROUND;
        let ns = round.elapsed().as_nanos() as f64;
        let read_calls = IoCounters::now().since(&before).read_calls.unwrap_or(0);
        rounds.push(warm::Round { lookups: SETTLE_ROUND, ns, read_calls });
        if warm::settled(&rounds) {
            break true;
        }
        if start.elapsed() > SETTLE_BUDGET {
            break false;
        }
    };
    Ok(Settling {
        rounds: rounds.len(),
        ns: start.elapsed().as_nanos() as u64,
        slow_ns: warm::slow_start_ns(&rounds) as u64,
        settled,
    })
}

/// Lookups made by this (single-threaded) probe so far, for faults per lookup.
static LOOKUPS: AtomicU64 = AtomicU64::new(0);

/// Counts `n` lookups: a plain load and store, not a locked add, so the timed loops pay nothing measurable.
fn count_lookups(n: u64) {
    LOOKUPS.store(LOOKUPS.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

/// Looks up the `i`-th key of `stream`, reads its value and checks the
/// answer; returns the value's length (0 when absent), which a chain makes
/// the next lookup wait for.
fn lookup_checked(lookup: &dyn Lookup, stream: &KeyStream, i: u64) -> Result<u64, ProbeError> {
    count_lookups(1);
    let (key, present) = stream.get(i);
    let value = lookup.get(std::hint::black_box(key))?;
    checked(key, present, value.as_deref())
}

/// Reads every byte of an answer, as a service that sends it on would, and
/// checks that it is there exactly when the key is: the same work for every
/// strategy, whether it lends the value from a map or copied it out of an
/// engine (which has then read it once already). Returns the value's length.
fn checked(key: &[u8], present: bool, value: Option<&[u8]>) -> Result<u64, ProbeError> {
    if value.is_some() != present {
        let expected = if present { "present" } else { "absent" };
        return Err(ProbeError::WrongAnswer { key: String::from_utf8_lossy(key).into_owned(), expected });
    }
    let value = value.unwrap_or_default();
    std::hint::black_box(value.iter().fold(0u8, |sum, &b| sum.wrapping_add(b)));
    Ok(value.len() as u64)
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

/// Waits for a strategy that builds in the background ([`WarmUp::Background`]:
/// `warming`) to report itself ready.
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

/// Bytes of `path` in the page cache now.
fn cached_bytes(path: &std::path::Path) -> std::io::Result<u64> {
    let len = std::fs::metadata(path)?.len();
    Ok((resident_fraction(path)? * len as f64) as u64)
}

fn prepare(spec: &ProbeSpec) -> Result<(), ProbeError> {
    let sidecar = spec.strategy.sidecar(&spec.data, &spec.opts);
    fn failed(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ProbeError + '_ {
        move |source| ProbeError::Prepare { path: path.to_owned(), source }
    }
    if let Some(sidecar) = sidecar.as_ref().filter(|_| spec.fresh_index) {
        kvbench_lookup::remove_index(sidecar).map_err(failed(sidecar))?;
    }
    let index_files = match &sidecar {
        Some(sidecar) => kvbench_lookup::index_files(sidecar).map_err(failed(sidecar))?,
        None => Vec::new(),
    };
    // A cold start drops the files from the page cache; a warm one reads them
    // in, since a cold case may have run just before (the suite shuffles).
    // Under a memory limit they are dropped and then read in again: pages
    // cached earlier were charged to another group and would be served from
    // outside the limit, and a service that has run a while under a budget
    // holds as much of its files as the budget leaves room for (for keys
    // drawn uniformly, which part does not matter).
    let files: Vec<&PathBuf> = std::iter::once(&spec.data).chain(&index_files).filter(|p| p.exists()).collect();
    if spec.cold || spec.cgroup.is_some() {
        for path in &files {
            evict_page_cache(path).map_err(failed(path))?;
        }
    }
    if !spec.cold {
        for path in &files {
            warm_page_cache(path).map_err(failed(path))?;
        }
    }
    Ok(())
}

/// Starts rayon's global thread pool and gives each of its threads an
/// allocator arena, so that the first parallel open does not charge their
/// stacks and arenas (a fixed cost of the process) to the strategy.
fn start_thread_pool() {
    rayon::broadcast(|_| drop(std::hint::black_box(Box::new(0u64))));
}

/// The loops' own costs, timed over `stream` without looking anything up:
/// the overlapped loop's (stated) and the chained loop's (subtracted).
fn loop_floors(plan: &Plan, stream: Option<&KeyStream>) -> (f64, f64) {
    let Some(stream) = stream else { return (0.0, 0.0) };
    let fetch = |i| std::hint::black_box(stream.get(i));
    let overlapped = measure(plan, |i| {
        let _ = fetch(i);
        Ok::<(), ()>(())
    });
    let chained = measure_chained(plan, |i| Ok::<u64, ()>(fetch(i).0.len() as u64));
    (overlapped.map_or(0.0, |r| r.median_ns), chained.map_or(0.0, |r| r.median_ns))
}

/// What the clock and the loops cost, measured once per probe.
#[derive(Clone, Copy, Debug)]
struct Costs {
    clock: f64,
    chain_floor: f64,
}

/// A cold start's lookups: the first one alone (its time), then the next
/// ones one by one within `budget`; the clock's cost `clock` subtracted.
fn cold_lookups(
    budget: &SampleBudget,
    lookup: &dyn Lookup,
    stream: &KeyStream,
    clock: f64,
) -> Result<(f64, Latencies), ProbeError> {
    let start = Instant::now();
    lookup_checked(lookup, stream, 0)?;
    let first = (start.elapsed().as_nanos() as f64 - clock).max(0.0);
    let hist = latency::record(budget, |i| lookup_checked(lookup, stream, 1 + i).map(drop))?;
    Ok((first, Latencies::of(&hist, clock)))
}

/// Looks up the keys `from..from + keys.capacity()` of `stream` as one batch
/// ([`Lookup::get_many`]) and checks every answer; `keys` and `answers` are
/// the caller's, reused from batch to batch.
fn batch_checked<'l, 's>(
    lookup: &'l dyn Lookup,
    stream: &'s KeyStream,
    from: u64,
    keys: &mut Vec<&'s [u8]>,
    answers: &mut Vec<Result<Option<kvbench_lookup::Value<'l>>, kvbench_lookup::LookupError>>,
) -> Result<(), ProbeError> {
    let batch = keys.capacity() as u64;
    count_lookups(batch);
    keys.clear();
    keys.extend((from..from + batch).map(|i| stream.get(i).0));
    lookup.get_many(std::hint::black_box(keys), answers);
    for (i, answer) in (from..).zip(answers.drain(..)) {
        let (key, present) = stream.get(i);
        checked(key, present, answer?.as_deref())?;
    }
    Ok(())
}

/// Runs one workload on an opened strategy; `None` for a batched workload
/// of lookups too slow to batch ([`SLOW_BATCH`]).
fn run_workload(
    spec: &ProbeSpec,
    lookup: &dyn Lookup,
    workload: Workload,
    stream: &KeyStream,
    costs: Costs,
    time_left: Option<Duration>,
) -> Result<Option<WorkloadReport>, ProbeError> {
    if spec.cold {
        let (first, alone) = cold_lookups(&spec.first_lookups, lookup, stream, costs.clock)?;
        return Ok(Some(WorkloadReport {
            workload,
            overlapped: None,
            chained: None,
            alone,
            first_ns: Some(first),
            hit_rate: None,
            io: None,
        }));
    }
    // Warm a cache until its hit rate settles (within half the stream, which
    // must not wrap under a cache); every timing continues the same stream:
    // replaying keys just looked up would find them in every cache.
    let mut at = warm_cache(lookup, stream.len() as u64 / 2, |i| lookup_checked(lookup, stream, i).map(drop))?;
    let cache_before = lookup.info().cache;
    if workload.batch > 1 {
        let (slow, calls) = probe_speed(|i| lookup_checked(lookup, stream, at + i).map(drop))?;
        if slow {
            return Ok(None);
        }
        at += calls;
        // Batches back to back: time per key; no key waits for another's
        // answer and none is timed alone, so there is no chained or alone figure.
        let batch = workload.batch;
        let (mut keys, mut answers) = (Vec::with_capacity(batch), Vec::with_capacity(batch));
        let rounds =
            measure(&spec.plan, |i| batch_checked(lookup, stream, at + i * batch as u64, &mut keys, &mut answers))?;
        return Ok(Some(WorkloadReport {
            workload,
            overlapped: Some(Mean::of_rounds(rounds.per(batch as u64), 0.0)),
            chained: None,
            alone: Latencies::default(),
            first_ns: None,
            hit_rate: hit_rate(cache_before, lookup),
            io: None,
        }));
    }
    let probing = Instant::now();
    let (slow, calls) = probe_speed(|i| lookup_checked(lookup, stream, at + i).map(drop))?;
    let each = probing.elapsed() / (calls.max(1) as u32);
    at += calls;
    let (overlapped, chained, alone) = if slow {
        let mut budget = spec.plan.one_by_one(true);
        if let Some(left) = time_left {
            // Within the case's budget: the plan's lookups where they fit in
            // it (at the speed just probed), fewer where not, but always one.
            let fit = (left.as_nanos() / each.as_nanos().max(1)) as u64;
            budget.min_ops = budget.min_ops.min(fit).max(1);
            budget.max_time = budget.max_time.min(left);
        }
        let times = latency::record_each(&budget, |i| lookup_checked(lookup, stream, at + i).map(drop))?;
        // Rounds of CPU time, as for fast lookups (the CPU clock's ~0.3 µs is
        // under 0.3 % of a slow lookup, and is not subtracted); percentiles of
        // wall time, as for fast lookups.
        let of = |time: fn(&latency::Timed) -> u64| {
            RoundStats::of_one_by_one(&times.iter().map(time).collect::<Vec<_>>(), spec.plan.rounds)
        };
        let wall_median_ns = of(|t| t.wall_ns).median_ns;
        let rounds = RoundStats { wall_median_ns, ..of(|t| t.cpu_ns) };
        // Every lookup counts, as for the percentiles (rounds may leave a remainder out of the median).
        let mean = Mean { samples: times.len() as u64, ..Mean::of_rounds(rounds, 0.0) };
        let wall = latency::histogram_of(times.iter().map(|t| t.wall_ns));
        (mean, mean, Latencies::of(&wall, costs.clock))
    } else {
        let overlapped = measure(&spec.plan, |i| lookup_checked(lookup, stream, at + i).map(drop))?;
        at += overlapped.calls;
        let chained = measure_chained(&spec.plan, |i| lookup_checked(lookup, stream, at + i))?;
        at += chained.calls;
        let hist = latency::record(&spec.plan.one_by_one(false), |i| lookup_checked(lookup, stream, at + i).map(drop))?;
        (
            Mean::of_rounds(overlapped, 0.0),
            Mean::of_rounds(chained, costs.chain_floor),
            Latencies::of(&hist, costs.clock),
        )
    };
    Ok(Some(WorkloadReport {
        workload,
        overlapped: Some(overlapped),
        chained: Some(chained),
        alone,
        first_ns: None,
        hit_rate: hit_rate(cache_before, lookup),
        io: None,
    }))
}

/// Why a batched workload of slow lookups is not timed: a batch of them is
/// that many single lookups in a row (no strategy that scans batches), so its
/// time per key is the single figure, and one batch of 64 scans of a 10M-key
/// file takes seconds.
const SLOW_BATCH: &str = "not timed: each lookup takes over 100 µs, and a batch of them is those lookups in a row";

/// A cache's hit rate since `before` (`None` for a strategy without a cache).
fn hit_rate(before: Option<kvbench_lookup::CacheStats>, lookup: &dyn Lookup) -> Option<f64> {
    before.zip(lookup.info().cache).map(|(b, a)| {
        let (hits, total) = (a.hits - b.hits, (a.hits + a.misses) - (b.hits + b.misses));
        if total == 0 { 0.0 } else { hits as f64 / total as f64 }
    })
}

/// Runs the probe in this process.
pub fn run(spec: &ProbeSpec) -> Result<ProbeReport, ProbeError> {
    let (streams, settling_stream) = streams(spec)?;
    let clock_overhead_ns = latency::clock_overhead_ns();
    let clock_tick_ns = latency::clock_tick_ns();
    let (harness_overhead_ns, chain_floor_ns) = loop_floors(&spec.plan, streams.first().map(|(_, s)| s));
    let costs = Costs { clock: clock_overhead_ns, chain_floor: chain_floor_ns };
    start_thread_pool();
    // Joined after the key streams are drawn (a copy of every key is the
    // harness's, not the strategy's) and before anything of the strategy's.
    let memory_limit = match &spec.cgroup {
        Some(dir) => {
            cgroup::join(dir)?;
            Some(cgroup::current_limit().ok_or(CgroupError::NotApplied { dir: dir.clone() })?)
        }
        None => None,
    };
    prepare(spec)?;
    let cold_fraction = || if spec.cold { resident_fraction(&spec.data).ok() } else { None };
    let resident_before = cold_fraction();
    // Before the open: the allocator trimmed, its settings left as the open finds them.
    trim_main_arena();
    let before = MemorySnapshot::now();
    let start = Instant::now();
    // An engine that sizes a cache to the memory there is sizes it to the limit (`rocksdb`).
    let opts = kvbench_lookup::OpenOptions { memory_limit, ..spec.opts.clone() };
    let lookup = kvbench_lookup::open(&spec.data, &spec.strategy, &opts)?;
    let open_ns = start.elapsed().as_nanos() as u64;
    let resident_after_open = cold_fraction();
    let ready_ns = if spec.strategy.kind().facts().warm_up == WarmUp::Background && !spec.cold {
        wait_ready(&*lookup, spec.ready_timeout)?;
        lookup.info().ready_after.map(|d| d.as_nanos() as u64)
    } else {
        None
    };
    let (open, allocator_retained) = MemorySnapshot::trimmed();
    let memory_open = open.since(&before);
    // Warm lookups are timed as a strategy that has served a while runs them:
    // with its files' pages mapped in (under a memory limit, as many as fit).
    // A cold start pays its faults in its figures.
    // Timed: what a service waits after its open before it answers at the
    // speed the tables report is part of its start.
    let mapped_in = (!spec.cold).then(|| {
        let start = Instant::now();
        lookup.populate();
        start.elapsed().as_nanos() as u64
    });
    let ready_ns = ready_ns.or(mapped_in.map(|ns| open_ns + ns));
    // Then its own caches filled by lookups, until they stop getting faster:
    // what the first workload would otherwise pay, and what a start waits.
    let settling = settling_stream.as_ref().map(|stream| settle(&*lookup, stream)).transpose()?;
    let ready_ns = ready_ns.map(|ns| ns + settling.as_ref().map_or(0, |s| s.slow_ns));
    let mut workloads = Vec::new();
    let mut untimed = Vec::new();
    let mut out_of_time = Vec::new();
    let deadline = spec.budget.map(|b| Instant::now() + b);
    for (i, (w, stream)) in streams.iter().enumerate() {
        let time_left = deadline.map(|d| d.saturating_duration_since(Instant::now()) / (streams.len() - i) as u32);
        if i > 0 && deadline.is_some_and(|d| Instant::now() >= d) {
            out_of_time.push(w.to_string());
            continue;
        }
        let (io_before, lookups_before) = (IoCounters::now(), LOOKUPS.load(Ordering::Relaxed));
        match run_workload(spec, &*lookup, *w, stream, costs, time_left)? {
            Some(mut report) => {
                let lookups = LOOKUPS.load(Ordering::Relaxed) - lookups_before;
                report.io = Some(WorkloadIo { lookups, counters: IoCounters::now().since(&io_before) });
                workloads.push(report);
            }
            None => untimed.push(w.to_string()),
        }
    }
    let mut memory_steady = MemorySnapshot::trimmed().0.since(&before);
    let memchr_pass = match (spec.strategy.kind().facts().memchr_floor, spec.cold) {
        (true, false) => Some(memchr_pass(&spec.data, &spec.plan)?),
        _ => None,
    };
    let info = lookup.info();
    let mut notes = info.notes;
    // A store read with read() is resident in the page cache, not in the
    // process: charge what of it is cached, as a map's pages are charged.
    let read_through: u64 = info.read_files.iter().filter_map(|f| cached_bytes(f).ok()).sum();
    if read_through > 0 {
        memory_steady.file = memory_steady.file.map(|f| f + read_through);
        notes.push(format!(
            "file RSS includes {:.1} MiB of its store in the page cache, which it reads with read() rather than a map",
            read_through as f64 / (1 << 20) as f64
        ));
    }
    if let Some(server) = info.server_bytes {
        notes.push(format!(
            "its memory includes the server's resident memory ({:.1} MiB), which the asking process does not show",
            server as f64 / (1 << 20) as f64
        ));
    }
    notes.extend(cold_notes(resident_before, resident_after_open));
    if !untimed.is_empty() {
        notes.push(format!("{}: {SLOW_BATCH}", untimed.join(", ")));
    }
    if let (false, Some(budget)) = (out_of_time.is_empty(), spec.budget) {
        notes.push(format!("{}: not timed, the case's time budget of {budget:?} ran out", out_of_time.join(", ")));
    }
    // Said where it matters to a user: a wait they would notice (an engine's cache filling),
    // or rounds that never settled; not the few milliseconds any strategy's first rounds take.
    if let Some(s) = settling.as_ref().filter(|s| s.slow_ns >= NOTED_SLOW_START.as_nanos() as u64 || !s.settled) {
        let how = if s.settled {
            "until its caches stopped getting faster"
        } else {
            "and had not settled when the budget ran out"
        };
        notes.push(format!(
            "before timing, {} rounds of {SETTLE_ROUND} uniform lookups ({:.1} ms) {how}; the {:.1} ms before lookups ran at speed count in its ready time",
            s.rounds,
            s.ns as f64 / 1e6,
            s.slow_ns as f64 / 1e6
        ));
    }
    if memory_limit.is_some() {
        notes.push(
            "under a memory limit: files evicted, then read and mapped in as far as the limit holds them before \
             timing (a service that has run a while under it); overlapped and chained count CPU time, not the wait for the disk: the alone figures (wall time) include it"
                .into(),
        );
    }
    if let (Some((_, stream)), Some(keys)) = (streams.first(), info.keys)
        && spec.key_pool < keys as usize
    {
        notes.push(format!(
            "lookups drew from {} of {keys} keys (--key-pool): cache hit rates are inflated",
            stream.len().min(spec.key_pool)
        ));
    }
    let sidecar = spec.strategy.sidecar(&spec.data, &spec.opts);
    let index_bytes = sidecar.and_then(|path| kvbench_lookup::index_bytes(&path).ok()).filter(|&n| n > 0);
    Ok(ProbeReport {
        strategy: spec.strategy.to_string(),
        index_bytes,
        fresh_index: spec.fresh_index,
        cold: spec.cold,
        file_bytes: std::fs::metadata(&spec.data).map(|m| m.len()).unwrap_or(0),
        keys: info.keys,
        records: info.records,
        open_ns,
        ready_ns,
        settling,
        workloads,
        memory_open,
        memory_steady,
        allocator_retained,
        resident_before,
        resident_after_open,
        clock_overhead_ns,
        clock_tick_ns,
        harness_overhead_ns,
        chain_floor_ns,
        memchr_pass,
        notes,
        memory_limit,
        server_bytes: info.server_bytes,
    })
}

/// Above this fraction of the file left in the page cache, an eviction failed.
const EVICTED_AT_MOST: f64 = 0.05;

/// Above this fraction of the file in the page cache after opening, opening read it.
const OPEN_READ_AT_LEAST: f64 = 0.9;

/// What a cold start's page-cache figures mean for its other figures.
fn cold_notes(before: Option<f64>, after_open: Option<f64>) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(left) = before.filter(|&f| f > EVICTED_AT_MOST) {
        notes.push(format!(
            "page-cache eviction left {:.0}% of the data file cached: the cold figures are partly warm",
            left * 100.0
        ));
    }
    if let Some(read) = after_open.filter(|&f| f >= OPEN_READ_AT_LEAST) {
        notes.push(format!(
            "opening read {:.0}% of the data file into the page cache: the cold cost is in the open time, the lookups after it are warm",
            read * 100.0
        ));
    }
    notes
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_notes_say_when_eviction_failed_or_open_read_the_file() {
        assert!(cold_notes(None, None).is_empty());
        assert!(cold_notes(Some(0.01), Some(0.2)).is_empty());
        let failed = cold_notes(Some(0.4), None);
        assert!(failed.len() == 1 && failed[0].contains("left 40%"), "{failed:?}");
        let read = cold_notes(Some(0.0), Some(1.0));
        assert!(read.len() == 1 && read[0].contains("opening read 100%"), "{read:?}");
    }

    #[test]
    fn a_mean_of_rounds_subtracts_the_floor_and_counts_its_lookups() {
        let rounds = RoundStats::of(&[110.0, 100.0, 130.0], 1_000);
        let mean = Mean::of_rounds(rounds, 20.0);
        assert_eq!((mean.ns, mean.samples, mean.subtracted), (90.0, 3_000, 20.0));
        assert_eq!(Mean::of_rounds(rounds, 500.0).ns, 0.0);
    }
}
