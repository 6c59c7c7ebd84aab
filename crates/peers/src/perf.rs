//! `perf stat` counting the system calls of a running process (every thread
//! of it, through the `raw_syscalls:sys_enter` tracepoint), for the macro
//! benchmark's system calls per request.
//!
//! Counting costs every system call of the process a little, so the macro
//! benchmark counts in a window of its own, after the load whose CPU it
//! reports.

use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// The tracepoint hit on every system call's entry.
const EVENT: &str = "raw_syscalls:sys_enter";

/// How long perf gets to attach before the window starts: it prints nothing
/// until it stops, so there is no sign to wait for (a server idle between
/// loads makes no system calls, so a longer wait counts nothing more).
const ATTACH: Duration = Duration::from_millis(300);

/// Why no count came out.
#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    /// perf is not on `PATH` (Debian: `linux-perf`).
    #[error("perf not installed")]
    NotInstalled,
    /// perf could not be started or stopped.
    #[error("cannot run perf: {0}")]
    Io(#[from] io::Error),
    /// perf ran but printed no count (not permitted, no tracepoint, the process gone).
    #[error("perf counted nothing ({status}): {said}")]
    NoCount {
        /// How perf ended.
        status: ExitStatus,
        /// The last line perf wrote on stderr.
        said: String,
    },
}

/// A `perf stat` counting one process's system calls until [`SyscallCount::finish`].
pub struct SyscallCount {
    perf: Option<Child>,
}

impl SyscallCount {
    /// Starts counting the system calls of process `pid`; returns once perf
    /// has had time to attach, or its error if it gave up at once.
    pub fn attach(pid: u32) -> Result<SyscallCount, PerfError> {
        if !crate::on_path("perf") {
            return Err(PerfError::NotInstalled);
        }
        let child = Command::new("perf")
            .args(["stat", "-x,", "--no-big-num", "-e", EVENT, "-p", &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut count = SyscallCount { perf: Some(child) };
        std::thread::sleep(ATTACH);
        if let Some(child) = count.perf.as_mut()
            && let Some(status) = child.try_wait()?
        {
            let said = stderr_of(child);
            count.perf = None;
            return Err(PerfError::NoCount { status, said: last_line(&said) });
        }
        Ok(count)
    }

    /// Stops counting (SIGINT, as Ctrl-C would) and returns the system calls counted.
    pub fn finish(mut self) -> Result<u64, PerfError> {
        let Some(mut child) = self.perf.take() else {
            return Err(PerfError::Io(io::Error::other("perf already stopped")));
        };
        // perf prints its counts when interrupted; the PID is its own child's.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
        let status = child.wait()?;
        let said = stderr_of(&mut child);
        parse(&said).ok_or_else(|| PerfError::NoCount { status, said: last_line(&said) })
    }
}

impl Drop for SyscallCount {
    fn drop(&mut self) {
        if let Some(mut child) = self.perf.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut said = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut said);
    }
    said
}

fn last_line(said: &str) -> String {
    said.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_owned()
}

/// The count of [`EVENT`] in `perf stat -x,` output (`COUNT,UNIT,EVENT,…`);
/// `None` where perf wrote `<not counted>` or `<not supported>` or nothing.
fn parse(said: &str) -> Option<u64> {
    said.lines().find_map(|line| {
        let mut fields = line.split(',');
        let count = fields.next()?;
        let event = fields.nth(1)?;
        (event == EVENT).then(|| count.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_count_of_the_syscall_event_only() {
        assert_eq!(parse("109,,raw_syscalls:sys_enter,976027,100.00,,\n"), Some(109));
        assert_eq!(parse("# started on x\n\n2345678,,raw_syscalls:sys_enter,2004583519,100.00,,\n"), Some(2345678));
        assert_eq!(parse("<not counted>,,raw_syscalls:sys_enter,0,100.00,,\n"), None);
        assert_eq!(parse("<not supported>,,raw_syscalls:sys_enter,0,100.00,,\n"), None);
        assert_eq!(parse("5,,cycles,1,100.00,,\n"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn counts_the_system_calls_of_a_process_where_perf_may() {
        // Once perf has attached, 2000 redirections of a shell builtin: each opens,
        // duplicates and closes a file, so at least 2000 system calls in the window.
        let script = "sleep 0.6; i=0; while [ $i -lt 2000 ]; do : </dev/null; i=$((i+1)); done; sleep 30";
        let mut shell = Command::new("sh").args(["-c", script]).spawn().expect("sh runs");
        let counted = SyscallCount::attach(shell.id()).and_then(|count| {
            std::thread::sleep(Duration::from_millis(1500));
            count.finish()
        });
        let _ = shell.kill();
        let _ = shell.wait();
        match counted {
            Ok(n) => assert!(n >= 2000, "{n} system calls counted"),
            Err(err @ (PerfError::NotInstalled | PerfError::NoCount { .. })) => eprintln!("skipped: {err}"),
            Err(err) => panic!("{err}"),
        }
    }
}
