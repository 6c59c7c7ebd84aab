//! The suite: every case (strategy configuration) on every dataset, each
//! probed in a fresh child process so memory figures are its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kvbench_lookup::{Strategy, StrategyKind};
use serde::{Deserialize, Serialize};

use crate::probe::ProbeReport;

/// One configuration the suite measures.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The strategy and its configuration.
    pub strategy: Strategy,
    /// Delete the index sidecar first (times a cold `mmap-index` build).
    pub fresh_index: bool,
}

impl Case {
    /// A case that opens `strategy` as the data folder finds it.
    pub fn new(strategy: Strategy) -> Self {
        Case { strategy, fresh_index: false }
    }

    /// How tables name the case, e.g. `mmap-index (build)`.
    pub fn label(&self) -> String {
        match (&self.strategy, self.fresh_index) {
            (s, true) => format!("{s} (build)"),
            (s @ Strategy::Plain(StrategyKind::MmapIndex), false) => format!("{s} (reopen)"),
            (s, false) => s.to_string(),
        }
    }
}

/// The cases the main job runs: every strategy, `mmap-index` both built and
/// reopened, and the LRU at 10 % and 50 % over `mmap-index`.
pub fn default_cases() -> Vec<Case> {
    let plain = |k| Case::new(Strategy::Plain(k));
    let lru = |ratio| Case::new(Strategy::Lru { ratio, backing: StrategyKind::MmapIndex });
    vec![
        plain(StrategyKind::ScanLines),
        plain(StrategyKind::Scan),
        plain(StrategyKind::HashMap),
        Case { strategy: Strategy::Plain(StrategyKind::MmapIndex), fresh_index: true },
        plain(StrategyKind::MmapIndex),
        lru(0.1),
        lru(0.5),
        plain(StrategyKind::Warming),
    ]
}

/// A probe's result, with what it measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Dataset label, e.g. `1M`.
    pub dataset: String,
    /// Case label.
    pub case: String,
    /// What the probe found.
    pub report: ProbeReport,
}

/// Why a child probe failed.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The probe process could not be started.
    #[error("cannot run {exe}: {source}", exe = exe.display())]
    Spawn {
        /// The executable.
        exe: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The probe exited with an error.
    #[error("probe of {case} failed ({status}): {stderr}")]
    Failed {
        /// Case label.
        case: String,
        /// Exit status.
        status: std::process::ExitStatus,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The probe's output was not a report.
    #[error("probe of {case} printed no report: {source}")]
    Output {
        /// Case label.
        case: String,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// How a child probe measures.
#[derive(Clone, Copy, Debug)]
pub struct ProbeOptions {
    /// At most this many of the file's keys are looked up.
    pub key_pool: usize,
    /// Short rounds ([`crate::timing::Plan::quick`]).
    pub quick: bool,
}

/// The arguments that make `kvbench probe` run `case` on `data` (after the subcommand).
pub fn probe_args(data: &Path, case: &Case, options: ProbeOptions) -> Vec<String> {
    let mut args = vec![
        "--data".to_owned(),
        data.display().to_string(),
        "--strategy".to_owned(),
        case.strategy.to_string(),
        "--key-pool".to_owned(),
        options.key_pool.to_string(),
    ];
    if case.fresh_index {
        args.push("--fresh-index".to_owned());
    }
    if options.quick {
        args.push("--quick".to_owned());
    }
    args
}

/// Runs `<exe> probe …` for `case` and reads its JSON report from stdout.
pub fn probe_in_child(exe: &Path, data: &Path, case: &Case, options: ProbeOptions) -> Result<ProbeReport, SuiteError> {
    let output = Command::new(exe)
        .arg("probe")
        .args(probe_args(data, case, options))
        .stdin(Stdio::null())
        .output()
        .map_err(|source| SuiteError::Spawn { exe: exe.to_owned(), source })?;
    if !output.status.success() {
        return Err(SuiteError::Failed {
            case: case.label(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    serde_json::from_slice(&output.stdout).map_err(|source| SuiteError::Output { case: case.label(), source })
}
