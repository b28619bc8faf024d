//! libFuzzer entry for the `address` target; the body is netproc::fuzzing::address.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| netproc::fuzzing::address(data));
