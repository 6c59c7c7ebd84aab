//! The engine of `sqlite` (its facts are in `sqlite.rs`).

use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::sidecar::Kind;
use crate::store::{Engine, Record, Tuning};

const SELECT: &str = "SELECT v FROM kv WHERE k = ?1";

/// A pool of read-only connections to a store file.
pub struct Sqlite {
    pool: Mutex<Vec<Connection>>,
    tuning: Tuning,
    /// Signalled when a connection goes back to the pool.
    returned: Condvar,
}

/// Opens a read-only connection to the store file at `path`, tuned as
/// `sqlite.rs` lists (immutable, mapped) or on SQLite's defaults.
fn connect(path: &Path, tuning: Tuning) -> Result<Connection, String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let con = match tuning {
        Tuning::Defaults => Connection::open_with_flags(path, flags),
        Tuning::Tuned => {
            let uri = format!("file:{}?immutable=1", uri_path(path)?);
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
        }
    }
    .map_err(|e| e.to_string())?;
    if tuning == Tuning::Tuned {
        let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
        // SQLite caps it at SQLITE_MAX_MMAP_SIZE (2 GiB here) and reads the rest of a larger file.
        con.execute_batch(&format!("PRAGMA mmap_size = {len}")).map_err(|e| e.to_string())?;
    }
    con.prepare_cached(SELECT).map_err(|e| e.to_string())?;
    Ok(con)
}

/// `path` as the path of a `file:` URI: absolute, each byte outside the
/// unreserved set and `/` percent-encoded (RFC 3986), as SQLite decodes it.
fn uri_path(path: &Path) -> Result<String, String> {
    let path = path.canonicalize().map_err(|e| e.to_string())?;
    let mut out = String::new();
    for &b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(out)
}

fn lookup(con: &Connection, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut select = con.prepare_cached(SELECT).map_err(|e| e.to_string())?;
    select.query_row([key], |row| row.get(0)).optional().map_err(|e| e.to_string())
}

impl Sqlite {
    /// Runs `f` on a pooled connection, waiting for one to be free.
    fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> Result<T, String>) -> Result<T, String> {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        let con = loop {
            match pool.pop() {
                Some(con) => break con,
                None => pool = self.returned.wait(pool).unwrap_or_else(PoisonError::into_inner),
            }
        };
        drop(pool);
        let result = f(&con);
        self.pool.lock().unwrap_or_else(PoisonError::into_inner).push(con);
        self.returned.notify_one();
        result
    }
}

impl Engine for Sqlite {
    const NAME: &'static str = "sqlite";
    const KIND: Kind = Kind::Sqlite;

    fn build(path: &Path, records: &[Record<'_>]) -> Result<(), String> {
        let load = || -> rusqlite::Result<()> {
            let mut con = Connection::open(path)?;
            con.execute_batch(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
                 CREATE TABLE kv (k BLOB PRIMARY KEY NOT NULL, v BLOB NOT NULL) WITHOUT ROWID;",
            )?;
            let tx = con.transaction()?;
            {
                let mut insert = tx.prepare("INSERT INTO kv (k, v) VALUES (?1, ?2)")?;
                for record in records {
                    insert.execute((record.key, record.value))?;
                }
            }
            tx.commit()
        };
        load().map_err(|e| e.to_string())
    }

    fn open(path: &Path, tuning: Tuning, _memory_limit: Option<u64>) -> Result<Self, String> {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = (0..cpus).map(|_| connect(path, tuning)).collect::<Result<Vec<_>, _>>()?;
        Ok(Sqlite { pool: Mutex::new(pool), tuning, returned: Condvar::new() })
    }

    fn maps_file(&self) -> bool {
        self.tuning == Tuning::Tuned
    }

    /// Reads every page of the table through the connection lookups take
    /// first: each connection maps the file for itself, so mapping in every
    /// map (the default) would charge the file once per connection to a
    /// process whose lookups use one.
    fn warm(&self, _store: &Path) {
        if self.maps_file() {
            let _ = self.with_connection(|con| {
                con.query_row("SELECT sum(length(k) + length(v)) FROM kv", [], |row| row.get::<_, Option<i64>>(0))
                    .map_err(|e| e.to_string())
            });
        }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        self.with_connection(|con| lookup(con, key))
    }

    fn get_many(&self, keys: &[&[u8]], push: &mut dyn FnMut(Result<Option<Vec<u8>>, String>)) {
        let ran = self.with_connection(|con| {
            for key in keys {
                push(lookup(con, key));
            }
            Ok(())
        });
        if let Err(e) = ran {
            keys.iter().for_each(|_| push(Err(e.clone())));
        }
    }
}
