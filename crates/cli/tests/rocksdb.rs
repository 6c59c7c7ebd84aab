//! The `rocksdb` strategy end to end, in a kvbench built with the `rocksdb`
//! feature (`.ci/run` runs this file on its own: the README's test command
//! builds without RocksDB's C++).
#![cfg(feature = "rocksdb")]
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn kvbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvbench")).args(args).output().unwrap()
}

#[test]
fn the_suite_measures_rocksdb_tuned_and_on_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let (json, data_dir) = (dir.path().join("suite.json"), dir.path().join("data"));
    let args = ["suite", "--quick", "--runs", "1", "--no-report", "--keys", "2k", "--workloads", "uniform;miss"];
    let out = kvbench(
        &[
            &args[..],
            &["--strategies", "rocksdb,rocksdb(defaults)"],
            &["--results", json.to_str().unwrap(), "--data-dir", data_dir.to_str().unwrap()],
        ]
        .concat(),
    );
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}\n{stdout}");
    let results = kvbench_results::io::read(&json).unwrap();
    assert!(results.skipped.is_empty(), "{:?}", results.skipped);
    let mut cases: Vec<String> = results.records.iter().map(|r| r.case.to_string()).collect();
    cases.sort_unstable();
    cases.dedup();
    for case in ["rocksdb (build)", "rocksdb (cold)", "rocksdb (reopen)"] {
        assert!(cases.iter().any(|c| c == case), "{case} not in {cases:?}");
    }
    assert!(cases.iter().any(|c| c.starts_with("rocksdb(defaults)")), "{cases:?}");
    // The store is a RocksDB folder inside kvbench's store folder, stamped and reused.
    let store = std::fs::read_dir(&data_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "kvrocksdb"));
    let files = kvbench_lookup::index_files(&store.expect("a store beside the data")).unwrap();
    assert!(files.iter().any(|f| f.extension().is_some_and(|e| e == "sst")), "{files:?}");
    assert!(files.iter().any(|f| f.file_name().unwrap() == "stamp"), "{files:?}");
}
