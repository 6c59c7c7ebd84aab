//! `kvbench redis-load`: put a data file into a Redis db, as the `redis` strategy serves it.
//!
//! The same loader the strategy runs on open: records in file order with
//! `SET key value NX` (the first record of a key wins), a marker key holding
//! the file's fingerprint so a later load or open of the same file is a no-op,
//! and a refusal to touch a db that holds keys kvbench did not write.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use kvbench_lookup::{DEFAULT_REDIS_URL, OpenOptions};

use crate::human;

/// Options of `kvbench redis-load`.
#[derive(Args, Debug)]
pub struct RedisLoadArgs {
    /// The data file of `<key> <value>` lines.
    #[arg(long, short, value_name = "FILE")]
    data: PathBuf,
    /// The Redis server and db (`/N`) to load into.
    #[arg(long, value_name = "URL", default_value = DEFAULT_REDIS_URL)]
    redis_url: String,
    /// Skip malformed lines (and report how many) instead of failing on the first.
    #[arg(long)]
    lenient: bool,
}

/// Runs `kvbench redis-load`.
pub fn run(args: &RedisLoadArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let options = OpenOptions { lenient: args.lenient, ..OpenOptions::default() };
    let report = kvbench_lookup::redis::load(&args.data, &args.redis_url, &options)?;
    let skipped =
        if report.skipped > 0 { format!(", skipped {} malformed lines", report.skipped) } else { String::new() };
    println!("{} in {}{skipped}", report.note, human::nanos(start.elapsed().as_nanos() as f64));
    Ok(ExitCode::SUCCESS)
}
