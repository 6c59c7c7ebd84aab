//! One differential suite, run against every strategy (and configuration):
//! each must answer exactly what the simple `Reference` answers.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use kvbench_lookup::Strategy as Chosen;
use kvbench_lookup::cached::Cached;
use kvbench_lookup::error::{KeyFault, LineFault};
use kvbench_lookup::reference::Reference;
use kvbench_lookup::warming::Warming;
use kvbench_lookup::{Lookup, LookupError, OpenError, OpenOptions, StrategyKind, open};
use proptest::prelude::*;

type Opened = Result<Box<dyn Lookup>, OpenError>;

/// Writes `data` to a fresh file and opens it with `open`.
fn with_file<T>(data: &[u8], f: impl FnOnce(&Path) -> T) -> T {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.txt");
    std::fs::write(&path, data).unwrap();
    f(&path)
}

/// Asserts `lookup` agrees with the reference on every key it knows, on
/// `extra` keys, and on prefixes/extensions of its keys; each key is asked
/// twice so caches answer the second time.
fn assert_agrees(lookup: &dyn Lookup, data: &[u8], extra: &[&[u8]]) {
    let reference = Reference::from_bytes(data);
    let mut keys: Vec<Vec<u8>> = reference.keys().map(<[u8]>::to_vec).collect();
    for key in reference.keys() {
        keys.push(key[..key.len() - 1].to_vec());
        keys.push([key, b"x"].concat());
    }
    keys.extend(extra.iter().map(|k| k.to_vec()));
    for round in 0..2 {
        for key in &keys {
            let got = lookup.get(key);
            match reference.get(key) {
                Ok(want) => {
                    let got = got.unwrap_or_else(|e| panic!("{}: {key:?}: {e}", lookup.info().name));
                    assert_eq!(
                        got.as_deref(),
                        want.as_deref(),
                        "{} round {round}, key {:?}",
                        lookup.info().name,
                        String::from_utf8_lossy(key)
                    );
                }
                Err(_) => assert!(matches!(got, Err(LookupError::InvalidKey(_))), "{key:?}"),
            }
        }
    }
}

const HANDWRITTEN: &[u8] = b"apple red fruit\n\
app short\n\
apple green DUPLICATE\n\
tab\tseparated value\n\
crlf windows line\r\n\
spaces  two leading spaces kept\n\
empty \n\
bin \xff\xfe not utf8\n\
long-key-that-is-a-prefix-of-nothing x\n\
last no newline";

fn handwritten_cases(open: fn(&Path, &OpenOptions) -> Opened) {
    with_file(HANDWRITTEN, |path| {
        let lookup = open(path, &OpenOptions::default()).unwrap();
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

fn invalid_keys_are_errors(open: fn(&Path, &OpenOptions) -> Opened) {
    with_file(HANDWRITTEN, |path| {
        let lookup = open(path, &OpenOptions::default()).unwrap();
        let too_long = vec![b'k'; kvbench_lookup::record::MAX_KEY_LEN + 1];
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

fn empty_file_has_no_keys(open: fn(&Path, &OpenOptions) -> Opened) {
    with_file(b"", |path| {
        let lookup = open(path, &OpenOptions::default()).unwrap();
        assert!(lookup.get(b"anything").unwrap().is_none());
    });
}

fn malformed_lines(open: fn(&Path, &OpenOptions) -> Opened) {
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

fn bad_paths(open: fn(&Path, &OpenOptions) -> Opened) {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    assert!(matches!(open(&missing, &OpenOptions::default()), Err(OpenError::Io { .. })));
    assert!(matches!(open(dir.path(), &OpenOptions::default()), Err(OpenError::NotAFile { .. })));
}

/// A random data file: keys from a tiny alphabet (so prefixes and duplicates
/// are common), both separators, CRLF, odd bytes in values, optional final newline.
fn data_file() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
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

fn random_files(open: fn(&Path, &OpenOptions) -> Opened, data: &[u8]) -> Result<(), TestCaseError> {
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

macro_rules! strategy_suite {
    ($($module:ident => $open:expr,)*) => {$(
        mod $module {
            use super::*;
            const OPEN: fn(&Path, &OpenOptions) -> Opened = $open;
            #[test] fn handwritten() { handwritten_cases(OPEN) }
            #[test] fn invalid_keys() { invalid_keys_are_errors(OPEN) }
            #[test] fn empty_file() { empty_file_has_no_keys(OPEN) }
            #[test] fn malformed() { malformed_lines(OPEN) }
            #[test] fn paths() { bad_paths(OPEN) }
            proptest! {
                #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
                #[test] fn random(data in data_file()) { random_files(OPEN, &data)? }
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
    lru_10_hashmap => |p, o| by_name("lru(0.1,hashmap)")(p, o),
    lru_50_mmap_index => |p, o| by_name("lru(0.5,mmap-index)")(p, o),
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
        let cache = Cached::new(inner, 1.0).unwrap();
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
        let cache = Cached::new(inner, 0.1).unwrap();
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
            assert!(matches!(Cached::new(inner, ratio), Err(OpenError::Config(_))));
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
        // Replace the file atomically, as the README recommends, before the build runs.
        let next = path.with_extension("new");
        std::fs::write(&next, b"apple changed\n").unwrap();
        std::fs::rename(&next, path).unwrap();
        start.start();
        assert!(w.wait_ready(Duration::from_secs(30)));
        assert_eq!(w.get(b"apple").unwrap().as_deref(), Some(&b"red fruit"[..]));
        assert_eq!(w.get(b"tab").unwrap().as_deref(), Some(&b"separated value"[..]));
    });
}
