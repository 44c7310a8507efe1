//! Bundles built file by file (`eucora_license_bundle_*`).

use crate::boundary::{boundary, Fail};
use crate::convert::{bytes_in, str_in};
use crate::handles::{bundle_of, handle_id, handle_out, lock, register, Entry, EucoraLicenseBundle, REGISTRY};
use crate::status::{EUCORA_LICENSE_INVALID_HANDLE, EUCORA_LICENSE_OK};
use eucora_license_core as core_;
use eucora_license_core::MemoryBundle;
use std::ffi::c_char;
use std::sync::{Arc, Mutex};

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
