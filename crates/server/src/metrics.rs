//! Counters kept on the request path and their Prometheus text exposition.
//!
//! The hot path only touches relaxed atomics, and those of the thread it runs
//! on: the per-request counters are kept in one cache-line-aligned shard per
//! thread (threads share a shard only past [`SHARDS`]), summed at scrape
//! time, so server threads do not pass one line back and forth per request.
//! prometheus-client's own
//! `Histogram` takes a write lock per observation, which would make every
//! server thread queue on one lock per request, so the lookup histogram is a
//! fixed array of atomic buckets here and prometheus-client only encodes it,
//! once per scrape, through a [`Collector`].

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use kvbench_lookup::CacheStats;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::state::Served;

/// The HTTP statuses the server answers with, in exposition order.
const STATUSES: [u16; 8] = [200, 400, 404, 405, 414, 431, 500, 503];

/// The two front ends, for per-protocol connection counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1.
    Http,
    /// RESP (Redis protocol).
    Resp,
}

impl Protocol {
    fn label(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Resp => "resp",
        }
    }
}

/// Smallest upper bound of the lookup histogram; each next bound doubles it.
const FIRST_BUCKET_NS: u64 = 250;
/// Buckets up to 250 ns × 2^16 ≈ 16 ms, then +Inf.
const BUCKETS: usize = 18;

/// Shards of the per-request counters.
const SHARDS: usize = 8;

/// The counters every request touches, one set per thread.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Hot {
    http: [AtomicU64; STATUSES.len()],
    resp_commands: AtomicU64,
    resp_errors: AtomicU64,
    lookup_buckets: [AtomicU64; BUCKETS],
    lookup_ns: AtomicU64,
}

/// The shard of the calling thread, given out in turn as threads first count.
fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Relaxed) % SHARDS;
    }
    SHARD.with(|shard| *shard)
}

/// Everything the server counts while it runs.
#[derive(Debug, Default)]
pub struct Metrics {
    hot: [Hot; SHARDS],
    accepted: [AtomicU64; 2],
    open: [AtomicU64; 2],
    refused: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
}

/// The counter of `protocol` in a per-protocol pair.
fn of<T>(pair: &[T; 2], protocol: Protocol) -> &T {
    let [http, resp] = pair;
    match protocol {
        Protocol::Http => http,
        Protocol::Resp => resp,
    }
}

impl Metrics {
    /// The calling thread's shard of the per-request counters.
    fn hot(&self) -> &Hot {
        let [first, ..] = &self.hot;
        self.hot.get(shard()).unwrap_or(first)
    }

    /// Counts one HTTP response.
    pub fn http_status(&self, status: u16) {
        // Anything unexpected is counted as a 500.
        let i = STATUSES.iter().position(|&s| s == status).unwrap_or(STATUSES.len() - 2);
        if let Some(counter) = self.hot().http.get(i) {
            counter.fetch_add(1, Relaxed);
        }
    }

    /// Counts one RESP command and whether it was answered with an error.
    pub fn resp_command(&self, error: bool) {
        self.resp_commands(1, error);
    }

    /// Counts `n` RESP commands, all answered with an error or none.
    pub fn resp_commands(&self, n: u64, error: bool) {
        let hot = self.hot();
        hot.resp_commands.fetch_add(n, Relaxed);
        if error {
            hot.resp_errors.fetch_add(n, Relaxed);
        }
    }

    /// Records one lookup's duration.
    pub fn lookup(&self, took: Duration) {
        self.lookups(took, 1);
    }

    /// Records `n` lookups that took `each` apiece (a batch's time per key).
    pub fn lookups(&self, each: Duration, n: u64) {
        let ns = u64::try_from(each.as_nanos()).unwrap_or(u64::MAX);
        let hot = self.hot();
        if let Some(counter) = hot.lookup_buckets.get(bucket(ns)) {
            counter.fetch_add(n, Relaxed);
        }
        hot.lookup_ns.fetch_add(ns.saturating_mul(n), Relaxed);
    }

    /// A connection was accepted.
    pub fn opened(&self, protocol: Protocol) {
        of(&self.accepted, protocol).fetch_add(1, Relaxed);
        of(&self.open, protocol).fetch_add(1, Relaxed);
    }

    /// A connection closed.
    pub fn closed(&self, protocol: Protocol) {
        of(&self.open, protocol).fetch_sub(1, Relaxed);
    }

    /// A connection was closed on accept because the connection limit was reached.
    pub fn refused(&self) {
        self.refused.fetch_add(1, Relaxed);
    }

    /// A reload finished, successfully or not.
    pub fn reloaded(&self, ok: bool) {
        if ok { &self.reloads_ok } else { &self.reloads_failed }.fetch_add(1, Relaxed);
    }

    /// Reloads finished so far that succeeded (`ok`) or failed.
    pub fn reloads(&self, ok: bool) -> u64 {
        if ok { &self.reloads_ok } else { &self.reloads_failed }.load(Relaxed)
    }

    /// Connections accepted so far on `protocol` (tests check keep-alive reuse with it).
    pub fn accepted(&self, protocol: Protocol) -> u64 {
        of(&self.accepted, protocol).load(Relaxed)
    }

    /// The OpenMetrics text exposition of these counters and of `served`
    /// (what prometheus-client writes; Prometheus asks for it by content type).
    pub fn render(&self, served: &Served, data: &str) -> String {
        let mut registry = Registry::with_prefix("kvbench");
        registry.register_collector(Box::new(self.snapshot(served, data)));
        let mut out = String::with_capacity(4096);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }

    fn snapshot(&self, served: &Served, data: &str) -> Snapshot {
        let load = |a: &AtomicU64| a.load(Relaxed);
        let sum = |counter: fn(&Hot) -> &AtomicU64| self.hot.iter().map(|hot| load(counter(hot))).sum::<u64>();
        let summed = |counters: fn(&Hot) -> &[AtomicU64]| {
            self.hot.iter().fold(Vec::new(), |mut total: Vec<u64>, hot| {
                total.resize(counters(hot).len(), 0);
                total.iter_mut().zip(counters(hot)).for_each(|(t, c)| *t += load(c));
                total
            })
        };
        let mut bound = FIRST_BUCKET_NS as f64 / 1e9;
        let mut buckets = summed(|hot| &hot.lookup_buckets)
            .into_iter()
            .map(|count| {
                let upper = bound;
                bound *= 2.0;
                (upper, count)
            })
            .collect::<Vec<_>>();
        if let Some(last) = buckets.last_mut() {
            last.0 = f64::MAX; // prometheus-client writes it as `+Inf`
        }
        Snapshot {
            http: STATUSES.iter().copied().zip(summed(|hot| &hot.http)).collect(),
            resp_commands: sum(|hot| &hot.resp_commands),
            resp_errors: sum(|hot| &hot.resp_errors),
            accepted: [load(&self.accepted[0]), load(&self.accepted[1])],
            open: [load(&self.open[0]), load(&self.open[1])],
            refused: load(&self.refused),
            reloads: [load(&self.reloads_ok), load(&self.reloads_failed)],
            lookup_seconds: sum(|hot| &hot.lookup_ns) as f64 / 1e9,
            lookup_buckets: buckets,
            data: escape_label(data),
            strategy: escape_label(&served.name),
            keys: served.keys,
            cache: served.lookup.info().cache,
        }
    }
}

/// Escapes a label value as the exposition format requires; prometheus-client
/// writes label values as given, and a data file's path may hold any byte.
fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The histogram bucket of a lookup taking `ns` nanoseconds.
fn bucket(ns: u64) -> usize {
    let steps = ns.saturating_sub(1) / FIRST_BUCKET_NS;
    (64 - steps.leading_zeros() as usize).min(BUCKETS - 1)
}

/// A copy of the counters taken at scrape time, encoded by prometheus-client.
#[derive(Debug)]
struct Snapshot {
    http: Vec<(u16, u64)>,
    resp_commands: u64,
    resp_errors: u64,
    accepted: [u64; 2],
    open: [u64; 2],
    refused: u64,
    reloads: [u64; 2],
    lookup_seconds: f64,
    lookup_buckets: Vec<(f64, u64)>,
    data: String,
    strategy: String,
    keys: u64,
    cache: Option<CacheStats>,
}

impl Collector for Snapshot {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut m =
            enc.encode_descriptor("http_requests", "HTTP responses sent, by status", None, MetricType::Counter)?;
        for (status, n) in &self.http {
            let status = status.to_string();
            m.encode_family(&[("status", status.as_str())])?.encode_counter::<NoLabelSet, _, u64>(n, None)?;
        }
        counter(&mut enc, "resp_commands", "RESP commands answered", self.resp_commands)?;
        counter(&mut enc, "resp_errors", "RESP commands answered with an error", self.resp_errors)?;
        let mut m = enc.encode_descriptor("connections", "Connections accepted", None, MetricType::Counter)?;
        for p in [Protocol::Http, Protocol::Resp] {
            m.encode_family(&[("protocol", p.label())])?
                .encode_counter::<NoLabelSet, _, u64>(of(&self.accepted, p), None)?;
        }
        let mut m = enc.encode_descriptor("open_connections", "Connections open now", None, MetricType::Gauge)?;
        for p in [Protocol::Http, Protocol::Resp] {
            m.encode_family(&[("protocol", p.label())])?.encode_gauge(of(&self.open, p))?;
        }
        counter(&mut enc, "refused_connections", "Connections closed at the connection limit", self.refused)?;
        let mut m =
            enc.encode_descriptor("reloads", "Reloads of the data file, by result", None, MetricType::Counter)?;
        for (result, n) in [("ok", self.reloads[0]), ("failed", self.reloads[1])] {
            m.encode_family(&[("result", result)])?.encode_counter::<NoLabelSet, _, u64>(&n, None)?;
        }
        let count = self.lookup_buckets.iter().map(|b| b.1).sum();
        enc.encode_descriptor("lookup_seconds", "Time in Lookup::get per key", None, MetricType::Histogram)?
            .encode_histogram::<NoLabelSet>(self.lookup_seconds, count, &self.lookup_buckets, None)?;
        let labels = [("data", self.data.as_str()), ("strategy", self.strategy.as_str())];
        enc.encode_descriptor("data", "The data file and strategy being served", None, MetricType::Info)?
            .encode_info(&labels)?;
        enc.encode_descriptor("keys", "Keys served", None, MetricType::Gauge)?.encode_gauge(&self.keys)?;
        if let Some(cache) = self.cache {
            // Counters of the strategy being served: a reload starts them again from 0.
            counter(&mut enc, "cache_hits", "Lookups the cache answered", cache.hits)?;
            counter(&mut enc, "cache_misses", "Lookups the cache passed on", cache.misses)?;
            enc.encode_descriptor("cache_entries", "Entries in the cache", None, MetricType::Gauge)?
                .encode_gauge(&cache.len)?;
            // A load generator warming the cache sizes its windows by it.
            enc.encode_descriptor("cache_capacity", "Entries the cache may hold", None, MetricType::Gauge)?
                .encode_gauge(&cache.capacity)?;
        }
        Ok(())
    }
}

fn counter(enc: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> Result<(), std::fmt::Error> {
    enc.encode_descriptor(name, help, None, MetricType::Counter)?.encode_counter::<NoLabelSet, _, u64>(&value, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn buckets_double_from_250ns() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(250), 0);
        assert_eq!(bucket(251), 1);
        assert_eq!(bucket(500), 1);
        assert_eq!(bucket(501), 2);
        assert_eq!(bucket(1000), 2);
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }
}
