//! A local Redis Cluster: N `redis-server` processes in cluster mode, for the
//! `redis-cluster` strategy's tests and the macro benchmark.
//!
//! Each node is a [`RedisServer`] (same free loopback port, no persistence,
//! killed and reaped when dropped) started with `--cluster-enabled yes`, its
//! cluster config file in a temporary folder of the cluster's own, and its
//! cluster bus on a second free port (`--cluster-port`: the default, port +
//! 10000, may be taken or past 65535). The 16384 slots are split evenly with
//! `CLUSTER ADDSLOTSRANGE`, the first node meets every other (`CLUSTER MEET`),
//! and [`RedisCluster::start`] returns once every node says
//! `cluster_state:ok` and knows all N nodes: writes sent earlier get `CLUSTERDOWN`.
//! No replicas: every node is a primary.

use std::cell::Cell;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::{PeerError, RedisServer, ask, free_port};

/// Nodes of a cluster when nothing else is asked for.
pub const DEFAULT_NODES: usize = 3;
/// Slots of every Redis Cluster.
const SLOTS: usize = 16_384;
/// How long the nodes may take to agree that the cluster is up.
const FORM_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause between two looks at the nodes' `CLUSTER INFO`.
const POLL: Duration = Duration::from_millis(50);

/// A running Redis Cluster on loopback ports; every node is stopped, and its folder removed, when dropped.
#[derive(Debug)]
pub struct RedisCluster {
    /// The nodes, in slot order (node `i` owns the `i`-th share of the slots).
    nodes: Vec<RedisServer>,
    /// The nodes' cluster config files and logs; removed after the nodes stop.
    dir: tempfile::TempDir,
}

impl RedisCluster {
    /// Starts `nodes` nodes, assigns every slot, joins them and waits until the cluster is up.
    pub fn start(nodes: usize) -> Result<RedisCluster, PeerError> {
        if nodes == 0 || nodes > SLOTS {
            return Err(PeerError::Cluster(format!("{nodes} nodes: a cluster has 1 to {SLOTS}")));
        }
        let dir = tempfile::Builder::new().prefix("kvbench-cluster-").tempdir()?;
        // From here on, dropping `cluster` stops the nodes started so far.
        let mut cluster = RedisCluster { nodes: Vec::with_capacity(nodes), dir };
        let mut buses = Vec::with_capacity(nodes);
        for _ in 0..nodes {
            let bus = Cell::new(0);
            let path = cluster.dir.path().to_owned();
            let node = RedisServer::start_in(&path, &|port| {
                bus.set(free_port()?.port());
                Ok(vec![
                    OsString::from("--cluster-enabled"),
                    "yes".into(),
                    "--cluster-port".into(),
                    bus.get().to_string().into(),
                    "--cluster-config-file".into(),
                    path.join(format!("nodes-{port}.conf")).into(),
                ])
            })?;
            cluster.nodes.push(node);
            buses.push(bus.get());
        }
        for (i, node) in cluster.nodes.iter().enumerate() {
            let (first, last) = slot_range(i, nodes);
            command(node.addr(), &format!("CLUSTER ADDSLOTSRANGE {first} {last}"))?;
        }
        if let Some((first, others)) = cluster.nodes.split_first() {
            for (other, bus) in others.iter().zip(buses.iter().skip(1)) {
                command(first.addr(), &format!("CLUSTER MEET 127.0.0.1 {} {bus}", other.addr().port()))?;
            }
        }
        cluster.wait_until_formed()?;
        Ok(cluster)
    }

    /// A cluster of [`DEFAULT_NODES`] for a test, or `None` (after saying so on
    /// stderr) when redis-server is not installed; panics instead if `CI` is
    /// set or if it is installed but the cluster does not form.
    pub fn for_test() -> Option<RedisCluster> {
        crate::for_test(RedisCluster::start(DEFAULT_NODES))
    }

    /// Each node's URL (`redis://127.0.0.1:PORT/`), in slot order: any of them seeds a cluster client.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// Each node's address.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(RedisServer::addr).collect()
    }

    /// Each node's process id.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes.iter().map(RedisServer::pid).collect()
    }

    /// Waits (up to [`FORM_TIMEOUT`]) until every node reports `cluster_state:ok` and knows every node.
    fn wait_until_formed(&self) -> Result<(), PeerError> {
        let deadline = Instant::now() + FORM_TIMEOUT;
        let known = format!("cluster_known_nodes:{}", self.nodes.len());
        loop {
            // The first node not yet happy, and what it says.
            let unhappy = self.nodes.iter().find_map(|node| {
                let info = ask(node.addr(), b"CLUSTER INFO\r\n").map(|r| String::from_utf8_lossy(&r).into_owned());
                match info {
                    Ok(info) if has_line(&info, "cluster_state:ok") && has_line(&info, &known) => None,
                    Ok(info) => Some(format!("node {} says:\n{}", node.addr(), info.trim())),
                    Err(e) => Some(format!("node {} did not answer CLUSTER INFO: {e}", node.addr())),
                }
            });
            let Some(why) = unhappy else { return Ok(()) };
            if Instant::now() >= deadline {
                return Err(PeerError::Cluster(format!("not formed within {FORM_TIMEOUT:?}: {why}")));
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for RedisCluster {
    /// Stops and reaps every node first (each [`RedisServer`]'s own drop), then the folder goes.
    fn drop(&mut self) {
        self.nodes.clear();
    }
}

/// The first and last slot node `i` of `nodes` owns: an even split, the remainder spread over the first nodes.
fn slot_range(i: usize, nodes: usize) -> (usize, usize) {
    let start = |i: usize| i * SLOTS / nodes;
    (start(i), start(i + 1) - 1)
}

/// Sends an inline command that must answer `+OK`.
fn command(addr: SocketAddr, command: &str) -> Result<(), PeerError> {
    let reply = ask(addr, format!("{command}\r\n").as_bytes())?;
    if reply.starts_with(b"+OK") {
        Ok(())
    } else {
        Err(PeerError::Cluster(format!("{command} on {addr}: {}", String::from_utf8_lossy(&reply).trim())))
    }
}

/// Whether `info` (a `CLUSTER INFO` reply) has the line `line`.
fn has_line(info: &str, line: &str) -> bool {
    info.lines().any(|l| l.trim() == line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_split_evenly_and_completely() {
        for nodes in [1, 2, 3, 7] {
            let ranges: Vec<_> = (0..nodes).map(|i| slot_range(i, nodes)).collect();
            assert_eq!(ranges[0].0, 0);
            assert_eq!(ranges[nodes - 1].1, SLOTS - 1);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].1 + 1, pair[1].0, "{ranges:?}");
            }
            let sizes: Vec<_> = ranges.iter().map(|(a, b)| b - a + 1).collect();
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
        }
        assert!(matches!(RedisCluster::start(0), Err(PeerError::Cluster(_))));
    }

    #[test]
    fn forms_answers_and_frees_every_port_when_dropped() {
        let Some(cluster) = RedisCluster::for_test() else { return };
        let (addrs, pids) = (cluster.addrs(), cluster.pids());
        assert_eq!((addrs.len(), pids.len()), (DEFAULT_NODES, DEFAULT_NODES));
        assert_eq!(cluster.urls()[0], format!("redis://{}/", addrs[0]));
        for &addr in &addrs {
            let info = String::from_utf8(ask(addr, b"CLUSTER INFO\r\n").unwrap()).unwrap();
            assert!(has_line(&info, "cluster_state:ok") && has_line(&info, "cluster_slots_assigned:16384"), "{info}");
        }
        let dir = cluster.dir.path().to_owned();
        assert!(dir.is_dir());
        drop(cluster);
        for (addr, pid) in addrs.into_iter().zip(pids) {
            assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "pid {pid} still running");
            let refused = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200));
            assert!(refused.is_err(), "{addr} still accepts connections");
        }
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}
