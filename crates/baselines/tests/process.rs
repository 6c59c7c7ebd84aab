//! `run_process` on small shell programs: output, exit status, wall time,
//! CPU and peak RSS (of the child and of the descendants it waits for);
//! `measure` over them: run counts, batch growth, checked answers.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use kvbench_baselines::measure::{MeasureError, RunBudget, measure};
use kvbench_baselines::{Program, RunError, run_process};

const MIB: u64 = 1 << 20;

fn sh(script: &str) -> Program {
    Program::new("sh", ["-c", script])
}

#[test]
fn captures_output_status_and_usage() {
    // `sh -c SCRIPT DATA KEY...` sees the data file as $0 and the keys as $@.
    let program = sh(r#"printf '%s|' "$0" "$@"; echo oops >&2; exit 3"#);
    let run = run_process(&program, Path::new("data.txt"), &["a", "b c"]).unwrap();
    assert_eq!(run.stdout, b"data.txt|a|b c|");
    assert_eq!(run.stderr, b"oops\n");
    assert_eq!(run.status.code(), Some(3));
    assert!(run.wall > std::time::Duration::ZERO);
    assert!(run.peak_rss_bytes > 0 && run.peak_rss_bytes < 256 * MIB, "peak RSS {}", run.peak_rss_bytes);
    assert!(run.cpu() <= run.wall * 2, "cpu {:?} wall {:?}", run.cpu(), run.wall);
}

#[test]
fn peak_rss_includes_waited_for_descendants() {
    // dd touches its whole 64 MiB buffer; sh waits for it, so its usage is folded in.
    let run = run_process(&sh("dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; exit 0"), "d".as_ref(), &["k"])
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    assert!(run.peak_rss_bytes >= 64 * MIB, "peak RSS {}", run.peak_rss_bytes);
}

#[test]
fn large_output_on_both_pipes_does_not_deadlock() {
    let run =
        run_process(&sh("head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2"), "d".as_ref(), &["k"]).unwrap();
    assert_eq!((run.stdout.len(), run.stderr.len()), (1_000_000, 1_000_000));
}

#[test]
fn a_missing_program_is_a_spawn_error() {
    let program = Program::new("kvbench-no-such-program", ["--flag"]);
    assert_eq!(program.to_string(), "kvbench-no-such-program --flag");
    let err = run_process(&program, "d".as_ref(), &["k"]).unwrap_err();
    assert!(matches!(err, RunError::Spawn { .. }), "{err}");
    assert!(err.to_string().contains("kvbench-no-such-program --flag"), "{err}");
}

/// A stand-in for a baseline: prints `v-KEY` for each key, and fails on the key `bad`.
fn echo_values() -> Program {
    sh(r#"for k in "$@"; do [ "$k" = bad ] && exit 1; echo "v-$k"; done"#)
}

fn answers(keys: &[&str]) -> Vec<(Vec<u8>, Vec<u8>)> {
    keys.iter().map(|k| (k.as_bytes().to_vec(), format!("v-{k}").into_bytes())).collect()
}

#[test]
fn measure_times_single_runs_and_a_growing_batch() {
    let budget = RunBudget { warmup: 1, runs: 3, batch_time: Duration::from_secs(3600), max_batch: 64, batch_runs: 2 };
    let mut runs = 0;
    let m = measure(&echo_values(), "d".as_ref(), &answers(&["a", "b", "c"]), &budget, || runs += 1).unwrap();
    // 1 warm-up + 3 single runs, then batches of 16 and 64 (the cap; an hour is never reached), then one more 64.
    assert_eq!((runs, m.batch), (1 + 3 + 2 + 1, 64));
    assert!(m.process.min > 0.0 && m.process.min <= m.process.median && m.process.median <= m.process.max);
    assert!(m.peak_rss.median > 0.0 && m.per_lookup.min >= 0.0, "{m:?}");
}

#[test]
fn measure_refuses_wrong_answers_and_failures() {
    let budget = RunBudget::quick();
    let wrong = vec![(b"a".to_vec(), b"not a's value".to_vec())];
    let err = measure(&echo_values(), "d".as_ref(), &wrong, &budget, || {}).unwrap_err();
    assert!(matches!(err, MeasureError::WrongAnswer { keys: 1, .. }), "{err}");
    let err = measure(&echo_values(), "d".as_ref(), &answers(&["bad"]), &budget, || {}).unwrap_err();
    assert!(matches!(err, MeasureError::Failed { .. }) && err.to_string().contains("failed"), "{err}");
}
