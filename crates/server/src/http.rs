//! The HTTP/1.1 front end: `GET /kv/{key}` (or `/{key}`), `GET /healthz`, `GET /metrics`.
//!
//! | request | answer |
//! |---|---|
//! | `GET /kv/{key}` (key percent-decoded), whatever the key | `200` with the value as `text/plain`, `404` if absent |
//! | `GET /{key}`, for a key that is not `healthz`, `metrics` or under `kv/` | the same |
//! | a key that cannot be in a data file (empty, over 1 KiB, with a space/tab/newline) | `404`, saying why |
//! | bad percent-encoding (`%` not followed by two hex digits) | `400` |
//! | HTTP/1.1 without a `Host` header (RFC 9112, section 3.2) | `400` |
//! | any method but `GET`/`HEAD` | `405` with `Allow: GET, HEAD` |
//! | a request target over [`Limits::max_uri_bytes`] | `414` |
//! | headers over [`Limits::max_header_bytes`] or [`Limits::max_headers`] | `431` |
//! | request line and headers together far over both limits | `431` (sent by hyper, which then closes) |
//! | the strategy failed (e.g. Redis unreachable, a read error) | `503` with the error |
//! | `GET /healthz` | `200 ok` |
//! | `GET /metrics` | OpenMetrics text (Prometheus scrapes it) |
//!
//! `kvbench_http_requests_total` counts the answers above; the `400`/`431`
//! hyper sends itself for requests it cannot parse are not counted.
//!
//! Lookups run on the thread serving the connection: right for strategies
//! that answer from memory in well under a microsecond, but a strategy that
//! waits (`redis` over the network, `scan-lines`) holds that thread, and with
//! `threads = 1` every other connection, for as long as it takes.
//!
//! A key is any byte string, as in Redis: one that cannot be in the file is
//! not a bad request but a key that is not there, so a client looking up
//! user-supplied keys gets a `404`, not an error. Only a URL that does not
//! decode to a key at all is a `400`.
//!
//! A client may close its sending side once its request is sent (`printf … |
//! nc` does): the answer is still written (hyper's half-close support).
//!
//! `/kv/{key}` is the one URL of every key. The short form `/{key}` (for
//! `curl` and `wrk`) cannot reach keys named `healthz` or `metrics`, which are
//! the server's own pages, nor keys starting with `kv/`: `/kv/healthz` and
//! `/kv/kv/x` reach them.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONNECTION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioIo, TokioTimer};
use kvbench_lookup::LookupError;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_io_timeout::TimeoutStream;

use crate::config::Limits;
use crate::state::Shared;

/// Serves one HTTP connection until the client closes it, it idles past the
/// limit (reading a request, or waiting for the client to read an answer), or
/// the server shuts down: a request already read is answered first, one still
/// arriving is dropped, as RESP does.
pub(crate) async fn serve_connection(
    stream: TcpStream,
    shared: Arc<Shared>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    // hyper bounds reading (header_read_timeout) but not writing: a client that
    // sends requests and never reads the answers would hold its slot forever.
    let mut stream = TimeoutStream::new(stream);
    stream.set_write_timeout(Some(limits.idle_timeout));
    let mut builder = http1::Builder::new();
    builder
        .keep_alive(true)
        .half_close(true)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        // The hard bound on request line + headers; the separate URI and header
        // limits are checked in `respond`, so each gets its own status.
        .max_header_size(limits.max_uri_bytes + limits.max_header_bytes + 1024)
        .max_headers(limits.max_headers);
    let finish_within = limits.idle_timeout.min(FINISH_WITHIN);
    let service =
        hyper::service::service_fn(move |req| std::future::ready(Ok::<_, Infallible>(respond(&shared, &limits, &req))));
    let conn = builder.serve_connection(TokioIo::new(Box::pin(stream)), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = crate::stop::stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            // hyper waits for a request it has started reading, however slowly
            // it arrives; one it has read is answered at once (lookups do not
            // wait), so what is still open after a moment is a half-sent request.
            let _ = tokio::time::timeout(finish_within, conn).await;
        }
    }
}

/// How long a shutting-down connection gets to write the answers to the
/// requests it has read: ample for answers that are ready.
const FINISH_WITHIN: std::time::Duration = std::time::Duration::from_millis(250);

/// Answers one request.
fn respond(shared: &Shared, limits: &Limits, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    // As sent: `name: value\r\n`.
    let headers: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    let response = if target > limits.max_uri_bytes {
        let max = limits.max_uri_bytes;
        closing(text(
            StatusCode::URI_TOO_LONG,
            format!("request target of {target} bytes is over the limit of {max}\n"),
        ))
    } else if headers > limits.max_header_bytes {
        let max = limits.max_header_bytes;
        let message = format!("{headers} bytes of headers is over the limit of {max}\n");
        closing(text(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, message))
    } else if req.version() == Version::HTTP_11 && !req.headers().contains_key(HOST) {
        closing(text(StatusCode::BAD_REQUEST, "an HTTP/1.1 request needs a Host header\n"))
    } else if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut response =
            text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD are served: the data is read-only\n");
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        response
    } else {
        match req.uri().path() {
            "/healthz" => text(StatusCode::OK, "ok\n"),
            "/metrics" => metrics(shared),
            path => {
                let key = path.strip_prefix("/kv/").or_else(|| path.strip_prefix('/')).unwrap_or(path);
                lookup(shared, key)
            }
        }
    };
    shared.metrics.http_status(response.status().as_u16());
    response
}

fn lookup(shared: &Shared, encoded: &str) -> Response<Full<Bytes>> {
    let Some(key) = percent_decode(encoded.as_bytes()) else {
        return text(StatusCode::BAD_REQUEST, "invalid key: bad percent-encoding\n");
    };
    let served = shared.current.load();
    match shared.lookup(&served, &key, Bytes::copy_from_slice) {
        Ok(Some(value)) => body(StatusCode::OK, value),
        Ok(None) => text(StatusCode::NOT_FOUND, "not found\n"),
        Err(LookupError::InvalidKey(why)) => {
            text(StatusCode::NOT_FOUND, format!("not found: {why}, so it cannot be in the data file\n"))
        }
        Err(err) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{err}\n")),
    }
}

fn metrics(shared: &Shared) -> Response<Full<Bytes>> {
    let served = shared.current.load();
    let exposition = shared.metrics.render(&served, &shared.source.path.display().to_string());
    let mut response = body(StatusCode::OK, Bytes::from(exposition));
    let openmetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(openmetrics));
    response
}

/// Asks hyper to close the connection after this response: a client that
/// overran a limit does not get to keep its connection.
fn closing(mut response: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

fn text(status: StatusCode, message: impl Into<Bytes>) -> Response<Full<Bytes>> {
    body(status, message.into())
}

fn body(status: StatusCode, bytes: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// Decodes `%XX` escapes; `None` for a `%` not followed by two hex digits.
///
/// Strict on purpose: a lenient decoder passes `%zz` through, which would turn
/// a malformed request into a lookup of a different key.
pub fn percent_decode(encoded: &[u8]) -> Option<Cow<'_, [u8]>> {
    if !encoded.contains(&b'%') {
        return Some(Cow::Borrowed(encoded));
    }
    let mut decoded = Vec::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let [hi, lo, after @ ..] = tail else { return None };
            decoded.push(hex(*hi)? << 4 | hex(*lo)?);
            rest = after;
        } else {
            decoded.push(byte);
            rest = tail;
        }
    }
    Some(Cow::Owned(decoded))
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_is_strict() {
        assert_eq!(percent_decode(b"plain").as_deref(), Some(&b"plain"[..]));
        assert_eq!(percent_decode(b"a%20b%2Fc%2f").as_deref(), Some(&b"a b/c/"[..]));
        assert_eq!(percent_decode(b"%ff%00").as_deref(), Some(&b"\xff\x00"[..]));
        for bad in [&b"%"[..], b"%4", b"%zz", b"a%g0", b"%%41"] {
            assert_eq!(percent_decode(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
