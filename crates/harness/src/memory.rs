//! Resident memory of this process, split the way mmap users need it, and
//! the page cache of a file.
//!
//! Pages of a mapped file live in the page cache and count as *file-backed*
//! RSS; a heap copy counts as *anonymous*. `/proc/self/smaps_rollup` gives
//! both in one read.
//!
//! Anonymous RSS also holds memory the allocator has been given back but
//! keeps: a build's temporary buffers stay resident after they are freed
//! (16 B/key after an `mmap-index` build at 1M keys). [`trim_allocator`]
//! hands that back before a snapshot, so what is charged to a strategy is
//! what it holds, and [`MemorySnapshot::trimmed`] says how much the
//! allocator had kept.

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

/// Returns the allocator's free memory to the kernel and says how much
/// anonymous RSS that released (glibc; elsewhere nothing is done).
///
/// `malloc_trim(0)` releases the free pages inside every arena but shrinks
/// only the main arena's top, and a parallel build frees its buffers into
/// the top of its worker threads' arenas. Those shrink when a free of 64 KiB
/// or more in that thread finds their top above the trim threshold, which
/// glibc raises after a large free (up to 32 MiB). So the threshold is fixed
/// at glibc's default, and every rayon thread frees a 64 KiB block, before
/// the trim. Fixing the threshold changes when later frees return memory,
/// not how allocations are served, so call this after what is timed (an
/// open), or only [`trim_main_arena`] before it.
pub fn trim_allocator() -> Option<u64> {
    released(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            // SAFETY: mallopt only changes the threshold above which free returns memory.
            unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024) };
            rayon::broadcast(|_| drop(std::hint::black_box(Vec::<u8>::with_capacity(64 * 1024))));
        }
        trim_main_arena();
    })
}

/// `malloc_trim(0)` alone (glibc; elsewhere nothing is done): the allocator's
/// free pages returned, its settings untouched. Returns the anonymous bytes released.
pub fn trim_main_arena() -> Option<u64> {
    released(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only releases free memory of the allocator's own
        // arenas; no live allocation moves or changes.
        unsafe {
            libc::malloc_trim(0);
        }
    })
}

/// How much anonymous RSS `release` gave back.
fn released(release: impl FnOnce()) -> Option<u64> {
    let before = MemorySnapshot::now().anon;
    release();
    Some(before?.saturating_sub(MemorySnapshot::now().anon?))
}

impl MemorySnapshot {
    /// A snapshot after [`trim_allocator`], and the anonymous bytes the trim released.
    pub fn trimmed() -> (Self, Option<u64>) {
        let retained = trim_allocator();
        (MemorySnapshot::now(), retained)
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

/// Fraction of `path`'s pages in the page cache now (`mincore` over a
/// mapping that is never read through), 0 for an empty file: checks that an
/// eviction worked, and shows whether opening read the whole file.
pub fn resident_fraction(path: &std::path::Path) -> std::io::Result<f64> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path)?;
    let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
    if len == 0 {
        return Ok(0.0);
    }
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096).max(1);
    // SAFETY: a fresh read-only shared mapping of a file held open; nothing
    // reads through it (mincore only asks the kernel which pages are cached,
    // without faulting any in), and it is unmapped below.
    let addr = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0) };
    if addr == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    let mut pages = vec![0u8; len.div_ceil(page)];
    // SAFETY: `addr` is the page-aligned start of a `len`-byte mapping and
    // `pages` has one byte per page of it, as mincore requires.
    let rc = unsafe { libc::mincore(addr, len, pages.as_mut_ptr()) };
    let error = std::io::Error::last_os_error();
    // SAFETY: unmaps exactly the mapping made above, which nothing borrows.
    unsafe { libc::munmap(addr, len) };
    if rc != 0 {
        return Err(error);
    }
    Ok(pages.iter().filter(|&&p| p & 1 == 1).count() as f64 / pages.len() as f64)
}

/// Reads `path` through once, so that its pages are in the page cache: a
/// warm case must not find the file evicted by a cold case run before it.
pub fn warm_page_cache(path: &std::path::Path) -> std::io::Result<()> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    while file.read(&mut buf)? > 0 {}
    Ok(())
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
        // Whether eviction took depends on the file system; reading it back in does not.
        warm_page_cache(&path).unwrap();
        assert_eq!(resident_fraction(&path).unwrap(), 1.0);
        std::fs::write(dir.join("empty"), b"").unwrap();
        assert_eq!(resident_fraction(&dir.join("empty")).unwrap(), 0.0);
        assert!(resident_fraction(&dir.join("missing")).is_err());
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
