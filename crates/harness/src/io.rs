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
}

impl IoCounters {
    /// The counters now (zeros where they cannot be read).
    pub fn now() -> Self {
        // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: the pointer is to a live rusage of the right type.
        let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0;
        let (major_faults, minor_faults) = if ok { (usage.ru_majflt as u64, usage.ru_minflt as u64) } else { (0, 0) };
        let read_bytes = std::fs::read_to_string("/proc/self/io").ok().and_then(|text| parse_read_bytes(&text));
        IoCounters { major_faults, minor_faults, read_bytes }
    }

    /// What grew between `before` and `self` (saturating at zero).
    pub fn since(&self, before: &IoCounters) -> IoCounters {
        IoCounters {
            major_faults: self.major_faults.saturating_sub(before.major_faults),
            minor_faults: self.minor_faults.saturating_sub(before.minor_faults),
            read_bytes: self.read_bytes.zip(before.read_bytes).map(|(a, b)| a.saturating_sub(b)),
        }
    }
}

/// The `read_bytes:` line of `/proc/self/io`.
fn parse_read_bytes(text: &str) -> Option<u64> {
    text.lines().find_map(|line| line.strip_prefix("read_bytes:")).and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_bytes_is_read_from_proc_io() {
        let text = "rchar: 6976\nwchar: 0\nsyscr: 10\nread_bytes: 40960\nwrite_bytes: 0\n";
        assert_eq!(parse_read_bytes(text), Some(40_960));
        assert_eq!(parse_read_bytes("rchar: 1\n"), None);
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
