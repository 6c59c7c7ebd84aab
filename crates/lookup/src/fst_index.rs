//! `fst`: a finite-state transducer (`fst::Map`) from every key to its
//! record's offset, kept in a sidecar (`<data>.kvfst`) beside the mapped file.
//!
//! The transducer shares keys' prefixes and suffixes, so it is often smaller
//! than the keys themselves; a lookup walks it byte by byte (one state per
//! key byte, mostly in the same few cache lines near the root, then scattered),
//! then confirms the key in the data as `mmap-index` does. The sidecar is
//! written, checked, reused and rebuilt like the other index sidecars
//! (`sidecar.rs`); the transducer is read in place from the mapped sidecar.

use std::path::{Path, PathBuf};

use fst::{Map, MapBuilder};

use crate::error::{LookupError, OpenError};
use crate::facts::{Facts, Family, Memory, Open, Place, Start, Store, WarmUp};
use crate::format::{check_key, value_if_key_at};
use crate::info::StrategyInfo;
use crate::sidecar::{Header, Indexed, Kind, Layout, Stored};
use crate::source::DataFile;
use crate::store::sorted_records;
use crate::{Lookup, OpenOptions, Value};

/// What kvbench knows about `fst`.
pub(crate) const FACTS: Facts = Facts {
    name: "fst",
    family: Family::Engine,
    store: Some(Store {
        place: Place::Sidecar(default_fst_path),
        build_bytes_per_key: 64,
        disk_bytes_per_key: 42,
        build_ns_per_key: 10_000,
        limit_bytes: None,
    }),
    memory: Memory::Mapped,
    warm_up: WarmUp::None,
    memchr_floor: false,
    starts: &[Start::Build, Start::Warm],
    settings: &[],
    open: Open::With(|path, opts| Ok(Box::new(FstIndex::open(path, opts)?))),
};

/// The transducer as built, before it is written to the sidecar.
pub(crate) struct FstParts(Vec<u8>);

impl Layout for FstParts {
    const KIND: Kind = Kind::Fst;

    fn body_len(header: &Header) -> Option<usize> {
        usize::try_from(header.layout[0]).ok()
    }

    fn build(data: &DataFile, lenient: bool) -> Result<(Header, Self), OpenError> {
        let (records, counts) = sorted_records(data, lenient)?;
        let failed = |e: fst::Error| OpenError::Index { path: data.path().to_owned(), why: e.to_string() };
        let mut builder = MapBuilder::memory();
        for record in &records {
            builder.insert(record.key, record.offset).map_err(failed)?;
        }
        let bytes = builder.into_inner().map_err(failed)?;
        let header = Header::new(data, Kind::Fst, counts, [bytes.len() as u64, 0], &[&bytes]);
        Ok((header, FstParts(bytes)))
    }

    fn body(&self) -> Vec<&[u8]> {
        vec![&self.0]
    }
}

/// The mapped data file and the transducer of its keys.
#[derive(Debug)]
pub struct FstIndex {
    indexed: Indexed<FstParts>,
}

/// The sidecar path used when none is given: `<data file>.kvfst`.
pub fn default_fst_path(data: &Path) -> PathBuf {
    crate::sidecar::beside(data, ".kvfst")
}

impl FstIndex {
    /// Maps the data and reuses its sidecar if it is valid, else rebuilds it.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        let index = FstIndex { indexed: Indexed::open(path, opts, default_fst_path(path))? };
        // The sidecar's checksum passed, so this only fails for a transducer fst itself cannot read.
        index.map().map_err(|e| OpenError::Index { path: path.to_owned(), why: e.to_string() })?;
        Ok(index)
    }

    /// Whether the index came from an existing sidecar rather than a build.
    pub fn reused(&self) -> bool {
        self.indexed.reused
    }

    /// The transducer over the sidecar's body (reading its 36-byte frame, no copy).
    fn map(&self) -> Result<Map<&[u8]>, fst::Error> {
        Map::new(match self.indexed.stored() {
            Stored::Mapped(body) => body,
            Stored::Owned(parts) => &parts.0,
        })
    }
}

impl Lookup for FstIndex {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        let offset = self.map().ok().and_then(|map| map.get(key));
        let data = self.indexed.data.bytes();
        let found = offset.and_then(|at| value_if_key_at(data, usize::try_from(at).ok()?, key));
        if !self.indexed.answer_stands(found.is_some()) {
            return Err(self.indexed.changed());
        }
        Ok(found.map(Value::Borrowed))
    }

    /// Checks the data file only: a copied value comes from there (see `get`).
    fn check_data(&self) -> Result<(), LookupError> {
        self.indexed.data.check_intact()
    }

    fn info(&self) -> StrategyInfo {
        self.indexed.info("fst", self.indexed.header().layout[0], 0)
    }

    fn populate(&self) {
        self.indexed.populate();
    }
}
