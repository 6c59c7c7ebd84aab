//! `kvbench serve` as a process of its own, so its CPU and memory are its own.

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
    #[error("kvbench serve did not start: {0}")]
    NotReady(String),
}

/// A running `kvbench serve` on free loopback ports; stopped (SIGTERM, then
/// SIGKILL after 15 s) and reaped when dropped.
pub struct ServeProcess {
    child: Child,
    /// Its HTTP address.
    pub http: SocketAddr,
    /// Its RESP address.
    pub resp: SocketAddr,
}

impl ServeProcess {
    /// Runs `exe serve --data DATA --http 127.0.0.1:0 --resp 127.0.0.1:0 ARGS…`, under
    /// `taskset -c CPUS` when `cpus` is given, and waits (up to `timeout`:
    /// building a strategy on a big file takes a while) for its addresses.
    pub fn start(
        exe: &Path,
        data: &Path,
        args: &[String],
        cpus: Option<&str>,
        timeout: Duration,
    ) -> Result<ServeProcess, ServeError> {
        let mut command = match cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus]).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        command
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--http", "127.0.0.1:0", "--resp", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let program = format!("{command:?}");
        let mut child = command.spawn().map_err(|source| ServeError::Spawn { program, source })?;
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
        let (mut http, mut resp) = (None, None);
        while http.is_none() || resp.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let status = child.try_wait().ok().flatten();
                    let _ = child.kill();
                    let _ = child.wait();
                    let why = status.map_or(format!("no address after {timeout:?}"), |s| format!("exited with {s}"));
                    return Err(ServeError::NotReady(why));
                }
            };
            let addr = |scheme: &str| line.strip_prefix(&format!("listening on {scheme}://"))?.parse().ok();
            http = http.or_else(|| addr("http"));
            resp = resp.or_else(|| addr("resp"));
        }
        match (http, resp) {
            (Some(http), Some(resp)) => Ok(ServeProcess { child, http, resp }),
            _ => Err(ServeError::NotReady("no address".into())),
        }
    }

    /// The server's process id (for sampling `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
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
