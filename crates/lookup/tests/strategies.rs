//! One differential suite, run against every strategy (and configuration):
//! each must answer exactly what the simple `Reference` answers.
//! The checks themselves live in `common/mod.rs`, shared with `redis.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use kvbench_lookup::Lru;
use kvbench_lookup::Reference;
use kvbench_lookup::Strategy as Chosen;
use kvbench_lookup::Warming;
use kvbench_lookup::{Lookup, OpenError, OpenOptions, StrategyKind, open};
use proptest::prelude::*;

macro_rules! strategy_suite {
    ($($(#[$attr:meta])* $module:ident => $open:expr,)*) => {$(
        $(#[$attr])*
        mod $module {
            use super::*;
            const OPEN: fn(&Path, &OpenOptions) -> Opened = $open;
            #[test] fn handwritten() { handwritten_cases(&OPEN) }
            #[test] fn invalid_keys() { invalid_keys_are_errors(&OPEN) }
            #[test] fn empty_file() { empty_file_has_no_keys(&OPEN) }
            #[test] fn malformed() { malformed_lines(&OPEN) }
            #[test] fn paths() { bad_paths(&OPEN) }
            proptest! {
                #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
                #[test] fn random(data in data_file()) { random_files(&OPEN, &data)? }
            }
        }
    )*};
}

fn by_name(name: &'static str) -> impl Fn(&Path, &OpenOptions) -> Opened {
    move |path, opts| open(path, &name.parse::<Chosen>().unwrap(), opts)
}

/// A warming strategy that has finished its build.
fn warming_ready(path: &Path, opts: &OpenOptions) -> Opened {
    let w = Warming::open(path, opts)?;
    assert!(w.wait_ready(Duration::from_secs(30)), "{:?}", w.info().notes);
    Ok(Box::new(w))
}

/// A warming strategy whose build never starts: it must answer by scanning.
fn warming_not_ready(path: &Path, opts: &OpenOptions) -> Opened {
    let (w, _never_started) = Warming::open_deferred(path, opts)?;
    assert!(!w.is_ready());
    Ok(Box::new(w))
}

strategy_suite! {
    scan_lines => |p, o| by_name("scan-lines")(p, o),
    scan => |p, o| by_name("scan")(p, o),
    hashmap => |p, o| by_name("hashmap")(p, o),
    mmap_index => |p, o| by_name("mmap-index")(p, o),
    phf_index => |p, o| by_name("phf-index")(p, o),
    fst => |p, o| by_name("fst")(p, o),
    lmdb => |p, o| by_name("lmdb")(p, o),
    sqlite => |p, o| by_name("sqlite")(p, o),
    cdb => |p, o| by_name("cdb")(p, o),
    redb => |p, o| by_name("redb")(p, o),
    lmdb_defaults => |p, o| by_name("lmdb(defaults)")(p, o),
    sqlite_defaults => |p, o| by_name("sqlite(defaults)")(p, o),
    redb_defaults => |p, o| by_name("redb(defaults)")(p, o),
    #[cfg(feature = "rocksdb")]
    rocksdb => |p, o| by_name("rocksdb")(p, o),
    #[cfg(feature = "rocksdb")]
    rocksdb_defaults => |p, o| by_name("rocksdb(defaults)")(p, o),
    lru_50_lmdb => |p, o| by_name("lru(0.5,lmdb)")(p, o),
    lru_10_hashmap => |p, o| by_name("lru(0.1,hashmap)")(p, o),
    lru_50_mmap_index => |p, o| by_name("lru(0.5,mmap-index)")(p, o),
    lru_50_phf_index => |p, o| by_name("lru(0.5,phf-index)")(p, o),
    lru_100_mmap_index => |p, o| by_name("lru(1,mmap-index)")(p, o),
    lru_30_scan => |p, o| by_name("lru(0.3,scan)")(p, o),
    lru_20_warming => |p, o| by_name("lru(0.2,warming)")(p, o),
    warming_before_ready => warming_not_ready,
    warming_after_ready => warming_ready,
}

#[test]
fn warming_switches_from_scan_to_map() {
    with_file(HANDWRITTEN, |path| {
        let (w, start) = Warming::open_deferred(path, &OpenOptions::default()).unwrap();
        assert_eq!(w.get(b"apple").unwrap().as_deref(), Some(&b"red fruit"[..]));
        assert_eq!(w.info().ready_after, None);
        start.start();
        assert!(w.wait_ready(Duration::from_secs(30)));
        assert_eq!(w.get(b"apple").unwrap().as_deref(), Some(&b"red fruit"[..]));
        let info = w.info();
        assert!(info.ready_after.is_some());
        assert_eq!(info.keys, Some(Reference::from_bytes(HANDWRITTEN).len() as u64));
    });
}

#[test]
fn lru_counts_hits_and_misses() {
    with_file(HANDWRITTEN, |path| {
        let inner = open(path, &Chosen::Plain(StrategyKind::HashMap), &OpenOptions::default()).unwrap();
        let cache = Lru::new(inner, 1.0).unwrap();
        for _ in 0..3 {
            cache.get(b"apple").unwrap();
        }
        cache.get(b"missing").unwrap();
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.len), (2, 2, 1));
        assert_eq!(cache.info().name, "lru(1,hashmap)");
    });
}

#[test]
fn lru_capacity_follows_the_ratio_and_evicts() {
    let data: Vec<u8> = (0..100).flat_map(|i| format!("k{i} v{i}\n").into_bytes()).collect();
    with_file(&data, |path| {
        let inner = open(path, &Chosen::Plain(StrategyKind::MmapIndex), &OpenOptions::default()).unwrap();
        let cache = Lru::new(inner, 0.1).unwrap();
        assert_eq!(cache.stats().capacity, 10);
        for i in 0..100 {
            assert_eq!(cache.get(format!("k{i}").as_bytes()).unwrap().as_deref(), Some(format!("v{i}").as_bytes()));
        }
        assert_eq!(cache.stats().len, 10);
        cache.get(b"k99").unwrap();
        cache.get(b"k0").unwrap();
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 101));
    });
}

#[test]
fn lru_rejects_bad_ratios() {
    with_file(HANDWRITTEN, |path| {
        for ratio in [0.0, -0.5, 1.01, f64::NAN] {
            let inner = open(path, &Chosen::Plain(StrategyKind::Scan), &OpenOptions::default()).unwrap();
            assert!(matches!(Lru::new(inner, ratio), Err(OpenError::Config(_))));
        }
    });
}

#[test]
fn duplicates_are_counted() {
    with_file(HANDWRITTEN, |path| {
        for name in ["hashmap", "mmap-index"] {
            let lookup = by_name(name)(path, &OpenOptions::default()).unwrap();
            assert_eq!(lookup.info().duplicates, Some(1), "{name}");
        }
    });
}

#[test]
fn warming_builds_from_the_snapshot_it_scans() {
    with_file(HANDWRITTEN, |path| {
        let (w, start) = Warming::open_deferred(path, &OpenOptions::default()).unwrap();
        // Replace the file atomically, as docs/limits.md recommends, before the build runs.
        let next = path.with_extension("new");
        std::fs::write(&next, b"apple changed\n").unwrap();
        std::fs::rename(&next, path).unwrap();
        start.start();
        assert!(w.wait_ready(Duration::from_secs(30)));
        assert_eq!(w.get(b"apple").unwrap().as_deref(), Some(&b"red fruit"[..]));
        assert_eq!(w.get(b"tab").unwrap().as_deref(), Some(&b"separated value"[..]));
    });
}
