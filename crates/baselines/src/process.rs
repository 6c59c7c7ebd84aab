//! [`run_process`]: one run of a [`Program`], timed and measured as a whole process.
//!
//! The child is reaped with `wait4`, not `Child::wait`, because `wait4`
//! also returns the child's resource usage: user and system CPU and peak RSS.
//! Linux folds into it the usage of the descendants the child itself waited
//! for, so `bash grep.sh` is measured with every `grep` it ran (peak RSS is
//! then the largest of those processes, not their sum).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{self, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{Baseline, Scripts};

/// `ru_maxrss` is in KiB on Linux (and in bytes on macOS).
pub(crate) const MAXRSS_UNIT: u64 = if cfg!(target_os = "macos") { 1 } else { 1024 };

/// A command line that takes the data file and then the keys as its last
/// arguments: `PROGRAM ARGS... DATA KEY...`.
///
/// Every baseline has that shape, and so does `kvbench get` with the args
/// `get --strategy S --data`, so one runner times them all alike. The keys go
/// on the command line, as for `kvbench get`: Linux allows about 2 MiB of
/// arguments (`ARG_MAX`), some 50,000 UUID keys; more fail to start with
/// [`RunError::Spawn`] ("Argument list too long").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    program: OsString,
    args: Vec<OsString>,
    /// The `kvbench` binary to run it through, so peak RSS is its own (see [`crate::rusage`]).
    helper: Option<OsString>,
}

impl Program {
    /// `program` (looked up on `PATH` unless it is a path) with `args` before the data file.
    pub fn new<I, S>(program: impl Into<OsString>, args: I) -> Program
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Program { program: program.into(), args: args.into_iter().map(Into::into).collect(), helper: None }
    }

    /// `baseline`'s script from `scripts`, run by its interpreter.
    pub fn baseline(baseline: Baseline, scripts: &Scripts) -> Program {
        Program::new(baseline.interpreter().program(), [scripts.path(baseline)])
    }

    /// This program with one more argument before the data file (e.g. `--cache-ratio`).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Program {
        self.args.push(arg.into());
        self
    }

    /// This program run through `kvbench` (`kvbench_exe __rusage PROGRAM …`),
    /// so that its peak RSS is not its spawner's (see [`crate::rusage`]).
    pub fn through(mut self, kvbench_exe: impl Into<OsString>) -> Program {
        self.helper = Some(kvbench_exe.into());
        self
    }

    /// The command that looks up `keys` in `data`.
    fn command<K: AsRef<OsStr>>(&self, data: &Path, keys: &[K]) -> Command {
        let mut command = match &self.helper {
            Some(helper) => {
                let mut command = Command::new(helper);
                command.arg(crate::rusage::HELPER_ARG).arg(&self.program);
                command
            }
            None => Command::new(&self.program),
        };
        command.args(&self.args).arg(data).args(keys);
        command
    }
}

impl fmt::Display for Program {
    /// The command line before the data file, e.g. `python3 /tmp/…/py_dict.py`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.program.to_string_lossy())?;
        self.args.iter().try_for_each(|arg| write!(f, " {}", arg.to_string_lossy()))
    }
}

/// One finished run of a program: what it printed, how it ended, what it cost.
#[derive(Clone, Debug)]
pub struct ProcessRun {
    /// How it exited (`code()` is `None` if a signal killed it).
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// From just before the spawn to the reaping: start-up, work and exit.
    pub wall: Duration,
    /// CPU time in user mode, its waited-for descendants included.
    pub user_cpu: Duration,
    /// CPU time in the kernel, its waited-for descendants included.
    pub system_cpu: Duration,
    /// Peak resident set size of the process or of its largest waited-for descendant.
    pub peak_rss_bytes: u64,
}

impl ProcessRun {
    /// User plus system CPU time.
    pub fn cpu(&self) -> Duration {
        self.user_cpu + self.system_cpu
    }
}

/// Why a program could not be run to the end (its own failures are in [`ProcessRun::status`]).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The process could not be started (program missing, argument list too long, …).
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        /// The command line, without data file and keys.
        program: String,
        /// What the system said.
        source: io::Error,
    },
    /// Its stdout or stderr could not be read.
    #[error("cannot read the output of `{program}`: {source}")]
    Output {
        /// The command line, without data file and keys.
        program: String,
        /// What the system said.
        source: io::Error,
    },
    /// It could not be waited for.
    #[error("cannot wait for `{program}`: {source}")]
    Wait {
        /// The command line, without data file and keys.
        program: String,
        /// What the system said.
        source: io::Error,
    },
}

/// Runs `program` once on `data` and `keys` (stdin empty), and returns its
/// output, exit status, wall time, CPU time and peak RSS.
pub fn run_process<K: AsRef<OsStr>>(program: &Program, data: &Path, keys: &[K]) -> Result<ProcessRun, RunError> {
    let mut command = program.command(data, keys);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command.spawn().map_err(|source| RunError::Spawn { program: program.to_string(), source })?;
    let output = read_output(&mut child);
    if output.is_err() {
        // It may be blocked writing to a pipe nobody reads any more: end it, then reap it.
        let _ = child.kill();
    }
    let waited = libc::pid_t::try_from(child.id()).map_err(io::Error::other).and_then(wait4);
    let wall = start.elapsed();
    let (stdout, mut stderr) = output.map_err(|source| RunError::Output { program: program.to_string(), source })?;
    let (status, usage) = waited.map_err(|source| RunError::Wait { program: program.to_string(), source })?;
    if program.helper.is_none() {
        return Ok(ProcessRun {
            status,
            stdout,
            stderr,
            wall,
            user_cpu: duration(usage.ru_utime),
            system_cpu: duration(usage.ru_stime),
            peak_rss_bytes: u64::try_from(usage.ru_maxrss).unwrap_or(0) * MAXRSS_UNIT,
        });
    }
    let Some(own) = crate::rusage::take_report(&mut stderr) else {
        let said = String::from_utf8_lossy(&stderr).trim().to_owned();
        let source = io::Error::other(format!("the rusage helper reported nothing ({status}): {said}"));
        return Err(RunError::Wait { program: program.to_string(), source });
    };
    Ok(ProcessRun {
        status: ExitStatus::from_raw(own.status),
        stdout,
        stderr,
        wall: own.wall,
        user_cpu: own.user,
        system_cpu: own.system,
        peak_rss_bytes: own.peak_rss,
    })
}

/// Reads stdout and stderr to their ends, at once (one on a second thread), so
/// that a child filling one pipe while we wait on the other cannot deadlock.
fn read_output(child: &mut Child) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(io::Error::other("stdout and stderr were not piped"));
    };
    std::thread::scope(|scope| {
        let err_reader = scope.spawn(move || {
            let mut err = Vec::new();
            stderr.read_to_end(&mut err).map(|_| err)
        });
        let mut out = Vec::new();
        let out_read = stdout.read_to_end(&mut out);
        let err = err_reader.join().unwrap_or_else(|_| Err(io::Error::other("the stderr reader panicked")));
        out_read?;
        Ok((out, err?))
    })
}

/// Waits for the child `pid` and returns its exit status and resource usage.
pub(crate) fn wait4(pid: libc::pid_t) -> io::Result<(ExitStatus, libc::rusage)> {
    let mut status = 0;
    // SAFETY: `rusage` is a C struct of integers, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals of the types wait4
        // expects, and it writes nothing else.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((ExitStatus::from_raw(status), usage));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// A `timeval` as a [`Duration`] (negative fields, which the kernel never reports, as zero).
pub(crate) fn duration(time: libc::timeval) -> Duration {
    let secs = u64::try_from(time.tv_sec).unwrap_or(0);
    let micros = u64::try_from(time.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(micros)
}
