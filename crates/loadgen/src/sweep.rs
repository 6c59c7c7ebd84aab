//! What `kvbench bench macro` measures: server configurations and the loads put on each.
//!
//! A full cross product (connections × threads × strategies × keys × value
//! sizes × protocols) would take hours; the plan instead varies one thing at a
//! time around a base (`hashmap`, 1M keys of ~30-byte values, one server
//! thread, 64 connections, closed loop), which is what each chart of the
//! report needs. Each [`Group`] is one server process, loaded several times;
//! the peers (`redis-server`, a Python dict behind `http.server`) get the
//! same loads on the same keys (not in the quick plan, which CI runs).

use std::path::PathBuf;

use kvbench_lookup::{Strategy, StrategyKind};
use kvbench_peers::cluster::DEFAULT_NODES;
use kvbench_results::DatasetInfo;
use kvbench_workload::{Dataset, ValueLen};

use crate::target::Protocol;

/// How much to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// A smoke run on 10K keys (CI).
    Quick,
    /// The default sweep (10K, 100K and 1M keys).
    Default,
    /// The default sweep plus `hashmap` and `mmap-index` on 10M keys.
    Full,
}

/// How a load paces its requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// Closed loop: as fast as the server answers.
    Closed,
    /// Open loop at this fraction of the closed-loop maximum measured on the
    /// same server and protocol at [`BASE_CONNECTIONS`].
    FractionOfMax(f64),
}

/// One load on a running server.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Load {
    /// Protocol spoken.
    pub protocol: Protocol,
    /// Client connections.
    pub connections: usize,
    /// Closed or open loop.
    pub pace: Pace,
}

impl Load {
    /// A number that names this load (protocol, connections, pace), the same
    /// on every server, different for any two loads that differ.
    pub fn id(&self) -> u64 {
        let protocol = match self.protocol {
            Protocol::Http => 0,
            Protocol::Resp => 1,
        };
        // Fractions of the maximum in thousandths: 0 is the closed loop.
        let pace = match self.pace {
            Pace::Closed => 0,
            Pace::FractionOfMax(f) => 1 + (f.clamp(0.0, 1.0) * 1000.0).round() as u64,
        };
        (self.connections as u64) << 12 | protocol << 11 | pace
    }
}

/// A server under test: kvbench with a strategy, or a peer measured the same way.
#[derive(Clone, Debug, PartialEq)]
pub enum Server {
    /// `kvbench serve --strategy S --threads N`.
    Kvbench {
        /// The strategy served.
        strategy: Strategy,
        /// `--threads`.
        threads: usize,
    },
    /// A real `redis-server` holding the same keys (RESP only).
    Redis,
    /// A Redis Cluster of `redis-server` primaries holding the same keys, the
    /// load routing each key to its node itself (RESP only; no proxy between).
    RedisCluster {
        /// Primaries.
        nodes: usize,
    },
    /// The seed-style baseline: a Python dict behind `http.server` (HTTP only).
    PythonDict,
}

impl Server {
    /// The label in results and tables: the strategy, `redis-server` or `python-dict`.
    pub fn label(&self) -> String {
        match self {
            Server::Kvbench { strategy, .. } => strategy.to_string(),
            Server::Redis => kvbench_results::REDIS_SERVER.into(),
            Server::RedisCluster { .. } => kvbench_results::REDIS_CLUSTER_SERVER.into(),
            Server::PythonDict => kvbench_results::PYTHON_DICT.into(),
        }
    }

    /// Threads serving requests (the peers' request path is one thread each, a cluster's one per node).
    pub fn threads(&self) -> usize {
        match self {
            Server::Kvbench { threads, .. } => *threads,
            Server::RedisCluster { nodes } => *nodes,
            Server::Redis | Server::PythonDict => 1,
        }
    }
}

/// The data a server answers from.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// A dataset kvbench generates into the data folder on first use.
    Generated(Dataset),
    /// A file the user brought, and how results name it.
    File {
        /// The file.
        path: PathBuf,
        /// Its description as measured ([`kvbench_harness::suite::file_info`]).
        info: DatasetInfo,
    },
}

impl From<Dataset> for Data {
    fn from(dataset: Dataset) -> Self {
        Data::Generated(dataset)
    }
}

/// One server process and the loads it gets, closed loops first.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The server.
    pub server: Server,
    /// The data served.
    pub dataset: Data,
    /// The loads, in order.
    pub loads: Vec<Load>,
}

/// Connections of the base configuration (as results and the report know it).
pub const BASE_CONNECTIONS: usize = kvbench_results::BASE_CONNECTIONS as usize;

const PROTOCOLS: [Protocol; 2] = [Protocol::Http, Protocol::Resp];

fn closed(connections: &[usize]) -> Vec<Load> {
    connections
        .iter()
        .flat_map(|&connections| PROTOCOLS.map(|protocol| Load { protocol, connections, pace: Pace::Closed }))
        .collect()
}

fn open(fractions: &[f64]) -> Vec<Load> {
    fractions
        .iter()
        .flat_map(|&f| {
            PROTOCOLS.map(|protocol| Load { protocol, connections: BASE_CONNECTIONS, pace: Pace::FractionOfMax(f) })
        })
        .collect()
}

fn group(strategy: Strategy, dataset: impl Into<Data>, threads: usize, loads: Vec<Load>) -> Group {
    Group { server: Server::Kvbench { strategy, threads }, dataset: dataset.into(), loads }
}

/// A peer at the base connections and the connection sweep's ends, on the protocol it speaks.
fn peer(server: Server, dataset: impl Into<Data>, protocol: Protocol) -> Group {
    let loads = [1, 16, BASE_CONNECTIONS, 256].map(|connections| Load { protocol, connections, pace: Pace::Closed });
    Group { server, dataset: dataset.into(), loads: loads.to_vec() }
}

/// The strategies [`plan_for_files`] serves a user's file with when none are chosen.
pub fn file_strategies() -> Vec<Strategy> {
    vec![
        Strategy::Plain(StrategyKind::HashMap),
        Strategy::Plain(StrategyKind::MmapIndex),
        Strategy::Plain(StrategyKind::PhfIndex),
        Strategy::DEFAULT_LRU,
    ]
}

/// The groups for the user's files: each of `strategies` served by one
/// thread at the base connections over both protocols, then `redis-server`
/// (RESP) and the Python dict (HTTP) on the same file and keys at the same
/// connections, for same-run ratios; with `redis-cluster` among the
/// strategies, the same cluster asked directly too (`redis-cluster-server`).
pub fn plan_for_files(files: &[(DatasetInfo, PathBuf)], strategies: &[Strategy]) -> Vec<Group> {
    let mut groups = Vec::new();
    for (info, path) in files {
        let data = Data::File { path: path.clone(), info: info.clone() };
        for strategy in strategies {
            groups.push(group(strategy.clone(), data.clone(), 1, closed(&[BASE_CONNECTIONS])));
        }
        let cluster = strategies.iter().any(|s| s.reader() == StrategyKind::RedisCluster);
        let direct = cluster.then_some((Server::RedisCluster { nodes: DEFAULT_NODES }, Protocol::Resp));
        for (server, protocol) in
            [(Server::Redis, Protocol::Resp), (Server::PythonDict, Protocol::Http)].into_iter().chain(direct)
        {
            let load = Load { protocol, connections: BASE_CONNECTIONS, pace: Pace::Closed };
            groups.push(Group { server, dataset: data.clone(), loads: vec![load] });
        }
    }
    groups
}

/// The groups to run at `scale`.
pub fn plan(scale: Scale) -> Vec<Group> {
    let plain = Strategy::Plain;
    let lru = |ratio| Strategy::Lru { ratio, backing: StrategyKind::MmapIndex };
    let hashmap = plain(StrategyKind::HashMap);
    if scale == Scale::Quick {
        let small = Dataset::new(10_000);
        let mut base = closed(&[1, 16, BASE_CONNECTIONS]);
        base.extend(open(&[0.5]));
        return vec![
            group(hashmap, small, 1, base),
            group(plain(StrategyKind::MmapIndex), small, 2, closed(&[16])),
            // A cache, so the smoke run warms one and records its hit rate.
            group(lru(0.5), small, 1, closed(&[BASE_CONNECTIONS])),
        ];
    }
    let million = Dataset::new(kvbench_results::BASE_KEYS);
    let sweep = [1, 4, 16, BASE_CONNECTIONS, 256];
    let mut base = closed(&sweep);
    base.extend(open(&[0.25, 0.5, 0.75, 0.9]));
    let at_base = || closed(&[BASE_CONNECTIONS]);
    let sized = |value_len| Dataset { value_len, ..Dataset::new(100_000) };
    let mut groups = vec![
        group(hashmap.clone(), million, 1, base),
        group(hashmap.clone(), million, 2, closed(&sweep)),
        group(plain(StrategyKind::MmapIndex), million, 1, at_base()),
        group(plain(StrategyKind::PhfIndex), million, 1, at_base()),
    ];
    // The engines a user might pick instead, served the same way (those this build has).
    let built = StrategyKind::ENGINES.into_iter().filter(|kind| kind.is_built());
    groups.extend(built.map(|kind| group(plain(kind), million, 1, at_base())));
    // kvbench answering from a local Redis Cluster (started, loaded and sampled per node by the launcher),
    // and the same cluster loaded directly, as an application's cluster client would.
    groups.push(group(plain(StrategyKind::RedisCluster), million, 1, at_base()));
    groups.push(peer(Server::RedisCluster { nodes: DEFAULT_NODES }, million, Protocol::Resp));
    groups.extend([
        group(lru(0.1), million, 1, at_base()),
        group(lru(0.5), million, 1, at_base()),
        group(plain(StrategyKind::Scan), Dataset::new(10_000), 1, at_base()),
        group(hashmap.clone(), Dataset::new(10_000), 1, at_base()),
        group(hashmap.clone(), sized(ValueLen::default()), 1, at_base()),
        group(hashmap.clone(), sized(ValueLen::Fixed(300)), 1, at_base()),
        group(hashmap.clone(), sized(ValueLen::Fixed(3000)), 1, at_base()),
        peer(Server::Redis, million, Protocol::Resp),
        peer(Server::PythonDict, million, Protocol::Http),
    ]);
    if scale == Scale::Full {
        let ten_million = Dataset::new(10_000_000);
        groups.push(group(hashmap, ten_million, 1, at_base()));
        groups.push(group(plain(StrategyKind::MmapIndex), ten_million, 1, at_base()));
        groups.push(group(plain(StrategyKind::PhfIndex), ten_million, 1, at_base()));
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_loops_follow_a_closed_loop_at_the_base_connections_on_the_same_server() {
        for scale in [Scale::Quick, Scale::Default, Scale::Full] {
            for group in plan(scale) {
                for (i, load) in group.loads.iter().enumerate() {
                    if let Pace::FractionOfMax(f) = load.pace {
                        assert!(f > 0.0 && f < 1.0);
                        let reference = Load { pace: Pace::Closed, connections: BASE_CONNECTIONS, ..*load };
                        assert!(group.loads[..i].contains(&reference), "{group:?}");
                    }
                }
            }
        }
        for group in plan(Scale::Full) {
            let ids: std::collections::BTreeSet<u64> = group.loads.iter().map(Load::id).collect();
            assert_eq!(ids.len(), group.loads.len(), "every load of a server has its own id: {group:?}");
        }
        let open = Load { protocol: Protocol::Resp, connections: 64, pace: Pace::FractionOfMax(0.5) };
        assert_ne!(open.id(), Load { pace: Pace::FractionOfMax(0.25), ..open }.id());
        assert_ne!(open.id(), Load { protocol: Protocol::Http, ..open }.id());
        assert_ne!(open.id(), Load { pace: Pace::Closed, ..open }.id());
        let loads = |scale| plan(scale).iter().map(|g| g.loads.len()).sum::<usize>();
        assert!(loads(Scale::Quick) < loads(Scale::Default) && loads(Scale::Default) < loads(Scale::Full));
    }
}
