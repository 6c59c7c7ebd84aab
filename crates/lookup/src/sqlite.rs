//! `sqlite`: the records in a SQLite table (through `rusqlite`, SQLite
//! compiled in), `kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID`, so a lookup
//! is one B-tree search of the table itself.
//!
//! The store (`store.rs`) is loaded in key order in one transaction, with the
//! journal and syncs off (a torn build fails its stamp and is rebuilt).
//! Reading uses read-only connections with SQLite's defaults (its own page
//! cache of about 2 MB per connection, `read()` rather than mmap), one per
//! CPU, all opened with the store and pooled (a lookup waits for a free one),
//! with one prepared statement each. None is opened later by path: a reload
//! that rebuilds the store removes the old file while this one still serves. A batch takes
//! one connection and runs the statement for each key: SQLite has no
//! multi-get (an `IN (...)` list would return rows in key order, not the asked order).
//!
//! Its facts are here; the engine itself (`sqlite/engine.rs`) is built with the `sqlite` feature.

use crate::facts::{Facts, Open};

#[cfg(feature = "sqlite")]
const OPEN: Open =
    Open::With(|path, opts| Ok(Box::new(crate::store::EngineLookup::<engine::Sqlite>::open(path, opts)?)));
#[cfg(not(feature = "sqlite"))]
const OPEN: Open = Open::Without("sqlite");

/// What kvbench knows about `sqlite`.
pub(crate) const FACTS: Facts = crate::store::engine_facts("sqlite", 64, 2_500, None, OPEN);

#[cfg(feature = "sqlite")]
mod engine;
