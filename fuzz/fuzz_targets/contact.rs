//! libFuzzer entry for the `contact` target; the body is netproc::fuzzing::contact.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| netproc::fuzzing::contact(data));
