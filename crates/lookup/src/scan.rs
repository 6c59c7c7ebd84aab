//! `scan`: search the mmapped file for the key with memmem on every lookup.
//!
//! No index and no per-line work: a SIMD substring search runs over the file
//! at memory bandwidth, and each candidate is accepted only at the start of a
//! line and followed by a separator. The first match is the first record of
//! the key, so "first wins" comes for free. Start-up is one validation pass;
//! memory is the page cache; each lookup is O(file size).

use std::path::Path;

use memchr::memmem;
use memmap2::Advice;

use crate::error::{LookupError, OpenError};
use crate::info::StrategyInfo;
use crate::record::{self, check_key, value_if_key_at};
use crate::source::DataFile;
use crate::{Lookup, OpenOptions, Value};

/// The memmem scan over a mapped file.
#[derive(Debug)]
pub struct Scan {
    file: DataFile,
    records: u64,
    skipped: u64,
}

impl Scan {
    /// Maps and validates the file.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        let file = DataFile::open(path)?;
        file.advise(Advice::Sequential);
        let parsed = record::validate(path, file.bytes(), opts.lenient)?;
        Ok(Scan { file, records: parsed.records, skipped: parsed.skipped })
    }
}

/// The value of the first record of `key` in `data`, by substring search.
pub fn find<'a>(data: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let finder = memmem::Finder::new(key);
    let mut from = 0;
    while let Some(found) = finder.find(data.get(from..)?) {
        let pos = from + found;
        let at_line_start = pos == 0 || data.get(pos - 1) == Some(&b'\n');
        if at_line_start && let Some(value) = value_if_key_at(data, pos, key) {
            return Some(value);
        }
        from = pos + 1;
    }
    None
}

impl Lookup for Scan {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        Ok(find(self.file.bytes(), key).map(Value::Borrowed))
    }

    fn info(&self) -> StrategyInfo {
        StrategyInfo {
            name: "scan".into(),
            records: Some(self.records),
            skipped: self.skipped,
            mapped_bytes: self.file.len(),
            ..StrategyInfo::default()
        }
    }
}
