//! Rulesets: hash and validate.

use crate::boundary::{boundary, Fail};
use crate::convert::{bytes_in, canonical_json, optional_bytes_in, text_out};
use crate::status::EUCORA_LICENSE_INVALID_INPUT;
use eucora_license_core as core_;
use std::ffi::c_char;

/// The `eucora.ruleset.v1` hash ("sha256:<64 hex>") of a ruleset document,
/// which must validate (else EUCORA_LICENSE_INVALID_RULESET, the last error
/// naming the first issue; `eucora_license_validate_ruleset` lists them all).
#[no_mangle]
pub unsafe extern "C" fn eucora_license_hash_ruleset(
    ruleset_json: *const u8,
    ruleset_json_len: usize,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_hash_ruleset", || {
        // SAFETY: forwarded caller contract.
        let bytes = unsafe { bytes_in("ruleset_json", ruleset_json, ruleset_json_len) }?;
        let rs = core_::parse_ruleset(bytes, None).map_err(|issues| Fail::from(core_::ruleset_issues_to_error("ruleset", &issues)))?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(rs.hash.to_prefixed().as_bytes(), buf, cap, len_out) }
    })
}

/// Validate a ruleset document; `sku_ids_json` (a JSON array of the catalog's
/// SKU ids, or NULL and 0) also checks that every mapping names a known SKU.
/// The result is JSON: {"ok": true, "id", "version", "hash", "errors": []} or
/// {"ok": false, "errors": [{"path", "code", "message"}]}. An invalid ruleset
/// is not an error of the call: it returns OK with "ok": false.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_validate_ruleset(
    ruleset_json: *const u8,
    ruleset_json_len: usize,
    sku_ids_json: *const u8,
    sku_ids_json_len: usize,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    boundary("eucora_license_validate_ruleset", || {
        // SAFETY: forwarded caller contract.
        let bytes = unsafe { bytes_in("ruleset_json", ruleset_json, ruleset_json_len) }?;
        // SAFETY: forwarded caller contract.
        let ids = unsafe { optional_bytes_in("sku_ids_json", sku_ids_json, sku_ids_json_len) }?;
        let ids: Option<Vec<String>> = ids
            .map(|b| {
                serde_json::from_slice(b)
                    .map_err(|_| Fail::new(EUCORA_LICENSE_INVALID_INPUT, "sku_ids_json must be a JSON array of strings"))
            })
            .transpose()?;
        let exists = |id: &str| ids.as_ref().is_some_and(|ids| ids.iter().any(|x| x == id));
        let check: Option<&dyn Fn(&str) -> bool> = if ids.is_some() { Some(&exists) } else { None };
        let report = canonical_json(&core_::ruleset_report(bytes, check))?;
        // SAFETY: forwarded caller contract.
        unsafe { text_out(&report, buf, cap, len_out) }
    })
}
