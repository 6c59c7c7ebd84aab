//! Opening a data file: checks, metadata, and the one place it is mmapped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use memmap2::Advice;

use crate::error::{LookupError, OpenError};
use crate::guard::GuardedMap;

/// A data file mapped read-only into memory, with the metadata it had when opened.
#[derive(Debug)]
pub struct DataFile {
    path: PathBuf,
    /// `None` for an empty file, which cannot be mapped.
    map: Option<GuardedMap>,
    len: u64,
    modified: Option<SystemTime>,
}

impl DataFile {
    /// Opens and maps `path`; a directory or device is refused.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let file = open_regular(path)?;
        let meta = file.metadata().map_err(|e| OpenError::io(path, e))?;
        let map = if meta.len() == 0 {
            None
        } else {
            // SAFETY: the map is read-only and private to this process. Its bytes
            // change if another process writes the file in place, which can give
            // stale or torn values but not undefined behaviour in this crate, since
            // every read of the map is bounds-checked. Truncation is survived and
            // detected by the guard: strategies check `intact` after reading.
            // Replacing the file atomically (write + rename) leaves this mapping
            // on the old inode, untouched.
            Some(unsafe { GuardedMap::map(&file) }.map_err(|e| OpenError::io(path, e))?)
        };
        Ok(DataFile { path: path.to_owned(), map, len: meta.len(), modified: meta.modified().ok() })
    }

    /// The file's bytes as they were mapped.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its length when opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Its modification time when opened, if the platform has one.
    pub fn modified(&self) -> Option<SystemTime> {
        self.modified
    }

    /// Maps in every page of the file ([`crate::Lookup::populate`]).
    pub fn populate(&self) {
        self.advise(Advice::PopulateRead);
    }

    /// Tells the kernel how the map will be read; a hint, so failures are ignored.
    pub fn advise(&self, advice: Advice) {
        if let Some(map) = &self.map {
            map.advise(advice);
        }
    }

    /// Whether the bytes read so far are the file's as mapped (see [`GuardedMap::intact`]).
    #[inline]
    pub fn intact(&self) -> bool {
        self.map.as_ref().is_none_or(GuardedMap::intact)
    }

    /// `result` of reading the map at open, unless the file changed meanwhile:
    /// then [`OpenError::Changed`], whatever the reading made of the zeros.
    pub fn vouch<T>(&self, result: Result<T, OpenError>) -> Result<T, OpenError> {
        if self.intact() { result } else { Err(OpenError::Changed { path: self.path.clone() }) }
    }

    /// [`DataFile::intact`] as a lookup result: [`LookupError::DataChanged`] if not.
    #[inline]
    pub fn check_intact(&self) -> Result<(), LookupError> {
        if self.intact() { Ok(()) } else { Err(LookupError::changed(&self.path)) }
    }
}

/// A heap copy of `bytes`, made in parallel pieces (the cost is mostly
/// faulting in the new pages, which then happens on every core).
pub fn copy_parallel(bytes: &[u8]) -> Vec<u8> {
    use rayon::prelude::*;
    let mut copy = vec![0u8; bytes.len()];
    let piece = bytes.len().div_ceil(rayon::current_num_threads() * 4).max(1 << 20);
    copy.par_chunks_mut(piece).zip(bytes.par_chunks(piece)).for_each(|(to, from)| to.copy_from_slice(from));
    copy
}

/// Opens `path` for reading, refusing anything but a regular file.
pub fn open_regular(path: &Path) -> Result<File, OpenError> {
    let file = File::open(path).map_err(|e| OpenError::io(path, e))?;
    let meta = file.metadata().map_err(|e| OpenError::io(path, e))?;
    if !meta.is_file() {
        return Err(OpenError::NotAFile { path: path.to_owned() });
    }
    Ok(file)
}

/// Reads a whole data file into memory (for strategies that own their copy).
///
/// Large files are read in parallel pieces with positioned reads: most of the
/// cost of a big read is faulting in fresh pages, which then happens on every
/// core (measured: 68 MB in ~25 ms on 2 cores instead of ~45 ms).
pub fn read_all(path: &Path) -> Result<Vec<u8>, OpenError> {
    use rayon::prelude::*;
    use std::os::unix::fs::FileExt;
    const MIN_PIECE: usize = 1 << 20;
    let file = open_regular(path)?;
    let len = file.metadata().map_err(|e| OpenError::io(path, e))?.len();
    let len = usize::try_from(len).map_err(|_| OpenError::io(path, std::io::Error::other("file too large")))?;
    let mut bytes = vec![0u8; len];
    let piece = len.div_ceil(rayon::current_num_threads() * 4).max(MIN_PIECE);
    bytes
        .par_chunks_mut(piece)
        .enumerate()
        .try_for_each(|(i, chunk)| file.read_exact_at(chunk, (i * piece) as u64))
        .map_err(|e| OpenError::io(path, e))?;
    Ok(bytes)
}
