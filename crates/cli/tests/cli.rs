//! End-to-end checks of the `kvbench` binary: output, exit codes, messages.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use kvbench_lookup::Reference;
use kvbench_lookup::StrategyKind;
use kvbench_peers::{RedisCluster, RedisServer};
use kvbench_report::conclusions::conclusions;
use kvbench_report::data::Source;
use kvbench_results::{Metric, SpreadKind, Workload};

fn kvbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvbench")).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a failure is a one-line message with exit status 2, never a panic.
fn assert_clean_error(out: &Output, expect: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(expect), "expected {expect:?} in {err:?}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
}

/// A 1M-key file generated once for all tests of this binary, and kept for
/// the next run in cargo's folder for tests' files (a static's temporary
/// folder is never dropped, so it would be left behind in `/tmp` on every run).
fn million() -> &'static PathBuf {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-million");
        let path = dir.join("1m.txt");
        if !path.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            // Written under another name, then renamed: a run stopped halfway leaves no file to trust.
            let partial = dir.join("1m.txt.partial");
            let out = kvbench(&["gen", "--keys", "1M", "--out", partial.to_str().unwrap(), "--seed", "9"]);
            assert!(out.status.success(), "{}", stderr(&out));
            std::fs::rename(&partial, &path).unwrap();
        }
        path
    })
}

/// `kvbench COMMAND --quick` on 2K keys generated into `dir`, results into `results`.
fn quick(command: &[&str], dir: &Path, results: &Path, extra: &[&str]) -> Output {
    let data_dir = dir.join("data");
    let options = ["--quick", "--keys", "2k", "--data-dir", data_dir.to_str().unwrap()];
    kvbench(&[command, &options, &["--results", results.to_str().unwrap()], extra].concat())
}

/// `strings` as `&str`s, to splice into an argument list.
fn to_strs(strings: &[String]) -> Vec<&str> {
    strings.iter().map(String::as_str).collect()
}

fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The servers the strategies `redis` and `redis-cluster` read, each `None`
/// (with a message) where redis-server is not installed.
struct Servers {
    redis: Option<RedisServer>,
    cluster: Option<RedisCluster>,
}

impl Servers {
    fn start() -> Servers {
        Servers { redis: RedisServer::for_test(), cluster: RedisCluster::for_test() }
    }

    /// `--redis-url URL --redis-cluster URL,…` for the servers running.
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(redis) = &self.redis {
            args.extend(["--redis-url".to_owned(), redis.url()]);
        }
        if let Some(cluster) = &self.cluster {
            args.extend(["--redis-cluster".to_owned(), cluster.urls().join(",")]);
        }
        args
    }

    /// Every strategy this build has whose server (if it needs one) runs here.
    fn every_strategy(&self) -> impl Iterator<Item = StrategyKind> + '_ {
        StrategyKind::ALL.into_iter().filter(move |k| match k {
            StrategyKind::Redis => self.redis.is_some(),
            StrategyKind::RedisCluster => self.cluster.is_some(),
            // A strategy this build left out (`rocksdb`, a feature off by default) says so instead.
            _ => k.is_built(),
        })
    }
}

/// `kvbench get` with one strategy; `redis` and `redis-cluster` query the test's own servers.
fn get(data: &str, strategy: &str, keys: &[&str], servers: Option<&Servers>) -> Output {
    let server_args = servers.map(Servers::args).unwrap_or_default();
    let mut args = vec!["get", "--data", data, "--strategy", strategy];
    args.extend(server_args.iter().map(String::as_str));
    args.extend_from_slice(keys);
    kvbench(&args)
}

#[test]
fn get_answers_like_the_reference_for_every_strategy_on_1m_keys() {
    let path = million();
    let bytes = std::fs::read(path).unwrap();
    let reference = Reference::from_bytes(&bytes);
    assert_eq!(reference.len(), 1_000_000);
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let key_of = |line: &[u8]| String::from_utf8(line.split(|&b| b == b' ').next().unwrap().to_vec()).unwrap();
    let keys: Vec<String> = [0, 1, 499_999, 999_998, 999_999].iter().map(|&i| key_of(lines[i])).collect();
    let mut expected = Vec::new();
    for key in &keys {
        expected.extend_from_slice(reference.value(key.as_bytes()).unwrap());
        expected.push(b'\n');
    }
    let key_args: Vec<&str> = keys.iter().map(String::as_str).collect();
    let servers = Servers::start();
    for kind in servers.every_strategy() {
        let out = get(path.to_str().unwrap(), kind.name(), &key_args, Some(&servers));
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
        assert_eq!(out.stdout, expected, "{kind}");
    }
    let out =
        kvbench(&["get", "--data", path.to_str().unwrap(), "--strategy", "lru(0.5,scan)", key_args[2], key_args[2]]);
    assert!(out.status.success(), "{}", stderr(&out));
    let absent = "00000000-0000-4000-8000-000000000000";
    let out = get(path.to_str().unwrap(), "hashmap", &[key_args[0], absent], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), format!("not found: {absent}\n"));
    assert_eq!(out.stdout, [reference.value(keys[0].as_bytes()).unwrap(), b"\n"].concat());
}

#[test]
fn get_answers_like_the_reference_for_every_strategy_on_the_edge_cases() {
    // A duplicate (the first wins), a tab, CRLF, spaces and an empty value, a
    // non-UTF-8 value, keys that are prefixes of others, no final newline.
    let text: &[u8] = b"apple red fruit\napp short\napple green DUPLICATE\ntab\tseparated value\n\
        crlf windows line\r\nspaces  two leading spaces\nempty \nbin \xff\xfe not utf8\nlast no newline";
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "edge.txt", text);
    let reference = Reference::from_bytes(text);
    let keys: Vec<String> = reference.keys().map(|k| String::from_utf8(k.to_vec()).unwrap()).collect();
    let key_args: Vec<&str> = keys.iter().map(String::as_str).collect();
    let expected: Vec<u8> =
        keys.iter().flat_map(|k| [reference.value(k.as_bytes()).unwrap(), b"\n"].concat()).collect();
    let servers = Servers::start();
    for kind in servers.every_strategy() {
        let out = get(&data, kind.name(), &key_args, Some(&servers));
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
        assert_eq!(out.stdout, expected, "{kind}");
        // A prefix of a key and a key longer than one are absent.
        for absent in ["appl", "crl", "lastx"] {
            let out = get(&data, kind.name(), &[absent], Some(&servers));
            assert_eq!(out.status.code(), Some(1), "{kind} {absent:?}: {}", stderr(&out));
            assert!(out.stdout.is_empty(), "{kind} {absent:?}");
        }
    }
}

#[test]
fn the_index_sidecar_is_reused_and_invalidated_by_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.txt", b"a 1\nb 2\n");
    let verbose = |data: &str, key: &str| kvbench(&["get", "-v", "--data", data, "--strategy", "mmap-index", key]);
    let first = verbose(&data, "a");
    assert!(stderr(&first).contains("built index (none there yet)"), "{}", stderr(&first));
    let second = verbose(&data, "a");
    assert!(stderr(&second).contains("reused index"), "{}", stderr(&second));
    assert_eq!(second.stdout, b"1\n");
    std::fs::write(&data, b"a 1\nb 2\nc 3\n").unwrap();
    let third = verbose(&data, "c");
    assert!(stderr(&third).contains("data file changed"), "{}", stderr(&third));
    assert_eq!(third.stdout, b"3\n");
}

#[test]
fn bad_data_gets_a_one_line_error_and_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    let malformed = write(dir.path(), "bad.txt", b"good 1\nno-separator-here\n");
    let servers = Servers::start();
    for kind in servers.every_strategy() {
        let name = kind.name();
        let r = Some(&servers);
        assert_clean_error(&get(missing.to_str().unwrap(), name, &["k"], r), "No such file");
        assert_clean_error(&get(dir.path().to_str().unwrap(), name, &["k"], r), "not a regular file");
        assert_clean_error(&get(&malformed, name, &["good"], r), "bad.txt:2: malformed line: no separator");
        let server_args = servers.args();
        let lenient = kvbench(
            &[&["get", "--lenient", "--data", &malformed, "--strategy", name][..], &to_strs(&server_args), &["good"]]
                .concat(),
        );
        assert_eq!((lenient.status.code(), lenient.stdout.as_slice()), (Some(0), &b"1\n"[..]), "{name}");
    }
}

#[test]
fn empty_files_invalid_keys_and_odd_bytes_have_defined_results() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.txt", b"");
    let out = get(&empty, "scan", &["k"], None);
    assert_eq!((out.status.code(), stderr(&out)), (Some(1), "not found: k\n".to_owned()));
    let odd = write(dir.path(), "odd.txt", b"bin \xff\xfe raw\r\nlast\tno newline");
    let servers = Servers::start();
    for kind in servers.every_strategy() {
        let out = get(&odd, kind.name(), &["bin", "last"], Some(&servers));
        assert_eq!(out.stdout, b"\xff\xfe raw\nno newline\n", "{kind}");
        assert_clean_error(&get(&odd, kind.name(), &["has space"], Some(&servers)), "invalid key");
        assert_clean_error(&get(&odd, kind.name(), &[""], Some(&servers)), "invalid key");
    }
    assert_clean_error(&kvbench(&["get", "--data", &odd, "--strategy", "lru(2,scan)", "bin"]), "ratio");
    assert_clean_error(&kvbench(&["get", "--data", &odd, "--strategy", "nope", "bin"]), "invalid value 'nope'");
}

#[test]
fn gen_is_deterministic_and_validates_its_options() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out_path = dir.path().join(name);
        let mut args = vec!["gen", "--keys", "1k", "--out", out_path.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = kvbench(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::read(out_path).unwrap()
    };
    let a = run("a.txt", &["--seed", "1"]);
    assert_eq!(a, run("b.txt", &["--seed", "1"]));
    assert_ne!(a, run("c.txt", &["--seed", "2"]));
    assert_eq!(a.iter().filter(|&&b| b == b'\n').count(), 1000);
    let fixed = run("d.txt", &["--value-len", "fixed:300"]);
    assert!(fixed.split(|&b| b == b'\n').filter(|l| !l.is_empty()).all(|l| l.len() == 36 + 1 + 300));
    let out = kvbench(&["gen", "--keys", "10", "--out", "x", "--value-len", "fixed:0"]);
    assert_clean_error(&out, "invalid value length");
    let out = kvbench(&["gen", "--keys", "10", "--out", dir.path().join("no/such/dir/x").to_str().unwrap()]);
    assert_clean_error(&out, "cannot write");
}

#[test]
fn the_suite_runs_every_case_on_a_small_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results/suite.json");
    let reports = dir.path().join("reports");
    // `--full`: every case every run (the sequential default is checked by the harness's own test).
    let out = quick(&["suite"], dir.path(), &json, &["--full", "--report", reports.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", stderr(&out));
    let labels = [
        "scan-lines",
        "scan",
        "hashmap",
        "mmap-index (build)",
        "mmap-index (reopen)",
        "lru(0.1,mmap-index)",
        "lru(0.5,mmap-index)",
        "warming",
        "scan (cold)",
        "mmap-index (cold)",
    ];
    for label in labels {
        assert!(stdout.contains(label), "{label} missing from\n{stdout}");
    }
    let results = kvbench_results::io::read(&json).unwrap();
    // Records name the commit the binary was built from (stamped by build.rs), not the run directory's.
    let stamped = env!("KVBENCH_BUILD_COMMIT");
    if stamped != "unknown" {
        assert!(results.records.iter().all(|r| r.run.commit.as_deref() == Some(stamped)), "{stamped}");
    }
    let has = |strategy: &str, workload: &str, metric: Metric| {
        // By the labels people read: `scan (cold)`, `uniform@cold`.
        results
            .records
            .iter()
            .any(|r| r.case.to_string() == strategy && r.workload_label() == workload && r.metric == metric)
    };
    for label in labels {
        assert!(has(label, "-", Metric::OpenTime), "{label}");
    }
    for label in &labels[..8] {
        for workload in ["uniform", "zipf:0.99", "miss"] {
            for metric in [Metric::LookupMean, Metric::ChainLatency, Metric::LatencyMax] {
                assert!(has(label, workload, metric), "{label} {workload} {metric:?}");
            }
        }
        assert!(has(label, "-", Metric::AnonBytesPerKey), "{label}");
        assert!(has(label, "-", Metric::ResidentBytesPerKey), "{label}");
        assert!(has(label, "-", Metric::OpenHeapBytes), "{label}");
    }
    // Every figure is the median of the quick runs that have it (all 3 for what every run records, such
    // as open times; a percentile only from the runs whose sample count supports it, p99: 500 samples,
    // which depends on the machine's speed) and says how many samples each run had.
    for r in &results.records {
        assert!(r.runs.is_some_and(|n| (1..=3).contains(&n)), "{r:?}");
        if r.metric == Metric::OpenTime {
            assert_eq!(r.runs, Some(3), "{r:?}");
        }
        // A median of several runs has its interval; a figure only one run supported has none.
        let several = r.runs.is_some_and(|n| n > 1);
        let interval = r.spread.is_some_and(|s| s.kind == SpreadKind::MedianCi);
        assert!(r.samples.is_some() && interval == several, "{r:?}");
        if r.metric == Metric::LatencyP99 {
            assert!(r.samples.is_some_and(|n| n >= 500), "{r:?}");
        }
    }
    assert!(stdout.contains("overlapped") && stdout.contains("chained") && stdout.contains("alone p99"), "{stdout}");
    // Every table fits 100 columns (its rule line is as wide as the table).
    let rules: Vec<&str> =
        stdout.lines().filter(|l| l.starts_with("---") && l.chars().all(|c| c == '-' || c == ' ')).collect();
    assert!(rules.len() >= 6, "{stdout}");
    assert!(rules.iter().all(|l| l.chars().count() <= 100), "a table wider than 100 columns:\n{stdout}");
    assert!(stdout.contains("3 runs in fresh processes"), "{stdout}");
    // The strategies' own notes reach the user: the reopened index says it reused its sidecar.
    assert!(stdout.lines().any(|l| l.starts_with("mmap-index (reopen): reused index")), "{stdout}");
    assert!(has("scan (cold)", "uniform@cold", Metric::LatencyP50));
    assert!(has("scan (cold)", "uniform@cold", Metric::FirstLookup));
    assert!(has("scan (cold)", "-", Metric::ColdResidentAfterOpen));
    assert!(has("lru(0.1,mmap-index)", "zipf:0.99", Metric::HitRate));
    assert!(has("warming", "-", Metric::ReadyTime));
    // The main job also regenerates the report from the results' folder.
    let readme = std::fs::read_to_string(dir.path().join("reports/README.md")).unwrap();
    assert!(readme.contains("## Main table") && readme.contains("latency.png"), "{readme}");
    // Every conclusion on the suite finds its inputs under the labels the suite really wrote.
    let found = conclusions(&kvbench_report::Data::load(&json).unwrap());
    let lacking: Vec<_> = found.missing.iter().filter(|(_, m)| m.source == Source::Suite).collect();
    assert!(lacking.is_empty(), "{lacking:#?}");
    assert!(readme.contains("A full `scan` (a miss) takes"), "{readme}");
}

#[test]
fn the_terminal_and_the_report_write_a_figure_alike() {
    use kvbench_results::{DEFAULT_VALUE_LEN, DatasetInfo, Record, ResultSet, RunInfo, units};
    let dir = tempfile::tempdir().unwrap();
    let (run, dataset) = (RunInfo::detect(true), DatasetInfo::generated(10_000, DEFAULT_VALUE_LEN));
    // 1.289 ms and 1.5 MiB: figures the terminal and the report once wrote with different precision.
    let (p50, heap) = (1_289_000.0, 1.5 * 1024.0 * 1024.0);
    let mut set = ResultSet::new("kvbench suite");
    for (workload, metric, value) in
        [("-", Metric::OpenTime, 1e6), ("uniform", Metric::LatencyP50, p50), ("-", Metric::HeapBytes, heap)]
    {
        let workload = workload.parse().ok();
        set.records.push(Record::new("hashmap", &dataset, workload, metric, value, &run));
    }
    let results = dir.path().join("results/suite.json");
    kvbench_results::io::write(&results, &set).unwrap();
    let results = results.to_str().unwrap();
    let out = kvbench(&["compare", results, results, "--all"]);
    let terminal = String::from_utf8_lossy(&out.stdout);
    let reports = dir.path().join("reports");
    let out = kvbench(&["report", "--results", results, "--out", reports.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = std::fs::read_to_string(reports.join("README.md")).unwrap();
    for figure in [units::nanos(p50), units::bytes(heap)] {
        assert!(terminal.contains(&format!("  {figure}  ")), "{figure:?} not in the terminal's table:\n{terminal}");
        assert!(report.contains(&format!("| {figure} |")), "{figure:?} not in the report's table:\n{report}");
    }
    assert_eq!((units::nanos(p50), units::bytes(heap)), ("1.29 ms".into(), "1.5 MiB".into()));
}

#[test]
fn results_export_to_bmf_and_bad_results_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("r.json");
    let data_dir = dir.path().join("data");
    let out = kvbench(&[
        "bench",
        "micro",
        "--quick",
        "--keys",
        "1k",
        "--workloads",
        "uniform",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
        "--no-report",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = kvbench(&["export", "--format", "bmf", results.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bmf: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p50 = &bmf["suite/1k/uniform/hashmap"]["latency_p50"]["value"];
    assert!(p50.as_f64().is_some_and(|v| v > 0.0), "{bmf}");
    let garbage = write(dir.path(), "garbage.json", b"{}");
    assert_clean_error(&kvbench(&["export", &garbage]), "garbage.json");
    let empty = dir.path().join("no-results");
    let out =
        kvbench(&["report", "--results", empty.to_str().unwrap(), "--out", dir.path().join("r").to_str().unwrap()]);
    assert_clean_error(&out, "run `kvbench suite`");
}

#[test]
fn redis_load_loads_once_and_never_touches_foreign_data() {
    let Some(redis) = RedisServer::for_test() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.txt", b"a 1\nb 2\na dup\n");
    let load = |url: &str| kvbench(&["redis-load", "--data", &data, "--redis-url", url]);
    let first = load(&redis.url());
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("redis: loaded 2 keys into"), "{first:?}");
    let again = load(&redis.url());
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("redis: reused 2 keys"), "{again:?}");
    let out = kvbench(&["get", "--data", &data, "--strategy", "redis", "--redis-url", &redis.url(), "a", "b"]);
    assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), &b"1\n2\n"[..]), "{}", stderr(&out));
    // db 1 holds someone else's key: refused, and the key is still there.
    let foreign = format!("{}1", redis.url());
    let mut con = redis::Client::open(foreign.as_str()).unwrap().get_connection().unwrap();
    redis::cmd("SET").arg("theirs").arg("keep").query::<()>(&mut con).unwrap();
    assert_clean_error(&load(&foreign), "holds 1 keys not loaded by kvbench");
    assert_eq!(redis::cmd("GET").arg("theirs").query::<String>(&mut con).unwrap(), "keep");
}

#[test]
fn bench_baselines_times_every_program_with_checked_answers() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("baselines.json");
    let out = quick(&["bench", "baselines"], dir.path(), &results, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    let set = kvbench_results::io::read(&results).unwrap();
    assert_eq!(set.source, kvbench_results::BASELINES_SOURCE);
    let programs: Vec<&str> =
        set.records.iter().filter(|r| r.metric == Metric::ProcessTime).map(|r| r.case.strategy.as_str()).collect();
    // Where an interpreter is missing its baselines are skipped with a reason; CI installs them all.
    let expected = if std::env::var_os("CI").is_some() { 12 } else { 5 };
    assert!(programs.len() >= expected, "{programs:?}\n{}", stderr(&out));
    assert!(programs.contains(&"kvbench hashmap") && programs.contains(&"kvbench lru(0.1,mmap-index)"), "{programs:?}");
    for r in &set.records {
        let spread = r.spread.unwrap();
        assert!(r.value >= 0.0 && spread.lower <= r.value && r.value <= spread.upper, "{r:?}");
        assert!(r.metric != Metric::ProcessPeakRss || r.value > 0.0, "{r:?}");
    }
    assert!(text.contains("per process") && text.contains("py-dict") || std::env::var_os("CI").is_none(), "{text}");
}

#[test]
fn the_rusage_helper_reports_a_programs_own_peak_rss_and_exit_code() {
    let report = |out: &Output| {
        let err = stderr(out);
        let line = err.lines().last().unwrap().to_owned();
        let fields: Vec<u64> =
            line.strip_prefix("kvbench-rusage: ").unwrap().split(' ').map(|f| f.parse().unwrap()).collect();
        (out.status.code(), fields[4])
    };
    const MIB: u64 = 1 << 20;
    // A shell that exits 3: its exit code passes through; its peak is its own few MiB.
    let (code, rss) = report(&kvbench(&["__rusage", "sh", "-c", "exit 3"]));
    assert!(code == Some(3) && rss > 0 && rss < 16 * MIB, "{code:?} {rss}");
    // dd touching a 64 MiB buffer: at least that.
    let (code, rss) = report(&kvbench(&["__rusage", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]));
    assert!(code == Some(0) && rss >= 64 * MIB, "{code:?} {rss}");
    let (code, _) = report(&kvbench(&["__rusage", "kvbench-no-such-program"]));
    assert_eq!(code, Some(127));
}

#[test]
fn compare_fails_only_on_a_real_regression_and_writes_markdown() {
    use kvbench_results::{DEFAULT_VALUE_LEN, DatasetInfo, Record, ResultSet, RunInfo, SpreadKind};
    let dir = tempfile::tempdir().unwrap();
    let set = |mean: f64, heap: f64| {
        let (run, dataset) = (RunInfo::detect(true), DatasetInfo::generated(10_000, DEFAULT_VALUE_LEN));
        let mut set = ResultSet::new("test");
        let lookup = Record::new("hashmap", &dataset, Some(Workload::UNIFORM), Metric::LookupMean, mean, &run);
        set.records.push(lookup.with_spread(mean * 0.97, mean * 1.03, SpreadKind::MinMax));
        set.records.push(Record::new("hashmap", &dataset, None, Metric::HeapBytes, heap, &run));
        set
    };
    let write_set = |name: &str, s: &ResultSet| {
        let path = dir.path().join(name);
        kvbench_results::io::write(&path, s).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let base = write_set("base/suite.json", &set(400.0, 1e6));
    let same = write_set("same.json", &set(410.0, 1e6));
    let slower = write_set("slower.json", &set(500.0, 1e6));
    let md = dir.path().join("compare.md");
    let out = kvbench(&["compare", &base, &same]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("no regression: 2 unchanged"), "{text}{}", stderr(&out));
    let out =
        kvbench(&["compare", dir.path().join("base").to_str().unwrap(), &slower, "--markdown", md.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("REGRESSED") && text.contains("+25.0 %") && text.contains("1 regression"), "{text}");
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(
        markdown
            .contains("| hashmap · 10k · uniform | lookup_mean | 400 ns | 500 ns | +25.0 % | +25.0 % | REGRESSED |"),
        "{markdown}"
    );
    // A wider threshold lets the same change through.
    assert!(kvbench(&["compare", &base, &slower, "--threshold", "30"]).status.success());
    assert_clean_error(&kvbench(&["compare", &base, dir.path().join("missing").to_str().unwrap()]), "missing");
}

/// A file as users bring them: tabs and spaces, CRLF, a duplicate key, values
/// from empty to long, a malformed line, no final newline.
fn users_file(lines: usize, salt: &str) -> Vec<u8> {
    let mut text = "a_header_line_without_a_separator\r\n".to_owned();
    for i in 0..lines {
        let sep = if i % 3 == 0 { '\t' } else { ' ' };
        let value = "v".repeat(i % 97);
        text.push_str(&format!("pkg-{salt}-{i}{sep}{value} end\r\n"));
    }
    text.push_str(&format!("pkg-{salt}-7\tduplicate, never served\nlast-{salt}\t"));
    text.into_bytes()
}

#[test]
fn the_suite_measures_a_users_own_files_and_recommends_from_their_records() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("other")).unwrap();
    let mine = write(dir.path(), "mine.tsv", &users_file(1500, "a"));
    let same_name = write(&dir.path().join("other"), "mine.tsv", &users_file(1200, "b"));
    let copy = write(dir.path(), "copy.tsv", &std::fs::read(&mine).unwrap());
    let json = dir.path().join("suite.json");
    let strategies = "hashmap,mmap-index,lru(0.5,hashmap)";
    let (budget, data_dir) = ("1GiB", dir.path().join("data"));
    let args = ["suite", "--quick", "--runs", "1", "--no-report", "--lenient", "--strategies", strategies];
    let files = ["--data", &mine, "--data", &same_name, "--data", &copy, "--memory-budget", budget];
    let out = kvbench(
        &[&args[..], &files, &["--results", json.to_str().unwrap(), "--data-dir", data_dir.to_str().unwrap()]].concat(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", stderr(&out));
    assert!(stderr(&out).contains("has the same bytes as"), "{}", stderr(&out));
    assert!(stderr(&out).contains("wrote the index sidecar"), "{}", stderr(&out));
    assert!(!data_dir.exists(), "no generated dataset when only --data is given");
    assert!(stdout.contains("1502 records, 1501 distinct keys, 1 duplicate "), "{stdout}");
    assert!(stdout.contains("1 malformed line skipped"), "{stdout}");
    assert!(stdout.contains("What to use for mine.tsv on this machine"), "{stdout}");
    assert!(stdout.contains("p50 within 1 GiB"), "{stdout}");
    let results = kvbench_results::io::read(&json).unwrap();
    assert_eq!(results.memory_budget, Some(1 << 30));
    let files: Vec<_> = kvbench_results::recommend::datasets(&results.records);
    assert_eq!(files.len(), 2, "two files of the same name stay apart; the copy is measured once");
    let (a, b) = (files[0].file.as_ref().unwrap(), files[1].file.as_ref().unwrap());
    assert_eq!((a.name.as_str(), b.name.as_str()), ("mine.tsv", "mine.tsv"));
    assert_ne!(a.fingerprint, b.fingerprint);
    assert_eq!((a.records, a.distinct_keys, a.duplicates, a.skipped), (1502, 1501, 1, 1));
    assert_eq!((a.value_len.min, a.value_len.max), (0, 100));
    assert_eq!(files[0].label(), "mine.tsv");
    let mut cases: Vec<String> = results.records.iter().map(|r| r.case.to_string()).collect();
    cases.sort_unstable();
    cases.dedup();
    let expected = ["hashmap", "lru(0.5,hashmap)", "mmap-index (build)", "mmap-index (cold)", "mmap-index (reopen)"];
    assert_eq!(cases, expected, "--strategies chose the cases");
    // What the suite recommended is what its records say.
    let r = kvbench_results::recommend::recommend_all(&results.records, &results.skipped, results.memory_budget);
    for row in r[0].rows() {
        assert!(stdout.lines().any(|l| l.starts_with(&row[0]) && l.contains(&row[1])), "{row:?} not in\n{stdout}");
    }
}

#[test]
fn bench_baselines_answers_from_a_users_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let mine = write(dir.path(), "mine.tsv", &users_file(400, "c"));
    let results = dir.path().join("baselines.json");
    let args = ["bench", "baselines", "--quick", "--lenient", "--data", &mine, "--results", results.to_str().unwrap()];
    let out = kvbench(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    // Every program, the bash and Python ones included, answered every key as the file gives it (tabs, CRLF).
    assert!(out.status.success(), "{text}{}", stderr(&out));
    let set = kvbench_results::io::read(&results).unwrap();
    assert!(!set.records.is_empty());
    for r in &set.records {
        let file = r.dataset.file.as_ref().expect("every record names the user's file");
        assert_eq!((file.name.as_str(), file.records, file.skipped), ("mine.tsv", 402, 1), "{r:?}");
    }
    assert!(text.contains("mine.tsv"), "{text}");
}

#[test]
fn rough_edges_get_clear_answers() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [&["suite", "--keys", "0"][..], &["suite", "--key-pool", "0"], &["bench", "micro", "--keys", "10k,0"]] {
        assert_clean_error(&kvbench(bad), "must be at least 1");
    }
    assert_clean_error(&kvbench(&["suite", "--strategies", "hashmap,nope"]), "unknown strategy");
    assert_clean_error(&kvbench(&["suite", "--memory-budget", "lots"]), "not a size");
    let data = write(dir.path(), "d.txt", b"a 1\nbroken\nb 2\n");
    let serve = kvbench(&["serve", "--data", &data, "--threads", "20000"]);
    assert_clean_error(&serve, "20000 is not in 1..=1024");
    // An OS error is said once.
    let missing = dir.path().join("missing.txt");
    let out = kvbench(&["get", "--data", missing.to_str().unwrap(), "k"]);
    let os = std::io::Error::from_raw_os_error(2).to_string();
    assert_eq!(stderr(&out).matches(&os).count(), 1, "{}", stderr(&out));
    // --lenient says what it skipped without -v; a sidecar written beside the user's file is announced once.
    let first = kvbench(&["get", "--lenient", "--data", &data, "a"]);
    assert_eq!(first.stdout, b"1\n");
    assert!(stderr(&first).contains("skipped 1 malformed line"), "{}", stderr(&first));
    assert!(stderr(&first).contains("wrote the index"), "{}", stderr(&first));
    let again = kvbench(&["get", "--lenient", "--data", &data, "b"]);
    assert!(!stderr(&again).contains("wrote the index"), "{}", stderr(&again));
    let elsewhere = dir.path().join("elsewhere.kvidx");
    let moved = kvbench(&["get", "--lenient", "--data", &data, "--index", elsewhere.to_str().unwrap(), "b"]);
    assert_eq!(moved.stdout, b"2\n");
    assert!(elsewhere.exists());
    let gen1 = kvbench(&["gen", "--keys", "1", "--out", dir.path().join("one.txt").to_str().unwrap()]);
    assert!(stderr(&gen1).contains("wrote 1 key,"), "{}", stderr(&gen1));
}

#[test]
fn the_main_job_writes_only_where_git_ignores() {
    // Every path a command writes by default, read from its own --help, must be
    // ignored by git, so the README's main job leaves a fresh clone clean.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let is_checkout = Command::new("git").arg("-C").arg(&root).args(["rev-parse", "--git-dir"]).output();
    if !is_checkout.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: not a git checkout (or no git)");
        return;
    }
    let mut written =
        vec!["data/kv-1M-normal_30_5-s42.txt".to_owned(), "data/kv-1M-normal_30_5-s42.txt.kvidx".to_owned()];
    for command in [&["suite"][..], &["report"], &["bench", "macro"], &["bench", "baselines"]] {
        let help = String::from_utf8_lossy(&kvbench(&[command, &["--help"]].concat()).stdout).into_owned();
        for flag in ["--results <FILE>", "--report <DIR>", "--out <DIR>"] {
            // An option's help may wrap onto the lines after it (help fits the terminal): take them all.
            let mut lines = help.lines().skip_while(|l| !l.trim_start().starts_with(flag));
            let Some(first) = lines.next() else { continue };
            // (Long help leaves a blank line between an option's text and its default.)
            let rest = lines.take_while(|l| !l.trim_start().starts_with('-'));
            let entry = std::iter::once(first).chain(rest).map(str::trim).collect::<Vec<_>>().join(" ");
            let default = entry.split("[default: ").nth(1).and_then(|d| d.split(']').next()).unwrap();
            let is_dir = flag.contains("<DIR>");
            written.push(if is_dir { format!("{default}/README.md") } else { default.to_owned() });
        }
    }
    assert!(written.iter().any(|w| w.ends_with("suite.json")) && written.iter().any(|w| w.ends_with("README.md")));
    for path in &written {
        let ignored = Command::new("git").arg("-C").arg(&root).args(["check-ignore", "-q", path]).status().unwrap();
        assert!(ignored.success(), "{path} is written by default but not ignored by git");
    }
}

/// A batch of lookups that take over 100 µs each (a line scan of 200K lines,
/// ~13 MB: far over 100 µs on any machine)
/// is not timed: it is those lookups in a row, and batches of 64 scans of a
/// large file would take minutes. The run says so instead of a figure.
#[test]
fn batches_of_slow_lookups_are_noted_not_timed() {
    let dir = tempfile::tempdir().unwrap();
    let mine = write(dir.path(), "mine.tsv", &users_file(200_000, "a"));
    let json = dir.path().join("suite.json");
    let args = ["suite", "--quick", "--runs", "1", "--no-report", "--lenient", "--strategies", "scan-lines"];
    let more = ["--workloads", "uniform;uniform,batch=64", "--data", &mine, "--results", json.to_str().unwrap()];
    let out = kvbench(&[&args[..], &more].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", stderr(&out));
    let results = kvbench_results::io::read(&json).unwrap();
    let timed =
        |workload: Workload| results.records.iter().any(|r| r.is_plain("scan-lines") && r.workload == Some(workload));
    assert!(timed(Workload::UNIFORM) && !timed(Workload::UNIFORM.batched(64)), "{stdout}");
    assert!(stdout.contains("uniform,batch=64: not timed: each lookup takes over 100 µs"), "{stdout}");
}

#[test]
fn batched_workloads_are_timed_per_key_by_the_suite_and_refused_by_load() {
    let dir = tempfile::tempdir().unwrap();
    let mine = write(dir.path(), "mine.tsv", &users_file(1500, "a"));
    let json = dir.path().join("suite.json");
    let args =
        ["suite", "--quick", "--runs", "1", "--no-report", "--lenient", "--strategies", "hashmap,phf-index,scan"];
    let more = ["--workloads", "uniform;uniform,batch=8", "--data", &mine, "--results", json.to_str().unwrap()];
    let out = kvbench(&[&args[..], &more].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", stderr(&out));
    assert!(stdout.contains("uniform,batch=8: time per lookup"), "{stdout}");
    let results = kvbench_results::io::read(&json).unwrap();
    let batched = |case: &str, metric: Metric| {
        let batch = Some(Workload::UNIFORM.batched(8));
        results.records.iter().any(|r| r.case.to_string() == case && r.workload == batch && r.metric == metric)
    };
    for case in ["hashmap", "phf-index (build)", "phf-index (reopen)", "scan"] {
        assert!(batched(case, Metric::LookupMean), "{case}: no time per key");
        assert!(!batched(case, Metric::LatencyP50) && !batched(case, Metric::ChainLatency), "{case}");
    }
    let load = kvbench(&["load", "--target", "http://127.0.0.1:9", "--data", &mine, "--workload", "uniform,batch=8"]);
    assert_eq!(load.status.code(), Some(2), "{}", stderr(&load));
    assert!(stderr(&load).contains("kvbench load sends one key per request"), "{}", stderr(&load));
}
