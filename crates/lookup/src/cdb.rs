//! `cdb`: the records in a constant database (D. J. Bernstein's format,
//! through `cdb2`): a hash table of hash tables in one file, written once and
//! then only read, which is exactly this workload.
//!
//! The store (`store.rs`) is written in key order with the first value of
//! each key. `cdb2` maps the file and copies each value out (its only read
//! API, which copies the key as well; no maintained Rust cdb reader lends the
//! value from the map); it has no batch API and no settings, so there is no
//! `cdb(defaults)`. The format's offsets are 32 bits, so a store over 4 GiB is refused
//! with a clear error (about 60M keys of this size).
//!
//! Its facts are here; the engine itself (`cdb/engine.rs`) is built with the `cdb` feature.

use crate::facts::{Facts, Open};

#[cfg(feature = "cdb")]
const OPEN: Open = Open::With(|path, opts| Ok(Box::new(crate::store::EngineLookup::<engine::Cdb>::open(path, opts)?)));
#[cfg(not(feature = "cdb"))]
const OPEN: Open = Open::Without("cdb");

/// What kvbench knows about `cdb`: its format's 32-bit offsets refuse a store of 4 GiB or more.
pub(crate) const FACTS: Facts = crate::store::engine_facts("cdb", 64, 1_500, Some(1 << 32), &[], OPEN);

#[cfg(feature = "cdb")]
mod engine;
