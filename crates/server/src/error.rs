//! What can stop the server from starting.

use std::io;
use std::net::SocketAddr;

use kvbench_lookup::OpenError;

/// Why the server could not start (once started, it logs and keeps serving).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data file could not be opened with the chosen strategy.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// A listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The underlying error.
        source: io::Error,
    },
    /// The configuration is contradictory (e.g. no protocol, zero threads).
    #[error("{0}")]
    Config(String),
    /// The runtime, a signal handler or the server thread could not be set up.
    #[error("cannot start the server: {0}")]
    Runtime(#[source] io::Error),
    /// The server thread panicked (a bug: requests never panic on bad input).
    #[error("the server thread panicked")]
    Panicked,
}
