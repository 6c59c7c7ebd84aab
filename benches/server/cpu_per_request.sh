#!/usr/bin/env bash
# Requests per server CPU-second, kvbench serve vs redis-server, same keys, same client, same run
# (issue 22's measure): redis-benchmark -c 50 -n N GET (no pipelining) on CPU 1 against
# `kvbench serve --strategy hashmap --threads 1` and redis-server (loaded with the same file), each
# on CPU 0; server CPU from /proc/PID/stat (user + system) around each run; ROUNDS rounds, alternating.
# With PROFILE=1, also a 6 s `perf record -e cpu-clock -g` of each server and an `strace -c -f`
# count of its system calls over 3 s, into the work folder (printed at the end).
#
# Usage: benches/server/cpu_per_request.sh [DATA=data/kv-1M-normal_30_5-s42.txt] [N=600000] [ROUNDS=3]
# Needs: a release build (cargo build --release -p kvbench), redis-server, redis-benchmark, bc;
# perf and strace for PROFILE=1.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/data/kv-1M-normal_30_5-s42.txt}
n=${2:-600000}
rounds=${3:-3}
kvbench=${KVBENCH:-$root/target/release/kvbench}
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)

taskset -c 0 "$kvbench" serve --data "$data" --strategy hashmap --threads 1 --http off --resp 127.0.0.1:0 >"$work/serve.out" 2>/dev/null &
kv_pid=$!
pids+=("$kv_pid")
for _ in $(seq 300); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.2; done
kv_port=$(grep -Eo '[0-9]+$' "$work/serve.out" | head -1)
redis_port=$(free_port)
taskset -c 0 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
sleep 0.5
"$kvbench" redis-load --data "$data" --redis-url "redis://127.0.0.1:$redis_port/0" >/dev/null

# One run against PID on PORT: requests/s and requests per server CPU-second.
measure() {
    local before after rps
    before=$(cpu_ticks "$1")
    rps=$(taskset -c 1 redis-benchmark -h 127.0.0.1 -p "$2" -c 50 -n "$n" -r 1000000 -t get -q 2>/dev/null \
        | tr '\r' '\n' | grep -Eo 'GET: [0-9.]+' | tail -1 | awk '{print $2}')
    after=$(cpu_ticks "$1")
    echo "$3 $rps $(echo "$n * $tck / ($after - $before)" | bc -l)"
}
printf 'round\tserver\treq/s\treq/CPU-s\n'
for round in $(seq "$rounds"); do
    read -r _ kv_rps kv_eff <<<"$(measure "$kv_pid" "$kv_port" kvbench)"
    read -r _ r_rps r_eff <<<"$(measure "$redis_pid" "$redis_port" redis)"
    printf '%s\tkvbench hashmap RESP\t%.0f\t%.0f\n%s\tredis-server\t%.0f\t%.0f\t(kvbench/redis: %.2fx)\n' \
        "$round" "$kv_rps" "$kv_eff" "$round" "$r_rps" "$r_eff" "$(echo "$kv_eff / $r_eff" | bc -l)"
done

if [ "${PROFILE:-0}" = 1 ]; then
    for server in kvbench redis; do
        if [ $server = kvbench ]; then pid=$kv_pid port=$kv_port; else pid=$redis_pid port=$redis_port; fi
        taskset -c 1 redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n $((n * 3)) -r 1000000 -t get -q >/dev/null 2>&1 &
        bench=$!
        sleep 1
        perf record -q -e cpu-clock -F 4000 -g -p "$pid" -o "$work/perf-$server.data" -- sleep 6 2>/dev/null
        timeout -s INT 3 strace -c -f -p "$pid" -o "$work/strace-$server.txt" 2>/dev/null || true
        wait "$bench" 2>/dev/null || true
    done
    echo "profiles and system-call counts in $work (perf report -i $work/perf-kvbench.data --children --sort symbol)"
fi
