//! Fuzz the `sccm-metering` adapter (see `src/lib.rs` for the input layout and invariants).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OPTION_SETS: &[&[(&str, &str)]] = &[&[], &[("utc_offset", "+01:00")]];

fuzz_target!(|data: &[u8]| {
    eucora_license_fuzz::fuzz_adapter("sccm-metering", "csv", OPTION_SETS, data);
});
