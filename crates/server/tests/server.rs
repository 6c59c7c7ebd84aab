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
        (404, b"not found: empty key, so it cannot be in the data file\n"),
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
        (404, b"not found: empty key, so it cannot be in the data file\n"),
        (404, b"not found: key contains a space, tab or newline, so it cannot be in the data file\n"),
        (400, b"invalid key: bad percent-encoding\n"),
        (404, b"not found: key of 2000 bytes is longer than the limit of 1024, so it cannot be in the data file\n"),
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
        "kvbench_http_requests_total{status=\"404\"} 4",
        "kvbench_http_requests_total{status=\"400\"} 1",
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
        status_line(&raw(bound.http.unwrap(), b"GET /beta HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")),
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
            (redis::cmd("SELECT").arg(3).clone(), "DB index is out of range"),
        ] {
            let err = command.query::<redis::Value>(&mut con).unwrap_err();
            assert!(err.to_string().contains(expect), "{err} should mention {expect:?}");
        }
        assert_eq!(get(&mut con, b"alpha").unwrap(), Some(b"one".to_vec()), "the connection survives errors");
        // Keys that cannot be in a data file are absent, as any missing key is in Redis.
        let long = vec![b'k'; 2000];
        for key in [&b"has space"[..], b"", b"tab\tkey", b"new\nline", &long] {
            assert_eq!(get(&mut con, key).unwrap(), None, "{:?}", String::from_utf8_lossy(key));
        }
        let values: Vec<Option<String>> = redis::cmd("MGET").arg("alpha").arg("").arg("a b").query(&mut con).unwrap();
        assert_eq!(values, [Some("one".into()), None, None]);
        let exists: i64 = redis::cmd("EXISTS").arg(&["alpha", "", "a b", "beta"]).query(&mut con).unwrap();
        assert_eq!(exists, 2);
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
        b"HELLO 4\r\nHELLO\r\nCLIENT SETINFO lib-name x\r\nCOMMAND DOCS\r\nCONFIG GET save appendonly\r\nQUIT\r\n",
    );
    let handshake = String::from_utf8(handshake).unwrap();
    assert!(handshake.starts_with("-NOPROTO unsupported protocol version\r\n*14\r\n"), "{handshake}");
    assert!(handshake.contains("$6\r\nserver\r\n$7\r\nkvbench\r\n"), "{handshake}");
    assert!(
        handshake.ends_with("+OK\r\n*0\r\n*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n+OK\r\n"),
        "{handshake}"
    );
    for hostile in
        [&b"*1\r\n$1099511627776\r\n"[..], b"*99999999\r\n", b"*1\r\n:1\r\n", b"*1\r\n$3\r\nabcdef", b"*x\r\n"]
    {
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
    assert_eq!(answer, "-ERR Protocol error: an inline command over 65536 bytes (the limit, as in Redis)\r\n");
    let words = "a ".repeat(70_000);
    let answer = String::from_utf8(raw(addr, words.as_bytes())).unwrap();
    assert!(answer.starts_with("-ERR Protocol error: "), "{answer}");
}

/// The replies of `commands` sent on one connection (which ends with `QUIT`), as text.
fn session(addr: SocketAddr, commands: &[&str]) -> String {
    let mut request: Vec<u8> = commands.iter().flat_map(|c| [c.as_bytes(), b"\r\n"].concat()).collect();
    request.extend_from_slice(b"QUIT\r\n");
    String::from_utf8_lossy(&raw(addr, &request)).into_owned()
}

#[test]
fn hello_3_switches_to_resp3_and_hello_2_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&data_file(dir.path(), DATA), "hashmap");
    let addr = server.bound().resp.unwrap();
    let answer = session(
        addr,
        &[
            "HELLO 3",
            "GET alpha",
            "GET absent",
            "MGET alpha absent",
            "CONFIG GET save",
            "CLIENT GETNAME",
            "HELLO 2",
            "GET absent",
        ],
    );
    let (hello, rest) = answer.split_at(answer.find("$3\r\none").unwrap());
    assert!(hello.starts_with("%7\r\n$6\r\nserver\r\n$7\r\nkvbench\r\n"), "{hello}");
    assert!(hello.contains("$5\r\nproto\r\n:3\r\n") && hello.ends_with("$7\r\nmodules\r\n*0\r\n"), "{hello}");
    let (resp3, resp2) = rest.split_at(rest.find("*14\r\n").unwrap());
    assert_eq!(resp3, "$3\r\none\r\n_\r\n*2\r\n$3\r\none\r\n_\r\n%1\r\n$4\r\nsave\r\n$0\r\n\r\n_\r\n");
    assert!(resp2.contains("$5\r\nproto\r\n:2\r\n") && resp2.ends_with("*0\r\n$-1\r\n+OK\r\n"), "{resp2}");
}

#[test]
fn pipelined_gets_are_answered_in_order_around_other_commands_and_transactions() {
    let dir = tempfile::tempdir().unwrap();
    for strategy in ["hashmap", "mmap-index", "scan"] {
        let server = start(&data_file(dir.path(), DATA), strategy);
        let addr = server.bound().resp.unwrap();
        let answer = session(
            addr,
            &[
                "GET alpha",
                "GET absent",
                "*2\r\n$3\r\nGET\r\n$3\r\na b",
                "GET beta",
                "PING",
                "GET bin",
                "MULTI",
                "GET alpha",
                "EXEC",
                "GET beta",
                "GET",
            ],
        );
        let expect = b"$3\r\none\r\n$-1\r\n$-1\r\n$9\r\ntwo words\r\n+PONG\r\n$2\r\n\xff\xfe\r\n+OK\r\n+QUEUED\r\n\
                      *1\r\n$3\r\none\r\n$9\r\ntwo words\r\n-ERR wrong number of arguments for 'get' command\r\n+OK\r\n";
        assert_eq!(answer, String::from_utf8_lossy(expect), "{strategy}");
        // More GETs than one batch takes, all answered in order.
        let many: Vec<&str> = (0..300).map(|i| if i % 3 == 0 { "GET alpha" } else { "GET nope" }).collect();
        let expect: String = (0..300).map(|i| if i % 3 == 0 { "$3\r\none\r\n" } else { "$-1\r\n" }).collect();
        assert_eq!(session(addr, &many), expect + "+OK\r\n", "{strategy}");
    }
}

#[test]
fn hello_auth_setname_and_auth_answer_as_redis_without_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&data_file(dir.path(), DATA), "hashmap");
    let addr = server.bound().resp.unwrap();
    let answer = session(addr, &["HELLO 3 AUTH default secret SETNAME app-1", "CLIENT GETNAME"]);
    assert!(answer.starts_with("%7\r\n") && answer.ends_with("$5\r\napp-1\r\n+OK\r\n"), "{answer}");
    for (command, expect) in [
        ("HELLO 3 AUTH bob secret", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
        ("HELLO 3 AUTH default", "-ERR Syntax error in HELLO option 'AUTH'\r\n"),
        ("HELLO 3 SETNAME", "-ERR Syntax error in HELLO option 'SETNAME'\r\n"),
        (
            "*4\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$7\r\nSETNAME\r\n$3\r\na b",
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
        ),
        ("HELLO 3 LATER", "-ERR Syntax error in HELLO option 'LATER'\r\n"),
        ("HELLO 1", "-NOPROTO unsupported protocol version\r\n"),
        ("HELLO three", "-ERR Protocol version is not an integer or out of range\r\n"),
        ("AUTH secret", "-ERR AUTH <password> called without any password configured for the default user."),
        ("AUTH default secret", "+OK\r\n"),
        ("AUTH bob secret", "-WRONGPASS "),
        ("CLIENT SETNAME app-2", "+OK\r\n"),
    ] {
        let answer = session(addr, &[command]);
        assert!(answer.starts_with(expect) && answer.ends_with("+OK\r\n"), "{command}: {answer}");
    }
    // A refused HELLO changes nothing: the connection still speaks RESP2.
    assert_eq!(
        session(addr, &["HELLO 3 AUTH bob x", "GET absent"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n$-1\r\n+OK\r\n"
    );
}

#[test]
fn info_answers_the_sections_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&data_file(dir.path(), DATA), "hashmap");
    let addr = server.bound().resp.unwrap();
    let info = |command: &str| {
        let answer = session(addr, &[command]);
        let body = answer.strip_suffix("+OK\r\n").unwrap().split_once("\r\n").unwrap().1;
        (body.contains("# Server"), body.contains("# Keyspace\r\ndb0:keys=4,"))
    };
    assert_eq!(info("INFO"), (true, true));
    assert_eq!(info("INFO server"), (true, false));
    assert_eq!(info("INFO KEYSPACE"), (false, true));
    assert_eq!(info("INFO server keyspace"), (true, true));
    assert_eq!(info("INFO everything"), (true, true));
    assert_eq!(info("INFO replication"), (false, false));
    assert_eq!(session(addr, &["INFO nothing"]), "$0\r\n\r\n+OK\r\n");
    let resp3 = session(addr, &["HELLO 3", "INFO keyspace"]);
    assert!(resp3.contains("=48\r\ntxt:# Keyspace\r\ndb0:keys=4,expires=0,avg_ttl=0\r\n\r\n"), "{resp3}");
}

#[test]
fn a_command_over_a_limit_gets_an_error_naming_it_not_a_broken_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&data_file(dir.path(), DATA), "hashmap");
    let mut con = redis_client(server.bound().resp.unwrap());
    // 70,000 UUID-sized keys: 3.4 MB, over the 65,536 arguments allowed.
    let keys: Vec<String> = (0..70_000).map(|i| format!("{i:036}")).collect();
    let err = redis::cmd("MGET").arg(&keys).query::<redis::Value>(&mut con).unwrap_err().to_string();
    assert!(err.contains("more than 65536 arguments in one command") && err.contains("--max-resp-args"), "{err}");
    let limits = Limits { max_resp_command_bytes: 4096, ..Limits::default() };
    let server = start_with(&data_file(dir.path(), DATA), "hashmap", 1, limits);
    let mut con = redis_client(server.bound().resp.unwrap());
    let err = redis::cmd("MGET").arg(&keys[..200]).query::<redis::Value>(&mut con).unwrap_err().to_string();
    assert!(err.contains("a command over 4096 bytes") && err.contains("--max-resp-command"), "{err}");
    let mut con = redis_client(server.bound().resp.unwrap());
    let values: Vec<Option<String>> = redis::cmd("MGET").arg(&keys[..50]).query(&mut con).unwrap();
    assert_eq!(values.len(), 50, "a command under the limit is served");
}

#[test]
fn http_1_1_needs_a_host_and_1_0_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&data_file(dir.path(), DATA), "hashmap");
    let addr = server.bound().http.unwrap();
    let answer = String::from_utf8(raw(addr, b"GET /alpha HTTP/1.1\r\n\r\n")).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
    assert!(answer.ends_with("an HTTP/1.1 request needs a Host header\n"), "{answer}");
    let answer = String::from_utf8(raw(addr, b"GET /alpha HTTP/1.0\r\n\r\n")).unwrap();
    assert!(answer.starts_with("HTTP/1.0 200 OK\r\n") && answer.ends_with("\r\n\r\none"), "{answer}");
}

#[test]
fn http_answers_a_client_that_half_closes_after_its_request() {
    let dir = tempfile::tempdir().unwrap();
    // Without half-close support, 96 of 3,000 answers were lost on one thread:
    // 1,000 tries per setting lose some almost surely if it breaks again.
    for threads in [1, 2] {
        let server = start_with(&data_file(dir.path(), DATA), "hashmap", threads, Limits::default());
        let addr = server.bound().http.unwrap();
        let lost = (0..1000)
            .filter(|_| {
                let answer = raw_then_hang_up(addr, b"GET /alpha HTTP/1.1\r\nhost: x\r\n\r\n");
                !(answer.starts_with(b"HTTP/1.1 200 OK\r\n") && answer.ends_with(b"\r\n\r\none"))
            })
            .count();
        assert_eq!(lost, 0, "answers lost out of 1,000 on {threads} threads");
    }
}

#[test]
fn shutdown_drops_half_sent_requests_of_both_protocols_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // A grace period and idle timeout no test run reaches: a shutdown that waited for either fails.
    let forever = Duration::from_secs(600);
    let limits = Limits { shutdown_grace: forever, idle_timeout: forever, ..Limits::default() };
    let server = start_with(&data_file(dir.path(), DATA), "hashmap", 2, limits);
    let bound = server.bound();
    let mut http = TcpStream::connect(bound.http.unwrap()).unwrap();
    http.write_all(b"GET /alpha HTTP/1.1\r\nhos").unwrap();
    let mut resp = TcpStream::connect(bound.resp.unwrap()).unwrap();
    resp.write_all(b"*2\r\n$3\r\nGET").unwrap();
    // Both requests reached the server before it stops: a served request on each connection's
    // neighbour proves it is accepting, and the half requests are read by then.
    assert_eq!(status_line(&raw(bound.http.unwrap(), b"GET /beta HTTP/1.1\r\nhost: x\r\n\r\n")), "HTTP/1.1 200 OK");
    std::thread::sleep(Duration::from_millis(100));
    let started = std::time::Instant::now();
    server.shutdown();
    server.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(60), "shutdown waited {:?}", started.elapsed());
    for mut stream in [http, resp] {
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0; 64];
        assert!(matches!(stream.read(&mut buf), Ok(0) | Err(_)), "the half-sent request's connection is closed");
    }
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
