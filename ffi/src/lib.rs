//! C ABI of `eucora-license-core` (header `include/eucora_license.h`,
//! conventions in `docs/c-api.md`).
//!
//! Every exported function:
//! - returns a status code, `EUCORA_LICENSE_OK` (0) or an error code; the
//!   engine's error codes keep their numbers (`invalid_input` = 1, ...,
//!   `internal` = 99), the ABI adds 100-102;
//! - takes its outputs last; text goes into caller-owned buffers with a
//!   capacity and a length (query the length with a NULL buffer of capacity 0);
//! - checks every pointer: NULL where something is required is
//!   `EUCORA_LICENSE_INVALID_ARGUMENT` (a NULL, freed or foreign handle is
//!   `EUCORA_LICENSE_INVALID_HANDLE`), never a crash;
//! - runs its body under `catch_unwind`: a panic becomes
//!   `EUCORA_LICENSE_INTERNAL`, never an unwind into C;
//! - on failure, records a message for `eucora_license_last_error` (per thread).
//!
//! Handles are not pointers to Rust memory: they are ids in a registry, so a
//! freed (dangling) or made-up handle is recognised and refused instead of
//! being dereferenced. Ids are never reused.

#![deny(unsafe_op_in_unsafe_fn)]
#![allow(clippy::missing_safety_doc)] // the safety contract is the header's and docs/c-api.md's

#[cfg(panic = "abort")]
compile_error!("the C ABI turns panics into status codes: build with panic = \"unwind\"");

use eucora_license_core::{self as core_, Error as CoreError, Outcome, RunStatus};
use eucora_license_core::{BundleSource, MemoryBundle};
use eucora_license_dir::DirBundle;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

// ---------------------------------------------------------------------------
// Status codes

/// Success.
pub const EUCORA_LICENSE_OK: i32 = 0;
/// Bad input: malformed JSON/CSV, a missing required file, text that is not UTF-8.
pub const EUCORA_LICENSE_INVALID_INPUT: i32 = 1;
/// The ruleset is missing, malformed or invalid.
pub const EUCORA_LICENSE_INVALID_RULESET: i32 = 2;
/// Catalog, entitlement, pool or directory data contradict each other.
pub const EUCORA_LICENSE_CATALOG_INTEGRITY: i32 = 3;
/// Two signals share (source, raw_id) but differ.
pub const EUCORA_LICENSE_CONFLICTING_DUPLICATE: i32 = 4;
/// A (previous) snapshot does not verify.
pub const EUCORA_LICENSE_PREVIOUS_SNAPSHOT_INVALID: i32 = 5;
/// An import rejected more rows than max_reject_percent allows.
pub const EUCORA_LICENSE_REJECT_THRESHOLD_EXCEEDED: i32 = 6;
/// Data to hash is not representable canonically (a float, an integer beyond 2^53-1).
pub const EUCORA_LICENSE_NON_CANONICAL: i32 = 7;
/// A bug inside the library (a caught panic, for one); please report it.
pub const EUCORA_LICENSE_INTERNAL: i32 = 99;
/// A NULL pointer where one is required, a NULL data pointer with a non-zero
/// length, or a C string that is not UTF-8.
pub const EUCORA_LICENSE_INVALID_ARGUMENT: i32 = 100;
/// The output buffer is too small; the length output holds the size needed.
pub const EUCORA_LICENSE_BUFFER_TOO_SMALL: i32 = 101;
/// A handle that is NULL, already freed, never issued, or of another type.
pub const EUCORA_LICENSE_INVALID_HANDLE: i32 = 102;

/// Run status of an outcome: a snapshot, every expected source reported.
pub const EUCORA_LICENSE_RUN_OK: i32 = 0;
/// Run status of an outcome: a snapshot, some source missing or degraded.
pub const EUCORA_LICENSE_RUN_DEGRADED: i32 = 1;
/// Run status of an outcome: failed closed, no snapshot (see the run report).
pub const EUCORA_LICENSE_RUN_FAILED: i32 = 2;

/// The version of this ABI; it changes only when a declaration changes incompatibly.
pub const EUCORA_LICENSE_ABI_VERSION: i32 = 1;

/// A bundle under construction: files added one by one (`eucora_license_bundle_*`).
pub struct EucoraLicenseBundle {
    _opaque: [u8; 0],
}

/// The result of one reconciliation: status, snapshot, run report, exceptions,
/// evidence pack (`eucora_license_outcome_*`).
pub struct EucoraLicenseOutcome {
    _opaque: [u8; 0],
}

// ---------------------------------------------------------------------------
// Errors, the last-error slot and the panic boundary

struct Fail {
    code: i32,
    message: String,
}

impl Fail {
    fn new(code: i32, message: impl Into<String>) -> Self {
        Fail { code, message: message.into() }
    }

    fn arg(message: impl Into<String>) -> Self {
        Fail::new(EUCORA_LICENSE_INVALID_ARGUMENT, message)
    }
}

impl From<CoreError> for Fail {
    fn from(e: CoreError) -> Self {
        Fail::new(e.code().number() as i32, e.to_string())
    }
}

type FfiResult<T = ()> = Result<T, Fail>;

thread_local! {
    static LAST_ERROR: RefCell<(i32, String)> = const { RefCell::new((EUCORA_LICENSE_OK, String::new())) };
}

fn set_last_error(code: i32, message: String) {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = (code, message));
}

/// Run one exported body: its `Fail` becomes the status code and the last
/// error; a panic becomes `EUCORA_LICENSE_INTERNAL`. The last error is left
/// alone on success (read it right after the failing call, like `errno`).
fn boundary(function: &str, body: impl FnOnce() -> FfiResult) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => EUCORA_LICENSE_OK,
        Ok(Err(fail)) => {
            let code = fail.code;
            set_last_error(code, format!("{function}: {}", fail.message));
            code
        }
        Err(_) => {
            set_last_error(EUCORA_LICENSE_INTERNAL, format!("{function}: internal error (a bug in the library; please report it)"));
            EUCORA_LICENSE_INTERNAL
        }
    }
}

// ---------------------------------------------------------------------------
// Pointer checks and output buffers

/// Bytes from (`data`, `len`): NULL with length 0 is empty; NULL with a length is refused.
unsafe fn bytes_in<'a>(what: &str, data: *const u8, len: usize) -> FfiResult<&'a [u8]> {
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
unsafe fn optional_bytes_in<'a>(what: &str, data: *const u8, len: usize) -> FfiResult<Option<&'a [u8]>> {
    if data.is_null() {
        return if len == 0 { Ok(None) } else { Err(Fail::arg(format!("`{what}` is NULL but its length is {len}"))) };
    }
    // SAFETY: as for `bytes_in`.
    unsafe { bytes_in(what, data, len) }.map(Some)
}

/// A NUL-terminated UTF-8 string.
unsafe fn str_in<'a>(what: &str, s: *const c_char) -> FfiResult<&'a str> {
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
unsafe fn write_out(out: &[u8], nul: bool, buf: *mut u8, cap: usize, len_out: *mut usize) -> FfiResult {
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

unsafe fn text_out(out: &[u8], buf: *mut c_char, cap: usize, len_out: *mut usize) -> FfiResult {
    // SAFETY: forwarded caller contract.
    unsafe { write_out(out, true, buf.cast(), cap, len_out) }
}

unsafe fn int_out(what: &str, out: *mut i32, value: i32) -> FfiResult {
    if out.is_null() {
        return Err(Fail::arg(format!("`{what}` is NULL")));
    }
    // SAFETY: the caller promises `out` is writable.
    unsafe { *out = value };
    Ok(())
}

fn canonical_json(v: &serde_json::Value) -> FfiResult<Vec<u8>> {
    Ok(core_::canonical_bytes(v)?)
}

// ---------------------------------------------------------------------------
// The handle registry

enum Entry {
    Bundle(Arc<Mutex<MemoryBundle>>),
    Outcome(Arc<OutcomeEntry>),
}

struct OutcomeEntry {
    outcome: Outcome,
    pack: OnceLock<Result<Vec<u8>, (i32, String)>>,
}

struct Registry {
    next: u64,
    entries: BTreeMap<u64, Entry>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { next: 1, entries: BTreeMap::new() });

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while the lock was held (caught at the boundary) leaves the data
    // consistent: every critical section is a single map operation.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn register(entry: Entry) -> u64 {
    let mut r = lock(&REGISTRY);
    let id = r.next;
    r.next += 1;
    r.entries.insert(id, entry);
    id
}

fn handle_id<T>(p: *const T) -> u64 {
    p as usize as u64
}

fn bundle_of(p: *const EucoraLicenseBundle) -> FfiResult<Arc<Mutex<MemoryBundle>>> {
    match lock(&REGISTRY).entries.get(&handle_id(p)) {
        Some(Entry::Bundle(b)) => Ok(Arc::clone(b)),
        _ => Err(Fail::new(EUCORA_LICENSE_INVALID_HANDLE, "not a live bundle handle (NULL, freed, or another kind of handle)")),
    }
}

fn outcome_of(p: *const EucoraLicenseOutcome) -> FfiResult<Arc<OutcomeEntry>> {
    match lock(&REGISTRY).entries.get(&handle_id(p)) {
        Some(Entry::Outcome(o)) => Ok(Arc::clone(o)),
        _ => Err(Fail::new(EUCORA_LICENSE_INVALID_HANDLE, "not a live outcome handle (NULL, freed, or another kind of handle)")),
    }
}

unsafe fn handle_out<T>(what: &str, out: *mut *mut T) -> FfiResult<&'static mut *mut T> {
    if out.is_null() {
        return Err(Fail::arg(format!("`{what}` is NULL")));
    }
    // SAFETY: the caller promises `out` is writable; it is reset first so a
    // failed call leaves NULL there.
    let slot = unsafe { &mut *out };
    *slot = std::ptr::null_mut();
    Ok(slot)
}

// ---------------------------------------------------------------------------
// Library and errors

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
        let message = LAST_ERROR.with(|slot| slot.borrow().1.clone());
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
    catch_unwind(|| LAST_ERROR.with(|slot| slot.borrow().0)).unwrap_or(EUCORA_LICENSE_INTERNAL)
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

// ---------------------------------------------------------------------------
// Bundles

/// A new, empty bundle. Free it with `eucora_license_bundle_free`.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_bundle_new(bundle_out: *mut *mut EucoraLicenseBundle) -> i32 {
    boundary("eucora_license_bundle_new", || {
        // SAFETY: forwarded caller contract.
        let slot = unsafe { handle_out("bundle_out", bundle_out) }?;
        let id = register(Entry::Bundle(Arc::new(Mutex::new(MemoryBundle::default()))));
        *slot = id as usize as *mut EucoraLicenseBundle;
        Ok(())
    })
}

/// Add (or replace) the file `path` (relative, '/'-separated, e.g.
/// "signals/intune.csv") with `len` bytes at `data`. The bytes are copied.
#[no_mangle]
pub unsafe extern "C" fn eucora_license_bundle_add_file(
    bundle: *mut EucoraLicenseBundle,
    path: *const c_char,
    data: *const u8,
    len: usize,
) -> i32 {
    boundary("eucora_license_bundle_add_file", || {
        let b = bundle_of(bundle)?;
        // SAFETY: forwarded caller contract.
        let path = unsafe { str_in("path", path) }?;
        core_::check_bundle_path(path)?;
        // SAFETY: forwarded caller contract.
        let data = unsafe { bytes_in("data", data, len) }?;
        lock(&b).insert(path, data.to_vec());
        Ok(())
    })
}

/// Free a bundle. NULL is accepted and does nothing; a handle that is not a
/// live bundle is EUCORA_LICENSE_INVALID_HANDLE (a second free, for one).
#[no_mangle]
pub unsafe extern "C" fn eucora_license_bundle_free(bundle: *mut EucoraLicenseBundle) -> i32 {
    if bundle.is_null() {
        return EUCORA_LICENSE_OK;
    }
    boundary("eucora_license_bundle_free", || {
        let mut r = lock(&REGISTRY);
        match r.entries.get(&handle_id(bundle)) {
            Some(Entry::Bundle(_)) => {
                r.entries.remove(&handle_id(bundle));
                Ok(())
            }
            _ => Err(Fail::new(EUCORA_LICENSE_INVALID_HANDLE, "not a live bundle handle (freed twice?)")),
        }
    })
}

// ---------------------------------------------------------------------------
// Reconciliation

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
        let bytes = canonical_json(&o.outcome.report)?;
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

// ---------------------------------------------------------------------------
// Verification, rulesets, canonical JSON, sidebar

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

#[cfg(test)]
mod tests {
    use super::*;
    use eucora_license_core::ErrorCode;
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
}
