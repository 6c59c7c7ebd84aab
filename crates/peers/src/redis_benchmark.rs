//! `redis-benchmark`, Redis's own load tool, run on the same `redis-server`
//! or Redis Cluster as kvbench's load generator, so that its RESP figures can
//! be checked the way `wrk` checks the HTTP ones.
//!
//! It asks `GET key:NNNNNNNNNNNN` with `-r` random suffixes, names the data
//! file does not hold: each is answered with a null reply rather than a value
//! (a few bytes less to send), spread over every slot of a cluster.
//! With `--cluster` it reads the slot map and sends each key to its node, as
//! kvbench's load does.

use std::io;
use std::net::SocketAddr;

use crate::serve::pinned;

/// What `redis-benchmark -t get --csv` measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RedisBenchmarkRun {
    /// Requests per second.
    pub rps: f64,
    /// Median latency, ns.
    pub p50_ns: f64,
    /// 99th percentile latency, ns.
    pub p99_ns: f64,
}

/// Why redis-benchmark gave no figures.
#[derive(Debug, thiserror::Error)]
pub enum RedisBenchmarkError {
    /// redis-benchmark is not on `PATH`.
    #[error("redis-benchmark not installed (Debian: apt-get install redis-tools)")]
    NotInstalled,
    /// It could not be run.
    #[error("cannot run redis-benchmark: {0}")]
    Io(#[from] io::Error),
    /// It ran but printed no figures.
    #[error("redis-benchmark printed no figures ({status}): {stderr}")]
    NoFigures {
        /// How it ended.
        status: std::process::ExitStatus,
        /// What it said.
        stderr: String,
    },
}

/// How to run redis-benchmark.
#[derive(Clone, Copy, Debug)]
pub struct RedisBenchmarkLoad {
    /// The server, or any node of the cluster.
    pub addr: SocketAddr,
    /// Whether `addr` is a cluster's node (`--cluster`).
    pub cluster: bool,
    /// Connections (`-c`).
    pub connections: usize,
    /// Requests in all (`-n`).
    pub requests: u64,
    /// Run it on this CPU (`taskset`).
    pub cpu: Option<usize>,
}

/// Random key suffixes drawn (`-r`): enough that keys cover every slot.
const KEYSPACE: u64 = 1_000_000;

/// Runs `redis-benchmark [--cluster] -t get -c N -n R -r 1000000 --csv` on `load.addr`.
pub fn run(load: &RedisBenchmarkLoad) -> Result<RedisBenchmarkRun, RedisBenchmarkError> {
    if !crate::on_path("redis-benchmark") {
        return Err(RedisBenchmarkError::NotInstalled);
    }
    let cpu = load.cpu.map(|c| c.to_string());
    let mut command = pinned("redis-benchmark".as_ref(), cpu.as_deref());
    command.args(["-h", &load.addr.ip().to_string(), "-p", &load.addr.port().to_string()]);
    if load.cluster {
        command.arg("--cluster");
    }
    let out = command
        .args(["-t", "get", "-c", &load.connections.to_string(), "-n", &load.requests.max(1).to_string()])
        .args(["-r", &KEYSPACE.to_string(), "--csv"])
        .output()?;
    parse(&String::from_utf8_lossy(&out.stdout)).ok_or_else(|| RedisBenchmarkError::NoFigures {
        status: out.status,
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    })
}

/// The GET line of `redis-benchmark --csv` output, read by its header's column names.
pub fn parse(text: &str) -> Option<RedisBenchmarkRun> {
    let cells = |line: &str| line.split(',').map(|c| c.trim().trim_matches('"').to_owned()).collect::<Vec<_>>();
    // With --cluster, the nodes it found are listed first.
    let mut lines = text.lines().skip_while(|l| !l.trim_start().starts_with("\"test\""));
    let header = cells(lines.next()?);
    let row = lines.map(cells).find(|row| row.first().is_some_and(|test| test == "GET"))?;
    let column = |name: &str| -> Option<f64> { row.get(header.iter().position(|h| h == name)?)?.parse().ok() };
    Some(RedisBenchmarkRun {
        rps: column("rps")?,
        p50_ns: column("p50_latency_ms")? * 1e6,
        p99_ns: column("p99_latency_ms")? * 1e6,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_output_is_read_by_its_header() {
        let text = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\
                    \"GET\",\"61349.69\",\"0.455\",\"0.120\",\"0.431\",\"0.687\",\"1.031\",\"3.495\"\n";
        let run = parse(text).unwrap();
        assert_eq!(run.rps, 61_349.69);
        assert!((run.p50_ns - 431_000.0).abs() < 1e-6 && (run.p99_ns - 1_031_000.0).abs() < 1e-6, "{run:?}");
        let cluster = format!("Cluster has 3 master nodes:\n\nMaster 0: f414 127.0.0.1:17001\n\n{text}");
        assert_eq!(parse(&cluster), Some(run));
        assert_eq!(parse("garbage"), None);
        assert_eq!(parse("\"test\",\"rps\"\n\"SET\",\"1\"\n"), None);
    }
}
