//! The plain tar of an evidence pack, for hosts that read members with a tar
//! library (Python's `tarfile` has no zstd before 3.14).

use crate::boundary::{boundary, Failure};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The tar of a pack of either form (docs/audit-guide.md, section 9): a
/// compressed pack decompressed under the reader's bounds, a plain tar
/// returned as it is. A bad frame raises `InvalidInputError` naming what was
/// wrong with it.
#[pyfunction]
pub(crate) fn pack_archive<'py>(py: Python<'py>, pack: Bound<'py, PyBytes>) -> PyResult<Bound<'py, PyBytes>> {
    boundary(py, || {
        let bytes = pack.as_bytes();
        // The core tells the forms apart: a plain tar comes back borrowed,
        // and is returned as the same object.
        let tar = py.detach(|| {
            eucora_license_core::pack_archive(bytes).map(|t| match t {
                std::borrow::Cow::Borrowed(_) => None,
                std::borrow::Cow::Owned(tar) => Some(tar),
            })
        });
        match tar.map_err(|e| Failure::invalid_input(format!("evidence pack: {e}")))? {
            None => Ok(pack.clone()),
            Some(tar) => Ok(PyBytes::new(py, &tar)),
        }
    })
}
