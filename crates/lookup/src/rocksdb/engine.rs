//! The engine of `rocksdb` (its facts, and why each setting, are in `rocksdb.rs`).

use std::path::{Path, PathBuf};

use ::rocksdb::{
    BlockBasedOptions, DB, DBCompressionType, DataBlockIndexType, IngestExternalFileOptions, Options, SstFileWriter,
};

use crate::sidecar::Kind;
use crate::store::{Engine, Record, Tuning};

/// A RocksDB database, opened read-only.
pub struct Rocksdb {
    db: DB,
    tuning: Tuning,
    /// Whether the block cache holds the whole store, so that reading it
    /// once fills the cache as serving would.
    cache_holds_store: bool,
}

/// The table format every store is written with (see `rocksdb.rs`): what
/// `optimize_for_point_lookup` asks of a block-based table, LZ4 blocks.
fn table_options() -> Options {
    let mut opts = Options::default();
    let mut table = BlockBasedOptions::default();
    table.set_bloom_filter(10.0, false);
    table.set_data_block_index_type(DataBlockIndexType::BinaryAndHash);
    table.set_data_block_hash_ratio(0.75);
    opts.set_block_based_table_factory(&table);
    opts.set_compression_type(DBCompressionType::Lz4);
    opts
}

/// The memory this process may use: its limit, or the machine's memory.
fn memory(limit: Option<u64>) -> u64 {
    limit.or_else(|| crate::meminfo_bytes("MemTotal")).unwrap_or(1 << 30)
}

/// The one table file of a store directory.
fn table_file(store: &Path) -> Result<PathBuf, String> {
    let tables: Vec<PathBuf> = std::fs::read_dir(store)
        .map_err(|e| format!("cannot list {}: {e}", store.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "sst"))
        .collect();
    match tables.as_slice() {
        [table] => Ok(table.clone()),
        _ => Err(format!("{} holds {} table files, not the one kvbench writes", store.display(), tables.len())),
    }
}

impl Engine for Rocksdb {
    const NAME: &'static str = "rocksdb";
    const KIND: Kind = Kind::Rocksdb;

    fn build(path: &Path, records: &[Record<'_>]) -> Result<(), String> {
        let err = |e: ::rocksdb::Error| e.to_string();
        let opts = table_options();
        let table = path.with_extension("sst-building");
        let mut writer = SstFileWriter::create(&opts);
        writer.open(&table).map_err(err)?;
        if records.is_empty() {
            // A table file cannot be empty: an empty data file's holds the empty key, which no lookup asks for.
            writer.put(b"", b"").map_err(err)?;
        }
        for record in records {
            writer.put(record.key, record.value).map_err(err)?;
        }
        writer.finish().map_err(err)?;
        let mut create = table_options();
        create.create_if_missing(true);
        let db = DB::open(&create, path).map_err(err)?;
        let mut ingest = IngestExternalFileOptions::default();
        ingest.set_move_files(true);
        db.ingest_external_file_opts(&ingest, vec![&table]).map_err(err)?;
        drop(db);
        match std::fs::remove_file(&table) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
            _ => Ok(()),
        }
    }

    fn stamped(store: &Path) -> Result<PathBuf, String> {
        table_file(store)
    }

    fn open(path: &Path, tuning: Tuning, memory_limit: Option<u64>) -> Result<Self, String> {
        let (opts, cache_holds_store) = match tuning {
            Tuning::Defaults => (Options::default(), false),
            Tuning::Tuned => {
                let store = table_file(path).and_then(|t| std::fs::metadata(t).map_err(|e| e.to_string()))?.len();
                let wanted = store + store / 8 + (8 << 20);
                let cache = wanted.min(memory(memory_limit) / super::CACHE_SHARE);
                let mut opts = Options::default();
                opts.optimize_for_point_lookup(cache.div_ceil(1 << 20));
                (opts, cache >= wanted)
            }
        };
        let db = DB::open_for_read_only(&opts, path, false).map_err(|e| e.to_string())?;
        Ok(Rocksdb { db, tuning, cache_holds_store })
    }

    fn maps_file(&self) -> bool {
        false
    }

    /// Reads every entry once when the block cache holds the whole store
    /// (tuned), which fills it as serving a while would; a smaller cache is
    /// left to the lookups, as reading the store through it would only churn it.
    fn warm(&self, _store: &Path) {
        if self.cache_holds_store {
            let mut entries = self.db.raw_iterator();
            entries.seek_to_first();
            while entries.valid() {
                std::hint::black_box(entries.value());
                entries.next();
            }
        }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        match self.tuning {
            Tuning::Tuned => self.db.get_pinned(key).map(|v| v.map(|v| v.to_vec())),
            Tuning::Defaults => self.db.get(key),
        }
        .map_err(|e| e.to_string())
    }

    fn get_many(&self, keys: &[&[u8]], push: &mut dyn FnMut(Result<Option<Vec<u8>>, String>)) {
        let default = self.db.cf_handle(::rocksdb::DEFAULT_COLUMN_FAMILY_NAME);
        match (self.tuning, default) {
            (Tuning::Tuned, Some(cf)) => {
                for answer in self.db.batched_multi_get_cf(cf, keys, false) {
                    push(answer.map(|v| v.map(|v| v.to_vec())).map_err(|e| e.to_string()));
                }
            }
            _ => keys.iter().for_each(|key| push(self.get(key))),
        }
    }
}
