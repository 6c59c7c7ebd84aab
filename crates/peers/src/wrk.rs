//! `wrk`, the HTTP load tool people trust, run on the same server and keys as
//! kvbench's load generator so that its closed-loop figures can be checked.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

use crate::serve::pinned;

/// What `wrk --latency` measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WrkRun {
    /// Requests per second.
    pub rps: f64,
    /// Median latency, ns.
    pub p50_ns: f64,
    /// 99th percentile latency, ns.
    pub p99_ns: f64,
}

/// Why wrk gave no figures.
#[derive(Debug, thiserror::Error)]
pub enum WrkError {
    /// wrk is not on `PATH`.
    #[error("wrk not installed")]
    NotInstalled,
    /// The script could not be written or wrk could not be run.
    #[error("cannot run wrk: {0}")]
    Io(#[from] io::Error),
    /// wrk ran but printed no requests/s and latency percentiles.
    #[error("wrk printed no figures ({status})")]
    NoFigures {
        /// How wrk ended.
        status: std::process::ExitStatus,
    },
}

/// How to run wrk.
#[derive(Clone, Copy, Debug)]
pub struct WrkLoad {
    /// The HTTP server.
    pub addr: SocketAddr,
    /// Connections (on one wrk thread).
    pub connections: usize,
    /// How long (wrk counts whole seconds; at least one).
    pub duration: Duration,
    /// Run wrk on this CPU (`taskset`).
    pub cpu: Option<usize>,
}

/// Runs `wrk -t1 -cN -dS --latency` on `load.addr`, asking for `keys` at random
/// (seeded, so runs ask in the same order).
pub fn run<'a>(load: &WrkLoad, keys: impl IntoIterator<Item = &'a [u8]>) -> Result<WrkRun, WrkError> {
    if !crate::on_path("wrk") {
        return Err(WrkError::NotInstalled);
    }
    let mut script = tempfile::Builder::new().prefix("kvbench-wrk-").suffix(".lua").tempfile()?;
    script.write_all(lua_script(keys).as_bytes())?;
    script.flush()?;
    let cpu = load.cpu.map(|c| c.to_string());
    let seconds = load.duration.as_secs().max(1);
    let out = pinned("wrk".as_ref(), cpu.as_deref())
        .args(["-t1", &format!("-c{}", load.connections), &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(script.path())
        .arg(format!("http://{}/", load.addr))
        .output()?;
    parse(&String::from_utf8_lossy(&out.stdout)).ok_or(WrkError::NoFigures { status: out.status })
}

/// A wrk script that sends `GET /KEY` for keys drawn at random from `keys`.
pub fn lua_script<'a>(keys: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut lua = String::from("local keys = {\n");
    for key in keys {
        lua += &format!("  {:?},\n", String::from_utf8_lossy(key));
    }
    lua += "}\nmath.randomseed(42)\nrequest = function()\n  return wrk.format(\"GET\", \"/\" .. keys[math.random(#keys)])\nend\n";
    lua
}

/// The requests/s, p50 and p99 of `wrk --latency` output.
pub fn parse(text: &str) -> Option<WrkRun> {
    let field =
        |prefix: &str| text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|rest| rest.trim().to_owned()));
    let rps = field("Requests/sec:")?.parse().ok()?;
    let nanos = |value: String| {
        let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let scale = match value.get(digits.len()..)? {
            "us" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            _ => return None,
        };
        digits.parse::<f64>().ok().map(|v| v * scale)
    };
    Some(WrkRun { rps, p50_ns: nanos(field("50%")?)?, p99_ns: nanos(field("99%")?)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let text = "Running 5s test @ http://127.0.0.1:1/\n  Latency Distribution\n     50%  545.00us\n     75%  600.12us\n     \
                    90%  700.00us\n     99%    1.25ms\n  500000 requests in 5.00s, 40.00MB read\nRequests/sec: 100000.50\n";
        assert_eq!(parse(text), Some(WrkRun { rps: 100000.5, p50_ns: 545_000.0, p99_ns: 1_250_000.0 }));
        assert_eq!(parse("garbage"), None);
    }

    #[test]
    fn the_script_asks_for_the_keys_given() {
        let lua = lua_script([&b"k1"[..], b"k\"2"]);
        assert!(lua.contains("  \"k1\",\n  \"k\\\"2\",\n") && lua.contains("wrk.format(\"GET\""), "{lua}");
    }
}
