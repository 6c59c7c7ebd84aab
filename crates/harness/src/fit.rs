//! Whether a case can run here: its memory and disk needs, estimated from
//! the file before it runs, against what the machine (or a memory limit)
//! has. A case that cannot fit is skipped with the reason, rather than
//! killed by the kernel half-way (a 100M-key `hashmap` needs ~8 GB of heap;
//! a 100M-key store ~10 GB of disk).
//!
//! The figures per key are upper bounds of what the suite measured at 10M
//! keys (peak during the build, not only what stays), rounded up: an
//! estimate errs towards skipping, and says what it assumed.

use std::path::Path;

use kvbench_lookup::{Strategy, StrategyKind};

use crate::suite::Case;

/// Memory a probe process needs whatever it measures (binary, key streams, histograms).
pub const PROBE_BYTES: u64 = 96 << 20;

/// Heap per key while a probe draws its keys from the file (a packed copy
/// of each key and its end), before it opens the strategy.
pub const KEY_POOL_BYTES_PER_KEY: u64 = 48;

/// Share of the available memory a case may plan to use: the rest is
/// headroom for the estimate's error and for the page cache.
const USABLE: f64 = 0.85;

/// What a case needs, estimated from its data file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Anonymous memory at its peak (open and lookups): cannot be paged out (no swap assumed).
    pub memory: u64,
    /// Bytes written beside the data file (a sidecar or store being built).
    pub disk: u64,
}

/// Peak anonymous bytes per key of building or opening `kind`, and disk bytes per key of what it keeps.
fn per_key(kind: StrategyKind, building: bool) -> (u64, u64) {
    let build = |memory: u64| if building { memory } else { 0 };
    match kind {
        StrategyKind::ScanLines
        | StrategyKind::Scan
        | StrategyKind::Redis
        | StrategyKind::RedisCluster
        | StrategyKind::Lru => (0, 0),
        // A packed table of offsets and hashes: 76 B/key at 10M, more while it grows.
        StrategyKind::HashMap | StrategyKind::Warming => (110, 0),
        // Sorting (hash, offset) pairs in memory before writing 17.7 B/key.
        StrategyKind::MmapIndex => (build(48), 18),
        StrategyKind::PhfIndex => (build(40), 6),
        // Engines sort every record first (40 B/key), then write a store of 76–114 B/key.
        StrategyKind::Fst => (build(64), 42),
        StrategyKind::Lmdb | StrategyKind::Sqlite | StrategyKind::Cdb => (build(64), 120),
        // redb holds a write transaction's dirty pages in memory.
        StrategyKind::Redb => (build(160), 120),
    }
}

/// What `case` needs on a file of `file_bytes` holding about `keys` keys;
/// `store_exists` says whether the sidecar or store it reuses is already built.
pub fn needs(case: &Case, file_bytes: u64, keys: u64, store_exists: bool) -> Needs {
    let reader = case.strategy.reader();
    let building = reader.keeps_sidecar() && (case.fresh_index || !store_exists);
    let (memory, disk) = per_key(reader, building);
    let mut needs = Needs { memory: memory * keys, disk: if building { disk * keys } else { 0 } };
    if let Strategy::Lru { ratio, .. } = case.strategy {
        // Each cached entry: its key and value copied (with their allocation
        // headers), the list node and the map slot around them: ~180 B at 68 B a record.
        let per_entry = file_bytes / keys.max(1) + 128;
        needs.memory += (ratio * keys as f64) as u64 * per_entry;
    }
    needs.memory += PROBE_BYTES;
    needs
}

/// Why `case` cannot run on this file here, or `None` when it fits.
///
/// `memory` is what the probe may use: a memory limit's bytes, or what the
/// machine has available. Under a limit the page cache is inside it but can
/// be reclaimed, so only anonymous memory must fit. `cdb` also refuses a
/// store over 4 GiB, so a file that makes one is skipped up front.
pub fn why_not(case: &Case, file_bytes: u64, keys: u64, room: Room) -> Option<String> {
    let n = needs(case, file_bytes, keys, room.store_exists);
    let usable = (room.memory as f64 * USABLE) as u64;
    let size = |b: u64| kvbench_results::units::bytes(b as f64);
    if n.memory > usable {
        let of = if room.limited { "the memory limit" } else { "available memory" };
        return Some(format!(
            "needs ~{} of memory (estimated from {keys} keys), over {:.0}% of {of} ({})",
            size(n.memory),
            USABLE * 100.0,
            size(room.memory)
        ));
    }
    if let Some(free) = room.disk
        && n.disk > free
    {
        return Some(format!("its store needs ~{} of disk beside the data, {} free", size(n.disk), size(free)));
    }
    let store = needs(&Case { fresh_index: true, ..case.clone() }, file_bytes, keys, false).disk;
    if case.strategy.reader() == StrategyKind::Cdb && store + file_bytes > u64::from(u32::MAX) {
        return Some(format!(
            "a cdb file holds at most 4 GiB, and this file's store would be ~{}",
            size(store + file_bytes)
        ));
    }
    None
}

/// What a case may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Room {
    /// Bytes of memory: a limit's, or what the machine has available.
    pub memory: u64,
    /// Whether `memory` is a limit (a cgroup) rather than the machine's.
    pub limited: bool,
    /// Free bytes on the disk the sidecar or store goes to, if known.
    pub disk: Option<u64>,
    /// Whether the sidecar or store the case reuses exists already.
    pub store_exists: bool,
}

/// Memory the machine has available now (`MemAvailable` of `/proc/meminfo`), if known.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Free bytes (for an unprivileged user) on the file system holding `path`'s folder, if known.
pub fn free_disk(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statvfs is a valid value for statvfs to overwrite.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a live statvfs.
    (unsafe { libc::statvfs(c.as_ptr(), &mut s) } == 0).then(|| s.f_bavail as u64 * s.f_frsize as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn case(s: &str) -> Case {
        Case::new(s.parse().unwrap())
    }

    fn room(memory: u64) -> Room {
        Room { memory, limited: false, disk: Some(100 * GIB), store_exists: true }
    }

    #[test]
    fn a_hashmap_of_100m_keys_does_not_fit_in_2_gib_but_an_index_does() {
        let (bytes, keys) = (6_800_000_000, 100_000_000);
        let limited = Room { limited: true, ..room(2 * GIB) };
        let why = why_not(&case("hashmap"), bytes, keys, limited).unwrap();
        assert!(why.contains("memory limit") && why.contains("of the memory limit (2 GiB)"), "{why}");
        assert_eq!(why_not(&case("mmap-index"), bytes, keys, limited), None, "a reopened index is mapped, not copied");
        assert_eq!(why_not(&case("scan"), bytes, keys, limited), None);
        assert!(why_not(&case("lru(0.5,mmap-index)"), bytes, keys, limited).is_some());
        assert_eq!(why_not(&case("hashmap"), bytes, keys, room(24 * GIB)), None);
    }

    #[test]
    fn a_build_needs_its_store_on_disk_and_cdb_stays_under_4_size() {
        let (bytes, keys) = (6_800_000_000, 100_000_000);
        let build = Case { fresh_index: true, ..case("lmdb") };
        let small_disk = Room { disk: Some(5 * GIB), ..room(24 * GIB) };
        let why = why_not(&build, bytes, keys, small_disk).unwrap();
        assert!(why.contains("disk"), "{why}");
        assert_eq!(why_not(&case("lmdb"), bytes, keys, small_disk), None, "reusing a store writes nothing");
        let missing = Room { store_exists: false, ..small_disk };
        assert!(why_not(&case("lmdb"), bytes, keys, missing).is_some(), "a missing store is built");
        assert!(why_not(&case("cdb"), bytes, keys, room(24 * GIB)).unwrap().contains("4 GiB"));
        assert_eq!(why_not(&case("cdb"), 68_000_000, 1_000_000, room(24 * GIB)), None);
    }

    #[test]
    fn the_machine_is_read() {
        assert!(available_memory().is_some_and(|b| b > 0));
        assert!(free_disk(Path::new("Cargo.toml")).is_some());
    }
}
