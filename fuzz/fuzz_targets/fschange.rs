//! cargo fuzz target: see auparse_fuzz::fschange.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auparse_fuzz::fschange(data);
});
