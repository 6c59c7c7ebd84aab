//! `kvbench bench soak`: a long open-loop load near the server's maximum,
//! watching for errors and for memory that keeps growing.
//!
//! The multi-thread server is started on its own; a short closed loop (one
//! slice, at most 5 s) finds its maximum rate; then an open loop at a fraction of it runs in slices
//! (10 s by default), each with its own error count, latency percentiles and
//! RSS sampled from `/proc`. Exit status 1 when any request failed or the RSS
//! after warm-up grew by more than a bound.

use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use kvbench_loadgen::{LoadSpec, ProcSampler, Protocol, Reference, Stop};
use kvbench_peers::serve::ServeProcess;
use kvbench_workload::{Count, Dataset, Workload};

use crate::bench_macro::load_cells;
use crate::generate::progress_bar;
use crate::human;

/// RSS may grow this much (bytes) between the first slice after warm-up and the last.
const RSS_SLACK: u64 = 16 << 20;

/// Options of `kvbench bench soak`.
#[derive(Args, Debug)]
pub struct SoakArgs {
    /// How long to load the server (after finding its maximum).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Each slice of the load: errors, latency and RSS are reported per slice.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    slice: Duration,
    /// The offered rate, as a fraction of the closed-loop maximum.
    #[arg(long, value_name = "F", default_value_t = 0.8)]
    fraction: f64,
    /// Keys in the served dataset.
    #[arg(long, value_name = "N", default_value = "1M")]
    keys: Count,
    /// Server threads.
    #[arg(long, value_name = "N", default_value_t = 2)]
    threads: usize,
    /// Client connections.
    #[arg(long, value_name = "N", default_value_t = 64)]
    connections: usize,
    /// The protocol of the load.
    #[arg(long, value_enum, default_value = "http")]
    protocol: ProtocolArg,
    /// Where datasets are generated and cached.
    #[arg(long, value_name = "DIR", default_value = "data")]
    data_dir: std::path::PathBuf,
}

/// The protocols, as the command line names them.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ProtocolArg {
    /// HTTP/1.1.
    Http,
    /// RESP.
    Resp,
}

/// Runs `kvbench bench soak`.
pub fn run(args: &SoakArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.fraction > 0.0 && args.fraction <= 1.0, "--fraction must be in (0, 1]");
    anyhow::ensure!(!args.slice.is_zero() && args.slice <= args.duration, "--slice must be in (0, --duration]");
    let protocol = match args.protocol {
        ProtocolArg::Http => Protocol::Http,
        ProtocolArg::Resp => Protocol::Resp,
    };
    let (data, _) = Dataset::new(args.keys.0)
        .ensure(&args.data_dir, |_| {})
        .with_context(|| format!("cannot generate the dataset into {}", args.data_dir.display()))?;
    let exe = std::env::current_exe().context("cannot find the kvbench executable to start the server with")?;
    let serve_args = ["--threads".to_owned(), args.threads.to_string(), "--strategy".into(), "hashmap".into()];
    let server = ServeProcess::kvbench(&exe, &data, &serve_args, None, Duration::from_secs(300))?;
    let addr = match protocol {
        Protocol::Http => server.http,
        Protocol::Resp => server.resp,
    }
    .context("the server did not report its address")?;
    let reference = Reference::open(&data)?;
    let load = |stop, rate, seed| -> anyhow::Result<_> {
        let spec = LoadSpec {
            target: protocol.at(addr),
            connections: args.connections,
            threads: 1,
            stop,
            rate,
            workload: Workload::UNIFORM,
            seed,
        };
        let sampler = ProcSampler::start(server.pid(), Duration::from_millis(100));
        let report = kvbench_loadgen::run(&spec, &reference.keys, &*reference.lookup, &AtomicU64::new(0))?;
        Ok((report, sampler.finish()))
    };
    let (max, _) = load(Stop::Duration(args.slice.min(Duration::from_secs(5))), None, 1)?;
    let rate = max.throughput() * args.fraction;
    eprintln!(
        "closed-loop maximum {:.0} requests/s; soaking at {rate:.0}/s ({:.0} %) for {}",
        max.throughput(),
        args.fraction * 100.0,
        humantime::format_duration(args.duration)
    );
    let slices = (args.duration.as_secs_f64() / args.slice.as_secs_f64()).ceil() as u64;
    let bar = progress_bar(slices, "soak");
    let (mut rows, mut rss, mut errors, mut requests) = (Vec::new(), Vec::new(), 0, 0);
    let start = Instant::now();
    for i in 0..slices {
        let (report, used) = load(Stop::Duration(args.slice), Some(rate), 100 + i)?;
        errors += report.errors.total();
        requests += report.requests;
        rss.push(used.rss_max);
        let elapsed = humantime::format_duration(Duration::from_secs(start.elapsed().as_secs())).to_string();
        rows.push([elapsed].into_iter().chain(load_cells(&report, &used)).collect());
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("{}", human::table(&["elapsed", "requests/s", "p50", "p99", "CPU", "RSS", "errors"], &rows));
    // The first slice warms up (buffers, connections); growth is measured after it.
    let after_warmup = rss.get(1).or(rss.first()).copied().unwrap_or(0);
    let last = rss.last().copied().unwrap_or(0);
    let peak = rss.iter().copied().max().unwrap_or(0);
    println!(
        "{requests} requests at {rate:.0}/s, {errors} errors; RSS {} after warm-up, {} at the end, {} at most",
        human::bytes(after_warmup),
        human::bytes(last),
        human::bytes(peak)
    );
    let grew = last > after_warmup + RSS_SLACK;
    if grew {
        eprintln!("RSS grew by more than {} after warm-up", human::bytes(RSS_SLACK));
    }
    Ok(if errors > 0 || grew { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
