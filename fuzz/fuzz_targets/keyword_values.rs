//! libFuzzer entry for the `keyword_values` target; the body is netproc::fuzzing::keyword_values.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| netproc::fuzzing::keyword_values(data));
