//! The sidebar state.

use crate::boundary::boundary;
use crate::convert::{canonical_json, optional_bytes_in, str_in, text_out};
use eucora_license_core as core_;
use std::ffi::c_char;

/// The sidebar state (JSON, canonical) at `now` (RFC 3339 with offset): the
/// latest successful snapshot's bytes (verified; NULL and 0 when there is none
/// yet), the last run report's bytes (NULL and 0 when unknown), the schedule
/// interval in seconds (> 0) and the stale factor (>= 0).
#[no_mangle]
pub unsafe extern "C" fn eucora_license_sidebar(
    snapshot: *const u8,
    snapshot_len: usize,
    last_run: *const u8,
    last_run_len: usize,
    now: *const c_char,
    schedule_interval_secs: i64,
    stale_factor: i64,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_sidebar", || {
        // SAFETY: forwarded caller contract.
        let snapshot = unsafe { optional_bytes_in("snapshot", snapshot, snapshot_len) }?;
        // SAFETY: forwarded caller contract.
        let last_run = unsafe { optional_bytes_in("last_run", last_run, last_run_len) }?;
        // SAFETY: forwarded caller contract.
        let now = unsafe { str_in("now", now) }?;
        let state = core_::api::sidebar(snapshot, last_run, now, schedule_interval_secs, stale_factor)?;
        let out = canonical_json(&state)?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(&out, buf, cap, len_out) }
    })
}
