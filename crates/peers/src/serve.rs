//! Servers under test as processes of their own (so their CPU and memory are
//! their own): `kvbench serve`, or any program that prints `listening on
//! http://…` / `listening on resp://…` once it accepts connections.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Why `kvbench serve` did not come up.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The process could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// What was run.
        program: String,
        /// The underlying error.
        source: io::Error,
    },
    /// It exited or stayed silent instead of printing its addresses.
    #[error("{program} did not start: {why}")]
    NotReady {
        /// What was run.
        program: String,
        /// What happened instead.
        why: String,
    },
}

/// A running server on free loopback ports; stopped (SIGTERM, then SIGKILL
/// after 15 s) and reaped when dropped.
pub struct ServeProcess {
    child: Child,
    /// Its HTTP address, if it serves HTTP.
    pub http: Option<SocketAddr>,
    /// Its RESP address, if it serves RESP.
    pub resp: Option<SocketAddr>,
}

impl ServeProcess {
    /// Runs `exe serve --data DATA --http 127.0.0.1:0 --resp 127.0.0.1:0 ARGS…`, under
    /// `taskset -c CPUS` when `cpus` is given, and waits (up to `timeout`:
    /// building a strategy on a big file takes a while) for its addresses.
    pub fn kvbench(
        exe: &Path,
        data: &Path,
        args: &[String],
        cpus: Option<&str>,
        timeout: Duration,
    ) -> Result<ServeProcess, ServeError> {
        let mut command = pinned(exe, cpus);
        command
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--http", "127.0.0.1:0", "--resp", "127.0.0.1:0"])
            .args(args);
        ServeProcess::spawn(command, true, true, timeout)
    }

    /// Runs the Python dict server `script` (see `benches/server/dict_server.py`)
    /// on `data` with `python3`, and waits for its HTTP address.
    pub fn python_dict(
        script: &Path,
        data: &Path,
        cpus: Option<&str>,
        timeout: Duration,
    ) -> Result<ServeProcess, ServeError> {
        let mut command = pinned(Path::new("python3"), cpus);
        command.arg(script).arg(data);
        ServeProcess::spawn(command, true, false, timeout)
    }

    /// Starts `command` and waits until it has printed every address asked for.
    fn spawn(mut command: Command, http: bool, resp: bool, timeout: Duration) -> Result<ServeProcess, ServeError> {
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
        let program = format!("{command:?}");
        let mut child = command.spawn().map_err(|source| ServeError::Spawn { program: program.clone(), source })?;
        let stdout = child.stdout.take();
        // Read the address lines on a thread, so a silent server times out instead of hanging us.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let deadline = Instant::now() + timeout;
        let mut served = ServeProcess { child, http: None, resp: None };
        while (http && served.http.is_none()) || (resp && served.resp.is_none()) {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                let status = served.child.try_wait().ok().flatten();
                let why = status.map_or(format!("no address after {timeout:?}"), |s| format!("exited with {s}"));
                return Err(ServeError::NotReady { program, why });
            };
            let addr = |scheme: &str| line.strip_prefix(&format!("listening on {scheme}://"))?.parse().ok();
            served.http = served.http.or_else(|| addr("http"));
            served.resp = served.resp.or_else(|| addr("resp"));
        }
        Ok(served)
    }

    /// The server's process id (for sampling `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// `program`, under `taskset -c CPUS` when `cpus` is given.
fn pinned(program: &Path, cpus: Option<&str>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.args(["-c", cpus]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Pins the running process `pid` (its main thread: the request path of a
/// single-threaded server) to `cpu`; for servers started by someone else.
pub fn pin(pid: u32, cpu: usize) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and
    // sched_setaffinity only read and write that set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child, which has not been reaped yet.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
