//! What the commands show while and after measuring: progress bars, and the
//! table cells of one load that `bench macro` and `bench soak` both print.

use indicatif::{ProgressBar, ProgressStyle};
use kvbench_harness::progress::Progress;
use kvbench_loadgen::Measured;

use crate::human;

/// A progress bar on stderr that shows itself only on a terminal.
pub fn progress_bar(len: u64, what: &str) -> ProgressBar {
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
        self.0.suspend(|| eprintln!("{message}"));
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
