//! The engines' stores (`lmdb`, `sqlite`, `cdb`, `redb`, `rocksdb` when built; see `store.rs`) are
//! reused when their stamp, their file and the data file agree, and rebuilt
//! otherwise; a file or folder that is not a kvbench store is never replaced.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{lines, note, setup};
use kvbench_lookup::{Lookup, OpenError, OpenOptions, Place, StrategyKind};

/// The engines that keep a store directory, of those this build has.
fn engines() -> Vec<StrategyKind> {
    let keeps_dir = |k: &StrategyKind| k.facts().store.is_some_and(|s| matches!(s.place, Place::StoreDir));
    StrategyKind::ENGINES.into_iter().filter(keeps_dir).filter(|k| k.is_built()).collect()
}

use common::open_kind as open_with;

fn open(path: &Path, kind: StrategyKind) -> Box<dyn Lookup> {
    open_with(path, kind, &OpenOptions::default()).unwrap()
}

/// The error opening `kind` gives (it must fail).
fn open_err(path: &Path, kind: StrategyKind, opts: &OpenOptions) -> OpenError {
    match open_with(path, kind, opts) {
        Ok(lookup) => panic!("{kind}: expected an error, opened: {}", note(&*lookup)),
        Err(e) => e,
    }
}

fn reused(lookup: &dyn Lookup) -> bool {
    note(lookup).contains("reused store")
}

/// The store directory of `kind` for `path`, and the engine's file in it
/// (in a directory the engine keeps there, RocksDB's, its table file).
fn store(path: &Path, kind: StrategyKind) -> (PathBuf, PathBuf) {
    let dir = kind.default_sidecar(path).unwrap();
    let entry = |dir: &Path, wanted: &dyn Fn(&Path) -> bool| {
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).find(|p| wanted(p)).unwrap()
    };
    let file = entry(&dir, &|p| p.file_name().unwrap().to_string_lossy().starts_with("store-"));
    let file = if file.is_dir() { entry(&file, &|p| p.extension().is_some_and(|e| e == "sst")) } else { file };
    (dir, file)
}

#[test]
fn a_store_is_built_once_then_reused() {
    for kind in engines() {
        let (_dir, path) = setup(&lines(1000, "v"));
        let first = open(&path, kind);
        assert!(!reused(&*first), "{kind}: {}", note(&*first));
        assert_eq!(first.info().wrote, [kind.default_sidecar(&path).unwrap()], "{kind}");
        let second = open(&path, kind);
        assert!(reused(&*second), "{kind}: {}", note(&*second));
        assert_eq!(second.get(b"key7").unwrap().as_deref(), Some(&b"v7"[..]), "{kind}");
        assert_eq!(second.info().keys, Some(1000), "{kind}");
        // Both open at once, and a lookup in each (LMDB refuses one path twice: the first must not block the second).
        assert_eq!(first.get(b"key999").unwrap().as_deref(), Some(&b"v999"[..]), "{kind}");
    }
}

#[test]
fn a_changed_data_file_rebuilds_the_store() {
    for kind in engines() {
        let (_dir, path) = setup(&lines(1000, "v"));
        let old = open(&path, kind);
        // Same length, different bytes: only the content fingerprint can tell.
        std::fs::write(&path, lines(1000, "w")).unwrap();
        let new = open(&path, kind);
        assert!(note(&*new).contains("data file changed"), "{kind}: {}", note(&*new));
        assert_eq!(new.get(b"key7").unwrap().as_deref(), Some(&b"w7"[..]), "{kind}");
        // The store opened before still answers from the records it was built with.
        assert_eq!(old.get(b"key7").unwrap().as_deref(), Some(&b"v7"[..]), "{kind}");
        assert!(reused(&*open(&path, kind)), "{kind}");
    }
}

#[test]
fn a_truncated_corrupt_or_swapped_store_is_rebuilt() {
    for kind in engines() {
        let (_dir, path) = setup(&lines(1000, "v"));
        drop(open(&path, kind));
        let (dir, file) = store(&path, kind);
        let good = std::fs::read(file).unwrap();
        let stamp = dir.join("stamp");
        let good_stamp = std::fs::read(&stamp).unwrap();
        let other = if kind == StrategyKind::Lmdb { StrategyKind::Redb } else { StrategyKind::Lmdb };
        let (_other_dir, other_path) = setup(&lines(1000, "v"));
        drop(open(&other_path, other));
        let foreign = std::fs::read(store(&other_path, other).1).unwrap();
        // Whether each case writes the store's file or its stamp: a rebuilt store's file may have
        // another path (RocksDB's table differs in its properties from one build to the next).
        let (file_, stamp_) = (true, false);
        let cases: Vec<(&str, bool, Vec<u8>)> = vec![
            ("truncated store", file_, good[..good.len() / 2].to_vec()),
            ("emptied store", file_, Vec::new()),
            ("corrupt store", file_, {
                let mut b = good.clone();
                b[good.len() / 3] ^= 0x5a;
                b
            }),
            ("another engine's file in its place", file_, foreign),
            ("truncated stamp", stamp_, good_stamp[..60].to_vec()),
            ("corrupt stamp", stamp_, {
                let mut b = good_stamp.clone();
                b[40] ^= 1;
                b
            }),
        ];
        for (what, in_store, bytes) in cases {
            let target = if in_store { store(&path, kind).1 } else { stamp.clone() };
            std::fs::write(&target, &bytes).unwrap();
            let lookup = open(&path, kind);
            assert!(note(&*lookup).contains("built store"), "{kind}, {what}: {}", note(&*lookup));
            assert_eq!(lookup.get(b"key999").unwrap().as_deref(), Some(&b"v999"[..]), "{kind}, {what}");
            assert!(reused(&*open(&path, kind)), "{kind}, {what}: the rebuilt store is good");
        }
    }
}

#[test]
fn what_is_not_a_kvbench_store_is_refused_and_left_alone() {
    for kind in engines() {
        let (dir, path) = setup(&lines(100, "v"));
        let place = kind.default_sidecar(&path).unwrap();
        std::fs::write(&place, b"my notes\n").unwrap();
        let err = open_err(&path, kind, &OpenOptions::default());
        assert!(matches!(err, OpenError::Store { .. }), "{kind}: {err}");
        assert!(err.to_string().contains("not a kvbench store"), "{kind}: {err}");
        assert_eq!(std::fs::read(&place).unwrap(), b"my notes\n");
        // A folder of someone else's files.
        let folder = dir.path().join("mine");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("important"), b"keep").unwrap();
        let opts = OpenOptions { index_path: Some(folder.clone()), ..OpenOptions::default() };
        let err = open_err(&path, kind, &opts);
        assert!(err.to_string().contains("without a kvbench stamp"), "{kind}: {err}");
        assert_eq!(std::fs::read(folder.join("important")).unwrap(), b"keep");
        // A store nowhere writable is a clear error too.
        let opts = OpenOptions { index_path: Some(dir.path().join("no/such/dir/x")), ..OpenOptions::default() };
        let err = open_err(&path, kind, &opts);
        assert!(err.to_string().contains("cannot create"), "{kind}: {err}");
    }
}

#[test]
fn a_lenient_store_is_not_reused_in_strict_mode() {
    for kind in engines() {
        let mut data = lines(100, "v");
        data.extend_from_slice(b"malformed\n");
        let (_dir, path) = setup(&data);
        let lenient = OpenOptions { lenient: true, ..OpenOptions::default() };
        assert_eq!(open_with(&path, kind, &lenient).unwrap().info().skipped, 1, "{kind}");
        assert!(reused(&*open_with(&path, kind, &lenient).unwrap()), "{kind}");
        match open_with(&path, kind, &OpenOptions::default()) {
            Err(OpenError::Malformed { line: 101, .. }) => {}
            other => panic!("{kind}: expected a malformed-line error, got {:?}", other.map(|i| i.info())),
        }
    }
}

#[test]
fn a_store_of_another_engine_is_rebuilt_not_read() {
    let (_dir, path) = setup(&lines(100, "v"));
    drop(open(&path, StrategyKind::Sqlite));
    let opts = OpenOptions { index_path: StrategyKind::Sqlite.default_sidecar(&path), ..OpenOptions::default() };
    let lookup = open_with(&path, StrategyKind::Cdb, &opts).unwrap();
    assert!(note(&*lookup).contains("not an index of this kind"), "{}", note(&*lookup));
    assert_eq!(lookup.get(b"key42").unwrap().as_deref(), Some(&b"v42"[..]));
}
