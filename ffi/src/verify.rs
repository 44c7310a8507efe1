//! Offline verification of an evidence pack.

use crate::boundary::{boundary, Fail};
use crate::convert::{bytes_in, int_out, optional_bytes_in, text_out};
use crate::status::EUCORA_LICENSE_INTERNAL;
use eucora_license_core as core_;
use std::ffi::c_char;

/// Verify an evidence pack offline (artifact hashes, manifest, snapshot hash,
/// Merkle roots, chain link to `previous` when given, replay). `verified_out`
/// gets 1 when every check passed, else 0; the report (JSON: ok,
/// first_failure, checks, snapshot_hash) goes to `report_buf`, which may be
/// NULL with capacity 0. A pack that does not verify is not an error: the
/// call returns OK with `*verified_out == 0`.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_verify_pack(
    pack: *const u8,
    pack_len: usize,
    previous: *const u8,
    previous_len: usize,
    verified_out: *mut i32,
    report_buf: *mut c_char,
    report_cap: usize,
    report_len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_verify_pack", || {
        // SAFETY: forwarded caller contract.
        let pack = unsafe { bytes_in("pack", pack, pack_len) }?;
        // SAFETY: forwarded caller contract.
        let previous = unsafe { optional_bytes_in("previous", previous, previous_len) }?;
        if verified_out.is_null() {
            return Err(Fail::arg("`verified_out` is NULL"));
        }
        let report = core_::verify_pack(pack, previous);
        // SAFETY: forwarded caller contract.
        unsafe { int_out("verified_out", verified_out, i32::from(report.ok)) }?;
        let json = serde_json::to_vec(&report).map_err(|e| Fail::new(EUCORA_LICENSE_INTERNAL, e.to_string()))?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(&json, report_buf, report_cap, report_len_out) }
    })
}
