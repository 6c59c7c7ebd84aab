//! Data files opened strict and lenient by every strategy vs the reference (`kvbench_fuzz::data_file`).
//! Run it with `-detect_leaks=0` (`just cargo-fuzz-all` does): `warming` builds its map on a detached
//! thread that can outlive the input, and libFuzzer's per-input leak check then reports that thread's
//! allocations at random (not reproducible from the input alone).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kvbench_fuzz::data_file(data));
