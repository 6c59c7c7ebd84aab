//! Starts and stops the peer servers kvbench compares against (a real
//! `redis-server`), each on a free loopback port, for tests and benchmarks,
//! and the other processes of a benchmark:
//!
//! | module | what |
//! |---|---|
//! | [`serve`] | [`serve::ServeProcess`]: `kvbench serve` or the Python dict baseline as a process of its own |
//! | [`cluster`] | [`RedisCluster`]: N `redis-server`s in cluster mode, every slot assigned |
//! | [`pinning`] | [`Pinning`]: which CPUs the servers and the load generator run on |
//! | [`wrk`] | `wrk` on the same server and keys, to cross-check kvbench's load generator |
//! | [`redis_benchmark`] | `redis-benchmark` (`--cluster` too) on the same Redis, to cross-check it over RESP |
//! | [`perf`] | [`perf::SyscallCount`]: `perf stat` counting a server's system calls over a window |
//!
//! A [`RedisServer`] runs without persistence (`--save "" --appendonly no`),
//! bound to 127.0.0.1 only, and is killed and reaped when dropped, so nothing
//! outlives the test or benchmark that started it.

pub mod cluster;
pub mod perf;
pub mod pinning;
pub mod redis_benchmark;
pub mod serve;
pub mod wrk;

pub use cluster::RedisCluster;
pub use pinning::Pinning;

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The program started, looked up on `PATH`.
const REDIS_SERVER: &str = "redis-server";
/// How long one attempt waits for the server to answer `PING`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts (each on a fresh port) before giving up.
const ATTEMPTS: usize = 3;

/// Why a peer server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The server binary is not installed.
    #[error("redis-server not found on PATH; install Debian's redis-server package")]
    NotInstalled,
    /// The server was started but never answered, or exited early.
    #[error("redis-server did not start after {attempts} attempts: {detail}")]
    StartFailed {
        /// How many ports were tried.
        attempts: usize,
        /// What went wrong on the last attempt (including its log, if any).
        detail: String,
    },
    /// An I/O error starting the process or picking a port.
    #[error("starting redis-server: {0}")]
    Io(#[from] io::Error),
    /// The servers started but did not form a cluster (a command refused, or no `cluster_state:ok` in time).
    #[error("redis cluster: {0}")]
    Cluster(String),
}

/// A running `redis-server` on a loopback port; stopped when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl RedisServer {
    /// Starts `redis-server` on a free loopback port and waits until it answers `PING`.
    pub fn start() -> Result<RedisServer, PeerError> {
        RedisServer::start_in(&std::env::temp_dir(), &|_| Ok(Vec::new()))
    }

    /// Starts one in `dir` (its log and working folder) with the arguments
    /// `extra` gives for the port it got (tried afresh on each port), and
    /// waits until it answers `PING`.
    pub(crate) fn start_in(
        dir: &Path,
        extra: &dyn Fn(u16) -> io::Result<Vec<OsString>>,
    ) -> Result<RedisServer, PeerError> {
        let mut detail = String::new();
        for _ in 0..ATTEMPTS {
            match Self::try_start(dir, extra)? {
                Ok(server) => return Ok(server),
                Err(why) => detail = why,
            }
        }
        Err(PeerError::StartFailed { attempts: ATTEMPTS, detail })
    }

    /// A server for a test, or `None` (after saying so on stderr) when
    /// redis-server is not installed; panics instead if `CI` is set (CI must
    /// install it) or if it is installed but fails to start.
    pub fn for_test() -> Option<RedisServer> {
        for_test(RedisServer::start())
    }

    /// The address it listens on (127.0.0.1 and its port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its URL for db 0, `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One attempt on one port: `Ok(Err(why))` means "try another port".
    fn try_start(
        dir: &Path,
        extra: &dyn Fn(u16) -> io::Result<Vec<OsString>>,
    ) -> Result<Result<RedisServer, String>, PeerError> {
        let addr = free_port()?;
        let log = dir.join(format!("kvbench-redis-{}-{}.log", std::process::id(), addr.port()));
        let spawned = Command::new(REDIS_SERVER)
            .args(["--port", &addr.port().to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no"])
            .arg("--logfile")
            .arg(&log)
            .arg("--dir")
            .arg(dir)
            .args(extra(addr.port())?)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(PeerError::NotInstalled),
            Err(e) => return Err(PeerError::Io(e)),
        };
        // From here on, dropping `server` kills and reaps the process.
        let mut server = RedisServer { child, addr, log };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let why = format!("exited with {status} on port {}: {}", addr.port(), server.output());
                return Ok(Err(why));
            }
            // The PONG must come from our process, not another server that took the port.
            if ask(addr, b"PING\r\n").is_ok_and(|r| r.starts_with(b"+PONG"))
                && ask(addr, b"INFO server\r\n").is_ok_and(|r| has_pid(&r, server.pid()))
            {
                return Ok(Ok(server));
            }
            if Instant::now() >= deadline {
                let why = format!("no PONG on port {} within {STARTUP_TIMEOUT:?}: {}", addr.port(), server.output());
                return Ok(Err(why));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the server wrote to stderr (if it exited) and to its log, for error messages.
    fn output(&mut self) -> String {
        let mut text = String::new();
        if let Ok(Some(_)) = self.child.try_wait()
            && let Some(stderr) = self.child.stderr.as_mut()
        {
            let _ = stderr.read_to_string(&mut text);
        }
        text.push_str(&std::fs::read_to_string(&self.log).unwrap_or_default());
        let text = text.trim();
        if text.is_empty() { "no output".into() } else { text.to_owned() }
    }
}

impl Drop for RedisServer {
    /// Kills the process (it persists nothing) and waits for it, so none is left running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// `started` for a test: `None` (after saying so on stderr) when redis-server
/// is not installed and `CI` is not set; a panic on any other error.
pub(crate) fn for_test<T>(started: Result<T, PeerError>) -> Option<T> {
    match started {
        Ok(server) => Some(server),
        Err(PeerError::NotInstalled) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping: redis-server not installed");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// Whether `program` is an executable file on `PATH`, where `Command` looks for it.
pub(crate) fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else { return false };
    std::env::split_paths(&path)
        .any(|dir| dir.join(program).metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// A loopback port that was free a moment ago (bound to port 0, then released).
pub(crate) fn free_port() -> io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// Sends one inline command and reads one reply (a line, or a bulk string in full).
pub(crate) fn ask(addr: SocketAddr, command: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    stream.write_all(command)?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    while !reply_complete(&reply) {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        reply.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    Ok(reply)
}

/// Whether `reply` holds one whole RESP reply (a simple line or a bulk string).
fn reply_complete(reply: &[u8]) -> bool {
    let Some(eol) = reply.windows(2).position(|w| w == b"\r\n") else { return false };
    match reply.split_first() {
        Some((b'$', rest)) => std::str::from_utf8(rest.get(..eol - 1).unwrap_or_default())
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
            .is_none_or(|len| reply.len() >= eol + 2 + len + 2),
        _ => true,
    }
}

/// Whether an `INFO server` reply names process `pid`.
fn has_pid(info: &[u8], pid: u32) -> bool {
    String::from_utf8_lossy(info).lines().any(|line| line.trim() == format!("process_id:{pid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_complete_when_whole() {
        assert!(!reply_complete(b""));
        assert!(!reply_complete(b"+PON"));
        assert!(reply_complete(b"+PONG\r\n"));
        assert!(!reply_complete(b"$5\r\nab"));
        assert!(reply_complete(b"$5\r\nabcde\r\n"));
        assert!(reply_complete(b"$-1\r\n"));
    }

    #[test]
    fn starts_answers_and_stops() {
        let Some(server) = RedisServer::for_test() else { return };
        let pid = server.pid();
        assert!(server.url().starts_with("redis://127.0.0.1:"));
        assert!(ask(server.addr(), b"PING\r\n").is_ok_and(|r| r.starts_with(b"+PONG")));
        let other = RedisServer::for_test().map(|s| s.addr());
        assert_ne!(other, Some(server.addr()));
        let addr = server.addr();
        drop(server);
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "pid {pid} still running");
        assert!(ask(addr, b"PING\r\n").is_err());
    }
}
