//! Starting the servers a plan names: the [`Launcher`] trait, and
//! [`Processes`], which starts each as a process of its own (`kvbench serve`,
//! `redis-server`, the Python dict), so its CPU and memory are its own.
//!
//! `kvbench serve --strategy redis-cluster` answers from a Redis Cluster:
//! [`Processes`] starts one first ([`RedisCluster`], [`DEFAULT_NODES`]
//! nodes), hands its URLs to the server, which loads the data file into it
//! (the strategy's own load), and reports the nodes as [`Running::nodes`] so
//! their memory and CPU are recorded beside the server's and counted with it.
//! The same cluster without a server in front (`Server::RedisCluster`) is
//! loaded the same way and asked directly: its [`Running::target`] is the
//! cluster, which the load generator routes by slot (`cluster.rs`).
//!
//! The macro benchmark and the soak take any [`Launcher`], so they can also
//! be run (and tested) against servers started some other way.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kvbench_lookup::{OpenOptions, Strategy, StrategyKind};
use kvbench_peers::cluster::DEFAULT_NODES;
use kvbench_peers::serve::{ServeError, ServeProcess};
use kvbench_peers::{PeerError, Pinning, RedisCluster, RedisServer};

use crate::sweep::Server;
use crate::target::{Protocol, Target};

/// A server under test, running; stopped when dropped.
pub trait Running {
    /// The process whose CPU and RSS are sampled during each load.
    fn pid(&self) -> u32;
    /// Where it speaks `protocol`, if it does.
    fn addr(&self, protocol: Protocol) -> Option<SocketAddr>;
    /// What a load speaking `protocol` targets: its address, by default.
    fn target(&self, protocol: Protocol) -> Option<Target> {
        self.addr(protocol).map(|addr| protocol.at(addr))
    }
    /// Other processes answering with it (a Redis Cluster's nodes), in a
    /// stable order, whose CPU and RSS are recorded beside its own and counted
    /// with it; [`Running::pid`] may be one of them (a cluster asked directly); none by default.
    fn nodes(&self) -> Vec<u32> {
        Vec::new()
    }
}

impl Running for ServeProcess {
    fn pid(&self) -> u32 {
        ServeProcess::pid(self)
    }

    fn addr(&self, protocol: Protocol) -> Option<SocketAddr> {
        match protocol {
            Protocol::Http => self.http,
            Protocol::Resp => self.resp,
        }
    }
}

impl Running for RedisServer {
    fn pid(&self) -> u32 {
        RedisServer::pid(self)
    }

    fn addr(&self, protocol: Protocol) -> Option<SocketAddr> {
        (protocol == Protocol::Resp).then(|| RedisServer::addr(self))
    }
}

/// `kvbench serve` answering from a Redis Cluster started for it; dropping
/// stops the server first, then every node.
struct ClusterBacked {
    serve: ServeProcess,
    cluster: RedisCluster,
}

impl Running for ClusterBacked {
    fn pid(&self) -> u32 {
        self.serve.pid()
    }

    fn addr(&self, protocol: Protocol) -> Option<SocketAddr> {
        Running::addr(&self.serve, protocol)
    }

    fn nodes(&self) -> Vec<u32> {
        self.cluster.pids()
    }
}

/// A Redis Cluster holding the data, asked directly (no server in front):
/// its first node stands for it where one process must ([`Running::pid`]).
struct ClusterPeer(RedisCluster);

impl Running for ClusterPeer {
    fn pid(&self) -> u32 {
        self.0.pids().first().copied().unwrap_or_default()
    }

    fn addr(&self, protocol: Protocol) -> Option<SocketAddr> {
        (protocol == Protocol::Resp).then(|| self.0.addrs().first().copied()).flatten()
    }

    fn target(&self, protocol: Protocol) -> Option<Target> {
        self.addr(protocol).map(Target::Cluster)
    }

    fn nodes(&self) -> Vec<u32> {
        self.0.pids()
    }
}

/// Why a Redis peer is [`Launched::Unavailable`] when redis-server is missing.
const REDIS_MISSING: &str = "not installed (Debian: apt-get install redis-server)";

/// A started Redis peer, `None` if redis-server is not installed, or the error.
fn installed<T>(started: Result<T, PeerError>) -> Result<Option<T>, LaunchError> {
    match started {
        Ok(peer) => Ok(Some(peer)),
        Err(PeerError::NotInstalled) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// What [`Launcher::start`] did.
pub enum Launched {
    /// The server runs.
    Running(Box<dyn Running>),
    /// It cannot run on this machine (a peer is not installed): why, for the user.
    Unavailable(String),
}

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// `kvbench serve` or the Python dict did not come up.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// `redis-server` (or a Redis Cluster) did not come up.
    #[error(transparent)]
    Redis(#[from] PeerError),
    /// The data could not be loaded into `redis-server`.
    #[error("cannot load the data into redis-server: {0}")]
    RedisLoad(#[from] kvbench_lookup::OpenError),
    /// A server started some other way (another [`Launcher`]) failed.
    #[error("cannot start the server: {0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
    /// The data file could not be dropped from the page cache before a memory-limited server.
    #[error("cannot drop the data file from the page cache: {0}")]
    Evict(std::io::Error),
}

/// Starts the servers of a plan.
pub trait Launcher {
    /// Starts `server` serving the data file `data`.
    fn start(&self, server: &Server, data: &Path) -> Result<Launched, LaunchError>;
}

/// Starts every server as a process of its own, pinned as [`Pinning`] says.
#[derive(Clone, Debug)]
pub struct Processes {
    /// The kvbench executable, run as `kvbench serve`.
    pub exe: PathBuf,
    /// Which CPUs servers run on.
    pub pinning: Pinning,
    /// How long a server may take to come up (building a strategy on a big file takes a while).
    pub timeout: Duration,
    /// A memory-limited cgroup (`kvbench_harness::cgroup`) each `kvbench serve` joins before
    /// opening its data, which is evicted from the page cache first; peers run without it.
    pub cgroup: Option<PathBuf>,
}

impl Processes {
    /// Servers started from the kvbench executable `exe`, given 300 s to come up.
    pub fn new(exe: PathBuf, pinning: Pinning) -> Processes {
        Processes { exe, pinning, timeout: Duration::from_secs(300), cgroup: None }
    }
}

impl Processes {
    /// Pins a peer's processes away from the load generator: redis-server on
    /// the first CPU, as a one-thread server is; a cluster's nodes in turn over
    /// the CPUs the load generator leaves ([`Pinning::node_cpu`]).
    fn pin_peer(&self, pids: &[u32]) {
        for (i, &pid) in pids.iter().enumerate() {
            if let Some(cpu) = self.pinning.node_cpu(i) {
                kvbench_peers::pinning::pin(pid, cpu);
            }
        }
    }

    /// A Redis Cluster of `nodes` primaries, pinned, or `None` when redis-server is not installed.
    fn cluster(&self, nodes: usize) -> Result<Option<RedisCluster>, LaunchError> {
        let cluster = installed(RedisCluster::start(nodes))?;
        if let Some(cluster) = &cluster {
            self.pin_peer(&cluster.pids());
        }
        Ok(cluster)
    }
}

impl Launcher for Processes {
    fn start(&self, server: &Server, data: &Path) -> Result<Launched, LaunchError> {
        let running: Box<dyn Running> = match server {
            Server::Kvbench { strategy, threads } => {
                let mut args =
                    vec!["--threads".to_owned(), threads.to_string(), "--strategy".into(), strategy.to_string()];
                let cpus = self.pinning.server_cpus(*threads);
                if let Some(dir) = &self.cgroup {
                    // Pages cached earlier are charged elsewhere and would be served from outside the limit.
                    kvbench_harness::memory::evict_page_cache(data).map_err(LaunchError::Evict)?;
                    args.extend(["--cgroup".to_owned(), dir.display().to_string()]);
                }
                if strategy.reader() == StrategyKind::RedisCluster {
                    let Some(cluster) = self.cluster(DEFAULT_NODES)? else {
                        return Ok(Launched::Unavailable(REDIS_MISSING.into()));
                    };
                    args.extend(["--redis-cluster".to_owned(), cluster.urls().join(",")]);
                    let serve = ServeProcess::kvbench(&self.exe, data, &args, cpus.as_deref(), self.timeout)?;
                    Box::new(ClusterBacked { serve, cluster })
                } else {
                    Box::new(ServeProcess::kvbench(&self.exe, data, &args, cpus.as_deref(), self.timeout)?)
                }
            }
            Server::Redis => {
                let Some(redis) = installed(RedisServer::start())? else {
                    return Ok(Launched::Unavailable(REDIS_MISSING.into()));
                };
                self.pin_peer(&[redis.pid()]);
                kvbench_lookup::redis::load(data, &redis.url(), &OpenOptions::default())?;
                Box::new(redis)
            }
            Server::RedisCluster { nodes } => {
                let Some(cluster) = self.cluster(*nodes)? else {
                    return Ok(Launched::Unavailable(REDIS_MISSING.into()));
                };
                // The `redis-cluster` strategy's own load: validated, first record of a key wins, marked.
                let options = OpenOptions { redis_cluster: Some(cluster.urls()), ..OpenOptions::default() };
                drop(kvbench_lookup::open(data, &Strategy::Plain(StrategyKind::RedisCluster), &options)?);
                Box::new(ClusterPeer(cluster))
            }
            Server::PythonDict => {
                let cpus = self.pinning.server_cpus(1);
                match ServeProcess::python_dict(data, cpus.as_deref(), self.timeout) {
                    Ok(process) => Box::new(process),
                    Err(ServeError::NotInstalled(program)) => {
                        return Ok(Launched::Unavailable(format!("{program} not installed")));
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        };
        Ok(Launched::Running(running))
    }
}
