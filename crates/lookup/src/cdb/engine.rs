//! The engine of `cdb` (its facts are in `cdb.rs`).

use std::path::Path;

use cdb2::{CDB, CDBMake};

use crate::sidecar::Kind;
use crate::store::{Engine, Record, Tuning};

/// A cdb file, mapped.
pub struct Cdb(CDB);

impl Engine for Cdb {
    const NAME: &'static str = "cdb";
    const KIND: Kind = Kind::Cdb;

    fn build(path: &Path, records: &[Record<'_>]) -> Result<(), String> {
        let load = || -> std::io::Result<()> {
            let mut cdb = CDBMake::new(std::fs::File::create(path)?)?;
            for record in records {
                cdb.add(record.key, record.value)?;
            }
            cdb.finish()
        };
        load().map_err(|e| format!("{e} (a cdb file holds at most 4 GiB)"))
    }

    /// cdb has no settings: tuned and defaults are the same open.
    fn open(path: &Path, _tuning: Tuning, _memory_limit: Option<u64>) -> Result<Self, String> {
        CDB::open(path).map(Cdb).map_err(|e| e.to_string())
    }

    fn maps_file(&self) -> bool {
        true
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        self.0.get(key).transpose().map_err(|e| e.to_string())
    }
}
