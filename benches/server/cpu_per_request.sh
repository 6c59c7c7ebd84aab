#!/usr/bin/env bash
# Requests per server CPU-second and system calls per request (issue 22's measure), every server
# under the same client in the same run, rounds alternating:
#   RESP: redis-benchmark -c 50 -n N GET (no pipelining) on CPU 1, against redis-server (loaded
#         with the same file) and `kvbench serve --strategy hashmap` at 1 thread (CPU 0) and
#         2 threads (CPUs 0-1);
#   HTTP: wrk -t1 -c50 for SECS seconds on CPU 1, asking for the file's first 100k keys, against
#         kvbench serve at 1 and 2 threads.
# With BEFORE=<another kvbench binary>, its servers run beside the current ones (before/after in
# one run). With FLOOR=<kvbench-floor binary> (benches/server/floor), the smallest servers that
# answer GET over epoll (RESP and HTTP) and io_uring (RESP) run too: what a server that does
# nothing else spends, almost all of it in the kernel; and the epoll one pausing 20 us after each
# batch (COALESCE_US=20: fewer sleeps and wake-ups per request, at some latency).
# Server CPU is user + system from /proc/PID/stat around each run; requests are the client's count.
# After the rounds, each server's system calls per request are counted by `perf stat -e
# raw_syscalls:sys_enter` over one more run (a window of its own: counting slows every system call).
# With PROFILE=1, also a 6 s `perf record -e cpu-clock -g` of each RESP server (kvbench 1 thread,
# redis) into the work folder.
#
# Usage: benches/server/cpu_per_request.sh [DATA=data/kv-1M-normal_30_5-s42.txt] [N=600000] [ROUNDS=5] [SECS=6]
# Needs: a release build (cargo build --release -p kvbench), redis-server, redis-benchmark, wrk,
# python3; perf for the system-call counts (printed as "-" without it).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/data/kv-1M-normal_30_5-s42.txt}
n=${2:-600000}
rounds=${3:-5}
secs=${4:-6}
kvbench=${KVBENCH:-$root/target/release/kvbench}
work=$(mktemp -d)
tck=$(getconf CLK_TCK)
declare -A pid port proto
servers=()
cleanup() {
    for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start NAME PROTOCOL CPUS PORT-PATTERN COMMAND...: runs a server, waits for its port.
start() {
    local name=$1 protocol=$2 cpus=$3 pattern=$4
    shift 4
    taskset -c "$cpus" "$@" >"$work/$name.out" 2>&1 &
    pid[$name]=$!
    proto[$name]=$protocol
    servers+=("$name")
    for _ in $(seq 300); do grep -Eq "$pattern" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
    port[$name]=$(grep -Eo "$pattern" "$work/$name.out" | head -1 | grep -Eo '[0-9]+$' || true)
}
kv() { # NAME BINARY PROTOCOL THREADS
    local cpus=0 off=http
    [ "$4" = 2 ] && cpus=0,1
    [ "$3" = http ] && off=resp
    start "$1" "$3" "$cpus" "$3://[0-9.:]+" "$2" serve --data "$data" --strategy hashmap --threads "$4" --$off off --"$3" 127.0.0.1:0
}

redis_port=$(free_port)
start redis-server resp 0 'Ready to accept' redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no
port[redis-server]=$redis_port
for t in 1 2; do
    [ -n "${BEFORE:-}" ] && kv "before-resp-t$t" "$BEFORE" resp $t
    kv "kvbench-resp-t$t" "$kvbench" resp $t
done
for t in 1 2; do
    [ -n "${BEFORE:-}" ] && kv "before-http-t$t" "$BEFORE" http $t
    kv "kvbench-http-t$t" "$kvbench" http $t
done
if [ -n "${FLOOR:-}" ]; then
    start floor-epoll-resp resp 0 'listening [0-9]+' "$FLOOR" epoll-resp "$data"
    start floor-epoll-resp-pause20 resp 0 'listening [0-9]+' env COALESCE_US=20 "$FLOOR" epoll-resp "$data"
    start floor-uring-resp resp 0 'listening [0-9]+' "$FLOOR" uring-resp "$data"
    start floor-epoll-http http 0 'listening [0-9]+' "$FLOOR" epoll-http "$data"
fi
sleep 0.5
"$kvbench" redis-load --data "$data" --redis-url "redis://127.0.0.1:$redis_port/0" >/dev/null
python3 - "$data" >"$work/keys.lua" <<'EOF'
import sys
keys = []
with open(sys.argv[1], "rb") as f:
    for line in f:
        keys.append(line.split(b" ", 1)[0].decode())
        if len(keys) == 100000:
            break
print("local keys = {" + ",".join('"%s"' % k for k in keys) + "}")
print("local i = 0\nrequest = function()\n  i = i % #keys + 1\n  return wrk.format(\"GET\", \"/kv/\" .. keys[i])\nend")
EOF

# load NAME REQUESTS: one run of the client against NAME; prints "requests req/s".
load() {
    local name=$1 requests=$2
    if [ "${proto[$name]}" = resp ]; then
        local rps
        rps=$(taskset -c 1 redis-benchmark -h 127.0.0.1 -p "${port[$name]}" -c 50 -n "$requests" -r 1000000 -t get -q 2>/dev/null \
            | tr '\r' '\n' | grep -Eo 'GET: [0-9.]+' | tail -1 | awk '{print $2}')
        echo "$requests $rps"
    else
        taskset -c 1 wrk -t1 -c50 -d"${3:-$secs}s" -s "$work/keys.lua" "http://127.0.0.1:${port[$name]}/" \
            | awk '/requests in/{r=$1} /^Requests\/sec/{print r, $2}'
    fi
}

printf 'round\tserver\treq/s\treq/CPU-s\n' | tee "$work/rounds.tsv"
for round in $(seq "$rounds"); do
    for name in "${servers[@]}"; do
        before=$(cpu_ticks "${pid[$name]}")
        read -r requests rps <<<"$(load "$name" "$n")"
        after=$(cpu_ticks "${pid[$name]}")
        printf '%s\t%s\t%.0f\t%.0f\n' "$round" "$name" "$rps" "$(echo "$requests * $tck / ($after - $before)" | bc -l)" \
            | tee -a "$work/rounds.tsv"
    done
done

printf '\nserver\tsyscalls/request\n' | tee "$work/syscalls.tsv"
for name in "${servers[@]}"; do
    calls=-
    if command -v perf >/dev/null; then
        perf stat -x, -e raw_syscalls:sys_enter -p "${pid[$name]}" -o "$work/perf-$name.csv" &
        perf_pid=$!
        sleep 0.3
        read -r requests _ <<<"$(load "$name" $((n / 4)) 2)"
        kill -INT "$perf_pid"
        wait "$perf_pid" || true
        count=$(awk -F, '/raw_syscalls:sys_enter/{print $1}' "$work/perf-$name.csv")
        [[ "$count" =~ ^[0-9]+$ ]] && calls=$(echo "$count / $requests" | bc -l | xargs printf '%.2f')
    fi
    printf '%s\t%s\n' "$name" "$calls" | tee -a "$work/syscalls.tsv"
done

# Medians over the rounds, and the ratios of each round (same round, same client) as medians with their range.
python3 - "$work/rounds.tsv" <<'EOF'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]).readlines()[1:]]
per = collections.defaultdict(dict)
for r, name, rps, eff in rows:
    per[name][r] = float(eff)
print("\nserver\tmedian req/CPU-s (min-max over rounds)")
for name, by in per.items():
    v = list(by.values())
    print(f"{name}\t{statistics.median(v):.0f} ({min(v):.0f}-{max(v):.0f})")
def ratio(a, b, what):
    if a not in per or b not in per:
        return
    v = [per[a][r] / per[b][r] for r in per[a] if r in per[b]]
    print(f"{what}\t{statistics.median(v):.2f}x ({min(v):.2f}-{max(v):.2f}x over {len(v)} rounds)")
print("\nratio of req/CPU-s, same round\tmedian (range)")
ratio("kvbench-resp-t1", "redis-server", "kvbench RESP 1 thread / redis-server")
ratio("kvbench-resp-t2", "kvbench-resp-t1", "kvbench RESP 2 threads / 1 thread")
ratio("kvbench-http-t2", "kvbench-http-t1", "kvbench HTTP 2 threads / 1 thread")
ratio("kvbench-resp-t1", "before-resp-t1", "RESP 1 thread: after / before")
ratio("kvbench-http-t1", "before-http-t1", "HTTP 1 thread: after / before")
ratio("kvbench-resp-t2", "before-resp-t2", "RESP 2 threads: after / before")
ratio("before-resp-t2", "before-resp-t1", "before: RESP 2 threads / 1 thread")
ratio("floor-epoll-resp", "redis-server", "floor epoll RESP / redis-server")
ratio("floor-uring-resp", "redis-server", "floor io_uring RESP / redis-server")
ratio("floor-epoll-resp-pause20", "redis-server", "floor epoll RESP, 20 us pause a batch / redis-server")
ratio("floor-epoll-resp", "kvbench-resp-t1", "floor epoll RESP / kvbench RESP")
ratio("floor-epoll-http", "kvbench-http-t1", "floor epoll HTTP / kvbench HTTP")
ratio("floor-epoll-http", "before-http-t1", "floor epoll HTTP / before HTTP")
EOF

if [ "${PROFILE:-0}" = 1 ]; then
    for name in kvbench-resp-t1 redis-server; do
        taskset -c 1 redis-benchmark -h 127.0.0.1 -p "${port[$name]}" -c 50 -n $((n * 3)) -r 1000000 -t get -q >/dev/null 2>&1 &
        bench=$!
        sleep 1
        perf record -q -e cpu-clock -F 4000 -g -p "${pid[$name]}" -o "$work/perf-$name.data" -- sleep 6 2>/dev/null
        wait "$bench" 2>/dev/null || true
    done
fi
echo "runs, system-call counts and profiles in $work"
