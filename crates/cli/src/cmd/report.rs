//! `kvbench report`: charts and a README.md from the results (by default this
//! machine's, `results/latest/`, into `results/latest/report/`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Options of `kvbench report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Results file or folder to read.
    #[arg(long, value_name = "PATH", default_value = "results/latest")]
    results: PathBuf,
    /// Folder to write the charts and README.md into (`reports/` holds the
    /// published report, drawn from `results/reference/`: `just publish`).
    #[arg(long, value_name = "DIR", default_value = "results/latest/report")]
    out: PathBuf,
}

/// Runs `kvbench report`.
pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    write(&args.results, &args.out)?;
    Ok(ExitCode::SUCCESS)
}

/// Generates the report and says what it wrote and skipped.
pub fn write(results: &std::path::Path, out: &std::path::Path) -> anyhow::Result<()> {
    let report = kvbench_report::generate(results, out)?;
    for skipped in &report.skipped {
        crate::output::say(format_args!("not drawn: {skipped}"));
    }
    crate::output::say(format_args!(
        "wrote {} files to {} (open {}/README.md)",
        report.written.len(),
        out.display(),
        out.display()
    ));
    Ok(())
}
