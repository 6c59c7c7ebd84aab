//! What the commands show while and after measuring: progress bars (none
//! with `--quiet`), the format results are printed in (`--format`), and the
//! table cells of one load that `bench macro` and `bench soak` both print.

use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use kvbench_harness::progress::Progress;
use kvbench_loadgen::Measured;
use kvbench_results::table::{self, Table};
use kvbench_results::{Record, ResultSet};

use crate::human;

/// Whether `--quiet` was given: no progress and no notes on stderr, only errors.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets `--quiet` for the whole process (once, as the command line is read).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Says `message` on stderr (what a command did, a progress line), unless `--quiet`.
pub fn say(message: impl std::fmt::Display) {
    if !quiet() {
        eprintln!("{message}");
    }
}

/// How a command prints its results on stdout (`--format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned tables and sentences, for people.
    #[default]
    Text,
    /// One JSON document, for scripts.
    Json,
    /// Comma-separated values, one line per figure.
    Csv,
    /// Markdown tables.
    Markdown,
}

/// `records`, one line per figure, as `format` writes a table: its case, dataset,
/// workload, metric, raw value and unit, interval, runs and samples.
pub fn records_table(records: &[Record]) -> Table {
    let header = [
        "strategy", "start", "dataset", "workload", "metric", "value", "unit", "lower", "upper", "runs", "samples",
        "load",
    ];
    let number = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v}"));
    let rows = records.iter().map(|r| {
        let unit = serde_json::to_value(r.unit).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let load = r.load.as_ref().map_or_else(String::new, |l| format!("{} x{}", l.protocol, l.connections));
        vec![
            r.case.strategy.clone(),
            r.case.start.map_or_else(String::new, |s| s.word().to_owned()),
            r.dataset.label(),
            r.workload.map_or_else(String::new, |w| w.to_string()),
            r.metric.name().to_owned(),
            format!("{}", r.value),
            unit,
            number(r.spread.map(|s| s.lower)),
            number(r.spread.map(|s| s.upper)),
            r.runs.map_or_else(String::new, |n| n.to_string()),
            r.samples.map_or_else(String::new, |n| n.to_string()),
            load,
        ]
    });
    Table::of(&header, &rows.collect::<Vec<_>>())
}

/// Prints `set` on stdout as `format` says, for the commands whose output
/// is records (`export`, `load`): JSON as the results file holds them,
/// otherwise [`records_table`].
pub fn print_records(set: &ResultSet, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(set)?),
        Format::Csv => print!("{}", records_table(&set.records).csv()),
        Format::Markdown => print!("{}", records_table(&set.records).markdown()),
        Format::Text => println!("{}", records_table(&set.records).text(true)),
    }
    Ok(())
}

/// The table format of `format`, where it is a table (not JSON).
pub fn table_format(format: Format) -> Option<table::Format> {
    match format {
        Format::Text => Some(table::Format::Text),
        Format::Csv => Some(table::Format::Csv),
        Format::Markdown => Some(table::Format::Markdown),
        Format::Json => None,
    }
}

/// A progress bar on stderr that shows itself only on a terminal (never with `--quiet`).
pub fn progress_bar(len: u64, what: &str) -> ProgressBar {
    if quiet() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {human_pos}/{human_len} ({eta})")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// A progress bar driven by a library's run; cleared when dropped.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar titled `what` until the run says what it is doing.
    pub fn new(what: &str) -> Bar {
        Bar(progress_bar(0, what))
    }
}

impl Progress for Bar {
    fn start(&mut self, total: u64) {
        self.0.set_length(total);
    }

    fn doing(&mut self, what: &str) {
        self.0.set_message(what.to_owned());
    }

    fn tick(&mut self) {
        self.0.tick();
    }

    fn done(&mut self, steps: u64) {
        self.0.inc(steps);
    }

    fn note(&mut self, message: &str) {
        self.0.suspend(|| say(message));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// What one load measured, as table cells: requests/s, p50, p99, server CPU, RSS, errors.
pub fn load_cells(measured: &Measured) -> [String; 6] {
    let (report, used) = (&measured.report, &measured.used);
    let p = report.percentiles();
    [
        format!("{:.0}", report.throughput()),
        human::nanos(p.p50),
        human::nanos(p.p99),
        format!("{:.0} %", used.user_percent + used.system_percent),
        human::bytes(used.rss_max),
        report.errors.total().to_string(),
    ]
}
