//! License intelligence (DESIGN Part C): alerts, recommendations, IT-04
//! events and compliance rows, and the policy's identity. Each function
//! returns the document the CLI prints with `--json`, as JSON text, built by
//! `eucora_license_insight::api` (so the checks and the shapes exist once);
//! the facade (`eucora_license._insight`) types it.

use crate::boundary::{boundary, Failure};
use eucora_license_insight::{api, InsightError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// A contract error (`invalid_policy`, `chain_broken`, `pack_invalid`,
/// `pack_mismatch`, `invalid_input`): its code and message, and the 1-based
/// position of the offending run as details (`{"index": n | null}`), which
/// `_errors._from_native` puts on `InsightError.index`.
fn failure(e: InsightError) -> Failure {
    let details = serde_json::json!({"index": e.index}).to_string();
    Failure::new(e.code.name(), e.message).with_details(details)
}

fn slices(history: &[Vec<u8>]) -> Vec<&[u8]> {
    history.iter().map(Vec::as_slice).collect()
}

/// `{"id", "version", "hash"}` of a policy document (`None`: the shipped
/// default), after strict validation.
#[pyfunction]
#[pyo3(signature = (policy=None))]
pub(crate) fn policy_identity(py: Python<'_>, policy: Option<Bound<'_, PyBytes>>) -> PyResult<String> {
    boundary(py, || {
        let id = api::policy_identity(policy.as_ref().map(|b| b.as_bytes())).map_err(failure)?;
        Ok(crate::convert::json_text(&id)?)
    })
}

/// `alerts --json`: `{"alerts", "as_of", "policy"}` for the snapshots of
/// `history` (oldest first), the latest's evidence pack and a policy
/// (`None`: the default).
#[pyfunction]
#[pyo3(signature = (history, latest_pack, policy=None))]
pub(crate) fn alerts(
    py: Python<'_>,
    history: Vec<Vec<u8>>,
    latest_pack: Bound<'_, PyBytes>,
    policy: Option<Bound<'_, PyBytes>>,
) -> PyResult<String> {
    boundary(py, || {
        let (pack, policy) = (latest_pack.as_bytes(), policy.as_ref().map(|b| b.as_bytes()));
        Ok(py.detach(|| api::alerts_json(&slices(&history), pack, policy)).map_err(failure)?)
    })
}

/// `advise --json`: `{"as_of", "policy", "recommendations"}`.
#[pyfunction]
#[pyo3(signature = (history, latest_pack, policy=None))]
pub(crate) fn advise(
    py: Python<'_>,
    history: Vec<Vec<u8>>,
    latest_pack: Bound<'_, PyBytes>,
    policy: Option<Bound<'_, PyBytes>>,
) -> PyResult<String> {
    boundary(py, || {
        let (pack, policy) = (latest_pack.as_bytes(), policy.as_ref().map(|b| b.as_bytes()));
        Ok(py.detach(|| api::advise_json(&slices(&history), pack, policy)).map_err(failure)?)
    })
}

/// `events --json`: `{"as_of", "events", "policy"}`, money as two-decimal
/// numbers; `renewed_by` is the host's actor id on renewals.
#[pyfunction]
#[pyo3(signature = (history, latest_pack, policy=None, organization_uuid=None, renewed_by=None))]
pub(crate) fn events(
    py: Python<'_>,
    history: Vec<Vec<u8>>,
    latest_pack: Bound<'_, PyBytes>,
    policy: Option<Bound<'_, PyBytes>>,
    organization_uuid: Option<String>,
    renewed_by: Option<String>,
) -> PyResult<String> {
    boundary(py, || {
        let (pack, policy) = (latest_pack.as_bytes(), policy.as_ref().map(|b| b.as_bytes()));
        let out = py.detach(|| api::events_json(&slices(&history), pack, policy, organization_uuid.as_deref(), renewed_by.as_deref()));
        Ok(out.map_err(failure)?)
    })
}

/// `compliance --json`: `{"as_of", "policy", "rows"}` for one run's
/// snapshot and its evidence pack.
#[pyfunction]
#[pyo3(signature = (snapshot, pack, license_id=None, organization_uuid=None, policy=None))]
pub(crate) fn compliance(
    py: Python<'_>,
    snapshot: Bound<'_, PyBytes>,
    pack: Bound<'_, PyBytes>,
    license_id: Option<String>,
    organization_uuid: Option<String>,
    policy: Option<Bound<'_, PyBytes>>,
) -> PyResult<String> {
    boundary(py, || {
        let (s, p, policy) = (snapshot.as_bytes(), pack.as_bytes(), policy.as_ref().map(|b| b.as_bytes()));
        let out = py.detach(|| api::compliance_json(s, p, license_id.as_deref(), organization_uuid.as_deref(), policy));
        Ok(out.map_err(failure)?)
    })
}
