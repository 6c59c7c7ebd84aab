//! Resident memory of this process, split the way mmap users need it.
//!
//! Pages of a mapped file live in the page cache and count as *file-backed*
//! RSS; a heap copy counts as *anonymous*. `/proc/self/smaps_rollup` gives
//! both in one read.

use serde::{Deserialize, Serialize};

/// Memory of the current process at one moment, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemorySnapshot {
    /// Live heap bytes from the counting allocator (`None` if not installed).
    pub heap: Option<u64>,
    /// Anonymous resident memory (heap, stacks, private copies).
    pub anon: Option<u64>,
    /// File-backed resident memory (mapped files, the binary itself).
    pub file: Option<u64>,
}

impl MemorySnapshot {
    /// Takes a snapshot now.
    pub fn now() -> Self {
        let (anon, file) = match std::fs::read_to_string("/proc/self/smaps_rollup") {
            Ok(text) => parse_smaps_rollup(&text),
            Err(_) => (None, None),
        };
        MemorySnapshot { heap: crate::alloc::heap_bytes(), anon, file }
    }

    /// What grew between `before` and `self` (saturating at zero).
    pub fn since(&self, before: &MemorySnapshot) -> MemorySnapshot {
        let delta = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_sub(b?));
        MemorySnapshot {
            heap: delta(self.heap, before.heap),
            anon: delta(self.anon, before.anon),
            file: delta(self.file, before.file),
        }
    }
}

/// Anonymous and file-backed RSS from the text of `smaps_rollup`.
pub fn parse_smaps_rollup(text: &str) -> (Option<u64>, Option<u64>) {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kb * 1024)
        })
    };
    let (rss, anon) = (field("Rss"), field("Anonymous"));
    let file = rss.zip(anon).map(|(r, a)| r.saturating_sub(a));
    (anon, file)
}

/// Drops a file's pages from the page cache (`posix_fadvise(DONTNEED)`), so
/// the next reads come from the disk: a cold start. Only clean pages that no
/// process maps can be dropped, so call it before mapping the file.
pub fn evict_page_cache(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path)?;
    // SAFETY: the descriptor is valid for the duration of the call; the advice
    // changes no memory of this process.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::from_raw_os_error(rc)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rollup() {
        let text = "55d0-7ffd ---p 00000000 00:00 0  [rollup]\nRss:               10240 kB\nPss:  9000 kB\nAnonymous:          4096 kB\n";
        assert_eq!(parse_smaps_rollup(text), (Some(4096 * 1024), Some(6144 * 1024)));
        assert_eq!(parse_smaps_rollup("garbage"), (None, None));
    }

    #[test]
    fn evicting_a_file_works_on_files_and_reports_missing_ones() {
        let dir = std::env::temp_dir().join(format!("kvbench-evict-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        evict_page_cache(&path).unwrap();
        assert!(evict_page_cache(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn snapshot_reads_this_process() {
        let snap = MemorySnapshot::now();
        if cfg!(target_os = "linux") {
            assert!(snap.anon.is_some_and(|a| a > 0));
        }
    }
}
