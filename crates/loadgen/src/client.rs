//! One keep-alive connection that asks for one key at a time, and the
//! client a load's connection is: one server's connection, or a cluster's ([`Client`]).
//!
//! Hand-rolled on purpose, as wrk's is: a general HTTP client spends more
//! time than the server on each request, and the load generator's own cost
//! is part of every latency it reports. Responses are parsed with `httparse`;
//! RESP replies to `GET` are one line and an optional body.

use std::io;
use std::ops::Range;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cluster::{ClusterConnection, SlotMap};
use crate::target::Target;

/// What the server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer<'a> {
    /// The key's value (`200` or a bulk string).
    Found(&'a [u8]),
    /// The key is absent (`404` or a null bulk).
    Absent,
    /// Any other HTTP status.
    Status(u16),
    /// A RESP error reply.
    Error(String),
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Connecting, sending or receiving failed, or the server closed the connection.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The reply is not valid HTTP or RESP.
    #[error("malformed reply: {0}")]
    Malformed(String),
}

/// A connection to a [`Target`].
pub struct Connection {
    stream: TcpStream,
    target: Target,
    request: Vec<u8>,
    reply: Vec<u8>,
}

/// Longest reply accepted (values are lines of a data file).
const MAX_REPLY: usize = 64 * 1024 * 1024;

impl Connection {
    /// Connects (with `TCP_NODELAY`: requests are small and latency is the point).
    pub async fn connect(target: Target) -> io::Result<Connection> {
        let stream = TcpStream::connect(target.addr()).await?;
        stream.set_nodelay(true)?;
        Ok(Connection { stream, target, request: Vec::with_capacity(256), reply: Vec::with_capacity(4096) })
    }

    /// Asks for `key` and waits for the answer.
    pub async fn get(&mut self, key: &[u8]) -> Result<Answer<'_>, ClientError> {
        let reply = self.send(key, false).await?;
        self.answer(reply)
    }

    /// Asks for `key` and waits for the complete reply, left in the reply
    /// buffer; `asking` sends RESP `ASKING` first, in the same write (a
    /// cluster node answers the `GET` of a slot it is importing only after it).
    pub(crate) async fn send(&mut self, key: &[u8], asking: bool) -> Result<Parsed, ClientError> {
        self.request.clear();
        match self.target {
            Target::Http(_) => {
                self.request.extend_from_slice(b"GET /");
                percent_encode(key, &mut self.request);
                self.request.extend_from_slice(b" HTTP/1.1\r\nHost: kvbench\r\n\r\n");
            }
            Target::Resp(_) | Target::Cluster(_) => {
                if asking {
                    self.request.extend_from_slice(ASKING);
                }
                self.request.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n${}\r\n", key.len()).as_bytes());
                self.request.extend_from_slice(key);
                self.request.extend_from_slice(b"\r\n");
            }
        }
        self.stream.write_all(&self.request).await?;
        self.reply.clear();
        // `ASKING`'s own reply comes first: `+OK`, dropped once it is whole.
        let mut awaiting_ok = asking;
        loop {
            if awaiting_ok && self.reply.len() >= OK.len() {
                if !self.reply.starts_with(OK) {
                    // The GET's reply is still to come: the connection cannot be used again.
                    let line = self.reply.split(|&b| b == b'\n').next().unwrap_or_default();
                    return Err(ClientError::Malformed(format!(
                        "ASKING refused: {}",
                        String::from_utf8_lossy(line).trim()
                    )));
                }
                self.reply.drain(..OK.len());
                awaiting_ok = false;
            }
            if !awaiting_ok {
                let parsed = match self.target {
                    Target::Http(_) => parse_http(&self.reply)?,
                    Target::Resp(_) | Target::Cluster(_) => parse_resp(&self.reply)?,
                };
                if let Some(parsed) = parsed {
                    return Ok(parsed);
                }
            }
            if self.reply.len() > MAX_REPLY {
                return Err(ClientError::Malformed(format!("reply over {MAX_REPLY} bytes")));
            }
            if self.stream.read_buf(&mut self.reply).await? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection").into());
            }
        }
    }

    /// The answer a [`Connection::send`] received, read from the reply buffer.
    pub(crate) fn answer(&self, reply: Parsed) -> Result<Answer<'_>, ClientError> {
        Ok(match reply {
            Parsed::Found(range) => match self.reply.get(range) {
                Some(value) => Answer::Found(value),
                None => return Err(ClientError::Malformed("value past the end of the reply".into())),
            },
            Parsed::Absent => Answer::Absent,
            Parsed::Status(code) => Answer::Status(code),
            Parsed::Error(message) => Answer::Error(message),
        })
    }
}

/// What one of a load's connections talks to: one server over one
/// connection, or every node of a cluster, routed by slot.
pub(crate) enum Client {
    /// A server, and the connection to it once open.
    Server(Target, Option<Connection>),
    /// A cluster's nodes.
    Cluster(ClusterConnection),
}

impl Client {
    /// A client of `target`, connected to nothing yet; a cluster routes by `map`.
    pub(crate) fn new(target: Target, map: Option<&SlotMap>) -> Client {
        match map {
            Some(map) => Client::Cluster(ClusterConnection::new(map.clone())),
            None => Client::Server(target, None),
        }
    }

    /// Opens what is not open yet (a cluster: a connection to every node).
    pub(crate) async fn connect(&mut self) -> io::Result<()> {
        match self {
            Client::Server(_, Some(_)) => Ok(()),
            Client::Server(target, none) => {
                *none = Some(Connection::connect(*target).await?);
                Ok(())
            }
            Client::Cluster(cluster) => cluster.connect().await,
        }
    }

    /// Asks for `key` (connecting first if needed) and waits for the answer.
    pub(crate) async fn get(&mut self, key: &[u8]) -> Result<Answer<'_>, ClientError> {
        match self {
            Client::Server(target, connection) => {
                let connection = match connection {
                    Some(connection) => connection,
                    None => connection.insert(Connection::connect(*target).await?),
                };
                connection.get(key).await
            }
            Client::Cluster(cluster) => cluster.get(key).await,
        }
    }

    /// Drops a connection that failed, so the next request opens a fresh one
    /// (a cluster drops the failed node's itself, keeping the rest and its map).
    pub(crate) fn failed(&mut self) {
        if let Client::Server(_, connection) = self {
            *connection = None;
        }
    }
}

/// RESP `ASKING`, and the `+OK` it is answered with.
const ASKING: &[u8] = b"*1\r\n$6\r\nASKING\r\n";
const OK: &[u8] = b"+OK\r\n";

/// A complete reply, with its value as a range of the reply buffer.
#[derive(Debug)]
pub(crate) enum Parsed {
    Found(Range<usize>),
    Absent,
    Status(u16),
    Error(String),
}

pub(crate) fn parse_http(buf: &[u8]) -> Result<Option<Parsed>, ClientError> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(buf) {
        Ok(httparse::Status::Complete(head)) => head,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(ClientError::Malformed(err.to_string())),
    };
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse::<usize>().ok())
        .ok_or_else(|| ClientError::Malformed("no content-length".into()))?;
    if buf.len() < head + length {
        return Ok(None);
    }
    Ok(Some(match response.code {
        Some(200) => Parsed::Found(head..head + length),
        Some(404) => Parsed::Absent,
        Some(code) => Parsed::Status(code),
        None => return Err(ClientError::Malformed("no status".into())),
    }))
}

fn parse_resp(buf: &[u8]) -> Result<Option<Parsed>, ClientError> {
    let Some(nl) = memchr::memchr(b'\n', buf) else { return Ok(None) };
    let line = buf.get(..nl).and_then(|l| l.strip_suffix(b"\r"));
    let line = line.ok_or_else(|| ClientError::Malformed("bare \\n".into()))?;
    match line.split_first() {
        Some((b'$', b"-1")) => Ok(Some(Parsed::Absent)),
        Some((b'$', len)) => {
            let len: usize = std::str::from_utf8(len)
                .ok()
                .and_then(|l| l.parse().ok())
                .ok_or_else(|| ClientError::Malformed("bad bulk length".into()))?;
            let start = nl + 1;
            match buf.get(start + len..start + len + 2) {
                None => Ok(None),
                Some(b"\r\n") => Ok(Some(Parsed::Found(start..start + len))),
                Some(_) => Err(ClientError::Malformed("bulk string not ended by CRLF".into())),
            }
        }
        Some((b'-', message)) => Ok(Some(Parsed::Error(String::from_utf8_lossy(message).into_owned()))),
        _ => Err(ClientError::Malformed(format!("unexpected reply {:?}", String::from_utf8_lossy(line)))),
    }
}

/// Writes `key` as a URL path segment: unreserved bytes as they are, others as `%XX`.
fn percent_encode(key: &[u8], out: &mut Vec<u8>) {
    for &byte in key {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte);
        } else {
            out.extend_from_slice(format!("%{byte:02X}").as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_percent_encoded() {
        let mut out = Vec::new();
        percent_encode(b"a-1_b.c~ d/%\xff", &mut out);
        assert_eq!(out, b"a-1_b.c~%20d%2F%25%FF");
    }

    #[test]
    fn replies_parse_or_wait() {
        let http = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc";
        assert!(matches!(parse_http(http), Ok(Some(Parsed::Found(r))) if &http[r.clone()] == b"abc"));
        assert!(matches!(parse_http(&http[..http.len() - 1]), Ok(None)));
        assert!(matches!(parse_http(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"), Ok(Some(Parsed::Absent))));
        assert!(matches!(parse_http(b"HTTP/1.1 503 x\r\ncontent-length: 0\r\n\r\n"), Ok(Some(Parsed::Status(503)))));
        assert!(parse_http(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
        let resp = b"$3\r\nabc\r\n";
        assert!(matches!(parse_resp(resp), Ok(Some(Parsed::Found(r))) if &resp[r.clone()] == b"abc"));
        assert!(matches!(parse_resp(b"$3\r\nab"), Ok(None)));
        assert!(matches!(parse_resp(b"$-1\r\n"), Ok(Some(Parsed::Absent))));
        assert!(matches!(parse_resp(b"-ERR no\r\n"), Ok(Some(Parsed::Error(m))) if m == "ERR no"));
        assert!(parse_resp(b":1\r\n").is_err());
    }
}
