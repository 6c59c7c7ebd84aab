//! Replays every input kept in `fuzz/regressions/<target>/` (crashes found
//! by `cargo fuzz`, minimized with `cargo fuzz tmin`, and hand-picked seeds)
//! through its target, so a fixed bug stays fixed on every `cargo test`,
//! with no nightly compiler. A new file there needs no code here.
//!
//! And, so a check cannot go quietly blind, a few cases where the code under
//! test is swapped for a wrong answer must make the checks fail.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use kvbench_fuzz::resp::{Cmd, RespCase, server_limits};
use kvbench_fuzz::{Bytes, TARGETS};
use kvbench_lookup::Reference;

/// Inputs that reproduce a known, still open bug: `(target, file, bug)`.
/// The main replay skips them; `cargo test -p kvbench-fuzz -- --ignored` runs them.
const KNOWN_BUGS: &[(&str, &str, &str)] = &[];

/// The kept inputs of `target`, in name order.
fn regressions(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions").join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> =
        entries.map(|entry| entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path()).collect();
    files.sort();
    files
}

/// Whether `file` of `target` is listed in [`KNOWN_BUGS`].
fn known_bug(target: &str, file: &Path) -> bool {
    KNOWN_BUGS.iter().any(|&(t, name, _)| t == target && file.file_name().is_some_and(|f| f == name))
}

/// Runs the chosen inputs of every target; fails naming each one whose check panicked.
fn replay(choose: impl Fn(&str, &Path) -> bool) -> usize {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (target, check) in TARGETS {
        let files = regressions(target);
        assert!(!files.is_empty(), "fuzz/regressions/{target}/ has no inputs");
        for file in files.iter().filter(|f| choose(target, f)) {
            let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            replayed += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{target} {}: {message}", file.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{} regression inputs failed:\n{}", failures.len(), failures.join("\n"));
    replayed
}

#[test]
fn every_kept_input_passes() {
    let replayed = replay(|target, file| !known_bug(target, file));
    assert!(replayed >= TARGETS.len(), "replayed only {replayed} inputs");
}

#[test]
#[ignore = "inputs of known, open bugs (see KNOWN_BUGS)"]
fn known_bugs_reproduce() {
    replay(known_bug);
}

#[test]
fn resp_check_fails_when_the_stream_is_not_the_commands() {
    let get = Cmd::Array(vec![Bytes(b"GET".to_vec()), Bytes(b"key".to_vec())]);
    let mut case = RespCase::encoded(vec![get], &[], Vec::new(), false, server_limits());
    case.data = Bytes(b"*2\r\n$3\r\nGET\r\n$3\r\nkex\r\n".to_vec());
    let caught = catch_unwind(|| kvbench_fuzz::resp::check(&case));
    assert!(caught.is_err(), "a wrong argument passed the RESP check");
}

#[test]
fn data_file_check_fails_on_a_wrong_value() {
    let wrong = Reference::from_bytes(b"a 1\nb 2\n");
    let caught = catch_unwind(|| kvbench_fuzz::data_file::assert_agrees(&wrong, b"a 1\nb 3\n", &[]));
    assert!(caught.is_err(), "a wrong value passed the data-file check");
}
