//! The load itself: connections, pacing, answer checking, histograms.
//!
//! Connections are spread over `threads` OS threads, each running its
//! share on a single-threaded tokio runtime (wrk's model: no work stealing,
//! no cross-thread wake-ups on the request path). Each connection records
//! into its own HdrHistogram; they are merged once at the end, so memory is
//! bounded whatever the run's length.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use kvbench_harness::latency::{Percentiles, histogram};
use kvbench_lookup::Lookup;
use kvbench_workload::{Draws, FileKeys, KeyStreams, Keys, Workload};

use crate::client::{Answer, Client};
use crate::cluster::{ClusterError, SlotMap};
use crate::sampler::own_cpu;
use crate::target::Target;

/// When a run ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// After this long (open loop: no request is scheduled past it).
    Duration(Duration),
    /// After this many requests, all connections together.
    Requests(u64),
}

/// What load to apply.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// The server and protocol.
    pub target: Target,
    /// Connections kept open, each with at most one request in flight.
    pub connections: usize,
    /// Threads running the connections (at most one per connection).
    pub threads: usize,
    /// When to stop.
    pub stop: Stop,
    /// Open loop at this many requests per second (all connections together);
    /// `None` for closed loop.
    pub rate: Option<f64>,
    /// Which keys to ask for.
    pub workload: Workload,
    /// Seed of the keys: connection `c` asks for stream `c` of it, drawn as it goes.
    pub seed: u64,
    /// The longest a request (or a connection) may wait for its answer
    /// before it counts as an error and its connection is dropped: a server
    /// that never answers (a connection its full listen queue dropped, a
    /// stalled process) must not hold the run past its end.
    pub timeout: Duration,
}

/// Connections are opened in this window before the first request, so
/// connecting is neither timed nor late against an open-loop schedule.
const RAMP: Duration = Duration::from_millis(100);

/// How long a request or a connection may wait, unless a spec says otherwise ([`LoadSpec::timeout`]).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers that were not what the data file says, by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Errors {
    /// A value different from the file's, or found/absent the wrong way round.
    pub wrong_answer: u64,
    /// An HTTP status other than 200/404, or a RESP error reply.
    pub unexpected_status: u64,
    /// A connection failed, closed, or sent a malformed reply.
    pub io: u64,
    /// The first error seen, to show the user what went wrong.
    pub first: Option<String>,
}

impl Errors {
    /// All errors together.
    pub fn total(&self) -> u64 {
        self.wrong_answer + self.unexpected_status + self.io
    }

    fn note(&mut self, message: impl FnOnce() -> String) {
        if self.first.is_none() {
            self.first = Some(message());
        }
    }

    fn merge(&mut self, other: Errors) {
        self.wrong_answer += other.wrong_answer;
        self.unexpected_status += other.unexpected_status;
        self.io += other.io;
        if self.first.is_none() {
            self.first = other.first;
        }
    }
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct LoadReport {
    /// Requests answered (correctly or not).
    pub requests: u64,
    /// Answered with the file's value.
    pub found: u64,
    /// Answered "absent", correctly.
    pub absent: u64,
    /// Everything else.
    pub errors: Errors,
    /// From the first request to the last answer.
    pub elapsed: Duration,
    /// Latency in ns: from the *intended* send time in open loop
    /// (coordinated-omission corrected), from the send in closed loop.
    pub latency: Histogram<u64>,
    /// Open loop only: latency from the actual send, which hides stalls.
    pub uncorrected: Option<Histogram<u64>>,
    /// CPU time this process (the load generator, all its threads) used
    /// meanwhile, connecting included.
    pub cpu: Duration,
}

impl LoadReport {
    /// Answered requests per second.
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// The load generator's mean CPU use, percent of one CPU: near 100 × its
    /// threads, the client rather than the server is the limit.
    pub fn client_cpu_percent(&self) -> f64 {
        100.0 * self.cpu.as_secs_f64() / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Percentiles of [`LoadReport::latency`].
    pub fn percentiles(&self) -> Percentiles {
        Percentiles::of(&self.latency)
    }
}

/// The oracle of a load: what it asks for and checks answers against (the keys of a data file, and a
/// strategy answering from the same file; `mmap-index`: instant with its
/// sidecar, and no copy of the data on the heap). Not `kvbench_lookup::Reference`, the tests' model.
pub struct Oracle {
    /// The strategy answering as the file says.
    pub lookup: Box<dyn Lookup>,
    /// Every key of the file, for workloads to draw from: a cache in front of
    /// the server must face the whole key space, not a sample of it.
    pub keys: FileKeys,
}

impl Oracle {
    /// Opens `data`; the keys are offsets into the mapped file (8 bytes a key), not copies.
    pub fn open(data: &std::path::Path) -> Result<Oracle, kvbench_lookup::OpenError> {
        let strategy = kvbench_lookup::Strategy::Plain(kvbench_lookup::StrategyKind::MmapIndex);
        let lookup = kvbench_lookup::open(data, &strategy, &kvbench_lookup::OpenOptions::default())?;
        Ok(Oracle { lookup, keys: FileKeys::open(data)? })
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The spec asks for something impossible.
    #[error("{0}")]
    Spec(String),
    /// A thread or runtime could not be started.
    #[error("cannot start the load: {0}")]
    Runtime(#[from] std::io::Error),
    /// A cluster's slot map could not be read.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// Shared by every connection of a run.
struct Run<'a> {
    spec: &'a LoadSpec,
    draws: Draws<'a>,
    /// A cluster's slot map, read once before the load; each connection routes by its own copy.
    map: Option<SlotMap>,
    expect: &'a dyn Lookup,
    start: Instant,
    deadline: Option<Instant>,
    claimed: AtomicU64,
    done: &'a AtomicU64,
}

/// Applies `spec` to its target, asking for keys of `keys` (the data file's)
/// and checking every answer against `expect` (a strategy on the same file).
/// `done` counts answered requests as they happen, for progress displays.
///
/// Each connection draws its keys as it goes from a stream of its own (stream
/// `c` of the spec's seed), so no run repeats itself however long it lasts,
/// and no two connections ask for the same sequence.
pub fn run(spec: &LoadSpec, keys: &dyn Keys, expect: &dyn Lookup, done: &AtomicU64) -> Result<LoadReport, LoadError> {
    if spec.connections == 0 || spec.threads == 0 {
        return Err(LoadError::Spec("connections and threads must be at least 1".into()));
    }
    if spec.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        return Err(LoadError::Spec("the rate must be a positive number of requests per second".into()));
    }
    let threads = spec.threads.min(spec.connections);
    // Before the clock starts: a Zipf ranking of 10M keys takes a moment.
    let draws = spec.workload.draws(keys, spec.seed);
    let map = match spec.target {
        Target::Cluster(seed) => Some(SlotMap::fetch(seed)?),
        _ => None,
    };
    let cpu_before = own_cpu();
    let start = Instant::now() + RAMP;
    let run = Run {
        spec,
        draws,
        map,
        expect,
        start,
        deadline: match spec.stop {
            Stop::Duration(d) => Some(start + d),
            Stop::Requests(_) => None,
        },
        claimed: AtomicU64::new(0),
        done,
    };
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let run = &run;
                scope.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    let mine = (t..spec.connections).step_by(threads).map(|c| connection(run, c));
                    Ok::<_, std::io::Error>(runtime.block_on(futures_util::future::join_all(mine)))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(std::io::Error::other("load thread panicked"))))
            .collect::<Vec<_>>()
    });
    let elapsed = run.start.elapsed();
    let cpu = own_cpu().saturating_sub(cpu_before);
    let mut report = LoadReport {
        requests: 0,
        found: 0,
        absent: 0,
        errors: Errors::default(),
        elapsed,
        latency: histogram(),
        uncorrected: spec.rate.map(|_| histogram()),
        cpu,
    };
    for result in results {
        for conn in result? {
            report.requests += conn.requests;
            report.found += conn.found;
            report.absent += conn.absent;
            report.errors.merge(conn.errors);
            // Same bounds on both sides: merging cannot fail.
            let _ = report.latency.add(&conn.latency);
            if let (Some(all), Some(one)) = (&mut report.uncorrected, &conn.uncorrected) {
                let _ = all.add(one);
            }
        }
    }
    Ok(report)
}

/// One connection's share of the results.
struct ConnResult {
    requests: u64,
    found: u64,
    absent: u64,
    errors: Errors,
    latency: Histogram<u64>,
    uncorrected: Option<Histogram<u64>>,
}

async fn connection(run: &Run<'_>, index: usize) -> ConnResult {
    let spec = run.spec;
    let mut result = ConnResult {
        requests: 0,
        found: 0,
        absent: 0,
        errors: Errors::default(),
        latency: histogram(),
        uncorrected: spec.rate.map(|_| histogram()),
    };
    // Open loop: this connection's share of the rate, staggered so the
    // connections do not all fire at the same instant.
    let interval = spec.rate.map(|rate| Duration::from_secs_f64(spec.connections as f64 / rate));
    let mut intended =
        run.start + interval.map_or(Duration::ZERO, |i| i.mul_f64(index as f64 / spec.connections as f64));
    let mut keys = run.draws.sampler(index as u64);
    let mut client = Client::new(spec.target, run.map.as_ref());
    // Not timed: a failure here is retried (and counted) by the first request.
    let _ = within(spec.timeout, client.connect()).await;
    pace(run.start).await;
    loop {
        if run.deadline.is_some_and(|deadline| Instant::now().max(intended) >= deadline) {
            break;
        }
        if let Stop::Requests(n) = spec.stop
            && run.claimed.fetch_add(1, Relaxed) >= n
        {
            break;
        }
        let scheduled = match interval {
            Some(interval) => {
                pace(intended).await;
                intended += interval;
                intended - interval
            }
            None => Instant::now(),
        };
        if let Err(err) = within(spec.timeout, client.connect()).await {
            result.errors.io += 1;
            result.errors.note(|| format!("cannot connect to {}: {err}", spec.target));
            // A server that refuses connections would otherwise be hammered in a tight loop.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        let drawn = keys.draw();
        let key = drawn.key();
        let sent = Instant::now();
        let failed = match within(spec.timeout, client.get(key)).await {
            Ok(answer) => {
                let answered = Instant::now();
                result.requests += 1;
                check(key, answer, run.expect, &mut result);
                record(&mut result.latency, answered - if interval.is_some() { scheduled } else { sent });
                if let Some(uncorrected) = &mut result.uncorrected {
                    record(uncorrected, answered - sent);
                }
                run.done.fetch_add(1, Relaxed);
                None
            }
            Err(err) => Some(err),
        };
        if let Some(err) = failed {
            result.errors.io += 1;
            result.errors.note(|| format!("{}: {err}", spec.target));
            client.failed(); // reconnect for the next request
        }
    }
    result
}

/// What `future` gives, or an error once it has waited `timeout`.
async fn within<T, E: From<std::io::Error>>(
    timeout: Duration,
    future: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    tokio::time::timeout(timeout, future).await.unwrap_or_else(|_| {
        Err(std::io::Error::new(std::io::ErrorKind::TimedOut, format!("no answer within {timeout:?}")).into())
    })
}

/// Compares an answer with what the data file holds for `key`.
fn check(key: &[u8], answer: Answer<'_>, expect: &dyn Lookup, result: &mut ConnResult) {
    let expected = expect.get(key);
    let errors = &mut result.errors;
    match (answer, expected) {
        (Answer::Found(got), Ok(Some(want))) if got == &*want => result.found += 1,
        (Answer::Absent, Ok(None)) => result.absent += 1,
        (Answer::Status(status), _) => {
            errors.unexpected_status += 1;
            errors.note(|| format!("HTTP {status} for key {}", String::from_utf8_lossy(key)));
        }
        (Answer::Error(message), _) => {
            errors.unexpected_status += 1;
            errors.note(|| format!("-{message} for key {}", String::from_utf8_lossy(key)));
        }
        (answer, expected) => {
            errors.wrong_answer += 1;
            errors.note(|| {
                let want = match expected {
                    Ok(Some(v)) => format!("{:?}", String::from_utf8_lossy(&v)),
                    Ok(None) => "absent".into(),
                    Err(e) => e.to_string(),
                };
                format!("wrong answer for key {}: got {answer:?}, want {want}", String::from_utf8_lossy(key))
            });
        }
    }
}

fn record(hist: &mut Histogram<u64>, took: Duration) {
    hist.saturating_record(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX).max(1));
}

/// Waits until `at`: timers for the bulk of the wait (tokio's have 1 ms
/// granularity), then yields until the instant, so a schedule finer than a
/// millisecond is kept instead of rounded up (which would add up to 1 ms to
/// every corrected latency).
async fn pace(at: Instant) {
    loop {
        let now = Instant::now();
        if now >= at {
            return;
        }
        if at - now > Duration::from_millis(2) {
            tokio::time::sleep_until((at - Duration::from_millis(1)).into()).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}
