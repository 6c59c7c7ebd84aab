//! Importing gungraun's instruction counts: `<gungraun dir>/**/summary.json`.
//!
//! `cargo bench --bench instructions -- --save-summary=json` (or
//! `GUNGRAUN_SAVE_SUMMARY=json`) makes gungraun write one `summary.json` per
//! benchmark, under
//! `target/gungraun/kvbench-benches/instructions/<group>/<function>.<id>/`.
//! kvbench names those benchmarks `<kind>` (the function: `get`) and
//! `<workload>_<dataset>_n<lookups>_<strategy>` (the id), all one Rust
//! identifier, e.g. `uniform_10k_n100k_lru10_mmap_index`:
//!
//! - workload: `uniform` or `miss` (the labels of `kvbench_workload::Workload`);
//! - dataset: a [`DatasetInfo::label`] of default values (`10k`, `1M`);
//! - lookups: how many lookups the benchmark made, to divide the count by,
//!   written like a dataset (`n1k`, `n100k`, `n500`);
//! - strategy: its label with `-` written `_`, and `lru(0.1,mmap-index)` as
//!   `lru10_mmap_index` (the cache ratio in percent).
//!
//! Each becomes a [`Record`] of [`Metric::Instructions`]: the instructions
//! Callgrind counted (`Ir`) divided by the lookups, without a spread: a
//! rerun counts the same, or within 0.1 % for the strategies whose hash
//! tables are seeded at random (see `benches/instructions.rs`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::env::RunInfo;
use crate::io::ResultsError;
// The instruction benchmarks use only the default datasets (their ids carry just the key count).
use crate::names::DEFAULT_VALUE_LEN;
use crate::schema::{DatasetInfo, Metric, Record};
use crate::units::parse_count;
use crate::workload::Workload;

/// The parts of gungraun's `summary.json` kvbench reads.
#[derive(Deserialize)]
struct Summary {
    function_name: String,
    id: Option<String>,
    profiles: Vec<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    tool: String,
    data: ProfileData,
}

#[derive(Deserialize)]
struct ProfileData {
    total: ProfileTotal,
}

#[derive(Deserialize)]
struct ProfileTotal {
    metrics: serde_json::Value,
}

/// What a benchmark id says.
#[derive(Debug, PartialEq)]
struct BenchId {
    workload: Workload,
    dataset: DatasetInfo,
    lookups: u64,
    strategy: String,
}

/// Where gungraun writes: `$GUNGRAUN_HOME`, else `$CARGO_TARGET_DIR/gungraun`, else `target/gungraun`.
pub fn default_dir() -> PathBuf {
    let target = || std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    std::env::var_os("GUNGRAUN_HOME").map_or_else(|| target().join("gungraun"), PathBuf::from)
}

/// Every `summary.json` below `dir`, sorted (none where folders cannot be read).
fn summary_files(dir: &Path) -> Vec<PathBuf> {
    let (mut found, mut folders) = (Vec::new(), vec![dir.to_owned()]);
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                folders.push(path);
            } else if path.ends_with("summary.json") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The strategy label an identifier spells: `mmap_index` → `mmap-index`,
/// `lru10_mmap_index` → `lru(0.1,mmap-index)`.
fn parse_strategy(ident: &str) -> Option<String> {
    let Some(rest) = ident.strip_prefix("lru") else {
        return (!ident.is_empty()).then(|| ident.replace('_', "-"));
    };
    let (percent, backing) = rest.split_once('_')?;
    let ratio = f64::from(percent.parse::<u8>().ok().filter(|p| (1..=100).contains(p))?) / 100.0;
    (!backing.is_empty()).then(|| format!("lru({ratio},{})", backing.replace('_', "-")))
}

/// Reads `<workload>_<dataset>_n<lookups>_<strategy>`; `None` for any other id.
fn parse_id(id: &str) -> Option<BenchId> {
    let mut parts = id.splitn(4, '_');
    let (workload, dataset, lookups, strategy) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let workload = match workload {
        "uniform" => Workload::UNIFORM,
        "miss" => Workload::MISS,
        _ => return None,
    };
    let keys = parse_count(dataset)?;
    let lookups = lookups.strip_prefix('n').and_then(parse_count).filter(|&n| n > 0)?;
    Some(BenchId {
        workload,
        dataset: DatasetInfo::generated(keys, DEFAULT_VALUE_LEN),
        lookups,
        strategy: parse_strategy(strategy)?,
    })
}

/// Callgrind's total `Ir` of this run (the `new` value; `old` is the previous run's).
fn instructions(summary: &Summary) -> Option<u64> {
    let profile = summary.profiles.iter().find(|p| p.tool == "Callgrind")?;
    let new = profile.data.total.metrics.get("Ir")?.get("values")?.get("new")?;
    // A count is `{"Int": n}`; a bare number is accepted too.
    new.get("Int").unwrap_or(new).as_u64()
}

fn read_summary(path: &Path) -> Result<Summary, ResultsError> {
    let text = std::fs::read_to_string(path).map_err(|source| ResultsError::Io { path: path.to_owned(), source })?;
    serde_json::from_str(&text).map_err(|source| ResultsError::Parse { path: path.to_owned(), source })
}

/// Records of instructions per lookup for the `get` benchmarks whose
/// summaries are under `dir` (see [`default_dir`]), sorted by path.
///
/// Summaries of other benchmarks (another function, an id of another shape,
/// no Callgrind count) are skipped; an unreadable or malformed summary file
/// is an error. Every summary found is read, so run the whole benchmark (or
/// clear `dir`) before importing, or a benchmark filtered out this time
/// brings its old count along.
pub fn import(dir: &Path, run: &RunInfo) -> Result<Vec<Record>, ResultsError> {
    let mut records = Vec::new();
    for path in summary_files(dir) {
        let summary = read_summary(&path)?;
        if summary.function_name != "get" {
            continue;
        }
        let Some(id) = summary.id.as_deref().and_then(parse_id) else { continue };
        let Some(total) = instructions(&summary) else { continue };
        let per_lookup = total as f64 / id.lookups as f64;
        records.push(Record::new(id.strategy, &id.dataset, Some(id.workload), Metric::Instructions, per_lookup, run));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_into_their_parts() {
        let id = parse_id("uniform_10k_n100k_lru10_mmap_index");
        let dataset = DatasetInfo::generated(10_000, DEFAULT_VALUE_LEN);
        let expected =
            BenchId { workload: Workload::UNIFORM, dataset, lookups: 100_000, strategy: "lru(0.1,mmap-index)".into() };
        assert_eq!(id, Some(expected));
        let miss = parse_id("miss_1M_n5_scan").map(|i| (i.dataset.keys, i.lookups, i.strategy));
        assert_eq!(miss, Some((1_000_000, 5, "scan".into())));
        assert_eq!(parse_strategy("lru100_hashmap").as_deref(), Some("lru(1,hashmap)"));
        assert_eq!(parse_strategy("scan_lines").as_deref(), Some("scan-lines"));
        for bad in [
            "",
            "uniform",
            "zipf_10k_n1000_scan",
            "uniform_10x_n1000_scan",
            "uniform_10k_1000_scan",
            "uniform_10k_n0_scan",
            "uniform_10k_nk_scan",
            "uniform_10k_n1000_",
            "uniform_10k_n1000_lru0_scan",
            "uniform_10k_n1000_lru10_",
        ] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
