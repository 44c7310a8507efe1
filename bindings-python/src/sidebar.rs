//! The sidebar state: the core's `api::sidebar`, the one argument check Node
//! and C go through too.

use crate::boundary::{boundary, Failure};
use crate::convert::json_text;
use eucora_license_core as core_;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The sidebar state (JSON text).
#[pyfunction]
#[pyo3(signature = (snapshot, last_run, now, schedule_interval_secs, stale_factor))]
pub(crate) fn sidebar(
    py: Python<'_>,
    snapshot: Option<Bound<'_, PyBytes>>,
    last_run: Option<Bound<'_, PyBytes>>,
    now: &str,
    schedule_interval_secs: i64,
    stale_factor: i64,
) -> PyResult<String> {
    boundary(py, || {
        let state = core_::api::sidebar(
            snapshot.as_ref().map(|b| b.as_bytes()),
            last_run.as_ref().map(|b| b.as_bytes()),
            now,
            schedule_interval_secs,
            stale_factor,
        )
        .map_err(|e| Failure::from_core(&e))?;
        Ok(json_text(&state)?)
    })
}
