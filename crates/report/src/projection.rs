//! A projection, not a measurement: what a 1B-key file would need, from
//! figures measured per key. A Redis Cluster holds every record in its
//! nodes' memory, so its need grows with the keys at the bytes per key its
//! nodes measured; `phf-index` and `mmap-index` keep an index on disk beside
//! the file and need in memory only what the lookups touch (all of it for
//! full speed, much less at the cost of faults: see the memory-limited runs).

use kvbench_results::Metric;

use crate::data::{Cases, Data, Source};

/// The key count projected to.
pub const TARGET_KEYS: u64 = 1_000_000_000;

/// Memory per cluster node the projection fills (a common large instance).
pub const NODE_BYTES: u64 = 64 << 30;

/// Share of a node's memory a projection fills: Redis needs headroom to fork, rehash and fragment.
pub const NODE_FILL: f64 = 0.75;

/// Replicas per primary the projection counts: a cluster that holds data
/// anyone needs runs at least one, each holding all of its primary's keys.
pub const REPLICAS: u64 = 1;

/// Bytes a file may reach before the offsets that address it need more than 32 bits.
pub const OFFSETS_WIDEN: f64 = 4.0 * (1u64 << 30) as f64;

/// How the cluster's bytes per key were taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PerKey {
    /// The growth of the nodes' memory between two key counts over the keys
    /// added: each node's empty baseline subtracted.
    Slope {
        /// The smaller key count measured.
        from: u64,
    },
    /// The nodes' memory over the keys at one key count: each node's empty
    /// baseline included (over-counts at a small key count).
    Whole,
}

/// What the measured cluster projects to.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// Keys the nodes held when measured.
    pub keys: u64,
    /// Nodes measured.
    pub nodes: usize,
    /// All primaries' peak RSS per key they held (see [`Cluster::per_key`]).
    pub bytes_per_key: f64,
    /// How [`Cluster::bytes_per_key`] was taken.
    pub per_key: PerKey,
}

impl Cluster {
    /// Memory the primaries need for `keys` keys at the measured bytes per key.
    pub fn primaries_memory(&self, keys: u64) -> f64 {
        self.bytes_per_key * keys as f64
    }

    /// Memory all nodes need for `keys` keys, each primary with [`REPLICAS`] replicas.
    pub fn memory(&self, keys: u64) -> f64 {
        self.primaries_memory(keys) * (1 + REPLICAS) as f64
    }

    /// Primaries of [`NODE_BYTES`] filled to [`NODE_FILL`] that hold `keys` keys (each with [`REPLICAS`] more).
    pub fn primaries_for(&self, keys: u64) -> u64 {
        (self.primaries_memory(keys) / (NODE_BYTES as f64 * NODE_FILL)).ceil() as u64
    }
}

/// The median over the macro suite's loads of the nodes' summed peak RSS
/// (`redis-cluster nodes`), per key count measured, smallest first.
fn nodes_rss(data: &Data) -> Vec<(u64, f64)> {
    let sums: Vec<(u64, f64)> = data
        .records(Source::Macro)
        .filter(|r| r.is_plain("redis-cluster nodes") && r.metric == Metric::ServerRss)
        .map(|r| (r.dataset.keys, r.value))
        .collect();
    let mut counts: Vec<u64> = sums.iter().map(|s| s.0).collect();
    counts.sort_unstable();
    counts.dedup();
    counts
        .into_iter()
        .filter_map(|keys| {
            let mut at: Vec<f64> = sums.iter().filter(|s| s.0 == keys).map(|s| s.1).collect();
            at.sort_by(f64::total_cmp);
            Some((keys, *at.get(at.len() / 2)?))
        })
        .collect()
}

/// The cluster's bytes per key from the macro suite: where it was loaded
/// with two key counts or more, the growth of the nodes' memory between the
/// smallest and the largest over the keys added (each node's empty baseline
/// subtracted); else the nodes' memory over the keys.
pub fn cluster(data: &Data) -> Option<Cluster> {
    let rss = nodes_rss(data);
    let &(keys, most) = rss.last()?;
    let (bytes_per_key, per_key) = match rss.first() {
        Some(&(from, least)) if from < keys && most > least => {
            ((most - least) / (keys - from) as f64, PerKey::Slope { from })
        }
        _ => (most / keys.max(1) as f64, PerKey::Whole),
    };
    let mut nodes: Vec<&str> = data
        .records(Source::Macro)
        .filter(|r| r.case.strategy.starts_with("redis-cluster node ") && r.dataset.keys == keys)
        .map(|r| r.case.strategy.as_str())
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    Some(Cluster { keys, nodes: nodes.len(), bytes_per_key, per_key })
}

/// What one machine serving `strategy` measured per key at the largest suite
/// dataset: its keys, resident bytes per key (everything it touched, mapped
/// pages included) and disk bytes per key beside the data.
pub fn one_machine(data: &Data, strategy: &str) -> Option<(u64, f64, Option<f64>)> {
    let keys = data.largest(Source::Suite)?.keys;
    let case = Cases::of(data, strategy, keys)?;
    let case = case.steady()?;
    let resident = data.value(Source::Suite, case, keys, None, Metric::ResidentBytesPerKey)?;
    Some((keys, resident, data.value(Source::Suite, case, keys, None, Metric::DiskBytesPerKey)))
}
