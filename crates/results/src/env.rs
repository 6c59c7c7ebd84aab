//! Where and when a run happened: machine, toolchain, commit, time.

use std::process::Command;
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
    /// `git describe --always --dirty` of the working tree, if it is one.
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
            commit: git_commit(),
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

fn git_commit() -> Option<String> {
    let out = Command::new("git").args(["describe", "--always", "--dirty", "--abbrev=12"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|s| !s.is_empty())
}
