#!/usr/bin/env bash
# Server configurations loaded alternately in one run, to compare them under
# the same conditions: `kvbench serve --strategy hashmap` on 1M keys, each run
# a fresh server loaded by kvbench's own load generator (`kvbench load`, the
# generator of `bench macro`: closed loop, HTTP, uniform keys, every answer
# checked), with the server's and the client's CPU, and what the rest of the
# machine used meanwhile (other processes on a shared machine).
#
# Usage: benches/server/ab.sh CONFIG...
#   CONFIG  LABEL=BINARY:THREADS:SERVER_CPUS:CLIENT_CPUS:CONNECTIONS, e.g.
#           "1 thread=target/release/kvbench:1:0:1:64" (the pinning of `bench macro`)
# Environment: ROUNDS (3), RUN_SECONDS (5), KEYS (1M), CLIENT (target/release/kvbench),
#   STRATEGY (hashmap), DATA_DIR (data), QUIET (unset: do not wait for a quiet machine),
#   CLEAN (unset: keep every run; PCT: run again a run during which other processes used over PCT %).
# Rounds run the configurations in order, then in reverse (ABBA), so a drift in
# the machine's load does not favour one. Prints every run, then per
# configuration the median and range of requests/s and of CPU time per request
# (server and client: on a machine other processes share, throughput follows
# their load, CPU per request much less), and the share of the run the
# client's and the server's threads spent runnable but waiting for a CPU
# (/proc/PID/task/*/schedstat), which shows who takes turns with whom.
#
# Used for two write-ups on the reference machine: the counting allocator's
# cost (the same commit built with and without it,
# results/runs/2026-11-30-epyc-2vcpu-allocator-ab/NOTES.md) and why two server
# threads trail one on two CPUs (results/runs/2026-11-30-epyc-2vcpu-server-threads/NOTES.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${ROUNDS:-3}
seconds=${RUN_SECONDS:-5}
keys=${KEYS:-1M}
client=${CLIENT:-$root/target/release/kvbench}
strategy=${STRATEGY:-hashmap}
data_dir=${DATA_DIR:-$root/data}
[ $# -gt 0 ] || { sed -n '2,25p' "$0"; exit 2; }
[ "$seconds" -ge 3 ] || { echo "ab.sh: RUN_SECONDS must be at least 3" >&2; exit 2; }
[ -x "$client" ] || { echo "ab.sh: build first: cargo build --release -p kvbench" >&2; exit 2; }
command -v taskset >/dev/null || { echo "ab.sh: taskset is not installed" >&2; exit 2; }

work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT

"$client" gen --keys "$keys" --out-dir "$data_dir" >/dev/null 2>&1
data=$(ls "$data_dir"/kv-"$keys"-normal_30_5-s42.txt)
echo "data: $data; $rounds rounds of ${seconds}s per configuration; client $client" >&2

# Busy ticks of all CPUs so far (user, nice, system, irq, softirq, steal).
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# Nanoseconds the threads of process $1 have spent runnable, waiting for a CPU (schedstat's run_delay).
delay() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ n += $2 } END { printf "%d", n }'; }

# With QUIET=PCT, waits (up to 10 minutes) until the machine has been under PCT % busy
# for 2 s before each run: other processes on a shared machine take turns with the server.
quiet() {
    [ -n "${QUIET:-}" ] || return 0
    local waited=0 b0 b1
    while [ "$waited" -lt 300 ]; do
        b0=$(busy); sleep 2; b1=$(busy)
        [ $(((b1 - b0) * 100 / 2 / $(getconf CLK_TCK))) -lt "$QUIET" ] && return 0
        waited=$((waited + 1))
    done
    echo "ab.sh: the machine stayed busier than $QUIET % for 10 minutes; running anyway" >&2
}

results=$work/runs.tsv
run() { # round label binary threads server_cpus client_cpus connections
    local round=$1 label=$2 bin=$3 threads=$4 scpus=$5 ccpus=$6 conns=$7
    quiet
    # Emptied here, not by the background job's redirection, which may come after the wait below starts.
    : >"$work/addr"
    taskset -c "$scpus" "$bin" serve --data "$data" --strategy "$strategy" --threads "$threads" \
        --http 127.0.0.1:0 >"$work/addr" 2>"$work/serve.log" &
    server_pid=$!
    # The whole line: the address is written before its newline.
    until grep -q 'listening on http://' "$work/addr" 2>/dev/null && [ -z "$(tail -c1 "$work/addr")" ]; do
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
        sleep 0.1
    done
    local addr b0 b1 t0 t1
    addr=$(sed -n 's|listening on http://||p' "$work/addr")
    b0=$(busy); t0=$(date +%s.%N)
    taskset -c "$ccpus" "$client" load --target "http://$addr" --data "$data" -c "$conns" -z "${seconds}s" \
        --server-pid "$server_pid" >"$work/load.txt" &
    local load_pid=$! d0 d1 w0 w1
    # Time the client's and the server's threads spent runnable but waiting
    # for a CPU, over the middle of the run (the load's threads exist only then).
    sleep 1
    d0="$(delay "$load_pid") $(delay "$server_pid")"; w0=$(date +%s.%N)
    sleep $((seconds - 2))
    d1="$(delay "$load_pid") $(delay "$server_pid")"; w1=$(date +%s.%N)
    wait "$load_pid"
    b1=$(busy); t1=$(date +%s.%N)
    kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=
    read -r cd0 sd0 <<<"$d0"; read -r cd1 sd1 <<<"$d1"
    awk -v round="$round" -v label="$label" -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$t1" \
        -v cwait="$(awk -v a="$cd0" -v b="$cd1" -v s="$w0" -v e="$w1" 'BEGIN { printf "%.0f", (b - a) / 1e7 / (e - s) }')" \
        -v swait="$(awk -v a="$sd0" -v b="$sd1" -v s="$w0" -v e="$w1" 'BEGIN { printf "%.0f", (b - a) / 1e7 / (e - s) }')" \
        -v hz="$(getconf CLK_TCK)" -F'\n' '
        /requests\// { split($0, w, " "); for (i = 1; i <= length(w); i++) if (w[i] == "requests/s") rps = w[i - 1] }
        / errors$|, [0-9]+ errors/ { n = split($0, w, " "); errors = w[n - 1] }
        /^  server / { match($0, /CPU [0-9]+ % user \+ [0-9]+ % system/); split(substr($0, RSTART, RLENGTH), c, " ");
                       server = c[2] + c[6] }
        /^  client / { match($0, /CPU [0-9]+ %/); split(substr($0, RSTART, RLENGTH), c, " "); clientcpu = c[2] }
        END { all = (b1 - b0) / hz / (t1 - t0) * 100; other = all - server - clientcpu; if (other < 0) other = 0
              printf "%s\t%s\t%.0f\t%s\t%s\t%.2f\t%.2f\t%s\t%s\t%.0f\t%s\n", round, label, rps, server, clientcpu,
                  server * 1e4 / rps, clientcpu * 1e4 / rps, cwait, swait, other, errors }' \
        "$work/load.txt" >"$work/row"
    # With CLEAN=PCT, a run during which other processes used more than PCT % of
    # the CPUs is shown but not kept, and run again (up to 20 times).
    if [ -n "${CLEAN:-}" ] && awk -F'\t' -v max="$CLEAN" '{ exit !($10 > max) }' "$work/row"; then
        sed 's/^/(discarded, others busy) /' "$work/row" >&2
        return 1
    fi
    tee -a "$results" <"$work/row"
}

printf 'round\tconfiguration\trequests/s\tserver CPU %%\tclient CPU %%\tserver CPU µs/request\tclient CPU µs/request\tclient waiting %%\tserver waiting %%\tothers CPU %%\terrors\n'
for round in $(seq 1 "$rounds"); do
    configs=("$@")
    if [ $((round % 2)) -eq 0 ]; then
        reversed=(); for ((i = ${#configs[@]} - 1; i >= 0; i--)); do reversed+=("${configs[i]}"); done
        configs=("${reversed[@]}")
    fi
    for config in "${configs[@]}"; do
        label=${config%%=*}
        IFS=: read -r bin threads scpus ccpus conns <<<"${config#*=}"
        for _ in $(seq 1 20); do
            run "$round" "$label" "$bin" "$threads" "$scpus" "$ccpus" "$conns" && break
        done
    done
done

echo
echo "| configuration | requests/s | server CPU µs/request | client CPU µs/request | server CPU % | client CPU % | client waiting for a CPU % | server waiting % | others CPU % |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for config in "$@"; do
    label=${config%%=*}
    awk -F'\t' -v label="$label" '$2 == label { n++; r[n] = $3; s[n] = $4; c[n] = $5; su[n] = $6; cu[n] = $7; cw[n] = $8; sw[n] = $9; o[n] = $10 }
        function sort(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } }
        function median(a, n) { sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
        function spread(a, n, f) { sort(a, n); return sprintf(f " [" f "–" f "]", median(a, n), a[1], a[n]) }
        END { printf "| %s | %s | %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f |\n", label, spread(r, n, "%.0f"), spread(su, n, "%.2f"),
                  spread(cu, n, "%.2f"), median(s, n), median(c, n), median(cw, n), median(sw, n), median(o, n) }' "$results"
done
