//! The engine of `redb` (its facts are in `redb.rs`).

use std::path::Path;

use ::redb::{ReadOnlyDatabase, ReadableDatabase, TableDefinition};

use crate::sidecar::Kind;
use crate::store::{Engine, Record};

/// The one table: key bytes to value bytes.
const TABLE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("kv");

/// A redb file, opened read-only.
pub struct Redb(ReadOnlyDatabase);

impl Redb {
    /// Runs `f` with the table in a fresh read transaction.
    fn with_table<T>(&self, f: impl FnOnce(&::redb::ReadOnlyTable<&[u8], &[u8]>) -> T) -> Result<T, String> {
        let txn = self.0.begin_read().map_err(|e| e.to_string())?;
        let table = txn.open_table(TABLE).map_err(|e| e.to_string())?;
        Ok(f(&table))
    }
}

fn value(table: &::redb::ReadOnlyTable<&[u8], &[u8]>, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
    Ok(table.get(key).map_err(|e| e.to_string())?.map(|guard| guard.value().to_vec()))
}

impl Engine for Redb {
    const NAME: &'static str = "redb";
    const KIND: Kind = Kind::Redb;
    const MAPS_FILE: bool = false;

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

    fn open(path: &Path) -> Result<Self, String> {
        ReadOnlyDatabase::open(path).map(Redb).map_err(|e| e.to_string())
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
