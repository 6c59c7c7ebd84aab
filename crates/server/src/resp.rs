//! The RESP front end: a Redis-protocol subset over the same strategies.
//!
//! Each connection reads into one buffer, parses every complete command in
//! it ([`parse`]), executes them in order ([`command`]) and writes all their
//! replies with one write, so pipelined clients are answered in batches. A run
//! of pipelined `GET`s is looked up as one batch (up to [`GET_RUN`] keys,
//! through the strategy's prefetching path), its replies in order. A
//! protocol error is answered with `-ERR Protocol error: …` and the
//! connection is closed, as Redis does.

pub mod command;
pub mod parse;

use std::ops::Range;
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
/// The most pipelined `GET`s answered as one batch ([`kvbench_lookup::Lookup::get_many`]).
const GET_RUN: usize = 64;
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
    let mut session = Session::new(&shared, NEXT_ID.fetch_add(1, Ordering::Relaxed));
    let parse_limits = RespLimits {
        max_args: limits.max_resp_args,
        max_bulk: limits.max_resp_bulk_bytes,
        max_command: limits.max_resp_command_bytes,
        max_inline: limits.max_resp_inline_bytes,
    };
    let mut input = BytesMut::with_capacity(16 * 1024);
    let mut output = Vec::with_capacity(16 * 1024);
    let mut parser = Parser::default();
    // One idle timer and one shutdown wait per connection, armed once: a timer
    // or watch registration per request costs more than the lookup itself.
    let mut last_command = Instant::now();
    let idle = tokio::time::sleep(limits.idle_timeout);
    let stop = crate::stop::stopped(&mut shutdown);
    tokio::pin!(idle, stop);
    // The keys of a run of pipelined `GET`s not answered yet, as ranges of
    // `input`: they are looked up as one batch when the run ends.
    let mut gets: Vec<Range<usize>> = Vec::with_capacity(GET_RUN);
    loop {
        let mut flow = Flow::Continue;
        let mut executed = false;
        // Where the next command starts in `input`; consumed bytes are dropped once all are answered.
        let mut pos = 0;
        while flow == Flow::Continue {
            let buf = input.get(pos..).unwrap_or_default();
            match parser.parse(buf, &parse_limits) {
                Ok(Some(used)) => {
                    executed = true;
                    if let Some(key) = session.batchable_get(buf, parser.args()) {
                        gets.push(key.start + pos..key.end + pos);
                        pos += used;
                        if gets.len() == GET_RUN {
                            session.answer_gets(&input, &mut gets, &mut output);
                        }
                    } else {
                        session.answer_gets(&input, &mut gets, &mut output);
                        flow = session.execute(buf, parser.args(), &mut output);
                        pos += used;
                    }
                    if output.len() >= FLUSH_AT && !write(&mut stream, &mut output, limits.idle_timeout).await {
                        return;
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    session.answer_gets(&input, &mut gets, &mut output);
                    command::error_reply(&mut output, "ERR", &format!("Protocol error: {err}"));
                    shared.metrics.resp_command(true);
                    flow = Flow::Close;
                }
            }
        }
        session.answer_gets(&input, &mut gets, &mut output);
        input.advance(pos);
        if executed {
            last_command = Instant::now();
        }
        if !write(&mut stream, &mut output, limits.idle_timeout).await {
            return;
        }
        if flow == Flow::Close {
            return close(stream).await;
        }
        if input.is_empty() && input.capacity() > KEEP_CAPACITY {
            input = BytesMut::with_capacity(16 * 1024);
        }
        if output.capacity() > KEEP_CAPACITY {
            output = Vec::with_capacity(16 * 1024);
        }
        tokio::select! {
            read = stream.read_buf(&mut input) => match read {
                Ok(n) if n > 0 => {}
                _ => return, // closed or reset
            },
            () = &mut idle => {
                // The timer fires once per idle period; it only closes if no command came since.
                let deadline = last_command + limits.idle_timeout;
                if Instant::now() >= deadline {
                    return;
                }
                idle.as_mut().reset(deadline);
            }
            () = &mut stop => return,
        }
    }
}

/// Writes and clears the pending replies; `false` if the client is gone or
/// has not read them within `timeout` (it gets closed, not waited on forever).
async fn write(stream: &mut TcpStream, output: &mut Vec<u8>, timeout: Duration) -> bool {
    if output.is_empty() {
        return true;
    }
    // Replies almost always fit the socket buffer: write them without arming a timer.
    let sent = match stream.try_write(output) {
        Ok(n) => n,
        Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(_) => return false,
    };
    let rest = output.get(sent..).unwrap_or_default();
    let written = rest.is_empty() || matches!(tokio::time::timeout(timeout, stream.write_all(rest)).await, Ok(Ok(())));
    output.clear();
    written
}

/// Closes after `QUIT` or a protocol error so the last reply arrives: closing
/// with unread input queued would make the kernel send a reset, which can
/// destroy the reply before the client reads it. A client refused for a
/// command over a limit is usually still sending it (an `MGET` of 70,000
/// keys is 3 MB), and reads the reply only once it has: what it sends is read
/// and dropped until it stops, for at most [`DRAIN_FOR`].
async fn close(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = vec![0; 64 * 1024];
    let drain = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(DRAIN_FOR, drain).await;
}

/// How long [`close`] reads what a closed client still sends.
const DRAIN_FOR: Duration = Duration::from_secs(2);
