//! Redis Cluster, spoken as a cluster-aware client speaks it, with no proxy
//! in between (the Redis Cluster specification, "Keys distribution model"
//! and "Redirection and resharding", redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/):
//!
//! - the slot map is read once from any node (`CLUSTER SLOTS`) before the
//!   load starts ([`SlotMap::fetch`]);
//! - each of the load's connections keeps one connection per node and sends
//!   each key's `GET` to the node serving the key's [`slot`];
//! - `-MOVED SLOT IP:PORT` (the slot has another owner) updates the map for
//!   that slot and asks there; `-ASK SLOT IP:PORT` (a slot being migrated)
//!   asks there once, after `ASKING`, leaving the map as it is.
//!
//! Requests follow redirections up to [`MAX_REDIRECTS`] times; a request
//! still redirected after that, or answered by a node that cannot be reached,
//! is an error of the load like any other.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::client::{Answer, ClientError, Connection, Parsed};
use crate::target::Target;

/// Slots of every Redis Cluster.
pub const SLOTS: u16 = 16_384;

/// The most redirections one request follows (a slot moving twice during one request is already rare).
pub const MAX_REDIRECTS: usize = 5;

/// How long reading the slot map may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The slot of `key`: CRC16 (XMODEM) mod 16384 of its hash tag (what lies
/// between its first `{` and the next `}`, if that is not empty), or of the whole key.
pub fn slot(key: &[u8]) -> u16 {
    let tag = key.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = key.get(open + 1..)?;
        let close = rest.iter().position(|&b| b == b'}')?;
        rest.get(..close).filter(|tag| !tag.is_empty())
    });
    crc16::State::<crc16::XMODEM>::calculate(tag.unwrap_or(key)) % SLOTS
}

/// Why the slot map could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The node did not answer `CLUSTER SLOTS`.
    #[error("cannot read the slot map from {addr}: {source}")]
    Fetch {
        /// The node asked.
        addr: SocketAddr,
        /// What went wrong.
        source: redis::RedisError,
    },
    /// Its answer is not a slot map kvbench can route by.
    #[error("the slot map from {addr} is not usable: {why}")]
    Map {
        /// The node asked.
        addr: SocketAddr,
        /// What is wrong with it.
        why: String,
    },
}

/// Which node serves each slot: what a node says in `CLUSTER SLOTS`, then
/// what `MOVED` redirections taught.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotMap {
    /// Every node named, in the order first named.
    nodes: Vec<SocketAddr>,
    /// Per slot, its node's index in `nodes` ([`UNSERVED`] for none).
    owner: Vec<u16>,
}

/// The owner of a slot no node serves.
const UNSERVED: u16 = u16::MAX;

impl SlotMap {
    /// Asks the node at `addr` for the cluster's slot map (`CLUSTER SLOTS`),
    /// before a load: this is not on the timed path.
    pub fn fetch(addr: SocketAddr) -> Result<SlotMap, ClusterError> {
        let fetch = |source| ClusterError::Fetch { addr, source };
        let client = redis::Client::open(format!("redis://{addr}/")).map_err(fetch)?;
        let mut connection = client.get_connection_with_timeout(FETCH_TIMEOUT).map_err(fetch)?;
        let reply: redis::Value = redis::cmd("CLUSTER").arg("SLOTS").query(&mut connection).map_err(fetch)?;
        SlotMap::from_reply(&reply, addr.ip()).map_err(|why| ClusterError::Map { addr, why })
    }

    /// The map a `CLUSTER SLOTS` reply describes: ranges of slots, each
    /// `[first, last, [ip, port, id, …] (the primary), replicas…]`. An empty
    /// IP means the node that was asked (`asked`). Every slot must be served.
    pub fn from_reply(reply: &redis::Value, asked: IpAddr) -> Result<SlotMap, String> {
        let redis::Value::Array(ranges) = reply else { return Err(format!("not an array: {reply:?}")) };
        let mut map = SlotMap { nodes: Vec::new(), owner: vec![UNSERVED; usize::from(SLOTS)] };
        for range in ranges {
            let fields = match range {
                redis::Value::Array(fields) => fields.as_slice(),
                _ => &[],
            };
            let (first, last, primary) = match fields {
                [redis::Value::Int(first), redis::Value::Int(last), redis::Value::Array(primary), ..] => {
                    (*first, *last, primary.as_slice())
                }
                _ => return Err(format!("a range is not [first, last, [ip, port, …], …]: {range:?}")),
            };
            let node = match primary {
                [redis::Value::BulkString(ip), redis::Value::Int(port), ..] => {
                    let port = u16::try_from(*port).map_err(|_| format!("port {port} out of range"))?;
                    endpoint(&String::from_utf8_lossy(ip), port, asked)?
                }
                _ => return Err(format!("a primary is not [ip, port, …]: {primary:?}")),
            };
            let slots = usize::try_from(first).ok().zip(usize::try_from(last).ok()).filter(|(f, l)| f <= l);
            let Some(owners) = slots.and_then(|(f, l)| map.owner.get_mut(f..=l)) else {
                return Err(format!("slots {first}–{last} are not a range of 0–{}", SLOTS - 1));
            };
            owners.fill(index_of(&mut map.nodes, node).ok_or("more nodes than slots")?);
        }
        match map.owner.iter().position(|&o| o == UNSERVED) {
            Some(slot) => Err(format!("slot {slot} is served by no node (is the cluster up?)")),
            None => Ok(map),
        }
    }

    /// Every node serving slots, in the order first named.
    pub fn nodes(&self) -> &[SocketAddr] {
        &self.nodes
    }

    /// The node serving `slot`.
    pub fn node(&self, slot: u16) -> Option<SocketAddr> {
        let index = *self.owner.get(usize::from(slot))?;
        self.nodes.get(usize::from(index)).copied()
    }

    /// Records that `node` now serves `slot` (a `MOVED` said so).
    fn moved(&mut self, slot: u16, node: SocketAddr) {
        if let Some(index) = index_of(&mut self.nodes, node)
            && let Some(owner) = self.owner.get_mut(usize::from(slot))
        {
            *owner = index;
        }
    }
}

/// The index of `node` in `nodes`, added at the end if it is new; `None` past `u16` indexes.
fn index_of(nodes: &mut Vec<SocketAddr>, node: SocketAddr) -> Option<u16> {
    let index = nodes.iter().position(|n| *n == node).unwrap_or_else(|| {
        nodes.push(node);
        nodes.len() - 1
    });
    u16::try_from(index).ok()
}

/// `IP:PORT` as a cluster names a node: an empty or `?` IP is the node that answered.
fn endpoint(ip: &str, port: u16, answered: IpAddr) -> Result<SocketAddr, String> {
    let ip = match ip.trim_start_matches('[').trim_end_matches(']') {
        "" | "?" => answered,
        ip => ip.parse().map_err(|_| format!("node {ip:?}: kvbench's load connects to IP addresses"))?,
    };
    Ok(SocketAddr::new(ip, port))
}

/// Where an error reply sends a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Redirect {
    /// `MOVED`: the slot is served by this node from now on.
    Moved(u16, SocketAddr),
    /// `ASK`: this one request goes to this node, after `ASKING`.
    Ask(SocketAddr),
}

/// The redirection in an error reply (`MOVED 3999 127.0.0.1:6381`), from the node `answered`.
fn redirect(message: &str, answered: IpAddr) -> Option<Redirect> {
    let mut words = message.split_ascii_whitespace();
    let (kind, slot, to) = (words.next()?, words.next()?, words.next()?);
    let slot: u16 = slot.parse().ok().filter(|&s| s < SLOTS)?;
    let (ip, port) = to.rsplit_once(':')?;
    let to = endpoint(ip, port.parse().ok()?, answered).ok()?;
    match kind {
        "MOVED" => Some(Redirect::Moved(slot, to)),
        "ASK" => Some(Redirect::Ask(to)),
        _ => None,
    }
}

/// One client of a cluster: a connection per node (opened as first needed)
/// and its own copy of the slot map, as each application process has.
pub struct ClusterConnection {
    map: SlotMap,
    nodes: HashMap<SocketAddr, Connection>,
}

impl ClusterConnection {
    /// A client routing by `map`, connected to nothing yet.
    pub fn new(map: SlotMap) -> ClusterConnection {
        ClusterConnection { map, nodes: HashMap::new() }
    }

    /// The slot map it routes by, with what redirections taught it.
    pub fn map(&self) -> &SlotMap {
        &self.map
    }

    /// Connects to every node of the map not connected yet, so that no timed request waits for a connection.
    pub async fn connect(&mut self) -> io::Result<()> {
        for node in self.map.nodes().to_vec() {
            self.connection(node).await?;
        }
        Ok(())
    }

    /// The connection to `node`, opened if there is none.
    async fn connection(&mut self, node: SocketAddr) -> io::Result<&mut Connection> {
        Ok(match self.nodes.entry(node) {
            Entry::Occupied(open) => open.into_mut(),
            Entry::Vacant(none) => none.insert(Connection::connect(Target::Resp(node)).await?),
        })
    }

    /// Asks the node serving `key` for it, following redirections.
    pub async fn get(&mut self, key: &[u8]) -> Result<Answer<'_>, ClientError> {
        let slot = slot(key);
        let mut node = self.map.node(slot).ok_or_else(|| ClientError::Malformed(format!("no node for slot {slot}")))?;
        let mut asking = false;
        for _ in 0..=MAX_REDIRECTS {
            let sent = match self.connection(node).await {
                Ok(connection) => connection.send(key, asking).await,
                Err(err) => Err(err.into()),
            };
            let reply = match sent {
                Ok(reply) => reply,
                Err(err) => {
                    // This node's connection may be mid-reply: the next request opens a fresh one.
                    self.nodes.remove(&node);
                    return Err(err);
                }
            };
            let redirected = match &reply {
                Parsed::Error(message) => redirect(message, node.ip()),
                _ => None,
            };
            match redirected {
                None => {
                    let connection = self.nodes.get(&node).ok_or_else(|| io::Error::other("connection is gone"))?;
                    return connection.answer(reply);
                }
                Some(Redirect::Moved(moved, to)) => {
                    self.map.moved(moved, to);
                    (node, asking) = (to, false);
                }
                Some(Redirect::Ask(to)) => (node, asking) = (to, true),
            }
        }
        Err(ClientError::Malformed(format!("still redirected after {MAX_REDIRECTS} redirections")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::Value::{Array, BulkString, Int};

    #[test]
    fn slots_are_the_specification_s() {
        // The specification's example: CRC16 of "123456789" is 0x31C3 = 12739.
        assert_eq!(slot(b"123456789"), 12_739);
        // Hash tags: only the part between the first `{` and the next `}`, when not empty.
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        assert_eq!(slot(b"foo{}{bar}"), slot(b"foo{}{bar}"), "an empty tag hashes the whole key");
        assert_ne!(slot(b"foo{}{bar}"), slot(b"bar"));
        assert_eq!(slot(b"foo{{bar}}zap"), slot(b"{bar"));
        assert_eq!(slot(b"foo{bar}{zap}"), slot(b"bar"));
        assert!(slot(b"") < SLOTS);
    }

    fn range(first: i64, last: i64, ip: &str, port: i64) -> redis::Value {
        let primary = Array(vec![BulkString(ip.into()), Int(port), BulkString(b"id".to_vec())]);
        Array(vec![Int(first), Int(last), primary])
    }

    #[test]
    fn a_slot_map_is_read_from_cluster_slots() {
        let asked: IpAddr = [127, 0, 0, 1].into();
        let reply = Array(vec![range(0, 5460, "127.0.0.1", 7000), range(5461, 16383, "", 7001)]);
        let map = SlotMap::from_reply(&reply, asked).unwrap();
        let (a, b) = (SocketAddr::from(([127, 0, 0, 1], 7000)), SocketAddr::from(([127, 0, 0, 1], 7001)));
        assert_eq!(map.nodes(), [a, b]);
        assert_eq!(
            (map.node(0), map.node(5460), map.node(5461), map.node(16383)),
            (Some(a), Some(a), Some(b), Some(b))
        );
        assert_eq!(map.node(SLOTS), None);

        let gap = Array(vec![range(0, 5460, "127.0.0.1", 7000)]);
        assert!(SlotMap::from_reply(&gap, asked).unwrap_err().contains("slot 5461 is served by no node"));
        for bad in [range(5, 2, "127.0.0.1", 7000), range(0, 16384, "127.0.0.1", 7000), range(0, 1, "host", 7000)] {
            assert!(SlotMap::from_reply(&Array(vec![bad.clone()]), asked).is_err(), "{bad:?}");
        }
        assert!(SlotMap::from_reply(&Int(1), asked).is_err());
    }

    #[test]
    fn redirections_are_read_and_moved_updates_the_map() {
        let answered: IpAddr = [127, 0, 0, 2].into();
        let to = SocketAddr::from(([127, 0, 0, 1], 7002));
        assert_eq!(redirect("MOVED 3999 127.0.0.1:7002", answered), Some(Redirect::Moved(3999, to)));
        assert_eq!(redirect("ASK 3999 127.0.0.1:7002", answered), Some(Redirect::Ask(to)));
        // Redis 7 leaves the host out when it does not know it: the node that answered.
        assert_eq!(redirect("MOVED 1 :7002", answered), Some(Redirect::Moved(1, SocketAddr::new(answered, 7002))));
        for other in ["ERR unknown", "MOVED 16384 127.0.0.1:1", "MOVED x 127.0.0.1:1", "MOVED 1", "CLUSTERDOWN x y"] {
            assert_eq!(redirect(other, answered), None, "{other}");
        }
        let reply = Array(vec![range(0, 16383, "127.0.0.1", 7000)]);
        let mut map = SlotMap::from_reply(&reply, answered).unwrap();
        map.moved(3999, to);
        assert_eq!((map.node(3999), map.node(4000)), (Some(to), Some(SocketAddr::from(([127, 0, 0, 1], 7000)))));
        assert_eq!(map.nodes().len(), 2);
    }
}
