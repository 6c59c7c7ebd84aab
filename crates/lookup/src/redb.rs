//! `redb`: the records in a redb table, a copy-on-write B-tree in pure Rust.
//!
//! The store (`store.rs`) is loaded in key order in one write transaction.
//! Reading opens it as a `ReadOnlyDatabase` with redb's default cache (up to
//! 1 GiB, on the heap; it reads the file with `pread`, no map). A lookup takes
//! a read transaction and opens the table, as redb's docs do; a batch takes
//! one of each for all its keys.
//!
//! Its facts are here; the engine itself (`redb/engine.rs`) is built with the `redb` feature.

use crate::facts::{Facts, Open};

#[cfg(feature = "redb")]
const OPEN: Open = Open::With(|path, opts| Ok(Box::new(crate::store::EngineLookup::<engine::Redb>::open(path, opts)?)));
#[cfg(not(feature = "redb"))]
const OPEN: Open = Open::Without("redb");

/// What kvbench knows about `redb`: its build peaks higher than the other
/// engines', as redb holds a write transaction's dirty pages in memory.
pub(crate) const FACTS: Facts = crate::store::engine_facts("redb", 160, 2_500, None, OPEN);

#[cfg(feature = "redb")]
mod engine;
