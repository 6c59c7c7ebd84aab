//! Workloads: deterministic streams of keys to look up.
//!
//! A [`Workload`] is an access pattern over the file's keys ([`Access`]) plus
//! a fraction of absent keys. The same workload, seed and key list always give
//! the same stream, so micro-benchmarks, cache sweeps and load tests replay
//! exactly the same lookups.

use std::sync::Arc;

use rand::RngExt;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Zipf};

use crate::generate::{block_rng, uuid_v4};
use crate::keys::{KeyPool, Keys};

/// Stream number for workload draws, apart from data blocks and key sampling.
const WORKLOAD_STREAM: u64 = u64::MAX - 2;

pub use kvbench_results::workload::{Access, MAX_BATCH, ParseWorkloadError, Workload};

/// The key streams of a [`Workload`], which lives in `kvbench-results` (records name it)
/// while the random draws live here.
pub trait KeyStreams {
    /// A stream of `len` lookups over `keys` (the file's keys, in file order).
    ///
    /// With no keys, every lookup is a miss.
    fn stream(&self, keys: &dyn Keys, len: usize, seed: u64) -> KeyStream {
        let mut stream = KeyStream::default();
        self.sampler(keys, seed).fill(&mut stream, len);
        stream
    }

    /// An endless source of lookups over `keys`; [`KeyStreams::stream`] is its first `len`.
    ///
    /// Use it where a finite stream would repeat: a cache fed a repeating
    /// stream ends up holding all of it and reports hits a real workload
    /// would not give.
    fn sampler<'k>(&self, keys: &'k dyn Keys, seed: u64) -> Sampler<'k> {
        self.draws(keys, seed).sampler(0)
    }

    /// What every sampler of this workload over `keys` with `seed` shares (the
    /// Zipf ranking of the keys, 4 bytes a key, drawn once), for
    /// [`Draws::sampler`] to hand out independent samplers, one per client
    /// connection say.
    fn draws<'k>(&self, keys: &'k dyn Keys, seed: u64) -> Draws<'k>;
}

impl KeyStreams for Workload {
    fn draws<'k>(&self, keys: &'k dyn Keys, seed: u64) -> Draws<'k> {
        let mut rng = block_rng(seed, WORKLOAD_STREAM);
        let n = keys.len();
        let zipf = match self.access {
            Access::Zipf { theta } | Access::Latest { theta } if n > 0 => Zipf::new(n as f64, theta).ok(),
            _ => None,
        };
        // Zipf ranks map to keys through a seeded shuffle, so the popular keys
        // are spread over the file rather than all at its start.
        let ranking: Arc<[u32]> = match self.access {
            Access::Zipf { .. } => {
                let mut order: Vec<u32> = (0..n as u32).collect();
                order.shuffle(&mut rng);
                order.into()
            }
            _ => Arc::new([]),
        };
        Draws { workload: *self, keys, rng, zipf, ranking }
    }
}

/// A workload over a key list with a seed, shared by the samplers it hands out.
#[derive(Clone)]
pub struct Draws<'k> {
    workload: Workload,
    keys: &'k dyn Keys,
    /// The RNG after the ranking was drawn: stream 0 of the seed.
    rng: rand_chacha::ChaCha8Rng,
    zipf: Option<Zipf<f64>>,
    ranking: Arc<[u32]>,
}

impl<'k> Draws<'k> {
    /// The `stream`-th of 2^64 independent samplers of this seed; stream 0 is
    /// [`KeyStreams::sampler`]'s. They share the key list and the Zipf ranking,
    /// so the same keys are popular in every stream.
    pub fn sampler(&self, stream: u64) -> Sampler<'k> {
        let mut draws = self.clone();
        draws.rng.set_stream(stream);
        Sampler(draws)
    }
}

/// One lookup drawn by a [`Sampler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drawn<'k> {
    /// A key of the list, expected to be found.
    Present(&'k [u8]),
    /// A random UUID, expected to be absent.
    Absent([u8; 36]),
}

impl Drawn<'_> {
    /// The key to look up.
    pub fn key(&self) -> &[u8] {
        match self {
            Drawn::Present(key) => key,
            Drawn::Absent(uuid) => uuid,
        }
    }

    /// Whether the key is expected to be found.
    pub fn present(&self) -> bool {
        matches!(self, Drawn::Present(_))
    }
}

/// Draws lookups of a [`Workload`] one after another, without end.
pub struct Sampler<'k>(Draws<'k>);

impl<'k> Sampler<'k> {
    /// The next lookup.
    pub fn draw(&mut self) -> Drawn<'k> {
        let Draws { workload, keys, rng, zipf, ranking } = &mut self.0;
        let n = keys.len();
        if n == 0 || rng.random_bool(workload.miss_fraction.clamp(0.0, 1.0)) {
            return Drawn::Absent(uuid_v4(rng));
        }
        let rank = zipf.as_ref().map(|z| (z.sample(rng) as usize).clamp(1, n) - 1);
        let index = match (workload.access, rank) {
            (Access::Zipf { .. }, Some(rank)) => ranking.get(rank).map_or(0, |&i| i as usize),
            (Access::Latest { .. }, Some(rank)) => n - 1 - rank,
            _ => rng.random_range(0..n),
        };
        Drawn::Present(keys.get(index as u64))
    }

    /// Appends the next lookup to `out`.
    pub fn push_next(&mut self, out: &mut KeyStream) {
        let drawn = self.draw();
        out.push(drawn.key(), drawn.present());
    }

    /// Replaces the contents of `out` with the next `len` lookups.
    pub fn fill(&mut self, out: &mut KeyStream, len: usize) {
        out.clear();
        for _ in 0..len {
            self.push_next(out);
        }
    }
}

/// Keys in lookup order, each with whether it is expected to be present.
///
/// Keys are laid out contiguously in order, so a benchmark reading the next
/// key reads memory sequentially and adds no cache miss of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyStream {
    keys: KeyPool,
    present: Vec<bool>,
}

impl KeyStream {
    fn push(&mut self, key: &[u8], present: bool) {
        self.keys.push(key);
        self.present.push(present);
    }

    /// Empties the stream, keeping its buffers.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.present.clear();
    }

    /// Number of lookups before the stream repeats.
    pub fn len(&self) -> usize {
        self.present.len()
    }

    /// Whether the stream is empty.
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// The `i`-th lookup (cycling): the key and whether it should be found.
    pub fn get(&self, i: u64) -> (&[u8], bool) {
        let at = if self.present.is_empty() { 0 } else { (i % self.present.len() as u64) as usize };
        (self.keys.get(at as u64), self.present.get(at).copied().unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize) -> KeyPool {
        let mut pool = KeyPool::default();
        for i in 0..n {
            pool.push(format!("key{i}").as_bytes());
        }
        pool
    }

    fn counts(stream: &KeyStream, n: usize) -> Vec<usize> {
        let mut counts = vec![0; n];
        for i in 0..stream.len() as u64 {
            let (key, present) = stream.get(i);
            if present {
                let index: usize = std::str::from_utf8(&key[3..]).unwrap().parse().unwrap();
                counts[index] += 1;
            }
        }
        counts
    }

    #[test]
    fn streams_are_deterministic() {
        let keys = pool(1000);
        for w in [Workload::UNIFORM, Workload::ZIPF, Workload::MISS] {
            assert_eq!(w.stream(&keys, 500, 3), w.stream(&keys, 500, 3));
            assert_ne!(w.stream(&keys, 500, 3), w.stream(&keys, 500, 4));
        }
    }

    #[test]
    fn a_sampler_continues_where_a_stream_stops() {
        let keys = pool(1000);
        let long = Workload::ZIPF.stream(&keys, 300, 9);
        let mut sampler = Workload::ZIPF.sampler(&keys, 9);
        let (mut a, mut b) = (KeyStream::default(), KeyStream::default());
        sampler.fill(&mut a, 100);
        sampler.fill(&mut b, 200);
        for i in 0..100 {
            assert_eq!(a.get(i), long.get(i));
        }
        for i in 0..200 {
            assert_eq!(b.get(i), long.get(100 + i));
        }
    }

    #[test]
    fn streams_of_one_seed_are_independent_and_share_the_ranking() {
        let keys = pool(1000);
        let draws = Workload::ZIPF.draws(&keys, 9);
        let take = |mut s: Sampler<'_>| (0..200).map(|_| s.draw().key().to_vec()).collect::<Vec<_>>();
        assert_eq!(take(draws.sampler(0)), take(Workload::ZIPF.sampler(&keys, 9)), "stream 0 is the seed's sampler");
        assert_eq!(take(draws.sampler(3)), take(draws.sampler(3)));
        assert_ne!(take(draws.sampler(3)), take(draws.sampler(4)));
        // One ranking: the most popular key is the same in every stream.
        let top = |stream| {
            let mut sampler = draws.sampler(stream);
            let mut stream = KeyStream::default();
            sampler.fill(&mut stream, 20_000);
            let c = counts(&stream, 1000);
            (0..1000).max_by_key(|&i| c[i]).unwrap()
        };
        assert_eq!(top(1), top(2));
    }

    #[test]
    fn uniform_is_flat() {
        let c = counts(&Workload::UNIFORM.stream(&pool(100), 100_000, 1), 100);
        assert!(c.iter().all(|&n| (800..1200).contains(&n)), "{c:?}");
    }

    #[test]
    fn zipf_top_key_takes_its_share() {
        // Under Zipf(0.99) over 1000 keys the top key's share is
        // 1 / sum(k^-0.99, k = 1..=1000) ~= 0.133.
        let n = 1000;
        let mut c = counts(&Workload::ZIPF.stream(&pool(n), 200_000, 1), n);
        c.sort_unstable_by(|a, b| b.cmp(a));
        let harmonic: f64 = (1..=n).map(|k| (k as f64).powf(-0.99)).sum();
        let share = c[0] as f64 / 200_000.0;
        assert!((share - 1.0 / harmonic).abs() < 0.01, "top share {share}");
        let top10: usize = c[..10].iter().sum();
        assert!(top10 > 200_000 * 35 / 100, "top 10 keys take {top10}");
    }

    #[test]
    fn latest_favours_the_end_of_the_file() {
        let c = counts(
            &Workload { access: Access::Latest { theta: 0.99 }, ..Workload::UNIFORM }.stream(&pool(1000), 50_000, 1),
            1000,
        );
        assert!(c[999] > c[0] * 50, "last {} first {}", c[999], c[0]);
    }

    #[test]
    fn miss_fraction_is_respected() {
        let keys = pool(1000);
        let w: Workload = "uniform,miss=0.25".parse().unwrap();
        let stream = w.stream(&keys, 40_000, 2);
        let misses = (0..stream.len() as u64).filter(|&i| !stream.get(i).1).count();
        assert!((9_000..11_000).contains(&misses), "{misses}");
        assert!((0..1000).all(|i| Workload::MISS.stream(&keys, 1000, 2).get(i).0.len() == 36));
        assert!(!Workload::UNIFORM.stream(&KeyPool::default(), 10, 1).get(3).1);
    }
}
