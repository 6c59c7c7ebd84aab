//! `redis`: the same lookups over a real Redis server, loaded from the data file.
//!
//! It answers "should I just use Redis?": every record is a Redis string
//! (`SET key value`), and a lookup is one `GET` over loopback or the network.
//!
//! **Loading.** The db named by [`OpenOptions::redis_url`](crate::OpenOptions::redis_url) (default
//! [`crate::DEFAULT_REDIS_URL`]; a `/N` path picks db `N`) must hold exactly
//! this file's records. Opening validates the file with `format::parse` like
//! every other strategy (same [`OpenError::Malformed`](crate::OpenError::Malformed) in strict mode; lenient
//! mode skips malformed lines), then reads the *marker*, the key [`MARKER_KEY`]
//! (it contains a space, so it can never be a data key), which holds a
//! fingerprint of the file that was loaded: its length, mtime, sampled hash
//! (the `Fingerprint` the `mmap-index` sidecar uses) and an `xxh3` of all of
//! it, plus the number of keys loaded.
//!
//! - marker equal to this file's fingerprint: the data is reused as is (a
//!   restart costs one validation pass, no load), unless
//!   [`OpenOptions::reload`](crate::OpenOptions::reload) asks for a load (the
//!   suite's `redis (build)` case: the db is the strategy's store);
//! - any other marker (another file, or a load that never finished): the db is
//!   kvbench's, so it is emptied with `FLUSHDB` and loaded again;
//! - no marker in a non-empty db: refused with [`OpenError::ForeignData`](crate::OpenError::ForeignData);
//!   kvbench never wipes data it did not write.
//!
//! A load first sets the marker to `loading`, then sends pipelined
//! `SET key value NX` in file order (so the first record of a key wins, and
//! the `nil` replies count the duplicates) in batches of [`BATCH`], and writes
//! the real fingerprint last, so a half-finished load is never trusted.
//! Two processes loading the same db at once are not coordinated. The load
//! is written once, in `redis_load.rs`, for this strategy and `redis-cluster`.
//!
//! **Lookups.** [`check_key`](crate::check_key) first, as everywhere, then `GET` on a pooled
//! connection: one is popped from a `Mutex<Vec<Connection>>` (or opened if
//! none is free), used, and pushed back only if the command succeeded, so a
//! broken connection is dropped. Values come back as [`Value::Owned`](crate::Value::Owned).
//! Failures are [`LookupError::Backend`](crate::LookupError::Backend) naming the URL (never its password).
//!
//! Its facts are here; the client itself (`redis/client.rs`) is built with the `redis` feature.

use crate::facts::{Facts, Open};

#[cfg(feature = "redis")]
pub use client::*;

#[cfg(feature = "redis")]
const OPEN: Open = Open::With(|path, opts| Ok(Box::new(RedisLookup::open(path, opts)?)));
#[cfg(not(feature = "redis"))]
const OPEN: Open = Open::Without("redis");

/// What kvbench knows about `redis`.
pub(crate) const FACTS: Facts = crate::facts::server("redis", OPEN);

#[cfg(feature = "redis")]
mod client;
