//! Keys to look up, read back by index ([`Keys`]): a [`KeyPool`] packs copies
//! of them into one buffer (a million cost ~40 MB, not a million
//! allocations); a [`FileKeys`] points into the mapped data file instead (8
//! bytes a key), so a load can draw from every key of a 10M-key file.

use std::path::Path;

use kvbench_lookup::{DataFile, MAX_KEY_LEN, OpenError, split_line};

/// A list of keys read back by index, for workloads to draw from.
pub trait Keys: Sync {
    /// Number of keys.
    fn len(&self) -> usize;

    /// The key at `i` modulo [`Keys::len`] (empty when there are none).
    fn get(&self, i: u64) -> &[u8];

    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A list of keys in one buffer, read back by index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPool {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl KeyPool {
    /// Appends a key.
    pub fn push(&mut self, key: &[u8]) {
        self.bytes.extend_from_slice(key);
        self.ends.push(self.bytes.len());
    }

    /// Removes every key, keeping the buffers.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The key at `i` modulo the pool size (so a pool can feed any number of lookups).
    pub fn get(&self, i: u64) -> &[u8] {
        if self.ends.is_empty() {
            return &[];
        }
        let i = (i % self.ends.len() as u64) as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// Iterates over the keys in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len() as u64).map(|i| self.get(i))
    }
}

impl Keys for KeyPool {
    fn len(&self) -> usize {
        KeyPool::len(self)
    }

    fn get(&self, i: u64) -> &[u8] {
        KeyPool::get(self, i)
    }
}

/// Every record's key of a mapped data file, in file order, held as the
/// offset of its line: 8 bytes a key however long the keys and values, and
/// the bytes stay in the page cache, shared with the server reading the same
/// file.
#[derive(Debug)]
pub struct FileKeys {
    file: DataFile,
    starts: Vec<u64>,
}

impl FileKeys {
    /// Maps `path` and finds every record's key (lines that are not records are skipped).
    pub fn open(path: &Path) -> Result<FileKeys, OpenError> {
        Ok(FileKeys::new(DataFile::open(path)?))
    }

    /// The keys of every record of `file`.
    pub fn new(file: DataFile) -> FileKeys {
        let starts = records(file.bytes()).map(|(start, _)| start as u64).collect();
        FileKeys { file, starts }
    }

    /// The mapped file the keys point into.
    pub fn file(&self) -> &DataFile {
        &self.file
    }
}

impl Keys for FileKeys {
    fn len(&self) -> usize {
        self.starts.len()
    }

    fn get(&self, i: u64) -> &[u8] {
        let Some(&start) = self.starts.get((i % self.starts.len().max(1) as u64) as usize) else { return &[] };
        let rest = self.file.bytes().get(start as usize..).unwrap_or_default();
        // The line parsed as a record when it was indexed: its key ends at the
        // first separator, within MAX_KEY_LEN bytes.
        let head = rest.get(..=MAX_KEY_LEN).unwrap_or(rest);
        memchr::memchr2(b' ', b'\t', head).and_then(|sep| head.get(..sep)).unwrap_or_default()
    }
}

/// Each record of `data` as the offset of its line and its key, in file order.
fn records(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    data.split(|&b| b == b'\n').filter_map(move |line| {
        let at = start;
        start += line.len() + 1;
        split_line(line).ok().map(|(key, _)| (at, key))
    })
}

/// The keys of the records in `data`, in file order: every record's key if
/// there are at most `max`, else every k-th record's key so about `max` are
/// kept. Lines that are not records (by [`split_line`]) are skipped.
pub fn file_keys(data: &[u8], max: usize) -> KeyPool {
    let lines = memchr::memchr_iter(b'\n', data).count() + usize::from(!data.ends_with(b"\n") && !data.is_empty());
    let stride = lines.div_ceil(max.max(1)).max(1);
    let mut pool = KeyPool::default();
    for (_, key) in records(data).step_by(stride) {
        pool.push(key);
    }
    pool
}

#[cfg(test)]
mod tests {
    use super::*;
    use kvbench_lookup::Reference;

    #[test]
    fn file_keys_are_present_and_miss_streams_absent() {
        let mut data = Vec::new();
        crate::generate(&crate::GenSpec { keys: 2000, seed: 5, value_len: Default::default() }, &mut data, |_| {})
            .unwrap();
        let reference = Reference::from_bytes(&data);
        let all = file_keys(&data, 5000);
        assert_eq!(all.len(), 2000);
        assert!(all.iter().all(|k| reference.value(k).is_some()));
        let some = file_keys(&data, 500);
        assert_eq!(some.len(), 500);
        assert_eq!(some.get(1), all.get(4));
        let misses = crate::KeyStreams::stream(&crate::Workload::MISS, &all, 500, 1);
        assert!((0..500).map(|i| misses.get(i)).all(|(k, present)| !present && reference.value(k).is_none()));
        assert!(file_keys(b"", 3).is_empty());
        assert!(file_keys(b"no-separator\n", 3).is_empty());
        assert!(file_keys(&[&[b'k'; 2000][..], b" v\n"].concat(), 3).is_empty());
        assert_eq!(file_keys(b"a 1\nb 2", 3).len(), 2);
    }

    #[test]
    fn file_keys_point_at_every_record_of_the_mapped_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.txt");
        let text = "a 1\n\nbad\nbb\t2 two\r\nccc 3\n ddd\n".to_owned() + &"k".repeat(MAX_KEY_LEN + 1) + " long\nlast 4";
        std::fs::write(&path, &text).unwrap();
        let keys = FileKeys::open(&path).unwrap();
        let got: Vec<&[u8]> = (0..keys.len() as u64).map(|i| keys.get(i)).collect();
        assert_eq!(got, [&b"a"[..], b"bb", b"ccc", b"last"]);
        assert_eq!(keys.get(4), b"a", "indices wrap");
        let pool = file_keys(text.as_bytes(), usize::MAX);
        assert_eq!(pool.iter().collect::<Vec<_>>(), got, "the same records as a pool of copies");
        std::fs::write(&path, "").unwrap();
        let empty = FileKeys::open(&path).unwrap();
        assert!(empty.is_empty() && empty.get(3).is_empty());
    }
}
