//! Where and when a run happened: machine, toolchain, commit, time.

use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The context every record carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// CPU model name.
    pub cpu: String,
    /// Logical CPUs available to the process.
    pub cores: u32,
    /// OS and kernel, e.g. `linux 6.18.44`.
    pub os: String,
    /// `rustc --version` of the compiler that built kvbench.
    pub toolchain: String,
    /// The commit of the code that measured (`git describe --always --dirty`
    /// of its source tree when it was built; see [`stamp_build_commit`]).
    pub commit: Option<String>,
    /// When the run started, RFC 3339 UTC.
    pub timestamp: String,
    /// Whether it was a quick (smoke) run, whose figures are rough.
    pub quick: bool,
}

impl RunInfo {
    /// Describes this machine now.
    pub fn detect(quick: bool) -> Self {
        RunInfo {
            cpu: cpu_model().unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            os: os_release(),
            toolchain: env!("KVBENCH_RUSTC_VERSION").to_owned(),
            commit: build_commit(),
            timestamp: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            quick,
        }
    }
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

fn os_release() -> String {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{} {}", std::env::consts::OS, kernel.trim()).trim().to_owned()
}

/// The commit a binary was built from, set once at start-up by the binary
/// (which stamps it at build time; see `build-support/git_commit.rs`).
static BUILD_COMMIT: OnceLock<String> = OnceLock::new();

/// Records the commit this binary was built from, for every [`RunInfo`] it
/// describes from now on; `unknown` (a build outside git) is not recorded.
pub fn stamp_build_commit(commit: &str) {
    if commit != "unknown" && !commit.is_empty() {
        let _ = BUILD_COMMIT.set(commit.to_owned());
    }
}

/// The stamped commit; without one (a library user, a test), the working
/// directory's, which is the code's only when it was built from there.
pub fn build_commit() -> Option<String> {
    BUILD_COMMIT.get().cloned().or_else(git_commit)
}

fn git_commit() -> Option<String> {
    let out = Command::new("git").args(["describe", "--always", "--dirty", "--abbrev=12"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|s| !s.is_empty())
}
