//! `sqlite`: the records in a SQLite table (through `rusqlite`, SQLite
//! compiled in), `kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID`, so a lookup
//! is one B-tree search of the table itself.
//!
//! The store (`store.rs`) is loaded in key order in one transaction, with the
//! journal and syncs off (a torn build fails its stamp and is rebuilt).
//! Reading uses read-only connections, one per CPU, all opened with the
//! store and pooled (a lookup waits for a free one), each with its prepared
//! statement reused. None is opened later by path: a reload that rebuilds the
//! store removes the old file while this one still serves. A batch takes one
//! connection and runs the statement for each key: SQLite has no multi-get
//! (an `IN (...)` list would return rows in key order, not the asked order).
//!
//! **Settings** ([`FACTS`]`.settings`, each with its source): the file opened
//! `immutable=1` and mapped whole (`PRAGMA mmap_size`), its pages mapped in
//! through the connection lookups take first (`Lookup::populate`).
//! `sqlite(defaults)` reads pages with `pread` into SQLite's page cache of
//! about 2 MB per connection and checks the file's lock on every read transaction.
//!
//! Its facts are here; the engine itself (`sqlite/engine.rs`) is built with the `sqlite` feature.

use crate::facts::{Facts, Open, Setting};

#[cfg(feature = "sqlite")]
const OPEN: Open =
    Open::With(|path, opts| Ok(Box::new(crate::store::EngineLookup::<engine::Sqlite>::open(path, opts)?)));
#[cfg(not(feature = "sqlite"))]
const OPEN: Open = Open::Without("sqlite");

/// What kvbench knows about `sqlite`.
pub(crate) const FACTS: Facts = crate::store::engine_facts("sqlite", 64, 2_500, None, SETTINGS, OPEN);

/// How `sqlite` is opened beyond SQLite's defaults.
const SETTINGS: &[Setting] = &[
    Setting {
        name: "immutable=1",
        why: "no file lock taken and no check for changes on each read transaction; it trusts that nothing \
              writes the file (kvbench never writes a stamped store: a rebuild is a new file renamed into place)",
        source: "https://www.sqlite.org/uri.html#uriimmutable",
    },
    Setting {
        name: "PRAGMA mmap_size = the store's size",
        why: "pages read in place from a map of the file instead of copied into SQLite's page cache by a read() \
              each; each connection maps the file for itself (resident pages count once per map), an I/O error \
              becomes a signal, and the bundled SQLite maps at most 2 GiB (SQLITE_MAX_MMAP_SIZE), reading the rest",
        source: "https://www.sqlite.org/mmap.html",
    },
];

#[cfg(feature = "sqlite")]
mod engine;
