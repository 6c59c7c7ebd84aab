//! The RESP parser: whole vs in pieces vs byte by byte, and encoded commands vs the model (`kvbench_fuzz::resp`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kvbench_fuzz::resp(data));
