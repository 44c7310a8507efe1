//! The audit log's verifiers (DESIGN D3, D6): what an auditor's tool needs,
//! with nothing but the log's bytes, a proof and a checkpoint. A log or a
//! proof that does not hold is an answer, not an error: the call returns OK
//! with `*ok_out == 0` and the report says why (like
//! `eucora_license_verify_pack`).

use crate::boundary::{boundary, Fail, FfiResult};
use crate::convert::{bytes_in, canonical_json, int_out, optional_bytes_in, text_out};
use crate::status::EUCORA_LICENSE_INVALID_INPUT;
use eucora_license_governance::{audit, Checkpoint};
use serde_json::Value;
use std::ffi::c_char;

/// Governance errors (a malformed checkpoint, a log that does not verify)
/// are bad input at this ABI; the message keeps the governance code first.
fn input_error(e: eucora_license_governance::Error) -> Fail {
    Fail::new(EUCORA_LICENSE_INVALID_INPUT, e.to_string())
}

/// Strict JSON (a repeated key is an error), or `None`.
fn parse_json(bytes: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    eucora_license_core::internal::canonical::parse_strict(text).ok()
}

/// A checkpoint document: `{size, root, head_hash}`, else INVALID_INPUT.
fn checkpoint_in(bytes: &[u8]) -> FfiResult<Checkpoint> {
    let v = parse_json(bytes).ok_or_else(|| Fail::new(EUCORA_LICENSE_INVALID_INPUT, "invalid_checkpoint: `checkpoint` is not JSON"))?;
    Checkpoint::from_value(&v).map_err(input_error)
}

fn ok_out_checked(ok_out: *mut i32) -> FfiResult {
    if ok_out.is_null() {
        return Err(Fail::arg("`ok_out` is NULL"));
    }
    Ok(())
}

/// Verify an audit log (the bytes of `LOG.jsonl`: one JSON entry per line,
/// split on `\n` only, blank lines ignored; NULL and 0 is the empty log)
/// and, when `checkpoint` is not NULL, the checkpoint the caller kept
/// (`{size, root, head_hash}` JSON), compared only after the chain
/// verifies. `ok_out` gets 1 when everything holds, else 0; the report
/// `{"ok", "size", "failure": null | {"code", "seq"}}` (canonical JSON)
/// goes to `report_buf`, which may be NULL with capacity 0. The failure
/// names the first bad entry by its 1-based position (`entry_hash_mismatch`,
/// `seq_gap`, `prev_hash_mismatch`) or the checkpoint's size
/// (`checkpoint_mismatch`). A checkpoint that is not a checkpoint document is
/// EUCORA_LICENSE_INVALID_INPUT.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_audit_verify(
    log: *const u8,
    log_len: usize,
    checkpoint: *const u8,
    checkpoint_len: usize,
    ok_out: *mut i32,
    report_buf: *mut c_char,
    report_cap: usize,
    report_len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_audit_verify", || {
        // SAFETY: forwarded caller contract.
        let log = unsafe { bytes_in("log", log, log_len) }?;
        // SAFETY: forwarded caller contract.
        let checkpoint = unsafe { optional_bytes_in("checkpoint", checkpoint, checkpoint_len) }?;
        ok_out_checked(ok_out)?;
        let cp = checkpoint.map(checkpoint_in).transpose()?;
        let report = audit::verify_log(&audit::parse_log(log), cp.as_ref());
        // SAFETY: forwarded caller contract.
        unsafe { int_out("ok_out", ok_out, i32::from(report.ok)) }?;
        let out = canonical_json(&report.to_value())?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(&out, report_buf, report_cap, report_len_out) }
    })
}

/// The checkpoint `{"size", "root", "head_hash"}` (canonical JSON) of an
/// audit log (`LOG.jsonl` bytes, as for `eucora_license_audit_verify`), to
/// keep outside the log. A log that does not verify is
/// EUCORA_LICENSE_INVALID_INPUT, its last error naming the failure and the
/// entry.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_audit_checkpoint(
    log: *const u8,
    log_len: usize,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_audit_checkpoint", || {
        // SAFETY: forwarded caller contract.
        let log = unsafe { bytes_in("log", log, log_len) }?;
        let cp = audit::checkpoint(&audit::parse_log(log)).map_err(input_error)?;
        let out = canonical_json(&cp.to_value())?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(&out, buf, cap, len_out) }
    })
}

/// Verify an RFC 9162 proof (JSON) against a checkpoint (JSON) the caller
/// holds: an inclusion proof `{"kind": "inclusion", "seq", "tree_size",
/// "entry_hash", "path"}` against the checkpoint whose `size` is
/// `tree_size`; a consistency proof `{"kind": "consistency", "old_size",
/// "new_size", "new_root", "path"}` against the *old* checkpoint, vouching
/// for `new_root`. The tree size is taken from the checkpoint, never from the
/// proof alone. `ok_out` gets 1 when the proof holds, else 0; the verdict
/// (canonical JSON) `{"ok": true, "kind", ...}` or `{"ok": false, "reason"}`
/// (`malformed_checkpoint`, `malformed_proof`, `size_mismatch`,
/// `out_of_range`, `root_mismatch`, `inconsistent`) goes to `buf`, which
/// may be NULL with capacity 0. Text that is not JSON is a malformed proof
/// or checkpoint, not an error.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_audit_verify_proof(
    proof: *const u8,
    proof_len: usize,
    checkpoint: *const u8,
    checkpoint_len: usize,
    ok_out: *mut i32,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_audit_verify_proof", || {
        // SAFETY: forwarded caller contract.
        let proof = unsafe { bytes_in("proof", proof, proof_len) }?;
        // SAFETY: forwarded caller contract.
        let checkpoint = unsafe { bytes_in("checkpoint", checkpoint, checkpoint_len) }?;
        ok_out_checked(ok_out)?;
        let proof = parse_json(proof).unwrap_or(Value::Null);
        let checkpoint = parse_json(checkpoint).unwrap_or(Value::Null);
        let verdict = audit::verify_proof(&proof, &checkpoint);
        // SAFETY: forwarded caller contract.
        unsafe { int_out("ok_out", ok_out, i32::from(verdict.ok())) }?;
        let out = canonical_json(&verdict.to_value())?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(&out, buf, cap, len_out) }
    })
}
