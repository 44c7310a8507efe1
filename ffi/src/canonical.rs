//! RFC 8785 canonical JSON.

use crate::boundary::boundary;
use crate::convert::{bytes_in, text_out};
use eucora_license_core as core_;
use std::ffi::c_char;

/// The RFC 8785 canonical form of JSON text, NUL-terminated. Malformed JSON is
/// EUCORA_LICENSE_INVALID_INPUT; a float or an integer beyond ±(2^53-1) is
/// EUCORA_LICENSE_NON_CANONICAL.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_canonicalize(
    json: *const u8,
    json_len: usize,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_canonicalize", || {
        // SAFETY: forwarded caller contract.
        let bytes = unsafe { bytes_in("json", json, json_len) }?;
        let out = core_::canonicalize(bytes)?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(&out, buf, cap, len_out) }
    })
}
