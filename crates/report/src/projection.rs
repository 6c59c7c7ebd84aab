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

/// What the measured cluster projects to.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// Keys the nodes held when measured.
    pub keys: u64,
    /// Nodes measured.
    pub nodes: usize,
    /// All nodes' peak RSS over the keys they held (each node's fixed ~10 MB included).
    pub bytes_per_key: f64,
}

impl Cluster {
    /// Memory all nodes need for `keys` keys at the measured bytes per key.
    pub fn memory(&self, keys: u64) -> f64 {
        self.bytes_per_key * keys as f64
    }

    /// Nodes of [`NODE_BYTES`] filled to [`NODE_FILL`] that hold `keys` keys.
    pub fn nodes_for(&self, keys: u64) -> u64 {
        (self.memory(keys) / (NODE_BYTES as f64 * NODE_FILL)).ceil() as u64
    }
}

/// The cluster's bytes per key from the macro suite: the median over its
/// loads of the nodes' summed peak RSS (`redis-cluster nodes`), over the keys.
pub fn cluster(data: &Data) -> Option<Cluster> {
    let mut sums: Vec<(u64, f64)> = data
        .records(Source::Macro)
        .filter(|r| r.is_plain("redis-cluster nodes") && r.metric == Metric::ServerRss)
        .map(|r| (r.dataset.keys, r.value))
        .collect();
    let keys = sums.iter().map(|s| s.0).max()?;
    sums.retain(|s| s.0 == keys);
    sums.sort_by(|a, b| a.1.total_cmp(&b.1));
    let median = sums.get(sums.len() / 2)?.1;
    let mut nodes: Vec<&str> = data
        .records(Source::Macro)
        .filter(|r| r.case.strategy.starts_with("redis-cluster node ") && r.dataset.keys == keys)
        .map(|r| r.case.strategy.as_str())
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    Some(Cluster { keys, nodes: nodes.len(), bytes_per_key: median / keys.max(1) as f64 })
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
