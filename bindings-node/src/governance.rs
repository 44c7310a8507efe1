//! Governance (DESIGN Part D): `authorize` (D1), `propose`, `decide`,
//! `apply`, `payloadHash` (D2) and the audit chain with its RFC 9162 proofs
//! (D3): `auditAppend`, `auditVerify`, `auditCheckpoint`, `auditProve`,
//! `auditConsistency`, `auditVerifyProof`.
//!
//! Each returns the document the CLI prints (D5), built by the same
//! function of `eucora-license-governance`, so the results are equal as
//! JSON values; the one difference is `authorize`, which returns D1's whole
//! decision (`actor` included, as the golden vectors hold it). Keys stay
//! snake_case as in the engine's JSON. Contract errors throw with the
//! governance code as `.code` and `.path` (a JSON path) when known.

use crate::boundary::{guard, Failure, NResult};
use crate::convert::{binary, json_arg, option, string_arg, type_name};
use eucora_license_core::internal::canonical::parse_strict;
use eucora_license_governance::{self as gov, audit, Checkpoint, Policy};
use napi::bindgen_prelude::*;
use napi::{Env, ValueType};
use napi_derive::napi;
use serde_json::{json, Value};

/// A JSON argument (text, Buffer or a plain object/array) as a value,
/// parsed strictly (a repeated key is refused, as the CLI refuses it).
pub(crate) fn json_value(env: &Env, v: &Unknown<'_>, what: &str) -> NResult<Value> {
    let bytes = json_arg(env, v, what)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Failure::arg(format!("`{what}` is not UTF-8")))?;
    parse_strict(text).map_err(|e| Failure::arg(format!("`{what}` is not JSON: {e}")))
}

/// `options.policy` as a governance policy; absent is the shipped default
/// (`rulesets/default/policy-v1.json`). A bad one throws `invalid_policy`.
fn policy_option(env: &Env, options: Option<&Unknown<'_>>) -> NResult<Policy> {
    match option(options, "policy")? {
        Some(v) => Ok(Policy::from_slice(&json_arg(env, &v, "policy")?)?),
        None => Ok(Policy::default_policy()),
    }
}

fn text_option(options: Option<&Unknown<'_>>, key: &str) -> NResult<Option<String>> {
    option(options, key)?.map(|v| string_arg(&v, key)).transpose()
}

/// One log line as the CLI reads it: a line that is not JSON stays in place
/// as `null`, so `auditVerify` names it by position.
fn line_entry(line: &str) -> Value {
    parse_strict(line).unwrap_or(Value::Null)
}

/// A log: JSONL text or bytes (split on `\n` only, blank lines ignored:
/// DESIGN D6), or an array of entries (objects, or lines as strings).
pub(crate) fn log_arg(env: &Env, v: &Unknown<'_>) -> NResult<Vec<Value>> {
    let from_text = |b: &[u8]| -> NResult<Vec<Value>> {
        let text = std::str::from_utf8(b).map_err(|_| Failure::arg("the log is not UTF-8"))?;
        Ok(text.split('\n').filter(|l| !l.trim().is_empty()).map(line_entry).collect())
    };
    if let Some(b) = binary(v)? {
        return from_text(&b);
    }
    match v.get_type()? {
        ValueType::String => from_text(string_arg(v, "log")?.as_bytes()),
        ValueType::Object if v.is_array()? => {
            // SAFETY: the type was checked.
            let arr: Array = unsafe { v.cast() }?;
            let mut out = Vec::with_capacity(arr.len() as usize);
            for i in 0..arr.len() {
                let item: Unknown = arr.get(i)?.ok_or_else(|| Failure::arg("the log array has a hole"))?;
                out.push(match item.get_type()? {
                    ValueType::String => line_entry(&string_arg(&item, "log entry")?),
                    ValueType::Object => json_value(env, &item, &format!("log[{i}]"))?,
                    // Anything else is an entry that does not verify, named by position.
                    _ => Value::Null,
                });
            }
            Ok(out)
        }
        _ => Err(Failure::arg(format!("the log must be JSONL text, a Buffer or an array of entries, got {}", type_name(v)))),
    }
}

/// A non-negative integer argument (`seq`, `oldSize`).
fn count_arg(v: &Unknown<'_>, what: &str) -> NResult<u64> {
    if v.get_type()? != ValueType::Number {
        return Err(Failure::arg(format!("`{what}` must be a number, got {}", type_name(v))));
    }
    // SAFETY: the type was checked.
    let n: f64 = unsafe { v.cast() }?;
    if n.fract() != 0.0 || !n.is_finite() || !(0.0..=9_007_199_254_740_991.0).contains(&n) {
        return Err(Failure::arg(format!("`{what}` must be a non-negative integer")));
    }
    Ok(n as u64)
}

/// Whether `actor` may take `action` under the policy (DESIGN D1): the
/// decision `{allowed, action, actor, reason}`. A "no" is a decision, not
/// an error; an unknown role, action or agent throws (`unknown_role`,
/// `unknown_action`, `unknown_agent`), as does a malformed actor
/// (`invalid_actor`) or policy (`invalid_policy`).
#[napi(
    catch_unwind,
    ts_args_type = "actor: Actor | string, action: string, options?: GovernanceOptions",
    ts_return_type = "AuthorizeDecision"
)]
pub fn authorize(env: Env, actor: Unknown<'_>, action: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    guard(&env, || {
        let actor = json_value(&env, &actor, "actor")?;
        let action = string_arg(&action, "action")?;
        let policy = policy_option(&env, options.as_ref())?;
        Ok(gov::authorize_json(&actor, &action, &policy)?.to_value())
    })
}

/// Make a proposal (DESIGN D2, D6): its `payload_hash`, `proposal_id`,
/// `expires_at` and `policy_hash` bound now. A proposer without the kind's
/// `*.propose` action is refused with the D1 reason as `.code`
/// (`role_lacks_action`, ...).
#[napi(
    catch_unwind,
    ts_args_type = "kind: string, payload: object | string, proposer: Actor | string, at: string, options?: ProposeOptions",
    ts_return_type = "Proposal"
)]
pub fn propose(
    env: Env,
    kind: Unknown<'_>,
    payload: Unknown<'_>,
    proposer: Unknown<'_>,
    at: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Value> {
    guard(&env, || {
        let kind = string_arg(&kind, "kind")?;
        let payload = json_value(&env, &payload, "payload")?;
        let proposer = json_value(&env, &proposer, "proposer")?;
        let at = string_arg(&at, "at")?;
        let policy = policy_option(&env, options.as_ref())?;
        let correlation = text_option(options.as_ref(), "correlationId")?;
        let evidence = match option(options.as_ref(), "evidence")? {
            Some(v) => json_value(&env, &v, "evidence")?,
            None => json!([]),
        };
        Ok(gov::propose_json(&kind, &payload, &proposer, &at, &policy, correlation.as_deref(), &evidence)?.to_value())
    })
}

/// The state of a proposal at `now` (DESIGN D2, D6): `{state, counted,
/// refused: [{index, approver, reason}]}`. Throws `policy_mismatch` when the
/// policy is not the one the proposal was made under, `invalid_proposal`,
/// `invalid_approval`, `invalid_instant`.
#[napi(
    catch_unwind,
    ts_args_type = "proposal: Proposal | string, approvals: Approval[] | string, now: string, options?: GovernanceOptions",
    ts_return_type = "Decided"
)]
pub fn decide(
    env: Env,
    proposal: Unknown<'_>,
    approvals: Unknown<'_>,
    now: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Value> {
    guard(&env, || {
        let proposal = json_value(&env, &proposal, "proposal")?;
        let approvals = json_value(&env, &approvals, "approvals")?;
        let now = string_arg(&now, "now")?;
        let policy = policy_option(&env, options.as_ref())?;
        Ok(gov::decide_json(&proposal, &approvals, &now, &policy)?.to_value())
    })
}

/// The change an approved proposal makes (DESIGN D2, D6): `{change: {kind,
/// proposal_id, payload}}`. Throws `policy_mismatch` › `already_applied`
/// (`options.applied`: the ids applied before) › the state (`pending`,
/// `rejected`, `expired`) as `.code`.
#[napi(
    catch_unwind,
    ts_args_type = "proposal: Proposal | string, approvals: Approval[] | string, now: string, options?: ApplyOptions",
    ts_return_type = "{ change: Change }"
)]
pub fn apply(
    env: Env,
    proposal: Unknown<'_>,
    approvals: Unknown<'_>,
    now: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Value> {
    guard(&env, || {
        let proposal = json_value(&env, &proposal, "proposal")?;
        let approvals = json_value(&env, &approvals, "approvals")?;
        let now = string_arg(&now, "now")?;
        let policy = policy_option(&env, options.as_ref())?;
        let applied = match option(options.as_ref(), "applied")? {
            Some(v) => json_value(&env, &v, "applied")?,
            None => json!([]),
        };
        Ok(gov::apply_json(&proposal, &approvals, &now, &policy, &applied)?.to_value())
    })
}

/// `'sha256:…'`: the `eucora.proposal.v1` hash of a payload (an object),
/// what an approval's `payload_hash` must equal.
#[napi(catch_unwind, ts_args_type = "payload: object | string")]
pub fn payload_hash(env: Env, payload: Unknown<'_>) -> napi::Result<String> {
    guard(&env, || {
        let payload = json_value(&env, &payload, "payload")?;
        Ok(gov::proposal::payload_hash(&payload)?)
    })
}

/// The entry to append after `head` (the log's last entry, `null` for an
/// empty log), with `seq`, `prev_hash` and `entry_hash` filled in and `at`
/// in UTC (DESIGN D3, D6). The host writes it as one canonical line
/// (`canonicalize`). Throws `invalid_entry` (a details key that looks like
/// a secret included).
#[napi(catch_unwind, ts_args_type = "head: AuditEntry | string | null | undefined, entry: object | string", ts_return_type = "AuditEntry")]
pub fn audit_append(env: Env, head: Option<Unknown<'_>>, entry: Unknown<'_>) -> napi::Result<Value> {
    guard(&env, || {
        let head = match head.filter(|h| !matches!(h.get_type(), Ok(ValueType::Undefined | ValueType::Null))) {
            Some(h) => Some(json_value(&env, &h, "head")?),
            None => None,
        };
        let entry = json_value(&env, &entry, "entry")?;
        Ok(audit::append(head.as_ref(), &entry)?)
    })
}

/// Verify an audit log (DESIGN D3, D6): `{ok, size, failure: null | {code,
/// seq}}` naming the first bad entry (`entry_hash_mismatch`, `seq_gap`,
/// `prev_hash_mismatch`) or `checkpoint_mismatch` against a checkpoint kept
/// outside the log. Never throws for a bad log; a malformed checkpoint
/// throws `invalid_checkpoint`.
#[napi(catch_unwind, ts_args_type = "log: AuditLog, checkpoint?: Checkpoint | string | null", ts_return_type = "LogReport")]
pub fn audit_verify(env: Env, log: Unknown<'_>, checkpoint: Option<Unknown<'_>>) -> napi::Result<Value> {
    guard(&env, || {
        let entries = log_arg(&env, &log)?;
        let cp = match checkpoint.filter(|c| !matches!(c.get_type(), Ok(ValueType::Undefined | ValueType::Null))) {
            Some(c) => Some(Checkpoint::from_value(&json_value(&env, &c, "checkpoint")?)?),
            None => None,
        };
        Ok(audit::verify_log(&entries, cp.as_ref()).to_value())
    })
}

/// The checkpoint `{size, root, head_hash}` of a log that verifies (its
/// first failure's code is thrown otherwise, e.g. `prev_hash_mismatch`).
#[napi(catch_unwind, ts_args_type = "log: AuditLog", ts_return_type = "Checkpoint")]
pub fn audit_checkpoint(env: Env, log: Unknown<'_>) -> napi::Result<Value> {
    guard(&env, || Ok(audit::checkpoint(&log_arg(&env, &log)?)?.to_value()))
}

/// The RFC 9162 inclusion proof of entry `seq` (1-based): `{kind:
/// "inclusion", seq, tree_size, entry_hash, path}`; `out_of_range` outside
/// `1..size`.
#[napi(catch_unwind, ts_args_type = "log: AuditLog, seq: number", ts_return_type = "InclusionProof")]
pub fn audit_prove(env: Env, log: Unknown<'_>, seq: Unknown<'_>) -> napi::Result<Value> {
    guard(&env, || {
        let seq = count_arg(&seq, "seq")?;
        Ok(audit::prove_entry(&log_arg(&env, &log)?, seq)?)
    })
}

/// The RFC 9162 consistency proof from the log's first `oldSize` entries to
/// all of it: `{kind: "consistency", old_size, new_size, new_root, path}`;
/// `out_of_range` from 0 or past the log's size.
#[napi(catch_unwind, ts_args_type = "log: AuditLog, oldSize: number", ts_return_type = "ConsistencyProof")]
pub fn audit_consistency(env: Env, log: Unknown<'_>, old_size: Unknown<'_>) -> napi::Result<Value> {
    guard(&env, || {
        let old = count_arg(&old_size, "oldSize")?;
        Ok(audit::prove_consistency(&log_arg(&env, &log)?, old)?)
    })
}

/// Verify a proof with nothing but the proof and a checkpoint: for an
/// inclusion proof the checkpoint of its tree, for a consistency proof the
/// *old* checkpoint the auditor holds. `{ok: true, kind, ...}` or `{ok:
/// false, reason}` (`malformed_proof`, `malformed_checkpoint`,
/// `size_mismatch`, `out_of_range`, `root_mismatch`, `inconsistent`);
/// never throws for a bad proof (text that is not JSON is malformed).
#[napi(
    catch_unwind,
    ts_args_type = "proof: InclusionProof | ConsistencyProof | string, checkpoint: Checkpoint | string",
    ts_return_type = "ProofVerdict"
)]
pub fn audit_verify_proof(env: Env, proof: Unknown<'_>, checkpoint: Unknown<'_>) -> napi::Result<Value> {
    guard(&env, || {
        let lenient = |v: &Unknown<'_>, what: &str| -> NResult<Value> {
            match json_value(&env, v, what) {
                Ok(v) => Ok(v),
                // Text that is not JSON is a malformed document, a verdict.
                Err(_) if matches!(v.get_type()?, ValueType::String) || binary(v)?.is_some() => Ok(Value::Null),
                Err(e) => Err(e),
            }
        };
        let proof = lenient(&proof, "proof")?;
        let cp = lenient(&checkpoint, "checkpoint")?;
        Ok(audit::verify_proof(&proof, &cp).to_value())
    })
}
