//! `kvbench serve`: one data file, one strategy, over HTTP and RESP.
//!
//! The bound addresses are printed on stdout, one `listening on URL` line per
//! protocol, once the server accepts connections (port 0 picks a free port).
//! SIGINT/SIGTERM finish the requests in flight and exit 0; SIGHUP reloads
//! the data file in the background.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use clap::Args;
use kvbench_harness::cgroup::{self, CgroupError};
use kvbench_results::units::ByteSize;
use kvbench_server::{Config, DataSource, Limits, Server};

use crate::human;
use crate::strategy_args::StrategyArgs;

/// Options of `kvbench serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The data file of `<key> <value>` lines.
    #[arg(long, short, value_name = "FILE")]
    data: PathBuf,
    #[command(flatten)]
    strategy: StrategyArgs,
    /// HTTP address (`GET /{key}`, `/healthz`, `/metrics`), or `off`.
    #[arg(long, value_name = "ADDR|off", default_value = "127.0.0.1:8080")]
    http: Listen,
    /// RESP (Redis protocol) address, or `off`.
    #[arg(long, value_name = "ADDR|off", default_value = "127.0.0.1:6380")]
    resp: Listen,
    /// Threads serving requests, 1 to 1024; 1 is a single-threaded event loop [default: CPUs].
    #[arg(long, short = 't', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=MAX_THREADS))]
    threads: Option<u16>,
    /// Close connections that send no complete request, or do not read their answers, for this long.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    idle_timeout: Duration,
    /// Most connections open at once (both protocols); more are closed on accept.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Most arguments in one RESP command, its name included (an `MGET` of N keys has N + 1).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_resp_args as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_resp_args: u32,
    /// Longest RESP bulk string (one key or argument).
    #[arg(long, value_name = "SIZE", default_value = "512KiB")]
    max_resp_bulk: ByteSize,
    /// Most bytes in one RESP command, all its arguments together: with
    /// --max-connections, what bounds the memory clients can hold.
    #[arg(long, value_name = "SIZE", default_value = "1MiB")]
    max_resp_command: ByteSize,
    /// Join this memory-limited cgroup before opening the data (made by `bench macro --memory-limit`).
    #[arg(long, value_name = "DIR", hide = true)]
    cgroup: Option<PathBuf>,
}

/// The most threads `--threads` accepts. Past a few per CPU, threads only
/// take turns; tens of thousands are more than the OS will start (tokio then
/// aborts the process instead of returning an error).
const MAX_THREADS: i64 = 1024;

/// A listening address or `off`.
#[derive(Clone, Copy, Debug)]
struct Listen(Option<SocketAddr>);

impl FromStr for Listen {
    type Err = std::net::AddrParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Listen(if s == "off" { None } else { Some(s.parse()?) }))
    }
}

/// A size in bytes as the server's limits take it (a size past the address space is no limit).
fn size(size: ByteSize) -> usize {
    usize::try_from(size.0).unwrap_or(usize::MAX)
}

/// The limits the options set; the others are the server's defaults.
fn limits(args: &ServeArgs) -> Limits {
    Limits {
        idle_timeout: args.idle_timeout,
        max_connections: args.max_connections,
        max_resp_args: args.max_resp_args as usize,
        max_resp_bulk_bytes: size(args.max_resp_bulk),
        max_resp_command_bytes: size(args.max_resp_command),
        ..Limits::default()
    }
}

/// Runs `kvbench serve` until a signal stops it.
pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.cgroup {
        // Before the data is opened, so that everything the strategy holds is inside the limit.
        cgroup::join(dir)?;
        let limit = cgroup::current_limit().ok_or_else(|| CgroupError::NotApplied { dir: dir.clone() })?;
        crate::output::say(format_args!(
            "kvbench serve: under a memory limit of {} (page cache included)",
            human::bytes(limit)
        ));
    }
    let threads = args.threads.map_or_else(|| std::thread::available_parallelism().map_or(1, usize::from), usize::from);
    let config = Config { http: args.http.0, resp: args.resp.0, threads, signals: true, limits: limits(args) };
    let source = DataSource {
        path: args.data.clone(),
        strategy: args.strategy.strategy.clone(),
        options: args.strategy.open_options(),
    };
    let server = Server::start(config, source)?;
    let bound = server.bound();
    let mut out = std::io::stdout().lock();
    for (scheme, addr) in [("http", bound.http), ("resp", bound.resp)] {
        if let Some(addr) = addr {
            writeln!(out, "listening on {scheme}://{addr}")?;
        }
    }
    out.flush()?;
    drop(out);
    crate::output::say(format_args!(
        "kvbench serve: {threads} thread(s); Ctrl-C stops, SIGHUP reloads {}",
        args.data.display()
    ));
    server.wait()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    /// The options' defaults are written as text for `--help`: they must be the server's own.
    #[test]
    fn default_options_give_the_servers_default_limits() {
        let cli = Cli::try_parse_from(["serve", "--data", "kv.txt"]).unwrap();
        assert_eq!(format!("{:?}", limits(&cli.serve)), format!("{:?}", Limits::default()));
        let cli = Cli::try_parse_from(["serve", "--data", "kv.txt", "--max-resp-command", "16MiB"]).unwrap();
        assert_eq!(limits(&cli.serve).max_resp_command_bytes, 16 << 20);
        assert!(Cli::try_parse_from(["serve", "--data", "kv.txt", "--max-resp-args", "0"]).is_err());
    }
}
