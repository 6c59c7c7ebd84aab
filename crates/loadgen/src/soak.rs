//! The soak: a long open-loop load near a server's maximum, watching for
//! errors and for memory that keeps growing.
//!
//! [`Soak::start`] starts the multi-thread `hashmap` server and finds its
//! maximum with a short closed loop (one slice, at most 5 s); [`Soak::run`]
//! then loads it at a fraction of that maximum in slices, each with its own
//! error count, latency percentiles and RSS sampled from `/proc`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kvbench_harness::progress::Progress;
use kvbench_lookup::{Strategy, StrategyKind};
use kvbench_workload::{Dataset, Workload};

use crate::bench::{BenchError, Measured, ensure_data, measure};
use crate::launch::{Launched, Launcher, Running};
use crate::run::{LoadSpec, Oracle, Stop};
use crate::sweep::Server;
use crate::target::Protocol;

/// RSS may grow this much (bytes) between the first slice after warm-up and the last.
pub const RSS_SLACK: u64 = 16 << 20;

/// The longest closed loop that finds the maximum.
const MAX_PROBE: Duration = Duration::from_secs(5);

/// What to soak.
#[derive(Clone, Debug)]
pub struct SoakOptions {
    /// The data served (generated into `data_dir` if needed).
    pub dataset: Dataset,
    /// Where datasets are generated and cached.
    pub data_dir: PathBuf,
    /// How long to load the server (after finding its maximum).
    pub duration: Duration,
    /// Each slice of the load: errors, latency and RSS are reported per slice.
    pub slice: Duration,
    /// The offered rate, as a fraction of the closed-loop maximum, in (0, 1].
    pub fraction: f64,
    /// Server threads.
    pub threads: usize,
    /// Client connections.
    pub connections: usize,
    /// The protocol of the load.
    pub protocol: Protocol,
}

/// A soak under way: the server runs and its maximum is known.
pub struct Soak {
    options: SoakOptions,
    server: Box<dyn Running>,
    addr: SocketAddr,
    oracle: Oracle,
    max: f64,
}

/// One slice of the soak.
#[derive(Clone, Debug)]
pub struct SoakSlice {
    /// Time since the soak began, at the slice's end.
    pub elapsed: Duration,
    /// What the slice measured.
    pub measured: Measured,
}

/// What a soak measured.
#[derive(Clone, Debug)]
pub struct SoakOutcome {
    /// The offered rate, requests/s.
    pub rate: f64,
    /// Every slice, in order.
    pub slices: Vec<SoakSlice>,
}

impl Soak {
    /// Checks `options`, starts the server with `launcher` and finds its closed-loop maximum.
    pub fn start(options: SoakOptions, launcher: &dyn Launcher) -> Result<Soak, BenchError> {
        if !(options.fraction > 0.0 && options.fraction <= 1.0) {
            return Err(BenchError::Options("the fraction of the maximum must be in (0, 1]"));
        }
        if options.slice.is_zero() || options.slice > options.duration {
            return Err(BenchError::Options("a slice must be in (0, the duration]"));
        }
        let data = ensure_data(&options.dataset, &options.data_dir)?;
        let server = Server::Kvbench { strategy: Strategy::Plain(StrategyKind::HashMap), threads: options.threads };
        let server = match launcher.start(&server, &data)? {
            Launched::Running(server) => server,
            Launched::Unavailable(why) => return Err(BenchError::Unavailable(why)),
        };
        let addr = server.addr(options.protocol).ok_or(BenchError::NoAddress(options.protocol.name()))?;
        let oracle = Oracle::open(&data)?;
        let mut soak = Soak { options, server, addr, oracle, max: 0.0 };
        let probe = soak.load(Stop::Duration(soak.options.slice.min(MAX_PROBE)), None, 1)?;
        soak.max = probe.report.throughput();
        Ok(soak)
    }

    /// The closed-loop maximum, requests/s.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// The offered rate: the maximum times the fraction.
    pub fn rate(&self) -> f64 {
        self.max * self.options.fraction
    }

    /// How many slices [`Soak::run`] runs.
    pub fn slices(&self) -> u64 {
        (self.options.duration.as_secs_f64() / self.options.slice.as_secs_f64()).ceil() as u64
    }

    /// Loads the server at [`Soak::rate`] for the duration, slice by slice (one progress step each).
    pub fn run(self, progress: &mut dyn Progress) -> Result<SoakOutcome, BenchError> {
        let (rate, count) = (self.rate(), self.slices());
        progress.start(count);
        let mut slices = Vec::new();
        let start = Instant::now();
        for i in 0..count {
            let measured = self.load(Stop::Duration(self.options.slice), Some(rate), 100 + i)?;
            slices.push(SoakSlice { elapsed: start.elapsed(), measured });
            progress.done(1);
        }
        Ok(SoakOutcome { rate, slices })
    }

    fn load(&self, stop: Stop, rate: Option<f64>, seed: u64) -> Result<Measured, BenchError> {
        let spec = LoadSpec {
            target: self.options.protocol.at(self.addr),
            connections: self.options.connections,
            threads: 1,
            stop,
            rate,
            workload: Workload::UNIFORM,
            seed,
            timeout: crate::REQUEST_TIMEOUT,
        };
        Ok(measure(&spec, self.server.pid(), &self.server.nodes(), &self.oracle)?)
    }
}

impl SoakOutcome {
    /// Requests answered, all slices together.
    pub fn requests(&self) -> u64 {
        self.slices.iter().map(|s| s.measured.report.requests).sum()
    }

    /// Requests that failed or were answered wrongly, all slices together.
    pub fn errors(&self) -> u64 {
        self.slices.iter().map(|s| s.measured.report.errors.total()).sum()
    }

    fn rss(&self) -> impl Iterator<Item = u64> + '_ {
        self.slices.iter().map(|s| s.measured.used.rss_max)
    }

    /// The server's RSS after warm-up: the first slice warms up (buffers,
    /// connections), so growth is measured from the second.
    pub fn rss_after_warmup(&self) -> u64 {
        self.rss().nth(1).or(self.rss().next()).unwrap_or(0)
    }

    /// The server's RSS in the last slice.
    pub fn rss_last(&self) -> u64 {
        self.rss().last().unwrap_or(0)
    }

    /// The server's highest RSS.
    pub fn rss_peak(&self) -> u64 {
        self.rss().max().unwrap_or(0)
    }

    /// Whether the RSS grew by more than [`RSS_SLACK`] after warm-up.
    pub fn rss_grew(&self) -> bool {
        self.rss_last() > self.rss_after_warmup() + RSS_SLACK
    }
}
