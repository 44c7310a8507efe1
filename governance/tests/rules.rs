//! Every D1 and D2 reason code by a test that fails if its rule breaks, the
//! persona × action matrix over the default policy, and a property test
//! over random sequences of approvals and rejections.

use eucora_license_core::{
    Action, AgentName, ApprovalDecision, ApprovalRefusal, AuthorizeReason, Instant, ProposalKind, ProposalState, Role,
};
use eucora_license_governance::policy::default_document;
use eucora_license_governance::{apply, authorize, authorize_json, decide, propose, Actor, Approval, Policy, Proposal};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;

fn policy() -> Policy {
    Policy::from_value(&default_document()).unwrap()
}

fn user(id: &str, roles: &[Role]) -> Actor {
    Actor::user(id, roles)
}

fn t(s: &str) -> Instant {
    Instant::parse(s).unwrap()
}

fn reason(actor: &Actor, action: Action) -> AuthorizeReason {
    authorize(actor, action, &policy()).reason
}

// ---------------------------------------------------------------- D1

#[test]
fn persona_by_action_matrix_over_the_default_policy() {
    let table: [(Role, &[&str]); 5] = [
        (
            Role::LicenseAdmin,
            &[
                "view.sidebar",
                "view.dashboard",
                "view.alerts",
                "view.recommendations",
                "view.evidence",
                "catalog.write",
                "integration.write",
                "import.upload",
                "reconcile.run",
                "entitlement.propose",
                "ruleset.propose",
                "mapping.propose",
                "recommendation.propose",
                "policy.propose",
            ],
        ),
        (
            Role::LicenseAuditor,
            &["view.sidebar", "view.dashboard", "view.alerts", "view.recommendations", "view.evidence", "evidence.export", "audit.run"],
        ),
        (
            Role::OpsManager,
            &[
                "view.sidebar",
                "view.dashboard",
                "view.alerts",
                "view.recommendations",
                "entitlement.approve",
                "ruleset.approve",
                "mapping.approve",
                "recommendation.approve",
                "policy.approve",
            ],
        ),
        (
            Role::AgentOperator,
            &[
                "view.sidebar",
                "view.dashboard",
                "view.alerts",
                "view.recommendations",
                "import.upload",
                "reconcile.run",
                "entitlement.propose",
                "mapping.propose",
                "recommendation.propose",
                "agent.run",
            ],
        ),
        (Role::Viewer, &["view.sidebar", "view.dashboard"]),
    ];
    for (role, allowed) in table {
        let actor = user("u", &[role]);
        for action in Action::ALL {
            let d = authorize(&actor, *action, &policy());
            let expected = allowed.contains(&action.name());
            assert_eq!(d.allowed, expected, "{role} {action}");
            assert_eq!(d.reason, if expected { AuthorizeReason::Allowed } else { AuthorizeReason::RoleLacksAction }, "{role} {action}");
        }
    }
    // No roles: deny by default.
    for action in Action::ALL {
        assert_eq!(reason(&user("u", &[]), *action), AuthorizeReason::RoleLacksAction);
    }
}

#[test]
fn conflicting_roles_refuse_everything_and_outrank_role_lacks_action() {
    let both = user("u", &[Role::LicenseAdmin, Role::LicenseAuditor]);
    for action in Action::ALL {
        assert_eq!(reason(&both, *action), AuthorizeReason::ConflictingRoles, "{action}");
    }
    // Roles are a set: a repeated role is no conflict.
    assert_eq!(reason(&user("u", &[Role::Viewer, Role::Viewer]), Action::ViewSidebar), AuthorizeReason::Allowed);
}

#[test]
fn agents_act_within_the_intersection_of_their_list_and_their_delegator() {
    let op = user("op", &[Role::AgentOperator]);
    let agent = |a| Actor::agent(a, op.clone());
    // allowed: in the agent's list and the delegator's actions, delegator has agent.run.
    assert_eq!(reason(&agent(AgentName::InventoryExtractor), Action::EntitlementPropose), AuthorizeReason::Allowed);
    assert_eq!(reason(&agent(AgentName::ConsumptionDiscovery), Action::ImportUpload), AuthorizeReason::Allowed);
    assert_eq!(reason(&agent(AgentName::TruthBuilder), Action::ReconcileRun), AuthorizeReason::Allowed);
    assert_eq!(reason(&agent(AgentName::AnomalyDetector), Action::ViewAlerts), AuthorizeReason::Allowed);
    // agent_not_permitted: the delegator may, the agent's list does not hold it.
    assert_eq!(reason(&agent(AgentName::TruthBuilder), Action::EntitlementPropose), AuthorizeReason::AgentNotPermitted);
    // delegator_lacks_action: the agent may, the delegator may not.
    let viewer_agent = Actor::agent(AgentName::AnomalyDetector, user("v", &[Role::Viewer, Role::AgentOperator]));
    assert_eq!(reason(&viewer_agent, Action::ViewAlerts), AuthorizeReason::Allowed);
    let admin_agent = Actor::agent(AgentName::InventoryExtractor, user("a", &[Role::LicenseAdmin]));
    // The admin holds entitlement.propose but not agent.run.
    assert_eq!(reason(&admin_agent, Action::EntitlementPropose), AuthorizeReason::DelegatorLacksAction);
    let viewer_only = Actor::agent(AgentName::TruthBuilder, user("v", &[Role::Viewer]));
    assert_eq!(reason(&viewer_only, Action::ReconcileRun), AuthorizeReason::DelegatorLacksAction);
    // A delegator with agent.run but without the action itself.
    let mut d = default_document();
    d["agents"]["truth_builder"] = json!(["reconcile.run", "catalog.write"]);
    let p = Policy::from_value(&d).unwrap();
    assert_eq!(authorize(&agent(AgentName::TruthBuilder), Action::CatalogWrite, &p).reason, AuthorizeReason::DelegatorLacksAction);
}

#[test]
fn approval_needs_human_whatever_the_policy_says() {
    let mut d = default_document();
    d["agents"]["anomaly_detector"] = json!(["view.alerts", "entitlement.approve"]);
    d["access"]["roles"]["agent_operator"].as_array_mut().unwrap().push(json!("entitlement.approve"));
    let p = Policy::from_value(&d).unwrap();
    let a = Actor::agent(AgentName::AnomalyDetector, user("op", &[Role::AgentOperator, Role::OpsManager]));
    assert_eq!(authorize(&a, Action::EntitlementApprove, &p).reason, AuthorizeReason::ApprovalNeedsHuman);
    for action in Action::ALL.iter().filter(|a| a.is_approve()) {
        assert_eq!(reason(&Actor::agent(AgentName::TruthBuilder, user("x", &[])), *action), AuthorizeReason::ApprovalNeedsHuman);
    }
}

#[test]
fn agent_chain_is_refused_and_precedence_holds() {
    let op = user("op", &[Role::AgentOperator]);
    let chain = Actor::agent(AgentName::TruthBuilder, Actor::agent(AgentName::TruthBuilder, op.clone()));
    assert_eq!(reason(&chain, Action::ReconcileRun), AuthorizeReason::AgentChain);
    // approval_needs_human › agent_chain
    assert_eq!(reason(&chain, Action::PolicyApprove), AuthorizeReason::ApprovalNeedsHuman);
    // agent_chain › agent_not_permitted
    assert_eq!(reason(&chain, Action::CatalogWrite), AuthorizeReason::AgentChain);
    // agent_not_permitted › conflicting_roles (the delegator's)
    let conflicted = user("c", &[Role::LicenseAdmin, Role::LicenseAuditor, Role::AgentOperator]);
    assert_eq!(
        reason(&Actor::agent(AgentName::TruthBuilder, conflicted.clone()), Action::CatalogWrite),
        AuthorizeReason::AgentNotPermitted
    );
    // conflicting_roles › delegator_lacks_action
    assert_eq!(reason(&Actor::agent(AgentName::TruthBuilder, conflicted), Action::ReconcileRun), AuthorizeReason::ConflictingRoles);
    let c2 = user("c", &[Role::LicenseAdmin, Role::LicenseAuditor]);
    assert_eq!(reason(&Actor::agent(AgentName::TruthBuilder, c2), Action::ReconcileRun), AuthorizeReason::ConflictingRoles);
}

#[test]
fn unknown_names_are_errors_never_a_no() {
    let p = policy();
    let e = |actor: serde_json::Value, action: &str| authorize_json(&actor, action, &p).unwrap_err().code;
    assert_eq!(e(json!({"type": "user", "id": "u", "roles": ["boss"]}), "view.sidebar"), "unknown_role");
    assert_eq!(e(json!({"type": "user", "id": "u", "roles": ["viewer"]}), "view.everything"), "unknown_action");
    let agent = json!({"type": "agent", "agent": "helper", "on_behalf_of": {"type": "user", "id": "u", "roles": []}});
    assert_eq!(e(agent.clone(), "view.sidebar"), "unknown_agent");
    // D6's order: unknown_role › unknown_action › unknown_agent.
    assert_eq!(e(agent.clone(), "nope"), "unknown_action");
    let agent_bad_role = json!({"type": "agent", "agent": "helper", "on_behalf_of": {"type": "user", "id": "u", "roles": ["boss"]}});
    assert_eq!(e(agent_bad_role, "nope"), "unknown_role");
    assert_eq!(e(json!({"type": "robot"}), "view.sidebar"), "invalid_actor");
    assert_eq!(e(json!({"type": "user", "id": "u", "roles": [], "admin": true}), "view.sidebar"), "invalid_actor");
    let d = authorize_json(&json!({"type": "user", "id": "u", "roles": ["viewer"]}), "view.alerts", &p).unwrap();
    assert_eq!((d.allowed, d.reason), (false, AuthorizeReason::RoleLacksAction));
    assert_eq!(d.to_value()["actor"], json!({"type": "user", "id": "u", "roles": ["viewer"]}));
}

// ---------------------------------------------------------------- D2

const T0: &str = "2026-11-01T09:00:00Z";

fn admin() -> Actor {
    user("alice", &[Role::LicenseAdmin])
}

fn payload() -> serde_json::Value {
    json!({"entitlement_id": "e9", "sku": "acrobat", "contract_id": "c1", "quantity": 5, "starts_on": "2026-11-01", "ends_on": "", "unit_cost": "10.00", "currency": "USD"})
}

fn proposal() -> Proposal {
    propose(ProposalKind::EntitlementCreate, &payload(), &admin(), t(T0), &policy(), Some("corr-1"), &[]).unwrap()
}

fn approval(p: &Proposal, approver: Actor, decision: ApprovalDecision, at: &str) -> Approval {
    Approval { proposal_id: p.proposal_id.clone(), payload_hash: p.payload_hash.clone(), approver, decision, at: t(at), comment: None }
}

fn ops(id: &str) -> Actor {
    user(id, &[Role::OpsManager])
}

const NOW: &str = "2026-11-02T09:00:00Z";

fn refusal(p: &Proposal, a: Approval) -> ApprovalRefusal {
    let d = decide(p, &[a], t(NOW), &policy()).unwrap();
    assert_eq!(d.refused.len(), 1, "{d:?}");
    d.refused[0].reason
}

#[test]
fn a_proposal_binds_payload_policy_and_expiry() {
    let p = proposal();
    assert_eq!(p.expires_at, t("2026-11-08T09:00:00Z"));
    assert_eq!(p.policy_hash, policy().hash_string());
    let v = p.to_value();
    assert_eq!(Proposal::from_value(&v).unwrap(), p);
    assert_eq!(v["correlation_id"], "corr-1");
    assert_eq!(v["evidence"], json!([]));
    // The id covers kind, payload hash, proposer and instant.
    let other = propose(ProposalKind::EntitlementUpdate, &payload(), &admin(), t(T0), &policy(), None, &[]).unwrap();
    assert_ne!(other.proposal_id, p.proposal_id);
    assert_eq!(other.payload_hash, p.payload_hash);
    let later =
        propose(ProposalKind::EntitlementCreate, &payload(), &admin(), t("2026-11-01T10:00:00+01:00"), &policy(), None, &[]).unwrap();
    assert_eq!(later.proposal_id, p.proposal_id, "the same instant in another offset");
}

#[test]
fn propose_refuses_a_proposer_without_the_propose_action() {
    let e = propose(ProposalKind::EntitlementCreate, &payload(), &ops("bob"), t(T0), &policy(), None, &[]).unwrap_err();
    assert_eq!(e.code, "role_lacks_action");
    let agent = Actor::agent(AgentName::TruthBuilder, user("op", &[Role::AgentOperator]));
    let e = propose(ProposalKind::EntitlementCreate, &payload(), &agent, t(T0), &policy(), None, &[]).unwrap_err();
    assert_eq!(e.code, "agent_not_permitted");
    let ok = Actor::agent(AgentName::InventoryExtractor, user("op", &[Role::AgentOperator]));
    assert!(propose(ProposalKind::EntitlementCreate, &payload(), &ok, t(T0), &policy(), None, &[]).is_ok());
    assert_eq!(
        propose(ProposalKind::EntitlementCreate, &json!([1]), &admin(), t(T0), &policy(), None, &[]).unwrap_err().code,
        "invalid_payload"
    );
}

#[test]
fn one_ops_manager_approves_and_apply_returns_the_change_once() {
    let p = proposal();
    let a = vec![approval(&p, ops("bob"), ApprovalDecision::Approve, "2026-11-01T12:00:00Z")];
    let d = decide(&p, &a, t(NOW), &policy()).unwrap();
    assert_eq!((d.state, d.counted.clone(), d.refused.len()), (ProposalState::Approved, vec!["bob".to_string()], 0));
    let c = apply(&p, &a, t(NOW), &policy(), &BTreeSet::new()).unwrap();
    assert_eq!(c.to_value(), json!({"change": {"kind": "entitlement.create", "proposal_id": p.proposal_id, "payload": payload()}}));
    let applied = BTreeSet::from([p.proposal_id.clone()]);
    assert_eq!(apply(&p, &a, t(NOW), &policy(), &applied).unwrap_err().code, "already_applied");
    // Pending without approvals; the state is apply's error.
    assert_eq!(decide(&p, &[], t(NOW), &policy()).unwrap().state, ProposalState::Pending);
    assert_eq!(apply(&p, &[], t(NOW), &policy(), &BTreeSet::new()).unwrap_err().code, "pending");
}

#[test]
fn every_refusal_reason() {
    let p = proposal();
    let at = "2026-11-01T12:00:00Z";
    let mut a = approval(&p, ops("bob"), ApprovalDecision::Approve, at);
    a.proposal_id = "sha256:0000000000000000000000000000000000000000000000000000000000000000".into();
    assert_eq!(refusal(&p, a), ApprovalRefusal::UnknownProposal);

    let mut changed = p.clone();
    changed.payload["quantity"] = json!(500);
    assert_eq!(refusal(&changed, approval(&p, ops("bob"), ApprovalDecision::Approve, at)), ApprovalRefusal::PayloadChanged);

    let agent = Actor::agent(AgentName::InventoryExtractor, ops("bob"));
    assert_eq!(refusal(&p, approval(&p, agent, ApprovalDecision::Approve, at)), ApprovalRefusal::ApproverNotHuman);

    let conflicted = user("carol", &[Role::OpsManager, Role::LicenseAdmin, Role::LicenseAuditor]);
    assert_eq!(refusal(&p, approval(&p, conflicted, ApprovalDecision::Approve, at)), ApprovalRefusal::ConflictingRoles);

    assert_eq!(refusal(&p, approval(&p, user("dave", &[Role::Viewer]), ApprovalDecision::Approve, at)), ApprovalRefusal::ApproverLacksRole);

    let self_ = user("alice", &[Role::LicenseAdmin, Role::OpsManager]);
    assert_eq!(refusal(&p, approval(&p, self_.clone(), ApprovalDecision::Approve, at)), ApprovalRefusal::SelfApproval);
    assert_eq!(refusal(&p, approval(&p, self_, ApprovalDecision::Reject, at)), ApprovalRefusal::SelfApproval);
    // An agent's proposal cannot be approved by the user it acted for.
    let op = user("olga", &[Role::AgentOperator, Role::OpsManager]);
    let by_agent = propose(
        ProposalKind::EntitlementCreate,
        &payload(),
        &Actor::agent(AgentName::InventoryExtractor, op.clone()),
        t(T0),
        &policy(),
        None,
        &[],
    )
    .unwrap();
    assert_eq!(refusal(&by_agent, approval(&by_agent, op, ApprovalDecision::Approve, at)), ApprovalRefusal::SelfApproval);

    let late = approval(&p, ops("bob"), ApprovalDecision::Approve, "2026-11-08T09:00:00Z");
    let d = decide(&p, &[late], t("2026-11-09T00:00:00Z"), &policy()).unwrap();
    assert_eq!((d.refused[0].reason, d.state), (ApprovalRefusal::ApprovalAfterExpiry, ProposalState::Expired));

    assert_eq!(
        refusal(&p, approval(&p, ops("bob"), ApprovalDecision::Approve, "2026-11-02T09:00:01Z")),
        ApprovalRefusal::ApprovalOutOfTime
    );
    assert_eq!(
        refusal(&p, approval(&p, ops("bob"), ApprovalDecision::Approve, "2026-11-01T08:59:59Z")),
        ApprovalRefusal::ApprovalOutOfTime
    );

    let twice = [approval(&p, ops("bob"), ApprovalDecision::Approve, at), approval(&p, ops("bob"), ApprovalDecision::Approve, at)];
    let d = decide(&p, &twice, t(NOW), &policy()).unwrap();
    assert_eq!((d.counted.len(), d.refused[0].index, d.refused[0].reason), (1, 1, ApprovalRefusal::DuplicateApprover));
}

#[test]
fn refusal_precedence_is_d6s_order() {
    let p = proposal();
    // Everything wrong at once: the first check wins, and each fix reveals the next.
    let mut a = approval(&p, Actor::agent(AgentName::InventoryExtractor, admin()), ApprovalDecision::Approve, "2027-01-01T00:00:00Z");
    a.proposal_id = "x".into();
    a.payload_hash = "y".into();
    assert_eq!(refusal(&p, a.clone()), ApprovalRefusal::UnknownProposal);
    a.proposal_id = p.proposal_id.clone();
    assert_eq!(refusal(&p, a.clone()), ApprovalRefusal::PayloadChanged);
    a.payload_hash = p.payload_hash.clone();
    assert_eq!(refusal(&p, a.clone()), ApprovalRefusal::ApproverNotHuman);
    a.approver = user("alice", &[Role::LicenseAdmin, Role::LicenseAuditor]);
    assert_eq!(refusal(&p, a.clone()), ApprovalRefusal::ConflictingRoles);
    a.approver = user("alice", &[Role::LicenseAdmin]);
    assert_eq!(refusal(&p, a.clone()), ApprovalRefusal::ApproverLacksRole);
    a.approver = user("alice", &[Role::OpsManager]);
    assert_eq!(refusal(&p, a.clone()), ApprovalRefusal::SelfApproval);
    a.approver = ops("bob");
    assert_eq!(refusal(&p, a.clone()), ApprovalRefusal::ApprovalAfterExpiry);
    a.at = t("2026-11-03T00:00:00Z");
    assert_eq!(refusal(&p, a.clone()), ApprovalRefusal::ApprovalOutOfTime);
}

#[test]
fn rejected_wins_even_after_quorum_and_expiry_waits_for_now() {
    let p = proposal();
    let at = "2026-11-01T12:00:00Z";
    let a = [approval(&p, ops("bob"), ApprovalDecision::Approve, at), approval(&p, ops("eve"), ApprovalDecision::Reject, at)];
    assert_eq!(decide(&p, &a, t(NOW), &policy()).unwrap().state, ProposalState::Rejected);
    assert_eq!(apply(&p, &a, t(NOW), &policy(), &BTreeSet::new()).unwrap_err().code, "rejected");
    assert_eq!(decide(&p, &[], t("2026-11-08T09:00:00Z"), &policy()).unwrap().state, ProposalState::Expired);
    assert_eq!(decide(&p, &[], t("2026-11-08T08:59:59Z"), &policy()).unwrap().state, ProposalState::Pending);
    assert_eq!(apply(&p, &[], t("2026-11-09T00:00:00Z"), &policy(), &BTreeSet::new()).unwrap_err().code, "expired");
    // Approved before expiry stays approved after it.
    let ok = [approval(&p, ops("bob"), ApprovalDecision::Approve, at)];
    assert_eq!(decide(&p, &ok, t("2026-12-01T00:00:00Z"), &policy()).unwrap().state, ProposalState::Approved);
}

#[test]
fn policy_mismatch_and_the_proposals_own_policy() {
    let p = proposal();
    let mut d = default_document();
    d["approvals"]["entitlement.create"]["quorum"] = json!(2);
    let stricter = Policy::from_value(&d).unwrap();
    let a = [approval(&p, ops("bob"), ApprovalDecision::Approve, "2026-11-01T12:00:00Z")];
    assert_eq!(decide(&p, &a, t(NOW), &stricter).unwrap_err().code, "policy_mismatch");
    assert_eq!(apply(&p, &a, t(NOW), &stricter, &BTreeSet::from([p.proposal_id.clone()])).unwrap_err().code, "policy_mismatch");
    // Under a quorum of 2, one approval leaves it pending; a second distinct one approves.
    let p2 = propose(ProposalKind::EntitlementCreate, &payload(), &admin(), t(T0), &stricter, None, &[]).unwrap();
    let one = vec![approval(&p2, ops("bob"), ApprovalDecision::Approve, "2026-11-01T12:00:00Z")];
    assert_eq!(decide(&p2, &one, t(NOW), &stricter).unwrap().state, ProposalState::Pending);
    let mut two = one.clone();
    two.push(approval(&p2, ops("bob"), ApprovalDecision::Approve, "2026-11-01T13:00:00Z"));
    assert_eq!(decide(&p2, &two, t(NOW), &stricter).unwrap().state, ProposalState::Pending, "the same approver twice is no quorum");
    two.push(approval(&p2, ops("eve"), ApprovalDecision::Approve, "2026-11-01T13:00:00Z"));
    assert_eq!(decide(&p2, &two, t(NOW), &stricter).unwrap().state, ProposalState::Approved);
}

#[test]
fn malformed_approvals_are_errors() {
    let p = proposal();
    let good = approval(&p, ops("bob"), ApprovalDecision::Approve, "2026-11-01T12:00:00Z").to_value();
    let pol = policy();
    let run = |a: serde_json::Value| eucora_license_governance::decide_json(&p.to_value(), &json!([a]), NOW, &pol);
    assert!(run(good.clone()).is_ok());
    for edit in ["decision", "at", "approver", "proposal_id"] {
        let mut bad = good.clone();
        bad[edit] = json!(7);
        assert_eq!(run(bad).unwrap_err().code, "invalid_approval", "{edit}");
    }
    let mut extra = good.clone();
    extra["note"] = json!("x");
    assert_eq!(run(extra).unwrap_err().code, "invalid_approval");
}

// ------------------------------------------------------------ property

#[derive(Debug, Clone)]
struct Step {
    approver: usize,
    decision: bool,
    at_hours: i64,
    tamper: u8,
}

fn step() -> impl Strategy<Value = Step> {
    (0usize..6, any::<bool>(), -2i64..200, 0u8..8).prop_map(|(approver, decision, at_hours, tamper)| Step {
        approver,
        decision,
        at_hours,
        tamper,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn nothing_is_approved_without_a_valid_quorum(
        quorum in 1u64..4,
        steps in proptest::collection::vec(step(), 0..10),
        now_hours in 0i64..220,
        agent_proposes in any::<bool>(),
    ) {
        let mut d = default_document();
        d["approvals"]["mapping.sku"]["quorum"] = json!(quorum);
        let pol = Policy::from_value(&d).unwrap();
        let op = user("p0", &[Role::AgentOperator, Role::LicenseAdmin, Role::OpsManager]);
        let proposer = if agent_proposes { Actor::agent(AgentName::ConsumptionDiscovery, op.clone()) } else { op.clone() };
        let created = t(T0);
        let p = propose(ProposalKind::MappingSku, &json!({"match": "prefix", "field": "product", "value": "X", "sku": "x"}), &proposer, created, &pol, None, &[]).unwrap();
        let people = [
            op.clone(),
            user("p1", &[Role::OpsManager]),
            user("p2", &[Role::OpsManager]),
            user("p3", &[Role::Viewer]),
            user("p4", &[Role::OpsManager, Role::LicenseAdmin, Role::LicenseAuditor]),
            user("p5", &[Role::OpsManager]),
        ];
        let approvals: Vec<Approval> = steps.iter().map(|s| {
            let mut a = Approval {
                proposal_id: p.proposal_id.clone(),
                payload_hash: p.payload_hash.clone(),
                approver: people[s.approver].clone(),
                decision: if s.decision { ApprovalDecision::Approve } else { ApprovalDecision::Reject },
                at: created.plus_secs(s.at_hours * 3600),
                comment: None,
            };
            match s.tamper {
                1 => a.proposal_id = "sha256:00".into(),
                2 => a.payload_hash = "sha256:00".into(),
                3 => a.approver = Actor::agent(AgentName::ConsumptionDiscovery, people[s.approver].clone()),
                _ => {}
            }
            a
        }).collect();
        let now = created.plus_secs(now_hours * 3600);
        let out = decide(&p, &approvals, now, &pol).unwrap();
        // The oracle: counted approvals are valid, distinct, human, non-proposer, in time.
        let expires = created.plus_secs(168 * 3600);
        let mut seen = BTreeSet::new();
        let (mut approves, mut rejected) = (0u64, false);
        for a in &approvals {
            let valid = a.proposal_id == p.proposal_id
                && a.payload_hash == p.payload_hash
                && a.approver.is_human()
                && !(a.approver.role_set().contains(&Role::LicenseAdmin) && a.approver.role_set().contains(&Role::LicenseAuditor))
                && a.approver.role_set().contains(&Role::OpsManager)
                && a.approver.user_id() != Some("p0")
                && a.at < expires && a.at <= now && a.at >= created;
            if valid && seen.insert(a.approver.user_id().unwrap().to_string()) {
                match a.decision { ApprovalDecision::Approve => approves += 1, ApprovalDecision::Reject => rejected = true }
            }
        }
        prop_assert_eq!(out.counted.len(), seen.len());
        prop_assert_eq!(out.counted.len() + out.refused.len(), approvals.len());
        if out.state == ProposalState::Approved {
            prop_assert!(!rejected && approves >= quorum);
        }
        let expected = if rejected { ProposalState::Rejected } else if approves >= quorum { ProposalState::Approved }
            else if now >= expires { ProposalState::Expired } else { ProposalState::Pending };
        prop_assert_eq!(out.state, expected);
        let applied = apply(&p, &approvals, now, &pol, &BTreeSet::new());
        prop_assert_eq!(applied.is_ok(), expected == ProposalState::Approved);
        // Under another policy nothing is decided at all.
        if quorum != 1 {
            prop_assert_eq!(decide(&p, &approvals, now, &policy()).unwrap_err().code, "policy_mismatch");
        }
    }
}

#[test]
fn hashes_follow_d2s_formulas() {
    use eucora_license_core::{canonical_bytes, tagged_hash, Domain};
    let p = proposal();
    let h = |v: &serde_json::Value| tagged_hash(Domain::Proposal, &canonical_bytes(v).unwrap()).to_prefixed();
    assert_eq!(p.payload_hash, h(&payload()));
    let proposer = json!({"type": "user", "id": "alice", "roles": ["license_admin"]});
    assert_eq!(
        p.proposal_id,
        h(&json!({"kind": "entitlement.create", "payload_hash": p.payload_hash, "proposer": proposer, "created_at": T0}))
    );
    assert_eq!(p.to_value()["proposer"], proposer);
}
