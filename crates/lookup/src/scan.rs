//! `scan`: search the mmapped file for the key with memmem on every lookup.
//!
//! No index and no per-line work: a SIMD substring search for `\n<key>` runs
//! over the file at memory bandwidth, and a candidate is accepted only if a
//! separator follows. The first match is the first record of the key, so
//! "first wins" comes for free. Start-up is one validation pass; memory is the
//! page cache; each lookup is O(file size).
//!
//! memmem's prefilter looks for the needle's two rarest bytes, ranked by a
//! table tuned for text and code. In a file of UUID keys every hex digit and
//! `-` is common, and the default choice made a miss 3x slower than one
//! `memchr` pass over the 1M dataset; ranking `\n` rarest (it occurs once per
//! line) brought that to ~1.2x in the same run.

use std::path::Path;

use memchr::arch::all::packedpair::HeuristicFrequencyRank;
use memchr::memmem;
use memmap2::Advice;

use crate::error::{LookupError, OpenError};
use crate::facts::{Facts, Family, Memory, Open, Start, WarmUp};
use crate::format::{self, check_key, value_if_key_at};
use crate::info::StrategyInfo;
use crate::source::DataFile;
use crate::{Lookup, OpenOptions, Value};

/// What kvbench knows about `scan`.
pub(crate) const FACTS: Facts = Facts {
    name: "scan",
    family: Family::Baseline,
    store: None,
    memory: Memory::Mapped,
    warm_up: WarmUp::None,
    memchr_floor: true,
    starts: &[Start::Warm, Start::Cold],
    settings: &[],
    open: Open::With(|path, opts| Ok(Box::new(Scan::open(path, opts)?))),
};

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
        let parsed = file.vouch(format::validate(path, file.bytes(), opts.lenient))?;
        Ok(Scan { file, records: parsed.records, skipped: parsed.skipped })
    }
}

/// Ranks `\n` as the rarest byte, so memmem's prefilter anchors on line starts.
struct NewlineRarest;

impl HeuristicFrequencyRank for NewlineRarest {
    fn rank(&self, byte: u8) -> u8 {
        if byte == b'\n' { 0 } else { 200 }
    }
}

impl Scan {
    /// The mapped data file.
    pub fn file(&self) -> &DataFile {
        &self.file
    }
}

/// The value of the first record of `key` in `data`, by substring search.
pub fn find<'a>(data: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    if let Some(value) = value_if_key_at(data, 0, key) {
        return Some(value);
    }
    let needle = [b"\n", key].concat();
    let finder = memmem::FinderBuilder::new().build_forward_with_ranker(NewlineRarest, &needle);
    let mut from = 0;
    while let Some(found) = finder.find(data.get(from..)?) {
        let line_start = from + found + 1;
        if let Some(value) = value_if_key_at(data, line_start, key) {
            return Some(value);
        }
        from = line_start;
    }
    None
}

impl Lookup for Scan {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let found = find(self.file.bytes(), key);
        self.file.check_intact()?;
        Ok(found.map(Value::Borrowed))
    }

    fn check_data(&self) -> Result<(), LookupError> {
        self.file.check_intact()
    }

    fn populate(&self) {
        self.file.populate();
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
