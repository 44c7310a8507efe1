//! The sidebar state.

use crate::boundary::{boundary, Failure};
use crate::convert::json_text;
use crate::snapshot::parse_snapshot;
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
        let now = core_::time::Instant::parse(now)
            .map_err(|e| Failure::invalid_input(format!("`now` must be an RFC 3339 instant with offset ({})", e.code())))?;
        if schedule_interval_secs <= 0 {
            return Err(Failure::invalid_input("schedule_interval must be positive").into());
        }
        if stale_factor < 0 {
            return Err(Failure::invalid_input("stale_factor must not be negative").into());
        }
        let snap = match &snapshot {
            Some(b) => Some(parse_snapshot(b.as_bytes())?),
            None => None,
        };
        let run: Option<serde_json::Value> = match &last_run {
            Some(b) => Some(
                serde_json::from_slice(b.as_bytes())
                    .map_err(|e| Failure::invalid_input(format!("the last run report is not JSON: {e}")))?,
            ),
            None => None,
        };
        // The checked form: another organization's report, a document that is
        // no run report or an overflowing schedule is an error, never a state.
        let state = core_::sidebar::try_sidebar(&core_::sidebar::SidebarInput {
            latest_success: snap.as_ref().map(|s| s.value()),
            last_run: run.as_ref(),
            now,
            schedule_interval_secs,
            stale_factor,
        })
        .map_err(|e| Failure::from_core(&e))?;
        Ok(json_text(&state)?)
    })
}
