//! The index sidecars (`mmap-index`'s, `phf-index`'s and `fst`'s, one
//! machinery) are reused when valid and rebuilt, never trusted, otherwise.
//! (The engines' stores are checked in `stores.rs`.)
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{lines, note, setup};
use kvbench_lookup::default_sidecar_path;
use kvbench_lookup::{Lookup, OpenError, OpenOptions, StrategyKind};

/// The strategies that keep a sidecar.
const KINDS: [StrategyKind; 3] = [StrategyKind::MmapIndex, StrategyKind::PhfIndex, StrategyKind::Fst];

/// Where `kind` keeps the sidecar of `path` by default.
fn sidecar(path: &Path, kind: StrategyKind) -> PathBuf {
    kind.default_sidecar(path).unwrap()
}

use common::open_kind as open_with;

fn reused(index: &dyn Lookup) -> bool {
    note(index).contains("reused index")
}

fn open(path: &Path, kind: StrategyKind) -> Box<dyn Lookup> {
    open_with(path, kind, &OpenOptions::default()).unwrap()
}

#[test]
fn second_open_reuses_the_sidecar() {
    for kind in KINDS {
        let (_dir, path) = setup(&lines(1000, "v"));
        let first = open(&path, kind);
        assert!(!reused(&*first), "{}", note(&*first));
        assert!(sidecar(&path, kind).exists());
        let second = open(&path, kind);
        assert!(reused(&*second), "{}", note(&*second));
        assert_eq!(second.get(b"key7").unwrap().as_deref(), Some(&b"v7"[..]));
        // The index stays mapped (phf-index reads its function, under a byte a key, into memory).
        assert!(second.info().heap_bytes < 1000, "{}", second.info().heap_bytes);
    }
}

#[test]
fn a_modified_data_file_invalidates_the_sidecar() {
    for kind in KINDS {
        let (_dir, path) = setup(&lines(1000, "v"));
        drop(open(&path, kind));
        // Same length, different bytes: only the content fingerprint can tell.
        std::fs::write(&path, lines(1000, "w")).unwrap();
        let index = open(&path, kind);
        assert!(!reused(&*index));
        assert!(note(&*index).contains("data file changed"), "{}", note(&*index));
        assert_eq!(index.get(b"key7").unwrap().as_deref(), Some(&b"w7"[..]));
        // Appending is caught by the length.
        let mut more = lines(1000, "w");
        more.extend_from_slice(b"extra x\n");
        std::fs::write(&path, &more).unwrap();
        let index = open(&path, kind);
        assert!(!reused(&*index));
        assert_eq!(index.get(b"extra").unwrap().as_deref(), Some(&b"x"[..]));
    }
}

#[test]
fn full_verification_catches_what_sampling_misses() {
    for kind in KINDS {
        // A file big enough that the fingerprint samples blocks, changed in a byte
        // no sampled block covers, with its mtime restored.
        let data = lines(40_000, "v");
        let (_dir, path) = setup(&data);
        drop(open(&path, kind));
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut changed = data.clone();
        let at = 102_000; // past the 64 KiB head, between two sampled 4 KiB blocks
        let pos = at + changed[at..].iter().position(|&b| b == b'v').unwrap();
        changed[pos] = b'Z';
        std::fs::write(&path, &changed).unwrap();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
        assert!(reused(&*open(&path, kind)), "the cheap fingerprint is documented not to see this");
        let strict = OpenOptions { verify_index_fully: true, ..OpenOptions::default() };
        let index = open_with(&path, kind, &strict).unwrap();
        assert!(!reused(&*index), "{}", note(&*index));
    }
}

#[test]
fn corrupt_or_truncated_sidecars_are_rebuilt() {
    for kind in KINDS {
        let (_dir, path) = setup(&lines(1000, "v"));
        let sidecar = sidecar(&path, kind);
        drop(open(&path, kind));
        let good = std::fs::read(&sidecar).unwrap();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("entries checksum", {
                let mut b = good.clone();
                let last = b.len() - 3;
                b[last] ^= 0x40;
                b
            }),
            ("header checksum", {
                let mut b = good.clone();
                b[40] ^= 1;
                b
            }),
            ("truncated", good[..good.len() - 16].to_vec()),
            ("truncated", good[..50].to_vec()),
        ];
        for (what, bytes) in cases {
            std::fs::write(&sidecar, &bytes).unwrap();
            let index = open(&path, kind);
            assert!(!reused(&*index), "{what}: {}", note(&*index));
            assert!(note(&*index).contains("built index"), "{what}: {}", note(&*index));
            assert_eq!(index.get(b"key999").unwrap().as_deref(), Some(&b"v999"[..]), "{what}");
            // The rebuilt sidecar is good again.
            assert!(reused(&*open(&path, kind)), "{what}");
        }
    }
}

#[test]
fn a_file_that_is_not_an_index_is_never_overwritten() {
    for kind in KINDS {
        let (dir, path) = setup(&lines(100, "v"));
        let sidecar = sidecar(&path, kind);
        for foreign in [b"hello".repeat(100), Vec::new()] {
            std::fs::write(&sidecar, &foreign).unwrap();
            let index = open(&path, kind);
            assert!(note(&*index).contains("refusing to overwrite"), "{}", note(&*index));
            assert!(note(&*index).contains("kept in memory"), "{}", note(&*index));
            assert_eq!(index.get(b"key5").unwrap().as_deref(), Some(&b"v5"[..]));
            assert_eq!(std::fs::read(&sidecar).unwrap(), foreign);
        }
        // Pointing the index at the data file itself must not destroy the data.
        let data_before = std::fs::read(&path).unwrap();
        let opts = OpenOptions { index_path: Some(path.clone()), ..OpenOptions::default() };
        let index = open_with(&path, kind, &opts).unwrap();
        assert!(note(&*index).contains("it is the data file"), "{}", note(&*index));
        assert_eq!(std::fs::read(&path).unwrap(), data_before);
        let other = dir.path().join("notes.txt");
        std::fs::write(&other, b"my notes\n").unwrap();
        let opts = OpenOptions { index_path: Some(other.clone()), ..OpenOptions::default() };
        assert!(note(&open_with(&path, kind, &opts).unwrap()).contains("not a kvbench index"));
        assert_eq!(std::fs::read(&other).unwrap(), b"my notes\n");
    }
}

#[test]
fn an_unwritable_sidecar_keeps_the_index_in_memory() {
    for kind in KINDS {
        let (dir, path) = setup(&lines(100, "v"));
        let opts = OpenOptions { index_path: Some(dir.path().join("no/such/dir/x.kvidx")), ..OpenOptions::default() };
        let index = open_with(&path, kind, &opts).unwrap();
        assert!(note(&*index).contains("kept in memory"), "{}", note(&*index));
        assert_eq!(index.get(b"key5").unwrap().as_deref(), Some(&b"v5"[..]));
        assert!(index.info().heap_bytes > 0);
    }
}

#[test]
fn a_lenient_sidecar_is_not_reused_in_strict_mode() {
    for kind in KINDS {
        let mut data = lines(100, "v");
        data.extend_from_slice(b"malformed\n");
        let (_dir, path) = setup(&data);
        let lenient = OpenOptions { lenient: true, ..OpenOptions::default() };
        assert_eq!(open_with(&path, kind, &lenient).unwrap().info().skipped, 1);
        assert!(reused(&*open_with(&path, kind, &lenient).unwrap()));
        match open_with(&path, kind, &OpenOptions::default()) {
            Err(OpenError::Malformed { line: 101, .. }) => {}
            other => panic!("expected a malformed-line error, got {:?}", other.map(|i| i.info())),
        }
    }
}

#[test]
fn a_sidecar_of_the_other_kind_is_rebuilt_not_read() {
    let (_dir, path) = setup(&lines(100, "v"));
    drop(open(&path, StrategyKind::MmapIndex));
    let other = OpenOptions { index_path: Some(default_sidecar_path(&path)), ..OpenOptions::default() };
    let index = open_with(&path, StrategyKind::PhfIndex, &other).unwrap();
    assert!(note(&*index).contains("not an index of this kind"), "{}", note(&*index));
    assert_eq!(index.get(b"key42").unwrap().as_deref(), Some(&b"v42"[..]));
    // And back: mmap-index finds a phf-index sidecar there now.
    assert!(note(&*open(&path, StrategyKind::MmapIndex)).contains("not an index of this kind"));
}
