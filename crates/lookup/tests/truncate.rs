//! A data file (or index sidecar) truncated in place under an open strategy:
//! no crash (the mapped pages past the new end would raise SIGBUS), and never
//! a wrong value. Mapped strategies answer `DataChanged`; strategies holding
//! a copy keep answering from it; `scan-lines` reads the file as it is now.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fs::{File, OpenOptions as FsOpen};
use std::path::Path;

use kvbench_lookup::GuardedMap;
use kvbench_lookup::Reference;
use kvbench_lookup::{Lookup, LookupError, OpenOptions, Strategy, StrategyKind};
use kvbench_lookup::{default_phf_path, default_sidecar_path};

const PAGE: u64 = 4096;

/// About 6 pages of records, so truncations can land on and between pages.
fn records() -> Vec<u8> {
    (0..700u32).map(|i| format!("key{i:05} value-{i}-{}\n", "x".repeat((i % 13) as usize))).collect::<String>().into()
}

fn keys(data: &[u8]) -> Vec<Vec<u8>> {
    data.split(|&b| b == b'\n')
        .filter_map(|l| l.split(|&b| b == b' ').next())
        .filter(|k| !k.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn truncate(path: &Path, len: u64) {
    FsOpen::new().write(true).open(path).unwrap().set_len(len).unwrap();
}

/// Sizes to cut a file of `len` bytes to: empty, on a page, mid-page, inside the last page.
fn cuts(len: u64) -> [u64; 4] {
    [0, 2 * PAGE, 2 * PAGE + 1234, len - 17]
}

#[test]
fn a_truncated_map_reads_zeros_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let data = records();
    for cut in cuts(data.len() as u64) {
        std::fs::write(&path, &data).unwrap();
        // SAFETY: test file, written only by this test.
        let map = unsafe { GuardedMap::map(&File::open(&path).unwrap()) }.unwrap();
        assert!(map.is_guarded() && map.intact());
        truncate(&path, cut);
        // Every byte can be read; past the cut, only zeros.
        let copy = map.to_vec();
        let cut = cut as usize;
        assert_eq!(copy[..cut], data[..cut], "cut {cut}");
        assert!(copy[cut..].iter().all(|&b| b == 0), "cut {cut}");
        assert!(!map.intact(), "cut {cut}");
        let whole_pages_lost = (data.len() as u64).div_ceil(PAGE) > (cut as u64).div_ceil(PAGE);
        assert_eq!(map.faults() > 0, whole_pages_lost, "cut {cut}");
    }
}

#[test]
fn only_trailing_zeros_cut_off_is_not_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let mut data = b"a 1\nb 2\n".to_vec();
    data.resize(100, 0);
    std::fs::write(&path, &data).unwrap();
    // SAFETY: test file, written only by this test.
    let map = unsafe { GuardedMap::map(&File::open(&path).unwrap()) }.unwrap();
    truncate(&path, 8);
    assert!(map.intact(), "the bytes that remain readable are unchanged");
}

/// A SIGBUS that is not from a guarded map still kills the process: run in a
/// child (this test binary again), which must die by the signal.
#[test]
fn a_foreign_sigbus_is_not_swallowed() {
    if std::env::var_os("KVBENCH_FOREIGN_SIGBUS").is_some() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, records()).unwrap();
        // The guard is installed by a first guarded map...
        // SAFETY: test file, written only by this test.
        let _guarded = unsafe { GuardedMap::map(&File::open(&path).unwrap()) }.unwrap();
        // ...but this plain map is not in its table.
        // SAFETY: as above.
        let plain = unsafe { memmap2::Mmap::map(&File::open(&path).unwrap()) }.unwrap();
        truncate(&path, 0);
        let sum: u64 = plain.iter().map(|&b| u64::from(b)).sum();
        println!("survived with sum {sum}");
        std::process::exit(0);
    }
    use std::os::unix::process::ExitStatusExt;
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_foreign_sigbus_is_not_swallowed", "--nocapture", "--test-threads=1"])
        .env("KVBENCH_FOREIGN_SIGBUS", "1")
        .output()
        .unwrap();
    assert_eq!(child.status.signal(), Some(libc::SIGBUS), "{child:?}");
}

/// What a strategy must answer for `key` once its file was cut.
enum Expect {
    /// Mapped: the reads cannot be trusted.
    Changed,
    /// Holds a copy made at open: the original answer.
    Original,
    /// Reads the file per lookup: the truncated file's answer.
    Current,
    /// A copy of part of the data (a cache) or, later, all of it (warming) in
    /// front of a mapped strategy: the original answer from the copy, else `Changed`.
    OriginalOrChanged,
}

fn strategies() -> Vec<(Strategy, Expect)> {
    use StrategyKind::*;
    let plain = |kind| Strategy::new(kind, 0.5, MmapIndex).unwrap();
    vec![
        (plain(Scan), Expect::Changed),
        (plain(MmapIndex), Expect::Changed),
        (plain(PhfIndex), Expect::Changed),
        // Scans (Changed) until its map, built from a copy, is ready (Original).
        (plain(Warming), Expect::OriginalOrChanged),
        (plain(HashMap), Expect::Original),
        (plain(ScanLines), Expect::Current),
        (plain(Lru), Expect::OriginalOrChanged),
        (plain(Fst), Expect::Changed),
        // The engines answer from their own store, a copy made at open.
        (plain(Lmdb), Expect::Original),
        (plain(Sqlite), Expect::Original),
        (plain(Cdb), Expect::Original),
        (plain(Redb), Expect::Original),
    ]
}

fn check(lookup: &dyn Lookup, expect: &Expect, key: &[u8], original: &Reference, current: &Reference, what: &str) {
    let got = lookup.get(key);
    let ok = match (expect, &got) {
        (Expect::Changed, Err(LookupError::DataChanged { .. })) => true,
        (Expect::Original | Expect::OriginalOrChanged, Ok(v)) => v.as_deref() == original.value(key),
        (Expect::OriginalOrChanged, Err(LookupError::DataChanged { .. })) => true,
        (Expect::Current, Ok(v)) => v.as_deref() == current.value(key),
        _ => false,
    };
    assert!(ok, "{what}: key {:?} gave {:?}", String::from_utf8_lossy(key), got.map(|v| v.map(|v| v.to_vec())));
}

#[test]
fn no_strategy_gives_a_wrong_value_after_the_data_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let data = records();
    let original = Reference::from_bytes(&data);
    let keys = keys(&data);
    for (strategy, expect) in strategies() {
        for cut in cuts(data.len() as u64) {
            std::fs::write(&path, &data).unwrap();
            let _ = std::fs::remove_file(default_sidecar_path(&path));
            let _ = std::fs::remove_file(default_phf_path(&path));
            if let Some(index) = strategy.sidecar(&path, &OpenOptions::default()) {
                let _ = kvbench_lookup::remove_index(&index);
            }
            let lookup = kvbench_lookup::open(&path, &strategy, &OpenOptions::default()).unwrap();
            // Half the keys asked before the cut (so a cache holds some).
            for key in keys.iter().step_by(2) {
                assert_eq!(lookup.get(key).unwrap().as_deref(), original.value(key));
            }
            assert!(lookup.check_data().is_ok());
            truncate(&path, cut);
            let current = Reference::from_bytes(&data[..cut as usize]);
            let what = format!("{} cut at {cut}", strategy);
            for key in &keys {
                check(&*lookup, &expect, key, &original, &current, &what);
            }
            if matches!(expect, Expect::Changed) {
                assert!(matches!(lookup.check_data(), Err(LookupError::DataChanged { .. })), "{what}");
            }
            // Opened again, the file as it is now is served.
            let reopened = kvbench_lookup::open(&path, &strategy, &OpenOptions { lenient: true, ..Default::default() })
                .unwrap_or_else(|e| panic!("{what}: reopen: {e}"));
            for key in &keys {
                check(&*reopened, &Expect::Current, key, &original, &current, &format!("{what}, reopened"));
            }
        }
    }
}

/// A cut index can only lose entries (a value is returned after its key is
/// compared in the data), so a hit stays right and a lost key is
/// `DataChanged`, never a miss.
#[test]
fn a_cut_sidecar_gives_data_changed_not_a_miss() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let data = records();
    let original = Reference::from_bytes(&data);
    for (kind, reuse) in
        [StrategyKind::MmapIndex, StrategyKind::PhfIndex].into_iter().flat_map(|k| [(k, false), (k, true)])
    {
        let strategy = Strategy::Plain(kind);
        std::fs::write(&path, &data).unwrap();
        let sidecar =
            if kind == StrategyKind::PhfIndex { default_phf_path(&path) } else { default_sidecar_path(&path) };
        if !reuse {
            let _ = std::fs::remove_file(&sidecar);
        }
        let lookup = kvbench_lookup::open(&path, &strategy, &OpenOptions::default()).unwrap();
        let len = std::fs::metadata(&sidecar).unwrap().len();
        truncate(&sidecar, len / 2 + 3);
        let mut changed = 0;
        for key in keys(&data).into_iter().chain([b"absent".to_vec()]) {
            match lookup.get(&key) {
                Err(LookupError::DataChanged { path }) => {
                    assert_eq!(path, sidecar);
                    changed += 1;
                }
                Ok(Some(value)) if Some(&*value) == original.value(&key) => {}
                other => panic!(
                    "{kind} reuse {reuse}: {:?} gave {:?} (should be {:?})",
                    key,
                    other.map(|v| v.map(|v| v.to_vec())),
                    original.value(&key)
                ),
            }
        }
        // The entries in the cut half are gone: their keys (and any miss) say so.
        assert!(changed > keys(&data).len() / 4, "{kind} reuse {reuse}: only {changed} changed");
    }
}
