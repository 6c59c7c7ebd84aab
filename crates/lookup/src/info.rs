//! What a strategy reports about itself.

use std::time::Duration;

/// A strategy's self-description: what it holds and what it has seen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrategyInfo {
    /// The strategy's label, e.g. `mmap-index` or `lru(0.5,mmap-index)`.
    pub name: String,
    /// Distinct keys served, when the strategy knows it.
    pub keys: Option<u64>,
    /// Records (valid lines) in the file, when the strategy has counted them.
    pub records: Option<u64>,
    /// Records whose key appeared earlier in the file (ignored: first wins).
    pub duplicates: Option<u64>,
    /// Malformed lines skipped in lenient mode.
    pub skipped: u64,
    /// Bytes the strategy allocated on the heap for its data (approximate).
    pub heap_bytes: u64,
    /// Bytes of files it has mapped (data and index), resident or not.
    pub mapped_bytes: u64,
    /// Hit/miss counters, for caching strategies.
    pub cache: Option<CacheStats>,
    /// For `warming`: how long after opening the full map became ready.
    pub ready_after: Option<Duration>,
    /// Anything a user should know: index reused or rebuilt, fallbacks taken.
    pub notes: Vec<String>,
    /// Files the strategy reads with `read()` instead of mapping them (the
    /// `sqlite` and `redb` stores): their pages live in the page cache, where
    /// the process's resident memory does not show them, yet a lookup at the
    /// speed measured needs them there.
    pub read_files: Vec<std::path::PathBuf>,
    /// Files opening wrote (an index sidecar beside the data file), so a tool
    /// can tell the user a file appeared on their disk.
    pub wrote: Vec<std::path::PathBuf>,
    /// Resident memory of the server(s) a strategy asks (`redis`: the
    /// server's `used_memory_rss`; `redis-cluster`: summed over its nodes):
    /// memory the data takes that the asking process does not show.
    pub server_bytes: Option<u64>,
}

/// Counters of a caching strategy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries the cache may hold.
    pub capacity: u64,
    /// Entries it holds now.
    pub len: u64,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups passed to the backing strategy.
    pub misses: u64,
}

impl CacheStats {
    /// Hits over all lookups, or 0 before the first lookup.
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 { 0.0 } else { self.hits as f64 / total as f64 }
    }
}
