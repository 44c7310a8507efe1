//! The source adapters, one module per adapter family, and the helpers they
//! all use to call an adapter and read its output.

mod directory;
mod entra;
mod flexlm;
mod intune;
mod jamf_adobe;
mod sccm;

use eucora_license_core::internal::adapters::{AdapterOutput, Options, SignalRow};
use std::path::PathBuf;

/// Adapter options from key/value pairs.
fn opts(pairs: &[(&str, &str)]) -> Options {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The signal rows, without their file index.
fn signals(out: &AdapterOutput) -> Vec<SignalRow> {
    out.signals.iter().map(|(_, r)| r.clone()).collect()
}

/// The rejections as (file, line, column, code).
fn rejects(out: &AdapterOutput) -> Vec<(usize, u64, String, &'static str)> {
    out.rejected.iter().map(|(f, e)| (*f, e.line, e.column.clone(), e.code.name())).collect()
}

/// The notes as (file, note).
fn notes(out: &AdapterOutput) -> Vec<(usize, String)> {
    out.notes.clone()
}

/// `fixtures/adapters/<adapter>`.
fn fixture_dir(adapter: &str) -> PathBuf {
    crate::common::fixtures().join("adapters").join(adapter)
}

/// Each item as one line of canonical JSON.
fn canonical_lines<T: serde::Serialize>(items: &[T]) -> Vec<String> {
    items.iter().map(|i| String::from_utf8(eucora_license_core::internal::canonical::to_vec_of(i).unwrap()).unwrap()).collect()
}
