//! The external programs the baselines need, looked up on `PATH`.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// A program a baseline runs, found on `PATH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tool {
    /// `bash`, which runs the shell baselines.
    Bash,
    /// `grep`, called once per key by `bash-grep`.
    Grep,
    /// `awk` (gawk or mawk), the one pass of `bash-awk`.
    Awk,
    /// `python3`, which runs the Python baselines.
    Python3,
}

impl Tool {
    /// The program's name on `PATH`.
    pub fn program(self) -> &'static str {
        match self {
            Tool::Bash => "bash",
            Tool::Grep => "grep",
            Tool::Awk => "awk",
            Tool::Python3 => "python3",
        }
    }

    /// Where the program is on `PATH`, if it is there (as `Command` would find it).
    pub fn find(self) -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(self.program()))
            .find(|file| file.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.program())
    }
}

/// Why a baseline cannot run on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// A program it needs is not on `PATH`.
    #[error("no {0} on PATH")]
    Missing(Tool),
}
