//! libFuzzer entry for the `coding` target; the body is netproc::fuzzing::coding.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| netproc::fuzzing::coding(data));
