//! Proposals and approvals (DESIGN D2, D6): nothing an agent or a person
//! proposes is final until a quorum of humans holding an approver role —
//! never the proposer, nor the user an agent proposed for — approves it
//! under the policy in force when it was made, before it expires, and it is
//! applied once.

use crate::actor::Actor;
use crate::authorize::authorize;
use crate::error::{codes, Error, Result};
use crate::policy::Policy;
use eucora_license_core::{canonical_bytes, tagged_hash, ApprovalDecision, ApprovalRefusal, Domain, Instant, ProposalKind, ProposalState};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// A proposal: `{proposal_id, kind, payload, payload_hash, proposer,
/// created_at, expires_at, policy_hash, correlation_id, evidence}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// hash(`eucora.proposal.v1`, canonical {kind, payload_hash, proposer, created_at}).
    pub proposal_id: String,
    /// What kind of change.
    pub kind: ProposalKind,
    /// The change itself (a JSON object).
    pub payload: Value,
    /// hash(`eucora.proposal.v1`, canonical payload) when proposed.
    pub payload_hash: String,
    /// Who proposed, as given.
    pub proposer: Actor,
    /// When (UTC).
    pub created_at: Instant,
    /// `created_at` + `expires_hours` × 3600 s.
    pub expires_at: Instant,
    /// The policy in force when proposed.
    pub policy_hash: String,
    /// The host's correlation id.
    pub correlation_id: Option<String>,
    /// Evidence references, as given.
    pub evidence: Vec<Value>,
}

/// An approval: `{proposal_id, payload_hash, approver, decision, at, comment?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The proposal approved (or rejected).
    pub proposal_id: String,
    /// The payload hash the approver saw.
    pub payload_hash: String,
    /// Who (built by the host from its own user directory).
    pub approver: Actor,
    /// For or against.
    pub decision: ApprovalDecision,
    /// When (the host's clock).
    pub at: Instant,
    /// Free text.
    pub comment: Option<String>,
}

/// One approval that does not count, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 0-based position in the approvals array.
    pub index: usize,
    /// The approver's user id (`None` for an agent, which has none).
    pub approver: Option<String>,
    /// The first failing check (D6 order).
    pub reason: ApprovalRefusal,
}

/// What `decide` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// The proposal's state.
    pub state: ProposalState,
    /// Ids of counted approvals and rejections, in array order.
    pub counted: Vec<String>,
    /// The approvals that do not count.
    pub refused: Vec<Refusal>,
}

/// The change `apply` returns: `{"kind", "proposal_id", "payload"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The proposal's kind.
    pub kind: ProposalKind,
    /// The proposal applied (the host records it in its applied set).
    pub proposal_id: String,
    /// The payload to write.
    pub payload: Value,
}

/// `sha256:` hash of a payload (`eucora.proposal.v1`, canonical JSON).
pub fn payload_hash(payload: &Value) -> Result<String> {
    if !payload.is_object() {
        return Err(Error::at(codes::INVALID_PAYLOAD, "$", "a payload is a JSON object"));
    }
    let bytes = canonical_bytes(payload).map_err(|e| Error::at(codes::INVALID_PAYLOAD, "$", e.message().to_string()))?;
    Ok(tagged_hash(Domain::Proposal, &bytes).to_prefixed())
}

fn proposal_id(kind: ProposalKind, payload_hash: &str, proposer: &Actor, created_at: Instant) -> Result<String> {
    let doc = json!({"kind": kind, "payload_hash": payload_hash, "proposer": proposer.to_value(), "created_at": created_at.to_string()});
    let bytes = canonical_bytes(&doc).map_err(|e| Error::new(codes::INVALID_PROPOSAL, e.message().to_string()))?;
    Ok(tagged_hash(Domain::Proposal, &bytes).to_prefixed())
}

fn expiry(created_at: Instant, hours: u64) -> Result<Instant> {
    i64::try_from(hours)
        .ok()
        .and_then(|h| h.checked_mul(3600))
        .and_then(|s| created_at.checked_plus_secs(s))
        .ok_or_else(|| Error::new(codes::INVALID_INSTANT, "expires_at is out of range"))
}

/// Make a proposal. Refused (the error's code is the D1 reason, e.g.
/// `role_lacks_action`) when the proposer may not take the kind's
/// `*.propose` action; `invalid_payload` when the payload is not a JSON
/// object of canonical values.
pub fn propose(
    kind: ProposalKind,
    payload: &Value,
    proposer: &Actor,
    created_at: Instant,
    policy: &Policy,
    correlation_id: Option<&str>,
    evidence: &[Value],
) -> Result<Proposal> {
    let d = authorize(proposer, kind.propose_action(), policy);
    if !d.allowed {
        return Err(Error::new(d.reason.name(), format!("the proposer may not take `{}`", kind.propose_action())));
    }
    let payload_hash = payload_hash(payload)?;
    let proposal_id = proposal_id(kind, &payload_hash, proposer, created_at)?;
    Ok(Proposal {
        proposal_id,
        kind,
        payload: payload.clone(),
        payload_hash,
        proposer: proposer.clone(),
        created_at,
        expires_at: expiry(created_at, policy.rule(kind).expires_hours)?,
        policy_hash: policy.hash_string(),
        correlation_id: correlation_id.map(str::to_string),
        evidence: evidence.to_vec(),
    })
}

/// The proposal's state under `policy` at `now`, and why each approval
/// that does not count does not (D6's order of checks). Fails with
/// `policy_mismatch` when `policy` is not the one the proposal was made
/// under. `expires_at` is recomputed from `created_at` and the policy, so
/// an edited `expires_at` extends nothing.
pub fn decide(proposal: &Proposal, approvals: &[Approval], now: Instant, policy: &Policy) -> Result<Decided> {
    if proposal.policy_hash != policy.hash_string() {
        return Err(Error::new(codes::POLICY_MISMATCH, "the policy given is not the one the proposal was made under"));
    }
    let rule = policy.rule(proposal.kind);
    let expires_at = expiry(proposal.created_at, rule.expires_hours)?;
    let current_hash = payload_hash(&proposal.payload)?;
    let responsible = proposal.proposer.responsible_users();
    let (mut counted, mut refused) = (Vec::new(), Vec::new());
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let (mut approves, mut rejected) = (0u64, false);
    for (index, a) in approvals.iter().enumerate() {
        let roles = a.approver.role_set();
        let id = a.approver.user_id();
        let reason = if a.proposal_id != proposal.proposal_id {
            Some(ApprovalRefusal::UnknownProposal)
        } else if a.payload_hash != current_hash {
            Some(ApprovalRefusal::PayloadChanged)
        } else if !a.approver.is_human() {
            Some(ApprovalRefusal::ApproverNotHuman)
        } else if policy.conflicting(&roles) {
            Some(ApprovalRefusal::ConflictingRoles)
        } else if !roles.iter().any(|r| rule.approver_roles.contains(r)) {
            Some(ApprovalRefusal::ApproverLacksRole)
        } else if id.is_some_and(|i| responsible.contains(i)) {
            Some(ApprovalRefusal::SelfApproval)
        } else if a.at >= expires_at {
            Some(ApprovalRefusal::ApprovalAfterExpiry)
        } else if a.at > now || a.at < proposal.created_at {
            Some(ApprovalRefusal::ApprovalOutOfTime)
        } else if id.is_some_and(|i| seen.contains(i)) {
            Some(ApprovalRefusal::DuplicateApprover)
        } else {
            None
        };
        match (reason, id) {
            (Some(reason), _) => refused.push(Refusal { index, approver: id.map(str::to_string), reason }),
            (None, Some(id)) => {
                seen.insert(id);
                counted.push(id.to_string());
                match a.decision {
                    ApprovalDecision::Approve => approves += 1,
                    ApprovalDecision::Reject => rejected = true,
                }
            }
            (None, None) => unreachable!("a counted approver is a user"),
        }
    }
    let state = if rejected {
        ProposalState::Rejected
    } else if approves >= rule.quorum {
        ProposalState::Approved
    } else if now >= expires_at {
        ProposalState::Expired
    } else {
        ProposalState::Pending
    };
    Ok(Decided { state, counted, refused })
}

/// The change to make, only when `decide` says `approved` and the proposal
/// is not among `applied` (the ids already applied). Precedence (D6):
/// `policy_mismatch` › `already_applied` › the state as the error's code.
pub fn apply(proposal: &Proposal, approvals: &[Approval], now: Instant, policy: &Policy, applied: &BTreeSet<String>) -> Result<Change> {
    if proposal.policy_hash != policy.hash_string() {
        return Err(Error::new(codes::POLICY_MISMATCH, "the policy given is not the one the proposal was made under"));
    }
    if applied.contains(&proposal.proposal_id) {
        return Err(Error::new(codes::ALREADY_APPLIED, "the proposal was applied before"));
    }
    let d = decide(proposal, approvals, now, policy)?;
    if d.state != ProposalState::Approved {
        return Err(Error::new(d.state.name(), format!("the proposal is {}", d.state)));
    }
    Ok(Change { kind: proposal.kind, proposal_id: proposal.proposal_id.clone(), payload: proposal.payload.clone() })
}

impl Proposal {
    /// The proposal as JSON (instants in UTC, A9 form).
    pub fn to_value(&self) -> Value {
        json!({
            "proposal_id": self.proposal_id,
            "kind": self.kind,
            "payload": self.payload,
            "payload_hash": self.payload_hash,
            "proposer": self.proposer.to_value(),
            "created_at": self.created_at.to_string(),
            "expires_at": self.expires_at.to_string(),
            "policy_hash": self.policy_hash,
            "correlation_id": self.correlation_id,
            "evidence": self.evidence,
        })
    }

    /// Parse a proposal document (`invalid_proposal`; the actor's own codes
    /// for a bad proposer).
    pub fn from_value(v: &Value) -> Result<Proposal> {
        const KEYS: [&str; 10] = [
            "proposal_id",
            "kind",
            "payload",
            "payload_hash",
            "proposer",
            "created_at",
            "expires_at",
            "policy_hash",
            "correlation_id",
            "evidence",
        ];
        let o = strict_object(v, &KEYS, &[], codes::INVALID_PROPOSAL)?;
        let bad = |k: &str, m: &str| Error::at(codes::INVALID_PROPOSAL, format!("$.{k}"), m.to_string());
        let string = |k: &str| o[k].as_str().map(str::to_string).ok_or_else(|| bad(k, "expected a string"));
        let kind = o["kind"].as_str().and_then(ProposalKind::from_name).ok_or_else(|| bad("kind", "expected a proposal kind"))?;
        if !o["payload"].is_object() {
            return Err(bad("payload", "expected an object"));
        }
        let instant = |k: &str| o[k].as_str().and_then(|s| Instant::parse(s).ok()).ok_or_else(|| bad(k, "expected an RFC 3339 instant"));
        let correlation_id = match &o["correlation_id"] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => return Err(bad("correlation_id", "expected a string or null")),
        };
        let Some(evidence) = o["evidence"].as_array() else { return Err(bad("evidence", "expected an array")) };
        Ok(Proposal {
            proposal_id: string("proposal_id")?,
            kind,
            payload: o["payload"].clone(),
            payload_hash: string("payload_hash")?,
            proposer: Actor::from_value(&o["proposer"]).map_err(|e| Error::at(codes::INVALID_PROPOSAL, "$.proposer", e.to_string()))?,
            created_at: instant("created_at")?,
            expires_at: instant("expires_at")?,
            policy_hash: string("policy_hash")?,
            correlation_id,
            evidence: evidence.clone(),
        })
    }
}

impl Approval {
    /// Parse one approval (`invalid_approval`, located at `$[index]`).
    pub fn from_value(v: &Value, index: usize) -> Result<Approval> {
        let at_path = |k: &str| format!("$[{index}].{k}");
        let o = strict_object(v, &["proposal_id", "payload_hash", "approver", "decision", "at"], &["comment"], codes::INVALID_APPROVAL)
            .map_err(|e| Error { path: Some(format!("$[{index}]{}", e.path.as_deref().unwrap_or("$").trim_start_matches('$'))), ..e })?;
        let bad = |k: &str, m: &str| Error::at(codes::INVALID_APPROVAL, at_path(k), m.to_string());
        let string = |k: &str| o[k].as_str().map(str::to_string).ok_or_else(|| bad(k, "expected a string"));
        let decision =
            o["decision"].as_str().and_then(ApprovalDecision::from_name).ok_or_else(|| bad("decision", "expected approve or reject"))?;
        let at = o["at"].as_str().and_then(|s| Instant::parse(s).ok()).ok_or_else(|| bad("at", "expected an RFC 3339 instant"))?;
        let comment = match o.get("comment") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("comment", "expected a string")),
        };
        let approver = Actor::from_value(&o["approver"]).map_err(|e| bad("approver", &e.to_string()))?;
        Ok(Approval { proposal_id: string("proposal_id")?, payload_hash: string("payload_hash")?, approver, decision, at, comment })
    }

    /// The approval as JSON.
    pub fn to_value(&self) -> Value {
        let mut v = json!({
            "proposal_id": self.proposal_id,
            "payload_hash": self.payload_hash,
            "approver": self.approver.to_value(),
            "decision": self.decision,
            "at": self.at.to_string(),
        });
        if let Some(c) = &self.comment {
            v["comment"] = Value::String(c.clone());
        }
        v
    }
}

impl Decided {
    /// `{"state", "counted", "refused": [{"index", "approver", "reason"}]}`.
    pub fn to_value(&self) -> Value {
        let refused: Vec<Value> =
            self.refused.iter().map(|r| json!({"index": r.index, "approver": r.approver, "reason": r.reason})).collect();
        json!({"state": self.state, "counted": self.counted, "refused": refused})
    }
}

impl Change {
    /// `{"change": {"kind", "proposal_id", "payload"}}`.
    pub fn to_value(&self) -> Value {
        json!({"change": {"kind": self.kind, "proposal_id": self.proposal_id, "payload": self.payload}})
    }
}

fn strict_object<'a>(v: &'a Value, required: &[&str], optional: &[&str], code: &'static str) -> Result<&'a Map<String, Value>> {
    let Some(o) = v.as_object() else { return Err(Error::at(code, "$", "expected a JSON object")) };
    if let Some(k) = required.iter().find(|k| !o.contains_key(**k)) {
        return Err(Error::at(code, format!("$.{k}"), format!("required key `{k}` is missing")));
    }
    if let Some(k) = o.keys().find(|k| !required.contains(&k.as_str()) && !optional.contains(&k.as_str())) {
        let shown = if eucora_license_core::internal::error::is_displayable_name(k) { format!(" `{k}`") } else { String::new() };
        return Err(Error::at(code, "$", format!("unknown key{shown}")));
    }
    Ok(o)
}

fn instant(s: &str, what: &str) -> Result<Instant> {
    Instant::parse(s).map_err(|_| Error::new(codes::INVALID_INSTANT, format!("{what} is not an RFC 3339 instant with an offset")))
}

/// [`propose`] over JSON: `kind` and `at` as text.
pub fn propose_json(
    kind: &str,
    payload: &Value,
    proposer: &Value,
    at: &str,
    policy: &Policy,
    correlation_id: Option<&str>,
    evidence: &Value,
) -> Result<Proposal> {
    let proposer = Actor::from_value(proposer)?;
    let kind = ProposalKind::from_name(kind).ok_or_else(|| Error::new(codes::UNKNOWN_KIND, "unknown proposal kind"))?;
    let created_at = instant(at, "--at")?;
    let Some(evidence) = evidence.as_array() else { return Err(Error::new(codes::INVALID_PROPOSAL, "evidence is a JSON array")) };
    propose(kind, payload, &proposer, created_at, policy, correlation_id, evidence)
}

fn approvals_of(v: &Value) -> Result<Vec<Approval>> {
    let Some(items) = v.as_array() else { return Err(Error::at(codes::INVALID_APPROVAL, "$", "approvals are a JSON array")) };
    items.iter().enumerate().map(|(i, a)| Approval::from_value(a, i)).collect()
}

/// [`decide`] over JSON. Errors in order: `invalid_proposal`,
/// `invalid_instant`, `policy_mismatch`, `invalid_approval`.
pub fn decide_json(proposal: &Value, approvals: &Value, now: &str, policy: &Policy) -> Result<Decided> {
    let p = Proposal::from_value(proposal)?;
    let now = instant(now, "now")?;
    if p.policy_hash != policy.hash_string() {
        return Err(Error::new(codes::POLICY_MISMATCH, "the policy given is not the one the proposal was made under"));
    }
    decide(&p, &approvals_of(approvals)?, now, policy)
}

/// [`apply`] over JSON (`applied`: an array of proposal ids). Errors in
/// order: `invalid_proposal`, `invalid_instant`, `policy_mismatch`,
/// `already_applied`, `invalid_approval`, the state.
pub fn apply_json(proposal: &Value, approvals: &Value, now: &str, policy: &Policy, applied: &Value) -> Result<Change> {
    let p = Proposal::from_value(proposal)?;
    let now = instant(now, "now")?;
    let Some(ids) = applied.as_array() else {
        return Err(Error::new(codes::INVALID_PROPOSAL, "the applied ids are a JSON array of strings"));
    };
    let Some(ids) = ids.iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<BTreeSet<String>>>() else {
        return Err(Error::new(codes::INVALID_PROPOSAL, "the applied ids are a JSON array of strings"));
    };
    if p.policy_hash != policy.hash_string() {
        return Err(Error::new(codes::POLICY_MISMATCH, "the policy given is not the one the proposal was made under"));
    }
    if ids.contains(&p.proposal_id) {
        return Err(Error::new(codes::ALREADY_APPLIED, "the proposal was applied before"));
    }
    apply(&p, &approvals_of(approvals)?, now, policy, &ids)
}
