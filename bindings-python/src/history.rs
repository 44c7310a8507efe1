//! What changed between two runs, and why one SKU's numbers changed.

use crate::boundary::{boundary, Failure};
use crate::convert::json_text;
use eucora_license_core::{self as core_, Error as CoreError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// What changed between two runs (each a snapshot's or an evidence pack's
/// bytes): JSON `{"summary": <diff>, "units": <diff.json unit lists> | null}`.
/// The unit lists come with a current run given as a pack that directly
/// follows the previous one (the CLI's `diff --json`).
#[pyfunction]
pub(crate) fn diff(py: Python<'_>, previous: Bound<'_, PyBytes>, current: Bound<'_, PyBytes>) -> PyResult<String> {
    boundary(py, || {
        let (p, c) = (previous.as_bytes(), current.as_bytes());
        let out = py.detach(|| core_::api::diff(p, c));
        Ok(json_text(&out.map_err(|e| Failure::from_core(&e))?)?)
    })
}

/// Why one SKU's numbers changed between two consecutive runs, in words
/// (the CLI's `explain`); every number comes from the diff.
#[pyfunction]
pub(crate) fn explain(py: Python<'_>, previous: Bound<'_, PyBytes>, current: Bound<'_, PyBytes>, sku: &str) -> PyResult<String> {
    boundary(py, || {
        let (p, c) = (previous.as_bytes(), current.as_bytes());
        let text = py.detach(|| -> Result<String, CoreError> {
            let (prev, _) = core_::open_run(p)?;
            let (cur, detail) = core_::open_run(c)?;
            core_::explain(&prev, &cur, detail.as_ref(), sku)
        });
        Ok(text.map_err(|e| Failure::from_core(&e))?)
    })
}
