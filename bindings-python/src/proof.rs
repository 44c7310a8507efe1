//! Inclusion proofs: prove one SKU, check a proof.

use crate::boundary::{boundary, Failure};
use crate::convert::json_text;
use crate::snapshot::parse_snapshot;
use eucora_license_core as core_;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// One SKU's inclusion proof (JSON text).
#[pyfunction]
pub(crate) fn prove(py: Python<'_>, snapshot: Bound<'_, PyBytes>, sku: &str) -> PyResult<String> {
    boundary(py, || {
        let s = parse_snapshot(snapshot.as_bytes())?;
        let p = core_::prove(&s, sku).map_err(|e| Failure::from_core(&e))?;
        Ok(json_text(&p)?)
    })
}

/// Check a proof (JSON bytes); raises `VerificationError` when it does not
/// hold. With `snapshot_hash` (a hash the caller trusts) or `snapshot` (the
/// snapshot's bytes), the proof must be of that snapshot.
#[pyfunction]
#[pyo3(signature = (proof, snapshot_hash=None, snapshot=None))]
pub(crate) fn verify_proof(
    py: Python<'_>,
    proof: Bound<'_, PyBytes>,
    snapshot_hash: Option<&str>,
    snapshot: Option<Bound<'_, PyBytes>>,
) -> PyResult<()> {
    boundary(py, || {
        let v: serde_json::Value =
            serde_json::from_slice(proof.as_bytes()).map_err(|e| Failure::invalid_input(format!("the proof is not JSON: {e}")))?;
        let checked = match (snapshot_hash, &snapshot) {
            (Some(h), _) => core_::verify_proof_against(&v, h),
            (None, Some(s)) => core_::verify_proof_with_snapshot(&v, s.as_bytes()),
            (None, None) => core_::verify_proof(&v),
        };
        checked.map_err(|why| {
            let mut f =
                Failure::new("verification_failed", format!("the proof of `{}` does not verify: {why}", v["sku"].as_str().unwrap_or("")));
            f.field = Some("proof".into());
            f
        })?;
        Ok(())
    })
}
