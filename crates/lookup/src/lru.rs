//! `lru`: an LRU cache of a fraction of the keys in front of another strategy.
//!
//! The cache is split into shards, each an [`LruCache`] (the `lru` crate) behind its own
//! mutex, so threads rarely contend; with many shards the eviction order is
//! LRU per shard (an approximation of global LRU that real caches also make).
//! Only present keys are cached: absent keys always reach the backing strategy.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use ::lru::LruCache;

use crate::error::{LookupError, OpenError};
use crate::facts::{Facts, Family, Memory, Open, Start, WarmUp};
use crate::format::check_key;
use crate::info::{CacheStats, StrategyInfo};
use crate::{Lookup, Value};

/// What kvbench knows about `lru`.
pub(crate) const FACTS: Facts = Facts {
    name: "lru",
    family: Family::Composite,
    store: None,
    // Each cached entry: its key and value copied (with their allocation
    // headers), the list node and the map slot around them: ~180 B at 68 B a record.
    memory: Memory::PerCachedRecord(128),
    warm_up: WarmUp::Cache,
    memchr_floor: false,
    starts: &[Start::Warm],
    settings: &[],
    open: Open::With(|_, _| Err(OpenError::Config("lru needs a ratio and a backing strategy".into()))),
};

/// The fractions of the keys the default suite caches, each over
/// [`crate::Strategy::DEFAULT_LRU`]'s backing: a small cache and a large one.
pub(crate) const SUITE_RATIOS: [f64; 2] = [0.1, 0.5];

type Cache = LruCache<Box<[u8]>, Arc<[u8]>, ahash::RandomState>;
type Shard = Mutex<Cache>;

/// Caches with fewer entries than this use a single shard (exact LRU).
const SHARDING_THRESHOLD: usize = 4096;
const SHARDS: usize = 16;

/// An LRU cache holding `ratio` × keys entries in front of `inner`.
pub struct Lru<L> {
    inner: L,
    shards: Box<[Shard]>,
    hasher: ahash::RandomState,
    ratio: f64,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<L: Lookup> Lru<L> {
    /// Wraps `inner` with a cache for `ratio` (in `(0, 1]`) of its keys.
    ///
    /// The key count comes from `inner.info()` (distinct keys, or records for
    /// strategies that do not deduplicate); the cache holds at least one entry.
    pub fn new(inner: L, ratio: f64) -> Result<Self, OpenError> {
        if !(ratio > 0.0 && ratio <= 1.0) {
            return Err(OpenError::Config(format!("cache ratio {ratio} is not in (0, 1]")));
        }
        let info = inner.info();
        let keys = info.keys.or(info.records).unwrap_or(0);
        let capacity = ((keys as f64 * ratio).ceil() as usize).max(1);
        let shard_count = if capacity < SHARDING_THRESHOLD { 1 } else { SHARDS };
        let per_shard = NonZeroUsize::new(capacity.div_ceil(shard_count)).unwrap_or(NonZeroUsize::MIN);
        let hasher = ahash::RandomState::new();
        let shards = (0..shard_count).map(|_| Mutex::new(LruCache::with_hasher(per_shard, hasher.clone()))).collect();
        Ok(Lru {
            inner,
            shards,
            hasher,
            ratio,
            capacity: per_shard.get() * shard_count,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    /// The strategy behind the cache.
    pub fn inner(&self) -> &L {
        &self.inner
    }

    /// Current hit/miss counters and occupancy.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            capacity: self.capacity as u64,
            len: self.shards.iter().map(|s| lock(s).len() as u64).sum(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    #[allow(clippy::indexing_slicing, reason = "`open` makes at least one shard; the key only picks which")]
    fn shard(&self, key: &[u8]) -> &Shard {
        let index = (self.hasher.hash_one(key) >> 32) as usize % self.shards.len();
        // `index` is in range by construction; fall back to the first shard anyway.
        self.shards.get(index).unwrap_or(&self.shards[0])
    }
}

/// A poisoned shard only means another thread panicked mid-update of an LRU
/// list that stays structurally valid, so keep using it rather than panic.
fn lock(shard: &Shard) -> std::sync::MutexGuard<'_, Cache> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<L: Lookup> Lookup for Lru<L> {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let shard = self.shard(key);
        if let Some(value) = lock(shard).get(key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(Value::Shared(Arc::clone(value))));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let Some(value) = self.inner.get(key)? else {
            return Ok(None);
        };
        let value: Arc<[u8]> = Arc::from(&*value);
        // Vouch for the copy before caching it: it outlives the file's state.
        self.inner.check_data()?;
        lock(shard).put(key.into(), Arc::clone(&value));
        Ok(Some(Value::Shared(value)))
    }

    fn check_data(&self) -> Result<(), LookupError> {
        self.inner.check_data()
    }

    fn populate(&self) {
        self.inner.populate();
    }

    fn info(&self) -> StrategyInfo {
        let inner = self.inner.info();
        let stats = self.stats();
        StrategyInfo { name: format!("lru({},{})", self.ratio, inner.name), cache: Some(stats), ..inner }
    }
}
