# kvbench tasks. `just` lists them; each is a thin wrapper over cargo/kvbench.

kvbench := "cargo run --release --quiet -p kvbench --"

# List the recipes.
default:
    @just --list

# The main job: generate the default datasets (10K, 1M keys) and measure every strategy.
suite *ARGS:
    {{kvbench}} suite {{ARGS}}

# Run the tests (what CI runs).
test:
    cargo test --workspace --locked

# Formatting and lints, as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Generate datasets into data/ as the suite names them (default 10K and 1M keys; e.g. `just gen 10k 1M 10M`).
gen +SIZES="10k 1M":
    for n in {{SIZES}}; do {{kvbench}} gen --keys "$n" --out-dir data; done

# All micro-benchmarks (criterion, then kvbench bench micro) into results/latest/, then the report (~11 min).
bench:
    cargo bench --bench lookup
    {{kvbench}} bench micro --full --results results/latest/suite.json

# The criterion matrix on 10K keys with short measurements (< 2 minutes); results in target/kvbench/quick/.
bench-quick:
    KVBENCH_QUICK=1 cargo bench --bench lookup

# Regenerate this machine's report, results/latest/report/, from results/latest/ (no measuring).
report:
    {{kvbench}} report --results results/latest --out results/latest/report

# Publish this machine's full run as the reference: results/latest/*.json to results/reference/, then redraw reports/.
# Run every benchmark first, from one clean commit, on a quiet machine (docs/methodology.md: "Publishing the reference run").
publish:
    cp results/latest/*.json results/reference/
    {{kvbench}} report --results results/reference --out reports

# Scale (~1 h, ~12 GB of disk, root for the limit): the core strategies on 10K..100M keys, then 100M under a
# 2 GiB memory limit (page cache included; no scan: it would read the whole file from disk per lookup), then a
# local 3-node Redis Cluster behind kvbench serve on 1M keys;
# results in results/latest/scale/, its report in results/latest/scale/report/ (growth, limits, 1B projection).
scale:
    mkdir -p results/latest/scale
    {{kvbench}} suite --keys 10k,1M,10M,100M --strategies 'scan,hashmap,mmap-index,phf-index,lru(0.1,mmap-index)' --runs 3 --full --results results/latest/scale/suite.json --no-report
    {{kvbench}} suite --keys 100M --memory-limit 2GiB --strategies 'hashmap,mmap-index,phf-index,lru(0.01,mmap-index)' --workloads 'uniform;zipf:0.99' --runs 3 --full --results results/latest/scale/limited.json --no-report
    {{kvbench}} bench macro --data data/kv-10k-normal_30_5-s42.txt --data data/kv-1M-normal_30_5-s42.txt --strategies 'hashmap,redis-cluster' --results results/latest/scale/macro.json
    {{kvbench}} report --results results/latest/scale --out results/latest/scale/report

# Serve the 1M-key dataset over HTTP (:8080) and RESP (:6380) until Ctrl-C; e.g. `just serve --strategy hashmap`.
serve *ARGS:
    {{kvbench}} gen --keys 1M --out-dir data
    {{kvbench}} serve --data data/kv-1M-normal_30_5-s42.txt {{ARGS}}

# kvbench serve under load, one process per configuration, into results/latest/macro.json (~6 min).
bench-macro *ARGS:
    {{kvbench}} bench macro {{ARGS}}

# The study's bash and Python programs beside `kvbench get` per strategy, at 10K and 1M keys, into results/latest/baselines.json.
bench-baselines *ARGS:
    {{kvbench}} bench baselines {{ARGS}}
    {{kvbench}} report --results results/latest --out results/latest/report

# kvbench serve (2 threads, 1M keys) at 80 % of its maximum for DURATION: errors and RSS per 10 s slice.
soak DURATION="10m":
    {{kvbench}} bench soak --duration {{DURATION}}

# kvbench serve vs redis-server on the same keys: wrk, oha and redis-benchmark (~4 min; needs wrk, redis-server, redis-tools).
bench-server KEYS="1000000" SECONDS="10":
    cargo build --release --quiet -p kvbench
    benches/server/peers.sh {{KEYS}} {{SECONDS}}

# One run of the CI set into DIR: suite on 10K keys + instruction counts (needs valgrind, gungraun-runner); ~25 s.
# The same code path as each commit of `kvbench history backfill` and the history job on main (history.yml).
ci-bench-run DIR="results/current":
    {{kvbench}} history run --out {{DIR}}

# The CI regression gate (benches/gate.sh): the before commit (BEFORE_REV, default the merge-base with main) and
# the working tree built side by side, 10 runs each of the CI set alternately in one job, judged by
# `kvbench compare` (exit 1 on a regression, which must persist in 10 more runs); results in results/current/ (~5 min).
ci-bench:
    benches/gate.sh results/current

# A stored run of this commit on this machine, for a quick look (`kvbench compare results/gate DIR`): RUNS runs of
# the CI set merged (median values, spreads covering every run). Its wall-clock figures only mean something against
# runs on the same machine (compare says when the machines differ); the gate itself is `just ci-bench`.
bless RUNS="3":
    rm -rf results/current/bless
    for i in $(seq {{RUNS}}); do just ci-bench-run results/current/bless/$i; done
    rm -rf results/gate && mkdir -p results/gate
    {{kvbench}} merge results/current/bless/* --results results/gate/blessed.json
    rm -rf results/current/bless

# The same checks as `just cargo-fuzz` (crates/fuzz), driven by proptest's generators; needs no nightly compiler.
# Fuzz the RESP parser, HTTP key decoding and the data-file parser, SECS seconds each (proptest on stable, fresh seeds).
fuzz SECS="600":
    KVBENCH_FUZZ_SECS={{SECS}} cargo test --release -p kvbench-server --test fuzz -- --nocapture --test-threads=1
    KVBENCH_FUZZ_SECS={{SECS}} cargo test --release -p kvbench-lookup --test fuzz -- --nocapture

# Needs nightly and `cargo install cargo-fuzz`. New inputs go to fuzz/corpus/TARGET (git-ignored); the kept inputs
# in fuzz/regressions/TARGET seed it. A crash lands in fuzz/artifacts/TARGET: minimize it with
# `cargo +nightly fuzz tmin TARGET FILE` and move the result to fuzz/regressions/TARGET, which `cargo test` replays.
# ARGS go to libFuzzer (e.g. -detect_leaks=0, -max_len=N).
# libFuzzer on one target (resp, http_key or data_file) for SECS seconds, one process.
cargo-fuzz TARGET SECS="600" *ARGS:
    mkdir -p fuzz/corpus/{{TARGET}}
    cargo +nightly fuzz run {{TARGET}} fuzz/corpus/{{TARGET}} fuzz/regressions/{{TARGET}} -- -max_total_time={{SECS}} {{ARGS}}

# data_file runs without leak checks: warming's detached builder thread can outlive an input, which
# libFuzzer's per-input leak check reports at random (see fuzz/fuzz_targets/data_file.rs).
# libFuzzer on every target in turn, SECS seconds each (3 × 600 s by default).
cargo-fuzz-all SECS="600":
    just cargo-fuzz resp {{SECS}}
    just cargo-fuzz http_key {{SECS}}
    just cargo-fuzz data_file {{SECS}} -detect_leaks=0
