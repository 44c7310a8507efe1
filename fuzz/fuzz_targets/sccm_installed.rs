//! Fuzz the `sccm-installed` adapter (see `src/lib.rs` for the input layout and invariants).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OPTION_SETS: &[&[(&str, &str)]] = &[&[], &[("observed_at", "2026-11-21T06:00:00Z"), ("utc_offset", "+00:00")], &[("utc_offset", "+05:45")]];

fuzz_target!(|data: &[u8]| {
    eucora_license_fuzz::fuzz_adapter("sccm-installed", "csv", OPTION_SETS, data);
});
