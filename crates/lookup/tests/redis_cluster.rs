//! The `redis-cluster` strategy against a real local Redis Cluster of three
//! nodes (started by `kvbench-peers` on free ports; the tests skip, saying so,
//! when redis-server is not installed, and fail under `CI`): the same
//! differential checks as every other strategy, then the marker's rules
//! over every primary: reuse, refusal of foreign keys, reload over another file.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use kvbench_lookup::redis_cluster::{MARKER_KEY, RedisClusterLookup};
use kvbench_lookup::{Lookup, LookupError, OpenError, OpenOptions, Strategy, open};
use kvbench_peers::RedisCluster;

/// Options reaching the cluster through every node's URL.
fn options(cluster: &RedisCluster) -> OpenOptions {
    OpenOptions { redis_cluster: Some(cluster.urls()), ..OpenOptions::default() }
}

/// A cluster connection, for setting up and inspecting the cluster.
fn connect(cluster: &RedisCluster) -> redis::cluster::ClusterConnection {
    redis::cluster::ClusterClient::new(cluster.urls()).unwrap().get_connection().unwrap()
}

/// Every check runs in turn on one cluster (each new file makes the next
/// open flush and reload it, so they must not run in parallel).
#[test]
fn the_differential_suite_passes_over_a_cluster() {
    let Some(cluster) = RedisCluster::for_test() else { return };
    for strategy in ["redis-cluster", "lru(0.5,redis-cluster)"] {
        let strategy: Strategy = strategy.parse().unwrap();
        let urls = cluster.urls();
        let open = move |path: &Path, opts: &OpenOptions| {
            open(path, &strategy, &OpenOptions { redis_cluster: Some(urls.clone()), ..opts.clone() })
        };
        every_check_in_turn(&open, 16);
    }
}

#[test]
fn keys_spread_over_every_node_and_batches_answer_like_single_gets() {
    let Some(cluster) = RedisCluster::for_test() else { return };
    let data = lines(300, "v");
    with_file(&data, |path| {
        let lookup = RedisClusterLookup::open(path, &options(&cluster)).unwrap();
        // Each node holds a share of the keys: the load went through slot routing, not to one node.
        for url in cluster.urls() {
            let mut node = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
            let size: u64 = redis::cmd("DBSIZE").query(&mut node).unwrap();
            assert!(size > 50, "{url} holds only {size} of 300 keys");
        }
        let info = lookup.info();
        assert_eq!((info.name.as_str(), info.keys, info.records), ("redis-cluster", Some(300), Some(300)));
        assert!(info.notes.iter().any(|n| n.starts_with("redis-cluster: 3 primary nodes")), "{:?}", info.notes);
        // Every node's resident memory, summed: three servers' worth, at least a MiB each.
        assert!(info.server_bytes.is_some_and(|b| b > 3 << 20), "{:?}", info.server_bytes);

        let keys: Vec<&[u8]> = vec![b"key0", b"missing", b"", b"key299", b"bad key", b"key150"];
        let mut batched = Vec::new();
        lookup.get_many(&keys, &mut batched);
        assert_eq!(batched.len(), keys.len());
        for (key, answer) in keys.iter().zip(&batched) {
            match (lookup.get(key), answer) {
                (Ok(a), Ok(b)) => assert_eq!(a.as_deref(), b.as_deref(), "{key:?}"),
                (Err(LookupError::InvalidKey(a)), Err(LookupError::InvalidKey(b))) => assert_eq!(a, *b),
                other => panic!("{key:?}: {other:?}"),
            }
        }
        assert_eq!(batched[3].as_ref().unwrap().as_deref(), Some(&b"v299"[..]));
    });
}

#[test]
fn a_second_open_reuses_and_another_file_reloads() {
    let Some(cluster) = RedisCluster::for_test() else { return };
    let opts = options(&cluster);
    with_file(HANDWRITTEN, |path| {
        let first = RedisClusterLookup::open(path, &opts).unwrap();
        assert!(!first.report().reused);
        let info = first.info();
        assert_eq!((info.keys, info.records, info.duplicates), (Some(9), Some(10), Some(1)));
        assert!(info.notes[0].starts_with("redis-cluster: loaded 9 keys"), "{:?}", info.notes);

        let second = RedisClusterLookup::open(path, &opts).unwrap();
        assert!(second.report().reused);
        assert_eq!(
            second.report().note,
            format!("redis-cluster: reused 9 keys loaded earlier into {}", cluster.urls().join(","))
        );
        assert_eq!((second.info().keys, second.info().duplicates), (Some(9), Some(1)));
        assert_eq!(second.get(b"apple").unwrap().as_deref(), Some(&b"red fruit"[..]));
    });
    // Another file: the marker does not match, so every primary is flushed and the new file loaded.
    with_file(b"apple changed\nnew 1\n", |path| {
        let third = RedisClusterLookup::open(path, &opts).unwrap();
        assert!(!third.report().reused);
        assert!(third.report().note.contains("flushed an earlier kvbench load"), "{}", third.report().note);
        assert_eq!(third.get(b"apple").unwrap().as_deref(), Some(&b"changed"[..]));
        assert_eq!(third.get(b"new").unwrap().as_deref(), Some(&b"1"[..]));
        assert!(third.get(b"tab").unwrap().is_none(), "a key of the earlier file survived the flush");
        assert_eq!(third.info().keys, Some(2));
    });
}

#[test]
fn a_cluster_with_foreign_keys_is_refused_and_left_intact() {
    let Some(cluster) = RedisCluster::for_test() else { return };
    let mut con = connect(&cluster);
    redis::cmd("SET").arg("user-key").arg("precious").exec(&mut con).unwrap();
    with_file(HANDWRITTEN, |path| match RedisClusterLookup::open(path, &options(&cluster)) {
        Err(e @ OpenError::ForeignData { keys: 1, .. }) => {
            let message = e.to_string();
            assert!(message.contains(&cluster.urls()[0]) && message.contains("not loaded by kvbench"), "{message}");
        }
        other => panic!("expected ForeignData, got {other:?}"),
    });
    let value: Option<String> = redis::cmd("GET").arg("user-key").query(&mut con).unwrap();
    assert_eq!(value.as_deref(), Some("precious"));
    let marker: Option<String> = redis::cmd("GET").arg(MARKER_KEY).query(&mut con).unwrap();
    assert_eq!(marker, None, "a refused load wrote its marker");
}

#[test]
fn without_urls_or_a_cluster_it_says_what_is_wrong() {
    with_file(HANDWRITTEN, |path| {
        match RedisClusterLookup::open(path, &OpenOptions::default()) {
            Err(OpenError::Config(message)) => assert!(message.contains("--redis-cluster"), "{message}"),
            other => panic!("expected a config error, got {other:?}"),
        }
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("redis://:secret@127.0.0.1:{port}/");
        let opts = OpenOptions { redis_cluster: Some(vec![url]), ..OpenOptions::default() };
        match RedisClusterLookup::open(path, &opts) {
            Err(e @ OpenError::Backend { .. }) => {
                let message = e.to_string();
                assert!(message.contains(&format!("127.0.0.1:{port}")) && !message.contains("secret"), "{message}");
            }
            other => panic!("expected a backend error, got {other:?}"),
        }
    });
}
