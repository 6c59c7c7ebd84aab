//! HTTP request targets to keys: percent-decoding and routing vs the model (`kvbench_fuzz::http`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kvbench_fuzz::http_key(data));
