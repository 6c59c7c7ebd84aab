//! A time-boxed fuzz loop over proptest strategies, run by the stable
//! `fuzz` tests of kvbench-lookup and kvbench-server (feature `proptest`).
//!
//! It complements the libFuzzer targets (`fuzz/`, nightly): proptest's
//! generators give structured inputs and its shrinking a minimal failing
//! input, with no nightly compiler; libFuzzer's coverage feedback finds what
//! the generators do not aim at. Both run the same checks.
//!
//! - By default (`cargo test`), a target runs a small fixed number of cases
//!   from a fixed seed, so a CI failure reproduces on every machine.
//! - `KVBENCH_FUZZ_SECS=600` loops instead, with a fresh random seed per batch,
//!   until the time is up; it prints the executions run and every distinct
//!   failure with its seed and minimal input, then fails if there was one.
//! - `KVBENCH_FUZZ_SEED=N` replays the batch of one seed (with or without SECS).

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

/// The seed of the quick run, so `cargo test` is deterministic.
const QUICK_SEED: u64 = 0x6b76_6265_6e63_6801;
/// A batch of the long run aims to take about this long, so the deadline is
/// checked often without paying a runner's set-up for every case.
const BATCH_TARGET: Duration = Duration::from_millis(500);
/// Distinct failures kept for the final report; later ones are only counted.
const MAX_REPORTED: usize = 10;

/// Runs `check` (one of this crate's, which panic on a disagreement) on
/// inputs from `strategy`: `quick_cases` of them normally, or as many as fit
/// in `KVBENCH_FUZZ_SECS` seconds; panics with the minimal failing input if
/// any case fails.
pub fn fuzz<S>(name: &str, quick_cases: u32, strategy: S, check: impl Fn(S::Value))
where
    S: Strategy,
{
    let seed = env_u64("KVBENCH_FUZZ_SEED");
    let executions = Cell::new(0u64);
    // proptest turns a panic in the test into a failing case and shrinks it.
    let counted = |value: S::Value| -> Result<(), TestCaseError> {
        executions.set(executions.get() + 1);
        check(value);
        Ok(())
    };
    let Some(seconds) = env_u64("KVBENCH_FUZZ_SECS") else {
        let seed = seed.unwrap_or(QUICK_SEED);
        if let Err(failure) = run_batch(&strategy, &counted, seed, quick_cases) {
            panic!("fuzz {name}: {failure}\n(replay with KVBENCH_FUZZ_SEED={seed})");
        }
        return;
    };
    // Shrinking re-runs a failing case many times; each panic would print its
    // message and backtrace, burying the summary. The messages are kept in the
    // failure reports instead.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let (mut batches, mut cases, mut failing_batches) = (0u64, 16u32, 0u64);
    let mut failures: Vec<String> = Vec::new();
    loop {
        let batch_seed = seed.unwrap_or_else(random_seed);
        let batch_start = Instant::now();
        batches += 1;
        if let Err(failure) = run_batch(&strategy, &counted, batch_seed, cases) {
            failing_batches += 1;
            let report = format!("seed {batch_seed}: {failure}");
            // Failures are told apart by their first line (the assertion or panic message).
            let first_line = |s: &str| s.lines().nth(1).unwrap_or_default().to_owned();
            if failures.len() < MAX_REPORTED && !failures.iter().any(|f| first_line(f) == first_line(&report)) {
                println!("fuzz {name}: FAILURE {report}");
                failures.push(report);
            }
        }
        if seed.is_some() || Instant::now() >= deadline {
            break;
        }
        // Grow or shrink batches toward the target duration.
        cases = if batch_start.elapsed() < BATCH_TARGET / 2 { cases.saturating_mul(2) } else { cases.div_ceil(2) };
    }
    std::panic::set_hook(previous_hook);
    println!(
        "fuzz {name}: {} executions in {batches} batches (fresh seeds) over {:.0} s; {failing_batches} failing batches, {} distinct failures",
        executions.get(),
        start.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(failures.is_empty(), "fuzz {name} failed:\n{}", failures.join("\n"));
}

/// One proptest run of `cases` cases from `seed`; the error is the failure
/// reason and the minimal (shrunk) input.
fn run_batch<S>(
    strategy: &S,
    test: &impl Fn(S::Value) -> Result<(), TestCaseError>,
    seed: u64,
    cases: u32,
) -> Result<(), String>
where
    S: Strategy,
{
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        // Regressions are kept as corpus files and replayed by plain tests instead.
        failure_persistence: None,
        // Bound shrinking, so one failure cannot eat the whole time budget.
        max_shrink_time: 60_000,
        ..Config::default()
    };
    TestRunner::new(config).run(strategy, test).map_err(|err| match err {
        TestError::Fail(reason, minimal) => format!("failed\n{reason}\nminimal input: {minimal:#?}"),
        TestError::Abort(reason) => format!("aborted\n{reason}"),
    })
}

/// A fresh random seed (std's per-process random keys; no extra dependency).
fn random_seed() -> u64 {
    RandomState::new().hash_one(Instant::now())
}

/// A number from the environment; an unset variable is `None`, a malformed one a panic.
fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(value.trim().parse().unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")))
}
