//! `redis-cluster`: the same lookups over a Redis Cluster, loaded from the data file.
//!
//! It answers "what if one Redis is not enough?": the records are spread over
//! the cluster's primaries by slot (CRC16 of the key mod 16384), and a lookup
//! is one `GET` sent by the `redis` crate's cluster client straight to the
//! primary owning the key's slot.
//!
//! **Configuration.** [`OpenOptions::redis_cluster`](crate::OpenOptions::redis_cluster) lists seed node URLs
//! (`--redis-cluster URL[,URL…]` on the command line); the client learns
//! the rest of the cluster from them. There is no default: a cluster is never
//! guessed.
//!
//! **Loading** follows the `redis` strategy's rules exactly, with the same
//! code (`redis_load.rs`): the file is validated, then the marker key
//! [`MARKER_KEY`] decides reuse (same fingerprint), reload (any other marker:
//! `FLUSHDB` on *every* primary first) or refusal ([`OpenError::ForeignData`](crate::OpenError::ForeignData)
//! when no marker is there but the primaries hold keys, counted as `DBSIZE`
//! summed over every primary). The records go in as `SET key value NX` in
//! file order through a cluster pipeline, which sends each primary its share
//! in order, so the first record of a key still wins. The marker lives in one
//! slot, on one primary, like any key; it is written last.
//!
//! **Lookups.** [`check_key`](crate::check_key) first, then `GET` on a pooled cluster
//! connection (each holds a connection per node it has talked to, and the
//! slot map). [`Lookup::get_many`](crate::Lookup::get_many) sends the batch's `GET`s as one cluster
//! pipeline: one round trip per node instead of one per key. Failures are
//! [`LookupError::Backend`](crate::LookupError::Backend) naming the seed URLs (never their passwords).
//!
//! Its facts are here; the client itself (`redis_cluster/client.rs`) is built with the `redis` feature.

use crate::facts::{Facts, Open};

#[cfg(feature = "redis")]
pub use client::*;

#[cfg(feature = "redis")]
const OPEN: Open = Open::With(|path, opts| Ok(Box::new(RedisClusterLookup::open(path, opts)?)));
#[cfg(not(feature = "redis"))]
const OPEN: Open = Open::Without("redis");

/// What kvbench knows about `redis-cluster`.
pub(crate) const FACTS: Facts = crate::facts::server("redis-cluster", OPEN);

#[cfg(feature = "redis")]
mod client;
