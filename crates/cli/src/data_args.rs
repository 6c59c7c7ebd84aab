//! Which datasets a benchmark measures: generated sizes (`--keys`) and the
//! user's own files (`--data`), the options `suite`, `bench micro` and
//! `bench baselines` share.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use kvbench_harness::suite::file_info;
use kvbench_results::DatasetInfo;
use kvbench_workload::Count;

/// The datasets to measure.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Generated dataset sizes, comma-separated [default: 1M (suite), 10k,1M (suite --full,
    /// bench baselines); none when --data is given].
    #[arg(long, value_name = "N,N", value_delimiter = ',', value_parser = Count::positive)]
    pub keys: Option<Vec<Count>>,
    /// Measure your own file of `<key> <value>` lines (space or tab, CRLF or LF;
    /// the first line of a key wins); repeatable. Results name it by its file name.
    #[arg(long, value_name = "FILE")]
    pub data: Vec<PathBuf>,
    /// Skip malformed lines of --data files (and count them) instead of stopping at the first.
    #[arg(long)]
    pub lenient: bool,
}

impl DataArgs {
    /// The generated sizes to measure: those given with `--keys`; else the
    /// command's `default` sizes, unless the user gave files of their own,
    /// which then are the whole run.
    pub fn generated(&self, default: &[u64]) -> Vec<Count> {
        match &self.keys {
            Some(keys) => keys.clone(),
            None if self.data.is_empty() => default.iter().copied().map(Count).collect(),
            None => Vec::new(),
        }
    }

    /// The user's files, each described as measured; a file with the same
    /// bytes as an earlier one is measured once (and said so on stderr).
    pub fn files(&self) -> anyhow::Result<Vec<(DatasetInfo, PathBuf)>> {
        let mut files: Vec<(DatasetInfo, PathBuf)> = Vec::new();
        for path in &self.data {
            let (info, _) = describe(path, self.lenient)?;
            let fingerprint = |d: &DatasetInfo| d.file.as_ref().map(|f| f.fingerprint.clone());
            if let Some((_, earlier)) = files.iter().find(|(d, _)| fingerprint(d) == fingerprint(&info)) {
                crate::output::say(format_args!(
                    "{} has the same bytes as {}: measured once",
                    path.display(),
                    earlier.display()
                ));
                continue;
            }
            files.push((info, path.clone()));
        }
        Ok(files)
    }
}

/// A user's file and how results name it, as measured (`lenient` skips and counts malformed lines).
pub fn describe(path: &Path, lenient: bool) -> anyhow::Result<(DatasetInfo, PathBuf)> {
    let info = file_info(path, lenient).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((info, path.to_owned()))
}
