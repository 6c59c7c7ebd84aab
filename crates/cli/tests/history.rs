//! `kvbench history`: runs added one at a time, refused twice, the report
//! naming the commit where a figure stepped (and only that figure), and a
//! change placed against the recent runs.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use kvbench_results::{DEFAULT_VALUE_LEN, DatasetInfo, Metric, Record, ResultSet, RunInfo, Workload};

fn kvbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvbench")).args(args).output().unwrap()
}

/// A run of the CI set on commit `c{i}`: mmap-index steps from 566.5 to 582.5 instructions at c06.
fn run(i: u32) -> ResultSet {
    let mmap = if i < 6 { 566.5 } else { 582.5 };
    run_with(i, mmap)
}

/// A run of the CI set on commit `c{i}` with mmap-index at `mmap` instructions, hashmap at 401.
fn run_with(i: u32, mmap: f64) -> ResultSet {
    let info = RunInfo {
        cpu: "Test CPU".into(),
        cores: 2,
        os: "linux".into(),
        toolchain: "rustc".into(),
        commit: Some(format!("c{i:02}")),
        timestamp: format!("2026-11-30T10:{i:02}:00Z"),
        quick: false,
    };
    let dataset = DatasetInfo::generated(10_000, DEFAULT_VALUE_LEN);
    let mut set = ResultSet::new("gungraun (cargo bench --bench instructions)");
    for (strategy, value) in [("mmap-index", mmap), ("hashmap", 401.0)] {
        set.records.push(Record::new(strategy, &dataset, Some(Workload::UNIFORM), Metric::Instructions, value, &info));
    }
    set
}

#[test]
fn the_history_names_the_commit_where_a_figure_stepped() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let history = history.to_str().unwrap();
    for i in 0..14 {
        let file = dir.path().join(format!("run{i}.json"));
        kvbench_results::io::write(&file, &run(i)).unwrap();
        let out = kvbench(&["history", "add", file.to_str().unwrap(), "--history", history]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let again = kvbench(&["history", "add", dir.path().join("run3.json").to_str().unwrap(), "--history", history]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is in the history already"));

    let out = kvbench(&["history", "report", "--history", history]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("14 runs, 2 figures; 1 with a step or a drift"), "{stdout}");
    let row = stdout.lines().find(|l| l.contains("mmap-index")).unwrap();
    assert!(row.contains("step at c06 (after c05)") && row.contains("+2.8%"), "{row}");
    assert!(!stdout.contains("hashmap 10k"), "hashmap never moved: {stdout}");

    let out_dir = dir.path().join("trend");
    let drawn = kvbench(&["history", "report", "--history", history, "--out", out_dir.to_str().unwrap()]);
    assert!(drawn.status.success(), "{}", String::from_utf8_lossy(&drawn.stderr));
    for ext in ["svg", "png"] {
        let size = std::fs::metadata(out_dir.join(format!("trend-instructions.{ext}"))).unwrap().len();
        assert!(size > 2000, "trend-instructions.{ext}: {size} bytes");
    }
    let svg = std::fs::read_to_string(out_dir.join("trend-instructions.svg")).unwrap();
    assert!(svg.contains("mmap-index") && svg.contains("+2.8% @c06"), "the step is marked with its commit");
    let readme = std::fs::read_to_string(out_dir.join("README.md")).unwrap();
    assert!(readme.contains("step at c06 (after c05)") && readme.contains("![trend-instructions.png]"), "{readme}");
    // +2.8 % is under the gate's 5 % for counts: a change point, not a gate verdict.
    assert!(readme.contains("0 regressed, 0 improved"), "{readme}");
    assert!(std::fs::read_to_string(out_dir.join("index.html")).unwrap().contains("<td>step at c06 (after c05)</td>"));

    let empty = kvbench(&["history", "report", "--history", dir.path().join("none").to_str().unwrap()]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&empty.stderr).contains("panicked"));
}

#[test]
fn a_change_is_placed_against_the_recent_runs_of_main() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let history = history.to_str().unwrap();
    for i in 0..20 {
        let file = dir.path().join(format!("run{i}.json"));
        kvbench_results::io::write(&file, &run(i)).unwrap();
        // Named by a commit date given, as CI names each run by its commit's.
        let date = format!("2026-11-{:02}T09:00:00+00:00", i + 1);
        let out = kvbench(&["history", "add", file.to_str().unwrap(), "--history", history, "--date", &date]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(std::path::Path::new(history).join("2026-11-01T090000+0000-c00.json").exists());

    // The change: mmap-index 5 % above the 582.5 of main's last runs, hashmap as ever.
    let change = dir.path().join("change.json");
    kvbench_results::io::write(&change, &run_with(40, 611.6)).unwrap();
    let md = dir.path().join("trend.md");
    let out = kvbench(&[
        "history",
        "compare",
        change.to_str().unwrap(),
        "--history",
        history,
        "--markdown",
        md.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1 worse than main's recent range, 0 better, 1 within"), "{stdout}");
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.starts_with("### Against the recent history of main"), "{md}");
    let row = md.lines().find(|l| l.starts_with("| mmap-index 10k uniform instructions")).unwrap();
    assert!(row.contains("582.5 – 582.5 (10 runs)") && row.contains("worse than the worst by 5.0 %"), "{row}");
    assert!(row.ends_with("| – |"), "one run above a flat level is not a drift: {row}");
    assert!(!md.contains("| hashmap"), "within its range: {md}");

    let none = kvbench(&[
        "history",
        "compare",
        change.to_str().unwrap(),
        "--history",
        dir.path().join("none").to_str().unwrap(),
    ]);
    assert_eq!(none.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&none.stderr).contains("panicked"));
}
