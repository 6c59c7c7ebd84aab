//! The client of `redis-cluster` (its facts and docs are in `redis_cluster.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use ::redis::cluster::{ClusterClient, ClusterConnection, cluster_pipe};
use ::redis::cluster_routing::{MultipleNodeRoutingInfo, ResponsePolicy, RoutingInfo};
use ::redis::{FromRedisValue, RedisError};

use crate::error::{LookupError, OpenError};
use crate::format::check_key;
use crate::info::StrategyInfo;
use crate::pool::Pool;
use crate::redis_load::{self, CONNECT_TIMEOUT, Db, redacted};
use crate::{Lookup, OpenOptions, Value};

pub use crate::redis_load::{BATCH, LoadReport, MARKER_KEY};

/// What opening `redis-cluster` without seed URLs says.
const NEEDS_URLS: &str =
    "redis-cluster needs the cluster's node URLs: pass --redis-cluster URL[,URL…] (e.g. redis://127.0.0.1:7000)";

/// Lookups answered by `GET` on a Redis Cluster loaded from the data file.
pub struct RedisClusterLookup {
    client: ClusterClient,
    /// The seed URLs without passwords, comma-separated, for messages.
    urls: String,
    pool: Pool<ClusterConnection>,
    report: LoadReport,
}

impl std::fmt::Debug for RedisClusterLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisClusterLookup")
            .field("urls", &self.urls)
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

impl RedisClusterLookup {
    /// Makes the cluster at [`OpenOptions::redis_cluster`] hold the file's records (see [`load`]) and serves from it.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        let urls = seeds(opts)?;
        let report = load(path, urls, opts)?;
        Ok(RedisClusterLookup { client: client(urls)?, urls: shown(urls), pool: Pool::new(), report })
    }

    /// What opening found and did.
    pub fn report(&self) -> &LoadReport {
        &self.report
    }

    /// Runs `f` on a pooled cluster connection (see [`Pool::with`]).
    fn with_connection<T>(&self, f: impl FnOnce(&mut ClusterConnection) -> Result<T, RedisError>) -> Result<T, String> {
        self.pool.with(|| self.client.get_connection(), f)
    }

    fn backend(&self, message: String) -> LookupError {
        LookupError::Backend { url: self.urls.clone(), message }
    }
}

impl Lookup for RedisClusterLookup {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let value: Option<Vec<u8>> =
            self.with_connection(|con| ::redis::cmd("GET").arg(key).query(con)).map_err(|m| self.backend(m))?;
        Ok(value.map(Value::Owned))
    }

    fn get_many<'s>(&'s self, keys: &[&[u8]], out: &mut Vec<Result<Option<Value<'s>>, LookupError>>) {
        out.clear();
        // Invalid keys are answered here; the valid ones go out in one pipeline.
        let mut pipe = cluster_pipe();
        let mut queued = 0;
        for key in keys {
            match check_key(key) {
                Ok(()) => {
                    pipe.cmd("GET").arg(*key);
                    queued += 1;
                    out.push(Ok(None));
                }
                Err(fault) => out.push(Err(fault.into())),
            }
        }
        if queued == 0 {
            return;
        }
        let answers = self.with_connection(|con| pipe.query::<Vec<Option<Vec<u8>>>>(con));
        let mut answers = match answers {
            Ok(answers) => answers.into_iter(),
            Err(message) => {
                for slot in out.iter_mut().filter(|a| a.is_ok()) {
                    *slot = Err(self.backend(message.clone()));
                }
                return;
            }
        };
        for slot in out.iter_mut().filter(|a| a.is_ok()) {
            *slot = match answers.next() {
                Some(value) => Ok(value.map(Value::Owned)),
                None => Err(self.backend("the cluster pipeline answered fewer GETs than it was sent".into())),
            };
        }
    }

    fn info(&self) -> StrategyInfo {
        let primaries = self.with_connection(primary_sizes).ok();
        let server_bytes = self.with_connection(node_memory).ok();
        let keys = primaries.as_ref().map(|p| p.values().sum::<u64>().saturating_sub(1));
        let nodes = match &primaries {
            Some(p) => format!("redis-cluster: {} primary nodes, seeds {}", p.len(), self.urls),
            None => format!("redis-cluster: nodes unknown (the cluster did not answer), seeds {}", self.urls),
        };
        StrategyInfo {
            name: "redis-cluster".into(),
            server_bytes,
            keys,
            records: Some(self.report.records),
            duplicates: Some(self.report.duplicates),
            skipped: self.report.skipped,
            notes: vec![self.report.note.clone(), nodes],
            ..StrategyInfo::default()
        }
    }
}

/// Makes the cluster reached through the seed `urls` hold exactly the records
/// of the file at `path`, by the `redis` strategy's rules (see the module docs).
pub fn load(path: &Path, urls: &[String], opts: &OpenOptions) -> Result<LoadReport, OpenError> {
    let client = client(urls)?;
    redis_load::load(path, opts, "redis-cluster", &shown(urls), || client.get_connection())
}

/// Every primary of the cluster, by address, and the keys it holds (`DBSIZE` on each).
fn primary_sizes(con: &mut ClusterConnection) -> Result<BTreeMap<String, u64>, RedisError> {
    // No response policy: the client answers with a map of node address to reply.
    let routing = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
    let reply = con.route_command(&::redis::cmd("DBSIZE"), routing)?;
    Ok(BTreeMap::from_redis_value(reply)?)
}

/// The resident memory of every node of the cluster (replicas too: they hold the data as well), summed.
fn node_memory(con: &mut ClusterConnection) -> Result<u64, RedisError> {
    let routing = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllNodes, None));
    let reply = con.route_command(::redis::cmd("INFO").arg("memory"), routing)?;
    let per_node: BTreeMap<String, String> = BTreeMap::from_redis_value(reply)?;
    Ok(per_node.values().filter_map(|info| redis_load::used_memory_rss(info)).sum())
}

/// A cluster's primaries together: sizing and flushing go to every one of them.
impl Db for ClusterConnection {
    fn marker(&mut self) -> Result<Option<String>, RedisError> {
        redis_load::get_marker(self)
    }

    fn set_marker(&mut self, value: &str) -> Result<(), RedisError> {
        redis_load::put_marker(self, value)
    }

    fn size(&mut self) -> Result<u64, RedisError> {
        Ok(primary_sizes(self)?.values().sum())
    }

    fn flush(&mut self) -> Result<(), RedisError> {
        let routing = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, Some(ResponsePolicy::AllSucceeded)));
        self.route_command(&::redis::cmd("FLUSHDB"), routing).map(drop)
    }

    fn set_nx(&mut self, batch: &[(&[u8], &[u8])]) -> Result<u64, RedisError> {
        let mut pipe = cluster_pipe();
        for (key, value) in batch {
            pipe.cmd("SET").arg(*key).arg(*value).arg("NX");
        }
        let replies: Vec<::redis::Value> = pipe.query(self)?;
        Ok(redis_load::refused(&replies))
    }
}

/// The seed URLs of [`OpenOptions::redis_cluster`], or the error telling the user to give them.
fn seeds(opts: &OpenOptions) -> Result<&[String], OpenError> {
    match opts.redis_cluster.as_deref() {
        Some(urls) if !urls.is_empty() => Ok(urls),
        _ => Err(OpenError::Config(NEEDS_URLS.into())),
    }
}

/// The seed URLs without passwords, comma-separated, as messages show them.
fn shown(urls: &[String]) -> String {
    urls.iter().map(|u| redacted(u)).collect::<Vec<_>>().join(",")
}

fn client(urls: &[String]) -> Result<ClusterClient, OpenError> {
    ClusterClient::builder(urls.iter().map(String::as_str))
        .connection_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| OpenError::Config(format!("invalid redis cluster URLs {}: {e}", shown(urls))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_seeds_it_says_how_to_give_them() {
        for missing in [None, Some(Vec::new())] {
            let opts = OpenOptions { redis_cluster: missing, ..OpenOptions::default() };
            match seeds(&opts) {
                Err(OpenError::Config(message)) => assert!(message.contains("--redis-cluster URL"), "{message}"),
                other => panic!("expected a config error, got {other:?}"),
            }
        }
        let urls = vec!["redis://:pw@127.0.0.1:1".to_owned(), "redis://127.0.0.1:2".to_owned()];
        assert_eq!(shown(&urls), "redis://:***@127.0.0.1:1,redis://127.0.0.1:2");
    }
}
