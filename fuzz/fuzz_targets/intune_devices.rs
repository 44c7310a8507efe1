//! Fuzz the `intune-devices` adapter (see `src/lib.rs` for the input layout and invariants).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OPTION_SETS: &[&[(&str, &str)]] = &[&[]];

fuzz_target!(|data: &[u8]| {
    eucora_license_fuzz::fuzz_adapter("intune-devices", "json", OPTION_SETS, data);
});
