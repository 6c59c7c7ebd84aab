//! Workloads: deterministic streams of keys to look up.
//!
//! A [`Workload`] is an access pattern over the file's keys ([`Access`]) plus
//! a fraction of absent keys. The same workload, seed and key list always give
//! the same stream, so micro-benchmarks, cache sweeps and load tests replay
//! exactly the same lookups.

use std::fmt;
use std::str::FromStr;

use std::sync::Arc;

use rand::RngExt;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Zipf};

use crate::generate::{block_rng, uuid_v4};
use crate::keys::{KeyPool, Keys};

/// Stream number for workload draws, apart from data blocks and key sampling.
const WORKLOAD_STREAM: u64 = u64::MAX - 2;

/// Which present keys are asked for, and how often.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Access {
    /// Every key equally likely.
    Uniform,
    /// Zipf over a fixed random ranking of the keys, with exponent `theta`
    /// (YCSB uses 0.99): a few keys take most lookups.
    Zipf {
        /// Skew: 0 is uniform, ~1 is heavily skewed.
        theta: f64,
    },
    /// Zipf over recency: the last keys of the file are the most popular
    /// (YCSB's "latest", for data appended over time).
    Latest {
        /// Skew, as for [`Access::Zipf`].
        theta: f64,
    },
}

/// A workload: an access pattern, a fraction of lookups for absent keys, and
/// how many keys each call asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Workload {
    /// How present keys are picked.
    pub access: Access,
    /// Fraction of lookups (0..=1) that ask for a key the file does not hold.
    pub miss_fraction: f64,
    /// Keys per call: 1 asks one at a time (`Lookup::get`), more asks them in
    /// batches (`Lookup::get_many`), and figures are then time per key.
    pub batch: usize,
}

/// The largest batch a workload may ask for.
pub const MAX_BATCH: usize = 4096;

impl Workload {
    /// Uniform over present keys, no misses.
    pub const UNIFORM: Workload = Workload { access: Access::Uniform, miss_fraction: 0.0, batch: 1 };
    /// Only absent keys.
    pub const MISS: Workload = Workload { access: Access::Uniform, miss_fraction: 1.0, batch: 1 };
    /// Zipf 0.99 over present keys, as YCSB.
    pub const ZIPF: Workload = Workload { access: Access::Zipf { theta: 0.99 }, miss_fraction: 0.0, batch: 1 };

    /// The same keys, asked `batch` at a time.
    pub fn batched(self, batch: usize) -> Workload {
        Workload { batch, ..self }
    }

    /// A stream of `len` lookups over `keys` (the file's keys, in file order).
    ///
    /// With no keys, every lookup is a miss.
    pub fn stream(&self, keys: &dyn Keys, len: usize, seed: u64) -> KeyStream {
        let mut stream = KeyStream::default();
        self.sampler(keys, seed).fill(&mut stream, len);
        stream
    }

    /// An endless source of lookups over `keys`; [`Workload::stream`] is its first `len`.
    ///
    /// Use it where a finite stream would repeat: a cache fed a repeating
    /// stream ends up holding all of it and reports hits a real workload
    /// would not give.
    pub fn sampler<'k>(&self, keys: &'k dyn Keys, seed: u64) -> Sampler<'k> {
        self.draws(keys, seed).sampler(0)
    }

    /// What every sampler of this workload over `keys` with `seed` shares (the
    /// Zipf ranking of the keys, 4 bytes a key, drawn once), for
    /// [`Draws::sampler`] to hand out independent samplers, one per client
    /// connection say.
    pub fn draws<'k>(&self, keys: &'k dyn Keys, seed: u64) -> Draws<'k> {
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
    /// [`Workload::sampler`]'s. They share the key list and the Zipf ranking,
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

/// `uniform`, `zipf:0.99`, `latest:0.99`, `miss`, or any of these with
/// `,miss=F` and then `,batch=N`.
impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.miss_fraction >= 1.0 {
            f.write_str("miss")?;
        } else {
            match self.access {
                Access::Uniform => f.write_str("uniform")?,
                Access::Zipf { theta } => write!(f, "zipf:{theta}")?,
                Access::Latest { theta } => write!(f, "latest:{theta}")?,
            }
            if self.miss_fraction > 0.0 {
                write!(f, ",miss={}", self.miss_fraction)?;
            }
        }
        if self.batch > 1 {
            write!(f, ",batch={}", self.batch)?;
        }
        Ok(())
    }
}

/// Why a workload could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid workload {0:?}: expected uniform, zipf[:THETA], latest[:THETA] or miss, optionally followed by \
     ,miss=FRACTION and ,batch=N (1 to {max} keys per call)",
    max = MAX_BATCH
)]
pub struct ParseWorkloadError(String);

impl FromStr for Workload {
    type Err = ParseWorkloadError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseWorkloadError(s.to_owned());
        let mut parts = s.split(',');
        let access = parts.next().unwrap_or_default();
        let theta = |t: Option<&str>| -> Result<f64, ParseWorkloadError> {
            match t {
                None => Ok(0.99),
                Some(t) => t.parse().ok().filter(|t: &f64| t.is_finite() && *t >= 0.0).ok_or_else(err),
            }
        };
        let (name, arg) = match access.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (access, None),
        };
        let mut workload = match name {
            "uniform" if arg.is_none() => Workload::UNIFORM,
            "miss" if arg.is_none() => Workload::MISS,
            "zipf" => Workload { access: Access::Zipf { theta: theta(arg)? }, ..Workload::UNIFORM },
            "latest" => Workload { access: Access::Latest { theta: theta(arg)? }, ..Workload::UNIFORM },
            _ => return Err(err()),
        };
        let (mut miss, mut batch) = (None, None);
        for option in parts {
            match option.split_once('=') {
                Some(("miss", f)) if miss.is_none() && name != "miss" => miss = Some(f),
                Some(("batch", n)) if batch.is_none() => batch = Some(n),
                _ => return Err(err()),
            }
        }
        if let Some(miss) = miss {
            workload.miss_fraction = miss.parse().ok().filter(|m| (0.0..=1.0).contains(m)).ok_or_else(err)?;
        }
        if let Some(batch) = batch {
            workload.batch = batch.parse().ok().filter(|n| (1..=MAX_BATCH).contains(n)).ok_or_else(err)?;
        }
        Ok(workload)
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
    fn parses_and_prints() {
        for s in [
            "uniform",
            "miss",
            "zipf:0.99",
            "latest:0.5",
            "uniform,miss=0.1",
            "zipf:1.2,miss=0.5",
            "uniform,batch=64",
            "miss,batch=16",
            "zipf:0.99,miss=0.1,batch=4096",
        ] {
            assert_eq!(s.parse::<Workload>().unwrap().to_string(), s);
        }
        assert_eq!("zipf".parse::<Workload>().unwrap(), Workload::ZIPF);
        for bad in [
            "",
            "zipf:-1",
            "zipf:x",
            "uniform:1",
            "uniform,miss=2",
            "uniform,hit=0.1",
            "gauss",
            "uniform,batch=0",
            "uniform,batch=4097",
            "uniform,batch=64,batch=2",
            "miss,miss=0.5",
        ] {
            assert!(bad.parse::<Workload>().is_err(), "{bad}");
        }
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
