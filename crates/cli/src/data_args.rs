//! Which datasets a benchmark measures: generated sizes (`--keys`) and the user's files (`--data`).

use std::path::PathBuf;

use kvbench_workload::Count;

/// The generated sizes to measure: those given with `--keys`; else 10k and 1M,
/// unless the user gave files of their own, which then are the whole run.
pub fn generated(keys: Option<&[Count]>, files: &[PathBuf]) -> Vec<Count> {
    match keys {
        Some(keys) => keys.to_vec(),
        None if files.is_empty() => vec![Count(10_000), Count(1_000_000)],
        None => Vec::new(),
    }
}
