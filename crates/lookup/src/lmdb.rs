//! `lmdb`: the records in an LMDB environment (through `heed`), a B+tree in
//! one memory-mapped file.
//!
//! The store (`store.rs`) is loaded in key order with `MDB_APPEND`, the bulk
//! load LMDB documents, in one write transaction. Reading opens it
//! `MDB_RDONLY | MDB_NOLOCK`: kvbench never writes a store again, so there are
//! no writers to coordinate with and no lock file is needed (LMDB's docs allow
//! `MDB_NOLOCK` when the caller guarantees that). LMDB was built with
//! `longer-keys`, as its default limit of 511 bytes is below kvbench's 1024.
//!
//! **Settings** ([`FACTS`]`.settings`, each with its source): read
//! transactions kept and reused instead of one begun per lookup (heed has no
//! `mdb_txn_reset`/`mdb_txn_renew`; with no writer ever, a transaction kept
//! open is the reuse LMDB's docs advise, without even the renew), and
//! `MDB_NORDAHEAD`. `lmdb(defaults)` begins a read transaction per lookup (a
//! batch: one for all its keys), as most LMDB users do, with readahead on.
//! Both open the environment `MDB_NOTLS` (heed's `read_txn_without_tls`), so
//! a transaction can pass between threads through the pool; it changes no read.
//!
//! Its facts are here; the engine itself (`lmdb/engine.rs`) is built with the `lmdb` feature.

use crate::facts::{Facts, Open, Setting};

#[cfg(feature = "lmdb")]
const OPEN: Open = Open::With(|path, opts| Ok(Box::new(crate::store::EngineLookup::<engine::Lmdb>::open(path, opts)?)));
#[cfg(not(feature = "lmdb"))]
const OPEN: Open = Open::Without("lmdb");

/// What kvbench knows about `lmdb`.
pub(crate) const FACTS: Facts = crate::store::engine_facts("lmdb", 64, 1_500, None, SETTINGS, OPEN);

/// How `lmdb` is opened beyond LMDB's defaults.
const SETTINGS: &[Setting] = &[
    Setting {
        name: "read transactions reused",
        why: "a lookup skips beginning and ending a transaction (a reader slot taken and given back); \
              a transaction kept open pins its snapshot, which costs nothing here since nothing ever writes the store",
        source: "http://www.lmdb.tech/doc/group__mdb.html (mdb_txn_reset, mdb_txn_renew: reuse saves allocation and locking)",
    },
    Setting {
        name: "MDB_NORDAHEAD",
        why: "no readahead around each page fault: for random reads of a store larger than memory, readahead \
              fills the memory with neighbouring pages nobody asked for; a cold start reads page by page",
        source: "http://www.lmdb.tech/doc/group__mdb.html (mdb_env_open, MDB_NORDAHEAD)",
    },
];

#[cfg(feature = "lmdb")]
mod engine;
