//! `kvbench export`: results in other formats, for tracking services.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use kvbench_results::{ResultSet, bmf, io};

use crate::output::{self, print_records};

/// Formats results can be exported to.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Bencher Metric Format (bencher.dev): `{benchmark: {measure: {value, lower_value, upper_value}}}`.
    Bmf,
    /// The records as one results file holds them (every input's records in one set).
    Json,
    /// One line per figure: case, dataset, workload, metric, value, unit, interval, runs.
    Csv,
    /// The same as a Markdown table.
    Markdown,
    /// The same as an aligned text table.
    Text,
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
    let records = |format| {
        let mut all = ResultSet::new("kvbench export");
        all.records = sets.iter().flat_map(|s| s.records.iter().cloned()).collect();
        print_records(&all, format)
    };
    match args.format {
        Format::Bmf => println!("{}", serde_json::to_string_pretty(&bmf::from_sets(&sets))?),
        Format::Json => records(output::Format::Json)?,
        Format::Csv => records(output::Format::Csv)?,
        Format::Markdown => records(output::Format::Markdown)?,
        Format::Text => records(output::Format::Text)?,
    }
    Ok(ExitCode::SUCCESS)
}
