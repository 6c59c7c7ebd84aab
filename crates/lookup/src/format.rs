//! The data format: one `<key><space or tab><value>` record per line.
//!
//! The key is every byte up to the first space or tab; the value is the rest
//! of the line (it may contain spaces). One trailing `\r` is stripped, the last
//! line may lack its `\n`, and the *first* record of a key wins. Keys are
//! compared as bytes; values are bytes (not necessarily UTF-8).
//!
//! [`parse`] walks a whole file in parallel chunks, which every strategy that
//! indexes the file (or validates it) shares, so they agree on what a record is.

use std::ops::Range;
use std::path::Path;

use memchr::{memchr, memchr2, memchr3};
use rayon::prelude::*;

use crate::error::{KeyFault, LineFault, OpenError};

/// The longest key a record may have, in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// One record of a data file (a line split into key and value), borrowed from the file's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// Byte offset of the start of the line in the file.
    pub offset: usize,
    /// The key (never empty, never longer than [`MAX_KEY_LEN`]).
    pub key: &'a [u8],
    /// The value, without line ending.
    pub value: &'a [u8],
}

/// Splits one line (without its `\n`) into key and value.
pub fn split_line(line: &[u8]) -> Result<(&[u8], &[u8]), LineFault> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let sep = memchr2(b' ', b'\t', line).ok_or(LineFault::NoSeparator)?;
    if sep == 0 {
        return Err(LineFault::EmptyKey);
    }
    if sep > MAX_KEY_LEN {
        return Err(LineFault::KeyTooLong(sep));
    }
    let (key, rest) = line.split_at(sep);
    Ok((key, rest.get(1..).unwrap_or_default()))
}

/// Checks that `key` could be the key of a record; every `get` starts here.
pub fn check_key(key: &[u8]) -> Result<(), KeyFault> {
    if key.is_empty() {
        Err(KeyFault::Empty)
    } else if key.len() > MAX_KEY_LEN {
        Err(KeyFault::TooLong(key.len()))
    } else if has_control_or_space(key) && memchr3(b' ', b'\t', b'\n', key).is_some() {
        Err(KeyFault::Separator)
    } else {
        Ok(())
    }
}

/// Whether any byte of `key` is at or below `b' '` (every separator is):
/// the common key has none, and then `check_key` need not look for them.
///
/// Why not `memchr3` alone: on a 36-byte key its call and setup cost ~50 ns
/// of a lookup's ~300 ns when lookups run back to back (measured on 1M keys,
/// phf-index), where these eight-bytes-at-a-time tests cost ~4 ns.
#[inline]
fn has_control_or_space(key: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut words = key.chunks_exact(8);
    // A byte below 0x21 borrows into its high bit ("hasless" from Bit Twiddling Hacks).
    let below = words.by_ref().fold(0, |acc, word| {
        let x = u64::from_ne_bytes(word.try_into().unwrap_or_default());
        acc | (x.wrapping_sub(ONES * 0x21) & !x & HIGH)
    });
    below != 0 || words.remainder().iter().any(|&b| b <= b' ')
}

/// If the line starting at `offset` has key `key`, its value.
///
/// Bounds are checked, so an offset from a stale or corrupt index can only
/// miss, never panic or return another key's value.
pub fn value_if_key_at<'a>(data: &'a [u8], offset: usize, key: &[u8]) -> Option<&'a [u8]> {
    let start = offset.checked_add(key.len())?.checked_add(1)?;
    key_is_at(data, offset, key).then(|| value_at(data.get(start..).unwrap_or_default()))
}

/// Whether the line starting at `offset` has key `key` (bounds-checked).
pub fn key_is_at(data: &[u8], offset: usize, key: &[u8]) -> bool {
    data.get(offset..)
        .and_then(|line| line.strip_prefix(key))
        .is_some_and(|rest| matches!(rest.first(), Some(b' ' | b'\t')))
}

/// How many bytes of a value [`value_at`] searches for its end first.
const NEAR: usize = 64;

/// How many bytes from a record's start [`value_if_key_at`] reads for a key
/// of `key_len` bytes when the value ends within [`NEAR`] bytes: the key, its
/// separator and the near bytes of the value (what a batch prefetches).
pub(crate) fn record_reads(key_len: usize) -> usize {
    key_len + 1 + NEAR
}

/// Where the first `\n` of `bytes` is: the first [`NEAR`] bytes compared at
/// once (four 16-byte compares, one branch), then memchr over the rest.
///
/// Why not memchr alone: from a value's start it reads 128-byte strides,
/// past the value's end into cache lines nobody prefetched, which cost a
/// batch of lookups a miss each; and memchr over just the first 64 bytes
/// takes several branches on bytes that just arrived from memory, whose
/// mispredictions cost back-to-back lookups their overlap. On 1M keys (suite,
/// two runs of each against memchr alone): `hashmap` back to back 348-361 →
/// 282-285 ns, in batches of 64 115-127 → 84-86 ns; `phf-index` 411-419 →
/// 350-370 ns and 136-149 → 85-90 ns (with [`record_reads`]' lines prefetched).
#[inline]
fn line_end(bytes: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(near) = bytes.first_chunk::<NEAR>() {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
        let mut mask = 0u64;
        for (i, part) in near.chunks_exact(16).enumerate() {
            // SAFETY: SSE2 is part of x86_64's baseline; `part` holds the 16
            // bytes the unaligned load reads.
            let bits = unsafe {
                let v = _mm_loadu_si128(part.as_ptr().cast::<__m128i>());
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)))
            };
            mask |= u64::from(bits as u16) << (16 * i);
        }
        if mask != 0 {
            return Some(mask.trailing_zeros() as usize);
        }
        return memchr(b'\n', bytes.get(NEAR..).unwrap_or_default()).map(|end| end + NEAR);
    }
    memchr(b'\n', bytes)
}

/// The value that starts `rest`: bytes up to the end of the line, minus one `\r`.
pub fn value_at(rest: &[u8]) -> &[u8] {
    let line = match line_end(rest) {
        Some(end) => rest.get(..end).unwrap_or_default(),
        None => rest,
    };
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The key of the line starting at `offset` (up to its first separator).
pub fn key_at(data: &[u8], offset: usize) -> &[u8] {
    let line = data.get(offset..).unwrap_or_default();
    let end = memchr2(b' ', b'\t', line).unwrap_or(line.len());
    line.get(..end).unwrap_or_default()
}

/// What [`parse`] found in a whole file.
#[derive(Debug)]
pub struct Parsed<T> {
    /// One accumulator per chunk, in file order.
    pub chunks: Vec<T>,
    /// Valid records seen.
    pub records: u64,
    /// Malformed lines skipped (lenient mode only).
    pub skipped: u64,
}

/// Visits every record of `data` in parallel chunks of whole lines.
///
/// Each chunk gets its own accumulator from `init`; `visit` is called for each
/// record of the chunk in file order, and the accumulators come back in file
/// order, so a caller can still apply "first occurrence wins". A malformed line
/// is an [`OpenError::Malformed`] naming `path` and the line number, unless
/// `lenient`, in which case it is skipped and counted.
pub fn parse<'d, T, I, V>(path: &Path, data: &'d [u8], lenient: bool, init: I, visit: V) -> Result<Parsed<T>, OpenError>
where
    T: Send,
    I: Fn() -> T + Sync,
    V: Fn(&mut T, Line<'d>) + Sync,
{
    let outs: Vec<ChunkOut<T>> =
        chunk_ranges(data).into_par_iter().map(|range| parse_chunk(data, range, lenient, &init, &visit)).collect();
    let mut parsed = Parsed { chunks: Vec::with_capacity(outs.len()), records: 0, skipped: 0 };
    let mut lines_before = 0;
    for out in outs {
        if let Some((line, fault)) = out.fault {
            return Err(OpenError::Malformed { path: path.to_owned(), line: lines_before + line, fault });
        }
        lines_before += out.lines;
        parsed.records += out.records;
        parsed.skipped += out.skipped;
        parsed.chunks.push(out.acc);
    }
    Ok(parsed)
}

struct ChunkOut<T> {
    acc: T,
    lines: u64,
    records: u64,
    skipped: u64,
    /// 1-based line number within the chunk, and what is wrong with it.
    fault: Option<(u64, LineFault)>,
}

fn parse_chunk<'d, T>(
    data: &'d [u8],
    range: Range<usize>,
    lenient: bool,
    init: &impl Fn() -> T,
    visit: &impl Fn(&mut T, Line<'d>),
) -> ChunkOut<T> {
    let mut out = ChunkOut { acc: init(), lines: 0, records: 0, skipped: 0, fault: None };
    let chunk = data.get(range.clone()).unwrap_or_default();
    let mut pos = 0;
    while pos < chunk.len() {
        let end = memchr(b'\n', chunk.get(pos..).unwrap_or_default()).map_or(chunk.len(), |i| pos + i);
        out.lines += 1;
        match split_line(chunk.get(pos..end).unwrap_or_default()) {
            Ok((key, value)) => {
                out.records += 1;
                visit(&mut out.acc, Line { offset: range.start + pos, key, value });
            }
            Err(_) if lenient => out.skipped += 1,
            Err(fault) => {
                out.fault = Some((out.lines, fault));
                break;
            }
        }
        pos = end + 1;
    }
    out
}

/// Splits `data` into ranges of whole lines, a few per thread.
fn chunk_ranges(data: &[u8]) -> Vec<Range<usize>> {
    const MIN_CHUNK: usize = 1 << 20;
    let target = (data.len() / (rayon::current_num_threads() * 4)).max(MIN_CHUNK);
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let guess = start.saturating_add(target);
        let end = if guess >= data.len() {
            data.len()
        } else {
            memchr(b'\n', data.get(guess..).unwrap_or_default()).map_or(data.len(), |i| guess + i + 1)
        };
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// Counts the records of a file, failing on the first malformed line unless `lenient`.
pub fn validate(path: &Path, data: &[u8], lenient: bool) -> Result<Parsed<()>, OpenError> {
    parse(path, data, lenient, || (), |_, _| {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_line_cases() {
        assert_eq!(split_line(b"k v"), Ok((&b"k"[..], &b"v"[..])));
        assert_eq!(split_line(b"k\tv w\r"), Ok((&b"k"[..], &b"v w"[..])));
        assert_eq!(split_line(b"k "), Ok((&b"k"[..], &b""[..])));
        assert_eq!(split_line(b"k"), Err(LineFault::NoSeparator));
        assert_eq!(split_line(b""), Err(LineFault::NoSeparator));
        assert_eq!(split_line(b" v"), Err(LineFault::EmptyKey));
        let long = [b'a'; MAX_KEY_LEN + 1];
        assert_eq!(split_line(&[&long[..], b" v"].concat()), Err(LineFault::KeyTooLong(MAX_KEY_LEN + 1)));
    }

    /// Around the [`NEAR`] bytes compared at once: the first `\n` is found
    /// wherever it is, or not at all, at every length.
    #[test]
    fn line_end_agrees_with_memchr() {
        for len in [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 200] {
            let plain = vec![b'v'; len];
            assert_eq!(line_end(&plain), None, "len {len}");
            for at in 0..len {
                let mut bytes = plain.clone();
                bytes[at] = b'\n';
                if at + 1 < len {
                    bytes[len - 1] = b'\n';
                }
                assert_eq!(line_end(&bytes), Some(at), "len {len}, newline at {at}");
            }
        }
    }

    /// Every byte value at every position of keys of several lengths (the
    /// eight-byte words and the tail): the quick test never misses a byte at
    /// or below `b' '`, so `check_key` never misses a separator.
    #[test]
    fn the_quick_separator_test_agrees_with_a_byte_loop() {
        for len in [1, 7, 8, 9, 16, 36, 41] {
            for at in 0..len {
                for byte in 0..=u8::MAX {
                    let mut key = vec![b'a'; len];
                    key[at] = byte;
                    assert_eq!(has_control_or_space(&key), byte <= b' ', "len {len}, byte {byte} at {at}");
                    let separator = matches!(byte, b' ' | b'\t' | b'\n');
                    assert_eq!(
                        check_key(&key) == Err(KeyFault::Separator),
                        separator,
                        "len {len}, byte {byte} at {at}"
                    );
                }
            }
        }
        let mut high = vec![0xffu8; 36];
        high[20] = b'\t';
        assert_eq!(check_key(&high), Err(KeyFault::Separator));
    }

    #[test]
    fn chunks_cover_the_data_at_line_starts() {
        let data: Vec<u8> = (0..300_000).flat_map(|i| format!("k{i} v\n").into_bytes()).collect();
        let ranges = chunk_ranges(&data);
        assert!(ranges.len() > 1);
        assert_eq!(ranges.first().map(|r| r.start), Some(0));
        assert_eq!(ranges.last().map(|r| r.end), Some(data.len()));
        for pair in ranges.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
            assert_eq!(data[pair[1].start - 1], b'\n');
        }
    }

    #[test]
    fn line_numbers_are_global_across_chunks() {
        let mut data: Vec<u8> = (0..300_000).flat_map(|i| format!("k{i} v\n").into_bytes()).collect();
        data.extend_from_slice(b"broken\n");
        let err = validate(Path::new("f.txt"), &data, false).unwrap_err();
        assert!(matches!(err, OpenError::Malformed { line: 300_001, fault: LineFault::NoSeparator, .. }), "{err}");
        let ok = validate(Path::new("f.txt"), &data, true).unwrap();
        assert_eq!((ok.records, ok.skipped), (300_000, 1));
    }
}
