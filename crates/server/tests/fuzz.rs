//! Fuzzing of the two parsers that read client bytes: RESP commands
//! ([`kvbench_server::Parser`]) and HTTP request targets turned into keys
//! ([`kvbench_server::percent_decode`], then the key check of every lookup).
//!
//! The generators are here; the checks and models are kvbench-fuzz's
//! `resp` and `http` modules, which the libFuzzer targets in `fuzz/` run too.
//! `cargo test` runs 5000 cases of each (well under a second); for a long run:
//! `KVBENCH_FUZZ_SECS=600 cargo test --release -p kvbench-server --test fuzz -- --nocapture --test-threads=1`
//! (or `just fuzz`). The loop itself is `kvbench_fuzz::proptest_loop`.

use kvbench_fuzz::Bytes;
use kvbench_fuzz::http::HttpCase;
use kvbench_fuzz::proptest_loop::fuzz;
use kvbench_fuzz::resp::{Cmd, Mutation, RespCase, server_limits};
use kvbench_lookup::MAX_KEY_LEN;
use kvbench_server::RespLimits;
use proptest::prelude::*;

// ---------------------------------------------------------------- RESP

/// The server's limits half the time, else small ones that the generated commands hit.
fn resp_limits() -> impl Strategy<Value = RespLimits> {
    let small =
        (0usize..10, 0usize..80, 0usize..300, 0usize..160).prop_map(|(max_args, max_bulk, max_command, max_inline)| {
            RespLimits { max_args, max_bulk, max_command, max_inline }
        });
    prop_oneof![Just(server_limits()), small]
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
        .prop_map(|(args, gaps, crlf)| Cmd::inline(args, gaps, crlf));
    prop_oneof![4 => array, 1 => empty, 3 => inline]
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

/// Arbitrary bytes, RESP-ish token soup, valid commands, and valid commands with random corruption.
fn resp_case() -> impl Strategy<Value = RespCase> {
    let arbitrary = prop_oneof![prop::collection::vec(any::<u8>(), 0..200), soup(RESP_TOKENS, 40)]
        .prop_map(|data| (data, Vec::new(), Vec::new()));
    let valid = prop::collection::vec(command(), 0..6).prop_map(|commands| (Vec::new(), commands, Vec::new()));
    let mutation = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ];
    let corrupted = (prop::collection::vec(command(), 1..6), prop::collection::vec(mutation, 1..4))
        .prop_map(|(commands, mutations)| (Vec::new(), commands, mutations));
    let source = prop_oneof![3 => arbitrary, 3 => valid, 4 => corrupted];
    let cuts = prop::collection::vec(any::<usize>(), 0..8);
    (source, cuts, prop::bool::weighted(0.1), resp_limits()).prop_map(
        |((raw, commands, mutations), cuts, byte_at_a_time, limits)| {
            if commands.is_empty() {
                RespCase::raw(raw, cuts, byte_at_a_time, limits)
            } else {
                RespCase::encoded(commands, &mutations, cuts, byte_at_a_time, limits)
            }
        },
    )
}

#[test]
fn fuzz_resp_parser() {
    fuzz("resp", 5000, resp_case(), |case| kvbench_fuzz::resp::check(&case));
}

// ---------------------------------------------------------------- HTTP

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

#[test]
fn fuzz_http_key() {
    fuzz("http-key", 5000, http_case(), |case| kvbench_fuzz::http::check(&case));
}
