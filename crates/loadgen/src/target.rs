//! The server to load and the protocol to speak to it.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// The protocols the load generator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// HTTP/1.1.
    Http,
    /// RESP (Redis protocol).
    Resp,
}

impl Protocol {
    /// `http` or `resp`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Resp => "resp",
        }
    }

    /// This protocol at `addr`.
    pub fn at(self, addr: SocketAddr) -> Target {
        match self {
            Protocol::Http => Target::Http(addr),
            Protocol::Resp => Target::Resp(addr),
        }
    }
}

/// A server address and its protocol, written `http://ADDR`, `resp://ADDR`
/// or `redis-cluster://ADDR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// HTTP/1.1: `GET /{key}`, `200` with the value or `404`.
    Http(SocketAddr),
    /// RESP: `GET key`, a bulk string or null.
    Resp(SocketAddr),
    /// A Redis Cluster, seeded by one of its nodes: RESP `GET`s sent by slot
    /// to the node that serves each key, as a cluster-aware client sends them (`cluster.rs`).
    Cluster(SocketAddr),
}

impl Target {
    /// The server's address.
    pub fn addr(self) -> SocketAddr {
        match self {
            Target::Http(addr) | Target::Resp(addr) | Target::Cluster(addr) => addr,
        }
    }

    /// The protocol spoken.
    pub fn protocol(self) -> Protocol {
        match self {
            Target::Http(_) => Protocol::Http,
            Target::Resp(_) | Target::Cluster(_) => Protocol::Resp,
        }
    }

    /// The scheme it is written with.
    fn scheme(self) -> &'static str {
        match self {
            Target::Cluster(_) => CLUSTER_SCHEME,
            _ => self.protocol().name(),
        }
    }
}

/// The scheme of a [`Target::Cluster`].
const CLUSTER_SCHEME: &str = "redis-cluster";

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme(), self.addr())
    }
}

/// Why a target could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid target {0:?}: expected http://IP:PORT, resp://IP:PORT or redis-cluster://IP:PORT (any node)")]
pub struct TargetError(String);

impl FromStr for Target {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TargetError(s.to_owned());
        let (scheme, addr) = s.split_once("://").ok_or_else(err)?;
        let addr = addr.trim_end_matches('/').parse().map_err(|_| err())?;
        match scheme {
            "http" => Ok(Target::Http(addr)),
            "resp" | "redis" => Ok(Target::Resp(addr)),
            CLUSTER_SCHEME => Ok(Target::Cluster(addr)),
            _ => Err(err()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_print() {
        let http: Target = "http://127.0.0.1:8080/".parse().unwrap();
        assert_eq!(http.to_string(), "http://127.0.0.1:8080");
        assert_eq!("redis://127.0.0.1:6379".parse::<Target>().unwrap().to_string(), "resp://127.0.0.1:6379");
        let cluster: Target = "redis-cluster://127.0.0.1:7000".parse().unwrap();
        assert_eq!(
            (cluster.to_string().as_str(), cluster.protocol()),
            ("redis-cluster://127.0.0.1:7000", Protocol::Resp)
        );
        for bad in ["127.0.0.1:80", "ftp://127.0.0.1:21", "http://localhost", "http://127.0.0.1"] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
    }
}
