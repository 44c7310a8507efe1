//! The opaque handle types and their registry: a handle is an id, never a
//! pointer to Rust memory, so a freed or made-up handle is refused.

use crate::boundary::{Fail, FfiResult};
use crate::status::EUCORA_LICENSE_INVALID_HANDLE;
use eucora_license_core::MemoryBundle;
use eucora_license_core::Outcome;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// A bundle under construction: files added one by one (`eucora_license_bundle_*`).
pub struct EucoraLicenseBundle {
    _opaque: [u8; 0],
}

/// The result of one reconciliation: status, snapshot, run report, exceptions,
/// evidence pack (`eucora_license_outcome_*`).
pub struct EucoraLicenseOutcome {
    _opaque: [u8; 0],
}

pub(crate) enum Entry {
    Bundle(Arc<Mutex<MemoryBundle>>),
    Outcome(Arc<OutcomeEntry>),
}

pub(crate) struct OutcomeEntry {
    pub(crate) outcome: Outcome,
    pub(crate) pack: OnceLock<Result<Vec<u8>, (i32, String)>>,
}

pub(crate) struct Registry {
    next: u64,
    pub(crate) entries: BTreeMap<u64, Entry>,
}

pub(crate) static REGISTRY: Mutex<Registry> = Mutex::new(Registry { next: 1, entries: BTreeMap::new() });

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while the lock was held (caught at the boundary) leaves the data
    // consistent: every critical section is a single map operation.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn register(entry: Entry) -> u64 {
    let mut r = lock(&REGISTRY);
    let id = r.next;
    r.next += 1;
    r.entries.insert(id, entry);
    id
}

pub(crate) fn handle_id<T>(p: *const T) -> u64 {
    p as usize as u64
}

pub(crate) fn bundle_of(p: *const EucoraLicenseBundle) -> FfiResult<Arc<Mutex<MemoryBundle>>> {
    match lock(&REGISTRY).entries.get(&handle_id(p)) {
        Some(Entry::Bundle(b)) => Ok(Arc::clone(b)),
        _ => Err(Fail::new(EUCORA_LICENSE_INVALID_HANDLE, "not a live bundle handle (NULL, freed, or another kind of handle)")),
    }
}

pub(crate) fn outcome_of(p: *const EucoraLicenseOutcome) -> FfiResult<Arc<OutcomeEntry>> {
    match lock(&REGISTRY).entries.get(&handle_id(p)) {
        Some(Entry::Outcome(o)) => Ok(Arc::clone(o)),
        _ => Err(Fail::new(EUCORA_LICENSE_INVALID_HANDLE, "not a live outcome handle (NULL, freed, or another kind of handle)")),
    }
}

pub(crate) unsafe fn handle_out<T>(what: &str, out: *mut *mut T) -> FfiResult<&'static mut *mut T> {
    if out.is_null() {
        return Err(Fail::arg(format!("`{what}` is NULL")));
    }
    // SAFETY: the caller promises `out` is writable; it is reset first so a
    // failed call leaves NULL there.
    let slot = unsafe { &mut *out };
    *slot = std::ptr::null_mut();
    Ok(slot)
}
