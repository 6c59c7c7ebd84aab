//! The order of the workloads changes no figure: an engine whose own cache
//! fills as it serves (`redb(defaults)`, whose cache holds the store;
//! `sqlite(defaults)`, whose 2 MB page cache holds part of it) is let settle
//! before the first workload is timed, so uniform lookups timed first read
//! the store as often as uniform lookups timed after misses. Read calls per
//! lookup are counted, not timed: the check holds on a busy machine. One
//! test in its own binary, since the counts are the whole process's.
#![allow(clippy::unwrap_used)]

use kvbench_harness::suite::{self, Prober, SuitePlan, cases_for, dataset_info};
use kvbench_lookup::Strategy;
use kvbench_results::{Metric, Record};
use kvbench_workload::{Dataset, Workload};

/// Read calls per uniform lookup of each case, with the workloads in `order`.
fn read_calls(dir: &std::path::Path, order: Vec<Workload>) -> Vec<(String, f64)> {
    let dataset = Dataset::new(50_000);
    let (path, _) = dataset.ensure(dir, |_| {}).unwrap();
    let strategies: Vec<Strategy> = ["redb(defaults)", "sqlite(defaults)"].map(|s| s.parse().unwrap()).into();
    let plan = SuitePlan {
        datasets: vec![(dataset_info(&dataset), path)],
        cases: cases_for(&strategies),
        workloads: order,
        runs: 1,
        sequential: true,
        seed: 5,
        key_pool: usize::MAX,
        quick: true,
        lenient: false,
        memory_limit: None,
        case_budget: None,
        prober: Prober::InProcess,
    };
    let outcome = suite::run(&plan, &mut ()).unwrap();
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    let uniform = |r: &&Record| r.workload == Some(Workload::UNIFORM) && r.metric == Metric::ReadCallsPerLookup;
    outcome.results.records.iter().filter(uniform).map(|r| (r.case.to_string(), r.value)).collect()
}

#[test]
fn uniform_timed_first_or_last_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let first = read_calls(dir.path(), vec![Workload::UNIFORM, Workload::MISS]);
    let last = read_calls(dir.path(), vec![Workload::MISS, Workload::UNIFORM]);
    assert_eq!(first.len(), 2, "{first:?}");
    for ((case, a), (_, b)) in first.iter().zip(&last) {
        if case.starts_with("redb") {
            // Its cache holds the whole store once settled: no lookup reads the file.
            assert!(*a < 0.01 && *b < 0.01, "{case}: {a} read calls per lookup first, {b} last");
        } else {
            // SQLite's cache holds part of it: the same share of lookups read a page either way.
            assert!(*a > 0.1 && (a - b).abs() <= 0.1 * a.max(*b), "{case}: {a} first, {b} last");
        }
    }
}
