//! Reading and writing result files, and folders of them.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::names::{CaseId, unlabel_workload};
use crate::schema::{OLDEST_READABLE_VERSION, Record, ResultSet, SCHEMA_VERSION};

/// Why results could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file is not a results file.
    #[error("{path}: not a kvbench results file: {source}", path = path.display())]
    Parse {
        /// The path.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A file has another schema version.
    #[error("{path}: schema version {found}, this kvbench reads versions {OLDEST_READABLE_VERSION} to {SCHEMA_VERSION}", path = path.display())]
    Version {
        /// The path.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ResultsError + '_ {
    move |source| ResultsError::Io { path: path.to_owned(), source }
}

/// Writes `set` as pretty JSON, creating the folder if needed.
pub fn write(path: &Path, set: &ResultSet) -> Result<(), ResultsError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let json =
        serde_json::to_string_pretty(set).map_err(|source| ResultsError::Parse { path: path.to_owned(), source })?;
    std::fs::write(path, json + "\n").map_err(io_err(path))
}

/// Reads one results file, refusing schema versions it does not know and
/// upgrading older ones to this version's records ([`upgrade`]).
pub fn read(path: &Path) -> Result<ResultSet, ResultsError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let parse_err = |source| ResultsError::Parse { path: path.to_owned(), source };
    let mut value: Value = serde_json::from_str(&text).map_err(parse_err)?;
    #[derive(serde::Deserialize)]
    struct VersionOnly {
        schema_version: u32,
    }
    let version = VersionOnly::deserialize(&value).map_err(parse_err)?.schema_version;
    if !(OLDEST_READABLE_VERSION..=SCHEMA_VERSION).contains(&version) {
        return Err(ResultsError::Version { path: path.to_owned(), found: version });
    }
    upgrade(&mut value, version);
    serde_json::from_value(value).map_err(parse_err)
}

/// Rewrites a results file of schema `version`, as JSON, into this version's
/// form. Before 8 a record named its case and workload by labels: the
/// strategy `mmap-index (reopen)` becomes `"strategy": "mmap-index", "start":
/// "reopen"`, the workload `-` goes (none), and `uniform@cold` becomes
/// `uniform` (the case's start says cold). The set's version is left as
/// found: it says what its figures meant when measured.
pub fn upgrade(set: &mut Value, version: u32) {
    if version >= 8 {
        return;
    }
    for list in ["records", "skipped"] {
        let Some(entries) = set.get_mut(list).and_then(Value::as_array_mut) else { continue };
        for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::String(label)) = entry.get("strategy") {
                let case = CaseId::from_label(label);
                entry.insert("strategy".into(), case.strategy.into());
                if let Some(start) = case.start {
                    entry.insert("start".into(), start.word().into());
                }
            }
            if let Some(label) = entry.get("workload").and_then(Value::as_str) {
                match unlabel_workload(label).map(str::to_owned) {
                    Some(workload) => entry.insert("workload".into(), workload.into()),
                    None => entry.remove("workload"),
                };
            }
        }
    }
}

/// Reads a results file, or every results file in a folder (sorted by name).
///
/// In a folder, JSON files that are not results sets at all (no
/// `schema_version`: a BMF export saved beside them, say) are skipped; results
/// of another schema version or broken results files are still errors.
pub fn read_all(path: &Path) -> Result<Vec<ResultSet>, ResultsError> {
    if !path.is_dir() {
        return Ok(vec![read(path)?]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io_err(path))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let is_results = |f: &PathBuf| {
        std::fs::read_to_string(f)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|v| v.get("schema_version").is_some())
    };
    files.iter().filter(|f| is_results(f)).map(|f| read(f)).collect()
}

/// Every record of the results file, or of every results file in the folder, at `path`.
pub fn read_records(path: &Path) -> Result<Vec<Record>, ResultsError> {
    Ok(read_all(path)?.into_iter().flat_map(|s| s.records).collect())
}

/// The runs at `path`, each a list of records: a results file is one run;
/// a folder's own results files are one run, and each of its subfolders
/// that holds results files is one more (sorted by name), as the gate lays
/// out its runs (`before/1/`, `before/2/`, …).
pub fn read_runs(path: &Path) -> Result<Vec<Vec<Record>>, ResultsError> {
    if !path.is_dir() {
        return Ok(vec![read_records(path)?]);
    }
    let mut folders: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io_err(path))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let mut runs = vec![read_records(path)?];
    for folder in folders {
        runs.push(read_records(&folder)?);
    }
    Ok(runs.into_iter().filter(|run| !run.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::CaseStart;
    use crate::schema::Metric;
    use crate::workload::Workload;

    /// A file as kvbench wrote it at schema 7: labels for case and workload.
    const OLD: &str = r#"{
  "schema_version": 7,
  "source": "kvbench suite",
  "records": [
    {"strategy": "mmap-index (cold)", "dataset": {"keys": 10000, "value_len": "normal:30,5"},
     "workload": "uniform@cold", "metric": "first_lookup", "value": 90000.0, "unit": "ns", "spread": null,
     "run": {"cpu": "c", "cores": 2, "os": "linux", "toolchain": "rustc", "commit": null,
             "timestamp": "2026-11-24T10:00:00Z", "quick": false}},
    {"strategy": "mmap-index (reopen)", "dataset": {"keys": 10000, "value_len": "normal:30,5"},
     "workload": "-", "metric": "open_time", "value": 5000.0, "unit": "ns", "spread": null,
     "run": {"cpu": "c", "cores": 2, "os": "linux", "toolchain": "rustc", "commit": null,
             "timestamp": "2026-11-24T10:00:00Z", "quick": false}},
    {"strategy": "lru(0.1,hashmap)", "dataset": {"keys": 10000, "value_len": "normal:30,5"},
     "workload": "zipf:0.99,batch=64", "metric": "lookup_mean", "value": 50.0, "unit": "ns", "spread": null,
     "run": {"cpu": "c", "cores": 2, "os": "linux", "toolchain": "rustc", "commit": null,
             "timestamp": "2026-11-24T10:00:00Z", "quick": false}}
  ],
  "skipped": [{"strategy": "phf-index (build)", "dataset": {"keys": 10000, "value_len": "normal:30,5"},
               "reason": "too big"}]
}"#;

    #[test]
    fn files_before_schema_8_read_into_typed_cases_and_workloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.json");
        std::fs::write(&path, OLD).unwrap();
        let set = read(&path).unwrap();
        assert_eq!(set.schema_version, 7, "the version stays what the figures meant");
        let cases: Vec<_> = set.records.iter().map(|r| (r.case.clone(), r.workload, r.metric)).collect();
        let zipf: Workload = "zipf:0.99,batch=64".parse().unwrap();
        assert_eq!(
            cases,
            [
                (CaseId::new("mmap-index", Some(CaseStart::Cold)), Some(Workload::UNIFORM), Metric::FirstLookup),
                (CaseId::new("mmap-index", Some(CaseStart::Reopen)), None, Metric::OpenTime),
                (CaseId::plain("lru(0.1,hashmap)"), Some(zipf), Metric::LookupMean),
            ]
        );
        assert_eq!(set.records[0].workload_label(), "uniform@cold");
        assert_eq!(set.skipped[0].case, CaseId::new("phf-index", Some(CaseStart::Build)));
        // Written back, it is a file of this version that reads the same.
        let mut now = set.clone();
        now.schema_version = SCHEMA_VERSION;
        let again = dir.path().join("new.json");
        write(&again, &now).unwrap();
        let text = std::fs::read_to_string(&again).unwrap();
        assert!(
            text.contains(
                r#""strategy": "mmap-index",
      "start": "cold","#
            ),
            "{text}"
        );
        assert!(!text.contains("@cold") && !text.contains(r#""-""#), "{text}");
        assert_eq!(read(&again).unwrap(), now);
    }

    #[test]
    fn an_unknown_workload_label_is_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, OLD.replace("zipf:0.99,batch=64", "gauss")).unwrap();
        assert!(matches!(read(&path), Err(ResultsError::Parse { .. })));
    }
}
