//! What the `redis` and `redis-cluster` strategies share: the load of a data
//! file into a Redis db (first record of a key wins, a fingerprint marker
//! written last, reuse, reload or refusal; see `redis.rs`), the marker's
//! fingerprint, URL redaction and the connection pool.
//!
//! The two differ only in how they reach the db (one connection, or a cluster
//! connection that routes each key to the primary owning its slot), which is
//! the [`Db`] trait; everything that decides what a load does is written
//! once, here.

use std::path::Path;
use std::time::Duration;

use ::redis::{ConnectionLike, RedisError};
use xxhash_rust::xxh3::xxh3_64;

use crate::OpenOptions;
use crate::error::OpenError;
use crate::format::{self, key_at, value_if_key_at};
use crate::sidecar::Fingerprint;
use crate::source::DataFile;

/// The key holding the fingerprint of the loaded file; the space keeps it apart from data keys.
pub const MARKER_KEY: &str = "kvbench source";
/// Records sent per pipelined batch while loading.
pub const BATCH: usize = 10_000;
/// Marker value while a load is in progress (never equal to a fingerprint).
const LOADING: &str = "kvbench-redis loading";
/// How long to wait for a TCP connection to a server.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What [`crate::redis::load`] (or [`crate::redis_cluster::load`]) found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadReport {
    /// Valid records in the file.
    pub records: u64,
    /// Records whose key appeared earlier in the file.
    pub duplicates: u64,
    /// Malformed lines skipped (lenient mode).
    pub skipped: u64,
    /// Whether the data loaded earlier was reused (no `SET` was sent).
    pub reused: bool,
    /// What happened, for [`crate::StrategyInfo::notes`].
    pub note: String,
}

/// A Redis db as a load sees it: one server's db, or every primary of a cluster.
pub(crate) trait Db {
    /// The marker's value, if the db has one.
    fn marker(&mut self) -> Result<Option<String>, RedisError>;
    /// Sets the marker to `value`.
    fn set_marker(&mut self, value: &str) -> Result<(), RedisError>;
    /// Keys held, over every primary for a cluster.
    fn size(&mut self) -> Result<u64, RedisError>;
    /// Removes every key, on every primary for a cluster.
    fn flush(&mut self) -> Result<(), RedisError>;
    /// Sends `SET key value NX` for each pair, in order; returns how many were refused (duplicate keys).
    fn set_nx(&mut self, batch: &[(&[u8], &[u8])]) -> Result<u64, RedisError>;
}

/// [`Db::marker`] over any connection (a cluster connection routes the key to its slot's primary).
pub(crate) fn get_marker(con: &mut impl ConnectionLike) -> Result<Option<String>, RedisError> {
    ::redis::cmd("GET").arg(MARKER_KEY).query(con)
}

/// [`Db::set_marker`] over any connection.
pub(crate) fn put_marker(con: &mut impl ConnectionLike, value: &str) -> Result<(), RedisError> {
    ::redis::cmd("SET").arg(MARKER_KEY).arg(value).query(con)
}

/// How many replies of a batch of `SET … NX` are `nil`: the keys that were there already.
pub(crate) fn refused(replies: &[::redis::Value]) -> u64 {
    replies.iter().filter(|r| matches!(r, ::redis::Value::Nil)).count() as u64
}

/// Makes the db reached by `connect` hold exactly the records of the file at
/// `path`: reuses an earlier load of the same file, reloads over an earlier
/// kvbench load, refuses a db holding anyone else's keys (see `redis.rs`).
///
/// `name` (the strategy) and `shown` (the URLs without passwords) word the
/// note and the errors. The file is validated before connecting, so a
/// malformed file is reported as such whatever the server's state.
pub(crate) fn load<D: Db>(
    path: &Path,
    opts: &OpenOptions,
    name: &str,
    shown: &str,
    connect: impl FnOnce() -> Result<D, RedisError>,
) -> Result<LoadReport, OpenError> {
    let data = DataFile::open(path)?;
    let parsed = data.vouch(format::validate(path, data.bytes(), opts.lenient))?;
    let fingerprint = fingerprint(&data);
    let backend = |e: RedisError| OpenError::Backend { url: shown.to_owned(), message: e.to_string() };
    let mut db = connect().map_err(backend)?;

    let mut flushed = false;
    match db.marker().map_err(backend)? {
        Some(marker) => {
            if let Some(keys) = reused_keys(&marker, &fingerprint).filter(|_| !opts.reload) {
                return Ok(LoadReport {
                    records: parsed.records,
                    duplicates: parsed.records.saturating_sub(keys),
                    skipped: parsed.skipped,
                    reused: true,
                    note: format!("{name}: reused {keys} keys loaded earlier into {shown}"),
                });
            }
            db.flush().map_err(backend)?;
            flushed = true;
        }
        None => {
            let keys = db.size().map_err(backend)?;
            if keys > 0 {
                return Err(OpenError::ForeignData { url: shown.to_owned(), keys });
            }
        }
    }

    db.set_marker(LOADING).map_err(backend)?;
    let bytes = data.bytes();
    let offsets = format::parse(path, bytes, opts.lenient, Vec::new, |offsets: &mut Vec<usize>, rec| {
        offsets.push(rec.offset);
    })?;
    let mut duplicates = 0;
    let mut batch = Vec::with_capacity(BATCH.min(offsets.records as usize));
    for &offset in offsets.chunks.iter().flatten() {
        let key = key_at(bytes, offset);
        batch.push((key, value_if_key_at(bytes, offset, key).unwrap_or_default()));
        if batch.len() == BATCH {
            duplicates += db.set_nx(&batch).map_err(backend)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        duplicates += db.set_nx(&batch).map_err(backend)?;
    }
    // A file truncated during the load leaves the marker at "loading", so the
    // next open flushes this load instead of reusing it.
    data.vouch(Ok(()))?;
    let keys = offsets.records.saturating_sub(duplicates);
    db.set_marker(&format!("{fingerprint} keys={keys}")).map_err(backend)?;
    let how = match (flushed, opts.reload) {
        (true, true) => " (asked to reload: flushed an earlier kvbench load first)",
        (true, false) => " (flushed an earlier kvbench load first)",
        (false, _) => "",
    };
    Ok(LoadReport {
        records: parsed.records,
        duplicates,
        skipped: parsed.skipped,
        reused: false,
        note: format!("{name}: loaded {keys} keys into {shown}{how}"),
    })
}

/// The keys an earlier load of the same file left, if `marker` is that load's finished marker.
fn reused_keys(marker: &str, fingerprint: &str) -> Option<u64> {
    marker.strip_prefix(fingerprint)?.strip_prefix(" keys=")?.parse().ok()
}

/// The marker's identity part for `data`: length, mtime, sampled and full hash.
fn fingerprint(data: &DataFile) -> String {
    let f = Fingerprint::of(data);
    format!(
        "kvbench-redis v1 len={} mtime={}.{:09} sample={:016x} xxh3={:016x}",
        f.len,
        f.mtime_secs,
        f.mtime_nanos,
        f.sample_hash,
        xxh3_64(data.bytes())
    )
}

/// `url` with any password replaced by `***`, for messages.
pub(crate) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// The `used_memory_rss` field of an `INFO memory` reply: the bytes the
/// server holds resident (its data, buffers and allocator overhead), as its
/// operating system counts them.
pub(crate) fn used_memory_rss(info: &str) -> Option<u64> {
    info.lines().find_map(|l| l.strip_prefix("used_memory_rss:")).and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_memory_is_read_from_info() {
        let info = "# Memory\r\nused_memory:1047008\r\nused_memory_rss:15101952\r\nused_memory_rss_human:14.40M\r\n";
        assert_eq!(used_memory_rss(info), Some(15_101_952));
        assert_eq!(used_memory_rss("# Memory\r\n"), None);
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(redacted("redis://127.0.0.1:6379/2"), "redis://127.0.0.1:6379/2");
        assert_eq!(redacted("redis://:secret@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redacted("redis://me:secret@h:1"), "redis://me:***@h:1");
        assert_eq!(redacted("not a url"), "not a url");
    }

    #[test]
    fn only_a_finished_marker_of_the_same_file_is_reused() {
        let f = "kvbench-redis v1 len=3";
        assert_eq!(reused_keys("kvbench-redis v1 len=3 keys=7", f), Some(7));
        assert_eq!(reused_keys("kvbench-redis v1 len=30 keys=7", f), None);
        assert_eq!(reused_keys(LOADING, f), None);
        assert_eq!(reused_keys("kvbench-redis v1 len=3 keys=x", f), None);
    }
}
