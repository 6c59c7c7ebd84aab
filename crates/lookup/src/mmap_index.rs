//! `mmap-index`: the mapped file plus a sorted hash index kept in a sidecar.
//!
//! The index is a sorted array of fixed-width [`Entry`] `(xxh3(key), offset)`
//! pairs. A lookup hashes the key, finds the hash by interpolation search
//! (hashes are uniform, so the first guess lands within a few cache lines of
//! the answer) and confirms every candidate by comparing the real key in the
//! file, so hash collisions cost a comparison, never a wrong answer.
//!
//! The index is written to a sidecar file (default `<data>.kvidx`) and mapped,
//! so it lives in the page cache, not the heap, and a restart reuses it after
//! checking it still matches the data (see [`sidecar`]). If the sidecar cannot
//! be written (read-only directory), the index stays in memory and
//! [`StrategyInfo::notes`] says so.

pub mod sidecar;

use std::path::{Path, PathBuf};

use memmap2::Advice;
use rayon::slice::ParallelSliceMut;
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{LookupError, OpenError};
use crate::info::StrategyInfo;
use crate::record::{self, check_key, key_at, value_if_key_at};
use crate::source::DataFile;
use crate::{Lookup, OpenOptions, Value};
pub use sidecar::{Entry, Header, Sidecar, Stale};

/// Where the index lives: mapped from its sidecar, or in memory as a fallback.
enum Store {
    Mapped(Sidecar),
    Owned { header: Header, entries: Vec<Entry> },
}

/// The mapped data file and its sorted hash index.
pub struct MmapIndex {
    data: DataFile,
    store: Store,
    sidecar_path: PathBuf,
    notes: Vec<String>,
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
                return Ok(MmapIndex { data, store: Store::Mapped(sidecar), sidecar_path, notes });
            }
            Err(stale) => stale,
        };
        let (header, entries) = build(&data, opts.lenient)?;
        let mut notes = vec![format!("built index ({stale})")];
        let store = match Sidecar::write(&sidecar_path, &header, &entries) {
            Ok(sidecar) => {
                notes.push(format!("wrote {}", sidecar_path.display()));
                Store::Mapped(sidecar)
            }
            Err(e) => {
                notes.push(format!("index kept in memory: cannot write {}: {e}", sidecar_path.display()));
                Store::Owned { header, entries }
            }
        };
        Ok(MmapIndex { data, store, sidecar_path, notes })
    }

    /// Whether the index came from an existing sidecar rather than a build.
    pub fn reused(&self) -> bool {
        self.notes.first().is_some_and(|n| n.starts_with("reused"))
    }

    fn entries(&self) -> &[Entry] {
        match &self.store {
            Store::Mapped(s) => s.entries(),
            Store::Owned { entries, .. } => entries,
        }
    }

    fn header(&self) -> &Header {
        match &self.store {
            Store::Mapped(s) => &s.header,
            Store::Owned { header, .. } => header,
        }
    }
}

/// Parses the data in parallel, sorts the entries and drops later duplicates.
fn build(data: &DataFile, lenient: bool) -> Result<(Header, Vec<Entry>), OpenError> {
    let bytes = data.bytes();
    let parsed = record::parse(data.path(), bytes, lenient, Vec::new, |entries: &mut Vec<Entry>, rec| {
        entries.push(Entry { hash: xxh3_64(rec.key), offset: rec.offset as u64 });
    })?;
    let mut entries: Vec<Entry> = parsed.chunks.concat();
    entries.par_sort_unstable();
    // Equal hashes are adjacent and ordered by offset; within such a run keep
    // the first entry of each distinct key (runs longer than one are rare).
    let mut kept: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut run_start = 0;
    for entry in entries {
        if kept.last().is_none_or(|last| last.hash != entry.hash) {
            run_start = kept.len();
        }
        let key = key_at(bytes, entry.offset as usize);
        let seen = kept.get(run_start..).unwrap_or_default().iter().any(|e| key_at(bytes, e.offset as usize) == key);
        if !seen {
            kept.push(entry);
        }
    }
    let duplicates = parsed.records - kept.len() as u64;
    let header = Header::new(data, &kept, parsed.records, duplicates, parsed.skipped);
    Ok((header, kept))
}

/// Index of the first entry whose hash is not less than `hash`.
///
/// Starts at the position a uniform distribution predicts, gallops outwards
/// until the answer is bracketed, then binary-searches the bracket.
pub fn lower_bound(entries: &[Entry], hash: u64) -> usize {
    let n = entries.len();
    if n == 0 {
        return 0;
    }
    let guess = ((u128::from(hash) * n as u128) >> 64) as usize;
    let below = |i: usize| entries.get(i).is_some_and(|e| e.hash < hash);
    let (mut lo, mut hi) = if below(guess) { (guess + 1, guess + 1) } else { (guess, guess) };
    let mut step = 1;
    if below(guess) {
        while hi < n && below(hi) {
            lo = hi + 1;
            hi = hi.saturating_add(step).min(n);
            step *= 2;
        }
    } else {
        while lo > 0 && !below(lo - 1) {
            hi = lo - 1;
            lo = lo.saturating_sub(step);
            step *= 2;
        }
    }
    let window = entries.get(lo..hi).unwrap_or_default();
    lo + window.partition_point(|e| e.hash < hash)
}

impl Lookup for MmapIndex {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let hash = xxh3_64(key);
        let entries = self.entries();
        let data = self.data.bytes();
        let start = lower_bound(entries, hash);
        let found = entries
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|e| e.hash == hash)
            .find_map(|e| value_if_key_at(data, usize::try_from(e.offset).ok()?, key));
        Ok(found.map(Value::Borrowed))
    }

    fn info(&self) -> StrategyInfo {
        let h = self.header();
        let index_bytes = size_of_val(self.entries()) as u64;
        let (heap, mapped) = match self.store {
            Store::Mapped(_) => (0, index_bytes),
            Store::Owned { .. } => (index_bytes, 0),
        };
        StrategyInfo {
            name: "mmap-index".into(),
            keys: Some(self.entries().len() as u64),
            records: Some(h.records),
            duplicates: Some(h.duplicates),
            skipped: h.skipped,
            heap_bytes: heap,
            mapped_bytes: self.data.len() + mapped,
            notes: self.notes.clone(),
            ..StrategyInfo::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_bound_matches_partition_point() {
        let mut entries: Vec<Entry> =
            (0..5000u64).map(|i| Entry { hash: xxh3_64(&i.to_le_bytes()) & !0xff, offset: i }).collect();
        entries.push(Entry { hash: 0, offset: 0 });
        entries.push(Entry { hash: u64::MAX, offset: 0 });
        entries.sort_unstable();
        for probe in entries.iter().map(|e| e.hash).chain([1, 2, u64::MAX - 1, 1 << 63, 12345]) {
            for h in [probe, probe.wrapping_add(1), probe.wrapping_sub(1)] {
                assert_eq!(lower_bound(&entries, h), entries.partition_point(|e| e.hash < h), "hash {h}");
            }
        }
        assert_eq!(lower_bound(&[], 7), 0);
    }
}
