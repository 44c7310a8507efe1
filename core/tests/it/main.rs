//! The engine's integration tests, one test binary with a module per area
//! (one link instead of two dozen); `common` holds the setup they share.
//! Run one area with `cargo test -p eucora-license-core --test it -- golden::`.

mod adapters;
mod bad_input;
mod common;
mod compressed_packs;
mod demo;
mod diff;
mod directory_facts;
mod edge_cases;
mod evidence;
mod fixtures_roundtrip;
mod golden;
mod history;
mod hostile_packs;
mod organizations;
mod overflow;
mod parallel_read;
mod properties;
mod pseudonym;
mod rules;
mod ruleset_schema;
mod secrets;
mod stream_verify;
mod strict_input;
mod vectors;
