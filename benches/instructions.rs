//! Instruction counts of `get` under Callgrind (gungraun): the deterministic
//! signal of the regression gate, which wall-clock timings on a shared 2-core
//! machine cannot give.
//!
//! Each benchmark counts the instructions of one block of lookups of keys
//! drawn by a fixed-seed workload on a 10K-key dataset, every answer checked.
//! Opening the strategy (building `hashmap`, building or reopening the
//! `mmap-index` sidecar, warming the `lru` cache) happens in gungraun's setup
//! and is not counted. Cache simulation is off: only instructions are wanted,
//! and without it Callgrind runs several times faster.
//!
//! Blocks are 100K lookups, 1K for `scan` (whose count is exact anyway and
//! whose lookups read up to the whole file). `hashmap` and `lru` hash with
//! ahash, seeded at random in every process, so probe lengths, and which keys
//! each cache shard holds, differ from run to run: over 1K lookups that moved
//! `hashmap`'s per-lookup count by up to 0.35 %; over 100K, runs agree within
//! 0.07 % (`hashmap`) and 0.09 % (`lru`, whose shards' hit rates stay seed
//! dependent). `mmap-index` and `scan` give the same count every run;
//! `phf-index`'s function is built with a random seed, which changes which
//! absent keys read the data file (1 in 256), so its miss count may move slightly.
//!
//! The benchmark ids are `<workload>_<dataset>_n<lookups>_<strategy>` with
//! the strategy spelled as an identifier (`mmap_index`, `lru10_mmap_index` for
//! `lru(0.1,mmap-index)`): `kvbench_results::gungraun::import` reads them back
//! from the summaries (`cargo bench --bench instructions -- --save-summary=json`)
//! into per-lookup records. Keep each id's dataset and lookups in step with its
//! arguments and [`KEYS`].
//!
//! Needs Valgrind and `gungraun-runner` of the same version as the gungraun
//! library (see `.ci/run`).

use std::convert::Infallible;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use gungraun::{Callgrind, LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main};
use kvbench_harness::probe::warm_cache;
use kvbench_lookup::{Lookup, OpenOptions, Strategy, open};
use kvbench_workload::file_keys;
use kvbench_workload::{Dataset, KeyStream, KeyStreams, Workload};

/// Keys in the dataset (`10k` in the ids).
const KEYS: u64 = 10_000;

/// Seed of the measured key streams.
const SEED: u64 = 7;

/// Seed of the stream that warms a cache, apart from the measured one.
const WARM_SEED: u64 = 8;

/// An opened strategy and the keys it will be asked for.
struct Block {
    lookup: Box<dyn Lookup>,
    keys: KeyStream,
}

/// The dataset, generated on first use into a folder of its own, so the
/// criterion bench (which deletes `mmap-index` sidecars in `data/`) cannot
/// disturb it.
fn dataset() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/kvbench/instructions");
    match Dataset::new(KEYS).ensure(&dir, |_| {}) {
        Ok((path, _)) => path,
        Err(e) => panic!("cannot generate the bench dataset in {}: {e}", dir.display()),
    }
}

/// Looks up the `i`-th key of `keys` and checks the answer.
fn check(lookup: &dyn Lookup, keys: &KeyStream, i: u64) {
    let (key, present) = keys.get(i);
    let found = lookup.get(black_box(key)).map(|v| v.is_some());
    assert_eq!(found.ok(), Some(present), "{} gave a wrong answer", lookup.info().name);
}

/// Setup (not counted): opens `strategy`, warms its cache if it has one, and
/// draws the block of keys.
fn setup(strategy: &str, workload: Workload, lookups: usize) -> Block {
    let path = dataset();
    let strategy: Strategy = strategy.parse().unwrap_or_else(|e| panic!("{strategy}: {e}"));
    let lookup = open(&path, &strategy, &OpenOptions::default()).unwrap_or_else(|e| panic!("{strategy}: {e}"));
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let keys = file_keys(&data, usize::MAX);
    // A cache is measured warm, as in steady state: filled by uniform lookups
    // of its own stream until its hit rate settles (as the criterion bench does).
    if let Some(cache) = lookup.info().cache {
        let limit = cache.capacity * 20;
        let warm = Workload::UNIFORM.stream(&keys, limit as usize, WARM_SEED);
        let Ok(_) = warm_cache(&*lookup, limit, |i| {
            check(&*lookup, &warm, i);
            Ok::<(), Infallible>(())
        });
    }
    Block { lookup, keys: workload.stream(&keys, lookups, SEED) }
}

// The counted part: the block of lookups. The block is handed back so that
// dropping it (unmapping, freeing the map) happens outside the count. (A doc
// comment here would be rejected by `#[library_benchmark]`.)
#[library_benchmark(setup = setup)]
#[bench::uniform_10k_n100k_hashmap("hashmap", Workload::UNIFORM, 100_000)]
#[bench::miss_10k_n100k_hashmap("hashmap", Workload::MISS, 100_000)]
#[bench::uniform_10k_n100k_mmap_index("mmap-index", Workload::UNIFORM, 100_000)]
#[bench::miss_10k_n100k_mmap_index("mmap-index", Workload::MISS, 100_000)]
#[bench::uniform_10k_n100k_phf_index("phf-index", Workload::UNIFORM, 100_000)]
#[bench::miss_10k_n100k_phf_index("phf-index", Workload::MISS, 100_000)]
#[bench::uniform_10k_n100k_lru10_mmap_index("lru(0.1,mmap-index)", Workload::UNIFORM, 100_000)]
#[bench::miss_10k_n100k_lru10_mmap_index("lru(0.1,mmap-index)", Workload::MISS, 100_000)]
#[bench::uniform_10k_n1k_scan("scan", Workload::UNIFORM, 1_000)]
#[bench::miss_10k_n1k_scan("scan", Workload::MISS, 1_000)]
fn get(block: Block) -> Block {
    for i in 0..block.keys.len() as u64 {
        check(&*block.lookup, &block.keys, i);
    }
    block
}

library_benchmark_group!(name = lookups; benchmarks = get);

main!(
    config = LibraryBenchmarkConfig::default().tool(Callgrind::with_args(["--cache-sim=no"]));
    library_benchmark_groups = lookups
);
