#!/usr/bin/env bash
# Pipelined GETs: redis-benchmark -t get -P 16 -c 50 (2M requests over 1M
# keys named key:%012d) against kvbench serve (phf-index and hashmap, 1
# thread, on CPU 0) and redis-server (on CPU 0, loaded by kvbench redis-load),
# the client on CPU 1, three interleaved rounds. Prints per round and server:
# GET/s and the server's CPU seconds. Every server is checked to hold the keys.
#
# Then, three more interleaved rounds, a key's server CPU asked two ways: an
# MGET of 64 random keys (62,500 of them, 50 connections) against 64
# pipelined GETs (-P 64, 4M GETs, 50 connections): 4M keys either way.
# Prints per round, server and way: the server's CPU seconds and ns per key.
# Usage: benches/server/pipelined_get.sh   (KVBENCH=path/to/kvbench to pick a build)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
kv=${KVBENCH:-$root/target/release/kvbench}
[ -x "$kv" ] || { echo "pipelined_get.sh: build first: cargo build --release -p kvbench (or set KVBENCH)" >&2; exit 2; }
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
$kv gen --keys 1000000 --out $work/gen.txt >/dev/null
awk '{ printf "key:%012d %s\n", NR - 1, substr($0, index($0, " ") + 1) }' $work/gen.txt > $work/keys.txt; rm $work/gen.txt
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rport=$(free_port)
taskset -c 0 redis-server --port $rport --save '' --appendonly no --daemonize no >/dev/null 2>&1 & pids+=($!); rpid=$!
sleep 0.5
$kv redis-load --data $work/keys.txt --redis-url redis://127.0.0.1:$rport/ >/dev/null 2>&1 || echo "redis-load failed"
declare -A port pid
for s in phf-index hashmap; do
  p=$(free_port); port[$s]=$p
  taskset -c 0 $kv serve --data $work/keys.txt --strategy $s --threads 1 --http off --resp 127.0.0.1:$p > $work/$s.out 2>/dev/null & pids+=($!); pid[$s]=$!
done
port[redis-server]=$rport; pid[redis-server]=$rpid
sleep 3
for s in "${!port[@]}"; do
  [ -n "$(redis-cli -p "${port[$s]}" GET key:000000000042)" ] || { echo "$s does not hold the keys" >&2; exit 1; }
done
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
for round in 1 2 3; do
  for s in phf-index hashmap redis-server; do
    t0=$(ticks ${pid[$s]})
    rps=$(taskset -c 1 redis-benchmark -p ${port[$s]} -t get -P 16 -c 50 -n 2000000 -r 1000000 -q 2>/dev/null | tr '\r' '\n' | grep -Eo 'GET: [0-9.]+' | tail -1 | awk '{print $2}')
    t1=$(ticks ${pid[$s]})
    echo -e "$round\t$s\t$rps\tcpu_s=$(echo "($t1-$t0)/100" | bc -l | cut -c1-5)"
  done
done
mget=$(for i in $(seq 64); do printf 'key:__rand_int__ '; done)
for round in 1 2 3; do
  for s in phf-index hashmap redis-server; do
    for way in mget get-P64; do
      t0=$(ticks ${pid[$s]})
      if [ $way = mget ]; then
        # shellcheck disable=SC2086 # the 64 keys are 64 arguments
        taskset -c 1 redis-benchmark -p ${port[$s]} -c 50 -n 62500 -r 1000000 -q MGET $mget >/dev/null 2>&1
      else
        taskset -c 1 redis-benchmark -p ${port[$s]} -c 50 -n 4000000 -r 1000000 -P 64 -q GET key:__rand_int__ >/dev/null 2>&1
      fi
      t1=$(ticks ${pid[$s]})
      echo -e "$round\t$s\t$way\tcpu_s=$(echo "($t1-$t0)/100" | bc -l | cut -c1-5)\tns_per_key=$(echo "($t1-$t0)*10000000/4000000" | bc)"
    done
  done
done
