//! Fuzzing of the record parser and every index built on it: arbitrary and
//! near-valid data files, opened strict and lenient by every strategy that
//! needs no server, must either fail at the first line the `Reference` finds
//! malformed or answer exactly what the `Reference` answers.
//!
//! The generators are here; the check is `kvbench_fuzz::data_file::check`,
//! which the libFuzzer target `data_file` in `fuzz/` runs too.
//! `cargo test` runs 96 files (about a second); for a long run:
//! `KVBENCH_FUZZ_SECS=600 cargo test --release -p kvbench-lookup --test fuzz -- --nocapture`
//! (or `just fuzz`). The loop itself is `kvbench_fuzz::proptest_loop`.

use kvbench_fuzz::Bytes;
use kvbench_fuzz::data_file::{FileCase, RATIOS, backings, check};
use kvbench_fuzz::proptest_loop::fuzz;
use kvbench_lookup::MAX_KEY_LEN;
use proptest::prelude::*;
use proptest::sample::Index;

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
    let backing = prop::sample::select(backings());
    let absent = prop::collection::vec(key().prop_map(Bytes), 0..6);
    (data, absent, any::<bool>(), prop::sample::select(RATIOS.to_vec()), backing).prop_map(
        |(data, absent, lenient_first, ratio, backing)| FileCase {
            data: Bytes(data),
            absent,
            lenient_first,
            ratio,
            backing,
        },
    )
}

#[test]
fn fuzz_data_files() {
    fuzz("data-file", 96, file_case(), |case| check(&case));
}
