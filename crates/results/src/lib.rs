//! The one results schema of kvbench, shared by every writer and reader.
//!
//! - [`schema`]: [`Record`] (one measured value with its context) and
//!   [`ResultSet`] (a file of them), versioned by [`SCHEMA_VERSION`].
//! - [`env`](mod@env): the machine, toolchain and commit a run happened on.
//! - [`io`]: reading and writing result files and folders.
//! - [`criterion`]: importing criterion's `estimates.json` into records.
//! - [`gungraun`]: importing gungraun's instruction counts (`summary.json`) into records.
//! - [`bmf`]: exporting to Bencher's metric format, for tracking services.
//! - [`compare`]: two result sets compared, real regressions told from noise (`kvbench compare`).
//! - [`changepoint`]: steps (E-divisive) and drift (Mann–Kendall) in a figure's history over commits.
//! - [`history`]: the history of main, a results file per run, and each figure's steps and drift over it.
//! - [`recent`]: a change's figures against main's recent runs in the history (beyond their range, drifting).
//! - [`units`]: durations, sizes and counts written for people, one way for terminal and report.
//! - [`table`]: a table of results, written as the terminal's aligned text or as Markdown from the same rows.
//! - [`cells`]: the cells of the suite's figures (a figure, its interval, a latency tail), one rule for both.
//! - [`legend`]: how to read the suite's tables, one text for the terminal and the report.
//! - [`markdown`]: a Markdown table of plain text cells in one call ([`table::Table::markdown`]).
//! - [`stats`]: the median of repeated runs and its distribution-free confidence interval.
//! - [`recommend`]: "what to use": the best strategy per goal, computed from a run's records.
//! - [`names`]: names the writers of records and their readers (the report) must spell alike,
//!   and a record's case ([`CaseId`]: a strategy and its [`CaseStart`]).
//! - [`workload`](mod@workload): a record's workload ([`Workload`]), which `kvbench-workload` turns into key streams.

pub mod bmf;
pub mod cells;
pub mod changepoint;
pub mod compare;
pub mod criterion;
pub mod env;
pub mod gungraun;
pub mod history;
pub mod io;
pub mod legend;
pub mod markdown;
pub mod names;
pub mod recent;
pub mod recommend;
pub mod schema;
pub mod stats;
pub mod table;
pub mod units;
pub mod workload;

pub use env::{RunInfo, build_commit, stamp_build_commit};
pub use names::{
    BASE_CONNECTIONS, BASE_KEYS, CaseId, CaseStart, DEFAULT_VALUE_LEN, MEMCHR_PASS, PYTHON_DICT, REDIS_CLUSTER_SERVER,
    REDIS_SERVER,
};
pub use schema::{
    BASELINES_SOURCE, Bucket, DatasetInfo, Direction, Estimate, FileInfo, LatencyHistogram, LenSummary, LoadInfo,
    Metric, OLDEST_READABLE_VERSION, Record, RecordKey, ResultSet, SCHEMA_VERSION, Skipped, Spread, SpreadKind, Unit,
};
pub use workload::Workload;
