//! What the server listens on and the limits every client is held to.

use std::net::SocketAddr;
use std::time::Duration;

/// How to run the server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to serve HTTP/1.1, if at all; port 0 picks a free port.
    pub http: Option<SocketAddr>,
    /// Where to serve RESP, if at all; port 0 picks a free port.
    pub resp: Option<SocketAddr>,
    /// Threads serving requests, each an event loop of its own (1: a single-threaded server).
    pub threads: usize,
    /// Stop on SIGINT/SIGTERM and reload on SIGHUP (off for in-process servers in tests).
    pub signals: bool,
    /// Bounds on clients and requests.
    pub limits: Limits,
}

/// Bounds that keep a slow, hostile or runaway client from hurting the others.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Longest request target (path and query) accepted over HTTP; longer gets `414`.
    pub max_uri_bytes: usize,
    /// Most bytes of HTTP request line and headers; more gets `431`.
    pub max_header_bytes: usize,
    /// Most HTTP headers in one request; more gets `431`.
    pub max_headers: usize,
    /// A connection that sends no complete request for this long is closed
    /// (covers idle keep-alive connections and one-byte-a-second senders), and
    /// so is one that does not read its answers for this long.
    pub idle_timeout: Duration,
    /// Most connections open at once, both protocols together; more are closed on accept.
    pub max_connections: usize,
    /// Most arguments in one RESP command.
    pub max_resp_args: usize,
    /// Longest RESP bulk string (Redis allows 512 MB; keys here are at most 1 KiB).
    pub max_resp_bulk_bytes: usize,
    /// Most bytes one RESP command may take, all arguments together: with
    /// [`Limits::max_connections`], what bounds the memory clients can pin.
    pub max_resp_command_bytes: usize,
    /// Longest inline RESP command line.
    pub max_resp_inline_bytes: usize,
    /// How long a shutdown waits for open connections to finish their requests.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            idle_timeout: Duration::from_secs(30),
            max_connections: 4096,
            max_resp_args: 64 * 1024,
            max_resp_bulk_bytes: 512 * 1024,
            max_resp_command_bytes: 1024 * 1024,
            max_resp_inline_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        let loopback = |port| Some(SocketAddr::from(([127, 0, 0, 1], port)));
        Config { http: loopback(8080), resp: loopback(6380), threads: 1, signals: false, limits: Limits::default() }
    }
}
