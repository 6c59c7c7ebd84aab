//! Servers under test as processes of their own (so their CPU and memory are
//! their own): `kvbench serve`, the Python dict baseline, or any program that
//! prints `listening on http://…` / `listening on resp://…` once it accepts connections.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The seed-style baseline, a Python dict behind `http.server`
/// (`benches/server/dict_server.py`), inside the binary so it runs from anywhere.
pub const DICT_SERVER: &str = include_str!("../../../benches/server/dict_server.py");

/// Why a server process did not come up.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The program it needs is not on `PATH`.
    #[error("{0} not installed")]
    NotInstalled(&'static str),
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
        let program = format!("{command:?}");
        ServeProcess::spawn(command, program, true, true, timeout)
    }

    /// Runs the Python dict server ([`DICT_SERVER`]) on `data` with `python3`
    /// (under `taskset -c CPUS` when `cpus` is given), and waits for its HTTP address.
    pub fn python_dict(data: &Path, cpus: Option<&str>, timeout: Duration) -> Result<ServeProcess, ServeError> {
        if !crate::on_path("python3") {
            return Err(ServeError::NotInstalled("python3"));
        }
        let mut command = pinned(Path::new("python3"), cpus);
        // `python3 -c SCRIPT DATA`: the script sees DATA as sys.argv[1], as when run from its file.
        command.arg("-c").arg(DICT_SERVER).arg(data);
        // Named without the script text, which would fill an error message.
        let program = format!("python3 dict_server.py {}", data.display());
        ServeProcess::spawn(command, program, true, false, timeout)
    }

    /// Starts `command` (`program` in messages) and waits until it has printed every address asked for.
    fn spawn(
        mut command: Command,
        program: String,
        http: bool,
        resp: bool,
        timeout: Duration,
    ) -> Result<ServeProcess, ServeError> {
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
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
pub(crate) fn pinned(program: &Path, cpus: Option<&str>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.args(["-c", cpus]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

impl Drop for ServeProcess {
    /// SIGTERM, then SIGKILL after 15 s, and reaps the process.
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
