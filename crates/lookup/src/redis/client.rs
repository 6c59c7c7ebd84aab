//! The client of `redis` (its facts and docs are in `redis.rs`).

use std::path::Path;

use ::redis::{Client, Connection, RedisError};

use crate::error::{LookupError, OpenError};
use crate::format::check_key;
use crate::info::StrategyInfo;
use crate::pool::Pool;
use crate::redis_load::{self, CONNECT_TIMEOUT, Db, redacted};
use crate::{Lookup, OpenOptions, Value};

pub use crate::redis_load::{BATCH, LoadReport, MARKER_KEY};

/// Lookups answered by `GET` on a Redis db loaded from the data file.
pub struct RedisLookup {
    client: Client,
    /// The URL without its password, for messages.
    url: String,
    pool: Pool<Connection>,
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
        Ok(RedisLookup { client, url: redacted(url), pool: Pool::new(), report })
    }

    /// What opening found and did.
    pub fn report(&self) -> &LoadReport {
        &self.report
    }

    /// Runs `f` on a pooled connection (see [`Pool::with`]).
    fn with_connection<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, RedisError>) -> Result<T, String> {
        self.pool.with(|| self.client.get_connection_with_timeout(CONNECT_TIMEOUT), f)
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
        let memory: Option<String> = self.with_connection(|con| ::redis::cmd("INFO").arg("memory").query(con)).ok();
        StrategyInfo {
            server_bytes: memory.as_deref().and_then(redis_load::used_memory_rss),
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
    let client = client(url)?;
    redis_load::load(path, opts, "redis", &redacted(url), || client.get_connection_with_timeout(CONNECT_TIMEOUT))
}

/// One server's db: the commands go to it as they are.
impl Db for Connection {
    fn marker(&mut self) -> Result<Option<String>, RedisError> {
        redis_load::get_marker(self)
    }

    fn set_marker(&mut self, value: &str) -> Result<(), RedisError> {
        redis_load::put_marker(self, value)
    }

    fn size(&mut self) -> Result<u64, RedisError> {
        ::redis::cmd("DBSIZE").query(self)
    }

    fn flush(&mut self) -> Result<(), RedisError> {
        ::redis::cmd("FLUSHDB").query(self)
    }

    fn set_nx(&mut self, batch: &[(&[u8], &[u8])]) -> Result<u64, RedisError> {
        let mut pipe = ::redis::pipe();
        for (key, value) in batch {
            pipe.cmd("SET").arg(*key).arg(*value).arg("NX");
        }
        let replies: Vec<::redis::Value> = pipe.query(self)?;
        Ok(redis_load::refused(&replies))
    }
}

fn client(url: &str) -> Result<Client, OpenError> {
    Client::open(url).map_err(|e| OpenError::Config(format!("invalid redis URL {}: {e}", redacted(url))))
}
