//! [`Scripts`]: the baseline programs, written where an interpreter can run them.
//!
//! The programs are embedded in the binary (`include_str!`), so `kvbench`
//! runs them from any directory, and written to files at run time rather
//! than passed with `python3 -c`: the Python baselines import a shared module
//! (`kvfile.py`), which needs a directory; a process then looks as a user's
//! would (`python3 py_dict.py DATA KEY...`); and the whole of argv is left to
//! the keys. The directory is a fresh temporary one, removed when [`Scripts`]
//! is dropped, so a stale copy from another kvbench version is never run and
//! no other user can plant a script in it.

use std::io;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::Baseline;

/// One file of `benches/baselines/`, embedded at build time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptFile {
    /// Its file name, e.g. `py_dict.py`.
    pub name: &'static str,
    /// Its text.
    pub text: &'static str,
}

/// The [`ScriptFile`] of `benches/baselines/$name`.
macro_rules! embed {
    ($name:literal) => {
        $crate::scripts::ScriptFile { name: $name, text: include_str!(concat!("../../../benches/baselines/", $name)) }
    };
}
pub(crate) use embed;

/// The module every Python baseline imports: the data format and the command line.
pub const PYTHON_SHARED: ScriptFile = embed!("kvfile.py");

/// Why the scripts could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the baseline scripts to {}: {source}", path.display())]
pub struct InstallError {
    /// The directory or file that could not be created.
    pub path: PathBuf,
    /// What the system said.
    pub source: io::Error,
}

/// Every baseline's script in a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct Scripts {
    dir: TempDir,
}

impl Scripts {
    /// Writes every baseline's script (and the shared Python module) to a fresh temporary directory.
    pub fn install() -> Result<Scripts, InstallError> {
        let dir = tempfile::Builder::new()
            .prefix("kvbench-baselines-")
            .tempdir()
            .map_err(|source| InstallError { path: std::env::temp_dir(), source })?;
        for file in Baseline::ALL.map(Baseline::script).into_iter().chain([PYTHON_SHARED]) {
            let path = dir.path().join(file.name);
            std::fs::write(&path, file.text).map_err(|source| InstallError { path, source })?;
        }
        Ok(Scripts { dir })
    }

    /// The directory holding the scripts.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The path of `baseline`'s script.
    pub fn path(&self, baseline: Baseline) -> PathBuf {
        self.dir().join(baseline.script().name)
    }
}
