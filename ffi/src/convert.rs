//! Pointer checks and output buffers: C arguments in, caller-owned buffers out.

use crate::boundary::{Fail, FfiResult};
use crate::status::EUCORA_LICENSE_BUFFER_TOO_SMALL;
use eucora_license_core as core_;
use std::ffi::{c_char, CStr};

/// Bytes from (`data`, `len`): NULL with length 0 is empty; NULL with a length is refused.
pub(crate) unsafe fn bytes_in<'a>(what: &str, data: *const u8, len: usize) -> FfiResult<&'a [u8]> {
    if data.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(Fail::arg(format!("`{what}` is NULL but its length is {len}"))) };
    }
    if len > isize::MAX as usize {
        return Err(Fail::arg(format!("`{what}` length is too large")));
    }
    // SAFETY: the caller promises `data` points to `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// Optional bytes: NULL means absent (the length must then be 0).
pub(crate) unsafe fn optional_bytes_in<'a>(what: &str, data: *const u8, len: usize) -> FfiResult<Option<&'a [u8]>> {
    if data.is_null() {
        return if len == 0 { Ok(None) } else { Err(Fail::arg(format!("`{what}` is NULL but its length is {len}"))) };
    }
    // SAFETY: as for `bytes_in`.
    unsafe { bytes_in(what, data, len) }.map(Some)
}

/// A NUL-terminated UTF-8 string.
pub(crate) unsafe fn str_in<'a>(what: &str, s: *const c_char) -> FfiResult<&'a str> {
    if s.is_null() {
        return Err(Fail::arg(format!("`{what}` is NULL")));
    }
    // SAFETY: the caller promises a NUL-terminated string.
    unsafe { CStr::from_ptr(s) }.to_str().map_err(|_| Fail::arg(format!("`{what}` is not UTF-8")))
}

/// Write `out` into a caller's buffer: the length (without the terminating
/// NUL when `nul`) goes to `len_out` when it is not NULL; a NULL buffer of
/// capacity 0 only asks for the length; a buffer too small gets nothing but
/// an empty string (text) and the call fails with BUFFER_TOO_SMALL.
pub(crate) unsafe fn write_out(out: &[u8], nul: bool, buf: *mut u8, cap: usize, len_out: *mut usize) -> FfiResult {
    if !len_out.is_null() {
        // SAFETY: the caller promises `len_out` is writable when not NULL.
        unsafe { *len_out = out.len() };
    }
    if buf.is_null() {
        return if cap == 0 { Ok(()) } else { Err(Fail::arg(format!("the output buffer is NULL but its capacity is {cap}"))) };
    }
    let need = out.len() + usize::from(nul);
    if cap < need {
        if nul && cap > 0 {
            // SAFETY: `buf` has at least one writable byte.
            unsafe { *buf = 0 };
        }
        return Err(Fail::new(EUCORA_LICENSE_BUFFER_TOO_SMALL, format!("the output needs {need} bytes, the buffer holds {cap}")));
    }
    // SAFETY: `buf` holds `cap >= need` writable bytes that do not overlap `out`.
    unsafe {
        std::ptr::copy_nonoverlapping(out.as_ptr(), buf, out.len());
        if nul {
            *buf.add(out.len()) = 0;
        }
    }
    Ok(())
}

pub(crate) unsafe fn text_out(out: &[u8], buf: *mut c_char, cap: usize, len_out: *mut usize) -> FfiResult {
    // SAFETY: forwarded caller contract.
    unsafe { write_out(out, true, buf.cast(), cap, len_out) }
}

pub(crate) unsafe fn int_out(what: &str, out: *mut i32, value: i32) -> FfiResult {
    if out.is_null() {
        return Err(Fail::arg(format!("`{what}` is NULL")));
    }
    // SAFETY: the caller promises `out` is writable.
    unsafe { *out = value };
    Ok(())
}

pub(crate) fn canonical_json(v: &serde_json::Value) -> FfiResult<Vec<u8>> {
    Ok(core_::canonical_bytes(v)?)
}
