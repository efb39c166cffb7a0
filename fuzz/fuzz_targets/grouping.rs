//! cargo fuzz target: see auparse_fuzz::grouping.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auparse_fuzz::grouping(data);
});
