//! Fuzz the `flexlm-log` adapter (see `src/lib.rs` for the input layout and invariants).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OPTION_SETS: &[&[(&str, &str)]] = &[&[], &[("start_date", "2026-11-19"), ("utc_offset", "+01:00")]];

fuzz_target!(|data: &[u8]| {
    eucora_license_fuzz::fuzz_adapter("flexlm-log", "log", OPTION_SETS, data);
});
