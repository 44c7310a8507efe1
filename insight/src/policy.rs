//! The policy document (DESIGN C1, C6, D6): the thresholds of the alerts and
//! the advisor, and the governance sections (`access`, `approvals`,
//! `agents`), validated as strictly as a ruleset — every key required,
//! unknown keys refused (`$schema` and `description` allowed at the top),
//! every problem located by its JSON path — and hashed with
//! `eucora.policy.v1` over the whole canonical document. A policy never
//! changes a snapshot: tuning an alert is not a `ruleset_changed`.

use crate::error::{InsightCode, InsightError, Result};
use crate::rational::Rat;
use eucora_license_core::{canonical_bytes, tagged_hash, Digest32, Domain};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The shipped default policy (`rulesets/default/policy-v1.json`).
pub const DEFAULT_POLICY: &str = include_str!("../../rulesets/default/policy-v1.json");

/// The roles of D1, in D1's order.
pub const ROLES: [&str; 5] = ["license_admin", "license_auditor", "ops_manager", "agent_operator", "viewer"];

/// The actions of D1, a closed list in D1's order.
pub const ACTIONS: [&str; 22] = [
    "view.sidebar",
    "view.dashboard",
    "view.alerts",
    "view.recommendations",
    "view.evidence",
    "evidence.export",
    "audit.run",
    "catalog.write",
    "integration.write",
    "import.upload",
    "reconcile.run",
    "entitlement.propose",
    "entitlement.approve",
    "ruleset.propose",
    "ruleset.approve",
    "mapping.propose",
    "mapping.approve",
    "recommendation.propose",
    "recommendation.approve",
    "policy.propose",
    "policy.approve",
    "agent.run",
];

/// The agents of D4.
pub const AGENTS: [&str; 5] = ["inventory_extractor", "consumption_discovery", "truth_builder", "anomaly_detector", "optimization_advisor"];

/// The proposal kinds of D2.
pub const KINDS: [&str; 8] = [
    "entitlement.create",
    "entitlement.update",
    "entitlement.end",
    "ruleset.version",
    "mapping.alias",
    "mapping.sku",
    "recommendation",
    "policy.version",
];

/// The `alerts` section (C1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertPolicy {
    /// `utilization_high` fires at this percentage of the entitlement.
    pub utilization_warning_percent: i64,
    /// At most this many earlier snapshots form a spike baseline.
    pub spike_baseline_runs: i64,
    /// At least this many earlier snapshots, else no spike/drop alert.
    pub spike_min_runs: i64,
    /// A spike or drop moves at least this many units.
    pub spike_min_units: i64,
    /// ... and at least this percentage of the baseline.
    pub spike_percent: i64,
    /// ... and a modified z-score above this factor (unless MAD is 0).
    pub spike_mad_factor: Rat,
    /// The oscillation window, in runs.
    pub oscillation_window_runs: i64,
    /// Differences smaller than this are ignored for oscillation.
    pub oscillation_min_units: i64,
    /// Sign changes needed for `oscillation`.
    pub oscillation_flips: i64,
    /// The forecast window, in runs.
    pub forecast_window_runs: i64,
    /// At least this many runs, else no forecast.
    pub forecast_min_runs: i64,
    /// A forecast within this many days alerts.
    pub forecast_horizon_days: i64,
    /// A source whose newest signal is older than this is stale.
    pub source_stale_hours: i64,
}

/// The `advisor` section (C1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisorPolicy {
    /// The `right_size` peak window, days.
    pub right_size_window_days: i64,
    /// The currency of every amount; costs in another are not converted.
    pub currency: String,
}

/// One `approvals` entry (D2, D6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRule {
    /// Roles whose approval counts.
    pub approver_roles: Vec<String>,
    /// Distinct approvers needed (≥ 1).
    pub quorum: i64,
    /// Hours before a proposal expires (≥ 1).
    pub expires_hours: i64,
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `id`.
    pub id: String,
    /// `version` (≥ 1).
    pub version: i64,
    /// `alerts`.
    pub alerts: AlertPolicy,
    /// `advisor`.
    pub advisor: AdvisorPolicy,
    /// `access.roles`: role → actions.
    pub roles: BTreeMap<String, Vec<String>>,
    /// `access.exclusive`: role pairs no actor may hold together.
    pub exclusive: Vec<(String, String)>,
    /// `approvals`: kind → rule.
    pub approvals: BTreeMap<String, ApprovalRule>,
    /// `agents`: agent → the actions it may ever take.
    pub agents: BTreeMap<String, Vec<String>>,
    /// The document as given.
    pub document: Value,
    /// `eucora.policy.v1` hash of the canonical document.
    pub hash: Digest32,
}

/// One validation problem: a JSON path, a stable code (`invalid_json`,
/// `missing_key`, `unknown_key`, `wrong_type`, `out_of_range`,
/// `unknown_name`, `duplicate`) and a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyIssue {
    /// JSON path, e.g. `$.alerts.spike_percent`.
    pub path: String,
    /// Stable code.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

struct Checker {
    issues: Vec<PolicyIssue>,
}

impl Checker {
    fn issue(&mut self, path: &str, code: &'static str, message: impl Into<String>) {
        self.issues.push(PolicyIssue { path: path.to_string(), code, message: message.into() });
    }

    fn keys<'a>(&mut self, path: &str, v: &'a Value, required: &[&str], optional: &[&str]) -> Option<&'a Map<String, Value>> {
        let Some(obj) = v.as_object() else {
            self.issue(path, "wrong_type", "expected an object");
            return None;
        };
        for k in required {
            if !obj.contains_key(*k) {
                self.issue(&format!("{path}.{k}"), "missing_key", format!("required key `{k}` is missing"));
            }
        }
        for k in obj.keys().filter(|k| !required.contains(&k.as_str()) && !optional.contains(&k.as_str())) {
            if eucora_license_core::internal::error::is_displayable_name(k) {
                self.issue(&format!("{path}.{k}"), "unknown_key", format!("unknown key `{k}`"));
            } else {
                self.issue(path, "unknown_key", "unknown key (not shown: it does not look like a name)");
            }
        }
        Some(obj)
    }

    fn int(&mut self, path: &str, v: Option<&Value>, min: i64) -> i64 {
        let Some(v) = v else { return min };
        match v.as_i64() {
            Some(i) if i < min => {
                self.issue(path, "out_of_range", format!("must be an integer ≥ {min}"));
                min
            }
            Some(i) if i > eucora_license_core::internal::canonical::MAX_SAFE_INTEGER => {
                self.issue(path, "out_of_range", "must be at most 2^53−1");
                min
            }
            Some(i) => i,
            None if v.as_u64().is_some() => {
                self.issue(path, "out_of_range", "must be at most 2^53−1");
                min
            }
            None => {
                self.issue(path, "wrong_type", "expected an integer");
                min
            }
        }
    }

    /// A list of names from `allowed`, each once.
    fn names(&mut self, path: &str, v: Option<&Value>, allowed: &[&str], what: &str) -> Vec<String> {
        let Some(v) = v else { return Vec::new() };
        let Some(items) = v.as_array() else {
            self.issue(path, "wrong_type", format!("expected an array of {what} names"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            match item.as_str() {
                Some(s) if allowed.contains(&s) => {
                    if out.iter().any(|o: &String| o == s) {
                        self.issue(&p, "duplicate", format!("{what} `{s}` is listed twice"));
                    } else {
                        out.push(s.to_string());
                    }
                }
                Some(s) if eucora_license_core::internal::error::is_displayable_name(s) => {
                    self.issue(&p, "unknown_name", format!("unknown {what} `{s}`"))
                }
                Some(_) => self.issue(&p, "unknown_name", format!("unknown {what}")),
                None => self.issue(&p, "wrong_type", format!("expected a {what} name")),
            }
        }
        out
    }
}

const ALERT_INTS: [&str; 12] = [
    "utilization_warning_percent",
    "spike_baseline_runs",
    "spike_min_runs",
    "spike_min_units",
    "spike_percent",
    "oscillation_window_runs",
    "oscillation_min_units",
    "oscillation_flips",
    "forecast_window_runs",
    "forecast_min_runs",
    "forecast_horizon_days",
    "source_stale_hours",
];

/// Validate a policy document; every problem found, each located.
pub fn validate(doc: &Value) -> std::result::Result<Policy, Vec<PolicyIssue>> {
    let mut c = Checker { issues: Vec::new() };
    const TOP: [&str; 7] = ["id", "version", "alerts", "advisor", "access", "approvals", "agents"];
    let Some(top) = c.keys("$", doc, &TOP, &["$schema", "description"]) else { return Err(c.issues) };
    for k in ["$schema", "description"] {
        if top.get(k).is_some_and(|v| !v.is_string()) {
            c.issue(&format!("$.{k}"), "wrong_type", "expected a string");
        }
    }
    let id = match top.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => {
            c.issue("$.id", "out_of_range", "must not be empty");
            String::new()
        }
        Some(_) => {
            c.issue("$.id", "wrong_type", "expected a string");
            String::new()
        }
        None => String::new(),
    };
    let version = c.int("$.version", top.get("version"), 1);

    let mut ints = BTreeMap::new();
    let mut mad_factor = Rat::ZERO;
    if let Some(v) = top.get("alerts") {
        let mut keys: Vec<&str> = ALERT_INTS.to_vec();
        keys.push("spike_mad_factor");
        if let Some(o) = c.keys("$.alerts", v, &keys, &[]) {
            for k in ALERT_INTS {
                ints.insert(k, c.int(&format!("$.alerts.{k}"), o.get(k), 0));
            }
            match o.get("spike_mad_factor") {
                None => {}
                Some(Value::String(s)) => match Rat::from_decimal(s) {
                    Some(r) if !r.is_positive() && !r.is_zero() => {
                        c.issue("$.alerts.spike_mad_factor", "out_of_range", "must be a decimal ≥ 0")
                    }
                    Some(r) => mad_factor = r,
                    None => c.issue("$.alerts.spike_mad_factor", "wrong_type", "expected a decimal string such as \"3.5\""),
                },
                Some(_) => c.issue("$.alerts.spike_mad_factor", "wrong_type", "expected a decimal string such as \"3.5\""),
            }
        }
    }
    let g = |k: &str| ints.get(k).copied().unwrap_or(0);
    let alerts = AlertPolicy {
        utilization_warning_percent: g("utilization_warning_percent"),
        spike_baseline_runs: g("spike_baseline_runs"),
        spike_min_runs: g("spike_min_runs"),
        spike_min_units: g("spike_min_units"),
        spike_percent: g("spike_percent"),
        spike_mad_factor: mad_factor,
        oscillation_window_runs: g("oscillation_window_runs"),
        oscillation_min_units: g("oscillation_min_units"),
        oscillation_flips: g("oscillation_flips"),
        forecast_window_runs: g("forecast_window_runs"),
        forecast_min_runs: g("forecast_min_runs"),
        forecast_horizon_days: g("forecast_horizon_days"),
        source_stale_hours: g("source_stale_hours"),
    };

    let mut advisor = AdvisorPolicy { right_size_window_days: 0, currency: String::new() };
    if let Some(v) = top.get("advisor") {
        if let Some(o) = c.keys("$.advisor", v, &["right_size_window_days", "currency"], &[]) {
            advisor.right_size_window_days = c.int("$.advisor.right_size_window_days", o.get("right_size_window_days"), 0);
            match o.get("currency") {
                None => {}
                Some(Value::String(s)) if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) => advisor.currency = s.clone(),
                Some(Value::String(_)) => c.issue("$.advisor.currency", "out_of_range", "must be three upper-case letters (ISO 4217)"),
                Some(_) => c.issue("$.advisor.currency", "wrong_type", "expected a string"),
            }
        }
    }

    let mut roles = BTreeMap::new();
    let mut exclusive = Vec::new();
    if let Some(v) = top.get("access") {
        if let Some(o) = c.keys("$.access", v, &["roles", "exclusive"], &[]) {
            if let Some(r) = o.get("roles") {
                if let Some(ro) = c.keys("$.access.roles", r, &ROLES, &[]) {
                    for role in ROLES {
                        let acts = c.names(&format!("$.access.roles.{role}"), ro.get(role), &ACTIONS, "action");
                        roles.insert(role.to_string(), acts);
                    }
                }
            }
            match o.get("exclusive") {
                None => {}
                Some(Value::Array(pairs)) => {
                    for (i, p) in pairs.iter().enumerate() {
                        let path = format!("$.access.exclusive[{i}]");
                        let names = c.names(&path, Some(p), &ROLES, "role");
                        if p.as_array().is_some_and(|a| a.len() != 2) {
                            c.issue(&path, "wrong_type", "expected a pair of two different roles");
                        } else if names.len() == 2 {
                            exclusive.push((names[0].clone(), names[1].clone()));
                        }
                    }
                }
                Some(_) => c.issue("$.access.exclusive", "wrong_type", "expected an array of role pairs"),
            }
        }
    }

    let mut approvals = BTreeMap::new();
    if let Some(v) = top.get("approvals") {
        if let Some(o) = c.keys("$.approvals", v, &KINDS, &[]) {
            for kind in KINDS {
                let path = format!("$.approvals.{kind}");
                let Some(k) = o.get(kind) else { continue };
                if let Some(ko) = c.keys(&path, k, &["approver_roles", "quorum", "expires_hours"], &[]) {
                    let approver_roles = c.names(&format!("{path}.approver_roles"), ko.get("approver_roles"), &ROLES, "role");
                    let quorum = c.int(&format!("{path}.quorum"), ko.get("quorum"), 1);
                    let expires_hours = c.int(&format!("{path}.expires_hours"), ko.get("expires_hours"), 1);
                    approvals.insert(kind.to_string(), ApprovalRule { approver_roles, quorum, expires_hours });
                }
            }
        }
    }

    let mut agents = BTreeMap::new();
    if let Some(v) = top.get("agents") {
        if let Some(o) = c.keys("$.agents", v, &AGENTS, &[]) {
            for agent in AGENTS {
                let acts = c.names(&format!("$.agents.{agent}"), o.get(agent), &ACTIONS, "action");
                agents.insert(agent.to_string(), acts);
            }
        }
    }

    if !c.issues.is_empty() {
        return Err(c.issues);
    }
    let hash = match canonical_bytes(doc) {
        Ok(bytes) => tagged_hash(Domain::Policy, &bytes),
        Err(e) => return Err(vec![PolicyIssue { path: "$".into(), code: "wrong_type", message: e.message().to_string() }]),
    };
    Ok(Policy { id, version, alerts, advisor, roles, exclusive, approvals, agents, document: doc.clone(), hash })
}

impl Policy {
    /// Parse and validate a policy from its bytes; `file` names it in the
    /// error (`invalid_policy`, located by JSON path, `index` null).
    pub fn parse(bytes: &[u8], file: &str) -> Result<Policy> {
        Policy::check(bytes).map_err(|issues| issues_to_error(file, &issues))
    }

    /// Parse and validate a policy from its bytes, reporting every problem
    /// (text that is not JSON is one `invalid_json` issue at `$`), for
    /// build tooling that prints them all.
    pub fn check(bytes: &[u8]) -> std::result::Result<Policy, Vec<PolicyIssue>> {
        let json = |message: String| vec![PolicyIssue { path: "$".into(), code: "invalid_json", message }];
        let text = std::str::from_utf8(bytes).map_err(|_| json("not UTF-8".into()))?;
        let doc = eucora_license_core::internal::canonical::parse_strict(text).map_err(|e| json(format!("not JSON: {e}")))?;
        validate(&doc)
    }

    /// The shipped default policy.
    pub fn default_policy() -> Policy {
        // The shipped document is checked by this crate's tests.
        Policy::parse(DEFAULT_POLICY.as_bytes(), "policy-v1.json").unwrap_or_else(|e| unreachable!("the shipped policy is valid: {e}"))
    }

    /// `{"id", "version", "hash"}`, as the CLI prints it.
    pub fn identity(&self) -> PolicyIdentity {
        PolicyIdentity { hash: self.hash.to_prefixed(), id: self.id.clone(), version: self.version }
    }
}

/// A policy's identity in outputs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyIdentity {
    /// `sha256:` hash (`eucora.policy.v1`).
    pub hash: String,
    /// `id`.
    pub id: String,
    /// `version`.
    pub version: i64,
}

fn invalid(file: &str, path: &str, message: &str) -> InsightError {
    InsightError::new(InsightCode::InvalidPolicy, format!("{file} [{path}]: {message}"), None)
}

/// Validation issues as one `invalid_policy` error naming the first.
pub fn issues_to_error(file: &str, issues: &[PolicyIssue]) -> InsightError {
    let first = &issues[0];
    let more = if issues.len() > 1 { format!(" (and {} more)", issues.len() - 1) } else { String::new() };
    invalid(file, &first.path, &format!("{} [{}]{more}", first.message, first.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_doc() -> Value {
        serde_json::from_str(DEFAULT_POLICY).unwrap()
    }

    #[test]
    fn the_shipped_default_is_valid_with_c1_values() {
        let p = Policy::default_policy();
        assert_eq!((p.id.as_str(), p.version), ("default", 1));
        assert_eq!(p.alerts.spike_baseline_runs, 14);
        assert_eq!(p.alerts.spike_mad_factor, Rat::new(7, 2).unwrap());
        assert_eq!(p.advisor.currency, "USD");
        assert_eq!(p.approvals["recommendation"].approver_roles, vec!["ops_manager".to_string()]);
        assert_eq!(p.exclusive, vec![("license_admin".to_string(), "license_auditor".to_string())]);
        assert_eq!(p.agents["truth_builder"], vec!["reconcile.run".to_string()]);
        assert!(p.roles["viewer"] == vec!["view.sidebar".to_string(), "view.dashboard".to_string()]);
    }

    #[test]
    fn hash_covers_the_whole_document() {
        let a = Policy::default_policy();
        let mut d = default_doc();
        d["description"] = Value::String("another".into());
        let b = validate(&d).unwrap();
        assert_ne!(a.hash, b.hash);
        assert_eq!(a.hash, tagged_hash(Domain::Policy, &canonical_bytes(&default_doc()).unwrap()));
    }

    #[test]
    fn bad_documents_are_located() {
        type Case = (fn(&mut Value), &'static str, &'static str);
        let cases: Vec<Case> = vec![
            (|d| d["alerts"]["spike_percnt"] = 1.into(), "$.alerts.spike_percnt", "unknown_key"),
            (|d| drop(d["alerts"].as_object_mut().unwrap().remove("spike_percent")), "$.alerts.spike_percent", "missing_key"),
            (|d| d["alerts"]["spike_percent"] = (-1).into(), "$.alerts.spike_percent", "out_of_range"),
            (|d| d["alerts"]["spike_mad_factor"] = 3.into(), "$.alerts.spike_mad_factor", "wrong_type"),
            (|d| d["alerts"]["spike_mad_factor"] = "-1".into(), "$.alerts.spike_mad_factor", "out_of_range"),
            (|d| d["advisor"]["currency"] = "usd".into(), "$.advisor.currency", "out_of_range"),
            (|d| drop(d.as_object_mut().unwrap().remove("agents")), "$.agents", "missing_key"),
            (|d| d["access"]["roles"]["viewer"] = serde_json::json!(["view.*"]), "$.access.roles.viewer[0]", "unknown_name"),
            (|d| d["approvals"]["recommendation"]["quorum"] = 0.into(), "$.approvals.recommendation.quorum", "out_of_range"),
            (|d| d["approvals"]["mapping.sku"]["expires_hours"] = 0.into(), "$.approvals.mapping.sku.expires_hours", "out_of_range"),
            (
                |d| d["agents"]["truth_builder"] = serde_json::json!(["reconcile.run", "reconcile.run"]),
                "$.agents.truth_builder[1]",
                "duplicate",
            ),
            (|d| d["version"] = 0.into(), "$.version", "out_of_range"),
        ];
        for (edit, path, code) in cases {
            let mut d = default_doc();
            edit(&mut d);
            let issues = validate(&d).unwrap_err();
            assert_eq!((issues[0].path.as_str(), issues[0].code), (path, code), "{issues:?}");
        }
        let e = Policy::parse(b"{", "p.json").unwrap_err();
        assert_eq!((e.code, e.index), (InsightCode::InvalidPolicy, None));
    }

    #[test]
    fn an_agent_may_list_an_approve_action() {
        let mut d = default_doc();
        d["agents"]["anomaly_detector"] = serde_json::json!(["view.alerts", "policy.approve"]);
        assert!(validate(&d).is_ok());
    }
}
