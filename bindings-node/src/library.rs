//! The library itself.

use eucora_license_core as core_;
use napi_derive::napi;

/// The library version, e.g. `"0.1.0"`.
#[napi(catch_unwind)]
pub fn version() -> String {
    core_::VERSION.to_string()
}

/// The engine's closed vocabularies, as the core exports them (the same as
/// the C ABI's `eucora_license_vocabulary`, so its keys are snake_case).
#[napi(object)]
pub struct Vocabulary {
    /// Exception codes (`future_signal`, `unknown_sku`, ...).
    #[napi(js_name = "exception_codes")]
    pub exception_codes: Vec<String>,
    /// Diff reasons, in order of precedence (`merged_identity` first).
    #[napi(js_name = "diff_reasons")]
    pub diff_reasons: Vec<String>,
    /// Compliance statuses of a SKU.
    #[napi(js_name = "compliance_statuses")]
    pub compliance_statuses: Vec<String>,
    /// Health of a snapshot.
    #[napi(js_name = "health_states")]
    pub health_states: Vec<String>,
    /// States of the sidebar, most severe first.
    #[napi(js_name = "sidebar_states")]
    pub sidebar_states: Vec<String>,
    /// Codes of the sidebar's reason.
    #[napi(js_name = "sidebar_reasons")]
    pub sidebar_reasons: Vec<String>,
    /// Coverage statuses of a source.
    #[napi(js_name = "coverage_statuses")]
    pub coverage_statuses: Vec<String>,
    /// Run statuses.
    #[napi(js_name = "run_statuses")]
    pub run_statuses: Vec<String>,
    /// Device-key prefixes (`serial:`, `id:`, `name:`).
    #[napi(js_name = "device_key_prefixes")]
    pub device_key_prefixes: Vec<String>,
    /// Codes of rejected input rows (`missing_field`, `malformed_instant`, ...).
    #[napi(js_name = "row_error_codes")]
    pub row_error_codes: Vec<String>,
    /// What disagrees between a vendor portal and our numbers.
    #[napi(js_name = "discrepancies")]
    pub discrepancies: Vec<String>,
    /// Statuses of a pack verification check.
    #[napi(js_name = "check_statuses")]
    pub check_statuses: Vec<String>,
    /// Kinds of snapshot health reasons (`<kind>:<source>`).
    #[napi(js_name = "health_reason_kinds")]
    pub health_reason_kinds: Vec<String>,
    /// Codes of ruleset validation issues.
    #[napi(js_name = "ruleset_issue_codes")]
    pub ruleset_issue_codes: Vec<String>,
    /// The roles of D1 (`license_admin`, ...).
    #[napi(js_name = "roles")]
    pub roles: Vec<String>,
    /// The actions of D1, in D1's order.
    #[napi(js_name = "actions")]
    pub actions: Vec<String>,
    /// The agents of D4.
    #[napi(js_name = "agents")]
    pub agents: Vec<String>,
    /// Reasons of an authorization decision (`allowed`, ...).
    #[napi(js_name = "authorize_reasons")]
    pub authorize_reasons: Vec<String>,
    /// Why an approval does not count, in the order of the checks.
    #[napi(js_name = "approval_refusals")]
    pub approval_refusals: Vec<String>,
    /// Kinds of proposals.
    #[napi(js_name = "proposal_kinds")]
    pub proposal_kinds: Vec<String>,
    /// States of a proposal.
    #[napi(js_name = "proposal_states")]
    pub proposal_states: Vec<String>,
    /// An approver's decisions (`approve`, `reject`).
    #[napi(js_name = "approval_decisions")]
    pub approval_decisions: Vec<String>,
    /// Why an audit log does not verify.
    #[napi(js_name = "audit_failures")]
    pub audit_failures: Vec<String>,
}

/// The engine's closed vocabularies: table name → stable names in
/// declaration order.
#[napi(catch_unwind, ts_return_type = "Vocabulary")]
pub fn vocabulary() -> serde_json::Value {
    core_::api::vocabulary()
}
