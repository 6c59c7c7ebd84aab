//! Keys to look up: the keys of a data file, packed into one buffer so a
//! million of them cost ~40 MB, not a million allocations.

use kvbench_lookup::split_line;

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

/// The keys of the records in `data`, in file order: every record's key if
/// there are at most `max` lines, else every k-th line's key so about `max`
/// are kept. Lines that are not records (by [`split_line`]) are skipped.
pub fn file_keys(data: &[u8], max: usize) -> KeyPool {
    let lines = memchr::memchr_iter(b'\n', data).count() + usize::from(!data.ends_with(b"\n") && !data.is_empty());
    let stride = lines.div_ceil(max.max(1)).max(1);
    let mut pool = KeyPool::default();
    for line in data.split(|&b| b == b'\n').step_by(stride) {
        if let Ok((key, _)) = split_line(line) {
            pool.push(key);
        }
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
        let misses = crate::Workload::MISS.stream(&all, 500, 1);
        assert!((0..500).map(|i| misses.get(i)).all(|(k, present)| !present && reference.value(k).is_none()));
        assert!(file_keys(b"", 3).is_empty());
        assert!(file_keys(b"no-separator\n", 3).is_empty());
        assert!(file_keys(&[&[b'k'; 2000][..], b" v\n"].concat(), 3).is_empty());
        assert_eq!(file_keys(b"a 1\nb 2", 3).len(), 2);
    }
}
