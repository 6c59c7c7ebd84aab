//! Keys to look up: present keys sampled from a data file, and absent keys.

use memchr::{memchr, memchr2};
use rand::RngExt;

use crate::generate::{block_rng, uuid_v4};

/// Stream number for absent keys, far from any data block's stream.
const ABSENT_STREAM: u64 = u64::MAX;

/// `n` keys of records in `data`, picked at random offsets (deterministic for a seed).
///
/// A line is picked with probability proportional to the length of the line
/// before it, which is uniform enough when lines have similar lengths.
pub fn present_keys(data: &[u8], n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = block_rng(seed, ABSENT_STREAM - 1);
    let mut keys = Vec::with_capacity(n);
    if data.is_empty() {
        return keys;
    }
    let mut attempts = 0;
    while keys.len() < n && attempts < n * 8 + 64 {
        attempts += 1;
        let at = rng.random_range(0..data.len());
        let start = if at == 0 { 0 } else { memchr(b'\n', &data[at - 1..]).map_or(data.len(), |i| at + i) };
        let line = &data[start.min(data.len())..];
        if let Some(sep) = memchr2(b' ', b'\t', line).filter(|&s| s > 0 && memchr(b'\n', &line[..s]).is_none()) {
            keys.push(line[..sep].to_vec());
        }
    }
    keys
}

/// `n` random UUID v4 keys that a generated file holds only with negligible probability.
pub fn absent_keys(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = block_rng(seed, ABSENT_STREAM);
    (0..n).map(|_| uuid_v4(&mut rng).to_vec()).collect()
}
