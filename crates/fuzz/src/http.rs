//! HTTP request targets turned into keys
//! ([`kvbench_server::percent_decode`], then the key check of every
//! lookup) against an independent percent-decoder ([`model_decode`]) and the
//! data format's rules for keys ([`key_can_exist`]).

use kvbench_lookup::Reference;
use kvbench_lookup::{MAX_KEY_LEN, check_key};
use kvbench_server::percent_decode;

use crate::input::{Bytes, Input};

/// The obvious percent-decoder, written apart from the server's: `%` must be
/// followed by two hex digits.
pub fn model_decode(encoded: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < encoded.len() {
        if encoded[i] == b'%' {
            let hex = encoded.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(encoded[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Whether `key` can be the key of a record at all, from the data format
/// (docs/guide.md, "Data format"): not empty, at most 1024 bytes, and no space, tab
/// or newline, which end a key or a line.
pub fn key_can_exist(key: &[u8]) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && !key.iter().any(|b| b" \t\n".contains(b))
}

/// What the server does with a request target, as `http.rs` decides it.
#[derive(Debug, PartialEq)]
pub enum Route {
    /// hyper refuses the target itself.
    BadUri,
    /// `/healthz` or `/metrics`.
    Endpoint,
    /// `400`: bad percent-encoding, or a key [`check_key`] refuses.
    BadKey,
    /// A lookup of this key.
    Lookup(Vec<u8>),
}

/// Routes a request target as `http::respond` does: hyper's URI parser, the
/// two endpoints, then the key (percent-decoded, then checked as every lookup checks it).
pub fn route(target: &[u8]) -> Route {
    let Ok(uri) = hyper::Uri::try_from(target) else { return Route::BadUri };
    let path = uri.path();
    if path == "/healthz" || path == "/metrics" {
        return Route::Endpoint;
    }
    let encoded = path.strip_prefix('/').unwrap_or(path);
    match percent_decode(encoded.as_bytes()) {
        Some(key) if check_key(&key).is_ok() => Route::Lookup(key.into_owned()),
        _ => Route::BadKey,
    }
}

/// Percent-encodes `key` as a client would: every byte but RFC 3986's
/// unreserved ones, plus those `escape` picks; hex digits in either case.
pub fn encode(key: &[u8], escape: &[bool], upper: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, &b) in key.iter().enumerate() {
        let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        if unreserved && !escape.get(i).copied().unwrap_or(false) {
            out.push(b);
        } else if upper {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.extend_from_slice(format!("%{b:02x}").as_bytes());
        }
    }
    out
}

/// One HTTP fuzz case.
#[derive(Clone, Debug)]
pub enum HttpCase {
    /// A request target as sent (with or without its leading `/`).
    Raw(Bytes),
    /// A key, percent-encoded by [`encode`] into a target.
    Key {
        /// The key.
        key: Bytes,
        /// Which of its bytes to escape even if they need not be.
        escape: Vec<bool>,
        /// Upper-case hex digits.
        upper: bool,
    },
}

impl HttpCase {
    /// Decodes a libFuzzer input. A 2-byte header, then the payload:
    ///
    /// - byte 0, flags: bit 0 the payload is a key to encode (else a raw
    ///   request target), bit 1 upper-case hex digits;
    /// - byte 1, which key bytes to escape anyway: byte `i` if bit `i % 8` is set.
    ///
    /// So `00/a%20b` is the raw target `/a%20b`, and `10a b` the key `a b`
    /// (`'0'` sets bits 4 and 5: bytes 4, 5, 12, 13 … escaped anyway).
    pub fn from_fuzz(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let flags = input.byte();
        let mask = input.byte();
        let payload = input.rest().to_vec();
        if flags & 1 == 0 {
            return HttpCase::Raw(Bytes(payload));
        }
        let escape = (0..payload.len()).map(|i| mask >> (i % 8) & 1 == 1).collect();
        HttpCase::Key { key: Bytes(payload), escape, upper: flags & 2 == 2 }
    }
}

/// Every property of one HTTP case; panics on the first that fails.
pub fn check(case: &HttpCase) {
    match case {
        HttpCase::Raw(Bytes(target)) => {
            let decoded = percent_decode(target);
            let model = model_decode(target);
            assert_eq!(decoded.as_deref(), model.as_deref(), "decoding vs the model");
            if !target.contains(&b'%') {
                assert_eq!(decoded.as_deref(), Some(&target[..]), "nothing to decode: the target itself");
            }
            if let Route::Lookup(key) = route(target) {
                assert!(key_can_exist(&key), "server looked up {:?}", Bytes(key));
            }
        }
        HttpCase::Key { key: Bytes(key), escape, upper } => {
            let encoded = encode(key, escape, *upper);
            let decoded = percent_decode(&encoded);
            assert_eq!(decoded.as_deref(), Some(&key[..]), "decoding {:?}", Bytes(encoded.clone()));
            let target = [&b"/"[..], &encoded].concat();
            let want = match () {
                () if target == b"/healthz" || target == b"/metrics" => Route::Endpoint,
                () if key_can_exist(key) => Route::Lookup(key.clone()),
                () => Route::BadKey,
            };
            assert_eq!(route(&target), want, "route of {:?}", Bytes(target.clone()));
            // The server refuses exactly the keys no data file can hold.
            let file = [&key[..], b" v\n"].concat();
            assert_eq!(Reference::from_bytes(&file).value(key).is_some(), key_can_exist(key), "a file holding the key");
        }
    }
}
