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
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use tokio::time::Instant;

use crate::config::Limits;
use crate::state::Shared;
use command::{Flow, Session};
use parse::{Parser, RespLimits};

/// Connection numbers for `CLIENT ID`.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Replies are written once this many bytes are pending, even mid-batch, so a
/// long pipeline does not build one huge reply buffer.
const FLUSH_AT: usize = 256 * 1024;
/// Buffers that grew past this (one big command) are given back once empty.
const KEEP_CAPACITY: usize = 64 * 1024;

/// Serves one RESP connection until the client quits or closes, sends no
/// complete command (or reads no reply) for [`Limits::idle_timeout`], breaks
/// the protocol, or the server shuts down (between commands).
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
        max_inline: limits.max_resp_inline_bytes,
    };
    let mut input = BytesMut::with_capacity(16 * 1024);
    let mut output = Vec::with_capacity(16 * 1024);
    let mut parser = Parser::default();
    let mut deadline = Instant::now() + limits.idle_timeout;
    loop {
        let mut flow = Flow::Continue;
        while flow == Flow::Continue {
            match parser.parse(&input, &parse_limits) {
                Ok(Some(used)) => {
                    flow = session.execute(&input, parser.args(), &mut output);
                    input.advance(used);
                    deadline = Instant::now() + limits.idle_timeout;
                    if output.len() >= FLUSH_AT && !write(&mut stream, &mut output, limits.idle_timeout).await {
                        return;
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    command::error_reply(&mut output, "ERR", &format!("Protocol error: {err}"));
                    shared.metrics.resp_command(true);
                    flow = Flow::Close;
                }
            }
        }
        if !write(&mut stream, &mut output, limits.idle_timeout).await {
            return;
        }
        if flow == Flow::Close {
            return close(stream).await;
        }
        if *shutdown.borrow() {
            return;
        }
        if input.is_empty() && input.capacity() > KEEP_CAPACITY {
            input = BytesMut::with_capacity(16 * 1024);
        }
        if output.capacity() > KEEP_CAPACITY {
            output = Vec::with_capacity(16 * 1024);
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

/// Writes and clears the pending replies; `false` if the client is gone or
/// has not read them within `timeout` (it gets closed, not waited on forever).
async fn write(stream: &mut TcpStream, output: &mut Vec<u8>, timeout: Duration) -> bool {
    if output.is_empty() {
        return true;
    }
    let written = matches!(tokio::time::timeout(timeout, stream.write_all(output)).await, Ok(Ok(())));
    output.clear();
    written
}

/// Closes after `QUIT` or a protocol error so the last reply arrives: closing
/// with unread input queued would make the kernel send a reset, which can
/// destroy the reply before the client reads it.
async fn close(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = [0; 4096];
    let drain = async {
        for _ in 0..16 {
            if matches!(stream.read(&mut sink).await, Ok(0) | Err(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(100), drain).await;
}
