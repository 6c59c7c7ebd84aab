//! Every baseline that can run here gives exactly the answers of the
//! reference model (`kvbench_lookup::reference`), byte for byte: stdout,
//! `not found:` lines and exit status. Where `python3` or `bash` is missing the
//! baseline is skipped with a message, unless `CI` is set: CI must run them all.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::Path;

use kvbench_baselines::{Baseline, ProcessRun, Program, Scripts, run_process};
use kvbench_lookup::Reference;

/// A small file with every case the format has.
const DATA: &[u8] = b"k1 first line; k1 also appears in values\n\
dup the first record wins\n\
tabfirst\tfirst record, tab-separated\n\
tabfirst second record, space-separated\n\
pre a prefix of the next key\n\
prefix value with  two  spaces \n\
tab\tvalue\twith\ttabs and a k1\n\
crlf windows line\r\n\
cr2 keeps one of two CRs\r\r\n\
empty \n\
dup the second record loses\n\
a.c dot in the key\n\
[x]*^$\\ regex metacharacters\n\
high bytes \xff\xfe and caf\xc3\xa9\n\
inside the word needle is only in this value\n\
k1 a later k1 loses\n\
no-newline the last line";

/// Keys that are not in [`DATA`]: absent, a prefix of keys, a word of a value,
/// what the regex `a.c` would match, a prefix of the last key.
const ABSENT: [&str; 7] = ["absent", "pr", "needle", "value", "abc", "no", "windows"];

fn reference() -> Reference {
    let reference = Reference::from_bytes(DATA);
    assert!(reference.malformed.is_empty(), "every line of DATA is a record");
    // The reference itself follows the format's rules.
    assert_eq!(reference.value(b"dup"), Some(&b"the first record wins"[..]));
    assert_eq!(reference.value(b"tabfirst"), Some(&b"first record, tab-separated"[..]));
    assert_eq!(reference.value(b"crlf"), Some(&b"windows line"[..]));
    assert_eq!(reference.value(b"cr2"), Some(&b"keeps one of two CRs\r"[..]));
    assert_eq!(reference.value(b"no-newline"), Some(&b"the last line"[..]));
    reference
}

/// Whether `baseline` can run here; panics under CI when it cannot.
fn available(baseline: Baseline) -> bool {
    match baseline.check() {
        Ok(()) => true,
        Err(why) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping {baseline}: {why}");
            false
        }
        Err(why) => panic!("{baseline}: {why}; CI must run every baseline"),
    }
}

/// Every present key, interleaved with the absent ones, and `k1` asked twice.
fn mixed_keys(reference: &Reference) -> Vec<String> {
    let present = reference.keys().map(|key| String::from_utf8_lossy(key).into_owned());
    let mut keys: Vec<String> = present.zip(ABSENT.iter().cycle()).flat_map(|(p, a)| [p, a.to_string()]).collect();
    keys.push("k1".to_owned());
    keys
}

/// Checks one run against what `kvbench get` would answer from `reference`.
fn assert_answers(baseline: Baseline, run: &ProcessRun, reference: &Reference, keys: &[String]) {
    let mut stdout = Vec::new();
    let mut stderr = String::new();
    for key in keys {
        match reference.value(key.as_bytes()) {
            Some(value) => {
                stdout.extend_from_slice(value);
                stdout.push(b'\n');
            }
            None => stderr.push_str(&format!("not found: {key}\n")),
        }
    }
    let code = if stderr.is_empty() { 0 } else { 1 };
    let got_stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&stdout), "{baseline}: {got_stderr}");
    assert_eq!(run.stdout, stdout, "{baseline}: stdout bytes");
    assert_eq!(got_stderr, stderr, "{baseline}: stderr");
    assert_eq!(run.status.code(), Some(code), "{baseline}: exit status");
}

/// Runs every available baseline (and `extra` programs) on `data` with `keys`, checking each run.
fn check_all(data: &[u8], keys: &[String], extra: &[(Baseline, Program)]) {
    let reference = Reference::from_bytes(data);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.txt");
    std::fs::write(&path, data).unwrap();
    let scripts = Scripts::install().unwrap();
    let plain = Baseline::ALL.map(|baseline| (baseline, Program::baseline(baseline, &scripts)));
    for (baseline, program) in plain.iter().chain(extra).filter(|(baseline, _)| available(*baseline)) {
        let run = run_process(program, &path, keys).unwrap();
        assert_answers(*baseline, &run, &reference, keys);
    }
}

#[test]
fn present_absent_and_repeated_keys() {
    let reference = reference();
    let scripts = Scripts::install().unwrap();
    // Every key cached, so repeated keys are served from the cache.
    let lru_all = Program::baseline(Baseline::PyLru, &scripts).arg("--cache-ratio").arg("1");
    check_all(DATA, &mixed_keys(&reference), &[(Baseline::PyLru, lru_all)]);
}

#[test]
fn all_found_exits_0() {
    let keys: Vec<String> = reference().keys().map(|key| String::from_utf8_lossy(key).into_owned()).collect();
    check_all(DATA, &keys, &[]);
}

#[test]
fn empty_file_finds_nothing() {
    check_all(b"", &["k1".to_owned(), "absent".to_owned()], &[]);
}

#[test]
fn missing_data_file_exits_2_with_a_message() {
    let scripts = Scripts::install().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-file.txt");
    for baseline in Baseline::ALL.into_iter().filter(|baseline| available(*baseline)) {
        let run = run_process(&Program::baseline(baseline, &scripts), &missing, &["k1"]).unwrap();
        assert_eq!(run.status.code(), Some(2), "{baseline}: exit status");
        assert!(run.stdout.is_empty(), "{baseline}: stdout {:?}", String::from_utf8_lossy(&run.stdout));
        let message = String::from_utf8_lossy(&run.stderr);
        assert!(message.contains("no-such-file.txt"), "{baseline}: message {message:?}");
    }
}

#[test]
fn names_and_scripts_are_distinct() {
    let names: HashSet<_> = Baseline::ALL.iter().map(|b| b.name()).collect();
    let files: HashSet<_> = Baseline::ALL.iter().map(|b| b.script().name).collect();
    assert_eq!((names.len(), files.len()), (Baseline::ALL.len(), Baseline::ALL.len()));
    let scripts = Scripts::install().unwrap();
    for baseline in Baseline::ALL {
        let on_disk = std::fs::read_to_string(scripts.path(baseline)).unwrap();
        assert_eq!(on_disk, baseline.script().text, "{baseline}");
        let in_repo =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/baselines").join(baseline.script().name);
        assert_eq!(std::fs::read_to_string(in_repo).unwrap(), on_disk, "{baseline}");
    }
}
