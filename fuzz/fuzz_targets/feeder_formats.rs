//! cargo fuzz target: see auparse_fuzz::feeder_formats.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auparse_fuzz::feeder_formats(data);
});
