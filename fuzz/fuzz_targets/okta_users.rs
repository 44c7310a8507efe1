//! Fuzz the `okta-users` adapter (see `src/lib.rs` for the input layout and invariants).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OPTION_SETS: &[&[(&str, &str)]] = &[&[]];

fuzz_target!(|data: &[u8]| {
    eucora_license_fuzz::fuzz_adapter("okta-users", "json", OPTION_SETS, data);
});
