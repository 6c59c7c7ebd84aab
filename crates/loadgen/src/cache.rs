//! A server's cache counters, read from its `/metrics` (OpenMetrics text)
//! between loads: the hit rate of a load is the change in them across it.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::client::{ClientError, Parsed, parse_http};

/// Longest a scrape may take: the server answers `/metrics` from counters.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Longest exposition read.
const MAX_BYTES: u64 = 1 << 20;

/// A server's cache counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounters {
    /// Lookups the cache answered so far.
    pub hits: u64,
    /// Lookups it passed on to the strategy behind it.
    pub misses: u64,
    /// Entries it may hold (0 if not exposed).
    pub capacity: u64,
}

impl CacheCounters {
    /// The hit rate of the lookups made between `before` and these counters (`None` if none were).
    pub fn hit_rate_since(&self, before: &CacheCounters) -> Option<f64> {
        let hits = self.hits.checked_sub(before.hits)?;
        let total = (self.hits + self.misses).checked_sub(before.hits + before.misses)?;
        (total > 0).then(|| hits as f64 / total as f64)
    }

    /// The counters in an OpenMetrics text (`kvbench_cache_hits_total` and
    /// `kvbench_cache_misses_total`, as `kvbench serve` writes them), if it has them.
    pub fn parse(exposition: &str) -> Option<CacheCounters> {
        let value = |name: &str| {
            exposition.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse::<u64>().ok())
        };
        Some(CacheCounters {
            hits: value("kvbench_cache_hits_total")?,
            misses: value("kvbench_cache_misses_total")?,
            capacity: value("kvbench_cache_capacity").unwrap_or(0),
        })
    }
}

/// Reads the cache counters of the server at `http` (`GET /metrics`): `None`
/// when it exposes none (a strategy without a cache, a server other than kvbench).
pub fn scrape(http: SocketAddr) -> Result<Option<CacheCounters>, ClientError> {
    let mut stream = TcpStream::connect_timeout(&http, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: kvbench\r\nConnection: close\r\n\r\n")?;
    let mut reply = Vec::new();
    stream.take(MAX_BYTES).read_to_end(&mut reply)?;
    match parse_http(&reply)? {
        Some(Parsed::Found(body)) => {
            let text = reply.get(body).map(String::from_utf8_lossy).unwrap_or_default();
            Ok(CacheCounters::parse(&text))
        }
        Some(_) => Ok(None),
        None => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the /metrics reply ended early").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_parse_and_give_the_hit_rate_between_two_reads() {
        let text = "# TYPE kvbench_cache_hits counter\nkvbench_cache_hits_total 30\nkvbench_cache_misses_total 70\n\
                    kvbench_cache_hits_total_x 1\nkvbench_cache_capacity 5\n# EOF\n";
        let before = CacheCounters::parse(text).unwrap();
        assert_eq!(before, CacheCounters { hits: 30, misses: 70, capacity: 5 });
        let after = CacheCounters { hits: 130, misses: 370, capacity: 5 };
        assert_eq!(after.hit_rate_since(&before), Some(0.25));
        assert_eq!(before.hit_rate_since(&before), None, "no lookups, no rate");
        assert_eq!(before.hit_rate_since(&after), None, "counters that went back (a reload) give none");
        assert_eq!(CacheCounters::parse("kvbench_keys 4\n"), None);
    }
}
