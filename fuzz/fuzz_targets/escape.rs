//! cargo fuzz target: see auparse_fuzz::escape.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auparse_fuzz::escape(data);
});
