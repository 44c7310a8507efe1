//! Governance golden vectors (`fixtures/golden/<kind>-<what>/`, format in
//! fixtures/golden/README.md): kinds `authorize`, `decide`, `apply`,
//! `audit-verify`, `audit-prove` and `audit-proof`. Python, Node and C
//! iterate the same directories (each the kinds it has).
//!
//! The cases are written by [`specs`] below, each with an *intent*: the part
//! of the answer DESIGN D1–D6 dictates (a reason code, a state, the refused
//! reasons, a failure and its position), checked against `expected.json` on
//! every run, so a blessed file can never quietly hold the wrong answer.
//! `EUCORA_GOLDEN_BLESS=1 cargo test -p eucora-license-governance --test
//! golden` rewrites the governance case directories (inputs and expected
//! results) from the specs; review the diff before committing it.

use eucora_license_core::{ApprovalRefusal, AuditFailure, AuthorizeReason, Instant, ProposalKind, ProposalState};
use eucora_license_governance::policy::default_document;
use eucora_license_governance::{
    apply_json, audit, authorize_json, decide_json, parse_log, propose, verify_log, verify_proof, Actor, Checkpoint, Policy,
};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The kinds this file owns (the core, Node and C skip those they lack).
const KINDS: [&str; 6] = ["authorize", "decide", "apply", "audit-verify", "audit-prove", "audit-proof"];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/golden")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ------------------------------------------------------------------ observing

fn policy_of(case: &Value) -> Policy {
    match case.get("policy") {
        Some(p) => Policy::from_value(p).expect("the case's inline policy is valid"),
        None => Policy::default_policy(),
    }
}

fn error(e: eucora_license_governance::Error) -> Value {
    json!({"error": {"code": e.code}})
}

fn log_of(dir: &Path) -> Vec<Value> {
    parse_log(&std::fs::read(dir.join("log.jsonl")).unwrap_or_else(|e| panic!("{}: log.jsonl: {e}", dir.display())))
}

/// What a case produces, in the shape of its `expected.json`.
fn observe(dir: &Path, case: &Value) -> Value {
    match case["kind"].as_str().unwrap() {
        "authorize" => match authorize_json(&case["actor"], case["action"].as_str().unwrap(), &policy_of(case)) {
            Ok(d) => d.to_value(),
            Err(e) => error(e),
        },
        "decide" => match decide_json(&case["proposal"], &case["approvals"], case["now"].as_str().unwrap(), &policy_of(case)) {
            Ok(d) => d.to_value(),
            Err(e) => error(e),
        },
        "apply" => {
            match apply_json(&case["proposal"], &case["approvals"], case["now"].as_str().unwrap(), &policy_of(case), &case["applied"]) {
                Ok(c) => c.to_value(),
                Err(e) => error(e),
            }
        }
        "audit-verify" => {
            let cp = case.get("checkpoint").map(|c| Checkpoint::from_value(c).expect("the case's checkpoint is well-formed"));
            verify_log(&log_of(dir), cp.as_ref()).to_value()
        }
        "audit-prove" => {
            let entries = log_of(dir);
            let proof = match (case.get("seq"), case.get("old_size")) {
                (Some(s), None) => audit::prove_entry(&entries, s.as_u64().unwrap()),
                (None, Some(n)) => audit::prove_consistency(&entries, n.as_u64().unwrap()),
                _ => panic!("{}: audit-prove needs exactly one of seq and old_size", dir.display()),
            };
            match (proof, audit::checkpoint(&entries)) {
                (Ok(p), Ok(c)) => json!({"proof": p, "checkpoint": c.to_value()}),
                (Err(e), _) | (_, Err(e)) => error(e),
            }
        }
        "audit-proof" => verify_proof(&case["proof"], &case["checkpoint"]).to_value(),
        other => panic!("{}: not a governance kind: {other}", dir.display()),
    }
}

/// `want` is part of `got`: every member of an object `want` is in `got`
/// and matches; anything else is equal.
fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => w.iter().all(|(k, v)| g.get(k).is_some_and(|x| contains(x, v))),
        _ => got == want,
    }
}

// ------------------------------------------------------------------ the cases

struct Spec {
    name: String,
    case: Value,
    log: Option<Vec<u8>>,
    /// The part of the answer D1–D6 dictate.
    intent: Value,
}

fn case(kind: &str, what: &str, description: &str, covers: &[&str], params: Value, intent: Value) -> Spec {
    let mut c = Map::new();
    c.insert("kind".into(), json!(kind));
    c.insert("description".into(), json!(description));
    c.insert("covers".into(), json!(covers));
    for (k, v) in params.as_object().unwrap() {
        c.insert(k.clone(), v.clone());
    }
    Spec { name: format!("{kind}-{what}"), case: Value::Object(c), log: None, intent }
}

fn with_log(mut s: Spec, log: &[u8]) -> Spec {
    s.log = Some(log.to_vec());
    s
}

fn user(id: &str, roles: &[&str]) -> Value {
    json!({"type": "user", "id": id, "roles": roles})
}

fn agent(name: &str, on_behalf_of: Value) -> Value {
    json!({"type": "agent", "agent": name, "on_behalf_of": on_behalf_of})
}

fn t(s: &str) -> Instant {
    Instant::parse(s).unwrap()
}

/// The default policy with `agent_operator` stripped of `mapping.propose`.
fn policy_operator_without_mapping() -> Value {
    let mut p = default_document();
    let list = p["access"]["roles"]["agent_operator"].as_array_mut().unwrap();
    list.retain(|a| a != "mapping.propose");
    p["id"] = json!("golden-operator-without-mapping");
    p
}

/// The default policy listing `recommendation.approve` for the advisor agent
/// (accepted, never honoured: D6).
fn policy_agent_lists_approve() -> Value {
    let mut p = default_document();
    p["agents"]["optimization_advisor"] = json!(["recommendation.propose", "recommendation.approve"]);
    p["id"] = json!("golden-agent-lists-approve");
    p
}

/// The default policy with quorum 2 for `entitlement.create`.
fn policy_quorum_two() -> Value {
    let mut p = default_document();
    p["approvals"]["entitlement.create"]["quorum"] = json!(2);
    p["id"] = json!("golden-quorum-two");
    p
}

fn authorize_specs() -> Vec<Spec> {
    let admin = user("alice", &["license_admin"]);
    let operator = user("opal", &["agent_operator"]);
    let ops = user("oscar", &["ops_manager"]);
    let conflicted = user("cora", &["license_admin", "license_auditor"]);
    let a = |what: &str, d: &str, covers: &[&str], actor: &Value, action: &str, policy: Option<Value>, intent: Value| {
        let mut params = json!({"actor": actor, "action": action});
        if let Some(p) = policy {
            params["policy"] = p;
        }
        case("authorize", what, d, covers, params, intent)
    };
    let allowed = json!({"allowed": true, "reason": "allowed"});
    let no = |r: &str| json!({"allowed": false, "reason": r});
    let err = |c: &str| json!({"error": {"code": c}});
    vec![
        a("admin-catalog-write", "A license_admin may write the catalog: the default policy lists catalog.write for the role (D1 table).",
          &["d1:allowed", "d1:user"], &admin, "catalog.write", None, allowed.clone()),
        a("auditor-evidence-export", "A license_auditor may export evidence (D1 table).",
          &["d1:allowed", "d1:user"], &user("aud", &["license_auditor"]), "evidence.export", None, allowed.clone()),
        a("viewer-import-upload", "A viewer holds only view.sidebar and view.dashboard, so import.upload is role_lacks_action.",
          &["d1:role_lacks_action"], &user("vic", &["viewer"]), "import.upload", None, no("role_lacks_action")),
        a("no-roles-deny-by-default", "A user with no roles is refused even a view: deny by default (D1), role_lacks_action.",
          &["d1:role_lacks_action", "d1:deny_by_default"], &user("nobody", &[]), "view.sidebar", None, no("role_lacks_action")),
        a("ops-manager-cannot-propose", "An ops_manager approves but does not propose: entitlement.propose is role_lacks_action.",
          &["d1:role_lacks_action"], &ops, "entitlement.propose", None, no("role_lacks_action")),
        a("admin-cannot-approve", "A license_admin proposes but never approves: entitlement.approve is role_lacks_action (four eyes).",
          &["d1:role_lacks_action"], &admin, "entitlement.approve", None, no("role_lacks_action")),
        a("conflicting-roles", "license_admin with license_auditor is the default exclusive pair: refused every action, even view.sidebar which both roles hold; conflicting_roles precedes role_lacks_action (D6).",
          &["d1:conflicting_roles"], &conflicted, "view.sidebar", None, no("conflicting_roles")),
        a("agent-allowed", "truth_builder may reconcile.run, and its delegator (agent_operator) holds reconcile.run and agent.run: allowed.",
          &["d1:allowed", "d1:agent"], &agent("truth_builder", operator.clone()), "reconcile.run", None, allowed.clone()),
        a("agent-not-permitted", "anomaly_detector's list is view.alerts only; reconcile.run is agent_not_permitted although the delegator holds it.",
          &["d1:agent_not_permitted"], &agent("anomaly_detector", operator.clone()), "reconcile.run", None, no("agent_not_permitted")),
        a("agent-not-permitted-before-conflict", "Agent precedence (D6): agent_not_permitted comes before the delegator's conflicting_roles.",
          &["d1:agent_not_permitted", "d1:precedence"], &agent("anomaly_detector", user("cora", &["agent_operator", "license_admin", "license_auditor"])), "reconcile.run", None, no("agent_not_permitted")),
        a("agent-delegator-conflicting-roles", "The delegator holds the exclusive pair: the agent is refused with conflicting_roles (the delegator's roles, D6).",
          &["d1:conflicting_roles", "d1:agent"], &agent("truth_builder", user("cora", &["agent_operator", "license_admin", "license_auditor"])), "reconcile.run", None, no("conflicting_roles")),
        a("delegator-lacks-agent-run", "inventory_extractor may entitlement.propose and so may its delegator (license_admin), but the delegator lacks agent.run: delegator_lacks_action.",
          &["d1:delegator_lacks_action"], &agent("inventory_extractor", admin.clone()), "entitlement.propose", None, no("delegator_lacks_action")),
        a("delegator-lacks-action-inline-policy", "Under an inline policy where agent_operator lacks mapping.propose, consumption_discovery (which lists it) acting for an agent_operator is delegator_lacks_action: the effective actions are the intersection.",
          &["d1:delegator_lacks_action", "d1:inline_policy"], &agent("consumption_discovery", operator.clone()), "mapping.propose", Some(policy_operator_without_mapping()), no("delegator_lacks_action")),
        a("agent-approve-needs-human", "An agent never holds an *.approve action, even for an ops_manager: approval_needs_human.",
          &["d1:approval_needs_human"], &agent("optimization_advisor", ops.clone()), "recommendation.approve", None, no("approval_needs_human")),
        a("agent-approve-listed-in-policy", "An inline policy lists recommendation.approve for optimization_advisor: accepted and never honoured (D6), still approval_needs_human.",
          &["d1:approval_needs_human", "d1:inline_policy", "d1:fixed_rules"], &agent("optimization_advisor", ops.clone()), "recommendation.approve", Some(policy_agent_lists_approve()), no("approval_needs_human")),
        a("agent-chain", "An agent on behalf of another agent is agent_chain, whatever the inner delegator holds.",
          &["d1:agent_chain"], &agent("truth_builder", agent("truth_builder", operator.clone())), "reconcile.run", None, no("agent_chain")),
        a("agent-chain-approve", "Agent precedence (D6): approval_needs_human comes before agent_chain.",
          &["d1:approval_needs_human", "d1:precedence"], &agent("truth_builder", agent("truth_builder", ops.clone())), "entitlement.approve", None, no("approval_needs_human")),
        a("error-unknown-role", "A role D1 does not define is an error (unknown_role), never a decision.",
          &["d1:error", "d1:unknown_role"], &user("eve", &["superuser"]), "view.sidebar", None, err("unknown_role")),
        a("error-unknown-action", "An action outside D1's closed list is an error (unknown_action), never a no.",
          &["d1:error", "d1:unknown_action"], &admin, "entitlement.delete", None, err("unknown_action")),
        a("error-unknown-agent", "An agent D4 does not define is an error (unknown_agent).",
          &["d1:error", "d1:unknown_agent"], &agent("root_agent", operator.clone()), "reconcile.run", None, err("unknown_agent")),
        a("error-unknown-action-before-agent", "Both an unknown agent and an unknown action: unknown_action is reported first (D6 order unknown_role, unknown_action, unknown_agent).",
          &["d1:error", "d1:unknown_action", "d1:precedence"], &agent("root_agent", operator), "x.y", None, err("unknown_action")),
    ]
}

const CREATED: &str = "2026-11-01T09:00:00Z";
const EXPIRES: &str = "2026-11-08T09:00:00Z";

fn entitlement_row() -> Value {
    json!({"entitlement_id": "ent-0042", "sku": "VISIO-P2", "quantity": 25, "unit_cost": "15.00", "starts_on": "2026-11-01", "ends_on": "2027-10-31", "pool": null})
}

fn make_proposal(kind: ProposalKind, payload: &Value, proposer: &Value, policy: &Policy) -> Value {
    propose(
        kind,
        payload,
        &Actor::from_value(proposer).unwrap(),
        t(CREATED),
        policy,
        Some("corr-golden-1"),
        &[json!({"type": "contract", "id": "doc-7"})],
    )
    .unwrap()
    .to_value()
}

fn approval(p: &Value, approver: &Value, decision: &str, at: &str) -> Value {
    json!({"proposal_id": p["proposal_id"], "payload_hash": p["payload_hash"], "approver": approver, "decision": decision, "at": at})
}

fn decide_specs() -> (Vec<Spec>, Vec<Spec>) {
    let default = Policy::default_policy();
    let q2_doc = policy_quorum_two();
    let q2 = Policy::from_value(&q2_doc).unwrap();
    let admin = user("alice", &["license_admin"]);
    let oscar = user("oscar", &["ops_manager"]);
    let olga = user("olga", &["ops_manager"]);
    let operator = user("opal", &["agent_operator", "ops_manager"]);
    let p = make_proposal(ProposalKind::EntitlementCreate, &entitlement_row(), &admin, &default);
    let p2 = make_proposal(ProposalKind::EntitlementCreate, &entitlement_row(), &admin, &q2);
    let self_prop =
        make_proposal(ProposalKind::EntitlementCreate, &entitlement_row(), &user("amy", &["license_admin", "ops_manager"]), &default);
    let by_agent =
        make_proposal(ProposalKind::EntitlementCreate, &entitlement_row(), &agent("inventory_extractor", operator.clone()), &default);
    let rec = make_proposal(ProposalKind::Recommendation, &json!({"recommendation_id": "rec-right-size-visio"}), &admin, &default);
    let other = make_proposal(ProposalKind::EntitlementUpdate, &entitlement_row(), &admin, &default);
    let mut edited = p.clone();
    edited["payload"]["quantity"] = json!(250);

    let d =
        |what: &str, desc: &str, covers: &[&str], prop: &Value, approvals: Vec<Value>, now: &str, policy: Option<&Value>, intent: Value| {
            let mut params = json!({"proposal": prop, "approvals": approvals, "now": now});
            if let Some(pd) = policy {
                params["policy"] = pd.clone();
            }
            case("decide", what, desc, covers, params, intent)
        };
    let refused = |list: &[(usize, Option<&str>, &str)]| -> Value {
        list.iter().map(|(i, a, r)| json!({"index": i, "approver": a, "reason": r})).collect()
    };
    let now = "2026-11-02T12:00:00Z";
    let decides = vec![
        d("pending-no-approvals", "No approvals, before expires_at (created 2026-11-01T09:00Z + 168 h): pending.",
          &["d2:pending"], &p, vec![], now, None, json!({"state": "pending", "counted": [], "refused": []})),
        d("approved", "One ops_manager approval (the default approver role, quorum 1) before expiry and before now: approved.",
          &["d2:approved"], &p, vec![approval(&p, &oscar, "approve", "2026-11-02T10:00:00Z")], now, None,
          json!({"state": "approved", "counted": ["oscar"], "refused": []})),
        d("rejected-after-quorum", "A counted reject makes the proposal rejected even after the quorum of approvals was reached (D6).",
          &["d2:rejected"], &p, vec![approval(&p, &oscar, "approve", "2026-11-02T10:00:00Z"), approval(&p, &olga, "reject", "2026-11-02T11:00:00Z")], now, None,
          json!({"state": "rejected", "counted": ["oscar", "olga"], "refused": []})),
        d("expired-at-boundary", "now equals expires_at (created_at + 168 h) with no counted approval: expired (now >= expires_at).",
          &["d2:expired", "d2:boundary"], &p, vec![], EXPIRES, None, json!({"state": "expired"})),
        d("pending-one-second-before-expiry", "One second before expires_at, without approvals: still pending.",
          &["d2:pending", "d2:boundary"], &p, vec![], "2026-11-08T08:59:59Z", None, json!({"state": "pending"})),
        d("approver-not-human", "An agent (even one acting for an ops_manager) is not a human: approver_not_human; no counted approval, pending.",
          &["d2:approver_not_human"], &p, vec![approval(&p, &agent("optimization_advisor", oscar.clone()), "approve", "2026-11-02T10:00:00Z")], now, None,
          json!({"state": "pending", "counted": [], "refused": refused(&[(0, None, "approver_not_human")])})),
        d("approver-lacks-role", "A viewer and a license_admin (not the proposer) hold no approver role (approver_roles ops_manager): approver_lacks_role.",
          &["d2:approver_lacks_role"], &p, vec![approval(&p, &user("vic", &["viewer"]), "approve", "2026-11-02T10:00:00Z"), approval(&p, &user("ada", &["license_admin"]), "approve", "2026-11-02T10:00:00Z")], now, None,
          json!({"state": "pending", "counted": [], "refused": refused(&[(0, Some("vic"), "approver_lacks_role"), (1, Some("ada"), "approver_lacks_role")])})),
        d("self-approval", "The proposer amy also holds ops_manager: her approval and her own reject are both self_approval (D6: also the proposer's own reject), so the state stays pending.",
          &["d2:self_approval"], &self_prop, vec![approval(&self_prop, &user("amy", &["license_admin", "ops_manager"]), "approve", "2026-11-02T10:00:00Z"), approval(&self_prop, &user("amy", &["license_admin", "ops_manager"]), "reject", "2026-11-02T10:30:00Z")], now, None,
          json!({"state": "pending", "counted": [], "refused": refused(&[(0, Some("amy"), "self_approval"), (1, Some("amy"), "self_approval")])})),
        d("self-approval-via-agent", "inventory_extractor proposed on behalf of opal; opal (also ops_manager) approving is self_approval; oscar's approval counts: approved.",
          &["d2:self_approval", "d2:agent_proposer", "d2:approved"], &by_agent, vec![approval(&by_agent, &operator, "approve", "2026-11-02T10:00:00Z"), approval(&by_agent, &oscar, "approve", "2026-11-02T11:00:00Z")], now, None,
          json!({"state": "approved", "counted": ["oscar"], "refused": refused(&[(0, Some("opal"), "self_approval")])})),
        d("payload-changed", "The proposal's payload was edited after submission (quantity 25 -> 250, payload_hash left as it was): the approval's payload_hash is not the hash of the payload as it is now (recomputed), payload_changed.",
          &["d2:payload_changed"], &edited, vec![approval(&p, &oscar, "approve", "2026-11-02T10:00:00Z")], now, None,
          json!({"state": "pending", "counted": [], "refused": refused(&[(0, Some("oscar"), "payload_changed")])})),
        d("approval-after-expiry", "The approval's at equals expires_at: approval_after_expiry (at >= expires_at); with no counted approval and now past expiry the state is expired.",
          &["d2:approval_after_expiry", "d2:expired"], &p, vec![approval(&p, &oscar, "approve", EXPIRES)], "2026-11-09T00:00:00Z", None,
          json!({"state": "expired", "counted": [], "refused": refused(&[(0, Some("oscar"), "approval_after_expiry")])})),
        d("approval-out-of-time", "One approval is after now (a future at), one before created_at: both approval_out_of_time; pending.",
          &["d2:approval_out_of_time"], &p, vec![approval(&p, &oscar, "approve", "2026-11-02T12:00:01Z"), approval(&p, &olga, "approve", "2026-11-01T08:59:59Z")], now, None,
          json!({"state": "pending", "counted": [], "refused": refused(&[(0, Some("oscar"), "approval_out_of_time"), (1, Some("olga"), "approval_out_of_time")])})),
        d("conflicting-roles", "The approver holds ops_manager but also the exclusive pair license_admin + license_auditor: conflicting_roles (checked before approver_lacks_role).",
          &["d2:conflicting_roles"], &p, vec![approval(&p, &user("cora", &["ops_manager", "license_admin", "license_auditor"]), "approve", "2026-11-02T10:00:00Z")], now, None,
          json!({"state": "pending", "counted": [], "refused": refused(&[(0, Some("cora"), "conflicting_roles")])})),
        d("unknown-proposal", "An approval naming another proposal is unknown_proposal, checked first: its payload hash is also another's.",
          &["d2:unknown_proposal"], &p, vec![approval(&other, &oscar, "approve", "2026-11-02T10:00:00Z")], now, None,
          json!({"state": "pending", "counted": [], "refused": refused(&[(0, Some("oscar"), "unknown_proposal")])})),
        d("refusal-precedence", "Each approval fails several checks; the first in D6's order is its reason: an agent with a stale payload hash is payload_changed (before approver_not_human); the proposer alice (license_admin only) is approver_lacks_role (before self_approval); a viewer after expiry is approver_lacks_role (before approval_after_expiry).",
          &["d2:precedence", "d2:payload_changed", "d2:approver_lacks_role"], &p,
          vec![
              json!({"proposal_id": p["proposal_id"], "payload_hash": format!("sha256:{}", "0".repeat(64)), "approver": agent("truth_builder", oscar.clone()), "decision": "approve", "at": "2026-11-02T10:00:00Z"}),
              approval(&p, &admin, "approve", "2026-11-02T10:00:00Z"),
              approval(&p, &user("vic", &["viewer"]), "approve", EXPIRES),
          ],
          "2026-11-09T00:00:00Z", None,
          json!({"state": "expired", "counted": [], "refused": refused(&[(0, None, "payload_changed"), (1, Some("alice"), "approver_lacks_role"), (2, Some("vic"), "approver_lacks_role")])})),
        d("recommendation-approved", "A recommendation proposal ({recommendation_id}) approved by an ops_manager.",
          &["d2:approved", "d2:kind_recommendation"], &rec, vec![approval(&rec, &oscar, "approve", "2026-11-02T10:00:00Z")], now, None,
          json!({"state": "approved", "counted": ["oscar"]})),
        d("quorum-two-pending", "Under an inline policy with quorum 2 for entitlement.create, one counted approval leaves the proposal pending.",
          &["d2:quorum", "d2:pending", "d2:inline_policy"], &p2, vec![approval(&p2, &oscar, "approve", "2026-11-02T10:00:00Z")], now, Some(&q2_doc),
          json!({"state": "pending", "counted": ["oscar"], "refused": []})),
        d("quorum-two-duplicate-approver", "Quorum 2: the same approver twice counts once; the second is duplicate_approver, pending.",
          &["d2:quorum", "d2:duplicate_approver"], &p2, vec![approval(&p2, &oscar, "approve", "2026-11-02T10:00:00Z"), approval(&p2, &oscar, "approve", "2026-11-02T11:00:00Z")], now, Some(&q2_doc),
          json!({"state": "pending", "counted": ["oscar"], "refused": refused(&[(1, Some("oscar"), "duplicate_approver")])})),
        d("quorum-two-approved", "Quorum 2: two distinct ops_managers approve: approved.",
          &["d2:quorum", "d2:approved"], &p2, vec![approval(&p2, &oscar, "approve", "2026-11-02T10:00:00Z"), approval(&p2, &olga, "approve", "2026-11-02T11:00:00Z")], now, Some(&q2_doc),
          json!({"state": "approved", "counted": ["oscar", "olga"], "refused": []})),
        d("policy-mismatch", "The proposal was made under the default policy; deciding it under the quorum-2 policy is policy_mismatch (an edited policy cannot approve a pending change).",
          &["d2:policy_mismatch", "d2:error"], &p, vec![approval(&p, &oscar, "approve", "2026-11-02T10:00:00Z")], now, Some(&q2_doc),
          json!({"error": {"code": "policy_mismatch"}})),
    ];

    let ap = |what: &str,
              desc: &str,
              covers: &[&str],
              prop: &Value,
              approvals: Vec<Value>,
              now: &str,
              applied: Vec<Value>,
              policy: Option<&Value>,
              intent: Value| {
        let mut params = json!({"proposal": prop, "approvals": approvals, "now": now, "applied": applied});
        if let Some(pd) = policy {
            params["policy"] = pd.clone();
        }
        case("apply", what, desc, covers, params, intent)
    };
    let ok_approval = approval(&p, &oscar, "approve", "2026-11-02T10:00:00Z");
    let applies = vec![
        ap(
            "change",
            "Approved: apply returns the change {kind, proposal_id, payload}, the entitlement row to write.",
            &["d2:apply", "d2:approved"],
            &p,
            vec![ok_approval.clone()],
            now,
            vec![],
            None,
            json!({"change": {"kind": "entitlement.create", "proposal_id": p["proposal_id"], "payload": entitlement_row()}}),
        ),
        ap(
            "recommendation-change",
            "An approved recommendation proposal applies as {recommendation_id}; another id in applied does not matter.",
            &["d2:apply", "d2:kind_recommendation"],
            &rec,
            vec![approval(&rec, &oscar, "approve", "2026-11-02T10:00:00Z")],
            now,
            vec![p["proposal_id"].clone()],
            None,
            json!({"change": {"kind": "recommendation", "proposal_id": rec["proposal_id"], "payload": {"recommendation_id": "rec-right-size-visio"}}}),
        ),
        ap(
            "already-applied",
            "Approved, but its id is among the applied ids: already_applied, never twice.",
            &["d2:already_applied", "d2:error"],
            &p,
            vec![ok_approval.clone()],
            now,
            vec![p["proposal_id"].clone()],
            None,
            json!({"error": {"code": "already_applied"}}),
        ),
        ap(
            "pending",
            "No approval yet: apply fails with the state, pending.",
            &["d2:apply_state", "d2:pending", "d2:error"],
            &p,
            vec![],
            now,
            vec![],
            None,
            json!({"error": {"code": "pending"}}),
        ),
        ap(
            "rejected",
            "A counted reject: apply fails with rejected.",
            &["d2:apply_state", "d2:rejected", "d2:error"],
            &p,
            vec![approval(&p, &olga, "reject", "2026-11-02T10:00:00Z")],
            now,
            vec![],
            None,
            json!({"error": {"code": "rejected"}}),
        ),
        ap(
            "expired",
            "Only an approval after expiry, now past expiry: apply fails with expired.",
            &["d2:apply_state", "d2:expired", "d2:error"],
            &p,
            vec![approval(&p, &oscar, "approve", "2026-11-08T09:00:01Z")],
            "2026-11-10T00:00:00Z",
            vec![],
            None,
            json!({"error": {"code": "expired"}}),
        ),
        ap(
            "self-approval-only-pending",
            "Only the agent's delegator approved its proposal (self_approval): the proposal is pending and nothing is applied.",
            &["d2:apply_state", "d2:self_approval", "d2:error"],
            &by_agent,
            vec![approval(&by_agent, &operator, "approve", "2026-11-02T10:00:00Z")],
            now,
            vec![],
            None,
            json!({"error": {"code": "pending"}}),
        ),
        ap(
            "policy-mismatch-before-already-applied",
            "Precedence (D6): policy_mismatch before already_applied.",
            &["d2:policy_mismatch", "d2:precedence", "d2:error"],
            &p,
            vec![ok_approval],
            now,
            vec![p["proposal_id"].clone()],
            Some(&q2_doc),
            json!({"error": {"code": "policy_mismatch"}}),
        ),
    ];
    (decides, applies)
}

/// `n` entries appended one after another (distinct content per `tag`).
fn build_log(n: usize, tag: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for i in 1..=n {
        let actor = if i % 3 == 0 { agent("truth_builder", user("opal", &["agent_operator"])) } else { user("alice", &["license_admin"]) };
        let e = json!({
            "at": format!("2026-11-{:02}T{:02}:{:02}:00+01:00", 1 + i / 60, 10 + (i / 60) % 10, i % 60),
            "actor": actor,
            "action": if i % 3 == 0 { "reconcile.run" } else { "entitlement.change" },
            "entity": {"type": if i % 3 == 0 { "run" } else { "entitlement" }, "id": format!("{tag}-{i}")},
            "before_hash": null,
            "after_hash": null,
            "correlation_id": format!("corr-{tag}-{i}"),
            "evidence": [],
            "details": {"n": i, "note": "golden"},
        });
        let appended = audit::append(out.last(), &e).unwrap();
        out.push(appended);
    }
    out
}

fn jsonl(entries: &[Value]) -> Vec<u8> {
    let mut b = Vec::new();
    for e in entries {
        b.extend(eucora_license_core::canonical_bytes(e).unwrap());
        b.push(b'\n');
    }
    b
}

/// Re-hash an edited entry (`entry_hash` of its new content).
fn rehash(e: &mut Value) {
    let h = audit::entry_hash(e.as_object().unwrap()).unwrap();
    e["entry_hash"] = json!(h.to_prefixed());
}

fn cp(entries: &[Value]) -> Value {
    audit::checkpoint(entries).unwrap().to_value()
}

fn flip_first_hex(h: &Value) -> Value {
    // Flip the lowest bit of the first hex digit after `sha256:`.
    let s = h.as_str().unwrap();
    let (prefix, hex) = s.split_at(7);
    let c = hex.as_bytes()[0];
    let v = u8::from_str_radix(&(c as char).to_string(), 16).unwrap() ^ 1;
    json!(format!("{prefix}{:x}{}", v, &hex[1..]))
}

fn audit_specs() -> Vec<Spec> {
    let five = build_log(5, "a");
    let seven = build_log(7, "a");
    let other_seven = build_log(7, "b");
    let hundred = build_log(100, "a");
    let one = build_log(1, "a");
    let v = |what: &str, desc: &str, covers: &[&str], log: &[u8], checkpoint: Option<Value>, intent: Value| {
        let params = match checkpoint {
            Some(c) => json!({"checkpoint": c}),
            None => json!({}),
        };
        with_log(case("audit-verify", what, desc, covers, params, intent), log)
    };
    let fail = |size: u64, code: &str, seq: u64| json!({"ok": false, "size": size, "failure": {"code": code, "seq": seq}});
    let ok = |size: u64| json!({"ok": true, "size": size, "failure": null});

    let mut edited = five.clone();
    edited[2]["details"]["n"] = json!(33);
    let mut deleted = five.clone();
    deleted.remove(2);
    let mut behind = five.clone();
    behind[2]["seq"] = json!(2);
    rehash(&mut behind[2]);
    let mut prev = five.clone();
    prev[2]["prev_hash"] = five[0]["entry_hash"].clone();
    rehash(&mut prev[2]);
    let mut swapped = five.clone();
    swapped.swap(1, 2);
    let mut not_json = jsonl(&five[..2]);
    not_json.extend_from_slice(b"{\"seq\": 3, this is not JSON\n");
    not_json.extend(jsonl(&five[3..]));
    let mut blank = b"\n".to_vec();
    for e in &five {
        blank.extend(jsonl(std::slice::from_ref(e)));
        blank.extend_from_slice(b"  \n\n");
    }

    let mut specs = vec![
        v("ok", "Five entries appended in order verify: ok, size 5, no failure.", &["audit:ok"], &jsonl(&five), None, ok(5)),
        v("empty", "The empty log verifies: ok, size 0.", &["audit:ok", "audit:empty"], b"", None, ok(0)),
        v("empty-with-checkpoint", "The empty log against the empty checkpoint {size 0, root SHA-256 of nothing, head_hash null}: ok.",
          &["audit:ok", "audit:empty", "audit:checkpoint"], b"", Some(json!({"size": 0, "root": audit::empty_root().to_prefixed(), "head_hash": null})), ok(0)),
        v("blank-lines-ignored", "Blank and white-space lines between entries are ignored (D6): ok, size 5.", &["audit:ok", "audit:jsonl"], &blank, None, ok(5)),
        v("entry-hash-mismatch", "Entry 3's details edited without re-hashing: its entry_hash no longer matches, entry_hash_mismatch at 3.",
          &["audit:entry_hash_mismatch", "audit:tamper"], &jsonl(&edited), None, fail(5, "entry_hash_mismatch", 3)),
        v("not-json-line", "Line 3 is not JSON: it is kept in place and fails as entry_hash_mismatch at 3.",
          &["audit:entry_hash_mismatch", "audit:jsonl"], &not_json, None, fail(5, "entry_hash_mismatch", 3)),
        v("seq-gap-deleted-entry", "Entry 3 deleted: position 3 holds seq 4, ahead of its position, so seq_gap at 3 (checked before prev_hash, D6).",
          &["audit:seq_gap", "audit:seq_ahead", "audit:deletion"], &jsonl(&deleted), None, fail(4, "seq_gap", 3)),
        v("seq-gap-behind", "Entry 3 rewritten with seq 2 and re-hashed, its prev_hash right: not ahead, prev_hash matches, so the second seq check names it: seq_gap at 3.",
          &["audit:seq_gap", "audit:seq_behind"], &jsonl(&behind), None, fail(5, "seq_gap", 3)),
        v("prev-hash-mismatch", "Entry 3's prev_hash points at entry 1 (re-hashed, so its own hash holds): prev_hash_mismatch at 3.",
          &["audit:prev_hash_mismatch", "audit:tamper"], &jsonl(&prev), None, fail(5, "prev_hash_mismatch", 3)),
        v("swapped-entries", "Entries 2 and 3 swapped: position 2 holds seq 3, ahead: seq_gap at 2.",
          &["audit:seq_gap", "audit:swap"], &jsonl(&swapped), None, fail(5, "seq_gap", 2)),
        v("checkpoint-ok", "Seven entries against the checkpoint of their first five: the log has only grown, ok.",
          &["audit:ok", "audit:checkpoint"], &jsonl(&seven), Some(cp(&five)), ok(7)),
        v("checkpoint-same-size-ok", "Seven entries against their own checkpoint: ok.", &["audit:ok", "audit:checkpoint"], &jsonl(&seven), Some(cp(&seven)), ok(7)),
        v("checkpoint-mismatch", "A size-7 checkpoint of another log: the chain verifies, the root and head differ, checkpoint_mismatch at the checkpoint's size 7.",
          &["audit:checkpoint_mismatch"], &jsonl(&seven), Some(cp(&other_seven)), fail(7, "checkpoint_mismatch", 7)),
        v("checkpoint-cut-tail", "The log was cut to five entries after a size-7 checkpoint was kept outside it: checkpoint_mismatch at 7 (only such a checkpoint reveals a cut tail).",
          &["audit:checkpoint_mismatch", "audit:cut_tail"], &jsonl(&five), Some(cp(&seven)), fail(5, "checkpoint_mismatch", 7)),
        v("chain-before-checkpoint", "A tampered entry and a mismatching checkpoint: the chain is checked first, entry_hash_mismatch at 3.",
          &["audit:entry_hash_mismatch", "audit:order"], &jsonl(&edited), Some(cp(&other_seven[..5])), fail(5, "entry_hash_mismatch", 3)),
    ];

    let pr = |what: &str, desc: &str, covers: &[&str], log: &[Value], param: Value, intent: Value| {
        with_log(case("audit-prove", what, desc, covers, param, intent), &jsonl(log))
    };
    // The intent pins the facts D6 fixes (kind, seq, sizes, entry hash, the
    // checkpoint); the path itself is checked by verifying the proof
    // (`proved_proofs_verify`).
    let incl_intent = |log: &[Value], seq: usize| json!({"proof": {"kind": "inclusion", "seq": seq, "tree_size": log.len(), "entry_hash": log[seq - 1]["entry_hash"]}, "checkpoint": cp(log)});
    let cons_intent = |log: &[Value], old: usize| json!({"proof": {"kind": "consistency", "old_size": old, "new_size": log.len(), "new_root": cp(log)["root"]}, "checkpoint": cp(log)});
    specs.extend(vec![
        pr(
            "inclusion-size-1",
            "The one-entry log: seq 1's inclusion proof has an empty path; the root is the leaf hash of the entry hash.",
            &["proof:inclusion", "proof:size_1"],
            &one,
            json!({"seq": 1}),
            incl_intent(&one, 1),
        ),
        pr(
            "inclusion-7-first",
            "Seven entries, seq 1: RFC 9162 path of three hashes.",
            &["proof:inclusion"],
            &seven,
            json!({"seq": 1}),
            incl_intent(&seven, 1),
        ),
        pr("inclusion-7-middle", "Seven entries, seq 4.", &["proof:inclusion"], &seven, json!({"seq": 4}), incl_intent(&seven, 4)),
        pr(
            "inclusion-7-last",
            "Seven entries, seq 7 (the lone right leaf): a path of two hashes.",
            &["proof:inclusion"],
            &seven,
            json!({"seq": 7}),
            incl_intent(&seven, 7),
        ),
        pr(
            "inclusion-100-middle",
            "A hundred entries, seq 37.",
            &["proof:inclusion", "proof:size_100"],
            &hundred,
            json!({"seq": 37}),
            incl_intent(&hundred, 37),
        ),
        pr(
            "inclusion-100-last",
            "A hundred entries, seq 100.",
            &["proof:inclusion", "proof:size_100"],
            &hundred,
            json!({"seq": 100}),
            incl_intent(&hundred, 100),
        ),
        pr(
            "consistency-7-from-3",
            "Consistency of the first three entries with all seven.",
            &["proof:consistency"],
            &seven,
            json!({"old_size": 3}),
            cons_intent(&seven, 3),
        ),
        pr(
            "consistency-7-from-4",
            "Consistency from 4 to 7 (the old tree a complete subtree).",
            &["proof:consistency"],
            &seven,
            json!({"old_size": 4}),
            cons_intent(&seven, 4),
        ),
        pr(
            "consistency-7-from-7",
            "From size n to n the path is empty (D6).",
            &["proof:consistency", "proof:same_size"],
            &seven,
            json!({"old_size": 7}),
            json!({"proof": {"kind": "consistency", "old_size": 7, "new_size": 7, "new_root": cp(&seven)["root"], "path": []}}),
        ),
        pr(
            "consistency-1-from-1",
            "The one-entry log from size 1: empty path.",
            &["proof:consistency", "proof:same_size", "proof:size_1"],
            &one,
            json!({"old_size": 1}),
            json!({"proof": {"kind": "consistency", "old_size": 1, "new_size": 1, "path": []}}),
        ),
        pr(
            "consistency-100-from-37",
            "Consistency from 37 to 100.",
            &["proof:consistency", "proof:size_100"],
            &hundred,
            json!({"old_size": 37}),
            cons_intent(&hundred, 37),
        ),
        pr(
            "consistency-100-from-64",
            "Consistency from 64 (a power of two) to 100.",
            &["proof:consistency", "proof:size_100"],
            &hundred,
            json!({"old_size": 64}),
            cons_intent(&hundred, 64),
        ),
    ]);

    // audit-proof: the verifier's answers.
    let proof_of = |log: &[Value], seq: u64| audit::prove_entry(log, seq).unwrap();
    let cons_of = |log: &[Value], old: u64| audit::prove_consistency(log, old).unwrap();
    let pv = |what: &str, desc: &str, covers: &[&str], proof: Value, checkpoint: Value, intent: Value| {
        case("audit-proof", what, desc, covers, json!({"proof": proof, "checkpoint": checkpoint}), intent)
    };
    let failed = |r: &str| json!({"ok": false, "reason": r});
    let i4 = proof_of(&seven, 4);
    let c37 = cons_of(&hundred, 37);
    let c3 = cons_of(&seven, 3);
    let mut i4_flip = i4.clone();
    i4_flip["path"][1] = flip_first_hex(&i4["path"][1]);
    let mut i4_entry_flip = i4.clone();
    i4_entry_flip["entry_hash"] = flip_first_hex(&i4["entry_hash"]);
    let mut c37_flip = c37.clone();
    c37_flip["path"][0] = flip_first_hex(&c37["path"][0]);
    let mut c37_root_flip = c37.clone();
    c37_root_flip["new_root"] = flip_first_hex(&c37["new_root"]);
    let mut i4_size = i4.clone();
    i4_size["tree_size"] = json!(8);
    let mut i4_seq = i4.clone();
    i4_seq["seq"] = json!(9);
    let mut i4_missing = i4.clone();
    i4_missing.as_object_mut().unwrap().remove("path");
    specs.extend(vec![
        pv("inclusion-ok", "Seq 4's inclusion proof against the size-7 checkpoint: ok, with the entry hash and the checkpoint's root.",
           &["proof:inclusion", "proof:ok"], i4.clone(), cp(&seven),
           json!({"ok": true, "kind": "inclusion", "seq": 4, "tree_size": 7, "entry_hash": seven[3]["entry_hash"], "root": cp(&seven)["root"]})),
        pv("inclusion-100-ok", "Seq 100 of 100 against its checkpoint: ok.", &["proof:inclusion", "proof:ok", "proof:size_100"], proof_of(&hundred, 100), cp(&hundred),
           json!({"ok": true, "kind": "inclusion", "seq": 100, "tree_size": 100})),
        pv("consistency-ok", "The auditor holds the size-37 checkpoint; the proof from 37 to 100 holds and vouches for the new root.",
           &["proof:consistency", "proof:ok"], c37.clone(), cp(&hundred[..37]),
           json!({"ok": true, "kind": "consistency", "old_size": 37, "old_root": cp(&hundred[..37])["root"], "new_size": 100, "new_root": cp(&hundred)["root"]})),
        pv("consistency-same-size-ok", "From 7 to 7: empty path, ok against the size-7 checkpoint when the new root is its root.",
           &["proof:consistency", "proof:ok", "proof:same_size"], cons_of(&seven, 7), cp(&seven), json!({"ok": true, "old_size": 7, "new_size": 7})),
        pv("inclusion-flipped-path-bit", "One bit of the second path hash flipped: the path no longer leads to the root, root_mismatch.",
           &["proof:inclusion", "proof:bit_flip"], i4_flip, cp(&seven), failed("root_mismatch")),
        pv("inclusion-flipped-entry-bit", "One bit of the entry hash flipped: root_mismatch.", &["proof:inclusion", "proof:bit_flip"], i4_entry_flip, cp(&seven), failed("root_mismatch")),
        pv("consistency-flipped-path-bit", "One bit of the first consistency path hash flipped: inconsistent.",
           &["proof:consistency", "proof:bit_flip"], c37_flip, cp(&hundred[..37]), failed("inconsistent")),
        pv("consistency-flipped-new-root", "One bit of the claimed new root flipped: inconsistent.",
           &["proof:consistency", "proof:bit_flip"], c37_root_flip, cp(&hundred[..37]), failed("inconsistent")),
        pv("inclusion-wrong-tree-size", "The proof claims tree_size 8 against a size-7 checkpoint: the size comes from the checkpoint, size_mismatch.",
           &["proof:inclusion", "proof:wrong_size"], i4_size, cp(&seven), failed("size_mismatch")),
        pv("inclusion-wrong-checkpoint", "A valid proof of seq 4 in one 7-entry log against another 7-entry log's checkpoint: root_mismatch.",
           &["proof:inclusion", "proof:wrong_checkpoint"], i4.clone(), cp(&other_seven), failed("root_mismatch")),
        pv("consistency-against-new-checkpoint", "A consistency proof is verified against the old checkpoint; given the new (size 7) one for a proof from 3: size_mismatch.",
           &["proof:consistency", "proof:wrong_checkpoint", "proof:wrong_size"], c3.clone(), cp(&seven), failed("size_mismatch")),
        pv("consistency-wrong-old-log", "The proof from 3 to 7 against another log's size-3 checkpoint: the old tree is not a prefix, inconsistent.",
           &["proof:consistency", "proof:wrong_checkpoint"], c3, cp(&other_seven[..3]), failed("inconsistent")),
        pv("inclusion-seq-out-of-range", "seq 9 in a tree of 7: out_of_range.", &["proof:inclusion", "proof:out_of_range"], i4_seq, cp(&seven), failed("out_of_range")),
        pv("consistency-from-zero", "A consistency proof from size 0 against the empty checkpoint is out_of_range (D6: an error).",
           &["proof:consistency", "proof:out_of_range"], json!({"kind": "consistency", "old_size": 0, "new_size": 7, "new_root": cp(&seven)["root"], "path": []}),
           json!({"size": 0, "root": audit::empty_root().to_prefixed(), "head_hash": null}), failed("out_of_range")),
        pv("malformed-proof", "An inclusion proof without its path: malformed_proof.", &["proof:malformed"], i4_missing, cp(&seven), failed("malformed_proof")),
        pv("malformed-checkpoint", "A checkpoint without head_hash: malformed_checkpoint.", &["proof:malformed"], i4, json!({"size": 7, "root": cp(&seven)["root"]}), failed("malformed_checkpoint")),
    ]);
    specs
}

fn specs() -> Vec<Spec> {
    let (decides, applies) = decide_specs();
    let mut all = authorize_specs();
    all.extend(decides);
    all.extend(applies);
    all.extend(audit_specs());
    all
}

// ------------------------------------------------------------------ writing

/// JSON for review: two-space indentation, with containers that fit on one
/// line kept on one line (as the core's golden files).
fn pretty(v: &Value, indent: usize) -> String {
    let flat = serde_json::to_string(v).unwrap();
    let pad = "  ".repeat(indent);
    let fits = flat.len() + pad.len() < 110;
    match v {
        Value::Object(m) if !m.is_empty() && (!fits || indent == 0) => {
            let items: Vec<String> =
                m.iter().map(|(k, x)| format!("{pad}  {}: {}", serde_json::to_string(k).unwrap(), pretty(x, indent + 1))).collect();
            format!("{{\n{}\n{pad}}}", items.join(",\n"))
        }
        Value::Array(a) if !a.is_empty() && !fits => {
            let items: Vec<String> = a.iter().map(|x| format!("{pad}  {}", pretty(x, indent + 1))).collect();
            format!("[\n{}\n{pad}]", items.join(",\n"))
        }
        _ => flat,
    }
}

fn is_governance(case: &Value) -> bool {
    case["kind"].as_str().is_some_and(|k| KINDS.contains(&k))
}

/// Governance case directories on disk, in byte order of their names.
fn disk_cases() -> Vec<(String, PathBuf, Value)> {
    let mut out: Vec<(String, PathBuf, Value)> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").is_file())
        .map(|p| {
            let c = read_json(&p.join("case.json"));
            (p.file_name().unwrap().to_string_lossy().into_owned(), p, c)
        })
        .filter(|(_, _, c)| is_governance(c))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn bless() {
    for (_, dir, _) in disk_cases() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    for s in specs() {
        let dir = golden_dir().join(&s.name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("case.json"), pretty(&s.case, 0) + "\n").unwrap();
        if let Some(log) = &s.log {
            std::fs::write(dir.join("log.jsonl"), log).unwrap();
        }
        let got = observe(&dir, &s.case);
        assert!(contains(&got, &s.intent), "{}: the engine's answer {got} is not the intended {}", s.name, s.intent);
        std::fs::write(dir.join("expected.json"), pretty(&got, 0) + "\n").unwrap();
    }
}

// ------------------------------------------------------------------ tests

/// Every governance case on disk reproduces its `expected.json`.
#[test]
fn governance_golden_vectors() {
    if std::env::var_os("EUCORA_GOLDEN_BLESS").is_some() {
        bless();
    }
    let all = disk_cases();
    let mut failures = Vec::new();
    let mut kinds = BTreeSet::new();
    for (name, dir, case) in &all {
        let kind = case["kind"].as_str().unwrap();
        assert!(name.starts_with(&format!("{kind}-")), "{name}: the name starts with its kind");
        assert!(case["description"].as_str().is_some_and(|d| !d.is_empty()), "{name}: no description");
        kinds.insert(kind.to_string());
        let got = observe(dir, case);
        let want = read_json(&dir.join("expected.json"));
        if got != want {
            failures.push(format!("{name}:\n  expected {want}\n  observed {got}"));
        }
    }
    assert!(failures.is_empty(), "{} governance golden case(s) differ:\n{}", failures.len(), failures.join("\n"));
    let want: BTreeSet<String> = KINDS.iter().map(|k| k.to_string()).collect();
    assert_eq!(kinds, want, "every governance kind has at least one case");
}

/// The files on disk are the specs' (inputs unchanged), and each
/// `expected.json` holds the answer its spec intends (D1–D6).
#[test]
fn governance_golden_vectors_hold_their_intent() {
    if std::env::var_os("EUCORA_GOLDEN_BLESS").is_some() {
        return; // the other test rewrites them
    }
    let specs = specs();
    let on_disk: BTreeSet<String> = disk_cases().into_iter().map(|(n, _, _)| n).collect();
    let spec_names: BTreeSet<String> = specs.iter().map(|s| s.name.clone()).collect();
    assert_eq!(on_disk, spec_names, "governance case directories are exactly the specs'");
    for s in &specs {
        let dir = golden_dir().join(&s.name);
        assert_eq!(read_json(&dir.join("case.json")), s.case, "{}: case.json differs from its spec (re-bless)", s.name);
        if let Some(log) = &s.log {
            assert_eq!(&std::fs::read(dir.join("log.jsonl")).unwrap(), log, "{}: log.jsonl differs from its spec", s.name);
        }
        let expected = read_json(&dir.join("expected.json"));
        assert!(contains(&expected, &s.intent), "{}: expected.json {expected} does not hold the intended {}", s.name, s.intent);
    }
}

/// Every proof in an `audit-prove` expectation verifies against its
/// checkpoint (inclusion) or the log's prefix checkpoint (consistency).
#[test]
fn proved_proofs_verify() {
    for (name, dir, case) in disk_cases().into_iter().filter(|(_, _, c)| c["kind"] == "audit-prove") {
        let expected = read_json(&dir.join("expected.json"));
        let entries = log_of(&dir);
        let against = match case.get("old_size") {
            Some(n) => cp(&entries[..n.as_u64().unwrap() as usize]),
            None => expected["checkpoint"].clone(),
        };
        let v = verify_proof(&expected["proof"], &against);
        assert!(v.ok(), "{name}: {}", v.to_value());
    }
}

/// The set covers every D1 reason and error, every D2 refusal and state,
/// apply's outcomes, every audit failure and every proof verdict.
#[test]
fn governance_golden_vectors_cover_the_contract() {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (_, dir, case) in disk_cases() {
        let kind = case["kind"].as_str().unwrap().to_string();
        let e = read_json(&dir.join("expected.json"));
        let mut add = |what: &str| {
            seen.insert(format!("{kind}:{what}"));
        };
        if let Some(c) = e["error"]["code"].as_str() {
            add(&format!("error:{c}"));
        }
        match kind.as_str() {
            "authorize" => e["reason"].as_str().into_iter().for_each(&mut add),
            "decide" => {
                e["state"].as_str().into_iter().for_each(&mut add);
                e["refused"].as_array().into_iter().flatten().filter_map(|r| r["reason"].as_str()).for_each(&mut add);
            }
            "apply" if e.get("change").is_some() => add("change"),
            "audit-verify" => add(e["failure"]["code"].as_str().unwrap_or(if e["size"] == 0 { "ok-empty" } else { "ok" })),
            "audit-prove" => add(e["proof"]["kind"].as_str().unwrap()),
            "audit-proof" => add(e["reason"].as_str().unwrap_or_else(|| e["kind"].as_str().unwrap())),
            _ => {}
        }
    }
    let mut want: BTreeSet<String> = BTreeSet::new();
    want.extend(AuthorizeReason::names().into_iter().map(|r| format!("authorize:{r}")));
    want.extend(["unknown_role", "unknown_action", "unknown_agent"].map(|c| format!("authorize:error:{c}")));
    want.extend(ApprovalRefusal::names().into_iter().map(|r| format!("decide:{r}")));
    want.extend(ProposalState::names().into_iter().map(|s| format!("decide:{s}")));
    want.insert("decide:error:policy_mismatch".into());
    want.extend(
        ["change", "error:already_applied", "error:pending", "error:rejected", "error:expired", "error:policy_mismatch"]
            .map(|c| format!("apply:{c}")),
    );
    want.extend(AuditFailure::names().into_iter().map(|f| format!("audit-verify:{f}")));
    want.extend(["ok", "ok-empty"].map(|c| format!("audit-verify:{c}")));
    want.extend(["inclusion", "consistency"].map(|c| format!("audit-prove:{c}")));
    want.extend(
        [
            "inclusion",
            "consistency",
            "root_mismatch",
            "inconsistent",
            "size_mismatch",
            "out_of_range",
            "malformed_proof",
            "malformed_checkpoint",
        ]
        .map(|c| format!("audit-proof:{c}")),
    );
    let missing: Vec<&String> = want.difference(&seen).collect();
    assert!(missing.is_empty(), "no governance golden case shows {missing:?}");
}
