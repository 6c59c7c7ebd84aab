//! Reading and writing result files, and folders of them.

use std::path::{Path, PathBuf};

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

/// Reads one results file, refusing schema versions it does not know.
pub fn read(path: &Path) -> Result<ResultSet, ResultsError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    #[derive(serde::Deserialize)]
    struct VersionOnly {
        schema_version: u32,
    }
    let version: VersionOnly =
        serde_json::from_str(&text).map_err(|source| ResultsError::Parse { path: path.to_owned(), source })?;
    if !(OLDEST_READABLE_VERSION..=SCHEMA_VERSION).contains(&version.schema_version) {
        return Err(ResultsError::Version { path: path.to_owned(), found: version.schema_version });
    }
    serde_json::from_str(&text).map_err(|source| ResultsError::Parse { path: path.to_owned(), source })
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
