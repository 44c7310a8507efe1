//! Snapshots checked against their hash.

use crate::boundary::{boundary, Failure, NResult};
use eucora_license_core as core_;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

pub(crate) fn parse_snapshot(bytes: &[u8]) -> NResult<core_::Snapshot> {
    core_::Snapshot::parse_verified(bytes).map_err(|e| Failure::from_core(&e))
}

/// Check snapshot bytes (any JSON layout) against their `snapshot_hash`:
/// (canonical bytes, hash).
#[pyfunction]
pub(crate) fn load_snapshot<'py>(py: Python<'py>, data: Bound<'py, PyBytes>) -> PyResult<(Bound<'py, PyBytes>, String)> {
    boundary(py, || {
        let s = parse_snapshot(data.as_bytes())?;
        Ok((PyBytes::new(py, s.canonical_bytes()), s.hash().to_prefixed()))
    })
}
