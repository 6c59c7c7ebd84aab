//! `mmap-index`: the mapped file plus a sorted hash index kept in a sidecar.
//!
//! The index is a sorted array of fixed-width [`Entry`] `(xxh3(key), offset)`
//! pairs, plus a small *guide*: for each value of the hash's top bits, where
//! its entries start (about 8 entries per slot, 1 byte per key). A lookup
//! hashes the key, reads two guide slots, binary-searches the few entries
//! between them, and confirms every candidate by comparing the real key in
//! the file, so hash collisions cost a comparison, never a wrong answer.
//!
//! Why a guide: a plain binary search over 1M entries makes ~20 dependent
//! reads, and interpolation (hashes are uniform) still lands ~500 entries
//! away and gallops across several cache lines; measured on the 1M dataset,
//! interpolation took ~250 ns and binary search ~400 ns per search, against
//! one ~180 ns DRAM access for the guide's bucket.
//!
//! The index is written to a sidecar file (default `<data>.kvidx`) and mapped,
//! so it lives in the page cache, not the heap, and a restart reuses it after
//! checking it still matches the data (see `sidecar.rs`). If the sidecar cannot
//! be written (read-only directory), the index stays in memory and
//! [`StrategyInfo::notes`] says so.

use std::path::{Path, PathBuf};

use rayon::slice::ParallelSliceMut;
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{LookupError, OpenError};
use crate::facts::{Facts, Family, Memory, Open, Place, Start, Store, WarmUp};
use crate::format::{self, check_key, key_at, value_if_key_at};
use crate::info::StrategyInfo;
use crate::prefetch::{CHUNK, prefetch, prefetch_record};
use crate::sidecar::{Counts, Header, Indexed, Kind, Layout, Stored};
use crate::source::DataFile;
use crate::{Lookup, OpenOptions, Value};

/// What kvbench knows about `mmap-index`.
pub(crate) const FACTS: Facts = Facts {
    name: "mmap-index",
    family: Family::Own,
    // Sorts (hash, offset) pairs in memory before writing 17.7 B/key.
    store: Some(Store {
        place: Place::Sidecar(default_sidecar_path),
        build_bytes_per_key: 48,
        disk_bytes_per_key: 18,
        build_ns_per_key: 200,
        limit_bytes: None,
    }),
    memory: Memory::Mapped,
    warm_up: WarmUp::None,
    memchr_floor: false,
    starts: &[Start::Build, Start::Warm, Start::Cold],
    settings: &[],
    open: Open::With(|path, opts| Ok(Box::new(MmapIndex::open(path, opts)?))),
};

/// One index entry: the stable 64-bit hash of a key and its line's offset.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Entry {
    /// `xxh3_64` of the key (stable across runs and machines).
    pub hash: u64,
    /// Offset of the record's line in the data file.
    pub offset: u64,
}

/// The index built in memory: the guide and the entries, as the sidecar's body holds them.
pub(crate) struct SortedIndex {
    guide: Vec<u64>,
    entries: Vec<Entry>,
}

impl Layout for SortedIndex {
    const KIND: Kind = Kind::MmapIndex;

    /// The guide (`layout[0]` bits) and `keys` entries.
    fn body_len(header: &Header) -> Option<usize> {
        let entries = usize::try_from(header.keys).ok()?.checked_mul(size_of::<Entry>())?;
        guide_len(header.layout[0])?.checked_mul(8)?.checked_add(entries)
    }

    fn build(data: &DataFile, lenient: bool) -> Result<(Header, Self), OpenError> {
        let (entries, counts) = distinct_entries(data, lenient)?;
        let guide = IndexRef::guide_for(&entries);
        let index = IndexRef::new(&guide, &entries);
        let layout = [u64::from(index.guide_bits()), 0];
        let body = [bytemuck::cast_slice(&guide), bytemuck::cast_slice(&entries)];
        let header = Header::new(data, Kind::MmapIndex, counts, layout, &body);
        Ok((header, SortedIndex { guide, entries }))
    }

    fn body(&self) -> Vec<&[u8]> {
        vec![bytemuck::cast_slice(&self.guide), bytemuck::cast_slice(&self.entries)]
    }
}

/// Entries per guide slot the guide is sized for.
const ENTRIES_PER_SLOT: usize = 8;

/// Number of `u64` slots of a guide with `bits` bits, if that is sane.
pub(crate) fn guide_len(bits: u64) -> Option<usize> {
    (bits <= 40).then(|| (1usize << bits) + 1)
}

/// A sorted index and its guide, borrowed from a sidecar or from memory.
#[derive(Clone, Copy, Debug)]
pub struct IndexRef<'a> {
    /// `guide[i]` is the first entry whose hash's top `guide_bits` bits are `>= i`.
    pub guide: &'a [u64],
    /// Entries sorted by hash, then offset.
    pub entries: &'a [Entry],
}

impl<'a> IndexRef<'a> {
    /// Pairs a guide with its entries.
    pub fn new(guide: &'a [u64], entries: &'a [Entry]) -> Self {
        IndexRef { guide, entries }
    }

    /// Bits of the hash the guide is indexed by.
    pub fn guide_bits(&self) -> u32 {
        self.guide.len().saturating_sub(1).max(1).trailing_zeros()
    }

    /// Index of the first entry whose hash is not less than `hash`.
    ///
    /// Bounds are checked, so a corrupt guide can only make lookups miss.
    pub fn lower_bound(&self, hash: u64) -> usize {
        self.search(hash, self.range(hash))
    }

    /// The guide slot of `hash`: its top `guide_bits` bits.
    fn slot(&self, hash: u64) -> usize {
        let bits = self.guide_bits();
        if bits == 0 { 0 } else { (hash >> (64 - bits)) as usize }
    }

    /// The entries `hash` can be among, as the guide says (clamped to the entries).
    fn range(&self, hash: u64) -> (usize, usize) {
        let slot = self.slot(hash);
        let at = |i: usize| self.guide.get(i).and_then(|&g| usize::try_from(g).ok());
        let start = at(slot).unwrap_or(0).min(self.entries.len());
        let end = at(slot + 1).unwrap_or(self.entries.len()).clamp(start, self.entries.len());
        (start, end)
    }

    /// Index of the first entry of `(start, end)` whose hash is not less than `hash`.
    fn search(&self, hash: u64, (start, end): (usize, usize)) -> usize {
        start + self.entries.get(start..end).unwrap_or_default().partition_point(|e| e.hash < hash)
    }

    /// The value of `key` (whose hash is `hash`) among the entries from `at`
    /// on, confirmed against the key in `data`.
    fn find<'d>(&self, data: &'d [u8], hash: u64, key: &[u8], at: usize) -> Option<&'d [u8]> {
        self.entries
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take_while(|e| e.hash == hash)
            .find_map(|e| value_if_key_at(data, usize::try_from(e.offset).ok()?, key))
    }

    /// Builds the guide for sorted `entries`.
    pub fn guide_for(entries: &[Entry]) -> Vec<u64> {
        let slots = (entries.len() / ENTRIES_PER_SLOT).next_power_of_two().max(1);
        let bits = slots.trailing_zeros();
        let mut guide = Vec::with_capacity(slots + 1);
        let mut next = 0;
        for slot in 0..slots {
            while entries.get(next).is_some_and(|e| bits > 0 && ((e.hash >> (64 - bits)) as usize) < slot) {
                next += 1;
            }
            guide.push(next as u64);
        }
        guide.push(entries.len() as u64);
        guide
    }
}

/// The mapped data file and its sorted hash index.
#[derive(Debug)]
pub struct MmapIndex {
    indexed: Indexed<SortedIndex>,
}

/// The sidecar path used when none is given: `<data file>.kvidx`.
pub fn default_sidecar_path(data: &Path) -> PathBuf {
    crate::sidecar::beside(data, ".kvidx")
}

impl MmapIndex {
    /// Maps the data and reuses its sidecar if it is valid, else rebuilds it.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        Ok(MmapIndex { indexed: Indexed::open(path, opts, default_sidecar_path(path))? })
    }

    /// Whether the index came from an existing sidecar rather than a build.
    pub fn reused(&self) -> bool {
        self.indexed.reused
    }

    fn index(&self) -> IndexRef<'_> {
        match self.indexed.stored() {
            Stored::Mapped(body) => {
                let guide_len = guide_len(self.indexed.header().layout[0]).unwrap_or(0);
                let (guide, entries) = body.split_at(body.len().min(guide_len * 8));
                // The sidecar checked the lengths; the map is page-aligned and
                // the header and guide sizes are multiples of 16, so the casts hold.
                IndexRef::new(
                    bytemuck::try_cast_slice(guide).unwrap_or_default(),
                    bytemuck::try_cast_slice(entries).unwrap_or_default(),
                )
            }
            Stored::Owned(sorted) => IndexRef::new(&sorted.guide, &sorted.entries),
        }
    }
}

/// Every record's `(xxh3 of the key, offset)`, parsed in parallel, sorted by
/// hash, later duplicates of a key dropped (first occurrence wins): the
/// distinct keys of `data` and its counts. Distinct keys whose hashes collide
/// stay, next to each other.
pub(crate) fn distinct_entries(data: &DataFile, lenient: bool) -> Result<(Vec<Entry>, Counts), OpenError> {
    let bytes = data.bytes();
    let parsed = format::parse(data.path(), bytes, lenient, Vec::new, |entries: &mut Vec<Entry>, rec| {
        entries.push(Entry { hash: xxh3_64(rec.key), offset: rec.offset as u64 });
    })?;
    let mut entries: Vec<Entry> = parsed.chunks.concat();
    entries.par_sort_unstable();
    // Equal hashes are adjacent and ordered by offset; within such a run keep
    // the first entry of each distinct key. Keys are read from the data only
    // inside runs longer than one, which are rare, so this pass stays sequential.
    let mut kept: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut run_start = 0;
    for entry in entries {
        if kept.last().is_none_or(|last| last.hash != entry.hash) {
            run_start = kept.len();
            kept.push(entry);
            continue;
        }
        let key = key_at(bytes, entry.offset as usize);
        let run = kept.get(run_start..).unwrap_or_default();
        if !run.iter().any(|e| key_at(bytes, e.offset as usize) == key) {
            kept.push(entry);
        }
    }
    let counts = Counts::new(kept.len(), parsed.records, parsed.skipped);
    Ok((kept, counts))
}

impl Lookup for MmapIndex {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let hash = xxh3_64(key);
        let index = self.index();
        let found = index.find(self.indexed.data.bytes(), hash, key, index.lower_bound(hash));
        if !self.indexed.answer_stands(found.is_some()) {
            return Err(self.indexed.changed());
        }
        Ok(found.map(Value::Borrowed))
    }

    /// In chunks of 16 keys: hash them all and prefetch their guide
    /// slots; read the slots and prefetch the first entries; search the
    /// entries and prefetch the data lines; confirm every key in the data.
    fn get_many<'s>(&'s self, keys: &[&[u8]], out: &mut Vec<Result<Option<Value<'s>>, LookupError>>) {
        out.clear();
        let index = self.index();
        let data = self.indexed.data.bytes();
        for chunk in keys.chunks(CHUNK) {
            let mut hashes = [0u64; CHUNK];
            let mut ranges = [(0usize, 0usize); CHUNK];
            let mut first = [0usize; CHUNK];
            for (hash, key) in hashes.iter_mut().zip(chunk) {
                *hash = xxh3_64(key);
                if let Some(slot) = index.guide.get(index.slot(*hash)) {
                    prefetch(slot);
                }
            }
            for (range, &hash) in ranges.iter_mut().zip(&hashes).take(chunk.len()) {
                *range = index.range(hash);
                // A guide slot spans ~8 entries of 16 bytes: two cache lines.
                for at in [range.0, range.0 + 4] {
                    if let Some(entry) = index.entries.get(at) {
                        prefetch(entry);
                    }
                }
            }
            for (((at, &hash), &range), key) in first.iter_mut().zip(&hashes).zip(&ranges).zip(chunk) {
                *at = index.search(hash, range);
                if let Some(entry) = index.entries.get(*at).filter(|e| e.hash == hash) {
                    prefetch_record(data, usize::try_from(entry.offset).unwrap_or(usize::MAX), key.len());
                }
            }
            for ((key, &hash), &at) in chunk.iter().zip(&hashes).zip(&first) {
                out.push(
                    check_key(key)
                        .map_err(LookupError::from)
                        .map(|()| index.find(data, hash, key, at).map(Value::Borrowed)),
                );
            }
        }
        self.indexed.settle(out);
    }

    /// Checks the data file only: a copied value comes from there (see `get`).
    fn check_data(&self) -> Result<(), LookupError> {
        self.indexed.data.check_intact()
    }

    fn info(&self) -> StrategyInfo {
        let index = self.index();
        self.indexed.info("mmap-index", (size_of_val(index.entries) + size_of_val(index.guide)) as u64, 0)
    }

    fn populate(&self) {
        self.indexed.populate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_bound_matches_partition_point() {
        for n in [0usize, 1, 7, 8, 9, 100, 5000] {
            let mut entries: Vec<Entry> =
                (0..n as u64).map(|i| Entry { hash: xxh3_64(&i.to_le_bytes()) & !0xff, offset: i }).collect();
            if n > 2 {
                entries[0].hash = 0;
                entries[1].hash = u64::MAX;
                entries[2].hash = entries[3 % n].hash;
            }
            entries.sort_unstable();
            let guide = IndexRef::guide_for(&entries);
            let index = IndexRef::new(&guide, &entries);
            assert_eq!(guide.len(), (n / ENTRIES_PER_SLOT).next_power_of_two().max(1) + 1);
            for probe in entries.iter().map(|e| e.hash).chain([0, 1, 2, u64::MAX - 1, u64::MAX, 1 << 63, 12345]) {
                for h in [probe, probe.wrapping_add(1), probe.wrapping_sub(1)] {
                    assert_eq!(index.lower_bound(h), entries.partition_point(|e| e.hash < h), "n {n} hash {h}");
                }
            }
        }
    }

    #[test]
    fn a_garbage_guide_only_misses() {
        let entries: Vec<Entry> = (0..100u64).map(|i| Entry { hash: i << 56, offset: i }).collect();
        let guide = vec![u64::MAX, 3, 0, 1 << 40, 7];
        let index = IndexRef::new(&guide, &entries);
        for h in [0, 5 << 56, u64::MAX] {
            assert!(index.lower_bound(h) <= entries.len());
        }
    }
}
