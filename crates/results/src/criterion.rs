//! Importing criterion's results: `<criterion dir>/**/new/{benchmark,estimates}.json`.
//!
//! kvbench names its criterion benchmarks `<kind>/<dataset>/<workload>/<strategy>`
//! (kind `get`, `open` or `ready`); this module turns each into a [`Record`] of the
//! mean with its 95 % confidence interval, per element when the benchmark
//! declares an element throughput (a block of lookups per iteration).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::env::RunInfo;
use crate::io::ResultsError;
use crate::names::{CaseId, parse_workload_label, workload_label};
use crate::schema::{DatasetInfo, Metric, Record, SpreadKind};
use crate::workload::Workload;

/// The parts of criterion's `benchmark.json` kvbench reads: the id, and how
/// many elements (lookups) one iteration did, if it says so. Read from a
/// generic JSON value, so other benchmarks' throughput kinds cannot fail it.
fn benchmark_json(path: &Path) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let id = value.get("full_id")?.as_str()?.to_owned();
    let elements = value.get("throughput").and_then(|t| t.get("Elements")).and_then(serde_json::Value::as_u64);
    Some((id, elements.unwrap_or(1).max(1)))
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Estimates {
    mean: Estimate,
}

/// The id kvbench gives a criterion benchmark: its case and workload by their
/// labels (`open/1M/-/mmap-index (build)`), as criterion's stored baselines know them.
pub fn benchmark_id(kind: &str, dataset: &DatasetInfo, workload: Option<&Workload>, case: &CaseId) -> String {
    format!("{kind}/{}/{}/{case}", dataset.label(), workload_label(workload, case.start))
}

/// Where criterion writes: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else `target/criterion`.
pub fn default_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("criterion")
}

fn benchmark_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "new") && path.join("benchmark.json").is_file() {
            out.push(path);
        } else if path.is_dir() {
            benchmark_dirs(&path, out);
        }
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ResultsError> {
    let text = std::fs::read_to_string(path).map_err(|source| ResultsError::Io { path: path.to_owned(), source })?;
    serde_json::from_str(&text).map_err(|source| ResultsError::Parse { path: path.to_owned(), source })
}

/// Records for the criterion benchmarks under `dir` whose ids are in `wanted`
/// (as made by [`benchmark_id`]) and whose estimates were written at or after
/// `since`; `datasets` resolves dataset labels.
///
/// Benchmarks of other runs (filtered out this time, or another naming
/// scheme) are ignored, so a stale criterion folder cannot leak old numbers
/// into new results.
pub fn import(
    dir: &Path,
    wanted: &[String],
    since: std::time::SystemTime,
    datasets: &[DatasetInfo],
    run: &RunInfo,
) -> Result<Vec<Record>, ResultsError> {
    let mut dirs = Vec::new();
    benchmark_dirs(dir, &mut dirs);
    dirs.sort();
    let mut records = Vec::new();
    for new in dirs {
        // Unreadable or foreign benchmark files are skipped, not fatal.
        let Some((full_id, elements)) = benchmark_json(&new.join("benchmark.json")) else { continue };
        if !wanted.contains(&full_id) {
            continue;
        }
        let mut parts = full_id.splitn(4, '/');
        let (Some(kind), Some(dataset), Some(workload), Some(strategy)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let metric = match kind {
            "get" => Metric::GetMean,
            "open" => Metric::OpenTime,
            "ready" => Metric::ReadyTime,
            _ => continue,
        };
        let Some(dataset) = datasets.iter().find(|d| d.label() == dataset) else { continue };
        let case = CaseId::from_label(strategy);
        let Ok(workload) = parse_workload_label(workload) else { continue };
        let estimates_path = new.join("estimates.json");
        let written = std::fs::metadata(&estimates_path).and_then(|m| m.modified());
        if written.is_ok_and(|t| t < since) {
            continue;
        }
        let estimates: Estimates = read_json(&estimates_path)?;
        let mean = estimates.mean;
        // Benchmarks that time a block of lookups per iteration say so with an
        // element throughput; records are per lookup.
        let per = elements as f64;
        let record = Record::new(case, dataset, workload, metric, mean.point_estimate / per, run);
        records.push(record.with_spread(
            mean.confidence_interval.lower_bound / per,
            mean.confidence_interval.upper_bound / per,
            SpreadKind::Ci95,
        ));
    }
    Ok(records)
}
