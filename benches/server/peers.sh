#!/usr/bin/env bash
# kvbench serve against a real redis-server, same keys, same clients, one run:
#   HTTP  (wrk, closed loop, 64 connections): max requests/s, p50, p99
#   HTTP  (oha, open loop at 25 % and 50 % of wrk's max, 64 connections, latency corrected): p50, p99
#   RESP  (redis-benchmark GET, 64 connections, no pipelining and -P 16): requests/s, p50, p99
# for kvbench hashmap and mmap-index with --threads 1 and 2, and redis-server.
#
# and the server's CPU use during each run (from /proc/PID/stat).
#
# Usage: benches/server/peers.sh [KEYS=1000000] [SECONDS=10]   (KEYS a power of 10: oha's
# random URLs cover exactly key:000000000000 .. KEYS-1 only then)
# Needs: a release build (cargo build --release -p kvbench), wrk, redis-server,
# redis-benchmark; oha is optional (cargo install oha --locked).
# On a 2-core machine the single-threaded servers are pinned to CPU 0 and the
# clients to CPU 1; a 2-thread server shares both CPUs with its client.
set -euo pipefail

keys=${1:-1000000}
seconds=${2:-10}
conns=64
root=$(cd "$(dirname "$0")/../.." && pwd)
kvbench=$root/target/release/kvbench
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

for tool in wrk redis-server redis-benchmark; do
    command -v "$tool" >/dev/null || { echo "peers.sh: $tool is not installed" >&2; exit 2; }
done
[ -x "$kvbench" ] || { echo "peers.sh: build first: cargo build --release -p kvbench" >&2; exit 2; }

# redis-benchmark -r N asks for `key:%012d` in [0, N); wrk and oha ask for the
# same keys, so every request is a hit for every server.
data=$work/keys.txt
"$kvbench" gen --keys "$keys" --out "$work/gen.txt" >/dev/null
awk '{ printf "key:%012d %s\n", NR - 1, substr($0, index($0, " ") + 1) }' "$work/gen.txt" >"$data"
rm "$work/gen.txt"
cat >"$work/keys.lua" <<LUA
math.randomseed(os.time() + math.floor(os.clock() * 1e6))
request = function()
  return wrk.format("GET", string.format("/key:%012d", math.random(0, $keys - 1)))
end
LUA

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wrk's "50%  1.23ms" → milliseconds.
wrk_ms() { awk -v p="$1" '$1 == p { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
    f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.3f", v * f }' "$2"; }

results=$work/results.tsv
printf 'server\tthreads\tprotocol\tclient\trequests/s\tp50 ms\tp99 ms\terrors\tserver CPU %%\n' >"$results"

# CPU time of process $server_pid so far, in clock ticks (utime + stime).
ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
now() { date +%s.%N; }
# Appends the server's CPU % since ($1 ticks, $2 time) to the last row of the results.
cpu_column() {
    local t1 w1; t1=$(ticks); w1=$(now)
    local pct; pct=$(awk -v a="$1" -v b="$t1" -v s="$2" -v e="$w1" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.0f", (b - a) / hz / (e - s) * 100 }')
    sed -i '$ s/$/\t'"$pct"'/' "$results"
}
digits=${#keys}; digits=$((digits - 1))
zeros=$(printf '%0*d' $((12 - digits)) 0)

http_runs() { # label threads addr
    local label=$1 threads=$2 addr=$3 out=$work/wrk.txt t0 w0
    t0=$(ticks); w0=$(now)
    taskset -c 1 wrk -t1 -c"$conns" -d"${seconds}s" --latency -s "$work/keys.lua" "http://$addr" >"$out"
    local rps errors
    rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$out")
    errors=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { n += 1 } END { print n + 0 }' "$out")
    printf '%s\t%s\tHTTP\twrk -c%s (closed loop)\t%s\t%s\t%s\t%s\n' "$label" "$threads" "$conns" "$rps" \
        "$(wrk_ms 50% "$out")" "$(wrk_ms 99% "$out")" "$errors" >>"$results"
    cpu_column "$t0" "$w0"
    command -v oha >/dev/null || return 0
    local fraction rate json=$work/oha.json
    for fraction in 4 2; do
        rate=$((rps / fraction))
        t0=$(ticks); w0=$(now)
        # oha's URL generator: the same key space as wrk's script.
        taskset -c 1 oha --no-tui --output-format json -c "$conns" -q "$rate" -z "${seconds}s" --latency-correction \
            --rand-regex-url "http://$addr/key:$zeros[0-9]{$digits}" >"$json" 2>/dev/null || true
        python3 - "$json" "$label" "$threads" "$conns" "$rate" >>"$results" <<'PY'
import json, sys
path, label, threads, conns, rate = sys.argv[1:]
try:
    r = json.load(open(path))
except Exception as e:
    sys.exit(0)
pct = r["latencyPercentiles"]
codes = r.get("statusCodeDistribution", {})
# Requests still in flight when the run's time is up are cancelled; they are not errors.
failed = {e: n for e, n in r.get("errorDistribution", {}).items() if "deadline" not in e}
errors = sum(n for code, n in codes.items() if code != "200") + sum(failed.values())
print(f"{label}\t{threads}\tHTTP\toha -c{conns} -q{rate} (open loop, corrected)\t{r['summary']['requestsPerSec']:.0f}"
      f"\t{pct['p50'] * 1e3:.3f}\t{pct['p99'] * 1e3:.3f}\t{errors}")
PY
        cpu_column "$t0" "$w0"
    done
}

resp_run() { # label threads port pipeline
    local csv n=$((seconds * 40000 * $4)) t0 w0
    t0=$(ticks); w0=$(now)
    csv=$(taskset -c 1 redis-benchmark -h 127.0.0.1 -p "$3" -c "$conns" -P "$4" -n "$n" -r "$keys" -t get --csv 2>/dev/null | tail -1)
    # "GET","rps","avg","min","p50","p95","p99","max"
    echo "$csv" | tr -d '"' | awk -F, -v l="$1" -v t="$2" -v c="$conns" -v p="$4" \
        '{ printf "%s\t%s\tRESP\tredis-benchmark -c%s -P%s GET\t%.0f\t%s\t%s\t-\n", l, t, c, p, $2, $5, $7 }' >>"$results"
    cpu_column "$t0" "$w0"
}

for strategy in hashmap mmap-index; do
    for threads in 1 2; do
        cpus=0; [ "$threads" = 2 ] && cpus=0,1
        taskset -c "$cpus" "$kvbench" serve --data "$data" --strategy "$strategy" --threads "$threads" \
            --http 127.0.0.1:0 --resp 127.0.0.1:0 >"$work/addr" 2>"$work/serve.log" &
        pid=$!; pids+=("$pid"); server_pid=$pid
        while [ "$(wc -l <"$work/addr")" -lt 2 ]; do sleep 0.1; done
        http=$(sed -n 's|listening on http://||p' "$work/addr")
        resp=$(sed -n 's|listening on resp://||p' "$work/addr"); resp=${resp##*:}
        echo "kvbench $strategy --threads $threads: http $http, resp $resp" >&2
        http_runs "kvbench $strategy" "$threads" "$http"
        resp_run "kvbench $strategy" "$threads" "$resp" 1
        resp_run "kvbench $strategy" "$threads" "$resp" 16
        kill -TERM "$pid"; wait "$pid" || true
    done
done

port=$(free_port)
taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$work" >"$work/redis.log" 2>&1 &
pid=$!; pids+=("$pid"); server_pid=$pid
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
"$kvbench" get --data "$data" --strategy redis --redis-url "redis://127.0.0.1:$port/" key:000000000000 >/dev/null
echo "redis-server $(redis-server --version | awk '{print $3}'): port $port, $(redis-cli -p "$port" dbsize) keys" >&2
resp_run "redis-server" 1 "$port" 1
resp_run "redis-server" 1 "$port" 16

echo "## kvbench serve vs redis-server: $keys keys, ${seconds}s per run, $(nproc) CPUs, $(date -u +%F)"
echo
awk -F'\t' '{ row = "|"; for (i = 1; i <= NF; i++) row = row " " $i " |"; print row }
    NR == 1 { print "|---|---|---|---|---:|---:|---:|---:|---:|" }' "$results"
