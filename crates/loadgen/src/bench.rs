//! What the macro benchmark and the soak share: one load on a server process
//! with the process sampled meanwhile ([`measure`]), the dataset it serves,
//! and their errors.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use kvbench_workload::Dataset;

use crate::launch::LaunchError;
use crate::run::{LoadError, LoadReport, LoadSpec, Oracle};
use crate::sampler::{ProcSampler, Resources};

/// How often the server's CPU and RSS are read during a load.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Why a benchmark stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The options ask for something impossible.
    #[error("{0}")]
    Options(&'static str),
    /// A dataset could not be generated.
    #[error("cannot generate the dataset into {}: {source}", dir.display())]
    Dataset {
        /// The data folder.
        dir: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A server could not be started.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// A server that must run here cannot (why).
    #[error("{0}")]
    Unavailable(String),
    /// The server does not speak the protocol of the load.
    #[error("the server reported no {0} address")]
    NoAddress(&'static str),
    /// The data file could not be opened to check answers against.
    #[error("cannot open the data file to check answers against: {0}")]
    Oracle(#[from] kvbench_lookup::OpenError),
    /// A load could not run.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// What one load on a server measured: the load's report and what the server used meanwhile.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Requests, answers, errors, latency.
    pub report: LoadReport,
    /// What every process that serves used during the load, together: the
    /// server's own and its nodes' ([`crate::Running::nodes`]), each counted once.
    pub used: Resources,
    /// The same for each of the server's nodes (e.g. a Redis Cluster's), in their order.
    pub nodes: Vec<Resources>,
}

impl Measured {
    /// Requests answered per second of CPU (user and system) of every process
    /// that serves during the load; `None` where no CPU was sampled.
    pub fn requests_per_cpu_second(&self) -> Option<f64> {
        let cpu = (self.used.user_percent + self.used.system_percent) / 100.0;
        (cpu > 0.0).then(|| self.report.throughput() / cpu)
    }
}

/// Applies `spec` to the server process `pid` answering with the processes
/// `nodes` (none, or a cluster's, which may include `pid` itself), checking
/// answers against `oracle`, sampling every one of them meanwhile.
pub fn measure(spec: &LoadSpec, pid: u32, nodes: &[u32], oracle: &Oracle) -> Result<Measured, LoadError> {
    let front = (!nodes.contains(&pid)).then(|| ProcSampler::start(pid, SAMPLE_EVERY));
    let node_samplers: Vec<ProcSampler> = nodes.iter().map(|&pid| ProcSampler::start(pid, SAMPLE_EVERY)).collect();
    let report = crate::run(spec, &oracle.keys, &*oracle.lookup, &AtomicU64::new(0))?;
    let nodes: Vec<Resources> = node_samplers.into_iter().map(ProcSampler::finish).collect();
    let used = front.map(ProcSampler::finish).into_iter().chain(nodes.iter().copied()).sum();
    Ok(Measured { report, used, nodes })
}

/// The data file of `dataset` in `dir`, generated first if it is not there.
pub fn ensure_data(dataset: &Dataset, dir: &Path) -> Result<PathBuf, BenchError> {
    let (path, _) =
        dataset.ensure(dir, |_| {}).map_err(|source| BenchError::Dataset { dir: dir.to_owned(), source })?;
    Ok(path)
}
