//! Fuzz the `ad-users` adapter (see `src/lib.rs` for the input layout and invariants).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OPTION_SETS: &[&[(&str, &str)]] = &[
    &[],
    &[("culture", "en-US"), ("utc_offset", "-05:00"), ("netbios_domain", "CONTOSO")],
    &[("culture", "de-DE"), ("utc_offset", "+01:00")],
    &[("culture", "en-GB")],
];

fuzz_target!(|data: &[u8]| {
    eucora_license_fuzz::fuzz_adapter("ad-users", "csv", OPTION_SETS, data);
});
