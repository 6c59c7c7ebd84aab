//! The server over real sockets: every HTTP status through hyper's client on
//! one kept-alive connection, RESP through the `redis` crate, hostile input
//! on raw sockets, reload and shutdown. Servers bind port 0 and stop on drop.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{Method, Request, StatusCode};
use kvbench_lookup::{OpenOptions, Strategy, StrategyKind};
use kvbench_server::Protocol;
use kvbench_server::{Config, DataSource, Limits, Server};

const DATA: &[u8] = b"alpha one\nbeta two words\nalpha DUPLICATE\nsp%ce percent in key\nbin \xff\xfe\n";

fn data_file(dir: &Path, data: &[u8]) -> PathBuf {
    let path = dir.join("data.txt");
    std::fs::write(&path, data).unwrap();
    path
}

fn start_with(path: &Path, strategy: &str, threads: usize, limits: Limits) -> Server {
    let any = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let config = Config { http: any, resp: any, threads, signals: false, limits };
    let source = DataSource {
        path: path.to_owned(),
        strategy: strategy.parse::<Strategy>().unwrap(),
        options: OpenOptions::default(),
    };
    Server::start(config, source).unwrap()
}

fn start(path: &Path, strategy: &str) -> Server {
    start_with(path, strategy, 2, Limits::default())
}

/// Sends raw bytes on a fresh connection and returns everything the server
/// answers until it closes the connection (or 5 s pass).
fn raw(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    exchange(addr, request, false)
}

/// [`raw`], but the client hangs up its sending side after the request, as `redis-cli` piping does.
fn raw_then_hang_up(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    exchange(addr, request, true)
}

fn exchange(addr: SocketAddr, request: &[u8], hang_up: bool) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may close before reading everything (e.g. on a limit): ignore write errors.
    let _ = stream.write_all(request);
    if hang_up {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}

fn status_line(answer: &[u8]) -> String {
    String::from_utf8_lossy(answer).lines().next().unwrap_or_default().to_owned()
}

/// `(status, allow header, content type, body)` of each request, all sent on one connection.
async fn http_requests(addr: SocketAddr, requests: &[(Method, &str)]) -> Vec<(StatusCode, String, String, Vec<u8>)> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut answers = Vec::new();
    for (method, target) in requests {
        let request =
            Request::builder().method(method).uri(*target).header("host", "kvbench").body(Empty::<Bytes>::new());
        let response = sender.send_request(request.unwrap()).await.unwrap();
        let header = |name| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let (allow, content_type) = (header("allow"), header("content-type"));
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        answers.push((status, allow, content_type, body));
    }
    answers
}

#[tokio::test]
async fn every_key_has_one_url_under_kv_whatever_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = b"healthz H\nmetrics M\nkv/nested N\nkv K\nplain P\n";
    let server = start(&data_file(dir.path(), data), "hashmap");
    let addr = server.bound().http.unwrap();
    let requests = [
        (Method::GET, "/kv/healthz"),
        (Method::GET, "/kv/metrics"),
        (Method::GET, "/kv/kv/nested"),
        (Method::GET, "/kv/kv"),
        (Method::HEAD, "/kv/plain"),
        (Method::GET, "/kv/plain"),
        (Method::GET, "/plain"),
        (Method::GET, "/kv/absent"),
        (Method::GET, "/kv/"),
        (Method::GET, "/healthz"),
    ];
    let answers = http_requests(addr, &requests).await;
    let expect: [(u16, &[u8]); 10] = [
        (200, b"H"),
        (200, b"M"),
        (200, b"N"),
        (200, b"K"),
        (200, b""),
        (200, b"P"),
        (200, b"P"),
        (404, b"not found\n"),
        (400, b"invalid key: empty key\n"),
        (200, b"ok\n"),
    ];
    for ((request, answer), (status, body)) in requests.iter().zip(&answers).zip(expect) {
        assert_eq!((answer.0.as_u16(), answer.3.as_slice()), (status, body), "{request:?}");
    }
}

#[tokio::test]
async fn http_answers_every_status_on_one_kept_alive_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&data_file(dir.path(), DATA), "lru(0.5,hashmap)");
    let addr = server.bound().http.unwrap();
    let long_key = format!("/{}", "k".repeat(2000));
    let requests = [
        (Method::GET, "/alpha"),
        (Method::GET, "/beta"),
        (Method::GET, "/sp%25ce"),
        (Method::GET, "/bin"),
        (Method::GET, "/absent"),
        (Method::GET, "/"),
        (Method::GET, "/has%20space"),
        (Method::GET, "/bad%zz"),
        (Method::GET, long_key.as_str()),
        (Method::POST, "/alpha"),
        (Method::DELETE, "/alpha"),
        (Method::HEAD, "/alpha"),
        (Method::GET, "/healthz"),
        (Method::GET, "/alpha?ignored=query"),
    ];
    let answers = http_requests(addr, &requests).await;
    let expect: [(u16, &[u8]); 14] = [
        (200, b"one"),
        (200, b"two words"),
        (200, b"percent in key"),
        (200, b"\xff\xfe"),
        (404, b"not found\n"),
        (400, b"invalid key: empty key\n"),
        (400, b"invalid key: key contains a space, tab or newline\n"),
        (400, b"invalid key: bad percent-encoding\n"),
        (400, b"invalid key: key of 2000 bytes is longer than the limit of 1024\n"),
        (405, b"only GET and HEAD are served: the data is read-only\n"),
        (405, b"only GET and HEAD are served: the data is read-only\n"),
        (200, b""),
        (200, b"ok\n"),
        (200, b"one"),
    ];
    for ((request, answer), (status, body)) in requests.iter().zip(&answers).zip(expect) {
        assert_eq!((answer.0.as_u16(), answer.3.as_slice()), (status, body), "{request:?}");
        assert_eq!(answer.2, "text/plain", "{request:?}");
        assert_eq!(answer.1, if status == 405 { "GET, HEAD" } else { "" }, "{request:?}");
    }
    let metrics = http_requests(addr, &[(Method::GET, "/metrics")]).await.remove(0);
    assert_eq!(metrics.0, StatusCode::OK);
    let metrics = String::from_utf8(metrics.3).unwrap();
    for line in [
        "kvbench_http_requests_total{status=\"200\"} 7",
        "kvbench_http_requests_total{status=\"404\"} 1",
        "kvbench_http_requests_total{status=\"400\"} 4",
        "kvbench_http_requests_total{status=\"405\"} 2",
        "kvbench_keys 4",
        "kvbench_lookup_seconds_count 10",
        "kvbench_connections_total{protocol=\"http\"} 2",
        "kvbench_cache_hits_total 1",
        "kvbench_cache_misses_total 6",
        "kvbench_cache_capacity 2",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line:?} not in\n{metrics}");
    }
    assert!(metrics.contains("kvbench_data_info{data=\""), "{metrics}");
    assert!(metrics.contains("strategy=\"lru(0.5,hashmap)\""), "{metrics}");
    assert!(metrics.contains("kvbench_lookup_seconds_bucket{le=\"+Inf\"} 10"), "{metrics}");
    assert_eq!(server.metrics().accepted(Protocol::Http), 2, "the 14 requests shared one connection");
}

#[test]
fn oversized_requests_get_414_and_431_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&data_file(dir.path(), DATA), "hashmap");
    let addr = server.bound().http.unwrap();
    let long_uri = format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(9000));
    assert_eq!(status_line(&raw(addr, long_uri.as_bytes())), "HTTP/1.1 414 URI Too Long");
    let big_header = format!("GET /alpha HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "b".repeat(20_000));
    assert_eq!(status_line(&raw(addr, big_header.as_bytes())), "HTTP/1.1 431 Request Header Fields Too Large");
    let many: String = (0..200).map(|i| format!("x-{i}: y\r\n")).collect();
    let many = format!("GET /alpha HTTP/1.1\r\nhost: x\r\n{many}\r\n");
    assert_eq!(status_line(&raw(addr, many.as_bytes())), "HTTP/1.1 431 Request Header Fields Too Large");
    assert_eq!(status_line(&raw(addr, b"garbage\x00\xff\r\n\r\n")), "HTTP/1.1 400 Bad Request");
    let ok = raw(addr, b"GET /alpha HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    assert_eq!(status_line(&ok), "HTTP/1.1 200 OK");
    assert!(ok.ends_with(b"\r\n\r\none"), "{:?}", String::from_utf8_lossy(&ok));
}

#[test]
fn idle_and_trickling_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { idle_timeout: Duration::from_millis(300), ..Limits::default() };
    let server = start_with(&data_file(dir.path(), DATA), "hashmap", 1, limits);
    let bound = server.bound();
    for addr in [bound.http.unwrap(), bound.resp.unwrap()] {
        // Silent, then one byte every 100 ms: neither completes a request in time.
        for trickle in [false, true] {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
            let start = Instant::now();
            let mut buf = [0; 64];
            let closed = loop {
                if trickle {
                    let _ = stream.write_all(b"G");
                }
                match stream.read(&mut buf) {
                    Ok(0) => break true,
                    Ok(_) => break false, // an answer: the HTTP server may send 408 first
                    Err(_) if start.elapsed() < Duration::from_secs(10) => continue,
                    Err(_) => break false,
                }
            };
            let answered_or_closed = closed || String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 408");
            assert!(answered_or_closed, "{addr} trickle={trickle}: still open after {:?}", start.elapsed());
        }
    }
    assert_eq!(
        status_line(&raw(bound.http.unwrap(), b"GET /beta HTTP/1.1\r\nconnection: close\r\n\r\n")),
        "HTTP/1.1 200 OK"
    );
}

fn redis_client(addr: SocketAddr) -> redis::Connection {
    redis::Client::open(format!("redis://{addr}/")).unwrap().get_connection().unwrap()
}

#[test]
fn resp_serves_redis_clients_with_pipelining_and_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    for threads in [1, 2] {
        let server = start_with(&data_file(dir.path(), DATA), "mmap-index", threads, Limits::default());
        let mut con = redis_client(server.bound().resp.unwrap());
        let get = |con: &mut redis::Connection, key: &[u8]| redis::cmd("GET").arg(key).query::<Option<Vec<u8>>>(con);
        assert_eq!(get(&mut con, b"alpha").unwrap(), Some(b"one".to_vec()));
        assert_eq!(get(&mut con, b"bin").unwrap(), Some(b"\xff\xfe".to_vec()));
        assert_eq!(get(&mut con, b"absent").unwrap(), None);
        let values: Vec<Option<String>> = redis::cmd("MGET").arg(&["beta", "nope", "alpha"]).query(&mut con).unwrap();
        assert_eq!(values, [Some("two words".into()), None, Some("one".into())]);
        let exists: i64 = redis::cmd("EXISTS").arg(&["alpha", "nope", "alpha"]).query(&mut con).unwrap();
        assert_eq!(exists, 2);
        assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap(), 4);
        assert_eq!(redis::cmd("PING").query::<String>(&mut con).unwrap(), "PONG");
        assert_eq!(redis::cmd("ECHO").arg("hi there").query::<String>(&mut con).unwrap(), "hi there");
        let (a, b, c): (Option<String>, Option<String>, String) =
            redis::pipe().cmd("GET").arg("alpha").cmd("GET").arg("nope").cmd("PING").query(&mut con).unwrap();
        assert_eq!((a.as_deref(), b, c.as_str()), (Some("one"), None, "PONG"));
        let mut pipe = redis::pipe();
        for _ in 0..1000 {
            pipe.cmd("GET").arg("beta");
        }
        let many: Vec<String> = pipe.query(&mut con).unwrap();
        assert!(many.len() == 1000 && many.iter().all(|v| v == "two words"));
        for (command, expect) in [
            (redis::cmd("SET").arg("alpha").arg("x").clone(), "read-only"),
            (redis::cmd("FLUSHALL").clone(), "unknown or unsupported command 'FLUSHALL'"),
            (redis::cmd("GET").clone(), "wrong number of arguments for 'get'"),
            (redis::cmd("GET").arg("has space").clone(), "invalid key"),
            (redis::cmd("MGET").arg("alpha").arg("").clone(), "invalid key: empty key"),
            (redis::cmd("SELECT").arg(3).clone(), "DB index is out of range"),
        ] {
            let err = command.query::<redis::Value>(&mut con).unwrap_err();
            assert!(err.to_string().contains(expect), "{err} should mention {expect:?}");
        }
        assert_eq!(get(&mut con, b"alpha").unwrap(), Some(b"one".to_vec()), "the connection survives errors");
    }
}

#[test]
fn resp_inline_commands_and_protocol_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&data_file(dir.path(), DATA), "scan");
    let addr = server.bound().resp.unwrap();
    assert_eq!(raw(addr, b"PING\r\nget alpha\r\nGET absent\r\n\r\nQUIT\r\n"), b"+PONG\r\n$3\r\none\r\n$-1\r\n+OK\r\n");
    let handshake = raw(
        addr,
        b"HELLO 3\r\nHELLO\r\nCLIENT SETINFO lib-name x\r\nCOMMAND DOCS\r\nCONFIG GET save appendonly\r\nQUIT\r\n",
    );
    let handshake = String::from_utf8(handshake).unwrap();
    assert!(handshake.starts_with("-NOPROTO"), "{handshake}");
    assert!(handshake.contains("$6\r\nserver\r\n$7\r\nkvbench\r\n"), "{handshake}");
    assert!(
        handshake.ends_with("+OK\r\n*0\r\n*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n+OK\r\n"),
        "{handshake}"
    );
    for hostile in [&b"*1\r\n$1099511627776\r\n"[..], b"*99999999\r\n", b"*1\r\n:1\r\n", b"*1\r\n$3\r\nabcdef"] {
        let answer = String::from_utf8(raw(addr, hostile)).unwrap();
        assert!(answer.starts_with("-ERR Protocol error: "), "{answer:?}");
    }
    // A bulk announced but never sent, then the client hangs up: nothing is answered.
    assert_eq!(raw_then_hang_up(addr, b"*2\r\n$3\r\nGET\r\n$5\r\nal"), b"");
    assert_eq!(raw_then_hang_up(addr, b"PING\r\nGET alpha\r\n"), b"+PONG\r\n$3\r\none\r\n");
    assert_eq!(raw(addr, b"GET alpha\r\nQUIT\r\n"), b"$3\r\none\r\n+OK\r\n");
    // A long pipeline is answered in full, in order (its replies are flushed in pieces).
    let pipeline = b"GET beta\r\n".repeat(30_000);
    assert_eq!(raw_then_hang_up(addr, &pipeline), b"$9\r\ntwo words\r\n".repeat(30_000));
    // An inline line of more than 64 KiB, or one with too many words, is refused.
    let answer = String::from_utf8(raw(addr, &[b'x'; 70_000])).unwrap();
    assert_eq!(answer, "-ERR Protocol error: too big request\r\n");
    let words = "a ".repeat(70_000);
    let answer = String::from_utf8(raw(addr, words.as_bytes())).unwrap();
    assert!(answer.starts_with("-ERR Protocol error: "), "{answer}");
}

#[test]
fn reload_swaps_the_data_and_a_failed_reload_keeps_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let path = data_file(dir.path(), b"key old\n");
    for strategy in [StrategyKind::HashMap, StrategyKind::MmapIndex] {
        std::fs::write(&path, b"key old\n").unwrap();
        let server = start(&path, strategy.name());
        let mut con = redis_client(server.bound().resp.unwrap());
        let get = |con: &mut redis::Connection| redis::cmd("GET").arg("key").query::<String>(con).unwrap();
        assert_eq!(get(&mut con), "old");
        let replace = |data: &[u8]| {
            let tmp = dir.path().join("next.txt");
            std::fs::write(&tmp, data).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
        };
        replace(b"key new\nother 2\n");
        server.reload();
        let start = Instant::now();
        while get(&mut con) != "new" {
            assert!(start.elapsed() < Duration::from_secs(10), "{strategy}: reload never took effect");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap(), 2);
        replace(b"key newer\nmalformed-line\n");
        server.reload();
        let start = Instant::now();
        while server.metrics().reloads(false) == 0 {
            assert!(start.elapsed() < Duration::from_secs(10), "{strategy}: the failed reload never finished");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(server.metrics().reloads(true), 1);
        assert_eq!(get(&mut con), "new", "{strategy}: a failed reload must keep the old data");
        server.shutdown();
        server.wait().unwrap();
    }
}

#[test]
fn impossible_limits_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = data_file(dir.path(), DATA);
    let any = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let source = DataSource { path, strategy: "hashmap".parse().unwrap(), options: OpenOptions::default() };
    let config = |limits, threads, http| Config { http, resp: None, threads, signals: false, limits };
    for (config, expect) in [
        (config(Limits { max_connections: 0, ..Limits::default() }, 1, any), "max-connections"),
        (config(Limits { idle_timeout: Duration::ZERO, ..Limits::default() }, 1, any), "idle-timeout"),
        (config(Limits::default(), 0, any), "threads"),
        (config(Limits::default(), 1, None), "nothing to serve"),
    ] {
        let err = Server::start(config, source.clone()).err().unwrap().to_string();
        assert!(err.contains(expect), "{err}");
    }
}

#[test]
fn shutdown_stops_accepting_and_returns() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&data_file(dir.path(), DATA), "hashmap");
    let addr = server.bound().http.unwrap();
    let mut idle = TcpStream::connect(server.bound().resp.unwrap()).unwrap();
    idle.write_all(b"PING\r\n").unwrap();
    let mut pong = [0; 7];
    idle.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"+PONG\r\n", "the connection was accepted and served");
    server.shutdown();
    server.wait().unwrap();
    assert!(TcpStream::connect(addr).is_err(), "still accepting after shutdown");
    let mut buf = [0; 8];
    assert_eq!(idle.read(&mut buf).unwrap(), 0, "idle connections are closed");
}
