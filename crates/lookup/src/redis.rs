//! `redis`: the same lookups over a real Redis server, loaded from the data file.
//!
//! It answers "should I just use Redis?": every record is a Redis string
//! (`SET key value`), and a lookup is one `GET` over loopback or the network.
//!
//! **Loading.** The db named by [`OpenOptions::redis_url`] (default
//! [`crate::DEFAULT_REDIS_URL`]; a `/N` path picks db `N`) must hold exactly
//! this file's records. Opening validates the file with `format::parse` like
//! every other strategy (same [`OpenError::Malformed`] in strict mode; lenient
//! mode skips malformed lines), then reads the *marker*, the key [`MARKER_KEY`]
//! (it contains a space, so it can never be a data key), which holds a
//! fingerprint of the file that was loaded: its length, mtime, sampled hash
//! (the `Fingerprint` the `mmap-index` sidecar uses) and an `xxh3` of all of
//! it, plus the number of keys loaded.
//!
//! - marker equal to this file's fingerprint: the data is reused as is (a
//!   restart costs one validation pass, no load);
//! - any other marker (another file, or a load that never finished): the db is
//!   kvbench's, so it is emptied with `FLUSHDB` and loaded again;
//! - no marker in a non-empty db: refused with [`OpenError::ForeignData`];
//!   kvbench never wipes data it did not write.
//!
//! A load first sets the marker to `loading`, then sends pipelined
//! `SET key value NX` in file order (so the first record of a key wins, and
//! the `nil` replies count the duplicates) in batches of [`BATCH`], and writes
//! the real fingerprint last, so a half-finished load is never trusted.
//! Two processes loading the same db at once are not coordinated.
//!
//! **Lookups.** [`check_key`] first, as everywhere, then `GET` on a pooled
//! connection: one is popped from a `Mutex<Vec<Connection>>` (or opened if
//! none is free), used, and pushed back only if the command succeeded, so a
//! broken connection is dropped. Values come back as [`Value::Owned`].
//! Failures are [`LookupError::Backend`] naming the URL (never its password).

use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use ::redis::{Client, Connection, RedisError};
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{LookupError, OpenError};
use crate::format::{self, check_key, key_at, value_if_key_at};
use crate::info::StrategyInfo;
use crate::sidecar::Fingerprint;
use crate::source::DataFile;
use crate::{Lookup, OpenOptions, Value};

/// The key holding the fingerprint of the loaded file; the space keeps it apart from data keys.
pub const MARKER_KEY: &str = "kvbench source";
/// Records sent per pipelined batch while loading.
pub const BATCH: usize = 10_000;
/// Marker value while a load is in progress (never equal to a fingerprint).
const LOADING: &str = "kvbench-redis loading";
/// How long to wait for a TCP connection to the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What [`load`] found and did.
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
    /// What happened, for [`StrategyInfo::notes`].
    pub note: String,
}

/// Lookups answered by `GET` on a Redis db loaded from the data file.
pub struct RedisLookup {
    client: Client,
    /// The URL without its password, for messages.
    url: String,
    pool: Mutex<Vec<Connection>>,
    report: LoadReport,
}

impl std::fmt::Debug for RedisLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLookup").field("url", &self.url).field("report", &self.report).finish_non_exhaustive()
    }
}

impl RedisLookup {
    /// Makes the db at [`OpenOptions::redis_url`] hold the file's records (see [`load`]) and serves from it.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        let url = opts.redis_url();
        let report = load(path, url, opts)?;
        let client = client(url)?;
        Ok(RedisLookup { client, url: redacted(url), pool: Mutex::new(Vec::new()), report })
    }

    /// What opening found and did.
    pub fn report(&self) -> &LoadReport {
        &self.report
    }

    /// Runs `f` on a pooled connection; the connection goes back only if `f` succeeded.
    fn with_connection<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, RedisError>) -> Result<T, String> {
        let pooled = self.pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut con = match pooled {
            Some(con) => con,
            None => self.client.get_connection_with_timeout(CONNECT_TIMEOUT).map_err(|e| e.to_string())?,
        };
        let result = f(&mut con).map_err(|e| e.to_string())?;
        self.pool.lock().unwrap_or_else(PoisonError::into_inner).push(con);
        Ok(result)
    }
}

impl Lookup for RedisLookup {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let value: Option<Vec<u8>> = self
            .with_connection(|con| ::redis::cmd("GET").arg(key).query(con))
            .map_err(|message| LookupError::Backend { url: self.url.clone(), message })?;
        Ok(value.map(Value::Owned))
    }

    fn info(&self) -> StrategyInfo {
        let size: Option<u64> = self.with_connection(|con| ::redis::cmd("DBSIZE").query(con)).ok();
        StrategyInfo {
            name: "redis".into(),
            keys: size.map(|n| n.saturating_sub(1)),
            records: Some(self.report.records),
            duplicates: Some(self.report.duplicates),
            skipped: self.report.skipped,
            notes: vec![self.report.note.clone()],
            ..StrategyInfo::default()
        }
    }
}

/// Makes the db at `url` hold exactly the records of the file at `path`:
/// reuses an earlier load of the same file, reloads over an earlier kvbench
/// load, refuses a db holding anyone else's keys (see the module docs).
pub fn load(path: &Path, url: &str, opts: &OpenOptions) -> Result<LoadReport, OpenError> {
    let data = DataFile::open(path)?;
    let parsed = data.vouch(format::validate(path, data.bytes(), opts.lenient))?;
    let fingerprint = fingerprint(&data);
    let shown = redacted(url);
    let backend = |e: RedisError| OpenError::Backend { url: shown.clone(), message: e.to_string() };
    let mut con = client(url)?.get_connection_with_timeout(CONNECT_TIMEOUT).map_err(backend)?;

    let marker: Option<String> = ::redis::cmd("GET").arg(MARKER_KEY).query(&mut con).map_err(backend)?;
    let mut flushed = false;
    match marker {
        Some(marker) => {
            if let Some(keys) = marker.strip_prefix(&fingerprint).and_then(|rest| rest.strip_prefix(" keys="))
                && let Ok(keys) = keys.parse::<u64>()
            {
                return Ok(LoadReport {
                    records: parsed.records,
                    duplicates: parsed.records.saturating_sub(keys),
                    skipped: parsed.skipped,
                    reused: true,
                    note: format!("redis: reused {keys} keys loaded earlier into {shown}"),
                });
            }
            ::redis::cmd("FLUSHDB").query::<()>(&mut con).map_err(backend)?;
            flushed = true;
        }
        None => {
            let keys: u64 = ::redis::cmd("DBSIZE").query(&mut con).map_err(backend)?;
            if keys > 0 {
                return Err(OpenError::ForeignData { url: shown, keys });
            }
        }
    }

    ::redis::cmd("SET").arg(MARKER_KEY).arg(LOADING).query::<()>(&mut con).map_err(backend)?;
    let bytes = data.bytes();
    let offsets = format::parse(path, bytes, opts.lenient, Vec::new, |offsets: &mut Vec<usize>, rec| {
        offsets.push(rec.offset);
    })?;
    let mut duplicates = 0;
    let mut pipe = ::redis::pipe();
    let mut queued = 0;
    for &offset in offsets.chunks.iter().flatten() {
        let key = key_at(bytes, offset);
        let value = value_if_key_at(bytes, offset, key).unwrap_or_default();
        pipe.cmd("SET").arg(key).arg(value).arg("NX");
        queued += 1;
        if queued == BATCH {
            duplicates += send(&mut pipe, &mut con).map_err(backend)?;
            queued = 0;
        }
    }
    duplicates += send(&mut pipe, &mut con).map_err(backend)?;
    // A file truncated during the load leaves the marker at "loading", so the
    // next open flushes this load instead of reusing it.
    data.vouch(Ok(()))?;
    let keys = offsets.records.saturating_sub(duplicates);
    let marker = format!("{fingerprint} keys={keys}");
    ::redis::cmd("SET").arg(MARKER_KEY).arg(marker).query::<()>(&mut con).map_err(backend)?;
    let how = if flushed { " (flushed an earlier kvbench load first)" } else { "" };
    Ok(LoadReport {
        records: parsed.records,
        duplicates,
        skipped: parsed.skipped,
        reused: false,
        note: format!("redis: loaded {keys} keys into {shown}{how}"),
    })
}

/// Sends and clears a batch of `SET … NX`; returns how many were refused (duplicate keys).
fn send(pipe: &mut ::redis::Pipeline, con: &mut Connection) -> Result<u64, RedisError> {
    if pipe.is_empty() {
        return Ok(0);
    }
    let replies: Vec<::redis::Value> = pipe.query(con)?;
    pipe.clear();
    Ok(replies.iter().filter(|r| matches!(r, ::redis::Value::Nil)).count() as u64)
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

fn client(url: &str) -> Result<Client, OpenError> {
    Client::open(url).map_err(|e| OpenError::Config(format!("invalid redis URL {}: {e}", redacted(url))))
}

/// `url` with any password replaced by `***`, for messages.
fn redacted(url: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(redacted("redis://127.0.0.1:6379/2"), "redis://127.0.0.1:6379/2");
        assert_eq!(redacted("redis://:secret@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redacted("redis://me:secret@h:1"), "redis://me:***@h:1");
        assert_eq!(redacted("not a url"), "not a url");
    }
}
