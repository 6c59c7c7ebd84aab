//! `kvbench export`: results in other formats, for tracking services.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use kvbench_results::{bmf, io};

/// Formats results can be exported to.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Bencher Metric Format (bencher.dev): `{benchmark: {measure: {value, lower_value, upper_value}}}`.
    Bmf,
}

/// Options of `kvbench export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Bmf)]
    format: Format,
    /// Results files or folders (every `*.json` in a folder).
    #[arg(required = true, value_name = "RESULTS")]
    inputs: Vec<PathBuf>,
}

/// Runs `kvbench export`: reads results and prints them in `format` on stdout.
pub fn run(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let mut sets = Vec::new();
    for input in &args.inputs {
        sets.extend(io::read_all(input)?);
    }
    match args.format {
        Format::Bmf => println!("{}", serde_json::to_string_pretty(&bmf::from_sets(&sets))?),
    }
    Ok(ExitCode::SUCCESS)
}
