//! CPU and memory of a process, sampled from `/proc/PID` while a run goes on.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// What a process used during a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// Mean CPU use in user mode, percent of one CPU.
    pub user_percent: f64,
    /// Mean CPU use in the kernel, percent of one CPU.
    pub system_percent: f64,
    /// Highest CPU use (user + kernel) over one sampling interval, percent of
    /// one CPU; the kernel counts in ticks (10 ms), so ±10 % at 100 ms intervals.
    pub max_percent: f64,
    /// Mean resident memory, bytes.
    pub rss_mean: f64,
    /// Highest resident memory seen, bytes.
    pub rss_max: u64,
    /// Samples taken.
    pub samples: u64,
}

/// Several processes' use together (a server and its nodes): CPU and memory
/// added up; the highest CPU over one interval is the sum of each one's
/// highest, an upper bound (their peaks need not coincide).
impl std::iter::Sum for Resources {
    fn sum<I: Iterator<Item = Resources>>(iter: I) -> Resources {
        iter.fold(Resources::default(), |all, one| Resources {
            user_percent: all.user_percent + one.user_percent,
            system_percent: all.system_percent + one.system_percent,
            max_percent: all.max_percent + one.max_percent,
            rss_mean: all.rss_mean + one.rss_mean,
            rss_max: all.rss_max + one.rss_max,
            samples: all.samples.max(one.samples),
        })
    }
}

/// Samples `/proc/PID/stat` and `/proc/PID/statm` on a thread of its own until stopped.
pub struct ProcSampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Resources>>,
}

/// One reading: CPU ticks (user, system) and resident pages.
fn read(pid: u32) -> Option<(u64, u64, u64)> {
    let stat = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/stat"))).ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split_whitespace().collect();
    let (user, system) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    let statm = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/statm"))).ok()?;
    let resident = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some((user, system, resident))
}

impl ProcSampler {
    /// Starts sampling process `pid` every `interval`.
    pub fn start(pid: u32, interval: Duration) -> ProcSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || sample(pid, interval, &flag));
        ProcSampler { stop, thread: Some(thread) }
    }

    /// Stops sampling and returns what was seen (all zero if the process could not be read).
    pub fn finish(mut self) -> Resources {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or_default()
    }
}

impl Drop for ProcSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// CPU time (user + system, all threads) this process has used so far, to the
/// microsecond (`/proc` counts in 10 ms ticks); zero if it cannot be read.
pub fn own_cpu() -> Duration {
    // SAFETY: a zeroed rusage is a valid value, and getrusage only writes into it.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return Duration::ZERO;
        }
        usage
    };
    let time =
        |t: libc::timeval| Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn sample(pid: u32, interval: Duration, stop: &AtomicBool) -> Resources {
    // SAFETY: sysconf only reads a configuration value.
    let (hz, page) = unsafe { (libc::sysconf(libc::_SC_CLK_TCK), libc::sysconf(libc::_SC_PAGESIZE)) };
    let (hz, page) = (hz.max(1) as f64, page.max(1) as u64);
    let mut out = Resources::default();
    let Some(first) = read(pid) else { return out };
    let (start, mut last, mut last_at) = (first, first, Instant::now());
    let began = last_at;
    let mut rss_sum = 0.0;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(interval);
        let Some(now) = read(pid) else { break };
        let at = Instant::now();
        let busy = (now.0 + now.1).saturating_sub(last.0 + last.1) as f64 / hz;
        out.max_percent = out.max_percent.max(100.0 * busy / (at - last_at).as_secs_f64());
        out.rss_max = out.rss_max.max(now.2 * page);
        rss_sum += (now.2 * page) as f64;
        out.samples += 1;
        (last, last_at) = (now, at);
    }
    let seconds = (last_at - began).as_secs_f64().max(f64::MIN_POSITIVE);
    out.user_percent = 100.0 * last.0.saturating_sub(start.0) as f64 / hz / seconds;
    out.system_percent = 100.0 * last.1.saturating_sub(start.1) as f64 / hz / seconds;
    out.rss_mean = if out.samples > 0 { rss_sum / out.samples as f64 } else { 0.0 };
    out
}
