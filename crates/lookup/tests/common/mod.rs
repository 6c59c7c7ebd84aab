//! The differential checks every strategy must pass (each must answer
//! exactly what the simple `Reference` answers), shared by `strategies.rs`,
//! `redis.rs` and `redis_cluster.rs`.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;

use kvbench_lookup::Reference;
use kvbench_lookup::{KeyFault, LineFault};
use kvbench_lookup::{Lookup, LookupError, OpenError, OpenOptions};
use proptest::prelude::*;

/// The file helpers and the differential check are the fuzzers' (one copy).
pub use kvbench_fuzz::data_file::{Opened, assert_agrees, with_file};

/// `n` lines `key<i> <tag><i>`: a file whose values say which version wrote them.
pub fn lines(n: usize, tag: &str) -> Vec<u8> {
    (0..n).flat_map(|i| format!("key{i} {tag}{i}\n").into_bytes()).collect()
}

/// A temporary folder holding `data.txt` with `data`, and that file's path.
pub fn setup(data: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.txt");
    std::fs::write(&path, data).unwrap();
    (dir, path)
}

/// Opens the plain strategy `kind` on `path`.
pub fn open_kind(path: &Path, kind: kvbench_lookup::StrategyKind, opts: &OpenOptions) -> Opened {
    kvbench_lookup::open(path, &kvbench_lookup::Strategy::Plain(kind), opts)
}

/// The notes a strategy left on opening (index or store reused or rebuilt, fallbacks), joined.
pub fn note(lookup: &dyn Lookup) -> String {
    lookup.info().notes.join("; ")
}

/// Opens a strategy on a data file: what every check below is given.
pub type Open<'a> = &'a dyn Fn(&Path, &OpenOptions) -> Opened;

pub const HANDWRITTEN: &[u8] = b"apple red fruit\n\
app short\n\
apple green DUPLICATE\n\
tab\tseparated value\n\
crlf windows line\r\n\
spaces  two leading spaces kept\n\
empty \n\
bin \xff\xfe not utf8\n\
long-key-that-is-a-prefix-of-nothing x\n\
last no newline";

pub fn handwritten_cases(open: Open<'_>) {
    with_file(HANDWRITTEN, |path| {
        let lookup = open(path, &OpenOptions::default()).unwrap();
        assert_agrees(&*lookup, HANDWRITTEN, &[b"missing", b"appl", b"applered", b"red", b"last"]);
        // Warmed as a probe warms it (files mapped in, an engine's cache filled), it answers the same.
        lookup.populate();
        assert_agrees(&*lookup, HANDWRITTEN, &[b"missing", b"appl", b"applered", b"red", b"last"]);
        let expect: &[(&[u8], Option<&[u8]>)] = &[
            (b"apple", Some(b"red fruit")),
            (b"app", Some(b"short")),
            (b"tab", Some(b"separated value")),
            (b"crlf", Some(b"windows line")),
            (b"spaces", Some(b" two leading spaces kept")),
            (b"empty", Some(b"")),
            (b"bin", Some(b"\xff\xfe not utf8")),
            (b"last", Some(b"no newline")),
            (b"appl", None),
            (b"fruit", None),
        ];
        for (key, want) in expect {
            assert_eq!(lookup.get(key).unwrap().as_deref(), *want, "{}", String::from_utf8_lossy(key));
        }
    });
}

pub fn invalid_keys_are_errors(open: Open<'_>) {
    with_file(HANDWRITTEN, |path| {
        let lookup = open(path, &OpenOptions::default()).unwrap();
        let too_long = vec![b'k'; kvbench_lookup::MAX_KEY_LEN + 1];
        let cases: [(&[u8], KeyFault); 5] = [
            (b"", KeyFault::Empty),
            (&too_long, KeyFault::TooLong(too_long.len())),
            (b"apple red", KeyFault::Separator),
            (b"tab\tseparated", KeyFault::Separator),
            (b"last\n", KeyFault::Separator),
        ];
        for (key, fault) in cases {
            assert!(matches!(lookup.get(key), Err(LookupError::InvalidKey(f)) if f == fault), "{key:?}");
        }
    });
}

pub fn empty_file_has_no_keys(open: Open<'_>) {
    with_file(b"", |path| {
        let lookup = open(path, &OpenOptions::default()).unwrap();
        assert!(lookup.get(b"anything").unwrap().is_none());
    });
}

pub fn malformed_lines(open: Open<'_>) {
    let data = b"good 1\nno-separator\n\tempty-key\nalso good\n";
    with_file(data, |path| {
        match open(path, &OpenOptions::default()) {
            Err(OpenError::Malformed { line: 2, fault: LineFault::NoSeparator, path: p }) => assert_eq!(p, path),
            other => panic!("expected malformed line 2, got {:?}", other.map(|l| l.info())),
        }
        let lenient = OpenOptions { lenient: true, ..OpenOptions::default() };
        let lookup = open(path, &lenient).unwrap();
        assert_agrees(&*lookup, data, &[b"no-separator", b"empty-key"]);
    });
}

pub fn bad_paths(open: Open<'_>) {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    assert!(matches!(open(&missing, &OpenOptions::default()), Err(OpenError::Io { .. })));
    assert!(matches!(open(dir.path(), &OpenOptions::default()), Err(OpenError::NotAFile { .. })));
}

/// A random data file: keys from a tiny alphabet (so prefixes and duplicates
/// are common), both separators, CRLF, odd bytes in values, optional final newline.
pub fn data_file() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    let key = prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'\r', 0xff]), 1..4);
    let value = prop::collection::vec(prop::sample::select(vec![b'x', b' ', b'\t', b'\r', 0x80, b'k']), 0..6);
    // Separator: mostly space or tab; sometimes none (a malformed line).
    let sep = prop::sample::select(vec![Some(b' '), Some(b' '), Some(b'\t'), Some(b'\t'), None]);
    let empty_key = prop::bool::weighted(0.05);
    let line = (key, sep, value, any::<bool>(), empty_key);
    (prop::collection::vec(line, 0..30), any::<bool>()).prop_map(|(lines, final_newline)| {
        let mut data = Vec::new();
        for (key, sep, value, crlf, empty_key) in lines {
            if !empty_key {
                data.extend_from_slice(&key);
            }
            data.extend(sep);
            data.extend_from_slice(&value);
            data.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        if !final_newline {
            data.pop();
        }
        data
    })
}

/// Every check in turn, then `cases` random files: for a strategy served by
/// one running server (`redis`, `redis-cluster`), whose checks must not run
/// in parallel (each new file makes the next open flush and reload it).
pub fn every_check_in_turn(open: Open<'_>, cases: u32) {
    handwritten_cases(open);
    invalid_keys_are_errors(open);
    empty_file_has_no_keys(open);
    malformed_lines(open);
    bad_paths(open);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases, ..ProptestConfig::default() });
    runner.run(&data_file(), |data| random_files(open, &data)).unwrap();
}

pub fn random_files(open: Open<'_>, data: &[u8]) -> Result<(), TestCaseError> {
    let reference = Reference::from_bytes(data);
    with_file(data, |path| {
        let lenient = OpenOptions { lenient: true, ..OpenOptions::default() };
        match open(path, &OpenOptions::default()) {
            Ok(lookup) => {
                prop_assert!(reference.malformed.is_empty());
                assert_agrees(&*lookup, data, &[b"ab", b"zz"]);
            }
            Err(OpenError::Malformed { line, .. }) => prop_assert_eq!(Some(&line), reference.malformed.first()),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
        assert_agrees(&*open(path, &lenient).unwrap(), data, &[b"ab"]);
        Ok(())
    })
}
