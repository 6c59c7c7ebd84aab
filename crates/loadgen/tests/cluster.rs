//! The load generator speaking Redis Cluster itself, against a real local
//! cluster of three primaries (skipped, saying so, without redis-server; a
//! failure under `CI`): every answer checked, keys routed to every node, a
//! stale slot map corrected by `MOVED`, a slot mid-migration followed by `ASK`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::atomic::AtomicU64;

use kvbench_loadgen::cluster::{ClusterConnection, SLOTS, SlotMap, slot};
use kvbench_loadgen::{Answer, LoadSpec, Stop, Target, run};
use kvbench_lookup::{OpenOptions, Strategy, StrategyKind};
use kvbench_peers::RedisCluster;
use kvbench_workload::{Workload, file_keys};

const KEYS: usize = 600;

/// A data file of `KEYS` keys loaded into `cluster` by the `redis-cluster` strategy; its keys, and a lookup on it.
fn loaded(cluster: &RedisCluster, dir: &Path) -> (kvbench_workload::KeyPool, Box<dyn kvbench_lookup::Lookup>) {
    let path = dir.join("data.txt");
    let text: String = (0..KEYS).map(|i| format!("k{i} v{i}\n")).collect();
    std::fs::write(&path, &text).unwrap();
    let options = OpenOptions { redis_cluster: Some(cluster.urls()), ..OpenOptions::default() };
    drop(kvbench_lookup::open(&path, &Strategy::Plain(StrategyKind::RedisCluster), &options).unwrap());
    let expect = kvbench_lookup::open(&path, &Strategy::Plain(StrategyKind::HashMap), &OpenOptions::default()).unwrap();
    (file_keys(text.as_bytes(), KEYS), expect)
}

/// A connection to one node, for setting up and inspecting the cluster.
fn node(addr: std::net::SocketAddr) -> redis::Connection {
    redis::Client::open(format!("redis://{addr}/")).unwrap().get_connection().unwrap()
}

/// Runs `future` on a runtime of its own: a client's connections live and die with it.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

#[test]
fn every_answer_of_a_cluster_checks_out_and_every_node_is_asked() {
    let Some(cluster) = RedisCluster::for_test() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (keys, expect) = loaded(&cluster, dir.path());
    let map = SlotMap::fetch(cluster.addrs()[1]).unwrap();
    let mut nodes = map.nodes().to_vec();
    nodes.sort();
    let mut addrs = cluster.addrs();
    addrs.sort();
    assert_eq!(nodes, addrs, "the map names every primary");

    // Counted per node: each one's GETs before and after, from its own INFO.
    let gets = |addr| {
        let info: String = redis::cmd("INFO").arg("commandstats").query(&mut node(addr)).unwrap();
        let line = info.lines().find(|l| l.starts_with("cmdstat_get:")).unwrap_or("cmdstat_get:calls=0,");
        line.split(['=', ',']).nth(1).unwrap().parse::<u64>().unwrap()
    };
    let before: Vec<u64> = cluster.addrs().into_iter().map(gets).collect();
    let half_misses: Workload = "uniform,miss=0.5".parse().unwrap();
    let spec = LoadSpec {
        target: Target::Cluster(cluster.addrs()[2]),
        connections: 4,
        threads: 2,
        stop: Stop::Requests(900),
        rate: None,
        workload: half_misses,
        seed: 3,
        timeout: kvbench_loadgen::REQUEST_TIMEOUT,
    };
    let report = run(&spec, &keys, &*expect, &AtomicU64::new(0)).unwrap();
    assert_eq!(report.errors.total(), 0, "{:?}", report.errors);
    assert_eq!((report.requests, report.found + report.absent), (900, 900));
    assert!(report.found > 300 && report.absent > 300, "{} found, {} absent", report.found, report.absent);
    // Straight to the owner: no node was asked for a key it does not hold (each GET counted once).
    let asked: Vec<u64> = cluster.addrs().into_iter().map(gets).zip(&before).map(|(after, b)| after - b).collect();
    assert_eq!(asked.iter().sum::<u64>(), 900, "{asked:?}");
    assert!(asked.iter().all(|&n| n > 150), "every node answers its share: {asked:?}");
}

#[test]
fn a_stale_slot_map_is_corrected_by_moved() {
    let Some(cluster) = RedisCluster::for_test() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (keys, expect) = loaded(&cluster, dir.path());
    // A map that sends every slot to the first node: two thirds of the keys are MOVED elsewhere.
    let first = cluster.addrs()[0];
    let all_on_first = redis::Value::Array(vec![redis::Value::Array(vec![
        redis::Value::Int(0),
        redis::Value::Int(i64::from(SLOTS) - 1),
        redis::Value::Array(vec![
            redis::Value::BulkString(first.ip().to_string().into()),
            redis::Value::Int(i64::from(first.port())),
        ]),
    ])]);
    let stale = SlotMap::from_reply(&all_on_first, first.ip()).unwrap();
    let truth = SlotMap::fetch(first).unwrap();
    let mut client = ClusterConnection::new(stale);
    block_on(async {
        client.connect().await.unwrap();
        for i in 0..keys.len() as u64 {
            let key = keys.get(i);
            let want = expect.get(key).unwrap().unwrap();
            assert_eq!(client.get(key).await.unwrap(), Answer::Found(&want), "{}", String::from_utf8_lossy(key));
        }
    });
    // Every slot asked about is now where the cluster says it is.
    for i in 0..keys.len() as u64 {
        let slot = slot(keys.get(i));
        assert_eq!(client.map().node(slot), truth.node(slot), "slot {slot}");
    }
}

#[test]
fn a_key_of_a_slot_being_migrated_is_followed_by_ask() {
    let Some(cluster) = RedisCluster::for_test() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (keys, expect) = loaded(&cluster, dir.path());
    let map = SlotMap::fetch(cluster.addrs()[0]).unwrap();
    let key = keys.get(7).to_vec();
    let slot = slot(&key);
    let source = map.node(slot).unwrap();
    let target = *map.nodes().iter().find(|&&n| n != source).unwrap();
    let id = |addr| -> String { redis::cmd("CLUSTER").arg("MYID").query(&mut node(addr)).unwrap() };
    // The documented migration steps (CLUSTER SETSLOT): importing on the target, migrating on the source, then MIGRATE.
    let ok = |addr, args: &[&str]| {
        let _: redis::Value = redis::cmd("CLUSTER").arg(args).query(&mut node(addr)).unwrap();
    };
    ok(target, &["SETSLOT", &slot.to_string(), "IMPORTING", &id(source)]);
    ok(source, &["SETSLOT", &slot.to_string(), "MIGRATING", &id(target)]);
    let _: redis::Value = redis::cmd("MIGRATE")
        .arg(target.ip().to_string())
        .arg(target.port())
        .arg(&key)
        .arg(0)
        .arg(5000)
        .query(&mut node(source))
        .unwrap();
    let mut client = ClusterConnection::new(map.clone());
    let want = expect.get(&key).unwrap().unwrap();
    block_on(async {
        for _ in 0..3 {
            assert_eq!(client.get(&key).await.unwrap(), Answer::Found(&want));
        }
        assert_eq!(client.map().node(slot), Some(source), "ASK leaves the map as it was");
        // The other keys of the cluster answer as before.
        for i in 0..50 {
            let other = keys.get(i);
            assert_eq!(client.get(other).await.unwrap(), Answer::Found(&expect.get(other).unwrap().unwrap()));
        }
    });
}
