//! The schema round-trips, refuses other versions, imports criterion output and exports BMF.
#![allow(clippy::unwrap_used)]

use kvbench_results::criterion::{benchmark_id, import};
use kvbench_results::{
    Bucket, CaseId, DEFAULT_VALUE_LEN, DatasetInfo, LatencyHistogram, LoadInfo, Metric, OLDEST_READABLE_VERSION,
    Record, ResultSet, RunInfo, SCHEMA_VERSION, SpreadKind, Unit, Workload, bmf, io,
};

fn run() -> RunInfo {
    RunInfo {
        cpu: "Test CPU".into(),
        cores: 2,
        os: "linux 6.0".into(),
        toolchain: "rustc 1.95.0".into(),
        commit: Some("abc123".into()),
        timestamp: "2026-11-24T10:00:00Z".into(),
        quick: false,
    }
}

fn dataset() -> DatasetInfo {
    DatasetInfo::generated(1_000_000, DEFAULT_VALUE_LEN)
}

#[test]
fn a_result_set_round_trips_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = ResultSet::new("test");
    set.records.push(
        Record::new("hashmap", &dataset(), Some(Workload::UNIFORM), Metric::LatencyP99, 812.5, &run()).with_spread(
            700.0,
            900.0,
            SpreadKind::MinMax,
        ),
    );
    set.records.push(Record::new("mmap-index", &dataset(), None, Metric::AnonBytesPerKey, 0.0, &run()));
    let load = LoadInfo {
        protocol: "resp".into(),
        connections: 64,
        server_threads: 1,
        rate: Some(20_000),
        seed: Some(7),
        client: None,
        pinned: true,
    };
    set.records.push(
        Record::new("hashmap", &dataset(), Some(Workload::UNIFORM), Metric::Throughput, 9e4, &run()).with_load(load),
    );
    let buckets = vec![Bucket { le: 99.0, count: 3 }, Bucket { le: 1e6, count: 1 }];
    let histogram = LatencyHistogram { buckets };
    assert_eq!(histogram.quantiles(), vec![(0.75, 99.0), (1.0, 1e6)]);
    set.records.push(
        Record::new("hashmap", &dataset(), Some(Workload::UNIFORM), Metric::LatencyP50, 99.0, &run())
            .with_histogram(histogram),
    );
    let path = dir.path().join("sub/r.json");
    io::write(&path, &set).unwrap();
    assert_eq!(io::read(&path).unwrap(), set);
    assert_eq!(io::read_all(dir.path().join("sub").as_path()).unwrap(), vec![set.clone()]);
    assert_eq!(set.records[1].unit, Unit::Bytes);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"metric\": \"latency_p99\""), "{text}");
    assert_eq!(set.records[2].unit, Unit::PerSecond);
    assert_ne!(
        set.records[2].key(),
        Record { load: None, ..set.records[2].clone() }.key(),
        "the load is part of the key"
    );
}

#[test]
fn files_of_older_versions_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = ResultSet::new("test");
    set.records.push(Record::new("scan", &dataset(), Some(Workload::MISS), Metric::LatencyP50, 1e6, &run()));
    let current = format!("\"schema_version\":{SCHEMA_VERSION}");
    for version in OLDEST_READABLE_VERSION..SCHEMA_VERSION {
        let old = dir.path().join(format!("v{version}.json"));
        let text = serde_json::to_string(&set).unwrap().replace(&current, &format!("\"schema_version\":{version}"));
        std::fs::write(&old, text).unwrap();
        let read = io::read(&old).unwrap();
        assert_eq!((read.schema_version, &read.records[0].load, &read.records[0].histogram), (version, &None, &None));
    }
}

/// Every results file committed under `results/` reads; those of schemas 4
/// to 7 (labels for cases and workloads) into typed cases and workloads, with
/// the labels people read unchanged.
#[test]
fn the_committed_results_read_into_typed_cases() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
    let mut folders = vec![root];
    let mut read = 0;
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let set = io::read(&path).unwrap();
            let raw: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            // Files of schema 8 on hold typed fields, not labels: they read, and there is no old label to compare.
            let labelled = raw["schema_version"].as_u64().is_some_and(|v| v < 8);
            for (record, raw) in set.records.iter().zip(raw["records"].as_array().unwrap()).filter(|_| labelled) {
                // The old labels, made again from the typed fields.
                assert_eq!(record.case.to_string(), raw["strategy"].as_str().unwrap(), "{}", path.display());
                assert_eq!(record.workload_label(), raw["workload"].as_str().unwrap(), "{}", path.display());
                // No start is left in the name.
                assert_eq!(CaseId::from_label(&record.case.strategy).start, None, "{}", path.display());
            }
            read += 1;
        }
    }
    assert!(read >= 8, "{read} results files read");
}

#[test]
fn other_versions_and_garbage_are_refused_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let future = dir.path().join("future.json");
    std::fs::write(&future, r#"{"schema_version": 99, "source": "x", "records": []}"#).unwrap();
    let err = io::read(&future).unwrap_err().to_string();
    assert!(err.contains("future.json") && err.contains("schema version 99"), "{err}");
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "not json").unwrap();
    assert!(io::read(&garbage).unwrap_err().to_string().contains("not a kvbench results file"));
    assert!(io::read(&dir.path().join("missing.json")).is_err());
}

#[test]
fn criterion_estimates_become_records() {
    let dir = tempfile::tempdir().unwrap();
    let write = |sub: &str, full_id: &str, mean: f64, throughput: &str| {
        let new = dir.path().join(sub).join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("benchmark.json"), format!(r#"{{"group_id":"g","function_id":null,"value_str":null,"throughput":{throughput},"full_id":"{full_id}","directory_name":"{sub}","title":"t"}}"#)).unwrap();
        std::fs::write(new.join("estimates.json"), format!(r#"{{"mean":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{},"upper_bound":{}}},"point_estimate":{mean},"standard_error":1.0}},"median":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":1,"upper_bound":2}},"point_estimate":1.5,"standard_error":0.1}}}}"#, mean - 1.0, mean + 1.0)).unwrap();
    };
    let get_id = benchmark_id("get", &dataset(), Some(&Workload::ZIPF), &"lru(0.5,hashmap)".into());
    assert_eq!(get_id, "get/1M/zipf:0.99/lru(0.5,hashmap)");
    write("get_1M/a", &get_id, 250.0 * 1024.0, r#"{"Elements":1024}"#);
    let open_id = benchmark_id("open", &dataset(), None, &"mmap-index".into());
    write("open_1M/b", &open_id, 1e6, "null");
    write("old/c", "get/1M/uniform/stale", 5.0, "null");
    let wanted = [get_id.clone(), open_id];
    let records = import(dir.path(), &wanted, std::time::SystemTime::UNIX_EPOCH, &[dataset()], &run()).unwrap();
    assert_eq!(records.len(), 2);
    let get = records.iter().find(|r| r.metric == Metric::GetMean).unwrap();
    assert_eq!(
        (get.case.to_string(), get.workload, get.value),
        ("lru(0.5,hashmap)".into(), Some(Workload::ZIPF), 250.0)
    );
    let per_lookup = |x: f64| x / 1024.0;
    let expected = (per_lookup(250.0 * 1024.0 - 1.0), per_lookup(250.0 * 1024.0 + 1.0), SpreadKind::Ci95);
    assert_eq!(get.spread.map(|s| (s.lower, s.upper, s.kind)), Some(expected));
    assert!(records.iter().any(|r| r.metric == Metric::OpenTime && r.is_plain("mmap-index") && r.value == 1e6));
    // Estimates older than the run are another run's: left out.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    assert!(import(dir.path(), &wanted, later, &[dataset()], &run()).unwrap().is_empty());
    let _ = get_id;
}

#[test]
fn bmf_groups_measures_by_benchmark() {
    let records = [
        Record::new("hashmap", &dataset(), Some(Workload::UNIFORM), Metric::LatencyP50, 500.0, &run()).with_spread(
            450.0,
            550.0,
            SpreadKind::MinMax,
        ),
        Record::new("hashmap", &dataset(), Some(Workload::UNIFORM), Metric::LatencyP99, 900.0, &run()),
    ];
    let json = serde_json::to_value(bmf::from_records("suite", &records)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"suite/1M/uniform/hashmap": {
            "latency_p50": {"value": 500.0, "lower_value": 450.0, "upper_value": 550.0},
            "latency_p99": {"value": 900.0}
        }})
    );
}

#[test]
fn a_folder_of_run_folders_reads_as_runs() {
    let dir = tempfile::tempdir().unwrap();
    let set = |value: f64| {
        let mut set = ResultSet::new("test");
        set.records.push(Record::new(
            "hashmap",
            &dataset(),
            Some(Workload::UNIFORM),
            Metric::LookupMean,
            value,
            &run(),
        ));
        set
    };
    io::write(&dir.path().join("side/2/suite.json"), &set(2.0)).unwrap();
    io::write(&dir.path().join("side/1/suite.json"), &set(1.0)).unwrap();
    io::write(&dir.path().join("side/1/instructions.json"), &set(10.0)).unwrap();
    std::fs::create_dir_all(dir.path().join("side/empty")).unwrap();
    let runs = io::read_runs(&dir.path().join("side")).unwrap();
    let values: Vec<Vec<f64>> = runs.iter().map(|run| run.iter().map(|r| r.value).collect()).collect();
    assert_eq!(values, [vec![10.0, 1.0], vec![2.0]], "one run per folder with results, in name order");
    // Results files beside the run folders are one more run; a file is one run.
    io::write(&dir.path().join("side/merged.json"), &set(3.0)).unwrap();
    assert_eq!(io::read_runs(&dir.path().join("side")).unwrap().len(), 3);
    assert_eq!(io::read_runs(&dir.path().join("side/merged.json")).unwrap().len(), 1);
    assert!(io::read_runs(&dir.path().join("missing")).is_err());
}
