//! The fuzzing oracles of kvbench, in one place, for both fuzzers:
//!
//! - the proptest tests on stable (`crates/server/tests/fuzz.rs`,
//!   `crates/lookup/tests/fuzz.rs`, `just fuzz`) generate structured cases
//!   with proptest and hand them to the `check` of a module below;
//! - the libFuzzer targets in `fuzz/` (`cargo +nightly fuzz run TARGET`,
//!   `just cargo-fuzz TARGET`) hand raw bytes to [`resp()`], [`http_key()`] and
//!   [`data_file()`], which decode them into the same cases (each module's
//!   `from_fuzz` says how) and run the same checks;
//! - `tests/replay.rs` runs every file of `fuzz/regressions/<target>/`
//!   through its target on every `cargo test`.
//!
//! A check panics, with a message naming what disagreed, when the code under
//! test disagrees with its model: an independent parser, decoder or the
//! `Reference`, not only "did not crash".
//!
//! | target | module | code under test | oracle |
//! |---|---|---|---|
//! | `resp` | [`mod@resp`] | `kvbench_server::Parser` | the same stream parsed whole, byte by byte and in pieces; valid commands vs their encoding and the limits |
//! | `http_key` | [`mod@http`] | `kvbench_server::percent_decode` and routing | an independent percent-decoder, the data format's key rules |
//! | `data_file` | [`mod@data_file`] | the record parser and every strategy's index | `kvbench_lookup::Reference` |

pub mod data_file;
pub mod http;
pub mod input;
#[cfg(feature = "proptest")]
pub mod proptest_loop;
pub mod resp;

pub use input::Bytes;

/// libFuzzer target `resp`: decodes `data` into a [`resp::RespCase`] and checks it.
pub fn resp(data: &[u8]) {
    resp::check(&resp::RespCase::from_fuzz(data));
}

/// libFuzzer target `http_key`: decodes `data` into an [`http::HttpCase`] and checks it.
pub fn http_key(data: &[u8]) {
    http::check(&http::HttpCase::from_fuzz(data));
}

/// libFuzzer target `data_file`: decodes `data` into a [`data_file::FileCase`] and checks it.
pub fn data_file(data: &[u8]) {
    data_file::check(&data_file::FileCase::from_fuzz(data));
}

/// A libFuzzer target: one input, checked; panics on a disagreement.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its `fuzz/fuzz_targets/` file and of
/// its `fuzz/regressions/` folder), so a replay cannot forget one.
pub const TARGETS: [(&str, Target); 3] = [("resp", resp), ("http_key", http_key), ("data_file", data_file)];
