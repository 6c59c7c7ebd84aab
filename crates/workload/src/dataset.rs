//! Named, cached datasets: generated once into a data folder, then reused.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use kvbench_results::units;

use crate::generate::{GenSpec, GenSummary, generate};
use crate::value_len::ValueLen;

/// A count written the way people say it: `10000`, `10k`, `1M`, `10m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Count(pub u64);

impl FromStr for Count {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        units::parse_count(s).map(Count).ok_or_else(|| format!("{:?} is not a count (e.g. 10000, 10k, 1M)", s.trim()))
    }
}

impl Count {
    /// Parses a count that must be at least 1 (a dataset size, a key pool):
    /// for clap's `value_parser`, where 0 would measure nothing and print nonsense ratios.
    pub fn positive(s: &str) -> Result<Count, String> {
        match s.parse::<Count>()? {
            Count(0) => Err("must be at least 1".into()),
            count => Ok(count),
        }
    }
}

/// `10k`, `1M`, or the plain number when it is not round (as every label spells counts).
impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&units::count(self.0))
    }
}

/// A dataset the suite uses, identified by what generates it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dataset {
    /// Lines in the file.
    pub keys: Count,
    /// Value-length distribution.
    pub value_len: ValueLen,
    /// Generator seed.
    pub seed: u64,
}

impl Dataset {
    /// The default datasets' seed.
    pub const DEFAULT_SEED: u64 = 42;

    /// A dataset of `keys` lines with default values and seed.
    pub fn new(keys: u64) -> Self {
        Dataset { keys: Count(keys), value_len: ValueLen::default(), seed: Self::DEFAULT_SEED }
    }

    /// File name inside the data folder, unique per generator input.
    pub fn file_name(&self) -> String {
        let dist = self.value_len.to_string().replace([':', ',', '.'], "_");
        format!("kv-{}-{dist}-s{}.txt", self.keys, self.seed)
    }

    /// Generator input for this dataset.
    pub fn spec(&self) -> GenSpec {
        GenSpec { keys: self.keys.0, seed: self.seed, value_len: self.value_len }
    }

    /// The dataset's path in `dir`, generating it first if it is not there.
    ///
    /// Writes to a temporary file and renames it, so an interrupted run never
    /// leaves a truncated dataset behind that a later run would trust.
    pub fn ensure(&self, dir: &Path, progress: impl Fn(u64)) -> io::Result<(PathBuf, Option<GenSummary>)> {
        let path = dir.join(self.file_name());
        if path.is_file() {
            return Ok((path, None));
        }
        std::fs::create_dir_all(dir)?;
        let summary = write_atomically(&path, |out| generate(&self.spec(), out, progress))?;
        Ok((path, Some(summary)))
    }
}

/// Runs `write` into `<path>.tmp` and renames the result to `path`.
pub fn write_atomically<T>(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> io::Result<T>) -> io::Result<T> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = File::create(&tmp).and_then(|f| {
        let mut out = BufWriter::with_capacity(1 << 20, f);
        let value = write(&mut out)?;
        out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()?;
        Ok(value)
    });
    match result.and_then(|v| std::fs::rename(&tmp, path).map(|()| v)) {
        Ok(v) => Ok(v),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!("10k".parse::<Count>(), Ok(Count(10_000)));
        assert_eq!("1M".parse::<Count>(), Ok(Count(1_000_000)));
        assert_eq!("1_000".parse::<Count>(), Ok(Count(1000)));
        assert!("k".parse::<Count>().is_err());
        assert!("-1".parse::<Count>().is_err());
        assert!("99999999999G".parse::<Count>().is_err());
        assert_eq!(Count(10_000).to_string(), "10k");
        assert_eq!(Count(1_000_000).to_string(), "1M");
        assert_eq!(Count(1234).to_string(), "1234");
    }

    #[test]
    fn ensure_generates_once() {
        let dir = tempfile::tempdir().unwrap();
        let ds = Dataset::new(100);
        let (path, made) = ds.ensure(dir.path(), |_| {}).unwrap();
        assert_eq!(made.map(|s| s.keys), Some(100));
        let (again, made) = ds.ensure(dir.path(), |_| {}).unwrap();
        assert_eq!((again, made), (path, None));
    }
}
