//! Hostile clients against `kvbench serve` as its own process: after each
//! abuse the server still answers a normal request correctly, has not
//! panicked, and its resident memory has stayed bounded.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use common::{Served, http_get};

const KEYS: usize = 1000;

/// The server's resident memory, from `/proc/PID/status`.
fn rss_kib(server: &Served) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A normal HTTP and RESP lookup, each on a new connection, answered correctly.
fn still_serves(server: &Served, after: &str) {
    let mut http = BufReader::new(TcpStream::connect(server.http).unwrap());
    assert_eq!(http_get(&mut http, "/k7").unwrap(), (200, b"v-7".to_vec()), "HTTP after {after}");
    let mut resp = BufReader::new(TcpStream::connect(server.resp).unwrap());
    resp.get_mut().write_all(b"*2\r\n$3\r\nGET\r\n$3\r\nk42\r\n").unwrap();
    let mut reply = String::new();
    resp.read_line(&mut reply).unwrap();
    resp.read_line(&mut reply).unwrap();
    assert_eq!(reply, "$4\r\nv-42\r\n", "RESP after {after}");
}

/// Sends `bytes` (as much as the server takes) and reads what comes back until it closes or 5 s pass.
fn send_and_read(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may close before taking everything: a reset or broken pipe is an answer too.
    let _ = stream.write_all(bytes);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    reply
}

/// Whether the server closed `stream` within `limit` (reads return 0 or an error).
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// Drops `stream` with an RST instead of a FIN (`SO_LINGER` of zero).
fn reset(stream: TcpStream) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt on a socket this function owns, with a valid `linger` of the right size.
    let done = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(done, 0);
    drop(stream);
}

#[test]
fn hostile_clients_leave_the_server_serving_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.txt");
    let text: String = (0..KEYS).map(|i| format!("k{i} v-{i}\n")).collect();
    std::fs::write(&data, text).unwrap();
    let mut server = Served::start(&data, &["--threads", "2", "--idle-timeout", "1s", "--max-connections", "512"]);
    still_serves(&server, "start");
    let rss_start = rss_kib(&server);

    // HTTP: a 1 MB request line, 10,000 headers, 64 KB of garbage: a 4xx or a close, never a hang.
    let long_line = [&b"GET /"[..], &vec![b'a'; 1 << 20], b" HTTP/1.1\r\nhost: t\r\n\r\n"].concat();
    let reply = send_and_read(server.http, &long_line);
    assert!(reply.is_empty() || reply.starts_with(b"HTTP/1.1 4"), "{}", String::from_utf8_lossy(&reply));
    still_serves(&server, "a 1 MB request line");
    let many_headers: Vec<u8> = (0..10_000).flat_map(|i| format!("x-h{i}: v\r\n").into_bytes()).collect();
    let reply = send_and_read(server.http, &[&b"GET /k1 HTTP/1.1\r\n"[..], &many_headers, b"\r\n"].concat());
    assert!(reply.is_empty() || reply.starts_with(b"HTTP/1.1 431"), "{}", String::from_utf8_lossy(&reply));
    still_serves(&server, "10,000 headers");
    let garbage: Vec<u8> = (0..65_536u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let reply = send_and_read(server.http, &garbage);
    assert!(reply.is_empty() || reply.starts_with(b"HTTP/1.1 400"), "{}", String::from_utf8_lossy(&reply));
    still_serves(&server, "HTTP garbage");

    // RESP: a bulk length of 2^40 and garbage are refused before anything is buffered.
    let reply = send_and_read(server.resp, b"*2\r\n$3\r\nGET\r\n$1099511627776\r\n");
    assert!(reply.starts_with(b"-ERR Protocol error"), "{}", String::from_utf8_lossy(&reply));
    let reply = send_and_read(server.resp, &garbage);
    assert!(reply.starts_with(b"-ERR") || reply.is_empty(), "{}", String::from_utf8_lossy(&reply));
    still_serves(&server, "RESP abuse");

    // An unterminated array, and a slowloris sending a byte every 300 ms: both
    // closed by the idle timeout (1 s here) without holding up anyone else.
    let mut unterminated = TcpStream::connect(server.resp).unwrap();
    unterminated.write_all(b"*3\r\n$3\r\nGET\r\n").unwrap();
    let mut slow = TcpStream::connect(server.http).unwrap();
    let start = Instant::now();
    let mut slow_closed = false;
    for &byte in b"GET /k1 HTTP/1.1\r\nhost: t\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n" {
        still_serves(&server, "a slow client is connected");
        if slow.write_all(&[byte]).is_err() {
            slow_closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
        if start.elapsed() > Duration::from_secs(6) {
            break;
        }
    }
    assert!(slow_closed || closed_within(&mut slow, Duration::from_secs(3)), "slowloris still open");
    assert!(closed_within(&mut unterminated, Duration::from_secs(3)), "unterminated array still open");

    // Clients that pipeline requests and never read the answers: once the
    // answers fill the socket buffers, the server's writes wait; after the idle
    // timeout it closes them instead of holding their slots forever.
    let flooders: Vec<TcpStream> =
        [(server.http, &b"GET /k1 HTTP/1.1\r\nhost: t\r\n\r\n"[..]), (server.resp, b"*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n")]
            .into_iter()
            .map(|(addr, request)| {
                let mut stream = TcpStream::connect(addr).unwrap();
                stream.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
                let burst = request.repeat(4096);
                // Until the server stops taking requests (its answers are unread).
                while stream.write_all(&burst).is_ok() {}
                stream
            })
            .collect();
    std::thread::sleep(Duration::from_secs(3));
    let (status, metrics) =
        http_get(&mut BufReader::new(TcpStream::connect(server.http).unwrap()), "/metrics").unwrap();
    let metrics = String::from_utf8(metrics).unwrap();
    assert_eq!(status, 200);
    // Only the connection asking for the metrics is still open.
    assert!(metrics.contains("kvbench_open_connections{protocol=\"http\"} 1\n"), "{metrics}");
    assert!(metrics.contains("kvbench_open_connections{protocol=\"resp\"} 0\n"), "{metrics}");
    drop(flooders);
    still_serves(&server, "clients that never read their answers");

    // Thousands of connections opened and abandoned, in waves under the connection limit.
    for wave in 0..6 {
        let conns: Vec<TcpStream> =
            (0..500).map(|i| TcpStream::connect(if i % 2 == 0 { server.http } else { server.resp }).unwrap()).collect();
        if wave % 2 == 0 {
            drop(conns);
        } else {
            conns.into_iter().for_each(reset);
        }
    }
    still_serves(&server, "3,000 abandoned connections");

    // Abrupt resets in the middle of requests, on both protocols.
    for i in 0..200 {
        let (addr, partial): (_, &[u8]) =
            if i % 2 == 0 { (server.http, b"GET /k1 HTTP/1.1\r\nho") } else { (server.resp, b"*2\r\n$3\r\nGE") };
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(partial).unwrap();
        reset(stream);
    }
    still_serves(&server, "200 resets mid-request");

    // Past the connection limit (512), the extra connections are closed at once; the server recovers.
    let held: Vec<TcpStream> = (0..600).map(|_| TcpStream::connect(server.http).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    still_serves(&server, "600 connections against a limit of 512");

    let rss_end = rss_kib(&server);
    eprintln!("server RSS: {rss_start} KiB at start, {rss_end} KiB after every abuse");
    assert!(rss_end < rss_start + 32 * 1024, "RSS grew from {rss_start} KiB to {rss_end} KiB");
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
    assert!(server.stop().success(), "{}", server.log());
}

#[test]
fn a_short_soak_has_no_errors_and_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvbench"))
        .args(["bench", "soak", "--duration", "3s", "--slice", "1s", "--keys", "2k", "--connections", "8"])
        .args(["--data-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(", 0 errors; RSS") && text.lines().filter(|l| l.contains(" %")).count() == 3, "{text}");
}
