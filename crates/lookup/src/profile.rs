//! What a data file holds, measured: its records, distinct keys and
//! duplicates, skipped lines, the lengths of its keys and values, and a
//! fingerprint of its bytes. Results describe a file the user brought with
//! it, so figures are read against the file as it is and records of two
//! different files never merge.

use std::path::Path;

use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use crate::error::OpenError;
use crate::format::{self, key_at};
use crate::source::DataFile;

/// A data file as [`profile`] measured it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProfile {
    /// Size in bytes.
    pub bytes: u64,
    /// Lines that are records, duplicates included.
    pub records: u64,
    /// Distinct keys among the records.
    pub distinct_keys: u64,
    /// Records whose key an earlier record already had.
    pub duplicates: u64,
    /// Malformed lines skipped (lenient only; otherwise the first is an error).
    pub skipped: u64,
    /// Key lengths over every record, in bytes.
    pub key_len: Lengths,
    /// Value lengths over every record, in bytes.
    pub value_len: Lengths,
    /// XXH3-128 of the file's bytes.
    pub fingerprint: u128,
}

/// Minimum, median, 99th percentile and maximum of a set of lengths (all 0 when empty).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lengths {
    /// Shortest.
    pub min: u64,
    /// Median (the lower one of an even count).
    pub median: u64,
    /// 99th percentile (nearest rank).
    pub p99: u64,
    /// Longest.
    pub max: u64,
}

impl Lengths {
    /// The summary of `lengths` (reordered in place).
    pub fn of(lengths: &mut [u32]) -> Lengths {
        if lengths.is_empty() {
            return Lengths::default();
        }
        let n = lengths.len();
        let mut rank = |q: f64| {
            // Nearest rank: the smallest length at or above a fraction q of them.
            let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            u64::from(*lengths.select_nth_unstable(i).1)
        };
        let (median, p99) = (rank(0.5), rank(0.99));
        let (min, max) = lengths.iter().fold((u32::MAX, 0), |(lo, hi), &l| (lo.min(l), hi.max(l)));
        Lengths { min: u64::from(min), median, p99, max: u64::from(max) }
    }
}

/// Per chunk of the file: each record's key hash and line offset, and its key and value lengths.
#[derive(Default)]
struct Chunk {
    keys: Vec<(u64, usize)>,
    key_lens: Vec<u32>,
    value_lens: Vec<u32>,
}

/// Reads the data file at `path` with the strategies' record rules
/// (`lenient` skips and counts malformed lines) and measures what it holds.
///
/// Distinct keys are counted exactly: records are grouped by a hash of their
/// key and the keys within a group compared. Memory is about 24 bytes per
/// record while it runs, and nothing once it returns.
pub fn profile(path: &Path, lenient: bool) -> Result<FileProfile, OpenError> {
    let file = DataFile::open(path)?;
    let data = file.bytes();
    let parsed = format::parse(path, data, lenient, Chunk::default, |chunk, line| {
        chunk.keys.push((xxh3_64(line.key), line.offset));
        chunk.key_lens.push(line.key.len() as u32);
        chunk.value_lens.push(u32::try_from(line.value.len()).unwrap_or(u32::MAX));
    });
    let parsed = file.vouch(parsed)?;
    let mut keys = Vec::with_capacity(parsed.records as usize);
    let (mut key_lens, mut value_lens) = (Vec::new(), Vec::new());
    for chunk in parsed.chunks {
        keys.extend(chunk.keys);
        key_lens.extend(chunk.key_lens);
        value_lens.extend(chunk.value_lens);
    }
    keys.par_sort_unstable();
    let distinct_keys = distinct(data, &keys);
    let fingerprint = xxh3_128(data);
    let profile = FileProfile {
        bytes: data.len() as u64,
        records: parsed.records,
        distinct_keys,
        duplicates: parsed.records - distinct_keys,
        skipped: parsed.skipped,
        key_len: Lengths::of(&mut key_lens),
        value_len: Lengths::of(&mut value_lens),
        fingerprint,
    };
    file.vouch(Ok(profile))
}

/// Distinct keys among `keys` (key hash, line offset), sorted by hash.
fn distinct(data: &[u8], keys: &[(u64, usize)]) -> u64 {
    let mut count = 0;
    for group in keys.chunk_by(|a, b| a.0 == b.0) {
        // Almost always one key per hash; a collision compares the keys themselves.
        let mut seen: Vec<&[u8]> = Vec::with_capacity(1);
        for &(_, offset) in group {
            let key = key_at(data, offset);
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        count += seen.len() as u64;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_nearest_rank() {
        assert_eq!(Lengths::of(&mut []), Lengths::default());
        assert_eq!(Lengths::of(&mut [7]), Lengths { min: 7, median: 7, p99: 7, max: 7 });
        let mut lens: Vec<u32> = (1..=200).rev().collect();
        assert_eq!(Lengths::of(&mut lens), Lengths { min: 1, median: 100, p99: 198, max: 200 });
    }

    #[test]
    fn a_file_is_described_as_the_strategies_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.tsv");
        // Tabs, CRLF, a duplicate key (first wins), a value with spaces, an empty value, no final newline.
        std::fs::write(&path, "alpha\tone\r\nbeta two words\nalpha\tagain\ngamma \ndelta\tlast").unwrap();
        let p = profile(&path, false).unwrap();
        assert_eq!((p.bytes, p.records, p.distinct_keys, p.duplicates, p.skipped), (55, 5, 4, 1, 0));
        assert_eq!(p.key_len, Lengths { min: 4, median: 5, p99: 5, max: 5 });
        assert_eq!(p.value_len, Lengths { min: 0, median: 4, p99: 9, max: 9 });
        std::fs::write(&path, "alpha\tone\r\nbad line without separator? no: it has one\nnosep\n").unwrap();
        assert!(matches!(profile(&path, false), Err(OpenError::Malformed { .. })));
        let lenient = profile(&path, true).unwrap();
        assert_eq!((lenient.records, lenient.skipped), (2, 1));
        let before = lenient.fingerprint;
        std::fs::write(&path, "alpha\tone\r\nbad line without separator? no: it has one\nnosep!\n").unwrap();
        assert_ne!(profile(&path, true).unwrap().fingerprint, before, "one byte more, another fingerprint");
    }
}
