//! Tests of the conventions: status names, the panic boundary, buffers, handles.

use crate::boundary::boundary;
use crate::*;
use eucora_license_core as core_;
use eucora_license_core::ErrorCode;
use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};

fn last_error() -> String {
    let mut buf = [0 as c_char; 512];
    let mut len = 0usize;
    assert_eq!(unsafe { eucora_license_last_error(buf.as_mut_ptr(), buf.len(), &mut len) }, EUCORA_LICENSE_OK);
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}

#[test]
fn codes_match_the_engine_and_have_names() {
    for code in ErrorCode::ALL {
        let name = unsafe { CStr::from_ptr(eucora_license_status_name(code.number() as i32)) };
        assert_eq!(name.to_str().unwrap(), code.name());
    }
    for (code, name) in [(0, "ok"), (100, "invalid_argument"), (101, "buffer_too_small"), (102, "invalid_handle"), (-1, "unknown")] {
        assert_eq!(unsafe { CStr::from_ptr(eucora_license_status_name(code)) }.to_str().unwrap(), name);
    }
}

#[test]
fn a_panic_becomes_internal_with_a_message() {
    let code = boundary("probe", || panic!("boom"));
    assert_eq!(code, EUCORA_LICENSE_INTERNAL);
    assert_eq!(eucora_license_last_error_code(), EUCORA_LICENSE_INTERNAL);
    let msg = last_error();
    assert!(msg.starts_with("probe: internal error"), "{msg}");
    // Later successes leave the last error alone.
    let mut len = 0;
    assert_eq!(unsafe { eucora_license_version(null_mut(), 0, &mut len) }, EUCORA_LICENSE_OK);
    assert_eq!(eucora_license_last_error_code(), EUCORA_LICENSE_INTERNAL);
}

#[test]
fn buffers_query_fit_and_too_small() {
    let mut len = 0usize;
    assert_eq!(unsafe { eucora_license_version(null_mut(), 0, &mut len) }, EUCORA_LICENSE_OK);
    assert_eq!(len, core_::VERSION.len());
    let mut small = [b'x' as c_char; 2];
    assert_eq!(unsafe { eucora_license_version(small.as_mut_ptr(), small.len(), &mut len) }, EUCORA_LICENSE_BUFFER_TOO_SMALL);
    assert_eq!(small[0], 0, "a too-small buffer holds an empty string");
    assert_eq!(len, core_::VERSION.len());
    let mut exact = vec![0 as c_char; len + 1];
    assert_eq!(unsafe { eucora_license_version(exact.as_mut_ptr(), exact.len(), null_mut()) }, EUCORA_LICENSE_OK);
    assert_eq!(unsafe { CStr::from_ptr(exact.as_ptr()) }.to_str().unwrap(), core_::VERSION);
    assert_eq!(unsafe { eucora_license_version(null_mut(), 5, &mut len) }, EUCORA_LICENSE_INVALID_ARGUMENT);
}

#[test]
fn handles_are_checked_not_dereferenced() {
    let mut b: *mut EucoraLicenseBundle = null_mut();
    assert_eq!(unsafe { eucora_license_bundle_new(&mut b) }, EUCORA_LICENSE_OK);
    assert!(!b.is_null());
    let mut o: *mut EucoraLicenseOutcome = 0xdead as *mut _;
    // A bundle handle is not an outcome handle, and vice versa.
    let mut status = -1;
    assert_eq!(unsafe { eucora_license_outcome_status(b.cast(), &mut status) }, EUCORA_LICENSE_INVALID_HANDLE);
    assert_eq!(unsafe { eucora_license_reconcile(b, null(), 0, &mut o) }, EUCORA_LICENSE_OK);
    assert_eq!(unsafe { eucora_license_outcome_status(o, &mut status) }, EUCORA_LICENSE_OK);
    assert_eq!(status, EUCORA_LICENSE_RUN_FAILED); // an empty bundle lacks bundle.json
    let mut code = 0;
    assert_eq!(unsafe { eucora_license_outcome_error_code(o, &mut code) }, EUCORA_LICENSE_OK);
    assert_eq!(code, EUCORA_LICENSE_INVALID_INPUT);
    let mut len = 0;
    assert_eq!(unsafe { eucora_license_outcome_snapshot_hash(o, null_mut(), 0, &mut len) }, EUCORA_LICENSE_INVALID_INPUT);
    assert!(last_error().contains("no snapshot"), "{}", last_error());
    assert_eq!(unsafe { eucora_license_outcome_free(o) }, EUCORA_LICENSE_OK);
    assert_eq!(unsafe { eucora_license_outcome_status(o, &mut status) }, EUCORA_LICENSE_INVALID_HANDLE);
    assert_eq!(unsafe { eucora_license_bundle_free(b) }, EUCORA_LICENSE_OK);
    assert_eq!(unsafe { eucora_license_bundle_free(b) }, EUCORA_LICENSE_INVALID_HANDLE);
    assert_eq!(unsafe { eucora_license_reconcile(b, null(), 0, &mut o) }, EUCORA_LICENSE_INVALID_HANDLE);
    assert!(o.is_null(), "a failed call leaves NULL in the output handle");
    assert_eq!(unsafe { eucora_license_outcome_free(0x7fff_ffff as *mut _) }, EUCORA_LICENSE_INVALID_HANDLE);
    assert_eq!(unsafe { eucora_license_outcome_free(null_mut()) }, EUCORA_LICENSE_OK);
}

#[test]
fn the_vocabulary_is_the_cores() {
    let mut len = 0usize;
    assert_eq!(unsafe { eucora_license_vocabulary(null_mut(), 0, &mut len) }, EUCORA_LICENSE_OK);
    let mut buf = vec![0 as c_char; len + 1];
    assert_eq!(unsafe { eucora_license_vocabulary(buf.as_mut_ptr(), buf.len(), &mut len) }, EUCORA_LICENSE_OK);
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_string();
    assert_eq!(text, include_str!("../../fixtures/vocabulary.json").trim_end());
    assert_eq!(text.as_bytes(), core_::canonical_bytes(&core_::api::vocabulary()).unwrap());
}

#[test]
fn audit_verifiers_answer_and_refuse_bad_arguments() {
    let mut ok = -1;
    let mut buf = [0 as c_char; 256];
    let mut len = 0usize;
    // The empty log verifies; a line that is not JSON is entry 1's failure, an answer not an error.
    assert_eq!(
        unsafe { eucora_license_audit_verify(null(), 0, null(), 0, &mut ok, buf.as_mut_ptr(), buf.len(), &mut len) },
        EUCORA_LICENSE_OK
    );
    assert_eq!(ok, 1);
    assert_eq!(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(), r#"{"failure":null,"ok":true,"size":0}"#);
    let junk = b"x\n";
    assert_eq!(
        unsafe { eucora_license_audit_verify(junk.as_ptr(), junk.len(), null(), 0, &mut ok, buf.as_mut_ptr(), buf.len(), &mut len) },
        EUCORA_LICENSE_OK
    );
    assert_eq!(ok, 0);
    assert!(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().contains(r#""code":"entry_hash_mismatch","seq":1"#));
    // NULL where something is required, a checkpoint that is not one.
    assert_eq!(
        unsafe { eucora_license_audit_verify(null(), 3, null(), 0, &mut ok, null_mut(), 0, null_mut()) },
        EUCORA_LICENSE_INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { eucora_license_audit_verify(null(), 0, null(), 0, null_mut(), null_mut(), 0, null_mut()) },
        EUCORA_LICENSE_INVALID_ARGUMENT
    );
    let cp = b"{\"size\":1}";
    assert_eq!(
        unsafe { eucora_license_audit_verify(null(), 0, cp.as_ptr(), cp.len(), &mut ok, null_mut(), 0, null_mut()) },
        EUCORA_LICENSE_INVALID_INPUT
    );
    assert!(last_error().contains("invalid_checkpoint"), "{}", last_error());
    // A proof that is not JSON is a malformed proof, an answer.
    let empty_cp = audit_empty_checkpoint();
    assert_eq!(
        unsafe {
            eucora_license_audit_verify_proof(
                junk.as_ptr(),
                junk.len(),
                empty_cp.as_ptr(),
                empty_cp.len(),
                &mut ok,
                buf.as_mut_ptr(),
                buf.len(),
                &mut len,
            )
        },
        EUCORA_LICENSE_OK
    );
    assert_eq!(ok, 0);
    assert_eq!(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(), r#"{"ok":false,"reason":"malformed_proof"}"#);
    assert_eq!(
        unsafe { eucora_license_audit_verify_proof(null(), 2, null(), 0, &mut ok, null_mut(), 0, null_mut()) },
        EUCORA_LICENSE_INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { eucora_license_audit_checkpoint(junk.as_ptr(), junk.len(), null_mut(), 0, &mut len) },
        EUCORA_LICENSE_INVALID_INPUT
    );
}

/// The empty log's checkpoint, as `eucora_license_audit_checkpoint` gives it.
fn audit_empty_checkpoint() -> Vec<u8> {
    let mut buf = [0 as c_char; 256];
    let mut len = 0usize;
    assert_eq!(unsafe { eucora_license_audit_checkpoint(null(), 0, buf.as_mut_ptr(), buf.len(), &mut len) }, EUCORA_LICENSE_OK);
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes().to_vec()
}
