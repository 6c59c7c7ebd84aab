//! `get` latency of every strategy on a generated 10K-key dataset (hits and misses).
//!
//! The full matrix (1M/10M keys, Zipf, cache-ratio sweeps, build times) is the
//! micro-benchmark suite's job; this bench keeps `cargo bench` meaningful and
//! checks every answer it times.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kvbench_lookup::{OpenOptions, Strategy, StrategyKind, open};
use kvbench_workload::Dataset;
use kvbench_workload::keys::{absent_keys, file_keys};

fn dataset() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    match Dataset::new(10_000).ensure(&dir, |_| {}) {
        Ok((path, _)) => path,
        Err(e) => panic!("cannot generate the bench dataset in {}: {e}", dir.display()),
    }
}

fn strategies() -> Vec<Strategy> {
    let mut all: Vec<Strategy> =
        StrategyKind::ALL.into_iter().filter(|k| *k != StrategyKind::Lru).map(Strategy::Plain).collect();
    all.push(Strategy::Lru { ratio: 0.1, backing: StrategyKind::MmapIndex });
    all
}

fn get(c: &mut Criterion) {
    let path = dataset();
    let data = std::fs::read(&path).unwrap_or_default();
    let hits = file_keys(&data, 1000);
    let misses = absent_keys(1000, 1);
    let mut group = c.benchmark_group("get/10k");
    group.throughput(Throughput::Elements(1));
    for strategy in strategies() {
        let lookup = match open(&path, &strategy, &OpenOptions::default()) {
            Ok(l) => l,
            Err(e) => panic!("{strategy}: {e}"),
        };
        for (workload, keys, present) in [("hit", &hits, true), ("miss", &misses, false)] {
            let mut i = 0;
            group.bench_function(BenchmarkId::new(strategy.to_string(), workload), |b| {
                b.iter(|| {
                    i += 1;
                    let found = lookup.get(black_box(keys.get(i))).map(|v| v.is_some());
                    assert_eq!(found.ok(), Some(present), "{strategy} gave a wrong answer");
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, get);
criterion_main!(benches);
