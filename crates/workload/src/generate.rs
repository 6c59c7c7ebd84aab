//! The dataset generator: `<uuid v4> <value>` lines, byte-identical for a seed.
//!
//! Lines are produced in blocks of [`BLOCK_LINES`], each from its own ChaCha8
//! stream seeded by `(seed, block number)`, so blocks are generated in parallel
//! and the output does not depend on the number of threads.

use std::io::{self, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::value_len::ValueLen;

/// Lines per independently seeded block.
pub const BLOCK_LINES: u64 = 1 << 16;

/// Value bytes are drawn from these 64 printable ASCII characters (no space,
/// so values never start or end with a separator).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GenSpec {
    /// Number of lines (keys).
    pub keys: u64,
    /// Seed; the same seed gives the same bytes.
    pub seed: u64,
    /// Value-length distribution.
    pub value_len: ValueLen,
}

/// What was generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenSummary {
    /// Lines written.
    pub keys: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// A seeded RNG for one block of a stream (also used for absent keys).
pub fn block_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&stream.to_le_bytes());
    ChaCha8Rng::from_seed(bytes)
}

/// A random UUID v4, lowercase and hyphenated (36 bytes).
pub fn uuid_v4(rng: &mut impl Rng) -> [u8; 36] {
    let mut random = [0u8; 16];
    rng.fill_bytes(&mut random);
    let mut text = [0u8; 36];
    uuid::Builder::from_random_bytes(random).into_uuid().hyphenated().encode_lower(&mut text);
    text
}

fn block(spec: &GenSpec, index: u64) -> Vec<u8> {
    let lines = BLOCK_LINES.min(spec.keys - index * BLOCK_LINES);
    let mut rng = block_rng(spec.seed, index);
    let mut out = Vec::with_capacity(lines as usize * (38 + spec.value_len.mean() as usize + 8));
    let mut value = Vec::new();
    for _ in 0..lines {
        out.extend_from_slice(&uuid_v4(&mut rng));
        out.push(b' ');
        value.resize(spec.value_len.sample(&mut rng), 0);
        rng.fill_bytes(&mut value);
        out.extend(value.iter().map(|b| ALPHABET[usize::from(b & 63)]));
        out.push(b'\n');
    }
    out
}

/// Writes the dataset to `out`, calling `progress(lines so far)` as it goes.
pub fn generate(spec: &GenSpec, out: &mut impl Write, progress: impl Fn(u64)) -> io::Result<GenSummary> {
    let blocks = spec.keys.div_ceil(BLOCK_LINES);
    let window = (rayon::current_num_threads() * 2) as u64;
    let mut bytes = 0;
    let mut start = 0;
    while start < blocks {
        let end = (start + window).min(blocks);
        let chunk: Vec<Vec<u8>> = (start..end).into_par_iter().map(|i| block(spec, i)).collect();
        for buf in chunk {
            out.write_all(&buf)?;
            bytes += buf.len() as u64;
        }
        progress((end * BLOCK_LINES).min(spec.keys));
        start = end;
    }
    out.flush()?;
    Ok(GenSummary { keys: spec.keys, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kvbench_lookup::Reference;

    fn gen_bytes(spec: &GenSpec) -> Vec<u8> {
        let mut out = Vec::new();
        generate(spec, &mut out, |_| {}).unwrap();
        out
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let spec = GenSpec { keys: BLOCK_LINES + 10, seed: 7, value_len: ValueLen::default() };
        let a = gen_bytes(&spec);
        assert_eq!(a, gen_bytes(&spec));
        assert_ne!(a, gen_bytes(&GenSpec { seed: 8, ..spec }));
    }

    #[test]
    fn lines_are_valid_records_with_uuid_keys() {
        let spec = GenSpec { keys: 5000, seed: 1, value_len: ValueLen::Uniform { min: 20, max: 40 } };
        let data = gen_bytes(&spec);
        let reference = Reference::from_bytes(&data);
        assert!(reference.malformed.is_empty());
        assert_eq!(reference.len(), 5000);
        for key in reference.keys() {
            let text = std::str::from_utf8(key).unwrap();
            let uuid = uuid::Uuid::parse_str(text).unwrap();
            assert_eq!(uuid.get_version_num(), 4);
            assert_eq!(text, text.to_lowercase());
            let value = reference.value(key).unwrap();
            assert!((20..=40).contains(&value.len()));
            assert!(value.iter().all(|b| b.is_ascii_graphic()));
        }
    }

    #[test]
    fn default_lengths_have_mean_and_median_near_30() {
        let spec = GenSpec { keys: 20_000, seed: 3, value_len: ValueLen::default() };
        let data = gen_bytes(&spec);
        let mut lens: Vec<usize> =
            data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| l.len() - 37).collect();
        lens.sort_unstable();
        let mean = lens.iter().sum::<usize>() as f64 / lens.len() as f64;
        let median = lens[lens.len() / 2];
        assert!((mean - 30.0).abs() < 0.5, "mean {mean}");
        assert_eq!(median, 30);
    }
}
