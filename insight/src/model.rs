//! The output documents of C2 and C3: alerts and recommendations, with
//! their subjects, evidence and ids (tagged hashes over canonical
//! `{type, subject}`, so the same condition on the same subject keeps its id
//! from run to run).

use eucora_license_core::{canonical_bytes, tagged_hash, Domain};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An alert's severity: `info` < `warning` < `critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

/// A subject: only the keys that apply among `sku`, `pool`, `from_pool`,
/// `source`, `entitlement`, `principal`, `exception` (C6).
pub type Subject = BTreeMap<String, String>;

/// What an item rests on (C6): snapshot hashes oldest first, and unit keys
/// and entitlement ids only where the rule rests on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Evidence {
    /// Snapshot hashes, oldest first.
    pub snapshots: Vec<String>,
    /// Unit keys (on `possible_duplicate_user` and `reclaim_*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<Vec<String>>,
    /// Entitlement ids (on `entitlement_expiring` and `right_size`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<Vec<String>>,
}

/// One alert (C2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// `eucora.alert.v1` hash of canonical `{type, subject}`.
    pub alert_id: String,
    /// The alert type (`over_deployed`, `spike`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Severity.
    pub severity: Severity,
    /// What it is about.
    pub subject: Subject,
    /// The latest snapshot's `reconciled_at`.
    pub as_of: String,
    /// Every number the message states.
    pub facts: Map<String, Value>,
    /// What it rests on.
    pub evidence: Evidence,
    /// One English sentence built from `facts` only.
    pub message: String,
}

/// One recommendation (C3): data, never an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    /// `eucora.recommendation.v1` hash of canonical `{type, subject}`.
    pub recommendation_id: String,
    /// The type (`purchase`, `reassign`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// What it is about.
    pub subject: Subject,
    /// Seats.
    pub quantity: i64,
    /// Money per the SKU's `cost_period`, 2 places; null without a cost.
    pub amount: Option<String>,
    /// `amount` over a year, 2 places; null without a cost.
    pub annualized: Option<String>,
    /// Always the policy's `advisor.currency`.
    pub currency: String,
    /// 1…n in output order.
    pub rank: usize,
    /// The numbers it rests on.
    pub facts: Map<String, Value>,
    /// What it rests on.
    pub evidence: Evidence,
    /// One English sentence built from `facts` only.
    pub message: String,
}

/// The id of an item: the tagged hash of canonical `{type, subject}`.
pub(crate) fn item_id(domain: Domain, kind: &str, subject: &Subject) -> String {
    let v = serde_json::json!({"type": kind, "subject": subject});
    // A map of strings always canonicalises.
    let bytes = canonical_bytes(&v).unwrap_or_default();
    tagged_hash(domain, &bytes).to_prefixed()
}

/// The subject's canonical bytes (the last ordering key of C2 and C3).
pub(crate) fn subject_bytes(subject: &Subject) -> Vec<u8> {
    canonical_bytes(&serde_json::to_value(subject).unwrap_or(Value::Null)).unwrap_or_default()
}

/// A subject from pairs.
pub(crate) fn subject(pairs: &[(&str, &str)]) -> Subject {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Facts from pairs.
pub(crate) fn facts(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
