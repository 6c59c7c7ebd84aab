#!/usr/bin/env bash
# The regression gate as an A/B run in one job: the before commit and the
# candidate (the working tree, uncommitted changes included) are built side by
# side and the CI set is run alternately, each run a fresh `kvbench suite`
# process, then `kvbench compare BEFORE AFTER` judges the two sides' runs
# (exit 1 on a regression; see crates/results/src/compare.rs for the rule).
# A regression must persist: when the first batch of runs finds one, a second
# batch is run and all runs are judged together.
#
# Why A/B: a stored run from another machine or another hour differs from
# today's by the machine's drift, which is not known; dividing it out as a
# median shift also divides out a slowdown of every strategy. Runs of both
# sides interleaved in one job see the same machine, so whatever differs
# between the sides is the code. The order is balanced (A B B A A B …), so a
# machine that slows down or speeds up during the job favours neither side.
#
# Usage: benches/gate.sh [OUT=results/current]
#   BEFORE_REV  the commit to compare with (default: the merge-base with main;
#               on main itself HEAD~1, or HEAD when the tree has uncommitted changes)
#   GATE_RUNS   runs per side in a batch (default 10; at least 2)
# Writes OUT/{before,after}/N/ (each run's results and output; the
# instruction counts in run 1), OUT/{before,after}.json (each side's runs
# merged, for `kvbench report`), OUT/compare.md and OUT/gate.log.
# Needs valgrind and gungraun-runner (see .ci/run) for the instruction counts.
set -euo pipefail

root=$(git rev-parse --show-toplevel)
cd "$root"
out=${1:-results/current}
runs=${GATE_RUNS:-10}
# Puts the calling (sub)shell first in line for the CPU, when allowed (root,
# or passwordless sudo as on CI runners): other processes then preempt the
# measurement less. Only the runs are raised; builds keep normal priority.
first_in_line() {
    renice -n -20 -p "$BASHPID" >/dev/null 2>&1 || sudo -n renice -n -20 -p "$BASHPID" >/dev/null 2>&1 || true
}
priority=$( (first_in_line; nice) )
[ "$runs" -ge 2 ] || { echo "GATE_RUNS must be at least 2 (got $runs)" >&2; exit 2; }

# The before commit, and why that one.
if [ -n "${BEFORE_REV:-}" ]; then
    before_why="BEFORE_REV=$BEFORE_REV"
    before=$(git rev-parse --verify "$BEFORE_REV^{commit}")
else
    main=$(git rev-parse --verify -q origin/main || git rev-parse --verify -q main || true)
    [ -n "$main" ] || { echo "no main branch to take the merge-base with: set BEFORE_REV" >&2; exit 2; }
    before=$(git merge-base HEAD "$main")
    before_why="merge-base with main"
    if [ "$before" = "$(git rev-parse HEAD)" ]; then
        if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
            before_why="HEAD (on main, uncommitted changes)"
        else
            before=$(git rev-parse HEAD~1)
            before_why="HEAD~1 (on main, clean tree)"
        fi
    fi
fi

# One target directory for both sides (third-party crates are built once);
# each side's binary is copied out as soon as it is built.
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
src="$root/target/gate/src"
rm -rf "$out" && mkdir -p "$out/before" "$out/after" "$target/gate"
out=$(cd "$out" && pwd)
log="$out/gate.log"
say() { echo "$*" | tee -a "$log" >&2; }
cleanup() {
    git worktree remove --force "$src" 2>/dev/null || true
}
trap cleanup EXIT
start=$SECONDS

say "gate: before $(git rev-parse --short=12 "$before") ($before_why), after the working tree of $(git describe --always --dirty --abbrev=12); $runs runs per side at nice $priority"

# Builds kvbench and counts instructions in the source tree $1, for side $2.
# Cargo names a workspace crate's artifacts alike in both trees and judges
# them fresh by their sources' mtimes, so a tree whose files are older than
# the other side's build would silently reuse that build: the workspace's own
# packages are cleaned first (third-party crates stay built).
build_side() {
    local dir=$1 side=$2
    (
        cd "$dir"
        export CARGO_TARGET_DIR="$target"
        mapfile -t own < <(cargo metadata --format-version 1 --no-deps \
            | python3 -c 'import json,sys; [print("-p", p["name"]) for p in json.load(sys.stdin)["packages"]]')
        # shellcheck disable=SC2068 # "-p NAME" splits into two words on purpose
        cargo clean --release --quiet ${own[@]}
        cargo build --release --quiet --locked -p kvbench
    )
    cp "$target/release/kvbench" "$target/gate/$side.kvbench"
    rm -rf "$target/gungraun"
    (cd "$dir" && CARGO_TARGET_DIR="$target" cargo bench --quiet --locked --bench instructions -- --save-summary=json) \
        >"$out/instructions-$side.log" 2>&1 || { cat "$out/instructions-$side.log" >&2; return 1; }
    "$target/gate/$side.kvbench" import --from gungraun "$target/gungraun" --results "$out/instructions-$side.json"
}

# The before side. Its binary and instruction counts depend only on the commit
# and the toolchain, so they are kept in the target directory (the last
# before commit's only) and reused.
git worktree remove --force "$src" 2>/dev/null || true
rm -rf "$src"
git worktree prune
git worktree add --quiet --detach "$src" "$before"
cache="$target/gate/cache-$before-$(rustc -V | cksum | cut -d' ' -f1)"
if [ -x "$cache/kvbench" ] && [ -f "$cache/instructions.json" ]; then
    say "before: reusing the build and instruction counts in $cache"
else
    t=$SECONDS
    build_side "$src" before
    rm -rf "$target"/gate/cache-*
    mkdir -p "$cache"
    cp "$target/gate/before.kvbench" "$cache/kvbench"
    cp "$out/instructions-before.json" "$cache/instructions.json"
    say "before: built and counted in $((SECONDS - t)) s"
fi
cp "$cache/instructions.json" "$out/instructions-before.json"

t=$SECONDS
build_side "$root" after
say "after: built and counted in $((SECONDS - t)) s"

# Runs the CI set once for side $1 (before|after) as run number $2. Each side
# runs in its own source tree (so the records name its commit) on its own copy
# of the dataset (so neither reads the other's index sidecars).
run_side() {
    local side=$1 i=$2 bin dir
    if [ "$side" = before ]; then bin="$cache/kvbench" dir=$src; else bin="$target/gate/after.kvbench" dir=$root; fi
    local run="$out/$side/$i"
    mkdir -p "$run"
    local t=$SECONDS
    (cd "$dir" && first_in_line && exec "$bin" suite --keys 10k --workloads 'uniform;miss' --no-report \
        --data-dir "$target/gate/data-$side" --results "$run/suite.json") >"$run/suite.log" 2>&1 \
        || { cat "$run/suite.log" >&2; return 1; }
    say "run $i $side: $((SECONDS - t)) s"
}

# Runs I to J of both sides, in a balanced order (A B B A A B …): a machine
# that speeds up or slows down during the job favours neither side.
batch() {
    local i
    for i in $(seq "$1" "$2"); do
        if [ $((i % 2)) -eq 1 ]; then order="before after"; else order="after before"; fi
        for side in $order; do run_side "$side" "$i"; done
    done
}

batch 1 "$runs"
# Each side's instruction counts (one run: they are counts) join its first run.
cp "$out/instructions-before.json" "$out/before/1/instructions.json"
cp "$out/instructions-after.json" "$out/after/1/instructions.json"
kvbench="$target/gate/after.kvbench"
judge() { "$kvbench" compare "$out/before" "$out/after" --markdown "$out/compare.md" | tee -a "$log"; }
status=0
judge || status=$?
if [ "$status" -eq 1 ]; then
    say "gate: a regression in the first $runs runs per side; it must persist in $runs more"
    batch $((runs + 1)) $((2 * runs))
    status=0
    judge || status=$?
fi
for side in before after; do
    "$kvbench" merge "$out/$side"/* --results "$out/$side.json" 2>>"$log"
done
say "gate: $((SECONDS - start)) s in all, exit $status"
exit "$status"
