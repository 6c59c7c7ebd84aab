//! The report: charts and a readable `README.md` generated from `results/`.
//!
//! It reads only the results schema ([`kvbench_results`]) and writes into a
//! report folder. Each chart is one function in [`charts`], listed once in
//! [`charts::all`]; the report grows by adding a function and a line there.
//!
//! - [`data`]: the loaded results and the questions charts ask of them.
//! - [`growth`]: how each strategy's costs grow with the key count (chart lines, factors).
//! - [`style`]: fonts (embedded, no system packages), colours per strategy
//!   (numbers are written by [`kvbench_results::units`], as in the terminal).
//! - [`charts`]: one module per chart, each drawn to SVG and PNG.
//! - [`markdown`]: the report text and tables computed from the data.
//! - [`projection`]: what a 1B-key file would need, projected from bytes per key (labelled as such).
//! - [`conclusions`]: the report's findings, one function each, with the inputs each lacked.
//! - [`trend`]: the history of main drawn per metric family, its steps marked (`kvbench history report --out`).

pub mod charts;
pub mod conclusions;
pub mod data;
pub mod growth;
pub mod markdown;
pub mod projection;
pub mod style;
pub mod trend;

use std::path::{Path, PathBuf};

pub use data::Data;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No results to report on.
    #[error(
        "no results in {dir}: run `kvbench suite` (writes suite.json) and `cargo bench --bench lookup` \
         (writes criterion.json) first",
        dir = dir.display()
    )]
    NoResults {
        /// The folder searched.
        dir: PathBuf,
    },
    /// Results could not be read.
    #[error(transparent)]
    Results(#[from] kvbench_results::io::ResultsError),
    /// A file could not be written.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error("chart {chart}: {message}")]
    Draw {
        /// The chart's file stem.
        chart: String,
        /// What plotters said.
        message: String,
    },
}

/// What a report run produced.
#[derive(Debug, Default)]
pub struct Report {
    /// Files written (charts and the README).
    pub written: Vec<PathBuf>,
    /// Charts skipped for lack of data, with the run that would provide it.
    pub skipped: Vec<String>,
}

/// Reads the results in `results` (a file or folder) and writes the report into `out`.
pub fn generate(results: &Path, out: &Path) -> Result<Report, ReportError> {
    let data = Data::load(results)?;
    std::fs::create_dir_all(out).map_err(|source| ReportError::Io { path: out.to_owned(), source })?;
    style::register_fonts();
    let mut report = Report::default();
    let mut drawn = Vec::new();
    let charts = charts::all();
    for chart in &charts {
        if let Some(missing) = (chart.missing)(&data) {
            report.skipped.push(format!("{}: {missing}", chart.stem));
            continue;
        }
        for (ext, draw) in [("svg", chart.svg), ("png", chart.png)] {
            let path = out.join(format!("{}.{ext}", chart.stem));
            draw(&data, &path).map_err(|message| ReportError::Draw { chart: chart.stem.to_owned(), message })?;
            report.written.push(path);
        }
        drawn.push(chart);
    }
    let readme = out.join("README.md");
    std::fs::write(&readme, markdown::render(&data, &drawn, &report.skipped))
        .map_err(|source| ReportError::Io { path: readme.clone(), source })?;
    report.written.push(readme);
    Ok(report)
}
