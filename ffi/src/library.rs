//! The library itself: its version, the last error, status names.

use crate::boundary::{boundary, last_error_code, last_error_message, FfiResult};
use crate::convert::text_out;
use crate::status::*;
use eucora_license_core as core_;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The library version (e.g. "0.1.0"), NUL-terminated, into `buf`.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_version(buf: *mut c_char, cap: usize, len_out: *mut usize) -> i32 {
    // SAFETY: forwarded caller contract (docs/c-api.md).
    boundary("eucora_license_version", || unsafe { text_out(core_::VERSION.as_bytes(), buf, cap, len_out) })
}

/// The message of the last failed call on this thread (empty if none failed
/// yet), NUL-terminated. It is not changed by calls that succeed, nor by this
/// function.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_last_error(buf: *mut c_char, cap: usize, len_out: *mut usize) -> i32 {
    let run = || -> FfiResult {
        let message = last_error_message();
        // SAFETY: forwarded caller contract.
        unsafe { text_out(message.as_bytes(), buf, cap, len_out) }
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(())) => EUCORA_LICENSE_OK,
        Ok(Err(fail)) => fail.code,
        Err(_) => EUCORA_LICENSE_INTERNAL,
    }
}

/// The status code of the last failed call on this thread (0 if none failed yet).
#[no_mangle]
pub extern "C" fn eucora_license_last_error_code() -> i32 {
    catch_unwind(last_error_code).unwrap_or(EUCORA_LICENSE_INTERNAL)
}

/// The stable name of a status code ("ok", "invalid_input", ...,
/// "buffer_too_small"), or "unknown": a static NUL-terminated string, never NULL.
#[no_mangle]
pub extern "C" fn eucora_license_status_name(status: i32) -> *const c_char {
    let name: &'static CStr = match status {
        EUCORA_LICENSE_OK => c"ok",
        EUCORA_LICENSE_INVALID_INPUT => c"invalid_input",
        EUCORA_LICENSE_INVALID_RULESET => c"invalid_ruleset",
        EUCORA_LICENSE_CATALOG_INTEGRITY => c"catalog_integrity",
        EUCORA_LICENSE_CONFLICTING_DUPLICATE => c"conflicting_duplicate",
        EUCORA_LICENSE_PREVIOUS_SNAPSHOT_INVALID => c"previous_snapshot_invalid",
        EUCORA_LICENSE_REJECT_THRESHOLD_EXCEEDED => c"reject_threshold_exceeded",
        EUCORA_LICENSE_NON_CANONICAL => c"non_canonical",
        EUCORA_LICENSE_INTERNAL => c"internal",
        EUCORA_LICENSE_INVALID_ARGUMENT => c"invalid_argument",
        EUCORA_LICENSE_BUFFER_TOO_SMALL => c"buffer_too_small",
        EUCORA_LICENSE_INVALID_HANDLE => c"invalid_handle",
        _ => c"unknown",
    };
    name.as_ptr()
}

/// Every closed vocabulary of the engine as canonical JSON, NUL-terminated,
/// into `buf`: an object from table name (`exception_codes`, `diff_reasons`,
/// `compliance_statuses`, `health_states`, `sidebar_states`,
/// `sidebar_reasons`, `coverage_statuses`, `run_statuses`,
/// `device_key_prefixes`) to its stable names in declaration order.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_vocabulary(buf: *mut c_char, cap: usize, len_out: *mut usize) -> i32 {
    boundary("eucora_license_vocabulary", || {
        let json = core_::canonical_bytes(&core_::api::vocabulary())?;
        // SAFETY: forwarded caller contract (docs/c-api.md).
        unsafe { text_out(&json, buf, cap, len_out) }
    })
}
