//! Fuzzing of the two parsers that read client bytes: RESP commands
//! ([`kvbench_server::resp::parse`]) and HTTP request targets turned into keys
//! ([`kvbench_server::http::percent_decode`], then the key check of every lookup).
//!
//! `cargo test` runs 5000 cases of each (well under a second); for a long run:
//! `KVBENCH_FUZZ_SECS=600 cargo test --release -p kvbench-server --test fuzz -- --nocapture --test-threads=1`
//! (or `just fuzz`). The loop itself is kvbench-lookup's `tests/common/fuzz_loop.rs`.
#![allow(clippy::unwrap_used)]

#[path = "../../lookup/tests/common/fuzz_loop.rs"]
mod fuzz_loop;

use fuzz_loop::{Bytes, fuzz};
use kvbench_lookup::record::{MAX_KEY_LEN, check_key};
use kvbench_lookup::reference::Reference;
use kvbench_server::Limits;
use kvbench_server::http::percent_decode;
use kvbench_server::resp::parse::{Parser, ProtocolError, RespLimits};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

// ---------------------------------------------------------------- RESP

/// The arguments of one parsed command.
type Command = Vec<Vec<u8>>;

/// What a connection makes of a byte stream.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// The commands parsed, in order.
    commands: Vec<Command>,
    /// The protocol error that closed the connection, if any.
    error: Option<ProtocolError>,
    /// Bytes not consumed by the commands (an incomplete command, or where the error was found).
    left: usize,
}

/// The limits the server runs with, mapped as `resp.rs` maps them.
fn server_limits() -> RespLimits {
    let limits = Limits::default();
    RespLimits {
        max_args: limits.max_resp_args,
        max_bulk: limits.max_resp_bulk_bytes,
        max_command: limits.max_resp_command_bytes,
        max_inline: limits.max_resp_inline_bytes,
    }
}

/// The server's limits half the time, else small ones that the generated commands hit.
fn resp_limits() -> impl Strategy<Value = RespLimits> {
    let small =
        (0usize..10, 0usize..80, 0usize..300, 0usize..160).prop_map(|(max_args, max_bulk, max_command, max_inline)| {
            RespLimits { max_args, max_bulk, max_command, max_inline }
        });
    prop_oneof![Just(server_limits()), small]
}

/// Feeds `data` to one parser in pieces ending at `cuts`, as `resp.rs` does
/// with each read (parse every complete command, drop its bytes, read more),
/// checking what must hold of every answer along the way.
fn drive(data: &[u8], cuts: &[usize], limits: &RespLimits) -> Result<Outcome, TestCaseError> {
    let mut parser = Parser::default();
    let mut input: Vec<u8> = Vec::new();
    let mut commands = Vec::new();
    let (mut fed, mut consumed) = (0, 0);
    for end in cuts.iter().copied().filter(|&c| c < data.len()).chain([data.len()]) {
        input.extend_from_slice(&data[fed..end.max(fed)]);
        fed = end.max(fed);
        loop {
            match parser.parse(&input, limits) {
                Ok(Some(used)) => {
                    let args = parser.args();
                    // `used == 0` would make the server's loop execute the same empty command forever.
                    prop_assert!((1..=input.len()).contains(&used), "used {used} of {}", input.len());
                    prop_assert!(args.iter().all(|r| r.start <= r.end && r.end <= used), "{args:?} outside {used}");
                    prop_assert!(args.len() <= limits.max_args, "{} args over {limits:?}", args.len());
                    if input[0] == b'*' {
                        prop_assert!(args.iter().all(|r| r.len() <= limits.max_bulk), "bulk over {limits:?}");
                        prop_assert!(args.is_empty() || used <= limits.max_command, "{used} bytes over {limits:?}");
                    } else {
                        prop_assert!(used <= limits.max_inline, "inline line of {used} bytes over {limits:?}");
                    }
                    commands.push(args.iter().map(|r| input[r.clone()].to_vec()).collect());
                    input.drain(..used);
                    consumed += used;
                }
                Ok(None) => break,
                // The error may come before the rest is read: count what was sent, not what was read.
                Err(error) => return Ok(Outcome { commands, error: Some(error), left: data.len() - consumed }),
            }
        }
    }
    Ok(Outcome { commands, error: None, left: input.len() })
}

/// One command, generated valid.
#[derive(Clone, Debug)]
enum Cmd {
    /// An array of bulk strings (at least one).
    Array(Vec<Bytes>),
    /// `*0` or `*-1`: an empty command, which is skipped.
    Empty(&'static str),
    /// An inline command: whitespace runs (`args.len() + 1` of them: leading,
    /// between, trailing) around the arguments, ended by CRLF or LF.
    Inline { args: Vec<Bytes>, gaps: Vec<Bytes>, crlf: bool },
}

impl Cmd {
    /// The wire bytes.
    fn encode(&self) -> Vec<u8> {
        match self {
            Cmd::Array(args) => {
                let mut out = format!("*{}\r\n", args.len()).into_bytes();
                for arg in args {
                    out.extend_from_slice(format!("${}\r\n", arg.0.len()).as_bytes());
                    out.extend_from_slice(&arg.0);
                    out.extend_from_slice(b"\r\n");
                }
                out
            }
            Cmd::Empty(header) => [header.as_bytes(), b"\r\n"].concat(),
            Cmd::Inline { args, gaps, crlf } => {
                let mut out = gaps[0].0.clone();
                for (arg, gap) in args.iter().zip(&gaps[1..]) {
                    out.extend_from_slice(&arg.0);
                    out.extend_from_slice(&gap.0);
                }
                out.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
                out
            }
        }
    }

    /// What the parser must answer for this command alone, from the RESP
    /// rules and the limits (computed without the parser's code).
    fn verdict(&self, limits: &RespLimits) -> Result<Command, ProtocolError> {
        match self {
            Cmd::Array(args) => {
                if args.len() > limits.max_args {
                    return Err(ProtocolError::ArrayLength);
                }
                let mut end = format!("*{}\r\n", args.len()).len();
                for arg in args {
                    if arg.0.len() > limits.max_bulk {
                        return Err(ProtocolError::BulkLength);
                    }
                    end += format!("${}\r\n", arg.0.len()).len() + arg.0.len() + 2;
                    if end > limits.max_command {
                        return Err(ProtocolError::TooBig);
                    }
                }
                Ok(args.iter().map(|a| a.0.clone()).collect())
            }
            Cmd::Empty(_) => Ok(Vec::new()),
            Cmd::Inline { args, .. } => {
                if self.encode().len() > limits.max_inline {
                    return Err(ProtocolError::TooBig);
                }
                if args.len() > limits.max_args {
                    return Err(ProtocolError::ArrayLength);
                }
                Ok(args.iter().map(|a| a.0.clone()).collect())
            }
        }
    }
}

/// Valid commands: arrays of arbitrary bytes (sometimes long), empty arrays,
/// inline commands with odd whitespace.
fn command() -> impl Strategy<Value = Cmd> {
    let bulk = prop_oneof![
        8 => prop::collection::vec(any::<u8>(), 0..12),
        1 => prop::collection::vec(any::<u8>(), 60..300),
    ]
    .prop_map(Bytes);
    let array = prop::collection::vec(bulk, 1..6).prop_map(Cmd::Array);
    let empty = prop::sample::select(vec!["*0", "*-1"]).prop_map(Cmd::Empty);
    let word = prop::collection::vec(any::<u8>().prop_filter("not whitespace", |b| !b" \t\n".contains(b)), 1..10);
    let gap = prop::collection::vec(prop::sample::select(vec![b' ', b'\t']), 0..3).prop_map(Bytes);
    let inline = prop::collection::vec(word.prop_map(Bytes), 0..6)
        .prop_flat_map(move |args| {
            let n = args.len();
            (Just(args), prop::collection::vec(gap.clone(), n + 1), any::<bool>())
        })
        .prop_map(|(args, mut gaps, mut crlf)| {
            // Arguments need a separator between them, and a line starting with
            // `*` would be an array.
            let last = gaps.len() - 1;
            for gap in gaps.iter_mut().take(last).skip(1) {
                if gap.0.is_empty() {
                    gap.0.push(b' ');
                }
            }
            if gaps[0].0.is_empty() && args.first().is_some_and(|a| a.0[0] == b'*') {
                gaps[0].0.push(b'\t');
            }
            // A bare LF after a `\r` would make that `\r` part of the line ending.
            if gaps[last].0.is_empty() && args.last().is_some_and(|a| a.0.ends_with(b"\r")) {
                crlf = true;
            }
            Cmd::Inline { args, gaps, crlf }
        });
    prop_oneof![4 => array, 1 => empty, 3 => inline]
}

/// A change to a valid stream.
#[derive(Clone, Debug)]
enum Mutation {
    /// Overwrite the byte at a position.
    Replace(Index, u8),
    /// Insert a byte before a position.
    Insert(Index, u8),
    /// Remove the byte at a position.
    Delete(Index),
    /// Cut the stream at a position.
    Truncate(Index),
}

impl Mutation {
    /// Applies the change; returns the first position it may have touched.
    fn apply(&self, data: &mut Vec<u8>) -> usize {
        let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
        match self {
            Mutation::Replace(i, b) if !data.is_empty() => {
                let p = at(i, data.len());
                data[p] = *b;
                p
            }
            Mutation::Insert(i, b) => {
                let p = at(i, data.len() + 1);
                data.insert(p, *b);
                p
            }
            Mutation::Delete(i) if !data.is_empty() => {
                let p = at(i, data.len());
                data.remove(p);
                p
            }
            Mutation::Truncate(i) => {
                let p = at(i, data.len() + 1);
                data.truncate(p);
                p
            }
            Mutation::Replace(..) | Mutation::Delete(_) => data.len(),
        }
    }
}

/// RESP markers, lengths (runs of `99999` make overlong ones) and line ends, to steer the parser into its states.
const RESP_TOKENS: &[&[u8]] = &[
    b"*", b"$", b"\r\n", b"\n", b"\r", b"0", b"1", b"2", b"3", b"10", b"-1", b"-", b" ", b"\t", b"GET", b"*1\r\n",
    b"*2\r\n", b"$3\r\n", b"$0\r\n", b"99999", b"abc",
];

/// Escapes good and bad, separators and the endpoints' names, for request targets.
const PATH_TOKENS: &[&[u8]] = &[
    b"%", b"%4", b"%41", b"%zz", b"%%", b"/", b"?", b"#", b"a", b"%2F", b"%20", b"%0A", b"%09", b"%0D", b"%C3%A9",
    b"%Ff", b"%00", b" ", b"\t", b"\xff", b"healthz",
];

/// Up to `max` pieces, each one of `tokens` or any byte: reaches a parser's
/// states far more often than uniform bytes do.
fn soup(tokens: &'static [&'static [u8]], max: usize) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![prop::sample::select(tokens).prop_map(<[u8]>::to_vec), any::<u8>().prop_map(|b| vec![b])];
    prop::collection::vec(piece, 0..max).prop_map(|pieces| pieces.concat())
}

/// One RESP fuzz case.
#[derive(Clone, Debug)]
struct RespCase {
    /// What the client sends.
    data: Bytes,
    /// Valid commands `data` was made from, if any.
    commands: Vec<Cmd>,
    /// Bytes of `data` before the first one a mutation may have touched.
    intact: usize,
    /// Whether `data` was changed after encoding the commands.
    mutated: bool,
    /// Where the reads end, for the incremental run.
    cuts: Vec<Index>,
    /// Feed one byte per read instead.
    byte_at_a_time: bool,
    /// The parser's limits.
    limits: RespLimits,
}

/// Arbitrary bytes, RESP-ish token soup, valid commands, and valid commands with random corruption.
fn resp_case() -> impl Strategy<Value = RespCase> {
    let arbitrary = prop_oneof![prop::collection::vec(any::<u8>(), 0..200), soup(RESP_TOKENS, 40)]
        .prop_map(|data| (data, Vec::new(), Vec::new()));
    let valid = prop::collection::vec(command(), 0..6).prop_map(|commands| (Vec::new(), commands, Vec::new()));
    let mutation = prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Truncate),
    ];
    let corrupted = (prop::collection::vec(command(), 1..6), prop::collection::vec(mutation, 1..4))
        .prop_map(|(commands, mutations)| (Vec::new(), commands, mutations));
    let source = prop_oneof![3 => arbitrary, 3 => valid, 4 => corrupted];
    let cuts = prop::collection::vec(any::<Index>(), 0..8);
    (source, cuts, prop::bool::weighted(0.1), resp_limits()).prop_map(
        |((raw, commands, mutations), cuts, byte_at_a_time, limits)| {
            let mut data = if commands.is_empty() { raw } else { commands.iter().flat_map(Cmd::encode).collect() };
            let mut intact = usize::MAX;
            for mutation in &mutations {
                intact = intact.min(mutation.apply(&mut data));
            }
            let intact = intact.min(data.len());
            let mutated = !mutations.is_empty();
            RespCase { data: Bytes(data), commands, intact, mutated, cuts, byte_at_a_time, limits }
        },
    )
}

/// Every property of one RESP case (see [`drive`] for those of each answer).
fn check_resp(case: RespCase) -> Result<(), TestCaseError> {
    let data = &case.data.0;
    let whole = drive(data, &[], &case.limits)?;
    let cuts: Vec<usize> = if case.byte_at_a_time {
        (1..data.len()).collect()
    } else {
        let mut cuts: Vec<usize> = case.cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        cuts.sort_unstable();
        cuts
    };
    let pieces = drive(data, &cuts, &case.limits)?;
    prop_assert_eq!(&pieces, &whole, "read in pieces ending at {:?}", cuts);
    // Commands whose bytes are intact must come out as the rules say, in order.
    let mut start = 0;
    for (n, cmd) in case.commands.iter().enumerate() {
        let end = start + cmd.encode().len();
        if end > case.intact {
            break;
        }
        match cmd.verdict(&case.limits) {
            Ok(args) => prop_assert_eq!(whole.commands.get(n), Some(&args), "command {}", n),
            Err(error) => {
                prop_assert_eq!(whole.commands.len(), n, "commands before the refused one");
                prop_assert_eq!(whole.error, Some(error));
                prop_assert_eq!(whole.left, data.len() - start);
                return Ok(());
            }
        }
        start = end;
    }
    if !case.mutated && !case.commands.is_empty() {
        // Intact and all accepted: exactly these commands, nothing left over.
        prop_assert_eq!(whole.commands.len(), case.commands.len());
        prop_assert_eq!((whole.error, whole.left), (None, 0));
    }
    Ok(())
}

#[test]
fn fuzz_resp_parser() {
    fuzz("resp", 5000, resp_case(), check_resp);
}

// ---------------------------------------------------------------- HTTP

/// The obvious percent-decoder, written apart from the server's: `%` must be
/// followed by two hex digits.
fn model_decode(encoded: &[u8]) -> Option<Vec<u8>> {
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
/// (README "Data format"): not empty, at most 1024 bytes, and no space, tab
/// or newline, which end a key or a line.
fn key_can_exist(key: &[u8]) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && !key.iter().any(|b| b" \t\n".contains(b))
}

/// What the server does with a request target, as `http.rs` decides it.
#[derive(Debug, PartialEq)]
enum Route {
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
fn route(target: &[u8]) -> Route {
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
fn encode(key: &[u8], escape: &[bool], upper: bool) -> Vec<u8> {
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
enum HttpCase {
    /// A request target as sent (with or without its leading `/`).
    Raw(Bytes),
    /// A key, with which of its bytes to escape even if they need not be.
    Key { key: Bytes, escape: Vec<bool>, upper: bool },
}

/// Arbitrary targets, percent-encoding soup, and keys of every length class.
fn http_case() -> impl Strategy<Value = HttpCase> {
    let soup = soup(PATH_TOKENS, 16).prop_map(|target| [&b"/"[..], &target].concat());
    let raw = prop_oneof![prop::collection::vec(any::<u8>(), 0..64), soup].prop_map(|b| HttpCase::Raw(Bytes(b)));
    let key = prop_oneof![
        6 => prop::collection::vec(any::<u8>(), 0..40),
        3 => prop::collection::vec(prop::sample::select(b"ab %/?#\t\n\r+".to_vec()), 0..12),
        1 => (MAX_KEY_LEN - 3..MAX_KEY_LEN + 3).prop_map(|n| vec![b'k'; n]),
    ];
    let keyed = (key, prop::collection::vec(any::<bool>(), 0..40), any::<bool>())
        .prop_map(|(key, escape, upper)| HttpCase::Key { key: Bytes(key), escape, upper });
    prop_oneof![raw, keyed]
}

/// Every property of one HTTP case.
fn check_http(case: HttpCase) -> Result<(), TestCaseError> {
    match case {
        HttpCase::Raw(Bytes(target)) => {
            let decoded = percent_decode(&target);
            let model = model_decode(&target);
            prop_assert_eq!(decoded.as_deref(), model.as_deref());
            if !target.contains(&b'%') {
                prop_assert_eq!(decoded.as_deref(), Some(&target[..]), "nothing to decode: the target itself");
            }
            if let Route::Lookup(key) = route(&target) {
                prop_assert!(key_can_exist(&key), "server looked up {:?}", Bytes(key));
            }
        }
        HttpCase::Key { key: Bytes(key), escape, upper } => {
            let encoded = encode(&key, &escape, upper);
            let decoded = percent_decode(&encoded);
            prop_assert_eq!(decoded.as_deref(), Some(&key[..]), "decoding {:?}", Bytes(encoded.clone()));
            let target = [&b"/"[..], &encoded].concat();
            let want = match () {
                () if target == b"/healthz" || target == b"/metrics" => Route::Endpoint,
                () if key_can_exist(&key) => Route::Lookup(key.clone()),
                () => Route::BadKey,
            };
            prop_assert_eq!(route(&target), want);
            // The server refuses exactly the keys no data file can hold.
            let file = [&key[..], b" v\n"].concat();
            prop_assert_eq!(Reference::from_bytes(&file).value(&key).is_some(), key_can_exist(&key));
        }
    }
    Ok(())
}

#[test]
fn fuzz_http_key() {
    fuzz("http-key", 5000, http_case(), check_http);
}
