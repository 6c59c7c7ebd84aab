//! Starting the servers a plan names: the [`Launcher`] trait, and
//! [`Processes`], which starts each as a process of its own (`kvbench serve`,
//! `redis-server`, the Python dict), so its CPU and memory are its own.
//!
//! The macro benchmark and the soak take any [`Launcher`], so they can also
//! be run (and tested) against servers started some other way.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kvbench_lookup::OpenOptions;
use kvbench_peers::serve::{ServeError, ServeProcess};
use kvbench_peers::{PeerError, Pinning, RedisServer};

use crate::sweep::Server;
use crate::target::Protocol;

/// A server under test, running; stopped when dropped.
pub trait Running {
    /// The process whose CPU and RSS are sampled during each load.
    fn pid(&self) -> u32;
    /// Where it speaks `protocol`, if it does.
    fn addr(&self, protocol: Protocol) -> Option<SocketAddr>;
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
    /// `redis-server` did not come up.
    #[error(transparent)]
    Redis(#[from] PeerError),
    /// The data could not be loaded into `redis-server`.
    #[error("cannot load the data into redis-server: {0}")]
    RedisLoad(#[from] kvbench_lookup::OpenError),
    /// A server started some other way (another [`Launcher`]) failed.
    #[error("cannot start the server: {0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
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
}

impl Processes {
    /// Servers started from the kvbench executable `exe`, given 300 s to come up.
    pub fn new(exe: PathBuf, pinning: Pinning) -> Processes {
        Processes { exe, pinning, timeout: Duration::from_secs(300) }
    }
}

impl Launcher for Processes {
    fn start(&self, server: &Server, data: &Path) -> Result<Launched, LaunchError> {
        let running: Box<dyn Running> = match server {
            Server::Kvbench { strategy, threads } => {
                let args = ["--threads".to_owned(), threads.to_string(), "--strategy".into(), strategy.to_string()];
                let cpus = self.pinning.server_cpus(*threads);
                Box::new(ServeProcess::kvbench(&self.exe, data, &args, cpus.as_deref(), self.timeout)?)
            }
            Server::Redis => {
                let redis = match RedisServer::start() {
                    Ok(redis) => redis,
                    Err(PeerError::NotInstalled) => {
                        return Ok(Launched::Unavailable(
                            "not installed (Debian: apt-get install redis-server)".into(),
                        ));
                    }
                    Err(err) => return Err(err.into()),
                };
                if self.pinning.active() {
                    kvbench_peers::pinning::pin(redis.pid(), 0);
                }
                kvbench_lookup::redis::load(data, &redis.url(), &OpenOptions::default())?;
                Box::new(redis)
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
