//! Fuzzing of the record parser and every index built on it: arbitrary and
//! near-valid data files, opened strict and lenient by every strategy that
//! needs no server, must either fail at the first line the `Reference` finds
//! malformed or answer exactly what the `Reference` answers.
//!
//! `cargo test` runs 96 files (about a second); for a long run:
//! `KVBENCH_FUZZ_SECS=600 cargo test --release -p kvbench-lookup --test fuzz -- --nocapture`
//! (or `just fuzz`). The loop itself is in `common/fuzz_loop.rs`.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/fuzz_loop.rs"]
mod fuzz_loop;

use std::path::Path;
use std::time::Duration;

use common::{Opened, assert_agrees, with_file};
use fuzz_loop::{Bytes, fuzz};
use kvbench_lookup::record::MAX_KEY_LEN;
use kvbench_lookup::reference::Reference;
use kvbench_lookup::warming::Warming;
use kvbench_lookup::{OpenError, OpenOptions, Strategy as Chosen, StrategyKind, open};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

/// A way to open a data file, and its name in failure messages.
type Opener = (String, Box<dyn Fn(&Path, &OpenOptions) -> Opened>);

/// One fuzz case: a data file and how to look at it.
#[derive(Clone, Debug)]
struct FileCase {
    /// The file's bytes.
    data: Bytes,
    /// Keys to ask for besides the file's own (mostly absent, some invalid).
    absent: Vec<Bytes>,
    /// Open leniently first, so a strict open meets a sidecar built over skipped lines.
    lenient_first: bool,
    /// The `lru` strategy's cache ratio.
    ratio: f64,
    /// The strategy behind `lru`.
    backing: StrategyKind,
}

/// Keys a record may have: a tiny alphabet (so duplicates and prefixes are
/// common), any bytes but separators, and lengths up to the limit.
fn valid_key() -> impl Strategy<Value = Vec<u8>> {
    let tiny = prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'\r', 0xff]), 1..4);
    let any_bytes =
        prop::collection::vec(any::<u8>().prop_filter("a key ends at these", |b| !b" \t\n".contains(b)), 1..20);
    let near_limit = (MAX_KEY_LEN - 3..=MAX_KEY_LEN).prop_map(|n| vec![b'k'; n]);
    prop_oneof![6 => tiny, 2 => any_bytes, 1 => near_limit]
}

/// Keys of every class, valid or not (empty, over the limit).
fn key() -> impl Strategy<Value = Vec<u8>> {
    let too_long = (MAX_KEY_LEN + 1..MAX_KEY_LEN + 3).prop_map(|n| vec![b'k'; n]);
    prop_oneof![8 => valid_key(), 1 => too_long, 1 => Just(Vec::new())]
}

/// Files of `<key><separator><value><line end>` lines, each flawed with a
/// probability picked per file (none, few, many): no separator, an empty or
/// too long key, a blank line, a lone CR that joins two lines, a missing final
/// newline; valid lines use both separators, runs of them, CRLF and CRCRLF.
fn near_valid_file() -> impl Strategy<Value = Vec<u8>> {
    let value = || {
        prop_oneof![
            prop::collection::vec(prop::sample::select(vec![b'x', b' ', b'\t', b'\r', 0x80, b'k', 0]), 0..8),
            prop::collection::vec(any::<u8>().prop_filter("a value ends at a newline", |&b| b != b'\n'), 0..30),
        ]
    };
    let line = move |flaw_rate: f64| {
        let clean = (
            valid_key(),
            prop::sample::select(vec![&b" "[..], b"\t", b"  ", b"\t "]),
            value(),
            prop::sample::select(vec![&b"\n"[..], b"\r\n", b"\r\r\n"]),
        );
        let any = (
            key(),
            prop::sample::select(vec![&b""[..], b" ", b"\t"]),
            value(),
            prop::sample::select(vec![&b"\n\n"[..], b"\r", b"\n"]),
        );
        (prop::bool::weighted(flaw_rate), clean, any).prop_map(|(flawed, clean, any)| {
            let (k, s, v, e) = if flawed { any } else { clean };
            [&k[..], s, &v, e].concat()
        })
    };
    let lines =
        prop::sample::select(vec![0.0, 0.03, 0.3]).prop_flat_map(move |rate| prop::collection::vec(line(rate), 0..30));
    (lines, any::<bool>()).prop_map(|(lines, final_newline)| {
        let mut data = lines.concat();
        if !final_newline && data.ends_with(b"\n") {
            data.pop();
        }
        data
    })
}

/// Any bytes, weighted toward those the format gives a meaning to.
fn arbitrary_file() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![any::<u8>(), prop::sample::select(vec![b'\n', b' ', b'\t', b'\r', b'a'])];
    prop::collection::vec(byte, 0..300)
}

/// A near-valid file with one or two ~1 MiB lines inserted at line starts, so
/// the parser splits it into several parallel chunks whose boundaries fall in
/// varied places (line numbers and "first wins" must hold across chunks).
fn multi_chunk_file() -> impl Strategy<Value = Vec<u8>> {
    let filler = (any::<Index>(), 900_000usize..1_200_000);
    (near_valid_file(), prop::collection::vec(filler, 1..3)).prop_map(|(mut data, fillers)| {
        for (n, (at, len)) in fillers.into_iter().enumerate() {
            let starts: Vec<usize> =
                (0..=data.len()).filter(|&p| p == 0 || (data[p - 1] == b'\n' && p < data.len())).collect();
            let at = starts[at.index(starts.len())];
            let line = [format!("filler{n} ").into_bytes(), vec![b'x'; len], b"\n".to_vec()].concat();
            data.splice(at..at, line);
        }
        data
    })
}

/// Every kind of file, and how to look at it.
fn file_case() -> impl Strategy<Value = FileCase> {
    let data = prop_oneof![20 => near_valid_file(), 12 => arbitrary_file(), 1 => multi_chunk_file()];
    let backing = prop::sample::select(
        StrategyKind::ALL
            .into_iter()
            .filter(|k| !matches!(k, StrategyKind::Lru | StrategyKind::Redis))
            .collect::<Vec<_>>(),
    );
    let absent = prop::collection::vec(key().prop_map(Bytes), 0..6);
    (data, absent, any::<bool>(), prop::sample::select(vec![0.1, 0.5, 1.0]), backing).prop_map(
        |(data, absent, lenient_first, ratio, backing)| FileCase {
            data: Bytes(data),
            absent,
            lenient_first,
            ratio,
            backing,
        },
    )
}

/// Every way to open a file that needs no server: each registry kind (`lru`
/// over the case's backing; `redis` is left to `tests/redis.rs`), plus
/// `warming` pinned before and after its map is built (the registry's races the build).
fn openers(ratio: f64, backing: StrategyKind) -> Vec<Opener> {
    let mut openers: Vec<Opener> = Vec::new();
    for kind in StrategyKind::ALL {
        let strategy = match kind {
            StrategyKind::Redis => continue,
            kind => Chosen::new(kind, ratio, backing).unwrap(),
        };
        openers.push((strategy.to_string(), Box::new(move |path, opts| open(path, &strategy, opts))));
    }
    openers.push((
        "warming (never built)".into(),
        Box::new(|path, opts| {
            let (warming, _never_started) = Warming::open_deferred(path, opts)?;
            Ok(Box::new(warming))
        }),
    ));
    openers.push((
        "warming (built)".into(),
        Box::new(|path, opts| {
            let warming = Warming::open(path, opts)?;
            assert!(warming.wait_ready(Duration::from_secs(60)), "warming never got ready");
            Ok(Box::new(warming))
        }),
    ));
    openers
}

/// Opens the case's file every way, strict and lenient, and checks each
/// against the reference: errors, counts, and the answer for every key.
fn check_file(case: FileCase) -> Result<(), TestCaseError> {
    let data = &case.data.0;
    let reference = Reference::from_bytes(data);
    let absent: Vec<&[u8]> = case.absent.iter().map(|k| &k.0[..]).collect();
    let modes = if case.lenient_first { [true, false] } else { [false, true] };
    with_file(data, |path| {
        for (name, opener) in openers(case.ratio, case.backing) {
            for lenient in modes {
                let opts = OpenOptions { lenient, ..OpenOptions::default() };
                match opener(path, &opts) {
                    Ok(lookup) => {
                        prop_assert!(
                            lenient || reference.malformed.is_empty(),
                            "{name}: strict open accepted malformed lines {:?}",
                            reference.malformed
                        );
                        let info = lookup.info();
                        let records = (reference.len() as u64) + reference.duplicates;
                        prop_assert!(info.records.is_none_or(|r| r == records), "{name}: records {info:?}");
                        prop_assert!(info.keys.is_none_or(|k| k == reference.len() as u64), "{name}: keys {info:?}");
                        let duplicates = reference.duplicates;
                        prop_assert!(info.duplicates.is_none_or(|d| d == duplicates), "{name}: duplicates {info:?}");
                        let skipped = if lenient { reference.malformed.len() as u64 } else { 0 };
                        prop_assert_eq!(info.skipped, skipped, "{} lenient={}: skipped", name, lenient);
                        assert_agrees(&*lookup, data, &absent);
                    }
                    Err(OpenError::Malformed { path: at, line, .. }) if !lenient => {
                        prop_assert_eq!(&at, path);
                        prop_assert_eq!(Some(&line), reference.malformed.first(), "{}: malformed line", name);
                    }
                    Err(e) => prop_assert!(false, "{name} lenient={lenient}: unexpected error {e}"),
                }
            }
        }
        Ok(())
    })
}

#[test]
fn fuzz_data_files() {
    fuzz("data-file", 96, file_case(), check_file);
}
