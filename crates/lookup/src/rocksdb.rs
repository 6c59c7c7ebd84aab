//! `rocksdb`: the records in a RocksDB database (through `rust-rocksdb`), a
//! log-structured merge tree whose data here is one sorted table file.
//!
//! The store (`store.rs`) is a RocksDB directory loaded the way RocksDB
//! documents for bulk loads (<https://github.com/facebook/rocksdb/wiki/Creating-and-Ingesting-SST-files>):
//! one table file written in key order by an `SstFileWriter`, then ingested
//! into an empty database, which places it in the last level without
//! rewriting it. The table is written with the format
//! RocksDB's point-lookup tuning asks for (a bloom filter of 10 bits a key, a
//! hash index inside each data block) and LZ4-compressed blocks, as RocksDB's
//! basic tuning advises (Setup-Options-and-Basic-Tuning: LZ4 where no ZSTD;
//! the only compression this build compiles in). A warm lookup never
//! decompresses: the block cache holds blocks uncompressed. Both variants open it read-only
//! (`DB::open_for_read_only`): kvbench never writes a store again, and a
//! read-only open takes no lock and replays no log.
//!
//! **Settings** ([`FACTS`]`.settings`, each with its source): the block
//! cache and filter use of `optimize_for_point_lookup`, the cache sized to
//! hold the store but never more than a third of the memory the process may
//! use, pinned reads and batched `MultiGet`. `rocksdb(defaults)` reads the
//! same table with RocksDB's default options (a 32 MiB block cache, no filter
//! policy, so the filter in the file goes unread), one `Get` a key.
//!
//! RocksDB is C++ that takes minutes to compile, so the engine
//! (`rocksdb/engine.rs`) is built only with the `rocksdb` feature, off by
//! default; without it the strategy is known and says which feature it needs.

use crate::facts::{Facts, Memory, Open, Setting};

#[cfg(feature = "rocksdb")]
const OPEN: Open =
    Open::With(|path, opts| Ok(Box::new(crate::store::EngineLookup::<engine::Rocksdb>::open(path, opts)?)));
#[cfg(not(feature = "rocksdb"))]
const OPEN: Open = Open::Without("rocksdb");

/// What kvbench knows about `rocksdb`: its block cache is heap memory, but
/// sized to a share of what the process may use ([`Memory::ShareOfLimit`]).
pub(crate) const FACTS: Facts = Facts {
    memory: Memory::ShareOfLimit(CACHE_SHARE),
    ..crate::store::engine_facts("rocksdb", 64, 1_500, None, SETTINGS, OPEN)
};

/// The block cache holds at most 1/`CACHE_SHARE` of the memory the process may use.
pub(crate) const CACHE_SHARE: u64 = 3;

/// How `rocksdb` is opened beyond RocksDB's defaults.
const SETTINGS: &[Setting] = &[
    Setting {
        name: "optimize_for_point_lookup",
        why: "reads use the table's bloom filter (10 bits a key: a miss rarely reads a data block) and the hash \
              index inside each block (a hit finds its entry without a binary search); both are written into the \
              table when it is built, for either variant",
        source: "RocksDB 11.8 include/rocksdb/options.h (ColumnFamilyOptions::OptimizeForPointLookup: \
                 \"only Put() and Get()\"); https://github.com/facebook/rocksdb/wiki/RocksDB-Bloom-Filter",
    },
    Setting {
        name: "block cache the size of the store, at most a third of memory",
        why: "every block read once stays cached uncompressed (the default 32 MiB holds a sliver of a store of \
              1M keys); RocksDB advises a third of the memory budget, leaving the rest to the page cache; the \
              cost is heap memory up to the store's size",
        source: "https://github.com/facebook/rocksdb/wiki/Setup-Options-and-Basic-Tuning (Block Cache Size)",
    },
    Setting {
        name: "pinned reads, batched MultiGet",
        why: "a lookup copies its value once out of the cached block instead of into a string first; a batch is \
              one MultiGet, which looks up its keys' blocks together",
        source: "https://github.com/facebook/rocksdb/wiki/MultiGet-Performance",
    },
];

#[cfg(feature = "rocksdb")]
mod engine;
