//! kvbench's server: HTTP/1.1 and RESP (Redis protocol) front ends over any
//! [`Lookup`](kvbench_lookup::Lookup) strategy.
//!
//! One process serves one data file with one strategy, on one thread or
//! several. Each thread is a tokio current-thread runtime; the first accepts
//! and deals the connections out in turn, and a connection is served start to
//! end by the thread it was dealt to: no work stealing, no wake-ups across
//! threads, and per-thread request counters. The strategy is
//! held behind an atomic pointer so a reload (SIGHUP) builds the new one in
//! the background and swaps it in without failing a request.
//!
//! | file | what it does | its public items |
//! |---|---|---|
//! | `config.rs` | addresses, threads and the limits every client is held to | [`Config`], [`Limits`] |
//! | `state.rs` | the data source and the strategy being served, swapped on reload | [`DataSource`] |
//! | `server.rs` | starting, running, reloading and stopping the server | [`Server`], [`Bound`] |
//! | `http.rs` | `GET /{key}`, `/healthz` and `/metrics` over HTTP/1.1 (hyper) | [`percent_decode`] |
//! | `resp.rs` | the RESP2/RESP3 command subset Redis clients and tools need | [`Parser`], [`RespLimits`], [`ProtocolError`], [`Limit`] |
//! | `metrics.rs` | request counters, the lookup-latency histogram, Prometheus text | [`Protocol`] |
//! | `error.rs` | what can stop the server from starting | [`ServerError`] |
//! | `stop.rs` | the shutdown signal the server and both front ends wait on | — |
//!
//! The parser and the key decoding are public so that `kvbench-fuzz` can
//! check them on their own.

// Bytes from files and clients must never panic the process: no unwrap,
// expect or unchecked indexing outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

mod config;
mod error;
mod http;
mod metrics;
mod resp;
mod server;
mod state;
mod stop;

pub use config::{Config, Limits};
pub use error::ServerError;
pub use http::percent_decode;
pub use metrics::Protocol;
pub use resp::parse::{Limit, Parser, ProtocolError, RespLimits};
pub use server::{Bound, Server};
pub use state::DataSource;

/// Logs a server event on stderr (start, reload, shutdown); requests are not logged.
pub(crate) fn log(message: std::fmt::Arguments<'_>) {
    eprintln!("kvbench serve: {message}");
}
