//! `lmdb`: the records in an LMDB environment (through `heed`), a B+tree in
//! one memory-mapped file.
//!
//! The store (`store.rs`) is loaded in key order with `MDB_APPEND`, the bulk
//! load LMDB documents, in one write transaction. Reading opens it
//! `MDB_RDONLY | MDB_NOLOCK`: kvbench never writes a store again, so there are
//! no writers to coordinate with and no lock file is needed (LMDB's docs allow
//! `MDB_NOLOCK` when the caller guarantees that). A lookup takes a read
//! transaction of its own, as most LMDB users do; a batch takes one for all
//! its keys. LMDB was built with `longer-keys`, as its default limit of 511
//! bytes is below kvbench's 1024.
//!
//! Its facts are here; the engine itself (`lmdb/engine.rs`) is built with the `lmdb` feature.

use crate::facts::{Facts, Open};

#[cfg(feature = "lmdb")]
const OPEN: Open = Open::With(|path, opts| Ok(Box::new(crate::store::EngineLookup::<engine::Lmdb>::open(path, opts)?)));
#[cfg(not(feature = "lmdb"))]
const OPEN: Open = Open::Without("lmdb");

/// What kvbench knows about `lmdb`.
pub(crate) const FACTS: Facts = crate::store::engine_facts("lmdb", 64, 1_500, None, OPEN);

#[cfg(feature = "lmdb")]
mod engine;
