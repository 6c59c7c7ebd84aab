//! A small suite run through the library alone, no binary: its plan, every
//! run of every case (probed in this process), the records aggregated per
//! case, and a failing run said and counted while the others go on.
#![allow(clippy::unwrap_used)]

use kvbench_harness::alloc::CountingAlloc;
use kvbench_harness::progress::Progress;
use kvbench_harness::suite::{self, Case, Prober, SuitePlan, cases_for, dataset_info};
use kvbench_lookup::Strategy;
use kvbench_results::{CaseId, Metric};
use kvbench_workload::{Dataset, Workload};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// What the run reported, to check it reports as it goes.
#[derive(Default)]
struct Seen {
    total: u64,
    doing: Vec<String>,
    done: u64,
    notes: Vec<String>,
}

impl Progress for Seen {
    fn start(&mut self, total: u64) {
        self.total = total;
    }
    fn doing(&mut self, what: &str) {
        self.doing.push(what.to_owned());
    }
    fn done(&mut self, steps: u64) {
        self.done += steps;
    }
    fn note(&mut self, message: &str) {
        self.notes.push(message.to_owned());
    }
}

fn plan(dir: &std::path::Path, strategies: &str) -> SuitePlan {
    let dataset = Dataset::new(2_000);
    let (path, _) = dataset.ensure(dir, |_| {}).unwrap();
    let strategies: Vec<Strategy> = strategies.split(',').map(|s| s.parse().unwrap()).collect();
    SuitePlan {
        datasets: vec![(dataset_info(&dataset), path)],
        cases: cases_for(&strategies),
        workloads: vec![Workload::UNIFORM, Workload::MISS],
        runs: 2,
        seed: 11,
        key_pool: usize::MAX,
        quick: true,
        lenient: false,
        memory_limit: None,
        case_budget: None,
        prober: Prober::InProcess,
    }
}

#[test]
fn a_small_suite_runs_through_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path(), "hashmap,mmap-index");
    let labels: Vec<String> = plan.cases.iter().map(Case::label).collect();
    assert_eq!(labels, ["hashmap", "mmap-index (build)", "mmap-index (reopen)", "mmap-index (cold)"]);
    let mut seen = Seen::default();
    let outcome = suite::run(&plan, &mut seen).unwrap();

    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert_eq!((seen.total, seen.done), (8, 8), "4 cases x 2 runs, each said done");
    assert!(seen.doing.iter().any(|d| d == "2k hashmap (run 2)"), "{:?}", seen.doing);
    let [d] = &outcome.datasets[..] else { panic!("one dataset") };
    assert_eq!(d.reports.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2, 2], "every run of every case");
    assert!(d.skipped.iter().all(Option::is_none));
    assert_eq!(outcome.results.records, d.records, "the results hold the dataset's records");
    for case in &plan.cases {
        let open = d.records.iter().find(|r| r.case == case.id() && r.metric == Metric::OpenTime).unwrap();
        assert_eq!(open.runs, Some(2), "{}: the median of its two runs", case.label());
    }
    // Warm cases ran both workloads; the cold case only the first, as its first lookups.
    let (hashmap, cold) = (plan.cases[0].id(), plan.cases[3].id());
    let ran = |case: &CaseId, workload: Workload| {
        d.records.iter().any(|r| &r.case == case && r.workload == Some(workload) && r.metric == Metric::LatencyMax)
    };
    assert!(ran(&hashmap, Workload::UNIFORM) && ran(&hashmap, Workload::MISS));
    assert!(ran(&cold, Workload::UNIFORM) && !ran(&cold, Workload::MISS));
    let hits = d.records.iter().find(|r| r.case == hashmap && r.metric == Metric::HitRate);
    assert!(hits.is_none(), "no cache, no hit rate");
}

#[test]
fn a_failing_run_is_said_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = plan(dir.path(), "hashmap");
    // A second file has a malformed line: the case cannot open it.
    let broken = dir.path().join("broken.txt");
    std::fs::write(&broken, "k1 v1\nno-separator\n").unwrap();
    let (info, _) = plan.datasets[0].clone();
    plan.datasets.push((kvbench_results::DatasetInfo { keys: 2, ..info }, broken));
    let mut seen = Seen::default();
    let outcome = suite::run(&plan, &mut seen).unwrap();

    assert_eq!(outcome.failures.len(), 2, "both runs on the broken file: {:?}", outcome.failures);
    assert!(outcome.failures.iter().all(|f| f.contains("broken.txt:2: malformed line")), "{:?}", outcome.failures);
    assert_eq!(seen.notes.len(), 2, "each failure said as it happened: {:?}", seen.notes);
    assert_eq!(outcome.datasets[0].reports[0].len(), 2, "the good file's runs all ran");
    assert!(outcome.datasets[1].reports[0].is_empty());
}

#[test]
fn a_plan_with_no_case_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = plan(dir.path(), "scan");
    plan.cases.clear();
    assert!(matches!(suite::run(&plan, &mut ()), Err(suite::SuiteError::NoCases)));
}

#[test]
fn a_memory_limit_is_refused_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = plan(dir.path(), "scan");
    plan.memory_limit = Some(1 << 30);
    // Refused before any cgroup is made: this process must not join a limit it cannot leave.
    assert!(matches!(suite::run(&plan, &mut ()), Err(suite::SuiteError::LimitInProcess)));
}
