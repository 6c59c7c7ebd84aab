//! gungraun's `summary.json` files become per-lookup instruction records.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use kvbench_results::gungraun::import;
use kvbench_results::io::ResultsError;
use kvbench_results::{DEFAULT_VALUE_LEN, DatasetInfo, Metric, RunInfo, Unit};

/// A summary as gungraun 0.20 writes it on a second run (`new` and `old`
/// values), trimmed to one counted thread and one idle one; `FUNCTION`, `ID`
/// and `NEW` are filled in per benchmark.
const SUMMARY: &str = r#"{
  "baselines": [null, null],
  "benchmark_exe": "target/release/deps/instructions-c5287ef0cd52375b",
  "benchmark_file": "benches/instructions.rs",
  "description": "(setup(\"scan\", Workload :: MISS, 1_000))",
  "duration_ns": 1605293085,
  "function_name": "FUNCTION",
  "group": "lookups",
  "id": "ID",
  "kind": "LibraryBenchmark",
  "module_path": "instructions::lookups::FUNCTION",
  "output_dir": "target/gungraun/kvbench-benches/instructions/lookups/FUNCTION.ID",
  "package_dir": "",
  "profiles": [
    {
      "data": {
        "parts": [
          {
            "metrics": { "Ir": { "change": { "diff_pct": "0", "factor": "1" }, "values": { "new": NEW, "old": 299063217 } } },
            "tool_run": {
              "new": { "command": "instructions --gungraun-run", "part": 1, "pid": 7368, "thread": 1 },
              "old": { "command": "instructions --gungraun-run", "part": 1, "pid": 7302, "thread": 1 }
            }
          },
          {
            "metrics": { "Ir": { "change": { "diff_pct": "0", "factor": "1" }, "values": { "new": 0, "old": 0 } } },
            "tool_run": {
              "new": { "command": "instructions --gungraun-run", "part": 1, "pid": 7368, "thread": 2 },
              "old": { "command": "instructions --gungraun-run", "part": 1, "pid": 7302, "thread": 2 }
            }
          }
        ],
        "total": {
          "metrics": { "Ir": { "change": { "diff_pct": "0", "factor": "1" }, "values": { "new": NEW, "old": 299063217 } } },
          "regressions": []
        }
      },
      "duration_ns": 1605279034,
      "process_ns": 1605241118,
      "started_at": "2026-11-24T19:20:53.218841905Z",
      "tool": "Callgrind"
    }
  ],
  "project_root": "/work/main",
  "started_at": "2026-11-24T19:20:53.218839281Z",
  "version": "7"
}"#;

/// Writes a summary where gungraun would: `<dir>/<package>/<bench>/<group>/<function>.<id>/summary.json`.
fn write_summary(dir: &Path, function: &str, id: &str, new: u64) {
    let folder = dir.join(format!("kvbench-benches/instructions/lookups/{function}.{id}"));
    std::fs::create_dir_all(&folder).unwrap();
    let text = SUMMARY.replace("FUNCTION", function).replace("ID", id).replace("NEW", &new.to_string());
    std::fs::write(folder.join("summary.json"), text).unwrap();
}

#[test]
fn each_get_benchmark_becomes_instructions_per_lookup() {
    let dir = tempfile::tempdir().unwrap();
    write_summary(dir.path(), "get", "miss_10k_n1k_scan", 299_063_217);
    write_summary(dir.path(), "get", "uniform_10k_n100k_lru10_mmap_index", 172_192_213);
    let run = RunInfo::detect(false);
    let records = import(dir.path(), &run).unwrap();
    let ten_k = DatasetInfo::generated(10_000, DEFAULT_VALUE_LEN);
    let got: Vec<_> = records.iter().map(|r| (r.case.to_string(), r.workload_label(), r.value)).collect();
    let label = |case: &str, workload: &str, v| (case.to_owned(), workload.to_owned(), v);
    assert_eq!(got, [label("scan", "miss", 299_063.217), label("lru(0.1,mmap-index)", "uniform", 1_721.922_13)]);
    for record in &records {
        assert_eq!(record.metric, Metric::Instructions);
        assert_eq!(record.unit, Unit::Count);
        assert_eq!(record.dataset, ten_k);
        assert_eq!(record.spread, None, "counts are deterministic: no spread");
        assert_eq!(record.run, run);
    }
}

#[test]
fn other_benchmarks_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write_summary(dir.path(), "open", "uniform_10k_n1k_scan", 1_000);
    write_summary(dir.path(), "get", "bubble_sort_worst_case", 1_000);
    write_summary(dir.path(), "get", "zipf_10k_n1k_scan", 1_000);
    // Other files beside the summaries (Callgrind's own output) are not read.
    std::fs::write(dir.path().join("kvbench-benches/callgrind.get.out"), "events: Ir\n").unwrap();
    let run = RunInfo::detect(false);
    assert_eq!(import(dir.path(), &run).unwrap(), []);
    assert_eq!(import(&dir.path().join("absent"), &run).unwrap(), []);
}

#[test]
fn a_malformed_summary_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write_summary(dir.path(), "get", "uniform_10k_n1k_scan", 1_000);
    let path = dir.path().join("kvbench-benches/instructions/lookups/get.uniform_10k_n1k_scan/summary.json");
    std::fs::write(&path, "{\"function_name\": \"get\"").unwrap();
    match import(dir.path(), &RunInfo::detect(false)) {
        Err(ResultsError::Parse { path: named, .. }) => assert_eq!(named, path),
        other => panic!("expected a parse error, got {other:?}"),
    }
}
