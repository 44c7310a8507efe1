//! Reading an outcome (`eucora_license_outcome_*`): status, error code,
//! snapshot, run report, exceptions, evidence pack.

use crate::boundary::{boundary, Fail, FfiResult};
use crate::convert::{canonical_json, int_out, text_out, write_out};
use crate::handles::{handle_id, lock, outcome_of, Entry, EucoraLicenseOutcome, OutcomeEntry, REGISTRY};
use crate::status::*;
use eucora_license_core::{self as core_, RunStatus};
use std::ffi::c_char;

/// The run status (EUCORA_LICENSE_RUN_OK, _DEGRADED or _FAILED) into `run_status_out`.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_outcome_status(outcome: *const EucoraLicenseOutcome, run_status_out: *mut i32) -> i32 {
    boundary("eucora_license_outcome_status", || {
        let o = outcome_of(outcome)?;
        let status = match o.outcome.status {
            RunStatus::Ok => EUCORA_LICENSE_RUN_OK,
            RunStatus::Degraded => EUCORA_LICENSE_RUN_DEGRADED,
            RunStatus::Failed => EUCORA_LICENSE_RUN_FAILED,
        };
        // SAFETY: forwarded caller contract.
        unsafe { int_out("run_status_out", run_status_out, status) }
    })
}

/// The code of the first error that failed the run (errors are sorted by
/// code), or 0 when the run produced a snapshot.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_outcome_error_code(outcome: *const EucoraLicenseOutcome, code_out: *mut i32) -> i32 {
    boundary("eucora_license_outcome_error_code", || {
        let o = outcome_of(outcome)?;
        let code = o.outcome.errors.first().map_or(EUCORA_LICENSE_OK, |e| e.code().number() as i32);
        // SAFETY: forwarded caller contract.
        unsafe { int_out("code_out", code_out, code) }
    })
}

/// A failed run has no snapshot: the accessors that need one return the
/// run's first error code, with its message as the last error.
fn snapshot_of(o: &OutcomeEntry) -> FfiResult<&core_::Snapshot> {
    o.outcome.snapshot.as_ref().ok_or_else(|| match o.outcome.errors.first() {
        Some(e) => Fail::new(e.code().number() as i32, format!("the run failed closed, no snapshot: {e}")),
        None => Fail::new(EUCORA_LICENSE_INTERNAL, "the run failed without an error"),
    })
}

/// The snapshot hash ("sha256:<64 hex>"), NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_outcome_snapshot_hash(
    outcome: *const EucoraLicenseOutcome,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_outcome_snapshot_hash", || {
        let o = outcome_of(outcome)?;
        let hash = snapshot_of(&o)?.hash().to_prefixed();
        // SAFETY: forwarded caller contract.
        unsafe { text_out(hash.as_bytes(), buf, cap, len_out) }
    })
}

/// The snapshot (`snapshot.json`): canonical JSON, NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_outcome_snapshot_json(
    outcome: *const EucoraLicenseOutcome,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_outcome_snapshot_json", || {
        let o = outcome_of(outcome)?;
        let snap = snapshot_of(&o)?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(snap.canonical_bytes(), buf, cap, len_out) }
    })
}

/// The run report (`run_report.json`, also for a failed run: status, reasons,
/// errors with locations): canonical JSON, NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_outcome_report_json(
    outcome: *const EucoraLicenseOutcome,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_outcome_report_json", || {
        let o = outcome_of(outcome)?;
        let bytes = canonical_json(&o.outcome.report.to_json())?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(&bytes, buf, cap, len_out) }
    })
}

/// The exceptions (`exceptions.jsonl`: one canonical JSON object per line), NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_outcome_exceptions_jsonl(
    outcome: *const EucoraLicenseOutcome,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_outcome_exceptions_jsonl", || {
        let o = outcome_of(outcome)?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(&o.outcome.exceptions_jsonl(), buf, cap, len_out) }
    })
}

/// The evidence pack (`evidence.tar`, binary, no terminating NUL). It is built
/// on the first call and kept with the outcome, so asking for the size first
/// costs nothing extra.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_outcome_evidence_pack(
    outcome: *const EucoraLicenseOutcome,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_outcome_evidence_pack", || {
        let o = outcome_of(outcome)?;
        snapshot_of(&o)?;
        let pack = o.pack.get_or_init(|| {
            core_::write_pack(&o.outcome, Vec::new()).map(|(bytes, _)| bytes).map_err(|e| (e.code().number() as i32, e.to_string()))
        });
        match pack {
            // SAFETY: forwarded caller contract.
            Ok(bytes) => unsafe { write_out(bytes, false, buf, cap, len_out) },
            Err((code, message)) => Err(Fail::new(*code, message.clone())),
        }
    })
}

/// Free an outcome. NULL is accepted and does nothing; a handle that is not a
/// live outcome is EUCORA_LICENSE_INVALID_HANDLE.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_outcome_free(outcome: *mut EucoraLicenseOutcome) -> i32 {
    if outcome.is_null() {
        return EUCORA_LICENSE_OK;
    }
    boundary("eucora_license_outcome_free", || {
        let removed = {
            let mut r = lock(&REGISTRY);
            match r.entries.get(&handle_id(outcome)) {
                Some(Entry::Outcome(_)) => r.entries.remove(&handle_id(outcome)),
                _ => None,
            }
        };
        // The outcome is dropped here, outside the registry lock.
        match removed {
            Some(_) => Ok(()),
            None => Err(Fail::new(EUCORA_LICENSE_INVALID_HANDLE, "not a live outcome handle (freed twice?)")),
        }
    })
}
