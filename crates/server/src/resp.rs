//! The RESP front end: a Redis-protocol subset over the same strategies.
//!
//! Each connection reads into one buffer, parses every complete command in
//! it ([`parse`]), executes them in order ([`command`]) and writes all their
//! replies with one write, so pipelined clients are answered in batches. A
//! protocol error is answered with `-ERR Protocol error: …` and the
//! connection is closed, as Redis does.

pub mod command;
pub mod parse;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::Limits;
use crate::state::Shared;
use command::{Flow, Session};
use parse::{RespLimits, parse_command};

/// Connection numbers for `CLIENT ID`.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Serves one RESP connection until the client quits or closes, sends no
/// complete command for [`Limits::idle_timeout`], breaks the protocol, or the
/// server shuts down (between commands).
pub(crate) async fn serve_connection(
    mut stream: TcpStream,
    shared: Arc<Shared>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let session = Session { shared: &shared, id: NEXT_ID.fetch_add(1, Ordering::Relaxed) };
    let parse_limits = RespLimits {
        max_args: limits.max_resp_args,
        max_bulk: limits.max_resp_bulk_bytes,
        max_command: limits.max_resp_command_bytes,
    };
    let mut input = BytesMut::with_capacity(16 * 1024);
    let mut output = Vec::with_capacity(16 * 1024);
    let mut args = Vec::new();
    let mut deadline = Instant::now() + limits.idle_timeout;
    loop {
        let mut flow = Flow::Continue;
        while flow == Flow::Continue {
            match parse_command(&input, &parse_limits, &mut args) {
                Ok(Some(used)) => {
                    flow = session.execute(&input, &args, &mut output);
                    input.advance(used);
                    deadline = Instant::now() + limits.idle_timeout;
                }
                Ok(None) => break,
                Err(err) => {
                    command::error_reply(&mut output, "ERR", &format!("Protocol error: {err}"));
                    shared.metrics.resp_command(true);
                    flow = Flow::Close;
                }
            }
        }
        if !output.is_empty() {
            if stream.write_all(&output).await.is_err() {
                return;
            }
            output.clear();
        }
        if flow == Flow::Close || *shutdown.borrow() {
            return;
        }
        tokio::select! {
            read = tokio::time::timeout_at(deadline, stream.read_buf(&mut input)) => match read {
                Ok(Ok(n)) if n > 0 => {}
                _ => return, // closed, reset, or idle past the limit
            },
            _ = crate::server::stopped(&mut shutdown) => return,
        }
    }
}
