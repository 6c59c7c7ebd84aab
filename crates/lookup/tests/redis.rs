//! The `redis` strategy against a real `redis-server` (started by
//! `kvbench-peers` on a free port; the tests skip, saying so, when it is not
//! installed, and fail under `CI`): the same differential checks as every
//! other strategy, then the marker that decides reuse, reload or refusal.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use kvbench_lookup::redis::{MARKER_KEY, RedisLookup};
use kvbench_lookup::{Lookup, OpenError, OpenOptions, Strategy, open};
use kvbench_peers::RedisServer;

/// Opens `strategy` with its Redis at `url`, whatever other options the check sets.
fn opener(strategy: &str, url: String) -> impl Fn(&Path, &OpenOptions) -> Opened {
    let strategy: Strategy = strategy.parse().unwrap();
    move |path, opts| open(path, &strategy, &OpenOptions { redis_url: Some(url.clone()), ..opts.clone() })
}

/// A plain redis connection to `url`, for setting up and inspecting the db.
fn connect(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection().unwrap()
}

/// Every check runs in turn on one server (they share a db, and each new file
/// makes the next open flush and reload it, so they must not run in parallel).
#[test]
fn the_differential_suite_passes_over_redis() {
    let Some(server) = RedisServer::for_test() else { return };
    for (strategy, db) in [("redis", 0), ("lru(0.5,redis)", 1)] {
        every_check_in_turn(&opener(strategy, format!("{}{db}", server.url())), 16);
    }
}

#[test]
fn a_second_open_reuses_and_a_changed_file_reloads() {
    let Some(server) = RedisServer::for_test() else { return };
    let opts = OpenOptions { redis_url: Some(format!("{}3", server.url())), ..OpenOptions::default() };
    with_file(HANDWRITTEN, |path| {
        let first = RedisLookup::open(path, &opts).unwrap();
        assert!(!first.report().reused);
        let info = first.info();
        assert_eq!((info.keys, info.records, info.duplicates), (Some(9), Some(10), Some(1)));
        assert!(info.notes[0].starts_with("redis: loaded 9 keys"), "{:?}", info.notes);
        // The data lives in the server: its resident memory is the strategy's to be charged.
        assert!(info.server_bytes.is_some_and(|b| b > 1 << 20), "{:?}", info.server_bytes);

        let second = RedisLookup::open(path, &opts).unwrap();
        let info = second.info();
        assert_eq!(
            info.notes,
            ["redis: reused 9 keys loaded earlier into ".to_owned() + &opts.redis_url.clone().unwrap()]
        );
        assert_eq!((info.keys, info.duplicates), (Some(9), Some(1)));
        assert_eq!(second.get(b"apple").unwrap().as_deref(), Some(&b"red fruit"[..]));

        // Asked to reload (the suite's build case), the same file is loaded again.
        let reloaded = RedisLookup::open(path, &OpenOptions { reload: true, ..opts.clone() }).unwrap();
        assert!(!reloaded.report().reused);
        assert!(reloaded.report().note.contains("asked to reload"), "{}", reloaded.report().note);
        assert_eq!(reloaded.info().keys, Some(9));

        // Replace the file: the marker no longer matches, so the db is flushed and reloaded.
        let next = path.with_extension("new");
        std::fs::write(&next, b"apple changed\nnew 1\n").unwrap();
        std::fs::rename(&next, path).unwrap();
        let third = RedisLookup::open(path, &opts).unwrap();
        assert!(!third.report().reused);
        assert!(third.report().note.contains("flushed an earlier kvbench load"), "{}", third.report().note);
        assert_eq!(third.get(b"apple").unwrap().as_deref(), Some(&b"changed"[..]));
        assert_eq!(third.get(b"new").unwrap().as_deref(), Some(&b"1"[..]));
        assert!(third.get(b"tab").unwrap().is_none());
        assert_eq!(third.info().keys, Some(2));
    });
}

#[test]
fn an_unfinished_load_is_not_trusted() {
    let Some(server) = RedisServer::for_test() else { return };
    let url = format!("{}4", server.url());
    let mut con = connect(&url);
    // What a load that died half-way leaves: its "loading" marker and some keys.
    redis::cmd("SET").arg(MARKER_KEY).arg("kvbench-redis loading").exec(&mut con).unwrap();
    redis::cmd("SET").arg("apple").arg("stale").exec(&mut con).unwrap();
    with_file(HANDWRITTEN, |path| {
        let opts = OpenOptions { redis_url: Some(url.clone()), ..OpenOptions::default() };
        let lookup = RedisLookup::open(path, &opts).unwrap();
        assert!(!lookup.report().reused);
        assert_eq!(lookup.get(b"apple").unwrap().as_deref(), Some(&b"red fruit"[..]));
    });
}

#[test]
fn a_db_with_foreign_keys_is_refused_and_left_intact() {
    let Some(server) = RedisServer::for_test() else { return };
    let url = format!("{}5", server.url());
    let mut con = connect(&url);
    redis::cmd("SET").arg("user-key").arg("precious").exec(&mut con).unwrap();
    with_file(HANDWRITTEN, |path| {
        // Not even when asked to reload: a reload replaces only kvbench's own load.
        for reload in [false, true] {
            let opts = OpenOptions { redis_url: Some(url.clone()), reload, ..OpenOptions::default() };
            match RedisLookup::open(path, &opts) {
                Err(e @ OpenError::ForeignData { keys: 1, .. }) => {
                    let message = e.to_string();
                    assert!(message.contains(&url) && message.contains("not loaded by kvbench"), "{message}");
                }
                other => panic!("expected ForeignData, got {other:?}"),
            }
        }
    });
    let value: Option<String> = redis::cmd("GET").arg("user-key").query(&mut con).unwrap();
    assert_eq!(value.as_deref(), Some("precious"));
    let size: u64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, 1);
}

#[test]
fn an_unreachable_server_is_a_backend_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{port}/");
    with_file(HANDWRITTEN, |path| {
        let opts = OpenOptions { redis_url: Some(url.clone()), ..OpenOptions::default() };
        match RedisLookup::open(path, &opts) {
            Err(e @ OpenError::Backend { .. }) => assert!(e.to_string().contains(&url), "{e}"),
            other => panic!("expected a backend error, got {other:?}"),
        }
        let bad = OpenOptions { redis_url: Some("http://nope".into()), ..OpenOptions::default() };
        assert!(matches!(RedisLookup::open(path, &bad), Err(OpenError::Config(_))));
    });
}
