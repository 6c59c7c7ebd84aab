//! Whether a case can run here: its memory and disk needs, estimated from
//! the file before it runs, against what the machine (or a memory limit)
//! has. A case that cannot fit is skipped with the reason, rather than
//! killed by the kernel half-way (a 100M-key `hashmap` needs ~8 GB of heap;
//! a 100M-key store ~10 GB of disk).
//!
//! The figures per key are each strategy's facts ([`kvbench_lookup::Facts`]:
//! its memory model, and what building its store takes), upper bounds of
//! what the suite measured at 10M keys (peak during the build, not only what
//! stays), rounded up: an estimate errs towards skipping, and says what it assumed.

use std::path::Path;

use kvbench_lookup::{Memory, Strategy, StrategyKind};

use crate::case::Case;

/// Memory a probe process needs whatever it measures (binary, key streams, histograms).
pub const PROBE_BYTES: u64 = 96 << 20;

/// What a probe allocates after joining a memory limit's cgroup: it joins
/// once its keys are drawn and its threads started, so the limit is charged
/// only its histograms and buffers, not the binary or the key streams.
pub const LIMITED_PROBE_BYTES: u64 = 4 << 20;

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

impl Needs {
    /// These needs as a memory limit counts them ([`LIMITED_PROBE_BYTES`] of the probe's own).
    pub fn limited(self) -> Needs {
        Needs { memory: self.memory.saturating_sub(PROBE_BYTES) + LIMITED_PROBE_BYTES, ..self }
    }
}

/// Anonymous bytes a strategy with the memory model `memory` holds once open
/// over `keys` keys of `record_bytes` each, caching `cached` of them.
fn held(memory: Memory, keys: u64, record_bytes: u64, cached: f64) -> u64 {
    match memory {
        Memory::Mapped | Memory::ShareOfLimit(_) => 0,
        Memory::FileCopy(extra) => keys * (record_bytes + extra),
        Memory::PerCachedRecord(extra) => (cached * keys as f64) as u64 * (record_bytes + extra),
    }
}

/// What `case` needs on a file of `file_bytes` holding about `keys` keys;
/// `store_exists` says whether the sidecar or store it reuses is already built.
pub fn needs(case: &Case, file_bytes: u64, keys: u64, store_exists: bool) -> Needs {
    let (outer, reader) = (case.strategy.kind(), case.strategy.reader());
    let cached = match case.strategy {
        Strategy::Lru { ratio, .. } => ratio,
        Strategy::Plain(_) | Strategy::Defaults(_) => 0.0,
    };
    let held = |kind: StrategyKind| held(kind.facts().memory, keys, file_bytes / keys.max(1), cached);
    // What the reader holds, and around it what a cache in front of it holds.
    let mut memory = held(reader) + if outer == reader { 0 } else { held(outer) };
    let building = reader.facts().store.filter(|_| case.fresh_index || !store_exists);
    memory += building.map_or(0, |store| store.build_bytes_per_key * keys);
    Needs { memory: memory + PROBE_BYTES, disk: building.map_or(0, |store| store.disk_bytes_per_key * keys) }
}

/// The anonymous memory [`needs`] allows `case` itself, its probe's own left
/// out: what to set beside the memory the case then added.
pub fn own_bytes(case: &Case, file_bytes: u64, keys: u64, store_exists: bool) -> u64 {
    needs(case, file_bytes, keys, store_exists).memory.saturating_sub(PROBE_BYTES)
}

/// Why `case` cannot run on this file here, or `None` when it fits.
///
/// `memory` is what the probe may use: a memory limit's bytes, or what the
/// machine has available. Under a limit the page cache is inside it but can
/// be reclaimed, so only anonymous memory must fit. `cdb` also refuses a
/// store over 4 GiB, so a file that makes one is skipped up front.
pub fn why_not(case: &Case, file_bytes: u64, keys: u64, room: Room) -> Option<String> {
    let kinds = [case.strategy.kind(), case.strategy.reader()];
    if let Some((kind, feature)) = kinds.iter().find_map(|k| Some((k, k.facts().missing_feature()?))) {
        return Some(format!("this kvbench was built without {kind} (the `{feature}` feature)"));
    }
    let n = needs(case, file_bytes, keys, room.store_exists);
    let n = if room.limited { n.limited() } else { n };
    let usable = (room.memory as f64 * USABLE) as u64;
    let size = |b: u64| kvbench_results::units::bytes(b as f64);
    if n.memory > usable {
        let of = if room.limited { "the memory limit" } else { "available memory" };
        return Some(format!(
            "needs ~{} of memory (estimated from the file's {} and its {keys} keys), over {:.0}% of {of} ({})",
            size(n.memory),
            size(file_bytes),
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
    let reader = case.strategy.reader().facts();
    if let Some(limit) = reader.store.and_then(|s| s.limit_bytes)
        && store + file_bytes >= limit
    {
        return Some(format!(
            "a {} file holds at most {}, and this file's store would be ~{}",
            reader.name,
            size(limit),
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
    kvbench_lookup::meminfo_bytes("MemAvailable")
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
        let why = why_not(&case("cdb"), bytes, keys, room(24 * GIB)).unwrap();
        assert!(why.starts_with("a cdb file holds at most 4 GiB, "), "{why}");
        assert_eq!(why_not(&case("cdb"), 68_000_000, 1_000_000, room(24 * GIB)), None);
    }

    #[test]
    fn each_kind_needs_what_it_needed_before_its_facts_moved() {
        use StrategyKind::*;
        let (bytes, keys) = (68_000_000, 1_000_000);
        // Per key: (anonymous bytes, disk bytes) building; anonymous bytes reopening.
        let before = |kind| match kind {
            ScanLines | Scan | Redis | RedisCluster | Lru => ((0, 0), 0),
            HashMap | Warming => ((110, 0), 110),
            MmapIndex => ((48, 18), 0),
            PhfIndex => ((40, 6), 0),
            Fst => ((64, 42), 0),
            Lmdb | Sqlite | Cdb => ((64, 120), 0),
            // Its block cache is sized to a third of what the process may use: it fits whatever there is.
            Rocksdb => ((64, 120), 0),
            // Since its cache holds the store (issue 34): the file and 16 B a key (68 + 16 here).
            Redb => ((160 + 84, 120), 84),
        };
        for kind in StrategyKind::ALL.into_iter().filter(|k| *k != Lru) {
            let ((memory, disk), reopen) = before(kind);
            let build = Case { fresh_index: true, ..Case::new(Strategy::Plain(kind)) };
            let expected = Needs { memory: memory * keys + PROBE_BYTES, disk: disk * keys };
            assert_eq!(needs(&build, bytes, keys, true), expected, "{kind} built");
            let reopened = Needs { memory: reopen * keys + PROBE_BYTES, disk: 0 };
            assert_eq!(needs(&Case::new(Strategy::Plain(kind)), bytes, keys, true), reopened, "{kind} reopened");
            let missing = if kind.keeps_store() { expected } else { reopened };
            assert_eq!(needs(&Case::new(Strategy::Plain(kind)), bytes, keys, false), missing, "{kind}, no store yet");
        }
        // A cache: each of its records (68 B here) copied with 128 B around it, over its backing's needs.
        let lru = needs(&case("lru(0.5,mmap-index)"), bytes, keys, true);
        assert_eq!(lru, Needs { memory: 500_000 * (68 + 128) + PROBE_BYTES, disk: 0 });
        let lru = needs(&case("lru(0.1,hashmap)"), bytes, keys, true);
        assert_eq!(lru, Needs { memory: 110 * keys + 100_000 * (68 + 128) + PROBE_BYTES, disk: 0 });
    }

    #[test]
    fn a_file_of_long_values_needs_its_size_in_a_hashmap_whatever_its_key_count() {
        // `kvbench gen --keys 100k --value-len fixed:3000`: 304 MB in 100,000 keys.
        let (bytes, keys) = (304_000_000, 100_000);
        assert_eq!(needs(&case("hashmap"), bytes, keys, true).memory, bytes + 42 * keys + PROBE_BYTES);
        let limited = Room { limited: true, ..room(250 << 20) };
        let why = why_not(&case("hashmap"), bytes, keys, limited).unwrap();
        assert!(why.contains("the file's 290 MiB") && why.contains("memory limit (250 MiB)"), "{why}");
        assert!(why_not(&case("warming"), bytes, keys, limited).is_some(), "warming builds the same hashmap");
        assert_eq!(why_not(&case("mmap-index"), bytes, keys, limited), None, "a map's pages can be evicted");
    }

    #[test]
    fn the_machine_is_read() {
        assert!(available_memory().is_some_and(|b| b > 0));
        assert!(free_disk(Path::new("Cargo.toml")).is_some());
    }
}
