//! Criterion micro-benchmarks of every strategy, written to the results schema.
//!
//! - `get/<dataset>/<workload>/<strategy>`: one lookup, for every strategy ×
//!   dataset (10K, 1M; 10M with `KVBENCH_FULL=1`) × workload (uniform, Zipf
//!   0.99, misses), plus the cache-ratio sweep: `lru(r,backing)` for r = 10 %…100 %
//!   over `hashmap`, `mmap-index` and `sqlite` under uniform and Zipf access, whose hit
//!   rates are recorded beside the latency. Keys are drawn fresh for every
//!   block of lookups (outside the timing), never from a repeating list.
//! - `get/<dataset>/<workload>,batch=64/<strategy>`: the same keys asked 64
//!   at a time through [`Lookup::get_many`] (uniform hits and misses, every
//!   strategy but the whole-file scans); the figure is time per key.
//! - `open/<dataset>/-/<strategy>`: time until a strategy can answer
//!   (`mmap-index`, `phf-index` and the engines `(build)` vs `(reopen)`, `warming (ready)` until its map serves).
//!
//! `KVBENCH_QUICK=1` runs the whole matrix on 10K keys with short measurements
//! (a smoke test for CI). At the end the run's criterion estimates and hit rates
//! are written to `results/latest/criterion.json` (quick runs:
//! `target/kvbench/quick/criterion.json`; `KVBENCH_RESULTS=FILE` overrides).
//! Every timed lookup checks its answer.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use kvbench_harness::probe::warm_cache;
use kvbench_lookup::Warming;
use kvbench_lookup::{Lookup, OpenOptions, Strategy, StrategyKind, open};
use kvbench_results::criterion::{benchmark_id, default_dir, import};
use kvbench_results::{CaseId, CaseStart, DatasetInfo, Metric, Record, ResultSet, RunInfo};
use kvbench_workload::file_keys;
use kvbench_workload::{Dataset, KeyStream, KeyStreams, Sampler, Workload};

/// How much to run.
struct Mode {
    quick: bool,
    datasets: Vec<u64>,
    ratios: Vec<f64>,
}

impl Mode {
    fn from_env() -> Self {
        let on = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty() && v != "0");
        let quick = on("KVBENCH_QUICK");
        let datasets = match (quick, on("KVBENCH_FULL")) {
            (true, _) => vec![10_000],
            (false, false) => vec![10_000, 1_000_000],
            (false, true) => vec![10_000, 1_000_000, 10_000_000],
        };
        let ratios = if quick { vec![0.1, 0.5, 1.0] } else { (1..=10).map(|i| f64::from(i) / 10.0).collect() };
        Mode { quick, datasets, ratios }
    }

    fn results_path(&self) -> PathBuf {
        match std::env::var_os("KVBENCH_RESULTS") {
            Some(path) => PathBuf::from(path),
            None if self.quick => PathBuf::from("target/kvbench/quick/criterion.json"),
            None => PathBuf::from("results/latest/criterion.json"),
        }
    }

    /// Criterion settings for one group; `slow` for strategies that read the whole file per lookup.
    fn configure(&self, group: &mut BenchmarkGroup<'_, WallTime>, slow: bool) {
        let (warm, measure, samples) = match (self.quick, slow) {
            (true, _) => (Duration::from_millis(100), Duration::from_millis(300), 10),
            (false, true) => (Duration::from_millis(500), Duration::from_secs(3), 10),
            (false, false) => (Duration::from_secs(1), Duration::from_secs(2), 50),
        };
        group.warm_up_time(warm).measurement_time(measure).sample_size(samples);
    }
}

/// What the run has produced so far: benchmark ids and the hit-rate records.
struct Run {
    info: RunInfo,
    ids: Vec<String>,
    datasets: Vec<DatasetInfo>,
    extra: Vec<Record>,
}

fn dataset(keys: u64) -> (DatasetInfo, PathBuf) {
    let dataset = Dataset::new(keys);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    if !dir.join(dataset.file_name()).exists() {
        eprintln!("generating the {} dataset in {} (reused by later runs)", dataset.keys, dir.display());
    }
    let path = match dataset.ensure(&dir, |_| {}) {
        Ok((path, _)) => path,
        Err(e) => panic!("cannot generate the bench dataset in {}: {e}", dir.display()),
    };
    (DatasetInfo::generated(keys, dataset.value_len.to_string()), path)
}

fn open_or_die(path: &Path, strategy: &Strategy) -> Box<dyn Lookup> {
    match open(path, strategy, &OpenOptions::default()) {
        Ok(lookup) => lookup,
        Err(e) => panic!("{strategy}: {e}"),
    }
}

/// Opens `strategy`, waiting for `warming` to finish, so steady state is measured.
fn open_ready(path: &Path, strategy: &Strategy) -> Box<dyn Lookup> {
    if *strategy == Strategy::Plain(StrategyKind::Warming) {
        let warming = match Warming::open(path, &OpenOptions::default()) {
            Ok(w) => w,
            Err(e) => panic!("warming: {e}"),
        };
        assert!(warming.wait_ready(Duration::from_secs(600)), "warming never became ready");
        return Box::new(warming);
    }
    open_or_die(path, strategy)
}

fn check(lookup: &dyn Lookup, stream: &KeyStream, i: u64) {
    let (key, present) = stream.get(i);
    let found = lookup.get(black_box(key)).map(|v| v.is_some());
    assert_eq!(found.ok(), Some(present), "{} gave a wrong answer", lookup.info().name);
}

/// The embedded engines this build has (`rocksdb` is a feature off by default).
fn engines() -> impl Iterator<Item = StrategyKind> {
    StrategyKind::ENGINES.into_iter().filter(|kind| kind.is_built())
}

/// Lookups per timed iteration for fast strategies: keys are drawn fresh for
/// every block in criterion's (untimed) setup, so a cache never sees a
/// repeating stream.
const BLOCK: usize = 1024;

/// Runs `n` fresh lookups from `sampler` through `lookup`, checking answers.
fn run_fresh(lookup: &dyn Lookup, sampler: &mut Sampler<'_>, n: u64) {
    let mut block = KeyStream::default();
    let mut done = 0;
    while done < n {
        let len = (n - done).min(BLOCK as u64);
        sampler.fill(&mut block, len as usize);
        for i in 0..len {
            check(lookup, &block, i);
        }
        done += len;
    }
}

/// Steady-state hit rate of a cache: warm it with fresh lookups until its hit
/// rate settles (at most 20× its capacity), then count hits over the next
/// 200 000. Criterion then times the same, warm, cache.
fn hit_rate(lookup: &dyn Lookup, sampler: &mut Sampler<'_>) -> Option<f64> {
    let limit = lookup.info().cache?.capacity * 20;
    let mut block = KeyStream::default();
    let warmed = warm_cache(lookup, limit, |i| {
        let at = i % BLOCK as u64;
        if at == 0 {
            sampler.fill(&mut block, BLOCK);
        }
        check(lookup, &block, at);
        Ok::<(), ()>(())
    });
    if warmed.is_err() {
        return None;
    }
    let before = lookup.info().cache?;
    run_fresh(lookup, sampler, 200_000);
    let after = lookup.info().cache?;
    let lookups = (after.hits + after.misses) - (before.hits + before.misses);
    Some((after.hits - before.hits) as f64 / lookups.max(1) as f64)
}

fn get_benches(c: &mut Criterion, mode: &Mode, run: &mut Run, info: &DatasetInfo, path: &Path) {
    let data = std::fs::read(path).unwrap_or_default();
    let keys = file_keys(&data, usize::MAX);
    drop(data);
    let plain = [
        StrategyKind::ScanLines,
        StrategyKind::Scan,
        StrategyKind::HashMap,
        StrategyKind::MmapIndex,
        StrategyKind::PhfIndex,
        StrategyKind::Warming,
    ];
    for workload in [Workload::UNIFORM, Workload::ZIPF, Workload::MISS] {
        let label = workload.to_string();
        let mut strategies: Vec<Strategy> = plain.into_iter().chain(engines()).map(Strategy::Plain).collect();
        if workload != Workload::MISS {
            // SQLite, the slowest engine, is where a cache in front would pay most.
            for backing in [StrategyKind::HashMap, StrategyKind::MmapIndex, StrategyKind::Sqlite] {
                strategies.extend(mode.ratios.iter().map(|&ratio| Strategy::Lru { ratio, backing }));
            }
        }
        for strategy in strategies {
            let slow = matches!(strategy, Strategy::Plain(StrategyKind::ScanLines | StrategyKind::Scan));
            let lookup = open_ready(path, &strategy);
            let name = strategy.to_string();
            let mut sampler = workload.sampler(&keys, 11);
            if let Some(rate) = hit_rate(&*lookup, &mut sampler) {
                run.extra.push(Record::new(&name, info, Some(workload), Metric::HitRate, rate, &run.info));
            }
            let mut group = c.benchmark_group(format!("get/{}/{label}", info.label()));
            mode.configure(&mut group, slow);
            // One lookup per iteration for whole-file scans, a block otherwise;
            // criterion's throughput tells the importer how many.
            let block = if slow { 1 } else { BLOCK };
            group.throughput(Throughput::Elements(block as u64));
            group.bench_function(&name, |b| {
                b.iter_batched_ref(
                    || {
                        let mut keys = KeyStream::default();
                        sampler.fill(&mut keys, block);
                        keys
                    },
                    |keys| {
                        for i in 0..block as u64 {
                            check(&*lookup, keys, i);
                        }
                    },
                    BatchSize::SmallInput,
                )
            });
            group.finish();
            run.ids.push(benchmark_id("get", info, Some(&workload), &name.into()));
        }
    }
}

/// Keys per [`Lookup::get_many`] call in the batched benchmarks.
const BATCH: usize = 64;

/// Checks the answers [`Lookup::get_many`] gave for `keys` against the stream.
fn check_many(
    lookup: &dyn Lookup,
    stream: &KeyStream,
    from: u64,
    answers: &[Result<Option<kvbench_lookup::Value<'_>>, kvbench_lookup::LookupError>],
) {
    for (i, answer) in (from..).zip(answers) {
        let found = answer.as_ref().map(Option::is_some);
        assert_eq!(found.ok(), Some(stream.get(i).1), "{} gave a wrong answer in a batch", lookup.info().name);
    }
}

/// `get/<dataset>/<workload>,batch=64`: blocks of [`BLOCK`] fresh keys asked
/// [`BATCH`] at a time, every answer checked; criterion's throughput makes
/// the figure time per key.
fn batch_benches(c: &mut Criterion, mode: &Mode, run: &mut Run, info: &DatasetInfo, path: &Path) {
    let data = std::fs::read(path).unwrap_or_default();
    let keys = file_keys(&data, usize::MAX);
    drop(data);
    let strategies: Vec<Strategy> =
        [StrategyKind::HashMap, StrategyKind::MmapIndex, StrategyKind::PhfIndex, StrategyKind::Warming]
            .into_iter()
            .chain(engines())
            .map(Strategy::Plain)
            .collect();
    for workload in [Workload::UNIFORM, Workload::MISS] {
        let batched = workload.batched(BATCH);
        let label = batched.to_string();
        for strategy in &strategies {
            let lookup = open_ready(path, strategy);
            let name = strategy.to_string();
            let mut sampler = workload.sampler(&keys, 13);
            let mut group = c.benchmark_group(format!("get/{}/{label}", info.label()));
            mode.configure(&mut group, false);
            group.throughput(Throughput::Elements(BLOCK as u64));
            let mut answers = Vec::with_capacity(BATCH);
            group.bench_function(&name, |b| {
                b.iter_batched_ref(
                    || {
                        let mut stream = KeyStream::default();
                        sampler.fill(&mut stream, BLOCK);
                        stream
                    },
                    |stream| {
                        for from in (0..BLOCK as u64).step_by(BATCH) {
                            let batch: [&[u8]; BATCH] = std::array::from_fn(|j| stream.get(from + j as u64).0);
                            lookup.get_many(black_box(&batch), &mut answers);
                            check_many(&*lookup, stream, from, &answers);
                        }
                    },
                    BatchSize::SmallInput,
                )
            });
            group.finish();
            run.ids.push(benchmark_id("get", info, Some(&batched), &name.into()));
        }
    }
}

fn open_benches(c: &mut Criterion, mode: &Mode, run: &mut Run, info: &DatasetInfo, path: &Path) {
    let mut group = c.benchmark_group(format!("open/{}/-", info.label()));
    mode.configure(&mut group, true);
    // Each iteration is timed alone: the sidecar is deleted before it when
    // building, and a warming instance's background build is waited for
    // after it, so no iteration competes with the previous one's leftovers.
    let mut bench = |case: CaseId, fresh_index: Option<&Strategy>, open: &mut dyn FnMut() -> Box<dyn Lookup>| {
        let sidecar = fresh_index.and_then(|s| s.sidecar(path, &OpenOptions::default()));
        group.bench_function(case.to_string(), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    if let Some(sidecar) = &sidecar {
                        let _ = kvbench_lookup::remove_index(sidecar);
                    }
                    let start = Instant::now();
                    let lookup = black_box(open());
                    total += start.elapsed();
                    drop(lookup);
                }
                total
            })
        });
        run.ids.push(benchmark_id("open", info, None, &case));
    };
    for kind in [StrategyKind::Scan, StrategyKind::HashMap] {
        bench(kind.name().into(), None, &mut || open_or_die(path, &Strategy::Plain(kind)));
    }
    for kind in [StrategyKind::MmapIndex, StrategyKind::PhfIndex].into_iter().chain(engines()) {
        let index = Strategy::Plain(kind);
        let case = |start| CaseId::new(kind.to_string(), Some(start));
        bench(case(CaseStart::Build), Some(&index), &mut || open_or_die(path, &index));
        bench(case(CaseStart::Reopen), None, &mut || open_or_die(path, &index));
    }
    group.finish();
    // `warming` until its map serves: recorded as its ready time.
    let mut group = c.benchmark_group(format!("ready/{}/-", info.label()));
    mode.configure(&mut group, true);
    let warming = Strategy::Plain(StrategyKind::Warming);
    group.bench_function("warming", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                drop(black_box(open_ready(path, &warming)));
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
    run.ids.push(benchmark_id("ready", info, None, &"warming".into()));
    // `warming` until it can answer: its build is waited for outside the timing.
    let mut group = c.benchmark_group(format!("open/{}/-", info.label()));
    mode.configure(&mut group, true);
    group.bench_function("warming", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let warming = match Warming::open(path, &OpenOptions::default()) {
                    Ok(w) => w,
                    Err(e) => panic!("warming: {e}"),
                };
                total += start.elapsed();
                assert!(warming.wait_ready(Duration::from_secs(600)), "warming never became ready");
            }
            total
        })
    });
    group.finish();
    run.ids.push(benchmark_id("open", info, None, &"warming".into()));
}

fn main() {
    kvbench_results::stamp_build_commit(env!("KVBENCH_BUILD_COMMIT"));
    let mode = Mode::from_env();
    let started = std::time::SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let mut run = Run { info: RunInfo::detect(mode.quick), ids: Vec::new(), datasets: Vec::new(), extra: Vec::new() };
    for &keys in &mode.datasets {
        let (info, path) = dataset(keys);
        run.datasets.push(info.clone());
        open_benches(&mut c, &mode, &mut run, &info, &path);
        get_benches(&mut c, &mode, &mut run, &info, &path);
        batch_benches(&mut c, &mode, &mut run, &info, &path);
    }
    c.final_summary();
    // Only a full benchmarking run may replace the results: `--list`, `--test`
    // or a name filter would write a partial set over a complete one.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let partial = args.iter().any(|a| a == "--list" || a == "--test" || a == "--profile-time")
        || args.iter().any(|a| !a.starts_with('-'))
        || !args.iter().any(|a| a == "--bench");
    if partial {
        eprintln!("kvbench: not a full `cargo bench` run ({}): results not written", args.join(" "));
        return;
    }
    let mut results = ResultSet::new("criterion (cargo bench --bench lookup)");
    match import(&default_dir(), &run.ids, started, &run.datasets, &run.info) {
        Ok(records) => results.records = records,
        Err(e) => eprintln!("kvbench: cannot read criterion's estimates: {e}"),
    }
    results.records.append(&mut run.extra);
    let out = mode.results_path();
    match kvbench_results::io::write(&out, &results) {
        Ok(()) => eprintln!("wrote {} records to {}", results.records.len(), out.display()),
        Err(e) => eprintln!("kvbench: {e}"),
    }
}
