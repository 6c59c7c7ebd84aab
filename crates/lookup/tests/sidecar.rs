//! The mmap-index sidecar is reused when valid and rebuilt, never trusted, otherwise.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use kvbench_lookup::{Lookup, OpenError, OpenOptions};
use kvbench_lookup::{MmapIndex, default_sidecar_path};

fn lines(n: usize, tag: &str) -> Vec<u8> {
    (0..n).flat_map(|i| format!("key{i} {tag}{i}\n").into_bytes()).collect()
}

fn setup(data: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.txt");
    std::fs::write(&path, data).unwrap();
    (dir, path)
}

fn open(path: &Path) -> MmapIndex {
    MmapIndex::open(path, &OpenOptions::default()).unwrap()
}

fn note(index: &MmapIndex) -> String {
    index.info().notes.join("; ")
}

#[test]
fn second_open_reuses_the_sidecar() {
    let (_dir, path) = setup(&lines(1000, "v"));
    let first = open(&path);
    assert!(!first.reused(), "{}", note(&first));
    assert!(default_sidecar_path(&path).exists());
    let second = open(&path);
    assert!(second.reused(), "{}", note(&second));
    assert_eq!(second.get(b"key7").unwrap().as_deref(), Some(&b"v7"[..]));
    assert_eq!(second.info().heap_bytes, 0);
}

#[test]
fn a_modified_data_file_invalidates_the_sidecar() {
    let (_dir, path) = setup(&lines(1000, "v"));
    drop(open(&path));
    // Same length, different bytes: only the content fingerprint can tell.
    std::fs::write(&path, lines(1000, "w")).unwrap();
    let index = open(&path);
    assert!(!index.reused());
    assert!(note(&index).contains("data file changed"), "{}", note(&index));
    assert_eq!(index.get(b"key7").unwrap().as_deref(), Some(&b"w7"[..]));
    // Appending is caught by the length.
    let mut more = lines(1000, "w");
    more.extend_from_slice(b"extra x\n");
    std::fs::write(&path, &more).unwrap();
    let index = open(&path);
    assert!(!index.reused());
    assert_eq!(index.get(b"extra").unwrap().as_deref(), Some(&b"x"[..]));
}

#[test]
fn full_verification_catches_what_sampling_misses() {
    // A file big enough that the fingerprint samples blocks, changed in a byte
    // no sampled block covers, with its mtime restored.
    let data = lines(40_000, "v");
    let (_dir, path) = setup(&data);
    drop(open(&path));
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut changed = data.clone();
    let at = 102_000; // past the 64 KiB head, between two sampled 4 KiB blocks
    let pos = at + changed[at..].iter().position(|&b| b == b'v').unwrap();
    changed[pos] = b'Z';
    std::fs::write(&path, &changed).unwrap();
    std::fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
    assert!(open(&path).reused(), "the cheap fingerprint is documented not to see this");
    let strict = OpenOptions { verify_index_fully: true, ..OpenOptions::default() };
    let index = MmapIndex::open(&path, &strict).unwrap();
    assert!(!index.reused(), "{}", note(&index));
}

#[test]
fn corrupt_or_truncated_sidecars_are_rebuilt() {
    let (_dir, path) = setup(&lines(1000, "v"));
    let sidecar = default_sidecar_path(&path);
    drop(open(&path));
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
        let index = open(&path);
        assert!(!index.reused(), "{what}: {}", note(&index));
        assert!(note(&index).contains("built index"), "{what}: {}", note(&index));
        assert_eq!(index.get(b"key999").unwrap().as_deref(), Some(&b"v999"[..]), "{what}");
        // The rebuilt sidecar is good again.
        assert!(open(&path).reused(), "{what}");
    }
}

#[test]
fn a_file_that_is_not_an_index_is_never_overwritten() {
    let (dir, path) = setup(&lines(100, "v"));
    let sidecar = default_sidecar_path(&path);
    for foreign in [b"hello".repeat(100), Vec::new()] {
        std::fs::write(&sidecar, &foreign).unwrap();
        let index = open(&path);
        assert!(note(&index).contains("refusing to overwrite"), "{}", note(&index));
        assert!(note(&index).contains("kept in memory"), "{}", note(&index));
        assert_eq!(index.get(b"key5").unwrap().as_deref(), Some(&b"v5"[..]));
        assert_eq!(std::fs::read(&sidecar).unwrap(), foreign);
    }
    // Pointing the index at the data file itself must not destroy the data.
    let data_before = std::fs::read(&path).unwrap();
    let opts = OpenOptions { index_path: Some(path.clone()), ..OpenOptions::default() };
    let index = MmapIndex::open(&path, &opts).unwrap();
    assert!(note(&index).contains("it is the data file"), "{}", note(&index));
    assert_eq!(std::fs::read(&path).unwrap(), data_before);
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, b"my notes\n").unwrap();
    let opts = OpenOptions { index_path: Some(other.clone()), ..OpenOptions::default() };
    assert!(note(&MmapIndex::open(&path, &opts).unwrap()).contains("not a kvbench index"));
    assert_eq!(std::fs::read(&other).unwrap(), b"my notes\n");
}

#[test]
fn an_unwritable_sidecar_keeps_the_index_in_memory() {
    let (dir, path) = setup(&lines(100, "v"));
    let opts = OpenOptions { index_path: Some(dir.path().join("no/such/dir/x.kvidx")), ..OpenOptions::default() };
    let index = MmapIndex::open(&path, &opts).unwrap();
    assert!(note(&index).contains("kept in memory"), "{}", note(&index));
    assert_eq!(index.get(b"key5").unwrap().as_deref(), Some(&b"v5"[..]));
    assert!(index.info().heap_bytes > 0);
}

#[test]
fn a_lenient_sidecar_is_not_reused_in_strict_mode() {
    let mut data = lines(100, "v");
    data.extend_from_slice(b"malformed\n");
    let (_dir, path) = setup(&data);
    let lenient = OpenOptions { lenient: true, ..OpenOptions::default() };
    assert_eq!(MmapIndex::open(&path, &lenient).unwrap().info().skipped, 1);
    assert!(MmapIndex::open(&path, &lenient).unwrap().reused());
    match MmapIndex::open(&path, &OpenOptions::default()) {
        Err(OpenError::Malformed { line: 101, .. }) => {}
        other => panic!("expected a malformed-line error, got {:?}", other.map(|i| i.info())),
    }
}
