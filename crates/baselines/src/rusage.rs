//! A program's own peak RSS, free of the memory of whoever started it.
//!
//! Linux starts a process's peak RSS (`ru_maxrss`) at the peak of the memory
//! it was spawned from: `execve` folds the old address space's high-water
//! mark into the process's record, and a spawned child's old address space is
//! its parent's (`vfork`/`posix_spawn`, which `std::process::Command` uses)
//! or a copy of its anonymous pages (`fork`). A harness holding 140 MiB of
//! keys would therefore see every program it times peak at 140 MiB or more.
//!
//! The way out is a small intermediary: a fresh process (the `kvbench`
//! binary, started with [`HELPER_ARG`], before it allocates anything) forks
//! the program, waits for it with `wait4`, and reports the program's usage on
//! its last line of stderr. Forked from a process of about a megabyte of
//! anonymous memory, the program's peak is its own to within that.

use std::ffi::{CString, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

/// The first argument that makes the `kvbench` binary act as the helper: `kvbench __rusage PROGRAM ARGS...`.
pub const HELPER_ARG: &str = "__rusage";

/// Starts the line the helper appends to stderr: `MARKER status wall_ns user_ns system_ns maxrss_bytes`.
const MARKER: &str = "kvbench-rusage:";

/// What the helper measured of one program run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// The raw wait status.
    pub status: i32,
    /// From the fork to the reaping.
    pub wall: Duration,
    /// User CPU, its waited-for descendants included.
    pub user: Duration,
    /// Kernel CPU, its waited-for descendants included.
    pub system: Duration,
    /// Peak resident set of the program (or of its largest waited-for descendant), bytes.
    pub peak_rss: u64,
}

/// The helper: runs `argv` (a program and its arguments, looked up on `PATH`)
/// with this process's stdio, reports its [`Usage`] on stderr, and returns
/// the exit code to leave with (the program's, or 128 + its signal; 127 when
/// it could not be started).
pub fn helper_main(argv: Vec<OsString>) -> u8 {
    let Some(c_args) = argv.into_iter().map(|a| CString::new(a.into_vec()).ok()).collect::<Option<Vec<CString>>>()
    else {
        eprintln!("{HELPER_ARG}: an argument holds a NUL byte");
        return 127;
    };
    if c_args.is_empty() {
        eprintln!("{HELPER_ARG}: no program to run");
        return 127;
    }
    let mut pointers: Vec<*const libc::c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
    pointers.push(std::ptr::null());
    let start = Instant::now();
    // SAFETY: the helper is single-threaded (it runs before anything else in
    // `main`), so the child may do anything; it only calls async-signal-safe
    // `execvp` and `_exit`, on pointers prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: see above; `pointers` is a NULL-terminated array of valid C strings.
        unsafe {
            libc::execvp(pointers[0], pointers.as_ptr());
            libc::_exit(127)
        }
    }
    if pid < 0 {
        eprintln!("{HELPER_ARG}: cannot fork: {}", io::Error::last_os_error());
        return 127;
    }
    let (status, usage) = match crate::process::wait4(pid) {
        Ok((status, usage)) => (status.into_raw(), usage),
        Err(e) => {
            eprintln!("{HELPER_ARG}: cannot wait for the program: {e}");
            return 127;
        }
    };
    let wall = start.elapsed();
    let line = format!(
        "{MARKER} {status} {} {} {} {}\n",
        wall.as_nanos(),
        crate::process::duration(usage.ru_utime).as_nanos(),
        crate::process::duration(usage.ru_stime).as_nanos(),
        u64::try_from(usage.ru_maxrss).unwrap_or(0) * crate::process::MAXRSS_UNIT,
    );
    let _ = io::stderr().write_all(line.as_bytes());
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) as u8
    } else {
        128u8.wrapping_add(libc::WTERMSIG(status) as u8)
    }
}

/// Splits the helper's report off the end of `stderr`: the program's own
/// stderr, and its usage (`None` when the helper wrote none).
pub fn take_report(stderr: &mut Vec<u8>) -> Option<Usage> {
    let body = stderr.strip_suffix(b"\n")?;
    let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = std::str::from_utf8(&body[start..]).ok()?;
    let mut fields = line.strip_prefix(MARKER)?.split_whitespace();
    let mut next = || fields.next()?.parse::<u64>().ok();
    let status = i32::try_from(next()?).ok()?;
    let (wall, user, system, peak_rss) = (next()?, next()?, next()?, next()?);
    stderr.truncate(start);
    Some(Usage {
        status,
        wall: Duration::from_nanos(wall),
        user: Duration::from_nanos(user),
        system: Duration::from_nanos(system),
        peak_rss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_split_off_the_programs_own_stderr() {
        let mut stderr = b"not found: k\nkvbench-rusage: 256 1500 700 200 4096\n".to_vec();
        let usage = take_report(&mut stderr).unwrap();
        assert_eq!(stderr, b"not found: k\n");
        assert_eq!((usage.status, usage.wall, usage.peak_rss), (256, Duration::from_nanos(1500), 4096));
        let mut plain = b"no report here\n".to_vec();
        assert_eq!(take_report(&mut plain), None);
        assert_eq!(plain, b"no report here\n");
    }
}
