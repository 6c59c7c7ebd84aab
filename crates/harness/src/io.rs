//! Page faults and disk reads of this process: what a strategy pays when its
//! data does not fit in memory. A major fault is a page that had to be read
//! from disk; a minor one was in the page cache and only had to be mapped.

use serde::{Deserialize, Serialize};

/// Cumulative fault and read counters of this process at one moment, or what they grew by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoCounters {
    /// Page faults that read from disk (`ru_majflt`).
    pub major_faults: u64,
    /// Page faults served from the page cache (`ru_minflt`).
    pub minor_faults: u64,
    /// Bytes this process caused to be read from storage (`read_bytes` of
    /// `/proc/self/io`, readahead included); `None` where the kernel does not account it.
    pub read_bytes: Option<u64>,
    /// System calls that read (`syscr` of `/proc/self/io`: `read`, `pread`, …); `None` where not accounted.
    #[serde(default)]
    pub read_calls: Option<u64>,
}

impl IoCounters {
    /// The counters now (zeros where they cannot be read).
    pub fn now() -> Self {
        // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: the pointer is to a live rusage of the right type.
        let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0;
        let (major_faults, minor_faults) = if ok { (usage.ru_majflt as u64, usage.ru_minflt as u64) } else { (0, 0) };
        // Read before the counting read of the file itself, which `read_calls` then includes: one
        // call per snapshot, spread over a workload's many lookups.
        let io = std::fs::read_to_string("/proc/self/io").ok();
        let field = |name| io.as_deref().and_then(|text| parse_field(text, name));
        IoCounters { major_faults, minor_faults, read_bytes: field("read_bytes"), read_calls: field("syscr") }
    }

    /// What grew between `before` and `self` (saturating at zero).
    pub fn since(&self, before: &IoCounters) -> IoCounters {
        IoCounters {
            major_faults: self.major_faults.saturating_sub(before.major_faults),
            minor_faults: self.minor_faults.saturating_sub(before.minor_faults),
            read_bytes: self.read_bytes.zip(before.read_bytes).map(|(a, b)| a.saturating_sub(b)),
            read_calls: self.read_calls.zip(before.read_calls).map(|(a, b)| a.saturating_sub(b)),
        }
    }
}

/// The value of the `name:` line of `/proc/self/io`.
fn parse_field(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':')).and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_bytes_is_read_from_proc_io() {
        let text = "rchar: 6976\nwchar: 0\nsyscr: 10\nread_bytes: 40960\nwrite_bytes: 0\n";
        assert_eq!(parse_field(text, "read_bytes"), Some(40_960));
        assert_eq!(parse_field(text, "syscr"), Some(10));
        assert_eq!(parse_field("rchar: 1\n", "read_bytes"), None);
    }

    #[test]
    fn counters_only_grow_and_differences_saturate() {
        let before = IoCounters::now();
        let v: Vec<u8> = vec![1; 8 << 20];
        std::hint::black_box(&v);
        let after = IoCounters::now();
        assert!(after.minor_faults >= before.minor_faults);
        let d = before.since(&after);
        assert_eq!((d.major_faults, d.minor_faults), (0, 0));
    }
}
