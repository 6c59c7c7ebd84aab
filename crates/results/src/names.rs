//! Names that the code writing records and the code reading them must spell
//! alike: the report finds its conclusions' inputs by these, so a name changed
//! on one side only would silently drop a conclusion. Both sides use them from here.

use std::fmt;

/// The value-length distribution of the default datasets (`kvbench gen`'s
/// default), which labels leave out and most charts compare strategies on.
pub const DEFAULT_VALUE_LEN: &str = "normal:30,5";

/// Keys of the base dataset of the load runs (`kvbench bench macro`), around which one thing varies at a time.
pub const BASE_KEYS: u64 = 1_000_000;

/// Client connections of the base load; open loops run at this many.
pub const BASE_CONNECTIONS: u32 = 64;

/// The suite's pseudo-strategy for one `memchr` pass over the file: the floor a full scan compares to.
pub const MEMCHR_PASS: &str = "memchr pass";

/// The naive line-by-line strategy, kept only as a baseline to compare with:
/// measured everywhere, never recommended.
pub const NAIVE_BASELINE: &str = "scan-lines";

/// The load runs' name for a real `redis-server` peer.
pub const REDIS_SERVER: &str = "redis-server";

/// The load runs' name for the seed-style Python dict behind `http.server`.
pub const PYTHON_DICT: &str = "python-dict";

/// The workload label of a cold case's first lookups: `uniform@cold`.
pub fn cold_workload(workload: impl fmt::Display) -> String {
    format!("{workload}@cold")
}

/// How a suite case started its strategy, when not plainly warm: the suffix
/// of its label, e.g. `mmap-index (reopen)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseStart {
    /// The index was built afresh (its sidecar deleted first).
    Build,
    /// The index was reopened from its sidecar.
    Reopen,
    /// The page cache was dropped first; only the first lookups are timed.
    Cold,
}

impl CaseStart {
    /// The label of `strategy` started this way: `mmap-index (reopen)`.
    pub fn label(self, strategy: impl fmt::Display) -> String {
        format!("{strategy} ({})", self.word())
    }

    /// Whether the case `label` names was started this way.
    pub fn marks(self, label: &str) -> bool {
        label.ends_with(&format!(" ({})", self.word()))
    }

    fn word(self) -> &'static str {
        match self {
            CaseStart::Build => "build",
            CaseStart::Reopen => "reopen",
            CaseStart::Cold => "cold",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_labels_are_recognised_by_their_start() {
        assert_eq!(CaseStart::Reopen.label("mmap-index"), "mmap-index (reopen)");
        assert!(CaseStart::Cold.marks("scan (cold)"));
        assert!(!CaseStart::Cold.marks("scan (reopen)") && !CaseStart::Cold.marks("scan"));
    }
}
