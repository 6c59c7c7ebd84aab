//! The engine of `sqlite` (its facts are in `sqlite.rs`).

use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::sidecar::Kind;
use crate::store::{Engine, Record};

const SELECT: &str = "SELECT v FROM kv WHERE k = ?1";

/// A pool of read-only connections to a store file.
pub struct Sqlite {
    pool: Mutex<Vec<Connection>>,
    /// Signalled when a connection goes back to the pool.
    returned: Condvar,
}

fn connect(path: &Path) -> Result<Connection, String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let con = Connection::open_with_flags(path, flags).map_err(|e| e.to_string())?;
    con.prepare_cached(SELECT).map_err(|e| e.to_string())?;
    Ok(con)
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
    const MAPS_FILE: bool = false;

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

    fn open(path: &Path) -> Result<Self, String> {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = (0..cpus).map(|_| connect(path)).collect::<Result<Vec<_>, _>>()?;
        Ok(Sqlite { pool: Mutex::new(pool), returned: Condvar::new() })
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
