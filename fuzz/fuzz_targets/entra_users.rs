//! Fuzz the `entra-users` adapter (see `src/lib.rs` for the input layout and invariants).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OPTION_SETS: &[&[(&str, &str)]] = &[&[], &[("observed_at", "2026-11-22T05:00:00Z"), ("sku_names", "05e9a617-0261-4cee-bb44-138d3ef5d965=SPE_E3")], &[("assignment_time", "export"), ("observed_at", "2026-11-22T05:00:00Z")]];

fuzz_target!(|data: &[u8]| {
    eucora_license_fuzz::fuzz_adapter("entra-users", "json", OPTION_SETS, data);
});
