//! The engine of `redb` (its facts are in `redb.rs`).

use std::path::Path;

use ::redb::{ReadOnlyDatabase, ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition};

use crate::sidecar::Kind;
use crate::store::{Engine, Record, Tuning};

/// The one table: key bytes to value bytes.
const TABLE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("kv");

/// A redb file, opened read-only.
pub struct Redb {
    db: ReadOnlyDatabase,
    /// Tuned: the table opened once in one read transaction and kept (see
    /// `redb.rs`); on the defaults, `None`: a transaction begun per lookup or batch.
    table: Option<ReadOnlyTable<&'static [u8], &'static [u8]>>,
}

/// Opens the table in a new read transaction of `db`.
fn open_table(db: &ReadOnlyDatabase) -> Result<ReadOnlyTable<&'static [u8], &'static [u8]>, String> {
    db.begin_read().map_err(|e| e.to_string())?.open_table(TABLE).map_err(|e| e.to_string())
}

impl Redb {
    /// Runs `f` with the table: the one kept open (tuned), or one opened in a
    /// fresh read transaction (the defaults).
    fn with_table<T>(&self, f: impl FnOnce(&ReadOnlyTable<&[u8], &[u8]>) -> T) -> Result<T, String> {
        match &self.table {
            Some(table) => Ok(f(table)),
            None => Ok(f(&open_table(&self.db)?)),
        }
    }
}

fn value(table: &::redb::ReadOnlyTable<&[u8], &[u8]>, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
    Ok(table.get(key).map_err(|e| e.to_string())?.map(|guard| guard.value().to_vec()))
}

impl Engine for Redb {
    const NAME: &'static str = "redb";
    const KIND: Kind = Kind::Redb;

    fn build(path: &Path, records: &[Record<'_>]) -> Result<(), String> {
        let db = ::redb::Database::create(path).map_err(|e| e.to_string())?;
        let txn = db.begin_write().map_err(|e| e.to_string())?;
        {
            let mut table = txn.open_table(TABLE).map_err(|e| e.to_string())?;
            for record in records {
                table.insert(record.key, record.value).map_err(|e| e.to_string())?;
            }
        }
        txn.commit().map_err(|e| e.to_string())
    }

    fn open(path: &Path, tuning: Tuning, _memory_limit: Option<u64>) -> Result<Self, String> {
        let db = match tuning {
            Tuning::Defaults => ReadOnlyDatabase::open(path),
            Tuning::Tuned => {
                let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
                ::redb::Builder::new().set_cache_size(cache_size(len)).open_read_only(path)
            }
        }
        .map_err(|e| e.to_string())?;
        let table = match tuning {
            Tuning::Tuned => Some(open_table(&db)?),
            Tuning::Defaults => None,
        };
        Ok(Redb { db, table })
    }

    fn maps_file(&self) -> bool {
        false
    }

    /// Reads every entry once (tuned), which fills redb's cache with the
    /// table's pages: what serving a while would have put there.
    fn warm(&self, _store: &Path) {
        if let Some(table) = &self.table
            && let Ok(entries) = table.iter()
        {
            entries.for_each(|entry| drop(std::hint::black_box(entry)));
        }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        self.with_table(|table| value(table, key))?
    }

    fn get_many(&self, keys: &[&[u8]], push: &mut dyn FnMut(Result<Option<Vec<u8>>, String>)) {
        let ran = self.with_table(|table| keys.iter().for_each(|key| push(value(table, key))));
        if let Err(e) = ran {
            keys.iter().for_each(|_| push(Err(e.clone())));
        }
    }
}

/// The cache that holds a store file of `len` bytes whole (redb's default is
/// 1 GiB, which a store of 10M keys outgrows), with room for its bookkeeping.
fn cache_size(len: u64) -> usize {
    usize::try_from(len + len / 8).unwrap_or(usize::MAX).max(1 << 20)
}
