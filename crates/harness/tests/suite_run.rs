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
        sequential: false,
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

/// Records the plan a run announces, with the rest of what `Seen` sees.
#[derive(Default)]
struct Planning {
    seen: Seen,
    planned: Vec<suite::Planned>,
}

impl Progress for Planning {
    fn start(&mut self, total: u64) {
        self.seen.start(total);
    }
    fn doing(&mut self, what: &str) {
        self.seen.doing(what);
    }
    fn done(&mut self, steps: u64) {
        self.seen.done(steps);
    }
    fn plan(&mut self, planned: &suite::Planned) {
        self.planned.push(planned.clone());
    }
}

#[test]
fn a_sequential_suite_runs_every_case_once_and_again_only_for_its_contested_goals() {
    let dir = tempfile::tempdir().unwrap();
    let plan = SuitePlan { sequential: true, runs: 3, ..plan(dir.path(), "hashmap,scan,phf-index") };
    let mut progress = Planning::default();
    let outcome = suite::run(&plan, &mut progress).unwrap();
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);

    // The plan is said once, before any run: every case once first, at most every case 3 times.
    let [planned] = &progress.planned[..] else { panic!("one plan: {:?}", progress.planned) };
    let cases = plan.cases.len() as u64;
    assert_eq!((planned.cases as u64, planned.datasets, planned.first_probes), (cases, 1, cases));
    assert_eq!(planned.most_probes, cases * 3);
    assert!(planned.time.0 <= planned.time.1 && planned.time.0 > std::time::Duration::ZERO, "{planned:?}");
    assert_eq!(progress.seen.done, progress.seen.total, "every run announced was made");

    let [d] = &outcome.datasets[..] else { panic!("one dataset") };
    let runs = |case: &str, workload: Option<Workload>, metric: Metric| {
        let r = d
            .records
            .iter()
            .find(|r| r.case == CaseId::from_label(case) && r.workload == workload && r.metric == metric);
        r.unwrap_or_else(|| panic!("{case} {metric:?}")).runs
    };
    // Memory comes only from whole runs, which every case has exactly one of.
    for case in &plan.cases {
        assert_eq!(runs(&case.label(), None, Metric::AnonRssBytes), Some(1), "{}", case.label());
    }
    // A scan of 2,000 lines is far behind a hash lookup on every goal but memory: it never runs again for its lookups.
    assert_eq!(runs("scan", Some(Workload::UNIFORM), Metric::LatencyP50), Some(1));
    // The miss workload is not what latency is ranked on: later runs never time it.
    for case in &plan.cases {
        if let Some(r) = d
            .records
            .iter()
            .find(|r| r.case == case.id() && r.workload == Some(Workload::MISS) && r.metric == Metric::LatencyP50)
        {
            assert_eq!(r.runs, Some(1), "{}", case.label());
        }
    }
    // Extra runs exist only for cases still contested, and never past --runs.
    assert!(d.records.iter().all(|r| r.runs.is_some_and(|n| (1..=3).contains(&n))));
    let extra = progress.seen.done - cases;
    let over_one: u64 = d.reports.iter().map(|r| r.len() as u64 - 1).sum();
    assert_eq!(extra, over_one, "each later run is a report of its case");
}

#[test]
fn a_probe_killed_under_a_memory_limit_is_said_out_of_memory_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    // A "probe" the kernel kills as its OOM killer would: SIGKILL, once it has read its spec.
    let probe = dir.path().join("killed-probe");
    std::fs::write(&probe, "#!/bin/sh\ncat > /dev/null\nkill -KILL $$\n").unwrap();
    let mut permissions = std::fs::metadata(&probe).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&probe, permissions).unwrap();
    let plan =
        SuitePlan { memory_limit: Some(1 << 30), prober: Prober::Child(probe), ..plan(dir.path(), "hashmap,scan") };
    let mut seen = Seen::default();
    let outcome = match suite::run(&plan, &mut seen) {
        Ok(outcome) => outcome,
        // No memory controller to limit with (not root, no cgroup): nothing to check here.
        Err(suite::SuiteError::Limit(e)) => return eprintln!("skipped: {e}"),
        Err(e) => panic!("{e}"),
    };
    let runs = plan.cases.len() * plan.runs as usize;
    assert_eq!(outcome.failures.len(), runs, "every run was tried: {:?}", outcome.failures);
    for failure in &outcome.failures {
        assert!(failure.contains("out of memory under the limit of 1 GiB (killed by the kernel"), "{failure}");
    }
    assert_eq!(seen.notes.iter().filter(|n| n.contains("out of memory")).count(), runs, "each said as it happened");
}
