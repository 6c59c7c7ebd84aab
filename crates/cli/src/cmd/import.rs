//! `kvbench import`: other harnesses' output as records of the results schema.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use kvbench_results::{ResultSet, RunInfo, gungraun, io};

/// Harnesses whose output can be imported.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Harness {
    /// gungraun's `summary.json` files (`cargo bench --bench instructions -- --save-summary=json`):
    /// instructions per lookup.
    Gungraun,
}

/// Options of `kvbench import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// What produced the output.
    #[arg(long, value_enum, default_value_t = Harness::Gungraun)]
    from: Harness,
    /// Its output folder.
    #[arg(value_name = "DIR", default_value = "target/gungraun")]
    dir: PathBuf,
    /// Where to write the records.
    #[arg(long, value_name = "FILE")]
    results: PathBuf,
}

/// Runs `kvbench import`.
pub fn run(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let run = RunInfo::detect(false);
    let (source, records) = match args.from {
        Harness::Gungraun => ("gungraun (cargo bench --bench instructions)", gungraun::import(&args.dir, &run)?),
    };
    if records.is_empty() {
        bail!("no results found in {}: run the benchmarks first", args.dir.display());
    }
    let mut set = ResultSet::new(source);
    set.records = records;
    io::write(&args.results, &set).with_context(|| format!("cannot write {}", args.results.display()))?;
    crate::output::say(format_args!("wrote {} records to {}", set.records.len(), args.results.display()));
    Ok(ExitCode::SUCCESS)
}
