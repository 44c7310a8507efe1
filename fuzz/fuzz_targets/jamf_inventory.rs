//! Fuzz the `jamf-inventory` adapter (see `src/lib.rs` for the input layout and invariants).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OPTION_SETS: &[&[(&str, &str)]] = &[&[], &[("observed_at", "2026-11-22T05:00:00Z")]];

fuzz_target!(|data: &[u8]| {
    eucora_license_fuzz::fuzz_adapter("jamf-inventory", "json", OPTION_SETS, data);
});
