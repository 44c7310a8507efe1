//! Governance (DESIGN Part D, D1–D3, D6): `authorize`, `propose`,
//! `decide`, `apply`, `payload_hash` and the audit chain with its RFC 9162
//! proofs, over JSON text in and JSON text out: each function calls the
//! governance crate's `*_json` entry point or its audit function, exactly
//! as the CLI does, so the binding cannot drift from the CLI's answers. The
//! facade (`eucora_license._governance`) turns Python values into that text
//! and back.
//!
//! Errors are the crate's stable codes (`role_lacks_action`,
//! `policy_mismatch`, `already_applied`, `pending`, ...), raised as
//! `eucora_license.GovernanceError` (the details carry the family, since
//! some codes, `invalid_policy` for one, are shared with other areas); the
//! JSON path of the offending value, when known, is the location's field.

use crate::boundary::{boundary, Failure, NResult, Raise};
use eucora_license_core::internal::canonical::parse_strict;
use eucora_license_governance::{self as gov, audit, Checkpoint, Policy};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::Value;

/// A governance error on its way to Python (`GovernanceError`).
fn failure(e: gov::Error) -> Failure {
    let mut f = Failure::new(e.code, e.message).with_details(r#"{"family":"governance"}"#.to_string());
    f.field = e.path;
    f
}

/// A JSON argument the facade rendered; strict (a repeated key is refused).
fn parse(text: &str, what: &str) -> NResult<Value> {
    parse_strict(text).map_err(|e| Failure::invalid_input(format!("{what} is not JSON: {e}")))
}

/// The policy document's bytes, or the shipped default.
fn policy_of(policy: &Option<Bound<'_, PyBytes>>) -> NResult<Policy> {
    match policy {
        Some(b) => Policy::from_slice(b.as_bytes()).map_err(failure),
        None => Ok(Policy::default_policy()),
    }
}

fn text(v: &Value) -> NResult<String> {
    crate::convert::json_text(v)
}

/// The D1 decision `{"allowed", "action", "actor", "reason"}`; a "no" is a
/// value. Errors: `invalid_actor`, `unknown_role`, `unknown_action`,
/// `unknown_agent`, `invalid_policy`.
#[pyfunction]
#[pyo3(signature = (actor, action, policy=None))]
pub(crate) fn gov_authorize(py: Python<'_>, actor: &str, action: &str, policy: Option<Bound<'_, PyBytes>>) -> PyResult<String> {
    boundary(py, || {
        let actor = parse(actor, "actor")?;
        let policy = policy_of(&policy)?;
        let d = py.detach(|| gov::authorize_json(&actor, action, &policy)).map_err(failure)?;
        Ok(text(&d.to_value())?)
    })
}

/// The D2 proposal (the CLI's `propose`).
#[pyfunction]
#[pyo3(signature = (kind, payload, actor, at, policy=None, correlation_id=None, evidence="[]"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn gov_propose(
    py: Python<'_>,
    kind: &str,
    payload: &str,
    actor: &str,
    at: &str,
    policy: Option<Bound<'_, PyBytes>>,
    correlation_id: Option<String>,
    evidence: &str,
) -> PyResult<String> {
    boundary(py, || {
        let (payload, actor, evidence) = (parse(payload, "payload")?, parse(actor, "actor")?, parse(evidence, "evidence")?);
        let policy = policy_of(&policy)?;
        let p =
            py.detach(|| gov::propose_json(kind, &payload, &actor, at, &policy, correlation_id.as_deref(), &evidence)).map_err(failure)?;
        Ok(text(&p.to_value())?)
    })
}

/// `{"state", "counted", "refused"}` (the CLI's `decide`).
#[pyfunction]
#[pyo3(signature = (proposal, approvals, now, policy=None))]
pub(crate) fn gov_decide(
    py: Python<'_>,
    proposal: &str,
    approvals: &str,
    now: &str,
    policy: Option<Bound<'_, PyBytes>>,
) -> PyResult<String> {
    boundary(py, || {
        let (proposal, approvals) = (parse(proposal, "proposal")?, parse(approvals, "approvals")?);
        let policy = policy_of(&policy)?;
        let d = py.detach(|| gov::decide_json(&proposal, &approvals, now, &policy)).map_err(failure)?;
        Ok(text(&d.to_value())?)
    })
}

/// `{"change": {"kind", "proposal_id", "payload"}}` (the CLI's `apply`);
/// otherwise the error `policy_mismatch`, `already_applied` or the state.
#[pyfunction]
#[pyo3(signature = (proposal, approvals, now, policy=None, applied="[]"))]
pub(crate) fn gov_apply(
    py: Python<'_>,
    proposal: &str,
    approvals: &str,
    now: &str,
    policy: Option<Bound<'_, PyBytes>>,
    applied: &str,
) -> PyResult<String> {
    boundary(py, || {
        let (proposal, approvals, applied) = (parse(proposal, "proposal")?, parse(approvals, "approvals")?, parse(applied, "applied")?);
        let policy = policy_of(&policy)?;
        let c = py.detach(|| gov::apply_json(&proposal, &approvals, now, &policy, &applied)).map_err(failure)?;
        Ok(text(&c.to_value())?)
    })
}

/// `sha256:` hash of a payload (`eucora.proposal.v1`, canonical JSON).
#[pyfunction]
pub(crate) fn gov_payload_hash(py: Python<'_>, payload: &str) -> PyResult<String> {
    boundary(py, || {
        let payload = parse(payload, "payload")?;
        Ok(gov::proposal::payload_hash(&payload).map_err(failure)?)
    })
}

/// The entry appended after `head` (`None`: the first entry), with `seq`,
/// `prev_hash` and `entry_hash` filled in.
#[pyfunction]
#[pyo3(signature = (head, entry))]
pub(crate) fn audit_append(py: Python<'_>, head: Option<&str>, entry: &str) -> PyResult<String> {
    boundary(py, || {
        let head = head.map(|h| parse(h, "head")).transpose()?;
        let entry = parse(entry, "entry")?;
        let e = py.detach(|| gov::append(head.as_ref(), &entry)).map_err(failure)?;
        Ok(text(&e)?)
    })
}

fn entries_of(entries: &str) -> NResult<Vec<Value>> {
    match parse(entries, "entries")? {
        Value::Array(a) => Ok(a),
        _ => Err(Failure::invalid_input("entries are a JSON array")),
    }
}

/// `{"ok", "size", "failure": null | {"code", "seq"}}` (the CLI's `audit verify`).
#[pyfunction]
#[pyo3(signature = (entries, checkpoint=None))]
pub(crate) fn audit_verify(py: Python<'_>, entries: &str, checkpoint: Option<&str>) -> PyResult<String> {
    boundary(py, || {
        let entries = entries_of(entries)?;
        let cp = match checkpoint {
            Some(c) => Some(Checkpoint::from_value(&parse(c, "checkpoint")?).map_err(failure)?),
            None => None,
        };
        let r = py.detach(|| gov::verify_log(&entries, cp.as_ref()));
        Ok(text(&r.to_value())?)
    })
}

/// `{"size", "root", "head_hash"}` of a log that verifies (its failure's code otherwise).
#[pyfunction]
pub(crate) fn audit_checkpoint(py: Python<'_>, entries: &str) -> PyResult<String> {
    boundary(py, || {
        let entries = entries_of(entries)?;
        let c = py.detach(|| gov::checkpoint(&entries)).map_err(failure)?;
        Ok(text(&c.to_value())?)
    })
}

/// The RFC 9162 inclusion proof of entry `seq` (1-based).
#[pyfunction]
pub(crate) fn audit_prove(py: Python<'_>, entries: &str, seq: u64) -> PyResult<String> {
    boundary(py, || {
        let entries = entries_of(entries)?;
        let p = py.detach(|| gov::prove_entry(&entries, seq)).map_err(failure)?;
        Ok(text(&p)?)
    })
}

/// The RFC 9162 consistency proof from the first `old_size` entries.
#[pyfunction]
pub(crate) fn audit_consistency(py: Python<'_>, entries: &str, old_size: u64) -> PyResult<String> {
    boundary(py, || {
        let entries = entries_of(entries)?;
        let p = py.detach(|| gov::prove_consistency(&entries, old_size)).map_err(failure)?;
        Ok(text(&p)?)
    })
}

/// `{"ok": true, ...}` or `{"ok": false, "reason"}` (the CLI's `audit
/// verify-proof`): never an error, a malformed document is a reason.
#[pyfunction]
pub(crate) fn audit_verify_proof(py: Python<'_>, proof: &str, checkpoint: &str) -> PyResult<String> {
    boundary(py, || {
        let (proof, checkpoint) = (parse(proof, "proof")?, parse(checkpoint, "checkpoint")?);
        let v = py.detach(|| audit::verify_proof(&proof, &checkpoint));
        Ok(text(&v.to_value())?)
    })
}

/// RFC 8785 bytes of a JSON value (one `LOG.jsonl` line, no newline);
/// `invalid_entry` when it has no canonical form (a float, ...).
#[pyfunction]
pub(crate) fn canonical_json<'py>(py: Python<'py>, value: &str) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = boundary(py, || {
        let v = parse(value, "entry")?;
        eucora_license_core::canonical_bytes(&v)
            .map_err(|e| Raise::from(failure(gov::Error::new(gov::error::codes::INVALID_ENTRY, e.message().to_string()))))
    })?;
    Ok(PyBytes::new(py, &bytes))
}
