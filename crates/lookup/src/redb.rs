//! `redb`: the records in a redb table, a copy-on-write B-tree in pure Rust.
//!
//! The store (`store.rs`) is loaded in key order in one write transaction.
//! Reading opens it as a `ReadOnlyDatabase`; redb reads the file with
//! `pread` into a cache of its own on the heap (no map).
//!
//! **Settings** ([`FACTS`]`.settings`, each with its source): a cache that
//! holds the whole store, filled by reading every entry before lookups are
//! timed (`Lookup::populate`), and one read transaction with the table opened
//! once and kept. `redb(defaults)` has redb's default cache (1 GiB), filled
//! by the lookups themselves, and takes a read transaction and opens the
//! table per lookup (a batch: one of each for all its keys), as redb's
//! examples do.
//!
//! Its facts are here; the engine itself (`redb/engine.rs`) is built with the `redb` feature.

use crate::facts::{Facts, Memory, Open, Setting};

#[cfg(feature = "redb")]
const OPEN: Open = Open::With(|path, opts| Ok(Box::new(crate::store::EngineLookup::<engine::Redb>::open(path, opts)?)));
#[cfg(not(feature = "redb"))]
const OPEN: Open = Open::Without("redb");

/// What kvbench knows about `redb`: its build peaks higher than the other
/// engines', as redb holds a write transaction's dirty pages in memory; once
/// warm, its cache holds the store on the heap (75 MiB at 1M keys, a
/// 65 MiB file: the file and 16 B a key, rounded up).
pub(crate) const FACTS: Facts =
    Facts { memory: Memory::FileCopy(16), ..crate::store::engine_facts("redb", 160, 2_500, None, SETTINGS, OPEN) };

/// How `redb` is opened beyond redb's defaults.
const SETTINGS: &[Setting] = &[
    Setting {
        name: "cache the size of the store",
        why: "every page read once stays in redb's cache (its default of 1 GiB holds less than a store of 10M keys); \
              the cost is heap memory up to the store's size, beside the page cache's copy of the file",
        source: "https://docs.rs/redb/4.6.0/redb/struct.Builder.html#method.set_cache_size",
    },
    Setting {
        name: "read transaction and table kept open",
        why: "a lookup skips beginning a transaction and opening the table (redb's docs do not advise it, but a \
              table holds its transaction's guard and serves on its own); a read-only database has no writer whose \
              pages a long-lived transaction would keep from being freed",
        source: "https://docs.rs/redb/4.6.0/redb/struct.ReadOnlyTable.html",
    },
];

#[cfg(feature = "redb")]
mod engine;
