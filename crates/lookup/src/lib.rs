//! Lookup strategies over a text file of `<key> <value>` lines.
//!
//! Every strategy implements one trait, [`Lookup`], and gives the same answer
//! for the same file: the value of the *first* line whose key matches, or
//! `None`. They differ only in what they cost (start-up, memory, latency),
//! which is what kvbench measures.
//!
//! | type (file) | strategy | idea |
//! |---|---|---|
//! | [`ScanLines`] (`scan_lines.rs`) | `scan-lines` | naive `for line in file` (a baseline) |
//! | [`Scan`] (`scan.rs`) | `scan` | memmem over the mmapped file |
//! | [`HashMapLookup`] (`hashmap.rs`) | `hashmap` | every record in a packed ahash table |
//! | [`MmapIndex`] (`mmap_index.rs`) | `mmap-index` | sorted hash index in a sidecar file, binary-searched |
//! | [`PhfIndex`] (`phf_index.rs`) | `phf-index` | a minimal perfect hash (PtrHash) to a slot of offset and fingerprint, in a sidecar |
//! | [`Lru`] (`lru.rs`) | `lru` | an LRU of a fraction of the keys in front of another strategy |
//! | [`Warming`] (`warming.rs`) | `warming` | a hashmap built in the background, scanning until ready |
//! | [`FstIndex`] (`fst_index.rs`) | `fst` | a finite-state transducer from keys to offsets, in a sidecar |
//! | `EngineLookup` over `Lmdb` (`lmdb.rs`) | `lmdb` | the records in LMDB (heed), a B+tree in a mapped file (feature `lmdb`) |
//! | `EngineLookup` over `Sqlite` (`sqlite.rs`) | `sqlite` | the records in a SQLite `WITHOUT ROWID` table (feature `sqlite`) |
//! | `EngineLookup` over `Cdb` (`cdb.rs`) | `cdb` | the records in a constant database, cdb2 (feature `cdb`) |
//! | `EngineLookup` over `Redb` (`redb.rs`) | `redb` | the records in a redb B-tree (feature `redb`) |
//! | `redis::RedisLookup` (`redis.rs`) | `redis` | the records loaded into a real Redis server, one `GET` per lookup (feature `redis`) |
//! | `redis_cluster::RedisClusterLookup` (`redis_cluster.rs`) | `redis-cluster` | the records spread over a Redis Cluster's primaries, one `GET` per lookup to the key's node (feature `redis`) |
//!
//! The engines share `store.rs`: the store beside the data, its stamp, its
//! checks and its rebuilds; the two Redis strategies share `redis_load.rs`
//! (the load, its marker, the connection pool). Each strategy's file also declares its [`Facts`]
//! (`facts.rs`): its family, store, memory model, warm-up and default cases, which the
//! registry and the harness read. [`open`] opens any strategy by [`Strategy`] (`registry.rs`); `format.rs`
//! defines the file format ([`split_line`], [`check_key`]); [`Reference`] is
//! the obviously-correct model the tests compare to; [`DataFile`] maps a data
//! file; [`profile()`] measures what a file holds (records, duplicates, key
//! and value lengths, a fingerprint). Inside, `guard.rs` keeps a mapped file that is truncated under a
//! strategy from killing the process or answering with zeros, and
//! `prefetch.rs` asks the CPU for memory a batch will read ([`Lookup::get_many`]);
//! [`meminfo_bytes`] reads the machine's memory (an engine's cache is sized from it).

// Bytes from files and clients must never panic the process: no unwrap,
// expect or unchecked indexing outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

// The strategies, one file each (with its facts); their types are re-exported
// below. A strategy behind a feature keeps its facts in its file and its code
// in a submodule built with the feature, so the registry knows every strategy
// in every build.
mod cdb;
mod fst_index;
mod hashmap;
mod lmdb;
mod lru;
mod mmap_index;
mod phf_index;
mod redb;
pub mod redis;
pub mod redis_cluster;
#[cfg(feature = "redis")]
mod redis_load;
mod rocksdb;
mod scan;
mod scan_lines;
mod sqlite;
mod warming;

// Internals shared by the strategies.
mod error;
mod facts;
mod format;
mod guard;
mod info;
mod meminfo;
#[cfg_attr(not(any(feature = "redis", feature = "lmdb")), allow(dead_code))]
mod pool;
mod prefetch;
mod profile;
mod reference;
mod registry;
mod sidecar;
mod source;
mod store;
mod value;

pub use error::{KeyFault, LineFault, LookupError, OpenError};
pub use facts::{Facts, Family, Memory, Open, Opener, Place, Setting, Start, Store, WarmUp};
pub use format::{MAX_KEY_LEN, check_key, split_line};
pub use fst_index::{FstIndex, default_fst_path};
pub use hashmap::HashMapLookup;
pub use info::{CacheStats, StrategyInfo};
pub use lru::Lru;
pub use meminfo::meminfo_bytes;
pub use mmap_index::{MmapIndex, default_sidecar_path};
pub use phf_index::{PhfIndex, default_phf_path};
pub use profile::{FileProfile, Lengths, profile};
pub use reference::Reference;
pub use registry::{Strategies, Strategy, StrategyKind, open};
pub use scan::Scan;
pub use scan_lines::ScanLines;
pub use source::DataFile;
pub use store::{index_bytes, index_files, remove_index};
pub use value::Value;
pub use warming::{WarmStart, Warming};

/// A memory map that survives its file being truncated (see `guard.rs`).
/// Public only for the truncation tests, which need processes of their own.
#[doc(hidden)]
pub use guard::GuardedMap;

/// Answers "what is the value for this key?" from one data file.
///
/// One instance is shared by every thread of a server, hence `Send + Sync`.
pub trait Lookup: Send + Sync {
    /// The value of the first record whose key is `key`, or `None` if absent.
    ///
    /// An invalid key (empty, too long, or containing a separator or newline)
    /// is an error, not `None`, so a server can answer it with `400`.
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError>;

    /// The answers for several keys at once: `out` is cleared, then holds one
    /// answer per key, in order, each exactly what [`Lookup::get`] gives.
    ///
    /// Asked one at a time, a lookup's memory reads wait on each other (hash,
    /// then table, then data). A strategy that overrides this takes a batch
    /// through each step together (hash every key, prefetch every slot, then
    /// every data line, then confirm), so the waits of the batch overlap; the
    /// default asks [`Lookup::get`] for each key in turn. `out` is the
    /// caller's, so a loop of batches allocates nothing once it is large enough.
    fn get_many<'s>(&'s self, keys: &[&[u8]], out: &mut Vec<Result<Option<Value<'s>>, LookupError>>) {
        out.clear();
        out.extend(keys.iter().map(|key| self.get(key)));
    }

    /// Errs with [`LookupError::DataChanged`] if the file under a mapped
    /// strategy shrank or its end changed since it was opened.
    ///
    /// `get` checks the reads it made itself; a [`Value::Borrowed`] is read
    /// again when the caller copies it, so a caller that must never pass on
    /// bytes from a truncated file copies the value, then calls this.
    fn check_data(&self) -> Result<(), LookupError> {
        Ok(())
    }

    /// What this strategy holds and has done: entries, memory, cache counters.
    fn info(&self) -> StrategyInfo;

    /// Maps in every page of the files this strategy keeps mapped (a hint:
    /// nothing changes if the kernel declines).
    ///
    /// A fresh map has no page-table entries, so after an open the first
    /// touch of each 4 KiB page is a page fault (~0.5 µs), and a prefetch of
    /// an unmapped page is dropped: a 650 MB file takes ~166K faults before
    /// its lookups run at their steady speed. A server that has been up for
    /// a while has paid them; a benchmark of warm lookups pays them here,
    /// before the clock starts. The default does nothing: no mapped files.
    fn populate(&self) {}
}

impl<L: Lookup + ?Sized> Lookup for Box<L> {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        (**self).get(key)
    }
    fn get_many<'s>(&'s self, keys: &[&[u8]], out: &mut Vec<Result<Option<Value<'s>>, LookupError>>) {
        (**self).get_many(keys, out)
    }
    fn check_data(&self) -> Result<(), LookupError> {
        (**self).check_data()
    }
    fn info(&self) -> StrategyInfo {
        (**self).info()
    }
    fn populate(&self) {
        (**self).populate()
    }
}

/// How a strategy treats the data file when it opens it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenOptions {
    /// Skip malformed lines (and count them) instead of failing on the first one.
    pub lenient: bool,
    /// Where `mmap-index` or `phf-index` keeps its sidecar; default
    /// `<data file>.kvidx` or `<data file>.kvphf`.
    pub index_path: Option<std::path::PathBuf>,
    /// Hash the whole data file when reusing an index sidecar (slower, stricter).
    pub verify_index_fully: bool,
    /// The Redis db the `redis` strategy loads and reads, e.g. `redis://host:6379/2`;
    /// default [`DEFAULT_REDIS_URL`].
    pub redis_url: Option<String>,
    /// Seed node URLs of the Redis Cluster the `redis-cluster` strategy loads
    /// and reads, e.g. `redis://127.0.0.1:7000`; no default (it must be given).
    pub redis_cluster: Option<Vec<String>>,
    /// Load a server's db anew even when it holds this file already: a
    /// store in a server is not a file the suite can delete before timing
    /// its build ([`Place::Server`]).
    #[serde(default)]
    pub reload: bool,
    /// Open an engine on its maintainers' defaults instead of the settings
    /// its facts list ([`Facts::settings`]); set by [`Strategy::Defaults`].
    #[serde(default)]
    pub engine_defaults: bool,
    /// The memory this process may use when it is limited (a cgroup limit the
    /// harness put it under), for an engine that sizes its cache to what
    /// there is (`rocksdb`); `None`: the machine's memory.
    #[serde(default)]
    pub memory_limit: Option<u64>,
}

/// The Redis db used when [`OpenOptions::redis_url`] is `None`.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379/";

impl OpenOptions {
    /// The Redis URL to use: [`OpenOptions::redis_url`] or [`DEFAULT_REDIS_URL`].
    pub fn redis_url(&self) -> &str {
        self.redis_url.as_deref().unwrap_or(DEFAULT_REDIS_URL)
    }
}
