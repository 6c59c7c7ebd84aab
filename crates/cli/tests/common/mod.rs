//! What the tests of `kvbench serve` as a process share: starting and
//! stopping it, and a minimal HTTP client.
#![allow(clippy::unwrap_used, dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A `kvbench serve` process; dropping it sends SIGTERM and waits for it.
pub struct Served {
    pub child: Child,
    pub http: SocketAddr,
    pub resp: SocketAddr,
    log: PathBuf,
}

impl Served {
    pub fn start(data: &Path, args: &[&str]) -> Served {
        let log = data.with_extension("log");
        let child = Command::new(env!("CARGO_BIN_EXE_kvbench"))
            .args(["serve", "--data", data.to_str().unwrap(), "--http", "127.0.0.1:0", "--resp", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // Built before reading its output, so a failure below still stops the process.
        let unbound = SocketAddr::from(([0, 0, 0, 0], 0));
        let mut served = Served { child, http: unbound, resp: unbound, log };
        let mut lines = BufReader::new(served.child.stdout.take().unwrap()).lines();
        let log = served.log.clone();
        let mut addr = |scheme: &str| {
            let line = lines.next().unwrap_or_else(|| panic!("{}", std::fs::read_to_string(&log).unwrap())).unwrap();
            let addr = line.strip_prefix(&format!("listening on {scheme}://")).unwrap_or_else(|| panic!("{line}"));
            addr.parse().unwrap()
        };
        (served.http, served.resp) = (addr("http"), addr("resp"));
        served
    }

    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on the PID of a child this test spawned and has not reaped.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Sends SIGTERM and waits (at most 20 s, twice the shutdown grace) for the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > Duration::from_secs(20) {
                self.child.kill().unwrap();
                panic!("kvbench serve ignored SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A minimal keep-alive HTTP/1.1 GET: `(status, body)`.
pub fn http_get(stream: &mut BufReader<TcpStream>, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    stream.get_mut().write_all(format!("GET {path} HTTP/1.1\r\nhost: t\r\n\r\n").as_bytes())?;
    let mut line = String::new();
    stream.read_line(&mut line)?;
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0;
    loop {
        line.clear();
        stream.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body)?;
    Ok((status, body))
}
