//! `kvbench bench soak`: a long open-loop load near the server's maximum,
//! watching for errors and for memory that keeps growing; the run is
//! `kvbench_loadgen::soak`. Exit status 1 when any request failed or the RSS
//! after warm-up grew by more than [`RSS_SLACK`].

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use kvbench_loadgen::RSS_SLACK;
use kvbench_loadgen::{Processes, Protocol, Soak, SoakOptions};
use kvbench_peers::Pinning;
use kvbench_workload::{Count, Dataset};

use crate::human;
use crate::output::{Bar, load_cells};

/// The slice when `--slice` is not given and the soak is longer.
const DEFAULT_SLICE: Duration = Duration::from_secs(10);

/// Options of `kvbench bench soak`.
#[derive(Args, Debug)]
pub struct SoakArgs {
    /// How long to load the server (after finding its maximum).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Each slice of the load: errors, latency and RSS are reported per slice [default: 10s, or the whole duration if shorter].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    slice: Option<Duration>,
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
    let options = SoakOptions {
        dataset: Dataset::new(args.keys.0),
        data_dir: args.data_dir.clone(),
        duration: args.duration,
        // A short soak (`--duration 3s`) is one slice rather than an error.
        slice: args.slice.unwrap_or(DEFAULT_SLICE.min(args.duration)),
        fraction: args.fraction,
        threads: args.threads,
        connections: args.connections,
        protocol: match args.protocol {
            ProtocolArg::Http => Protocol::Http,
            ProtocolArg::Resp => Protocol::Resp,
        },
    };
    let exe = std::env::current_exe().context("cannot find the kvbench executable to start the server with")?;
    let soak = Soak::start(options, &Processes::new(exe, Pinning::none()))?;
    eprintln!(
        "closed-loop maximum {:.0} requests/s; soaking at {:.0}/s ({:.0} %) for {}",
        soak.max(),
        soak.rate(),
        args.fraction * 100.0,
        humantime::format_duration(args.duration)
    );
    let outcome = soak.run(&mut Bar::new("soak"))?;
    let rows: Vec<Vec<String>> = outcome
        .slices
        .iter()
        .map(|slice| {
            let elapsed = humantime::format_duration(Duration::from_secs(slice.elapsed.as_secs())).to_string();
            [elapsed].into_iter().chain(load_cells(&slice.measured)).collect()
        })
        .collect();
    println!("{}", human::table(&["elapsed", "requests/s", "p50", "p99", "CPU", "RSS", "errors"], &rows));
    println!(
        "{} requests at {:.0}/s, {} errors; RSS {} after warm-up, {} at the end, {} at most",
        outcome.requests(),
        outcome.rate,
        outcome.errors(),
        human::bytes(outcome.rss_after_warmup()),
        human::bytes(outcome.rss_last()),
        human::bytes(outcome.rss_peak())
    );
    let grew = outcome.rss_grew();
    if grew {
        eprintln!("RSS grew by more than {} after warm-up", human::bytes(RSS_SLACK));
    }
    Ok(if outcome.errors() > 0 || grew { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
