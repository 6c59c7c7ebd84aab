//! `kvbench history`: runs added one at a time, refused twice, and the
//! report naming the commit where a figure stepped (and only that figure).
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use kvbench_results::{DEFAULT_VALUE_LEN, DatasetInfo, Metric, Record, ResultSet, RunInfo};

fn kvbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvbench")).args(args).output().unwrap()
}

/// A run of the CI set on commit `c{i}`: mmap-index steps from 566.5 to 582.5 instructions at c06.
fn run(i: u32) -> ResultSet {
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
    let mmap = if i < 6 { 566.5 } else { 582.5 };
    for (strategy, value) in [("mmap-index", mmap), ("hashmap", 401.0)] {
        set.records.push(Record::new(strategy, &dataset, "hit", Metric::Instructions, value, &info));
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

    let empty = kvbench(&["history", "report", "--history", dir.path().join("none").to_str().unwrap()]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&empty.stderr).contains("panicked"));
}
