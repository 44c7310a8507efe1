//! Fuzz the `flexlm-lmstat` adapter (see `src/lib.rs` for the input layout and invariants).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OPTION_SETS: &[&[(&str, &str)]] = &[&[], &[("utc_offset", "+01:00")], &[("observed_at", "2026-11-20T10:05:00+01:00"), ("utc_offset", "-05:30")]];

fuzz_target!(|data: &[u8]| {
    eucora_license_fuzz::fuzz_adapter("flexlm-lmstat", "txt", OPTION_SETS, data);
});
