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
//! checking it still matches the data (see [`sidecar`]). If the sidecar cannot
//! be written (read-only directory), the index stays in memory and
//! [`StrategyInfo::notes`] says so.

pub(crate) mod sidecar;

use std::path::{Path, PathBuf};

use memmap2::Advice;
use rayon::slice::ParallelSliceMut;
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{LookupError, OpenError};
use crate::format::{self, check_key, key_at, value_if_key_at};
use crate::info::StrategyInfo;
use crate::prefetch::{CHUNK, prefetch, prefetch_byte};
use crate::source::DataFile;
use crate::{Lookup, OpenOptions, Value};
use sidecar::{Entry, Header, Sidecar};

/// Where the index lives: mapped from its sidecar, or in memory as a fallback.
enum Store {
    Mapped(Sidecar),
    Owned { header: Header, guide: Vec<u64>, entries: Vec<Entry> },
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

    /// `xxh3` of the guide and entry bytes, as stored in the header.
    pub fn body_hash(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(bytemuck::cast_slice(self.guide));
        h.update(bytemuck::cast_slice(self.entries));
        h.digest()
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
pub struct MmapIndex {
    data: DataFile,
    store: Store,
    sidecar_path: PathBuf,
    /// Whether the index came from an existing sidecar (kept apart from the
    /// notes, which are for people and may be reworded).
    reused: bool,
    notes: Vec<String>,
    /// The sidecar, when this open wrote it.
    wrote: Option<PathBuf>,
}

impl std::fmt::Debug for MmapIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MmapIndex").field("sidecar", &self.sidecar_path).finish_non_exhaustive()
    }
}

/// The sidecar path used when none is given: `<data file>.kvidx`.
pub fn default_sidecar_path(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_owned();
    name.push(".kvidx");
    PathBuf::from(name)
}

impl MmapIndex {
    /// Maps the data and reuses its sidecar if it is valid, else rebuilds it.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        let data = DataFile::open(path)?;
        data.advise(Advice::Random);
        let sidecar_path = opts.index_path.clone().unwrap_or_else(|| default_sidecar_path(path));
        let stale = match Sidecar::open(&sidecar_path, &data, opts.verify_index_fully, opts.lenient) {
            Ok(sidecar) => {
                let notes = vec![format!("reused index {}", sidecar_path.display())];
                let store = Store::Mapped(sidecar);
                return Ok(MmapIndex { data, store, sidecar_path, reused: true, notes, wrote: None });
            }
            Err(stale) => stale,
        };
        let (header, guide, entries) = data.vouch(build(&data, opts.lenient))?;
        let mut notes = vec![format!("built index ({stale})")];
        let mut wrote = None;
        let store = match Sidecar::write(&sidecar_path, &data, &header, IndexRef::new(&guide, &entries)) {
            Ok(sidecar) => {
                notes.push(format!("wrote {}", sidecar_path.display()));
                wrote = Some(sidecar_path.clone());
                Store::Mapped(sidecar)
            }
            Err(e) => {
                notes.push(format!("index kept in memory: cannot write {}: {e}", sidecar_path.display()));
                Store::Owned { header, guide, entries }
            }
        };
        Ok(MmapIndex { data, store, sidecar_path, reused: false, notes, wrote })
    }

    /// Whether the index came from an existing sidecar rather than a build.
    pub fn reused(&self) -> bool {
        self.reused
    }

    fn index(&self) -> IndexRef<'_> {
        match &self.store {
            Store::Mapped(s) => s.index(),
            Store::Owned { guide, entries, .. } => IndexRef::new(guide, entries),
        }
    }

    /// Whether the data and the sidecar are both as mapped (see [`crate::guard`]).
    #[inline]
    fn intact(&self) -> bool {
        self.data.intact()
            && match &self.store {
                Store::Mapped(sidecar) => sidecar.intact(),
                Store::Owned { .. } => true,
            }
    }

    /// The error for a lookup that found [`MmapIndex::intact`] false: which file changed.
    #[cold]
    fn changed(&self) -> LookupError {
        let path = if self.data.intact() { &self.sidecar_path } else { self.data.path() };
        LookupError::changed(path)
    }

    fn header(&self) -> &Header {
        match &self.store {
            Store::Mapped(s) => &s.header,
            Store::Owned { header, .. } => header,
        }
    }
}

/// Parses the data in parallel, sorts the entries, drops later duplicates and
/// builds the guide.
fn build(data: &DataFile, lenient: bool) -> Result<(Header, Vec<u64>, Vec<Entry>), OpenError> {
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
    let duplicates = parsed.records - kept.len() as u64;
    let guide = IndexRef::guide_for(&kept);
    let header = Header::new(data, IndexRef::new(&guide, &kept), parsed.records, duplicates, parsed.skipped);
    Ok((header, guide, kept))
}

impl Lookup for MmapIndex {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let hash = xxh3_64(key);
        let index = self.index();
        let found = index.find(self.data.bytes(), hash, key, index.lower_bound(hash));
        // A value is only returned after its key was compared in the data, so
        // a damaged index can only turn a hit into a miss: the index needs
        // checking on a miss alone, the data always.
        let intact = if found.is_some() { self.data.intact() } else { self.intact() };
        if !intact {
            return Err(self.changed());
        }
        Ok(found.map(Value::Borrowed))
    }

    /// In chunks of 16 keys: hash them all and prefetch their guide
    /// slots; read the slots and prefetch the first entries; search the
    /// entries and prefetch the data lines; confirm every key in the data.
    fn get_many<'s>(&'s self, keys: &[&[u8]], out: &mut Vec<Result<Option<Value<'s>>, LookupError>>) {
        out.clear();
        let index = self.index();
        let data = self.data.bytes();
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
            for ((at, &hash), &range) in first.iter_mut().zip(&hashes).zip(&ranges).take(chunk.len()) {
                *at = index.search(hash, range);
                if let Some(entry) = index.entries.get(*at).filter(|e| e.hash == hash) {
                    prefetch_byte(data, usize::try_from(entry.offset).unwrap_or(usize::MAX));
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
        // As `get` does for each key, once for the batch: a hit needs the data
        // intact, a miss the index too.
        let (data_ok, all_ok) = (self.data.intact(), self.intact());
        for answer in out.iter_mut() {
            let ok = match answer {
                Ok(Some(_)) => data_ok,
                Ok(None) => all_ok,
                Err(_) => true,
            };
            if !ok {
                *answer = Err(self.changed());
            }
        }
    }

    /// Checks the data file only: a copied value comes from there (see `get`).
    fn check_data(&self) -> Result<(), LookupError> {
        self.data.check_intact()
    }

    fn info(&self) -> StrategyInfo {
        let h = self.header();
        let index = self.index();
        let index_bytes = (size_of_val(index.entries) + size_of_val(index.guide)) as u64;
        let (heap, mapped) = match self.store {
            Store::Mapped(_) => (0, index_bytes),
            Store::Owned { .. } => (index_bytes, 0),
        };
        StrategyInfo {
            name: "mmap-index".into(),
            keys: Some(index.entries.len() as u64),
            records: Some(h.records),
            duplicates: Some(h.duplicates),
            skipped: h.skipped,
            heap_bytes: heap,
            mapped_bytes: self.data.len() + mapped,
            notes: self.notes.clone(),
            wrote: self.wrote.iter().cloned().collect(),
            ..StrategyInfo::default()
        }
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
