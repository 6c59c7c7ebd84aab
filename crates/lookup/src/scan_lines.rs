//! `scan-lines`: the naive baseline, `for line in file` on every lookup.
//!
//! Like the original Python prototype, each lookup opens the file, reads it
//! line by line through a buffered reader (one allocation per line), splits
//! each line and compares keys until the first match. It is here to show what
//! the other strategies improve on, not to be used.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::error::{LookupError, OpenError};
use crate::facts::{Facts, Family, Memory, Open, Start, WarmUp};
use crate::format::{self, check_key, split_line};
use crate::info::StrategyInfo;
use crate::source::{DataFile, open_regular};
use crate::{Lookup, OpenOptions, Value};

/// What kvbench knows about `scan-lines`.
pub(crate) const FACTS: Facts = Facts {
    name: "scan-lines",
    family: Family::Baseline,
    store: None,
    memory: Memory::Mapped,
    warm_up: WarmUp::None,
    memchr_floor: false,
    starts: &[Start::Warm],
    settings: &[],
    open: Open::With(|path, opts| Ok(Box::new(ScanLines::open(path, opts)?))),
};

/// The naive line-by-line scan.
#[derive(Debug)]
pub struct ScanLines {
    path: PathBuf,
    records: u64,
    skipped: u64,
}

impl ScanLines {
    /// Validates the file once (so malformed data fails at open, as elsewhere).
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        let file = DataFile::open(path)?;
        let parsed = file.vouch(format::validate(path, file.bytes(), opts.lenient))?;
        Ok(ScanLines { path: path.to_owned(), records: parsed.records, skipped: parsed.skipped })
    }
}

impl Lookup for ScanLines {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let io_err = |source| LookupError::Io { path: self.path.clone(), source };
        let file = open_regular(&self.path).map_err(|e| match e {
            OpenError::Io { source, .. } => io_err(source),
            other => io_err(std::io::Error::other(other.to_string())),
        })?;
        for line in BufReader::new(file).split(b'\n') {
            let line = line.map_err(io_err)?;
            if let Ok((k, v)) = split_line(&line)
                && k == key
            {
                return Ok(Some(Value::Owned(v.to_vec())));
            }
        }
        Ok(None)
    }

    fn info(&self) -> StrategyInfo {
        StrategyInfo {
            name: "scan-lines".into(),
            records: Some(self.records),
            skipped: self.skipped,
            ..StrategyInfo::default()
        }
    }
}
