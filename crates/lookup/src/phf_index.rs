//! `phf-index`: the mapped file plus a minimal perfect hash of its keys, kept in a sidecar.
//!
//! A minimal perfect hash function (PtrHash, the `ptr_hash` crate) maps each
//! of the file's n distinct keys to its own slot in `0..n`, and any other key
//! to some slot too. A slot holds the offset of the key's record and one byte
//! of the key's hash (a fingerprint). A lookup hashes the key (xxh3), asks the
//! function for its slot (one read of a small table of "pilots", ~3 bits a
//! key), reads the slot, and only when the fingerprint matches reads the
//! record to confirm the key: a hit costs about two dependent reads (slot,
//! record) where `hashmap` and `mmap-index` take three, and a miss reads the
//! data file for 1 in 256 absent keys only.
//!
//! The function is built over the keys' 64-bit xxh3 hashes. Two distinct keys
//! with the same hash (about one pair in 10^8 at 10M keys) cannot both have
//! a slot: the later ones go to a small sorted overflow list, searched only
//! when a slot does not confirm the key. First occurrence wins, as everywhere.
//!
//! The sidecar (default `<data>.kvphf`) is written, checked, reused and
//! rebuilt as `mmap-index`'s is (`sidecar.rs`): a 128-byte header, then the
//! serialized function, the slots (5 bytes each for files under 4 GiB, else
//! 9), and the overflow entries. Opening reads the function into memory
//! (~0.4 bytes a key); the slots stay mapped.

use std::path::{Path, PathBuf};

use epserde::prelude::{Deserialize, Serialize};
use ptr_hash::bucket_fn::Linear;
use ptr_hash::hash::StrongerIntHash;
use ptr_hash::{PtrHash, PtrHashParams};
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{LookupError, OpenError};
use crate::facts::{Facts, Family, Memory, Open, Place, Start, Store, WarmUp};
use crate::format::{check_key, value_if_key_at};
use crate::info::StrategyInfo;
use crate::mmap_index::{Entry, distinct_entries};
use crate::prefetch::{CHUNK, prefetch_record};
use crate::sidecar::{Header, Indexed, Kind, Layout, Stored};
use crate::source::DataFile;
use crate::{Lookup, OpenOptions, Value};

/// What kvbench knows about `phf-index`.
pub(crate) const FACTS: Facts = Facts {
    name: "phf-index",
    family: Family::Own,
    store: Some(Store {
        place: Place::Sidecar(default_phf_path),
        build_bytes_per_key: 40,
        disk_bytes_per_key: 6,
        build_ns_per_key: 300,
        limit_bytes: None,
    }),
    memory: Memory::Mapped,
    warm_up: WarmUp::None,
    memchr_floor: false,
    starts: &[Start::Build, Start::Warm, Start::Cold],
    settings: &[],
    open: Open::With(|path, opts| Ok(Box::new(PhfIndex::open(path, opts)?))),
};

/// The perfect hash function over the keys' xxh3 hashes (already uniform, so
/// a cheap integer hash spreads them).
type Phf = PtrHash<u64, Linear, Vec<u32>, StrongerIntHash, Vec<u8>>;

/// PtrHash's average bucket size. Its default (3.0) builds the function over
/// 10M hashes in 1.40 s here; 2.5 in 0.93 s (1M: 79 vs 57 ms), for 0.44
/// instead of 0.37 bytes a key and no slower queries (2.9 vs 3.2 ns per
/// `index` in a loop over 10M keys). The build is the strategy's cost that
/// grows fastest, so it gets the time.
const LAMBDA: f64 = 2.5;

/// Sidecar sections start at multiples of this, so the overflow entries can be read in place.
const ALIGN: usize = 16;

/// `len` rounded up to [`ALIGN`].
fn padded(len: usize) -> Option<usize> {
    len.checked_next_multiple_of(ALIGN)
}

/// The fingerprint a slot keeps of its key's hash.
#[inline]
fn fingerprint(hash: u64) -> u8 {
    hash as u8
}

/// The index built in memory, as the sidecar's body holds it.
pub(crate) struct PhfParts {
    /// The serialized function, padded to [`ALIGN`].
    function: Vec<u8>,
    /// One slot per key the function maps, padded to [`ALIGN`].
    slots: Vec<u8>,
    /// Keys whose hash an earlier key already has, sorted by hash.
    overflow: Vec<Entry>,
}

/// `layout[1]` packs the slot width (low byte) and the overflow length (above it).
fn unpack(layout: [u64; 2]) -> (usize, usize, usize) {
    let function = usize::try_from(layout[0]).unwrap_or(usize::MAX);
    let width = (layout[1] & 0xff) as usize;
    let overflow = usize::try_from(layout[1] >> 8).unwrap_or(usize::MAX);
    (function, width, overflow)
}

impl Layout for PhfParts {
    const KIND: Kind = Kind::PhfIndex;

    fn body_len(header: &Header) -> Option<usize> {
        let (function, width, overflow) = unpack(header.layout);
        if !matches!(width, 5 | 9) {
            return None;
        }
        let slotted = usize::try_from(header.keys).ok()?.checked_sub(overflow)?;
        let slots = padded(slotted.checked_mul(width)?)?;
        function.checked_add(slots)?.checked_add(overflow.checked_mul(size_of::<Entry>())?)
    }

    fn build(data: &DataFile, lenient: bool) -> Result<(Header, Self), OpenError> {
        let (entries, counts) = distinct_entries(data, lenient)?;
        let failed = |why: String| OpenError::Index { path: data.path().to_owned(), why };
        // Entries are sorted by hash: a repeated hash is a later distinct key.
        let mut slotted: Vec<Entry> = Vec::with_capacity(entries.len());
        let mut overflow = Vec::new();
        for entry in entries {
            if slotted.last().is_some_and(|last| last.hash == entry.hash) {
                overflow.push(entry);
            } else {
                slotted.push(entry);
            }
        }
        let width = if data.len() <= u64::from(u32::MAX) { 5 } else { 9 };
        let mut slots = vec![0u8; padded(slotted.len() * width).unwrap_or(0)];
        let mut function = Vec::new();
        if !slotted.is_empty() {
            let hashes: Vec<u64> = slotted.iter().map(|e| e.hash).collect();
            let phf = Phf::try_new(&hashes, PtrHashParams { lambda: LAMBDA, ..PtrHashParams::default() })
                .ok_or_else(|| failed("PtrHash found no perfect hash function for the keys".into()))?;
            // The function's answers in parallel (its reads are random), the writes after.
            let at: Vec<usize> = slotted.par_iter().map(|e| phf.index(&e.hash) * width).collect();
            for (entry, at) in slotted.iter().zip(at) {
                if let Some(slot) = slots.get_mut(at..at + width) {
                    write_slot(slot, entry.offset, fingerprint(entry.hash));
                }
            }
            // SAFETY: serializing only reads `phf`, a value this code built.
            unsafe { phf.serialize(&mut function) }.map_err(|e| failed(format!("cannot serialize it: {e}")))?;
            function.resize(padded(function.len()).unwrap_or(function.len()), 0);
        }
        let layout = [function.len() as u64, width as u64 | (overflow.len() as u64) << 8];
        let parts = PhfParts { function, slots, overflow };
        let header = Header::new(data, Kind::PhfIndex, counts, layout, &parts.body());
        Ok((header, parts))
    }

    fn body(&self) -> Vec<&[u8]> {
        vec![&self.function, &self.slots, bytemuck::cast_slice(&self.overflow)]
    }
}

/// Writes a slot: the offset (little-endian, in all but the last byte) and the fingerprint.
fn write_slot(slot: &mut [u8], offset: u64, fingerprint: u8) {
    let (offset_bytes, last) = slot.split_at_mut(slot.len() - 1);
    offset_bytes.copy_from_slice(offset.to_le_bytes().get(..offset_bytes.len()).unwrap_or_default());
    last.fill(fingerprint);
}

/// Reads a slot back: the offset and the fingerprint.
#[inline]
fn read_slot(slot: &[u8]) -> Option<(usize, u8)> {
    let (&fp, offset_bytes) = slot.split_last()?;
    let mut offset = [0u8; 8];
    offset.get_mut(..offset_bytes.len())?.copy_from_slice(offset_bytes);
    Some((usize::try_from(u64::from_le_bytes(offset)).ok()?, fp))
}

/// The mapped data file and its perfect-hash index.
pub struct PhfIndex {
    indexed: Indexed<PhfParts>,
    /// The function, read from the sidecar (`None` for a file without keys).
    phf: Option<Phf>,
    width: usize,
}

impl std::fmt::Debug for PhfIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The function itself is a table of pilots: nothing to read in a debug print.
        f.debug_struct("PhfIndex")
            .field("indexed", &self.indexed)
            .field("slot_width", &self.width)
            .finish_non_exhaustive()
    }
}

/// The sidecar path used when none is given: `<data file>.kvphf`.
pub fn default_phf_path(data: &Path) -> PathBuf {
    crate::sidecar::beside(data, ".kvphf")
}

impl PhfIndex {
    /// Maps the data and reuses its sidecar if it is valid, else rebuilds it.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        let indexed: Indexed<PhfParts> = Indexed::open(path, opts, default_phf_path(path))?;
        let (function_len, width, _) = unpack(indexed.header().layout);
        let function = match indexed.stored() {
            Stored::Mapped(body) => body.get(..function_len).unwrap_or_default(),
            Stored::Owned(parts) => &parts.function,
        };
        let phf = if function.is_empty() {
            None
        } else {
            // SAFETY: these bytes were written by `serialize` above and have
            // passed the sidecar's checksums (or were just built in memory),
            // so they are a serialized `Phf` of this version of the layout.
            let read = unsafe { Phf::deserialize_full(&mut &*function) };
            Some(
                read.map_err(|e| OpenError::Index { path: path.to_owned(), why: format!("cannot read it back: {e}") })?,
            )
        };
        Ok(PhfIndex { indexed, phf, width })
    }

    /// Whether the index came from an existing sidecar rather than a build.
    pub fn reused(&self) -> bool {
        self.indexed.reused
    }

    /// The slots and the overflow entries, mapped or in memory.
    fn tables(&self) -> (&[u8], &[Entry]) {
        match self.indexed.stored() {
            Stored::Mapped(body) => {
                let (function_len, _, overflow) = unpack(self.indexed.header().layout);
                let rest = body.get(function_len..).unwrap_or_default();
                let (slots, entries) = rest.split_at(rest.len() - (overflow * size_of::<Entry>()).min(rest.len()));
                // The sidecar checked the lengths, and every section starts 16-byte aligned.
                (slots, bytemuck::try_cast_slice(entries).unwrap_or_default())
            }
            Stored::Owned(parts) => (&parts.slots, &parts.overflow),
        }
    }

    /// The slot the function gives `hash`, as bytes.
    #[inline]
    fn slot<'s>(&self, slots: &'s [u8], hash: u64) -> Option<&'s [u8]> {
        let at = self.phf.as_ref()?.index(&hash) * self.width;
        slots.get(at..at + self.width)
    }

    /// The value of `key` (whose hash is `hash`): from its slot if the slot
    /// confirms it, else from the overflow entries.
    fn find<'d>(
        &self,
        data: &'d [u8],
        slot: Option<&[u8]>,
        overflow: &[Entry],
        hash: u64,
        key: &[u8],
    ) -> Option<&'d [u8]> {
        let slotted = slot
            .and_then(read_slot)
            .filter(|&(_, fp)| fp == fingerprint(hash))
            .and_then(|(offset, _)| value_if_key_at(data, offset, key));
        slotted.or_else(|| {
            let at = overflow.partition_point(|e| e.hash < hash);
            overflow
                .get(at..)?
                .iter()
                .take_while(|e| e.hash == hash)
                .find_map(|e| value_if_key_at(data, usize::try_from(e.offset).ok()?, key))
        })
    }

    /// Whether looking up the absent `key` reads the data file (its slot's
    /// fingerprint matches by chance): what a miss costs beyond the index.
    pub fn miss_reads_data(&self, key: &[u8]) -> bool {
        let hash = xxh3_64(key);
        let (slots, overflow) = self.tables();
        let slot_match = self.slot(slots, hash).and_then(read_slot).is_some_and(|(_, fp)| fp == fingerprint(hash));
        slot_match || overflow.binary_search_by_key(&hash, |e| e.hash).is_ok()
    }
}

impl Lookup for PhfIndex {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let hash = xxh3_64(key);
        let (slots, overflow) = self.tables();
        let found = self.find(self.indexed.data.bytes(), self.slot(slots, hash), overflow, hash, key);
        if !self.indexed.answer_stands(found.is_some()) {
            return Err(self.indexed.changed());
        }
        Ok(found.map(Value::Borrowed))
    }

    /// In chunks of 16 keys: hash them all; find their slots (PtrHash's
    /// stream prefetches the pilots), prefetching each slot; read the slots and
    /// prefetch the data lines whose fingerprint matches; confirm every key in
    /// the data.
    fn get_many<'s>(&'s self, keys: &[&[u8]], out: &mut Vec<Result<Option<Value<'s>>, LookupError>>) {
        out.clear();
        let (slots, overflow) = self.tables();
        let data = self.indexed.data.bytes();
        for chunk in keys.chunks(CHUNK) {
            let mut hashes = [0u64; CHUNK];
            let mut found: [Option<&[u8]>; CHUNK] = [None; CHUNK];
            for (hash, key) in hashes.iter_mut().zip(chunk) {
                *hash = xxh3_64(key);
            }
            // PtrHash's stream prefetches each hash's pilot ahead of computing
            // its slot (10M keys: 204-214 ns a key in batches of 64, against
            // 217-246 asking `index` per key). Its iterator only implements `fold`.
            if let Some(phf) = &self.phf {
                let indices = phf.index_stream::<CHUNK, _>(hashes.iter().take(chunk.len()));
                indices.fold(0, |i, index| {
                    let at = index * self.width;
                    if let Some(slot) = found.get_mut(i) {
                        *slot = slots.get(at..at + self.width);
                        if let Some(first) = slot.and_then(|s| s.first()) {
                            crate::prefetch::prefetch(first);
                        }
                    }
                    i + 1
                });
            }
            for ((slot, &hash), key) in found.iter().zip(&hashes).zip(chunk) {
                if let Some((offset, fp)) = slot.and_then(read_slot)
                    && fp == fingerprint(hash)
                {
                    prefetch_record(data, offset, key.len());
                }
            }
            for ((key, &hash), slot) in chunk.iter().zip(&hashes).zip(found) {
                let answer = check_key(key).map(|()| self.find(data, slot, overflow, hash, key).map(Value::Borrowed));
                out.push(answer.map_err(LookupError::from));
            }
        }
        self.indexed.settle(out);
    }

    /// Checks the data file only: a copied value comes from there (see `get`).
    fn check_data(&self) -> Result<(), LookupError> {
        self.indexed.data.check_intact()
    }

    fn info(&self) -> StrategyInfo {
        let (slots, overflow) = self.tables();
        // The function is read into memory on open; the slots stay mapped.
        let function = self.phf.as_ref().map_or(0, |_| unpack(self.indexed.header().layout).0 as u64);
        self.indexed.info("phf-index", (slots.len() + size_of_val(overflow)) as u64, function)
    }

    fn populate(&self) {
        self.indexed.populate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_trip_at_both_widths() {
        for (width, offset) in [(5, 0u64), (5, u64::from(u32::MAX)), (9, 1 << 40), (9, u64::MAX >> 1)] {
            let mut slot = vec![0u8; width];
            write_slot(&mut slot, offset, 0xab);
            assert_eq!(read_slot(&slot), Some((offset as usize, 0xab)), "width {width}");
        }
    }

    /// The bar: a miss reads the data file in under 1 % of misses
    /// (the fingerprint is one byte, so about 1 in 256).
    #[test]
    fn a_miss_reads_the_data_for_under_one_percent_of_absent_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.txt");
        let data: String = (0..20_000).map(|i| format!("present-{i} value {i}\n")).collect();
        std::fs::write(&path, data).unwrap();
        let index = PhfIndex::open(&path, &OpenOptions::default()).unwrap();
        let absent = 100_000;
        let read = (0..absent).filter(|i| index.miss_reads_data(format!("absent-{i}").as_bytes())).count();
        eprintln!("phf-index: {read} of {absent} misses read the data file");
        assert!(read * 100 < absent, "{read} of {absent} misses read the data file");
        assert!(read > 0, "a one-byte fingerprint matches some absent keys by chance");
    }
}
