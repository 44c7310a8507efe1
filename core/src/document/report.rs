//! The run report (`run_report.json`): what a run read, what it refused and
//! why, and — for a successful run — the snapshot it sealed. Written for
//! every run, failed ones included (the sidebar and the host read it).
//!
//! A failed run knows less: the fields only a successful run has
//! (`health_reasons`, `exceptions`, `entitlement_observations`, `sequence`)
//! are absent from its report rather than null, as they always were.

use crate::document::snapshot::RulesetRef;
use crate::input::signals::ImportJob;
use crate::vocab::{Discrepancy, ExceptionCode, RunStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The run report schema identifier.
pub const RUN_REPORT_SCHEMA: &str = "eucora.license.run_report/v1";

/// One error of a failed run: its stable code and number, the message and
/// where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportError {
    /// Stable code (`catalog_integrity`, ...).
    pub code: String,
    /// Its number in the error table.
    pub number: u32,
    /// What went wrong (never echoes a value from the input).
    pub message: String,
    /// The file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The column or JSON path, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ReportError {
    /// The report form of an error.
    pub fn of(e: &crate::error::Error) -> ReportError {
        let loc = e.location();
        ReportError {
            code: e.code().name().to_string(),
            number: e.code().number(),
            message: e.message().to_string(),
            file: loc.map(|l| l.file.clone()),
            line: loc.and_then(|l| l.line),
            field: loc.and_then(|l| l.field.clone()),
        }
    }
}

/// What a vendor portal says about a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalFigures {
    /// Units in force.
    pub enabled: i64,
    /// Units in the warning (grace) state.
    pub warning: i64,
    /// Units suspended.
    pub suspended: i64,
    /// Units locked out.
    pub locked_out: i64,
    /// Units the portal says are consumed.
    pub consumed: i64,
    /// The portal's status text.
    pub status: String,
}

/// Our own numbers for the SKU a portal product maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OurFigures {
    /// Entitled, from the entitlements.
    pub entitled: i64,
    /// Consumed, from the signals.
    pub consumed: i64,
}

/// A portal observation next to our numbers (reported, never applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationCheck {
    /// The source system.
    pub source: String,
    /// The portal's product name.
    pub product: String,
    /// The portal's id of the subscription.
    pub external_id: String,
    /// The SKU the ruleset maps the product to, if any.
    pub sku: Option<String>,
    /// The portal's figures.
    pub portal: PortalFigures,
    /// Ours, when the product maps to a SKU.
    pub ours: Option<OurFigures>,
    /// What disagrees.
    pub discrepancies: Vec<Discrepancy>,
}

impl RunReport {
    /// The report as a JSON tree (keys in name order, as `run_report.json`
    /// is written): for hosts that store or render it.
    pub fn to_json(&self) -> serde_json::Value {
        // Every field is a string, an integer, a list or a map of those:
        // serialization cannot fail.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// `run_report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    /// Always [`RUN_REPORT_SCHEMA`].
    pub schema: String,
    /// `ok`, `degraded` or `failed`.
    pub status: RunStatus,
    /// The organization (null when `bundle.json` could not be read).
    pub organization_id: Option<String>,
    /// The run id (null when `bundle.json` could not be read).
    pub run_id: Option<String>,
    /// The run's `as_of` (null when `bundle.json` could not be read).
    pub reconciled_at: Option<String>,
    /// The ruleset (null when it could not be read).
    pub ruleset: Option<RulesetRef>,
    /// The fail-closed reasons (error codes, distinct).
    pub reasons: Vec<String>,
    /// Every error that failed the run.
    pub errors: Vec<ReportError>,
    /// Every import job, with its row errors and warnings.
    pub imports: Vec<ImportJob>,
    /// Non-fatal remarks.
    pub warnings: Vec<String>,
    /// The snapshot sealed (null for a failed run).
    pub snapshot_hash: Option<String>,
    /// `source_missing:<s>`, `source_degraded:<s>` (successful runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_reasons: Option<Vec<String>>,
    /// Exception records per code (successful runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptions: Option<BTreeMap<ExceptionCode, i64>>,
    /// Portal observations against our numbers (successful runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlement_observations: Option<Vec<ObservationCheck>>,
    /// The snapshot's sequence (successful runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
}
