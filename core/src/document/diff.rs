//! The diff documents (DESIGN A6/A7): the snapshot's `diff` (counts per
//! reason, [`DiffSummary`]) and the evidence pack's `diff.json` (the unit
//! lists, [`DiffDetail`]). The history layer computes them; this module only
//! says what they are.
//!
//! Two bases: `units` (the previous run's units were at hand — a chained
//! pack — so every change has a reason) and `counters` (only the previous
//! snapshot: counter deltas, no reasons). Fields that exist only on the
//! `units` basis are `Option`s skipped when absent, so both bases serialize
//! exactly as written before documents were typed.

use crate::input::catalog::Model;
use crate::vocab::{CoverageStatus, DiffReason};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a diff was derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffBasis {
    /// Unit by unit, every change with a reason.
    Units,
    /// Counter deltas only (the previous units were not at hand).
    Counters,
}

/// The change of the five counters of one SKU (current − previous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterDelta {
    /// Δ entitled.
    pub entitled: i64,
    /// Δ reserved.
    pub reserved: i64,
    /// Δ consumed.
    pub consumed: i64,
    /// Δ remaining.
    pub remaining: i64,
    /// Δ available.
    pub available: i64,
}

impl CounterDelta {
    /// Whether nothing changed.
    pub fn is_zero(&self) -> bool {
        *self == CounterDelta::default()
    }
}

/// A counter before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeforeAfter {
    /// In the previous snapshot.
    pub previous: i64,
    /// In this snapshot.
    pub current: i64,
}

/// A source that was not `ok`, and the SKUs it took units from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageGap {
    /// The source.
    pub source: String,
    /// `missing` or `degraded`.
    pub status: CoverageStatus,
    /// SKUs that lost units because of it.
    pub skus: Vec<String>,
}

/// One SKU's entry in the snapshot's `diff.skus` (SKUs that changed only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuChange {
    /// The SKU id.
    pub sku: String,
    /// Counter deltas.
    pub delta: CounterDelta,
    /// The SKU's model (`units` basis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
    /// Consumed before and after (`units` basis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed: Option<BeforeAfter>,
    /// Entitled before and after (`units` basis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitled: Option<BeforeAfter>,
    /// Units added, weight per reason (`units` basis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<BTreeMap<DiffReason, i64>>,
    /// Units removed, weight per reason (`units` basis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<BTreeMap<DiffReason, i64>>,
    /// Entitlement quantity changes per reason (`units` basis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<BTreeMap<DiffReason, i64>>,
}

/// A diff's head and SKU entries: `S` is [`SkuChange`] in the snapshot and
/// [`SkuUnitChanges`] in the pack's unit-level `diff.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diff<S> {
    /// The previous snapshot's hash.
    pub previous_hash: String,
    /// The previous snapshot's sequence.
    pub previous_sequence: i64,
    /// `units` or `counters`.
    pub basis: DiffBasis,
    /// Whether the ruleset hash changed (`units` basis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruleset_changed: Option<bool>,
    /// The SKUs that changed, in SKU-id order.
    pub skus: Vec<S>,
    /// Sources not `ok` this run (`units` basis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_gaps: Option<Vec<CoverageGap>>,
}

/// The snapshot's `diff`.
pub type DiffSummary = Diff<SkuChange>;

/// One unit added or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitChange {
    /// The unit's canonical key.
    pub key: String,
    /// Why.
    pub reason: DiffReason,
    /// Its weight (1; a session's quantity for concurrent SKUs).
    pub weight: i64,
    /// The sources of its signals.
    pub sources: Vec<String>,
}

/// One entitlement change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitlementChange {
    /// The entitlement.
    pub entitlement_id: String,
    /// `entitlement_started`, `entitlement_ended` or `quantity_changed`.
    pub reason: DiffReason,
    /// The quantity change (negative when it ended or shrank).
    pub quantity: i64,
}

/// One SKU's unit lists in the pack's `diff.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuUnitChanges {
    /// The SKU id.
    pub sku: String,
    /// Its model.
    pub model: Model,
    /// Units added.
    pub added: Vec<UnitChange>,
    /// Units removed.
    pub removed: Vec<UnitChange>,
    /// Entitlement changes.
    pub entitlements: Vec<EntitlementChange>,
}

/// The pack's `diff.json`: unit lists, or (with a bare previous snapshot)
/// the same counter deltas as the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum DiffDetail {
    /// Unit lists per SKU.
    Units(Diff<SkuUnitChanges>),
    /// Counter deltas per SKU.
    Counters(DiffSummary),
}

impl<'de> Deserialize<'de> for DiffDetail {
    /// By `basis` (an untagged guess would read an empty counters diff as
    /// a unit-level one).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DiffDetail, D::Error> {
        use serde::de::Error as _;
        let v = serde_json::Value::deserialize(d)?;
        match v.get("basis").and_then(serde_json::Value::as_str) {
            Some("units") => serde_json::from_value(v).map(DiffDetail::Units).map_err(D::Error::custom),
            Some("counters") => serde_json::from_value(v).map(DiffDetail::Counters).map_err(D::Error::custom),
            _ => Err(D::Error::custom("`basis` must be `units` or `counters`")),
        }
    }
}
