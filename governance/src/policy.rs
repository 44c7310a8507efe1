//! The governance sections of the policy document (DESIGN C1, D1, D2, D6):
//! `access` (role → actions, exclusive role pairs), `approvals` (per kind:
//! approver roles, quorum, expiry) and `agents` (agent → the actions it may
//! ever take). Parsed from the whole policy document, strictly: every role,
//! kind and agent present, unknown names and keys refused, each problem
//! located by its JSON path (`invalid_policy`). The `alerts` and `advisor`
//! sections belong to the intelligence layer; here they must only be
//! objects. The policy's hash is `eucora.policy.v1` over the canonical
//! document, so a proposal can name the exact policy it was made under.

use crate::error::{codes, Error, Result};
use eucora_license_core::internal::canonical::{parse_strict, MAX_SAFE_INTEGER};
use eucora_license_core::{canonical_bytes, tagged_hash, Action, AgentName, Digest32, Domain, ProposalKind, Role};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One `approvals` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRule {
    /// Roles whose approval counts (`approver_roles` alone decides, D6).
    pub approver_roles: BTreeSet<Role>,
    /// Distinct counted approvals needed (≥ 1).
    pub quorum: u64,
    /// Hours from `created_at` to `expires_at` (≥ 1).
    pub expires_hours: u64,
}

/// A validated policy (its governance sections) and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `access.roles`: what each role may do.
    pub roles: BTreeMap<Role, BTreeSet<Action>>,
    /// `access.exclusive`: role pairs no actor may hold together.
    pub exclusive: Vec<(Role, Role)>,
    /// `agents`: what each agent may ever do (an `*.approve` listed here is
    /// accepted and never honoured).
    pub agents: BTreeMap<AgentName, BTreeSet<Action>>,
    /// `approvals`: the rule of each proposal kind.
    pub approvals: BTreeMap<ProposalKind, ApprovalRule>,
    /// `eucora.policy.v1` hash of the canonical document.
    pub hash: Digest32,
}

/// The shipped default policy (`rulesets/default/policy-v1.json`), which
/// applies when the caller names none.
pub const DEFAULT_POLICY: &str = include_str!("../../rulesets/default/policy-v1.json");

const TOP: [&str; 7] = ["id", "version", "alerts", "advisor", "access", "approvals", "agents"];

impl Policy {
    /// Parse a policy from its bytes (strict JSON: a repeated key is an error).
    pub fn from_slice(bytes: &[u8]) -> Result<Policy> {
        let text = std::str::from_utf8(bytes).map_err(|_| Error::at(codes::INVALID_POLICY, "$", "not UTF-8"))?;
        let doc = parse_strict(text).map_err(|e| Error::at(codes::INVALID_POLICY, "$", format!("not JSON: {e}")))?;
        Policy::from_value(&doc)
    }

    /// Validate a policy document; the first problem, located, is the error.
    pub fn from_value(doc: &Value) -> Result<Policy> {
        let top = object(doc, "$", &TOP, &["$schema", "description"])?;
        for k in ["$schema", "description"] {
            if top.get(k).is_some_and(|v| !v.is_string()) {
                return Err(bad(&format!("$.{k}"), "expected a string"));
            }
        }
        match top.get("id") {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            _ => return Err(bad("$.id", "expected a non-empty string")),
        }
        integer(&top["version"], "$.version")?;
        for k in ["alerts", "advisor"] {
            if !top[k].is_object() {
                return Err(bad(&format!("$.{k}"), "expected an object"));
            }
        }

        let access = object(&top["access"], "$.access", &["roles", "exclusive"], &[])?;
        let role_names = Role::names();
        let roles_obj = object(&access["roles"], "$.access.roles", &role_names, &[])?;
        let mut roles = BTreeMap::new();
        for role in Role::ALL {
            let path = format!("$.access.roles.{}", role.name());
            roles.insert(*role, names(&roles_obj[role.name()], &path, Action::from_name, "action")?);
        }
        let Value::Array(pairs) = &access["exclusive"] else { return Err(bad("$.access.exclusive", "expected an array of role pairs")) };
        let mut exclusive = Vec::new();
        for (i, pair) in pairs.iter().enumerate() {
            let path = format!("$.access.exclusive[{i}]");
            let set: Vec<Role> = names(pair, &path, Role::from_name, "role")?.into_iter().collect();
            if pair.as_array().map(Vec::len) != Some(2) || set.len() != 2 {
                return Err(bad(&path, "expected a pair of two different roles"));
            }
            let first = Role::from_name(pair[0].as_str().unwrap_or_default()).unwrap_or(set[0]);
            let second = if first == set[0] { set[1] } else { set[0] };
            exclusive.push((first, second));
        }

        let kind_names = ProposalKind::names();
        let approvals_obj = object(&top["approvals"], "$.approvals", &kind_names, &[])?;
        let mut approvals = BTreeMap::new();
        for kind in ProposalKind::ALL {
            let path = format!("$.approvals.{}", kind.name());
            let o = object(&approvals_obj[kind.name()], &path, &["approver_roles", "quorum", "expires_hours"], &[])?;
            let approver_roles = names(&o["approver_roles"], &format!("{path}.approver_roles"), Role::from_name, "role")?;
            let quorum = integer(&o["quorum"], &format!("{path}.quorum"))?;
            let expires_hours = integer(&o["expires_hours"], &format!("{path}.expires_hours"))?;
            approvals.insert(*kind, ApprovalRule { approver_roles, quorum, expires_hours });
        }

        let agent_names = AgentName::names();
        let agents_obj = object(&top["agents"], "$.agents", &agent_names, &[])?;
        let mut agents = BTreeMap::new();
        for agent in AgentName::ALL {
            let path = format!("$.agents.{}", agent.name());
            agents.insert(*agent, names(&agents_obj[agent.name()], &path, Action::from_name, "action")?);
        }

        let bytes = canonical_bytes(doc).map_err(|e| bad("$", &format!("not canonical JSON: {}", e.message())))?;
        Ok(Policy { roles, exclusive, agents, approvals, hash: tagged_hash(Domain::Policy, &bytes) })
    }

    /// The shipped default policy (its governance sections are D1's table
    /// and D2/D6's defaults; checked by this crate's tests).
    pub fn default_policy() -> Policy {
        Policy::from_slice(DEFAULT_POLICY.as_bytes()).unwrap_or_else(|e| unreachable!("the shipped policy is valid: {e}"))
    }

    /// The policy's hash as written in proposals (`sha256:<hex>`).
    pub fn hash_string(&self) -> String {
        self.hash.to_prefixed()
    }

    /// The approval rule of `kind` (every kind is present once validated).
    pub fn rule(&self, kind: ProposalKind) -> &ApprovalRule {
        &self.approvals[&kind]
    }

    /// True when a user with `roles` holds `action` through some role.
    pub fn roles_hold(&self, roles: &BTreeSet<Role>, action: Action) -> bool {
        roles.iter().any(|r| self.roles.get(r).is_some_and(|acts| acts.contains(&action)))
    }

    /// True when `roles` hold both roles of an exclusive pair.
    pub fn conflicting(&self, roles: &BTreeSet<Role>) -> bool {
        self.exclusive.iter().any(|(a, b)| roles.contains(a) && roles.contains(b))
    }
}

fn bad(path: &str, message: &str) -> Error {
    Error::at(codes::INVALID_POLICY, path, message)
}

/// An object with exactly the `required` keys plus any of `optional`.
fn object<'a>(v: &'a Value, path: &str, required: &[&str], optional: &[&str]) -> Result<&'a Map<String, Value>> {
    let Some(o) = v.as_object() else { return Err(bad(path, "expected an object")) };
    for k in required {
        if !o.contains_key(*k) {
            return Err(bad(&format!("{path}.{k}"), &format!("required key `{k}` is missing")));
        }
    }
    if let Some(k) = o.keys().find(|k| !required.contains(&k.as_str()) && !optional.contains(&k.as_str())) {
        return Err(if eucora_license_core::internal::error::is_displayable_name(k) {
            bad(&format!("{path}.{k}"), &format!("unknown key `{k}`"))
        } else {
            bad(path, "unknown key (not shown: it does not look like a name)")
        });
    }
    Ok(o)
}

/// An integer in `1..=2^53-1`.
fn integer(v: &Value, path: &str) -> Result<u64> {
    match v.as_u64() {
        Some(i) if (1..=MAX_SAFE_INTEGER as u64).contains(&i) => Ok(i),
        _ => Err(bad(path, "expected an integer ≥ 1")),
    }
}

/// A list of known names, each once.
fn names<T: Ord + Copy>(v: &Value, path: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<BTreeSet<T>> {
    let Some(items) = v.as_array() else { return Err(bad(path, &format!("expected an array of {what} names"))) };
    let mut out = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(s) = item.as_str() else { return Err(bad(&p, &format!("expected a {what} name"))) };
        let Some(t) = parse(s) else {
            let shown = if eucora_license_core::internal::error::is_displayable_name(&s.replace('.', "_")) {
                format!(" `{s}`")
            } else {
                String::new()
            };
            return Err(bad(&p, &format!("unknown {what}{shown}")));
        };
        if !out.insert(t) {
            return Err(bad(&p, &format!("{what} `{s}` is listed twice")));
        }
    }
    Ok(out)
}

/// The default sections of D1's table and D2/D6's defaults, as a complete
/// policy document (`id` `default`, version 1, empty `alerts`/`advisor`),
/// for tests and examples. The shipped `rulesets/default/policy-v1.json`
/// carries the same governance sections.
pub fn default_document() -> Value {
    use serde_json::json;
    let views = ["view.sidebar", "view.dashboard", "view.alerts", "view.recommendations"];
    let approves: Vec<&str> = Action::ALL.iter().filter(|a| a.is_approve()).map(|a| a.name()).collect();
    let ordered = |names: Vec<&str>| -> Vec<&'static str> { Action::ALL.iter().map(|a| a.name()).filter(|n| names.contains(n)).collect() };
    let mut admin: Vec<&str> = views.to_vec();
    admin.extend(["view.evidence", "catalog.write", "integration.write", "import.upload", "reconcile.run"]);
    admin.extend(["entitlement.propose", "ruleset.propose", "mapping.propose", "recommendation.propose", "policy.propose"]);
    let mut auditor: Vec<&str> = views.to_vec();
    auditor.extend(["view.evidence", "evidence.export", "audit.run"]);
    let mut ops: Vec<&str> = views.to_vec();
    ops.extend(approves);
    let mut operator: Vec<&str> = views.to_vec();
    operator.extend(["import.upload", "reconcile.run", "entitlement.propose", "mapping.propose", "recommendation.propose", "agent.run"]);
    let rule = json!({"approver_roles": ["ops_manager"], "quorum": 1, "expires_hours": 168});
    let approvals: Map<String, Value> = ProposalKind::ALL.iter().map(|k| (k.name().to_string(), rule.clone())).collect();
    json!({
        "id": "default",
        "version": 1,
        "alerts": {},
        "advisor": {},
        "access": {
            "roles": {
                "license_admin": ordered(admin),
                "license_auditor": ordered(auditor),
                "ops_manager": ordered(ops),
                "agent_operator": ordered(operator),
                "viewer": ["view.sidebar", "view.dashboard"],
            },
            "exclusive": [["license_admin", "license_auditor"]],
        },
        "approvals": approvals,
        "agents": {
            "inventory_extractor": ["entitlement.propose"],
            "consumption_discovery": ["import.upload", "mapping.propose"],
            "truth_builder": ["reconcile.run"],
            "anomaly_detector": ["view.alerts"],
            "optimization_advisor": ["recommendation.propose"],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_document_is_d1s_table() {
        let p = Policy::from_value(&default_document()).unwrap();
        let acts = |r: Role| p.roles[&r].iter().map(|a| a.name()).collect::<Vec<_>>();
        assert_eq!(acts(Role::Viewer), ["view.sidebar", "view.dashboard"]);
        assert_eq!(acts(Role::LicenseAuditor).len(), 7);
        assert_eq!(acts(Role::LicenseAdmin).len(), 14);
        assert!(acts(Role::OpsManager).iter().filter(|a| a.ends_with(".approve")).count() == 5);
        assert_eq!(p.exclusive, vec![(Role::LicenseAdmin, Role::LicenseAuditor)]);
        assert_eq!(p.rule(ProposalKind::MappingSku).quorum, 1);
        assert_eq!(p.rule(ProposalKind::MappingSku).expires_hours, 168);
    }

    #[test]
    fn the_shipped_policy_has_d1s_governance_sections() {
        let shipped = Policy::default_policy();
        let inline = Policy::from_value(&default_document()).unwrap();
        assert_eq!(shipped.roles, inline.roles);
        assert_eq!(shipped.exclusive, inline.exclusive);
        assert_eq!(shipped.agents, inline.agents);
        assert_eq!(shipped.approvals, inline.approvals);
        assert_ne!(shipped.hash, inline.hash, "the documents differ outside these sections");
    }

    #[test]
    fn bad_documents_are_located() {
        type Edit = fn(&mut Value);
        let cases: Vec<(Edit, &str)> = vec![
            (|d| d["access"]["roles"]["viewer"] = serde_json::json!(["view.*"]), "$.access.roles.viewer[0]"),
            (|d| d["access"]["roles"]["viewer"] = serde_json::json!(["view.sidebar", "view.sidebar"]), "$.access.roles.viewer[1]"),
            (|d| drop(d["access"]["roles"].as_object_mut().unwrap().remove("viewer")), "$.access.roles.viewer"),
            (|d| d["access"]["roles"]["auditor"] = serde_json::json!([]), "$.access.roles.auditor"),
            (|d| d["access"]["exclusive"] = serde_json::json!([["viewer", "viewer"]]), "$.access.exclusive[0][1]"),
            (|d| d["access"]["exclusive"] = serde_json::json!([["viewer"]]), "$.access.exclusive[0]"),
            (|d| d["approvals"]["recommendation"]["quorum"] = 0.into(), "$.approvals.recommendation.quorum"),
            (|d| d["approvals"]["mapping.sku"]["expires_hours"] = 0.into(), "$.approvals.mapping.sku.expires_hours"),
            (
                |d| d["approvals"]["mapping.sku"]["approver_roles"] = serde_json::json!(["boss"]),
                "$.approvals.mapping.sku.approver_roles[0]",
            ),
            (|d| drop(d["approvals"].as_object_mut().unwrap().remove("policy.version")), "$.approvals.policy.version"),
            (|d| d["agents"]["helper"] = serde_json::json!([]), "$.agents.helper"),
            (|d| d["agents"]["truth_builder"] = serde_json::json!(["reconcile"]), "$.agents.truth_builder[0]"),
            (|d| d["extra"] = 1.into(), "$.extra"),
            (|d| d["version"] = 0.into(), "$.version"),
            (|d| d["alerts"] = serde_json::json!({"x": 1.5}), "$"),
        ];
        for (edit, path) in cases {
            let mut d = default_document();
            edit(&mut d);
            let e = Policy::from_value(&d).unwrap_err();
            assert_eq!((e.code, e.path.as_deref()), ("invalid_policy", Some(path)), "{e}");
        }
        assert_eq!(Policy::from_slice(b"{\"id\": 1, \"id\": 2}").unwrap_err().code, "invalid_policy");
    }

    #[test]
    fn an_agent_may_list_an_approve_action_and_the_hash_covers_everything() {
        let mut d = default_document();
        d["agents"]["anomaly_detector"] = serde_json::json!(["view.alerts", "policy.approve"]);
        let a = Policy::from_value(&d).unwrap();
        let b = Policy::from_value(&default_document()).unwrap();
        assert_ne!(a.hash, b.hash);
        d["description"] = "x".into();
        assert_ne!(Policy::from_value(&d).unwrap().hash, a.hash);
        assert_eq!(b.hash, tagged_hash(Domain::Policy, &canonical_bytes(&default_document()).unwrap()));
    }
}
