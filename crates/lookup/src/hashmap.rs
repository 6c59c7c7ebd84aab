//! `hashmap`: every record in an in-memory hash table.
//!
//! Memory is packed: the file's bytes are read once into one arena, and the
//! table stores only the offset of each record's line (4 bytes when the file is
//! under 4 GiB, else 8), hashed with ahash. Keys and values are read back from
//! the arena, so there is no allocation per entry and the whole structure is
//! about the file size plus 5 to 9 bytes per bucket.
//!
//! The table is split into [`SHARDS`] shards by hash so that rayon can parse
//! the file in parallel chunks and then fill every shard in parallel, each in
//! file order (which keeps "first occurrence wins"). The file is read in
//! parallel too ([`read_all`]).

use std::path::Path;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use rayon::prelude::*;

use crate::error::{LookupError, OpenError};
use crate::facts::{Facts, Family, Memory, Open, Start, WarmUp};
use crate::format::{self, check_key, key_at, key_is_at, value_if_key_at};
use crate::info::StrategyInfo;
use crate::prefetch::{CHUNK, prefetch_record};
use crate::source::read_all;
use crate::{Lookup, OpenOptions, Value};

/// What kvbench knows about `hashmap`.
pub(crate) const FACTS: Facts = Facts {
    name: "hashmap",
    family: Family::Own,
    store: None,
    // The file in one arena, and a packed table of offsets and hashes over it:
    // 76 B/key at 10M keys of 68 B records, more while it grows (the per-chunk
    // lists of offsets the tables are filled from).
    memory: Memory::FileCopy(42),
    warm_up: WarmUp::None,
    memchr_floor: false,
    starts: &[Start::Warm],
    settings: &[],
    open: Open::With(|path, opts| Ok(Box::new(HashMapLookup::open(path, opts)?))),
};

/// Number of independently built shards (a power of two).
pub const SHARDS: usize = 16;

/// A line offset stored in the table: `u32` for files under 4 GiB, else `u64`.
trait Offset: Copy + Send + Sync + 'static {
    fn new(offset: usize) -> Self;
    fn get(self) -> usize;
}

impl Offset for u32 {
    fn new(offset: usize) -> Self {
        // Only chosen when the file is under 4 GiB (see `HashMapLookup::open`).
        offset as u32
    }
    fn get(self) -> usize {
        self as usize
    }
}

impl Offset for u64 {
    fn new(offset: usize) -> Self {
        offset as u64
    }
    fn get(self) -> usize {
        self as usize
    }
}

/// Splits a key's 64-bit hash into a shard number (low bits) and the 32 bits
/// the shard's table hashes by (high bits).
///
/// The build keeps `(hash32, offset)` pairs, 8 bytes per record for most
/// files, so that filling the tables never reads the arena (a cache miss per
/// record) except to compare keys whose hashes collide.
fn split_hash(hash: u64) -> (usize, u32) {
    ((hash as usize) & (SHARDS - 1), (hash >> 32) as u32)
}

/// The hash a shard's table sees: hashbrown takes the bucket from the low bits
/// and a 7-bit tag from the top bits, so both halves carry the 32 bits.
fn table_hash(hash32: u32) -> u64 {
    u64::from(hash32) << 32 | u64::from(hash32)
}

/// The shards, with offsets as narrow as the file allows.
enum Tables {
    Narrow(Vec<HashTable<u32>>),
    Wide(Vec<HashTable<u64>>),
}

/// All records of a file in a packed ahash table.
pub struct HashMapLookup {
    arena: Vec<u8>,
    tables: Tables,
    hasher: ahash::RandomState,
    records: u64,
    duplicates: u64,
    skipped: u64,
}

impl std::fmt::Debug for HashMapLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashMapLookup").field("records", &self.records).finish_non_exhaustive()
    }
}

impl HashMapLookup {
    /// Reads the file into memory and builds the table in parallel.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        Self::from_bytes(path, read_all(path)?, opts)
    }

    /// Builds the table over `arena`, the bytes of the file at `path` (which
    /// only names the file in error messages).
    pub fn from_bytes(path: &Path, arena: Vec<u8>, opts: &OpenOptions) -> Result<Self, OpenError> {
        let hasher = ahash::RandomState::new();
        let (tables, parsed, duplicates) = if u32::try_from(arena.len()).is_ok() {
            let (t, p, d) = build::<u32>(path, &arena, &hasher, opts.lenient)?;
            (Tables::Narrow(t), p, d)
        } else {
            let (t, p, d) = build::<u64>(path, &arena, &hasher, opts.lenient)?;
            (Tables::Wide(t), p, d)
        };
        Ok(HashMapLookup { arena, tables, hasher, records: parsed.0, duplicates, skipped: parsed.1 })
    }

    /// Distinct keys held.
    pub fn len(&self) -> u64 {
        self.records - self.duplicates
    }

    /// Whether the file had no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn table_bytes(&self) -> usize {
        match &self.tables {
            Tables::Narrow(t) => t.iter().map(HashTable::allocation_size).sum(),
            Tables::Wide(t) => t.iter().map(HashTable::allocation_size).sum(),
        }
    }
}

type Built<O> = (Vec<HashTable<O>>, (u64, u64), u64);

fn build<O: Offset>(
    path: &Path,
    arena: &[u8],
    hasher: &ahash::RandomState,
    lenient: bool,
) -> Result<Built<O>, OpenError> {
    // Pass 1 (parallel over chunks): hash every record into per-shard lists.
    let parsed = format::parse(
        path,
        arena,
        lenient,
        || vec![Vec::<(u32, O)>::new(); SHARDS],
        |shards, rec| {
            let (shard, hash32) = split_hash(hasher.hash_one(rec.key));
            if let Some(list) = shards.get_mut(shard) {
                list.push((hash32, O::new(rec.offset)));
            }
        },
    )?;
    // Pass 2 (parallel over shards): insert in file order; the first key wins.
    let chunks = &parsed.chunks;
    let built: Vec<(HashTable<O>, u64)> = (0..SHARDS)
        .into_par_iter()
        .map(|shard| {
            let lists = || chunks.iter().filter_map(move |c| c.get(shard));
            let mut table = HashTable::with_capacity(lists().map(Vec::len).sum());
            let mut duplicates = 0;
            for &(hash32, offset) in lists().flatten() {
                let eq = |o: &O| key_at(arena, o.get()) == key_at(arena, offset.get());
                let rehash = |o: &O| table_hash(split_hash(hasher.hash_one(key_at(arena, o.get()))).1);
                match table.entry(table_hash(hash32), eq, rehash) {
                    Entry::Occupied(_) => duplicates += 1,
                    Entry::Vacant(slot) => {
                        slot.insert(offset);
                    }
                }
            }
            (table, duplicates)
        })
        .collect();
    let duplicates = built.iter().map(|(_, d)| d).sum();
    let tables = built.into_iter().map(|(t, _)| t).collect();
    Ok((tables, (parsed.records, parsed.skipped), duplicates))
}

fn find<'a, O: Offset>(tables: &[HashTable<O>], arena: &'a [u8], hash: u64, key: &[u8]) -> Option<&'a [u8]> {
    let (shard, hash32) = split_hash(hash);
    let offset = tables.get(shard)?.find(table_hash(hash32), |o| key_is_at(arena, o.get(), key))?;
    value_if_key_at(arena, offset.get(), key)
}

/// [`Lookup::get_many`] over one kind of table, in chunks of [`CHUNK`] keys:
/// hash them all; find each one's first candidate in its table (the table
/// reads of the chunk overlap, as no find waits on another's key comparison)
/// and prefetch its line in the arena; then confirm each candidate, falling
/// back to a full [`find`] when the first candidate is another key.
fn get_many<'a, O: Offset>(
    lookup: &'a HashMapLookup,
    tables: &[HashTable<O>],
    keys: &[&[u8]],
    out: &mut Vec<Result<Option<Value<'a>>, LookupError>>,
) {
    let arena = lookup.arena.as_slice();
    for chunk in keys.chunks(CHUNK) {
        let mut hashes = [0u64; CHUNK];
        let mut candidates: [Option<O>; CHUNK] = [None; CHUNK];
        for (hash, key) in hashes.iter_mut().zip(chunk) {
            *hash = lookup.hasher.hash_one(key);
        }
        for ((candidate, &hash), key) in candidates.iter_mut().zip(&hashes).zip(chunk) {
            let (shard, hash32) = split_hash(hash);
            *candidate = tables.get(shard).and_then(|t| t.iter_hash(table_hash(hash32)).next().copied());
            if let Some(offset) = candidate {
                prefetch_record(arena, offset.get(), key.len());
            }
        }
        for ((key, &hash), candidate) in chunk.iter().zip(&hashes).zip(candidates) {
            let answer = check_key(key).map_err(LookupError::from).map(|()| {
                let first = candidate.and_then(|offset| value_if_key_at(arena, offset.get(), key));
                // No candidate: no key of the table has this hash's tag, so the key is absent.
                first.or_else(|| candidate.and_then(|_| find(tables, arena, hash, key)))
            });
            out.push(answer.map(|value| value.map(Value::Borrowed)));
        }
    }
}

impl Lookup for HashMapLookup {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let hash = self.hasher.hash_one(key);
        let value = match &self.tables {
            Tables::Narrow(t) => find(t, &self.arena, hash, key),
            Tables::Wide(t) => find(t, &self.arena, hash, key),
        };
        Ok(value.map(Value::Borrowed))
    }

    fn get_many<'s>(&'s self, keys: &[&[u8]], out: &mut Vec<Result<Option<Value<'s>>, LookupError>>) {
        out.clear();
        match &self.tables {
            Tables::Narrow(t) => get_many(self, t, keys, out),
            Tables::Wide(t) => get_many(self, t, keys, out),
        }
    }

    fn info(&self) -> StrategyInfo {
        StrategyInfo {
            name: "hashmap".into(),
            keys: Some(self.len()),
            records: Some(self.records),
            duplicates: Some(self.duplicates),
            skipped: self.skipped,
            heap_bytes: (self.arena.capacity() + self.table_bytes()) as u64,
            ..StrategyInfo::default()
        }
    }
}
