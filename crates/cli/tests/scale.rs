//! Scale: cases that cannot fit are skipped with the reason, probes run
//! inside a memory limit they can read back, and slow cases stop at their
//! time budget.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kvbench_results::{CaseStart, Metric, ResultSet, Workload};

fn kvbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvbench")).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A generated file of `keys` keys in `dir`.
fn generated(dir: &Path, keys: &str) -> PathBuf {
    let path = dir.join(format!("{keys}.txt"));
    let out = kvbench(&["gen", "--keys", keys, "--out", path.to_str().unwrap(), "--seed", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    path
}

/// `kvbench suite --quick --runs 1` of `strategies` and `workloads` on `data` with `extra` options; the results it wrote.
fn suite(data: &Path, strategies: &str, workloads: &str, extra: &[&str]) -> (Output, Option<ResultSet>) {
    let json = data.with_extension("json");
    let args = ["suite", "--quick", "--runs", "1", "--no-report", "--strategies", strategies, "--workloads", workloads];
    let files = ["--data", data.to_str().unwrap(), "--results", json.to_str().unwrap()];
    let out = kvbench(&[&args[..], &files, extra].concat());
    (out, kvbench_results::io::read(&json).ok())
}

/// Whether this machine lets kvbench make a memory-limited cgroup (root, a
/// writable memory controller); says why not otherwise, and the test skips:
/// a container may forbid cgroups even to root.
fn cgroups_allowed() -> bool {
    match kvbench_harness::cgroup::MemoryLimit::create(1 << 30) {
        Ok(_) => true,
        Err(e) => {
            eprintln!("skipping: this machine forbids a memory-limited cgroup: {e}");
            false
        }
    }
}

/// The folder of this process's memory cgroup (v1), where kvbench makes its groups.
fn own_group() -> Option<PathBuf> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let path = cgroup.lines().find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_owned()))?;
    Some(Path::new("/sys/fs/cgroup/memory").join(path.trim_start_matches('/')))
}

/// Folders of this test's cgroups left behind (there must be none).
fn leftover_groups() -> Vec<String> {
    let Some(dir) = own_group() else { return Vec::new() };
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with("kvbench-"))
                .collect()
        })
        .unwrap_or_default()
}

/// A run killed before it removed its group leaves it behind; the next run
/// that makes a group removes it (its process is gone and it is empty).
#[test]
fn a_group_left_by_a_killed_run_is_removed_by_the_next() {
    let Some(own) = own_group().filter(|_| cgroups_allowed()) else { return };
    // No process has this id (above any pid_max).
    let orphan = own.join(format!("kvbench-{}-0", u32::MAX));
    std::fs::create_dir(&orphan).unwrap();
    let limit = kvbench_harness::cgroup::MemoryLimit::create(64 << 20).unwrap();
    assert!(!orphan.exists(), "the orphan is gone");
    assert!(limit.dir().exists(), "the new group is made");
}

/// Under a 24 MiB limit, a hashmap of 200K keys (an estimated ~21 MiB on
/// top of the ~4 MiB a probe allocates once inside the limit) is skipped
/// with the reason, and the scan runs inside the limit, which its probe
/// read back from its own cgroup.
#[test]
fn under_a_memory_limit_what_cannot_fit_is_skipped_and_the_rest_runs_inside_it() {
    if !cgroups_allowed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), "200k");
    let (out, results) = suite(&data, "hashmap,mmap-index,scan", "uniform", &["--memory-limit", "24MiB"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", stderr(&out));
    let results = results.unwrap();

    let skipped: Vec<String> = results.skipped.iter().map(|s| s.case.to_string()).collect();
    assert_eq!(skipped, ["hashmap"], "{:?}", results.skipped);
    let why = &results.skipped[0].reason;
    assert!(why.contains("of the memory limit (24 MiB)"), "{why}");
    assert_eq!(results.skipped[0].memory_limit, Some(24 << 20));
    assert!(stdout.contains("hashmap: skipped, needs ~"), "{stdout}");
    assert!(stderr(&out).contains("skipping 200k.txt hashmap: needs ~"), "{}", stderr(&out));

    assert!(!results.records.iter().any(|r| r.case.strategy == "hashmap"));
    for case in ["scan", "mmap-index (reopen)", "mmap-index (build)"] {
        let records: Vec<_> = results.records.iter().filter(|r| r.case.to_string() == case).collect();
        assert!(!records.is_empty(), "{case} ran");
        assert!(records.iter().all(|r| r.memory_limit == Some(24 << 20)), "{case}: the limit read back");
        let has = |m| records.iter().any(|r| r.metric == m && r.workload == Some(Workload::UNIFORM));
        assert!(has(Metric::MajorFaultsPerLookup) && has(Metric::MinorFaultsPerLookup), "{case}: faults recorded");
    }
    assert!(stdout.contains("under a memory limit: files evicted, then read and mapped in"), "{stdout}");
    assert!(leftover_groups().is_empty(), "the run removed its cgroup: {:?}", leftover_groups());
}

/// `--memory-sweep` measures each strategy as it serves under each limit
/// (sizes or multiples of the file), beside the run without one; least
/// memory and the budget are answered from those runs, and the output says so.
#[test]
fn a_memory_sweep_measures_each_strategy_under_each_limit_and_answers_the_budget_from_them() {
    if !cgroups_allowed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), "200k");
    let file = std::fs::metadata(&data).unwrap().len();
    let sweep = ["--memory-sweep=2x,12MiB", "--memory-budget", "12MiB"];
    let (out, results) = suite(&data, "hashmap,mmap-index", "uniform", &sweep);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", stderr(&out));
    let results = results.unwrap();
    let twice = (2 * file) / 4096 * 4096;
    let limits = |case: &str| {
        let mut l: Vec<Option<u64>> =
            results.records.iter().filter(|r| r.case.to_string() == case).map(|r| r.memory_limit).collect();
        l.dedup();
        l.sort();
        l.dedup();
        l
    };
    // The reopened index ran without a limit and under both; the build only without one (a budget is for serving).
    assert_eq!(limits("mmap-index (reopen)"), [None, Some(12 << 20), Some(twice)]);
    assert_eq!(limits("mmap-index (build)"), [None]);
    // A hashmap of a 13 MB file cannot fit 12 MiB: skipped there, with the limit it was skipped under.
    assert!(
        results.skipped.iter().any(|s| s.case.to_string() == "hashmap" && s.memory_limit == Some(12 << 20)),
        "{:?}",
        results.skipped
    );
    assert!(stdout.contains("Under memory limits (200k.txt"), "{stdout}");
    assert!(stdout.contains("12 MiB"), "{stdout}");
    assert!(stdout.contains("p50 within 12 MiB: measured"), "{stdout}");
    assert!(leftover_groups().is_empty(), "the sweep removed its cgroups: {:?}", leftover_groups());
}

/// A probe given a cgroup it cannot join fails with a clear message.
#[test]
fn a_probe_refuses_a_cgroup_it_cannot_join() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), "1k");
    let not_a_group = dir.path().join("no-such-group");
    let plan = kvbench_harness::suite::SuitePlan {
        datasets: Vec::new(),
        cases: Vec::new(),
        workloads: kvbench_harness::suite::default_workloads(),
        runs: 1,
        sequential: false,
        seed: 1,
        key_pool: usize::MAX,
        quick: true,
        lenient: false,
        memory_limit: None,
        case_budget: None,
        prober: kvbench_harness::suite::Prober::InProcess,
    };
    let case = kvbench_harness::suite::Case::new("scan".parse().unwrap());
    let spec = plan.spec(&data, &case, 0, Some(&not_a_group), None);
    let spec_file = dir.path().join("spec.json");
    std::fs::write(&spec_file, serde_json::to_vec(&spec).unwrap()).unwrap();
    let out = kvbench(&["probe", "--spec", spec_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot set a memory limit") && stderr(&out).contains("no-such-group"));
    assert!(!stderr(&out).contains("panicked"));
}

/// A line scan of 200K lines (~2 ms a lookup, or more) with a 1 ms budget
/// times its first workload and leaves the next untimed, saying so.
#[test]
fn a_slow_case_stops_at_its_time_budget_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), "200k");
    let (out, results) = suite(&data, "scan-lines", "uniform;miss", &["--case-budget", "1ms"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", stderr(&out));
    let results = results.unwrap();
    let timed = |w| results.records.iter().find(|r| r.workload == Some(w) && r.metric == Metric::LatencyMax);
    let first = timed(Workload::UNIFORM).unwrap();
    assert!(first.samples.is_some_and(|n| n >= 1), "it says how many lookups it timed: {first:?}");
    assert!(timed(Workload::MISS).is_none(), "{stdout}");
    assert!(stdout.contains("miss: not timed, the case's time budget of 1ms ran out"), "{stdout}");
}

/// `kvbench serve` given a memory-limited cgroup (as `bench macro --memory-limit` starts it)
/// joins it before opening its data, says the limit it read back, and answers; the group
/// is gone once the server stopped.
#[test]
fn a_server_runs_inside_its_memory_limit() {
    use std::io::{BufRead, BufReader};
    if !cgroups_allowed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), "1k");
    let limit = kvbench_harness::cgroup::MemoryLimit::create(256 << 20).unwrap();
    let group = limit.dir().to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvbench"))
        .args(["serve", "--data", data.to_str().unwrap(), "--http", "127.0.0.1:0", "--resp", "off", "--threads", "1"])
        .args(["--cgroup", group.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let in_group = std::fs::read_to_string(group.join("cgroup.procs")).unwrap();
    let pid = child.id();
    // SAFETY: a plain signal to the child this test started.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}{err}");
    assert!(in_group.lines().any(|p| p == pid.to_string()), "{pid} not in {in_group}");
    assert!(err.contains("kvbench serve: under a memory limit of 256 MiB (page cache included)"), "{err}");
    assert!(status.success(), "{err}");
    drop(limit);
    assert!(!group.exists(), "the group is removed once its server stopped");
}

/// `kvbench suite --strategies redis-cluster` starts a local cluster itself,
/// measures the strategy over it like any other, and stops the cluster.
#[test]
fn the_suite_measures_redis_cluster_over_a_cluster_it_starts() {
    if which("redis-server").is_none() && std::env::var_os("CI").is_none() {
        eprintln!("skipping: redis-server is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path(), "2k");
    let (out, results) = suite(&data, "redis-cluster", "uniform", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", stderr(&out));
    let results = results.unwrap();
    // Its first load is its build; the reopen reuses what it loaded.
    for start in [CaseStart::Build, CaseStart::Reopen] {
        let p50 = results
            .records
            .iter()
            .find(|r| r.case.strategy == "redis-cluster" && r.started(start) && r.metric == Metric::LatencyP50);
        assert!(p50.is_some_and(|r| r.value > 0.0), "{start:?}\n{stdout}");
    }
    assert!(stdout.contains("redis-cluster (reopen)") && stdout.contains("redis-cluster (build)"), "{stdout}");
}

/// The path of `program` on `PATH`, if it is there.
fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(program)).find(|p| p.is_file())
}
