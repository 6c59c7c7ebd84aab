//! The report from a small fixture: every chart file, with its series and
//! axes, and every conclusion with its inputs.
#![allow(clippy::unwrap_used)]

use kvbench_report::conclusions::{Missing, conclusions};
use kvbench_report::data::Source;
use kvbench_report::{Data, generate};
use kvbench_results::names::parse_workload_label;
use kvbench_results::{
    Bucket, CaseId, CaseStart, DEFAULT_VALUE_LEN, DatasetInfo, LatencyHistogram, LoadInfo, MEMCHR_PASS, Metric,
    PYTHON_DICT, REDIS_SERVER, Record, ResultSet, RunInfo, SpreadKind, io,
};

fn run() -> RunInfo {
    RunInfo {
        cpu: "Fixture CPU".into(),
        cores: 2,
        os: "linux 6.0".into(),
        toolchain: "rustc 1.95.0".into(),
        commit: Some("abc123".into()),
        timestamp: "2026-11-24T10:00:00Z".into(),
        quick: false,
    }
}

/// A record named as people read it: `mmap-index (reopen)`, `-` for no workload.
fn record(case: &str, dataset: &DatasetInfo, workload: &str, metric: Metric, value: f64, run: &RunInfo) -> Record {
    let workload = parse_workload_label(workload).unwrap();
    Record::new(CaseId::from_label(case), dataset, workload, metric, value, run)
}

/// The label of `strategy` started `start`: `mmap-index (reopen)`.
fn label(strategy: &str, start: CaseStart) -> String {
    CaseId::new(strategy, Some(start)).to_string()
}

fn ds(keys: u64) -> DatasetInfo {
    DatasetInfo::generated(keys, DEFAULT_VALUE_LEN)
}

/// A suite result set: three strategies on two datasets, with every metric the charts read.
fn suite() -> ResultSet {
    let mut set = ResultSet::new("kvbench suite");
    let reopen = label("mmap-index", CaseStart::Reopen);
    let cases = [("hashmap", 500.0, 90.0), (reopen.as_str(), 600.0, 0.0), ("scan", 1.3e6, 0.0)];
    for keys in [10_000, 1_000_000] {
        let scale = if keys == 10_000 { 0.2 } else { 1.0 };
        for (case, p50, per_key) in cases {
            let rec = |w: &str, m, v| record(case, &ds(keys), w, m, v, &run());
            set.records.push(rec("-", Metric::OpenTime, 1e6 * scale));
            set.records.push(rec("-", Metric::HeapBytes, per_key * keys as f64));
            set.records.push(rec("-", Metric::AnonRssBytes, per_key * keys as f64));
            set.records.push(rec("-", Metric::FileRssBytes, 68.0 * keys as f64));
            set.records.push(rec("-", Metric::AnonBytesPerKey, per_key));
            set.records.push(rec("-", Metric::ResidentBytesPerKey, per_key + 68.0));
            set.records.push(rec("uniform", Metric::LookupMean, p50 * 0.9 * scale));
            set.records.push(rec("uniform", Metric::ChainLatency, p50 * 1.1 * scale));
            for (m, f) in [
                (Metric::LatencyP50, 1.0),
                (Metric::LatencyP90, 1.5),
                (Metric::LatencyP99, 2.0),
                (Metric::LatencyP999, 4.0),
                (Metric::LatencyMax, 50.0),
            ] {
                set.records.push(rec("uniform", m, p50 * f * scale));
            }
            set.records.push(rec("miss", Metric::LookupMean, p50 * 2.0 * scale));
            // Batch sizes sorted as text (4, 64, 256): the single-vs-batched chart must still pick 64.
            for (batch, gain) in [(4, 2.0), (64, 4.0), (256, 4.5)] {
                set.records.push(rec(&format!("uniform,batch={batch}"), Metric::LookupMean, p50 * 0.9 * scale / gain));
            }
        }
        set.records.push(record(MEMCHR_PASS, &ds(keys), "-", Metric::LookupMean, 1.1e6 * scale, &run()));
    }
    set
}

/// A criterion result set with the cache sweep over two backings.
fn criterion() -> ResultSet {
    let mut set = ResultSet::new("criterion (cargo bench --bench lookup)");
    for backing in ["hashmap", "mmap-index"] {
        for w in ["uniform", "zipf:0.99"] {
            set.records.push(record(backing, &ds(1_000_000), w, Metric::GetMean, 550.0, &run()));
            for r in [0.1, 0.5, 1.0] {
                let name = format!("lru({r},{backing})");
                let hit = if w == "uniform" { r } else { 0.7 + r * 0.2 };
                let rec = |m, v| record(&name, &ds(1_000_000), w, m, v, &run());
                set.records.push(rec(Metric::GetMean, 1200.0 - 500.0 * r).with_spread(
                    1000.0,
                    1300.0,
                    SpreadKind::Ci95,
                ));
                set.records.push(rec(Metric::HitRate, hit));
            }
        }
    }
    set
}

/// Load runs: hashmap (1 and 2 threads) and the peers (redis-server over
/// RESP, python-dict over HTTP) over connections, and hashmap open loops.
fn macro_runs() -> ResultSet {
    let mut set = ResultSet::new("kvbench bench macro");
    let load = |protocol: &str, connections, server_threads, rate| LoadInfo {
        protocol: protocol.into(),
        connections,
        server_threads,
        rate,
        seed: None,
        client: None,
        pinned: true,
    };
    let rec = |dataset: &DatasetInfo, strategy: &str, info: LoadInfo, metric, value| {
        record(strategy, dataset, "uniform", metric, value, &run()).with_load(info)
    };
    // A distribution: 90 requests at ~50 µs, 9 at ~200 µs, 1 at ~2 ms.
    let buckets = [(50_000.0, 90), (200_000.0, 9), (2e6, 1)].map(|(le, count)| Bucket { le, count }).to_vec();
    for protocol in ["http", "resp"] {
        for (server, threads) in [("hashmap", 1), ("hashmap", 2), (REDIS_SERVER, 1), (PYTHON_DICT, 1)] {
            if (server, protocol) == (REDIS_SERVER, "http") || (server, protocol) == (PYTHON_DICT, "resp") {
                continue;
            }
            for connections in [1, 16, 64] {
                let c = f64::from(connections);
                let info = load(protocol, connections, threads, None);
                set.records.push(rec(
                    &ds(1_000_000),
                    server,
                    info.clone(),
                    Metric::Throughput,
                    1e4 * c.sqrt() * f64::from(threads),
                ));
                set.records.push(rec(&ds(1_000_000), server, info.clone(), Metric::LatencyP99, 5e4 * c));
                set.records.push(rec(&ds(1_000_000), server, info.clone(), Metric::ServerCpu, 90.0));
                let client = if threads == 1 { 95.0 } else { 60.0 };
                set.records.push(rec(&ds(1_000_000), server, info.clone(), Metric::ClientCpu, client));
                set.records.push(rec(&ds(1_000_000), server, info.clone(), Metric::ServerRss, 100.0 * 1024.0 * 1024.0));
                if connections == 64 {
                    let calls = if server == REDIS_SERVER { 2.0 } else { 2.02 };
                    set.records.push(rec(&ds(1_000_000), server, info.clone(), Metric::SyscallsPerRequest, calls));
                    let p50 = record(server, &ds(1_000_000), "uniform", Metric::LatencyP50, 5e4, &run());
                    let histogram = LatencyHistogram { buckets: buckets.clone() };
                    set.records.push(p50.with_load(info).with_histogram(histogram));
                }
            }
        }
        // Scaling: keys (default values) and value sizes at 100k keys.
        let sized = |value_len: &str| DatasetInfo::generated(100_000, value_len);
        for (dataset, rps) in
            [(ds(10_000), 9e4), (ds(100_000), 8.5e4), (sized("fixed:300"), 7e4), (sized("fixed:3000"), 4e4)]
        {
            set.records.push(rec(&dataset, "hashmap", load(protocol, 64, 1, None), Metric::Throughput, rps));
            set.records.push(rec(&dataset, "hashmap", load(protocol, 64, 1, None), Metric::LatencyP99, 1e10 / rps));
            set.records.push(rec(&dataset, "hashmap", load(protocol, 64, 1, None), Metric::ServerCpu, 99.0));
        }
        for rate in [25_000, 50_000, 90_000] {
            set.records.push(rec(
                &ds(1_000_000),
                "hashmap",
                load(protocol, 64, 1, Some(rate)),
                Metric::LatencyP50,
                40_000.0,
            ));
            set.records.push(rec(
                &ds(1_000_000),
                "hashmap",
                load(protocol, 64, 1, Some(rate)),
                Metric::LatencyP99,
                rate as f64 * 20.0,
            ));
        }
    }
    set
}

fn baselines() -> ResultSet {
    let mut set = ResultSet::new(kvbench_results::BASELINES_SOURCE);
    // (program, per process at 1M, per lookup at 1M, peak RSS at 1M); 10k runs take a tenth.
    let programs = [
        ("bash-grep", 30e6, 20e6, 4e6),
        ("py-dict", 1.5e9, 2e3, 200e6),
        ("py-mmap", 130e6, 40e6, 10e6),
        ("kvbench hashmap", 60e6, 1e3, 80e6),
        ("kvbench mmap-index", 3e6, 1.5e3, 5e6),
    ];
    for keys in [10_000, 1_000_000] {
        let scale = if keys == 10_000 { 0.1 } else { 1.0 };
        for (program, process, lookup, rss) in programs {
            for (metric, value) in
                [(Metric::ProcessTime, process), (Metric::LookupMean, lookup), (Metric::ProcessPeakRss, rss)]
            {
                let v = value * scale;
                let record = record(program, &ds(keys), "uniform", metric, v, &run());
                set.records.push(record.with_spread(v * 0.9, v * 1.2, SpreadKind::MinMax));
            }
        }
    }
    set
}

/// A memory sweep (`kvbench suite --memory-sweep`): three warm cases under
/// limits from 1.5× to 0.1× the file's size on 1M and 10M keys, hashmap only
/// where it fits. Their unlimited points are the suite fixture's at 1M.
fn memory_sweep() -> ResultSet {
    let mut set = ResultSet::new("kvbench suite");
    let (index, phf) = (label("mmap-index", CaseStart::Reopen), label("phf-index", CaseStart::Reopen));
    for (keys, file) in [(1_000_000u64, 68e6), (10_000_000, 680e6)] {
        for (case, p50, fits) in [(index.as_str(), 600.0, 0.1), (phf.as_str(), 400.0, 0.1), ("hashmap", 500.0, 1.5)] {
            for share in [1.5, 1.0, 0.5, 0.25, 0.1] {
                let limit = Some((file * share) as u64);
                if share < fits {
                    continue;
                }
                // Below the file's size, a share of lookups wait for the disk.
                let faults = f64::max(1.0 - share, 0.0);
                let rec = |m, v| {
                    let mut r = record(case, &ds(keys), "uniform", m, v, &run());
                    r.memory_limit = limit;
                    r
                };
                set.records.push(rec(Metric::LatencyP50, p50 + faults * 1e5));
                set.records.push(rec(Metric::LatencyMax, p50 * 50.0 + faults * 1e7));
                set.records.push(rec(Metric::MajorFaultsPerLookup, faults));
            }
        }
    }
    set
}

fn svg(dir: &std::path::Path, stem: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap()
}

#[test]
fn every_chart_is_drawn_with_its_series_and_axes() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    io::write(&results.join("suite.json"), &suite()).unwrap();
    io::write(&results.join("criterion.json"), &criterion()).unwrap();
    io::write(&results.join("macro.json"), &macro_runs()).unwrap();
    io::write(&results.join("baselines.json"), &baselines()).unwrap();
    io::write(&results.join("memory-sweep.json"), &memory_sweep()).unwrap();
    let out = dir.path().join("reports");
    let report = generate(&results, &out).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    for stem in [
        "latency",
        "percentiles",
        "memory",
        "open_time",
        "cache_sweep",
        "tradeoff",
        "concurrency",
        "offered_load",
        "load_distribution",
        "scaling",
        "server_resources",
        "server_efficiency",
        "baselines",
        "batch",
        "batch_sizes",
        "growth",
        "memory_budget",
    ] {
        for ext in ["svg", "png"] {
            let size = std::fs::metadata(out.join(format!("{stem}.{ext}"))).unwrap().len();
            assert!(size > 2000, "{stem}.{ext} is {size} bytes");
        }
    }
    let expect: [(&str, &[&str]); 16] = [
        ("batch_sizes", &["time per key against batch size", "keys per batch (log scale)", "hashmap", "1M keys"]),
        ("batch", &["uniform,batch=64 (square)", "hashmap", "mmap-index (reopen)", "1M keys", "0.25×", "time per key"]),
        (
            "baselines",
            &[
                "bash vs Python vs Rust: ○ 10k keys, ● 1M keys",
                "py-dict",
                "kvbench mmap-index",
                "one more key in a running process",
            ],
        ),
        ("load_distribution", &["HTTP: histogram", "RESP: percentiles", "redis-server, 1 thread", "99.9%", "max"]),
        ("scaling", &["hashmap, 1 thread, HTTP", "hashmap, 1 thread, RESP", "keys (log scale)", "mean value size"]),
        ("server_resources", &["hashmap, 2 threads", "redis-server, 1 thread", "hashmap, 1 thread · 10k", "90 %"]),
        // 80k requests/s on 90 % of a core; 160k on two threads' 90 %.
        (
            "server_efficiency",
            &["hashmap, 2 threads", "redis-server, 1 thread", "89k RESP", "178k HTTP", "2.02 HTTP", "2.00 RESP"],
        ),
        (
            "concurrency",
            &["hashmap, 1 thread", "hashmap, 2 threads", "redis-server, 1 thread", "connections", "RESP: p99 latency"],
        ),
        ("offered_load", &["hashmap, 1 thread p50", "hashmap, 1 thread p99", "offered requests per second"]),
        ("latency", &["hashmap", "mmap-index (reopen)", "scan", "10k keys", "1M keys", "time per lookup (log scale)"]),
        ("percentiles", &["hashmap", "scan", "p50", "p99.9", "max", "percentile"]),
        ("memory", &["hashmap", "anonymous RSS", "file-backed RSS", "MiB", "90.0 B/key"]),
        ("open_time", &["mmap-index (reopen)", "time to open (log scale)"]),
        (
            "cache_sweep",
            &["lru over hashmap", "lru over mmap-index", "hashmap alone", "hit rate (%)", "cache size (% of keys)"],
        ),
        ("tradeoff", &["Pareto frontier", "resident memory per key, anonymous + file-backed", "mmap-index (reopen)"]),
        (
            "memory_budget",
            &[
                "Latency against memory budget, 1M and 10M keys (p50 of uniform lookups, page cache counted)",
                "mmap-index (reopen)",
                "phf-index (reopen)",
                "hashmap",
                "no limit, at its resident memory after lookups",
                "memory limit, page cache counted (log scale)",
                "MiB",
            ],
        ),
    ];
    for (stem, texts) in expect {
        let text = svg(&out, stem);
        for t in texts {
            assert!(text.contains(t), "{stem}.svg lacks {t:?}");
        }
    }
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    for t in [
        "![Lookup latency](latency.png)",
        "## Main table",
        "| hashmap | 1M | 1 ms | 450 ns | 550 ns | 500 ns | 1 µs |",
        "Fixture CPU",
        "## Cache-ratio sweep, 1M keys",
        "## Servers under load",
        "## bash vs Python vs Rust: the table",
        "| py-dict | 150 ms | 200 ns | 19.1 MiB | 1.5 s | 2 µs | 191 MiB |",
        "At 1M keys, as a whole process answering one key: the best Rust, `kvbench mmap-index`, takes 3 ms against 130 ms for the best Python, `py-mmap` (43× faster); the best bash, `bash-grep`, 30 ms",
        "At 1M keys, per lookup in a running process: the best Rust, `kvbench hashmap`, takes 1 µs against 2 µs for the best Python, `py-dict` (2× faster)",
        "| hashmap, 2 threads | 1M | RESP | 160.0k | 178k | 2.02 | 160.0k (64) | 50 µs | 3.2 ms | – | 90 % | 100 MiB | – | 60 % | – |",
        "| hashmap, 1 thread | 100k fixed:3000 | HTTP | 40.0k |",
    ] {
        assert!(readme.contains(t), "README lacks {t:?}:\n{readme}");
    }
    // Conclusions are computed: mmap-index's p50 is 600 / 500 = 1.20x hashmap's.
    assert!(readme.contains("answers in 1.20× the median latency of `hashmap`"), "{readme}");
    assert!(
        readme.contains(
            "the lowest median latency (suite p50, each lookup timed alone, uniform keys) is `hashmap`: 500 ns"
        ),
        "{readme}"
    );
    // Anonymous memory alone would make the index look free; resident memory counts its mapped pages.
    assert!(
        readme.contains(
            "holds no anonymous memory where `hashmap` holds 85.8 MiB, but needs 64.8 MiB resident against 151 MiB"
        ),
        "{readme}"
    );
    // Throughput and latency named apart: 450 ns back to back (2.2M/s) against 550 ns chained.
    assert!(readme.contains("completes a uniform lookup every 450 ns when lookups run back to back"), "{readme}");
    assert!(readme.contains("2.2M lookups/s on one thread), against 550 ns when each waits"), "{readme}");
    assert!(readme.contains("A full `scan` (a miss) takes 2.36× one `memchr` pass"), "{readme}");
    assert!(readme.contains("answers 10 % of uniform lookups and 72 % under Zipf 0.99"), "{readme}");
    assert!(
        readme.contains("answered 80k requests/s, 1.00× `redis-server` (80k) in the same run; p99 3.2 ms vs 3.2 ms"),
        "{readme}"
    );
    assert!(
        readme.contains(
            "Over HTTP, two server threads peaked at 2.00× one thread's best (160k at 64 connections vs 80k at 64)"
        ),
        "{readme}"
    );
}

/// The fixture's four result sets, loaded.
fn fixture() -> Data {
    Data::from_sets(vec![suite(), criterion(), macro_runs(), baselines()])
}

#[test]
fn every_conclusion_finds_its_inputs_in_the_fixture() {
    let found = conclusions(&fixture());
    assert_eq!(found.missing, [], "{found:#?}");
    // 5 from the suite, 2 peers, 2 protocols × threads, 2 baselines, 2 per LRU backing.
    assert_eq!(found.sentences.len(), 5 + 2 + 2 + 2 + 2 * 2, "{found:#?}");
}

#[test]
fn two_threads_trailing_one_are_explained_by_where_the_cpu_went() {
    let mut runs = macro_runs();
    // Two threads now peak below one (64k vs 80k at 64 connections), the
    // generator at 60 % of its CPU beside them against 95 % beside one.
    for r in &mut runs.records {
        if r.metric == Metric::Throughput && r.is_plain("hashmap") && r.load.as_ref().unwrap().server_threads == 2 {
            r.value *= 0.4;
        }
    }
    let found = conclusions(&Data::from_sets(vec![runs]));
    let sentence = found.sentences.iter().find(|s| s.starts_with("Over HTTP, two server threads")).unwrap();
    assert_eq!(
        sentence,
        "Over HTTP, two server threads peaked at 0.80× one thread's best (64k at 64 connections vs 80k at 64): \
         per request the server used 11.2 µs of CPU with one thread and 14.1 µs with two, the load generator 11.9 µs; \
         the generator, one thread, ran at 95 % of a CPU beside one server thread and 60 % beside two, whose second \
         thread shares the generator's CPU: on two CPUs the client needs one of them, and a second server thread \
         takes its time from the client."
    );
}

#[test]
fn a_conclusion_whose_input_is_missing_says_which() {
    let mut without_floor = suite();
    without_floor.records.retain(|r| !r.is_plain(MEMCHR_PASS));
    let found = conclusions(&Data::from_sets(vec![without_floor, criterion(), macro_runs(), baselines()]));
    let inputs = vec![format!("{MEMCHR_PASS} · 1M · - · lookup_mean")];
    assert_eq!(found.missing, [("scan vs memchr", Missing { source: Source::Suite, inputs })]);
    assert!(!found.sentences.iter().any(|s| s.contains("memchr")), "{:#?}", found.sentences);
    // Without load runs, each of their findings says what it looked for.
    let found = conclusions(&Data::from_sets(vec![suite(), criterion(), baselines()]));
    assert_eq!(found.missing.len(), 4, "{found:#?}");
    assert!(found.missing.iter().all(|(_, m)| m.source == Source::Macro), "{found:#?}");
    assert!(found.missing[0].1.inputs.iter().any(|i| i.starts_with(REDIS_SERVER)), "{found:#?}");
}

#[test]
fn partial_results_skip_charts_and_say_which_run_fills_them() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    io::write(&results.join("suite.json"), &suite()).unwrap();
    let report = generate(&results, &dir.path().join("reports")).unwrap();
    assert_eq!(report.skipped.len(), 9, "{:?}", report.skipped);
    assert!(report.skipped[0].contains("cargo bench --bench lookup"));
    assert!(report.skipped[1..8].iter().all(|s| s.contains("kvbench bench")), "{:?}", report.skipped);
    assert!(report.skipped[8].contains("kvbench suite --memory-sweep"), "{:?}", report.skipped);
    let readme = std::fs::read_to_string(dir.path().join("reports/README.md")).unwrap();
    assert!(readme.contains("## Not drawn") && readme.contains("cache_sweep"));
}

#[test]
fn missing_results_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = generate(&dir.path().join("nothing"), &dir.path().join("reports")).unwrap_err().to_string();
    assert!(err.contains("no results in") && err.contains("kvbench suite"), "{err}");
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    assert!(generate(&dir.path().join("empty"), &dir.path().join("reports")).is_err());
}

#[test]
fn the_report_opens_with_what_to_use_computed_from_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let mut set = suite();
    set.memory_budget = Some(100 << 20);
    io::write(&results.join("suite.json"), &set).unwrap();
    generate(&results, &dir.path().join("reports")).unwrap();
    let readme = std::fs::read_to_string(dir.path().join("reports/README.md")).unwrap();
    let at = |needle: &str| readme.find(needle).unwrap_or_else(|| panic!("{needle:?} missing from\n{readme}"));
    assert!(at("## What to use: 1M on this machine") < at("## Main table"), "the report opens with it");
    // hashmap has the lowest p50 (500 vs 600 ns) but 151 MiB resident: within 100 MiB the reopened index wins.
    assert!(readme.contains("| lowest p50 | hashmap | 500 ns | mmap-index (reopen) | 600 ns |"), "{readme}");
    assert!(readme.contains("| p50 within 100 MiB | mmap-index (reopen) | 600 ns | scan |"), "{readme}");
}

/// The fixture's suite with engines beside it at 1M keys: `lmdb` and `fst`
/// built and reopened, and `mmap-index` built too. `lmdb (reopen)` opens
/// fastest; `fst` keeps the least on disk (and, reopened, too few lookups
/// were timed for a p99).
fn suite_with_engines() -> ResultSet {
    let mut set = suite();
    let keys = 1_000_000;
    let rec = |case: &str, w: &str, m, v| record(case, &ds(keys), w, m, v, &run());
    // (case, open, disk B/key, anon B/key, file B/key, p50)
    let cases = [
        ("mmap-index (build)", 4e8, 16.0, 0.0, 68.0, 600.0),
        ("lmdb (build)", 2e9, 60.0, 2.0, 120.0, 800.0),
        ("lmdb (reopen)", 2e4, 60.0, 1.0, 110.0, 700.0),
        ("fst (build)", 1.5e8, 9.5, 0.5, 80.0, 950.0),
        ("fst (reopen)", 3e4, 9.5, 0.5, 78.0, 900.0),
        ("lmdb(defaults) (reopen)", 3e4, 60.0, 1.0, 110.0, 1100.0),
    ];
    for (case, open, disk, anon, file, p50) in cases {
        let spread = |v: f64| rec(case, "-", Metric::OpenTime, v).with_spread(v * 0.9, v * 1.2, SpreadKind::MedianCi);
        set.records.push(spread(open));
        set.records.push(rec(case, "-", Metric::DiskBytesPerKey, disk));
        set.records.push(rec(case, "-", Metric::ReadyTime, open * 1.5));
        set.records.push(rec(
            case,
            "uniform",
            Metric::ReadCallsPerLookup,
            if case.contains("defaults") { 0.5 } else { 0.0 },
        ));
        set.records.push(rec(case, "-", Metric::AnonRssBytes, anon * keys as f64));
        set.records.push(rec(case, "-", Metric::FileRssBytes, file * keys as f64));
        set.records.push(rec(case, "-", Metric::AnonBytesPerKey, anon));
        set.records.push(rec(case, "-", Metric::ResidentBytesPerKey, anon + file));
        set.records.push(rec(case, "uniform", Metric::LatencyP50, p50));
        set.records.push(rec(case, "uniform", Metric::LookupMean, p50 * 0.8));
        set.records.push(rec(case, "uniform,batch=64", Metric::LookupMean, p50 * 0.5));
        let timed = if case == "fst (reopen)" { 100 } else { 1_000 };
        set.records.push(rec(case, "uniform", Metric::LatencyMax, p50 * 40.0).with_samples(timed));
        if timed >= 500 {
            set.records.push(rec(case, "uniform", Metric::LatencyP99, p50 * 3.0).with_samples(timed));
        }
    }
    // mmap-index reopened reuses the sidecar its build wrote.
    set.records.push(rec(&label("mmap-index", CaseStart::Reopen), "-", Metric::DiskBytesPerKey, 16.0));
    set
}

/// The README written from `sets` alone (no charts).
fn readme_of(sets: Vec<ResultSet>) -> String {
    kvbench_report::markdown::render(&Data::from_sets(sets), &[], &[])
}

#[test]
fn the_engines_table_sets_each_engine_beside_our_strategies() {
    let readme = readme_of(vec![suite_with_engines()]);
    let section = &readme[readme.find("## Engines").unwrap_or_else(|| panic!("no engines section:\n{readme}"))..];
    assert!(section.contains("`lmdb` is opened read-only with `MDB_NOLOCK`"), "{section}");
    for row in [
        // hashmap builds at every open and keeps nothing on disk.
        "| hashmap | 1M | 1 ms | – | – | – | 85.8 MiB | 64.8 MiB | 500 ns | 1 µs | 112 ns | – |",
        "| per key in batches of 64 | reads/lookup |",
        // Built and reopened: memory and latency from the reopened case.
        "| mmap-index | 1M | 400 ms -10%/+20% | 1 ms | – | 16.0 | 0 B | 64.8 MiB | 600 ns | 1.2 µs | 135 ns | – |",
        "| lmdb | 1M | 2 s -10%/+20% | 20 µs -10%/+20% | 30 µs | 60.0 | 977 KiB | 105 MiB | 700 ns | 2.1 µs | 350 ns | 0.00 |",
        // The same store on LMDB's defaults, right under it: what the settings buy.
        "| lmdb(defaults) | 1M | – | 30 µs -10%/+20% | 45 µs | 60.0 | 977 KiB | 105 MiB | 1.1 µs | 3.3 µs | 550 ns | 0.50 |",
        // Too few lookups timed for a p99: the slowest, as in the main table.
        "| fst | 1M | 150 ms -10%/+20% | 30 µs -10%/+20% | 45 µs | 9.5 | 488 KiB | 74.4 MiB | 900 ns | max of 100: 36 µs | 450 ns | 0.00 |",
        // At 10k keys only our own strategies ran.
        "| hashmap | 10k |",
    ] {
        assert!(section.contains(row), "engines table lacks {row:?}:\n{section}");
    }
    assert!(!section.contains("| lmdb | 10k |") && !section.contains("| sqlite |"), "{section}");
    let (lmdb, defaults) = (section.find("| lmdb | 1M"), section.find("| lmdb(defaults) | 1M"));
    assert!(lmdb < defaults && section.find("| sqlite").is_none(), "{section}");
    assert!(readme.find("## Main table") < readme.find("## Engines"), "{readme}");
}

#[test]
fn without_engines_there_is_no_engines_table_nor_disk_goal() {
    let readme = readme_of(vec![suite(), criterion(), macro_runs(), baselines()]);
    assert!(!readme.contains("## Engines"), "{readme}");
    assert!(!readme.contains("least disk"), "{readme}");
}

#[test]
fn an_engine_is_recommended_where_it_wins() {
    let readme = readme_of(vec![suite_with_engines()]);
    // Reopening lmdb (ready in 30 µs, after its 2 s build once) beats every other start; fst keeps the least
    // beside the data.
    assert!(
        readme.contains("| fastest start | lmdb (reopen) | 30 µs, +2 s build | fst (reopen) | 45 µs |"),
        "{readme}"
    );
    let disk = "| least disk | fst (reopen) | 9.5 B/key | mmap-index (reopen) | 16.0 B/key |";
    assert!(readme.contains(disk), "{readme}");
    assert!(readme.contains("disk: bytes per key of the index sidecar or engine store"), "{readme}");
    // The 10k dataset has no store beside it: no disk row there.
    let at_10k = &readme[readme.find("## What to use: 10k").unwrap()..readme.find("## What to use: 1M").unwrap()];
    assert!(!at_10k.contains("least disk"), "{at_10k}");
}

#[test]
fn the_charts_that_list_strategies_show_the_engines() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    io::write(&results.join("suite.json"), &suite_with_engines()).unwrap();
    let out = dir.path().join("reports");
    generate(&results, &out).unwrap();
    for stem in ["tradeoff", "latency", "open_time", "memory", "batch", "percentiles"] {
        let text = svg(&out, stem);
        for case in ["lmdb (reopen)", "fst (reopen)"] {
            assert!(text.contains(case), "{stem}.svg lacks {case:?}");
        }
    }
}

/// The suite on 1M and 100M keys, with a case measured under a memory limit and one skipped.
fn suite_at_scale() -> ResultSet {
    let mut set = ResultSet::new("kvbench suite");
    let build = label("mmap-index", CaseStart::Build);
    let reopen = label("mmap-index", CaseStart::Reopen);
    for (keys, scale) in [(1_000_000, 1.0), (100_000_000, 3.0)] {
        for (case, p50) in [("hashmap", 500.0), (build.as_str(), 600.0), (reopen.as_str(), 600.0)] {
            let rec = |w: &str, m, v| record(case, &ds(keys), w, m, v, &run());
            set.records.push(rec("-", Metric::OpenTime, 1e8 * scale));
            set.records.push(rec("-", Metric::ResidentBytesPerKey, 90.0));
            set.records.push(rec("uniform", Metric::LatencyP50, p50 * scale));
            set.records.push(rec("uniform", Metric::LatencyP99, p50 * 2.0 * scale));
        }
    }
    let limited = |m, w: &str, v| {
        let mut r = record(&reopen, &ds(100_000_000), w, m, v, &run());
        r.memory_limit = Some(2 << 30);
        r
    };
    set.records.extend([
        limited(Metric::OpenTime, "-", 2e6),
        limited(Metric::LatencyP50, "uniform", 95_000.0),
        limited(Metric::LatencyMax, "uniform", 9e6),
        limited(Metric::MajorFaultsPerLookup, "uniform", 1.87),
        limited(Metric::DiskReadBytesPerLookup, "uniform", 30_000.0),
    ]);
    set.skipped.push(kvbench_results::Skipped {
        case: "hashmap".into(),
        dataset: ds(100_000_000),
        reason: "needs ~10.3 GiB of memory".into(),
        memory_limit: Some(2 << 30),
    });
    set
}

#[test]
fn growth_factors_limited_runs_and_skipped_cases_are_reported_apart() {
    let readme = readme_of(vec![suite_at_scale()]);
    assert!(readme.contains("## Growth from 1M to 100M keys"), "{readme}");
    let row = readme.lines().find(|l| l.starts_with("| mmap-index |")).unwrap();
    assert_eq!(row.matches("3.00×").count(), 3, "p50, p99 and build grew 3×: {row}");
    assert!(row.contains("1.00×"), "bytes per key stayed flat: {row}");
    assert!(readme.contains("## Under a memory limit"), "{readme}");
    let limited = readme.lines().find(|l| l.starts_with("| mmap-index (reopen) | 100M | 2 GiB")).unwrap();
    assert!(limited.contains("95 µs") && limited.contains("1.87") && limited.contains("max 9 ms"), "{limited}");
    assert!(readme.contains("hashmap on 100M keys under a 2 GiB limit: needs ~10.3 GiB of memory"), "{readme}");
    // The limited figures stay out of the unlimited tables: the main table's 100M reopen p50 is 1.8 µs.
    let main = readme.lines().find(|l| l.starts_with("| mmap-index (reopen) | 100M |")).unwrap();
    assert!(main.contains("1.8 µs") && !main.contains("95 µs"), "{main}");
}

#[test]
fn a_1b_key_projection_is_labelled_and_computed_from_bytes_per_key() {
    let mut cluster = ResultSet::new("kvbench bench macro");
    let load = LoadInfo {
        protocol: "resp".into(),
        connections: 64,
        server_threads: 1,
        rate: None,
        seed: None,
        client: None,
        pinned: true,
    };
    let rss = |strategy: &str, keys, value| {
        record(strategy, &ds(keys), "uniform", Metric::ServerRss, value, &run()).with_load(load.clone())
    };
    // 3 nodes of 70 MB: 210 B/key at 1M keys.
    for node in 1..=3 {
        cluster.records.push(rss(&format!("redis-cluster node {node}"), 1_000_000, 70e6));
    }
    cluster.records.push(rss("redis-cluster nodes", 1_000_000, 210e6));
    let mut suite = suite_at_scale();
    let reopen = label("mmap-index", CaseStart::Reopen);
    suite.records.push(record(&reopen, &ds(100_000_000), "-", Metric::DiskBytesPerKey, 17.7, &run()));
    let readme = readme_of(vec![suite.clone(), cluster.clone()]);
    assert!(readme.contains("## Projection to 1B keys (not measured)"), "{readme}");
    assert!(readme.contains("**A projection, not a measurement:**"));
    // 210 B/key × 1B = 196 GiB in primaries: 5 primaries of 64 GiB filled to 75 % (48 GiB each), and a replica each.
    let row = readme.lines().find(|l| l.starts_with("| redis-cluster (3 nodes measured) | 1M |")).unwrap();
    assert!(row.contains("210.0 B/key") && row.contains("baseline included"), "{row}");
    assert!(row.contains("| 391 GiB (196 GiB in primaries, ×2") && row.contains("5 primaries + 5 replicas"), "{row}");
    // 90 B/key at 100M keys is 9 GB: a figure from past 4 GiB.
    let row = readme.lines().find(|l| l.starts_with("| mmap-index | 100M (past 4 GiB) |")).unwrap();
    assert!(row.contains("90.0 B/key resident") && row.contains("| 84 GiB |") && row.contains("16 GiB index"), "{row}");
    // Loaded at 100k keys too (30 MB: mostly the nodes' empty baselines): the growth per key added, 200 B/key.
    cluster.records.push(rss("redis-cluster nodes", 100_000, 30e6));
    let readme = readme_of(vec![suite, cluster]);
    let row = readme.lines().find(|l| l.starts_with("| redis-cluster (3 nodes measured) | 100k and 1M |")).unwrap();
    assert!(row.contains("200.0 B/key") && row.contains("baseline subtracted"), "{row}");
}
