//! Reconciliation: of a bundle handle, a bundle directory or a bundle in JSON
//! form; each registers an outcome handle.

use crate::boundary::{boundary, Fail};
use crate::convert::{bytes_in, optional_bytes_in, str_in};
use crate::handles::{bundle_of, handle_out, lock, register, Entry, EucoraLicenseBundle, EucoraLicenseOutcome, OutcomeEntry};
use crate::status::EUCORA_LICENSE_INVALID_INPUT;
use eucora_license_core as core_;
use eucora_license_core::{BundleSource, MemoryBundle};
use eucora_license_dir::DirBundle;
use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

fn run_and_register(source: &dyn BundleSource, previous: Option<&[u8]>, slot: &mut *mut EucoraLicenseOutcome) {
    let outcome = core_::reconcile(source, previous);
    let id = register(Entry::Outcome(Arc::new(OutcomeEntry { outcome, pack: OnceLock::new() })));
    *slot = id as usize as *mut EucoraLicenseOutcome;
}

/// Reconcile the files of `bundle`, chained to the previous snapshot's bytes
/// (`previous`, or NULL and 0 for a first run). Returns OK whenever the run
/// completed, also when it failed closed: read the outcome's status. Free the
/// outcome with `eucora_license_outcome_free`.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_reconcile(
    bundle: *const EucoraLicenseBundle,
    previous: *const u8,
    previous_len: usize,
    outcome_out: *mut *mut EucoraLicenseOutcome,
) -> i32 {
    boundary("eucora_license_reconcile", || {
        // SAFETY: forwarded caller contract.
        let slot = unsafe { handle_out("outcome_out", outcome_out) }?;
        let b = bundle_of(bundle)?;
        // SAFETY: forwarded caller contract.
        let previous = unsafe { optional_bytes_in("previous", previous, previous_len) }?;
        let files = lock(&b);
        run_and_register(&*files, previous, slot);
        Ok(())
    })
}

/// Reconcile the bundle directory `dir` (the layout the CLI reads; dot-files
/// are skipped and no path leaves the directory). As `eucora_license_reconcile`.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_reconcile_dir(
    dir: *const c_char,
    previous: *const u8,
    previous_len: usize,
    outcome_out: *mut *mut EucoraLicenseOutcome,
) -> i32 {
    boundary("eucora_license_reconcile_dir", || {
        // SAFETY: forwarded caller contract.
        let slot = unsafe { handle_out("outcome_out", outcome_out) }?;
        // SAFETY: forwarded caller contract.
        let dir = unsafe { str_in("dir", dir) }?;
        // SAFETY: forwarded caller contract.
        let previous = unsafe { optional_bytes_in("previous", previous, previous_len) }?;
        let root = PathBuf::from(dir);
        if !root.is_dir() {
            return Err(Fail::new(EUCORA_LICENSE_INVALID_INPUT, "not a directory"));
        }
        run_and_register(&DirBundle::new(&root), previous, slot);
        Ok(())
    })
}

/// Reconcile a bundle in JSON form: one object mapping each path to the
/// file's content (a string, an array of lines, {"base64": "..."}, or an
/// object written as canonical JSON; fixtures/golden/README.md). As
/// `eucora_license_reconcile`; malformed JSON is EUCORA_LICENSE_INVALID_INPUT.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_reconcile_json(
    files_json: *const u8,
    files_json_len: usize,
    previous: *const u8,
    previous_len: usize,
    outcome_out: *mut *mut EucoraLicenseOutcome,
) -> i32 {
    boundary("eucora_license_reconcile_json", || {
        // SAFETY: forwarded caller contract.
        let slot = unsafe { handle_out("outcome_out", outcome_out) }?;
        // SAFETY: forwarded caller contract.
        let text = unsafe { bytes_in("files_json", files_json, files_json_len) }?;
        // SAFETY: forwarded caller contract.
        let previous = unsafe { optional_bytes_in("previous", previous, previous_len) }?;
        let doc: serde_json::Value = serde_json::from_slice(text).map_err(|e| {
            Fail::new(EUCORA_LICENSE_INVALID_INPUT, format!("files_json is not JSON (line {}, column {})", e.line(), e.column()))
        })?;
        let bundle = MemoryBundle::from_json(&doc)?;
        run_and_register(&bundle, previous, slot);
        Ok(())
    })
}
