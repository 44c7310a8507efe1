//! Fuzz the `adobe-users` adapter (see `src/lib.rs` for the input layout and invariants).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OPTION_SETS: &[&[(&str, &str)]] = &[&[], &[("observed_at", "2026-11-20T10:00:00+01:00")]];

fuzz_target!(|data: &[u8]| {
    eucora_license_fuzz::fuzz_adapter("adobe-users", "csv", OPTION_SETS, data);
});
