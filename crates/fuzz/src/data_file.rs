//! The record parser and every index built on it: a data file, opened strict
//! and lenient by every strategy that needs no server, must either fail at the
//! first line the [`Reference`] finds malformed or answer exactly what the
//! `Reference` answers (values, counts, and invalid keys refused).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use kvbench_lookup::MAX_KEY_LEN;
use kvbench_lookup::Reference;
use kvbench_lookup::Warming;
use kvbench_lookup::{Lookup, LookupError, OpenError, OpenOptions, Strategy, StrategyKind, open};

use crate::input::{Bytes, Input};

/// What opening a data file gives.
pub type Opened = Result<Box<dyn Lookup>, OpenError>;

/// A way to open a data file, and its name in failure messages.
pub type Opener = (String, Box<dyn Fn(&Path, &OpenOptions) -> Opened>);

/// The `lru` ratios a case picks from.
pub const RATIOS: [f64; 3] = [0.1, 0.5, 1.0];

/// The strategies `lru` may be backed by: every kind this build has but `lru` itself and those needing a server.
pub fn backings() -> Vec<StrategyKind> {
    StrategyKind::ALL.into_iter().filter(|k| *k != StrategyKind::Lru && !k.needs_server() && k.is_built()).collect()
}

/// One fuzz case: a data file and how to look at it.
#[derive(Clone, Debug)]
pub struct FileCase {
    /// The file's bytes.
    pub data: Bytes,
    /// Keys to ask for besides the file's own (mostly absent, some invalid).
    pub absent: Vec<Bytes>,
    /// Open leniently first, so a strict open meets a sidecar built over skipped lines.
    pub lenient_first: bool,
    /// The `lru` strategy's cache ratio.
    pub ratio: f64,
    /// The strategy behind `lru`.
    pub backing: StrategyKind,
}

impl FileCase {
    /// Decodes a libFuzzer input: one header byte, then the file.
    ///
    /// The header's bit 0 opens leniently first, bits 1–2 pick the `lru`
    /// ratio from [`RATIOS`] (mod 3), bits 3–7 its backing from [`backings`]
    /// (mod their number). So `0a 1\nb\t2\n` is that two-line file. The keys
    /// asked for besides the file's own are [`probe_keys`] of the file.
    pub fn from_fuzz(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let header = input.byte();
        let file = input.rest();
        let backings = backings();
        FileCase {
            data: Bytes(file.to_vec()),
            absent: probe_keys(file).into_iter().map(Bytes).collect(),
            lenient_first: header & 1 == 1,
            ratio: RATIOS[usize::from(header >> 1 & 3) % RATIOS.len()],
            backing: backings[usize::from(header >> 3) % backings.len()],
        }
    }
}

/// Keys a file suggests, for a fuzzer that has no separate list: every
/// word (split at space, tab and newline, so values and the keys of
/// malformed lines too), every whole line, the empty key and one over the
/// limit; at most 64 of them, so a big file stays cheap.
pub fn probe_keys(data: &[u8]) -> Vec<Vec<u8>> {
    let words = data.split(|b| b" \t\n".contains(b));
    let lines = data.split(|&b| b == b'\n');
    let mut keys: BTreeSet<Vec<u8>> = words.chain(lines).take(62).map(<[u8]>::to_vec).collect();
    keys.insert(Vec::new());
    keys.insert(vec![b'k'; MAX_KEY_LEN + 1]);
    keys.into_iter().collect()
}

/// Writes `data` to a file in a fresh temporary folder and calls `f` with its path.
pub fn with_file<T>(data: &[u8], f: impl FnOnce(&Path) -> T) -> T {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot make a temporary folder: {e}"));
    let path = dir.path().join("data.txt");
    std::fs::write(&path, data).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    f(&path)
}

/// Asserts `lookup` agrees with the reference on every key it knows, on
/// `extra` keys, and on prefixes/extensions of its keys; each key is asked
/// twice so caches answer the second time.
pub fn assert_agrees(lookup: &dyn Lookup, data: &[u8], extra: &[&[u8]]) {
    let reference = Reference::from_bytes(data);
    let mut keys: Vec<Vec<u8>> = reference.keys().map(<[u8]>::to_vec).collect();
    for key in reference.keys() {
        keys.push(key[..key.len() - 1].to_vec());
        keys.push([key, b"x"].concat());
    }
    keys.extend(extra.iter().map(|k| k.to_vec()));
    assert_batches_agree(lookup, &keys);
    for round in 0..2 {
        for key in &keys {
            let got = lookup.get(key);
            match reference.get(key) {
                Ok(want) => {
                    let got = got.unwrap_or_else(|e| panic!("{}: {:?}: {e}", lookup.info().name, Bytes(key.clone())));
                    assert_eq!(
                        got.as_deref(),
                        want.as_deref(),
                        "{} round {round}, key {:?}",
                        lookup.info().name,
                        Bytes(key.clone())
                    );
                }
                Err(_) => assert!(
                    matches!(got, Err(LookupError::InvalidKey(_))),
                    "{}: invalid key {:?} not refused",
                    lookup.info().name,
                    Bytes(key.clone())
                ),
            }
        }
    }
}

/// Asserts [`Lookup::get_many`] answers every key as [`Lookup::get`] does:
/// all keys in one batch, in batches of 1, 3 and 64, and the list twice over
/// in reverse (every key twice in a batch, hits, misses and invalid keys mixed).
pub fn assert_batches_agree(lookup: &dyn Lookup, keys: &[Vec<u8>]) {
    let name = lookup.info().name;
    let forward: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let twice: Vec<&[u8]> = forward.iter().rev().chain(forward.iter()).copied().collect();
    let mut out = Vec::new();
    for list in [&forward, &twice] {
        for size in [list.len().max(1), 1, 3, 64] {
            for batch in list.chunks(size) {
                lookup.get_many(batch, &mut out);
                assert_eq!(out.len(), batch.len(), "{name}: one answer per key");
                for (key, batched) in batch.iter().zip(&out) {
                    let single = lookup.get(key);
                    let same = match (&single, batched) {
                        (Ok(a), Ok(b)) => a.as_deref() == b.as_deref(),
                        (Err(LookupError::InvalidKey(a)), Err(LookupError::InvalidKey(b))) => a == b,
                        _ => false,
                    };
                    assert!(
                        same,
                        "{name}: batch of {size}, key {:?}: get {single:?}, get_many {batched:?}",
                        Bytes(key.to_vec())
                    );
                }
            }
        }
    }
}

/// Every way to open a file that needs no server: each registry kind this build has (`lru`
/// over `backing`; `redis` and `redis-cluster` are left to kvbench-lookup's
/// `tests/redis.rs` and `tests/redis_cluster.rs`), plus
/// `warming` pinned before and after its map is built (the registry's races the build).
pub fn openers(ratio: f64, backing: StrategyKind) -> Vec<Opener> {
    let mut openers: Vec<Opener> = Vec::new();
    for kind in StrategyKind::ALL {
        if kind.needs_server() || !kind.is_built() {
            continue;
        }
        let strategy = Strategy::new(kind, ratio, backing)
            .unwrap_or_else(|e| panic!("{kind} with ratio {ratio} over {backing}: {e}"));
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
/// against the reference: errors, counts, and the answer for every key;
/// panics on the first disagreement.
pub fn check(case: &FileCase) {
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
                        assert!(
                            lenient || reference.malformed.is_empty(),
                            "{name}: strict open accepted malformed lines {:?}",
                            reference.malformed
                        );
                        let info = lookup.info();
                        let records = (reference.len() as u64) + reference.duplicates;
                        assert!(info.records.is_none_or(|r| r == records), "{name}: records {info:?}");
                        assert!(info.keys.is_none_or(|k| k == reference.len() as u64), "{name}: keys {info:?}");
                        let duplicates = reference.duplicates;
                        assert!(info.duplicates.is_none_or(|d| d == duplicates), "{name}: duplicates {info:?}");
                        let skipped = if lenient { reference.malformed.len() as u64 } else { 0 };
                        assert_eq!(info.skipped, skipped, "{name} lenient={lenient}: skipped");
                        assert_agrees(&*lookup, data, &absent);
                    }
                    Err(OpenError::Malformed { path: at, line, .. }) if !lenient => {
                        assert_eq!(at, path, "{name}: the malformed file's path");
                        assert_eq!(Some(&line), reference.malformed.first(), "{name}: malformed line");
                    }
                    Err(e) => panic!("{name} lenient={lenient}: unexpected error {e}"),
                }
            }
        }
    });
}
