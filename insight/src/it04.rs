//! C4: the IT-04 contracts of seed 003 — `it_check_license_compliance` rows
//! and the `it_license_*` event payloads — field for field. These payloads
//! are not hashed: money and percentages are JSON numbers written from the
//! exact decimal with exactly two places (`12.50`), not RFC 8785 numbers.

use crate::alerts;
use crate::error::{InsightCode, InsightError, Result};
use crate::inputs::{self, Entitlement, Inputs};
use crate::model::Severity;
use crate::policy::Policy;
use crate::rational::Rat;
use serde::{Serialize, Serializer};
use uuid::Uuid;

/// A decimal written as a JSON number with its two places (`12.50`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money(String);

impl Money {
    /// From a decimal string, rounded half-even to two places.
    pub fn from_decimal(s: &str) -> Option<Money> {
        Rat::from_decimal(s).and_then(Money::from_rat)
    }

    pub(crate) fn from_rat(r: Rat) -> Option<Money> {
        r.round_str(2).map(Money)
    }

    /// The number's text (`"12.50"`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // Written as a number token as it stands (serde_json's raw values).
        let raw = serde_json::value::RawValue::from_string(self.0.clone()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// The `license_id` of a SKU or an entitlement, or the organisation UUID
/// (C4): UUIDv5 in `NAMESPACE_URL`, lower-case.
pub fn license_uuid(organization_id: &str, kind: Option<(&str, &str)>) -> String {
    let name = match kind {
        Some((k, id)) => format!("eucora-license:{organization_id}:{k}:{id}"),
        None => format!("eucora-license:{organization_id}"),
    };
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()).hyphenated().to_string()
}

/// An organisation UUID given by the host, checked and lower-cased.
pub fn parse_organization_uuid(text: &str) -> Result<String> {
    Uuid::parse_str(text)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| InsightError::new(InsightCode::InvalidInput, "the organisation UUID is not a UUID", None))
}

/// One row of `it_check_license_compliance` (fields in key order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplianceRow {
    /// `compliant`, `over_deployed` or `under_utilized`.
    pub compliance_status: String,
    /// Entitled.
    pub license_count: i64,
    /// The SKU's UUIDv5.
    pub license_id: String,
    /// The catalog SKU's `name` (null when the catalog has none).
    pub software_name: Option<String>,
    /// Consumed.
    pub usage_count: i64,
    /// `variance` of the record.
    pub variance: i64,
    /// The record's `variance_percent` (null stays null).
    pub variance_percent: Option<Money>,
}

/// `compliance_check(snapshot, organization_uuid, license_id)`: one row per
/// SKU of the verified `snapshot`, in SKU order, or the one asked for (an
/// unknown `license_id` gives no row). The names come from the run's
/// `pack`, checked against the snapshot (`pack_invalid`, `pack_mismatch`).
/// `organization_uuid` is the host's identity of the organisation; rows do
/// not carry it, and a malformed one is `invalid_input`.
pub fn compliance_check(
    snapshot: &[u8],
    pack: &[u8],
    organization_uuid: Option<&str>,
    license_id: Option<&str>,
) -> Result<Vec<ComplianceRow>> {
    if let Some(u) = organization_uuid {
        parse_organization_uuid(u)?;
    }
    let archive = inputs::archive(&[snapshot], pack)?;
    let inp = inputs::open_one(snapshot, &archive)?;
    Ok(rows(&inp, license_id))
}

/// The compliance rows of opened inputs (one run): every SKU of the latest
/// snapshot, or the one `license_id` names.
pub(crate) fn rows(inp: &Inputs<'_>, license_id: Option<&str>) -> Vec<ComplianceRow> {
    let latest = inp.latest();
    let wanted = license_id.map(str::to_ascii_lowercase);
    let mut rows = Vec::new();
    for (sku, r) in &latest.skus {
        let id = license_uuid(&latest.organization_id, Some(("sku", sku)));
        if wanted.as_ref().is_some_and(|w| *w != id) {
            continue;
        }
        rows.push(ComplianceRow {
            compliance_status: r.compliance_status.clone(),
            license_count: r.entitled,
            license_id: id,
            software_name: inp.catalog.get(sku).and_then(|c| c.name.clone()),
            usage_count: r.consumed,
            variance: r.variance,
            variance_percent: r.variance_percent.as_deref().and_then(Money::from_decimal),
        });
    }
    rows
}

/// `it_license_compliance_alert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplianceAlertEvent {
    /// The SKU's compliance status.
    pub compliance_status: String,
    /// Always `it_license_compliance_alert`.
    pub event_type: &'static str,
    /// Entitled.
    pub license_count: i64,
    /// The SKU's UUID.
    pub license_id: String,
    /// The organisation's UUID.
    pub organization_id: String,
    /// The SKU's name.
    pub software_name: Option<String>,
    /// `critical` (over-deployed) or `warning` (utilization high).
    pub threshold_breached: &'static str,
    /// `as_of`.
    pub timestamp: String,
    /// Consumed.
    pub usage_count: i64,
    /// Variance.
    pub variance: i64,
    /// Variance percent (null stays null).
    pub variance_percent: Option<Money>,
}

/// `it_license_expiring`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiringEvent {
    /// Days until `expiration_date`.
    pub days_remaining: i64,
    /// Always `it_license_expiring`.
    pub event_type: &'static str,
    /// The entitlement's `ends_on`.
    pub expiration_date: String,
    /// The entitlement's quantity.
    pub license_count: i64,
    /// The entitlement's UUID.
    pub license_id: String,
    /// `per_device`, `per_user`, `concurrent` or `subscription`.
    pub license_type: Option<&'static str>,
    /// The organisation's UUID.
    pub organization_id: String,
    /// Quantity × unit cost, when known (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renewal_cost: Option<Money>,
    /// The SKU's name.
    pub software_name: Option<String>,
    /// The vendor's name.
    pub software_vendor: Option<String>,
    /// `as_of`.
    pub timestamp: String,
}

/// `it_license_created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedEvent {
    /// The unit cost (entitlement's, else SKU's).
    pub cost_per_license: Option<Money>,
    /// Always `it_license_created`.
    pub event_type: &'static str,
    /// `ends_on`, when set (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
    /// Quantity.
    pub license_count: i64,
    /// The entitlement's UUID.
    pub license_id: String,
    /// The license type of the SKU's model.
    pub license_type: Option<&'static str>,
    /// The organisation's UUID.
    pub organization_id: String,
    /// `starts_on`.
    pub purchase_date: Option<String>,
    /// The SKU's name.
    pub software_name: Option<String>,
    /// The vendor's name.
    pub software_vendor: Option<String>,
    /// `as_of`.
    pub timestamp: String,
    /// Quantity × unit cost.
    pub total_cost: Option<Money>,
}

/// `it_license_renewed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenewedEvent {
    /// Always `it_license_renewed`.
    pub event_type: &'static str,
    /// The entitlement's UUID.
    pub license_id: String,
    /// The new `ends_on`.
    pub new_expiration_date: String,
    /// The previous `ends_on`.
    pub old_expiration_date: String,
    /// The organisation's UUID.
    pub organization_id: String,
    /// New quantity × unit cost.
    pub renewal_cost: Option<Money>,
    /// The date of `as_of`.
    pub renewal_date: String,
    /// The host-given actor id, or null.
    pub renewed_by: Option<String>,
    /// The SKU's name.
    pub software_name: Option<String>,
    /// The vendor's name.
    pub software_vendor: Option<String>,
    /// `as_of`.
    pub timestamp: String,
}

/// One IT-04 event payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// `it_license_compliance_alert`.
    ComplianceAlert(ComplianceAlertEvent),
    /// `it_license_created`.
    Created(CreatedEvent),
    /// `it_license_expiring`.
    Expiring(ExpiringEvent),
    /// `it_license_renewed`.
    Renewed(RenewedEvent),
}

impl Event {
    /// `event_type`.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::ComplianceAlert(e) => e.event_type,
            Event::Created(e) => e.event_type,
            Event::Expiring(e) => e.event_type,
            Event::Renewed(e) => e.event_type,
        }
    }

    /// `license_id`.
    pub fn license_id(&self) -> &str {
        match self {
            Event::ComplianceAlert(e) => &e.license_id,
            Event::Created(e) => &e.license_id,
            Event::Expiring(e) => &e.license_id,
            Event::Renewed(e) => &e.license_id,
        }
    }
}

fn license_type(model: &str) -> Option<&'static str> {
    match model {
        "device" => Some("per_device"),
        "user" => Some("per_user"),
        "concurrent" => Some("concurrent"),
        "subscription" | "feature" => Some("subscription"),
        _ => None,
    }
}

/// `events(history, latest_pack, policy, organization_uuid)`: the IT-04
/// payloads, ordered by `event_type`, then `license_id`. `renewed_by` is
/// the host's actor id for renewals (null from the CLI).
pub fn events(
    history: &[&[u8]],
    latest_pack: &[u8],
    policy: &Policy,
    organization_uuid: Option<&str>,
    renewed_by: Option<&str>,
) -> Result<Vec<Event>> {
    let org_uuid = organization_uuid.map(parse_organization_uuid).transpose()?;
    let archive = inputs::archive(history, latest_pack)?;
    let inp = inputs::open(history, &archive)?;
    Ok(compute(&inp, policy, org_uuid, renewed_by))
}

pub(crate) fn compute(inp: &Inputs<'_>, policy: &Policy, org_uuid: Option<String>, renewed_by: Option<&str>) -> Vec<Event> {
    let latest = inp.latest();
    let org = &latest.organization_id;
    let organization_id = org_uuid.unwrap_or_else(|| license_uuid(org, None));
    let timestamp = latest.reconciled_text.clone();
    let today = latest.reconciled_at.date().to_string();
    let name = |sku: &str| inp.catalog.get(sku).and_then(|c| c.name.clone());
    let vendor = |sku: &str| inp.catalog.get(sku).and_then(|c| c.vendor.as_ref()).and_then(|v| inp.vendors.get(v).cloned());
    let ltype = |sku: &str| {
        let model = inp.catalog.get(sku).map(|c| c.model.clone()).or_else(|| latest.skus.get(sku).map(|r| r.model.clone()));
        model.as_deref().and_then(license_type)
    };
    let ent_id = |e: &str| license_uuid(org, Some(("entitlement", e)));
    let mut out = Vec::new();

    for a in alerts::compute(inp, policy) {
        let sku = a.subject.get("sku").cloned().unwrap_or_default();
        match a.kind.as_str() {
            "over_deployed" | "utilization_high" if a.subject.len() == 1 => {
                let Some(r) = latest.skus.get(&sku) else { continue };
                out.push(Event::ComplianceAlert(ComplianceAlertEvent {
                    compliance_status: r.compliance_status.clone(),
                    event_type: "it_license_compliance_alert",
                    license_count: r.entitled,
                    license_id: license_uuid(org, Some(("sku", &sku))),
                    organization_id: organization_id.clone(),
                    software_name: name(&sku),
                    threshold_breached: if a.severity == Severity::Critical { "critical" } else { "warning" },
                    timestamp: timestamp.clone(),
                    usage_count: r.consumed,
                    variance: r.variance,
                    variance_percent: r.variance_percent.as_deref().and_then(Money::from_decimal),
                }));
            }
            "entitlement_expiring" => {
                let id = a.subject.get("entitlement").cloned().unwrap_or_default();
                let f = &a.facts;
                out.push(Event::Expiring(ExpiringEvent {
                    days_remaining: f["days_left"].as_i64().unwrap_or(0),
                    event_type: "it_license_expiring",
                    expiration_date: f["ends_on"].as_str().unwrap_or_default().to_string(),
                    license_count: f["quantity"].as_i64().unwrap_or(0),
                    license_id: ent_id(&id),
                    license_type: ltype(&sku),
                    organization_id: organization_id.clone(),
                    renewal_cost: f["renewal_cost"].as_str().and_then(Money::from_decimal),
                    software_name: name(&sku),
                    software_vendor: vendor(&sku),
                    timestamp: timestamp.clone(),
                }));
            }
            _ => {}
        }
    }

    if let Some(previous) = &inp.previous_entitlements {
        let before: std::collections::BTreeMap<&str, &Entitlement> = previous.iter().map(|e| (e.id.as_str(), e)).collect();
        for e in &inp.entitlements {
            let (cost, _) = crate::advisor::cost_of(inp, &e.sku, Some(e));
            match before.get(e.id.as_str()) {
                None => out.push(Event::Created(CreatedEvent {
                    cost_per_license: cost.and_then(Money::from_rat),
                    event_type: "it_license_created",
                    expiration_date: e.ends_on.map(|d| d.to_string()),
                    license_count: e.quantity,
                    license_id: ent_id(&e.id),
                    license_type: ltype(&e.sku),
                    organization_id: organization_id.clone(),
                    purchase_date: e.starts_on.map(|d| d.to_string()),
                    software_name: name(&e.sku),
                    software_vendor: vendor(&e.sku),
                    timestamp: timestamp.clone(),
                    total_cost: cost.and_then(|c| c.checked_mul(Rat::int(e.quantity))).and_then(Money::from_rat),
                })),
                Some(old) => {
                    if let (Some(o), Some(n)) = (old.ends_on, e.ends_on) {
                        if n > o {
                            out.push(Event::Renewed(RenewedEvent {
                                event_type: "it_license_renewed",
                                license_id: ent_id(&e.id),
                                new_expiration_date: n.to_string(),
                                old_expiration_date: o.to_string(),
                                organization_id: organization_id.clone(),
                                renewal_cost: cost.and_then(|c| c.checked_mul(Rat::int(e.quantity))).and_then(Money::from_rat),
                                renewal_date: today.clone(),
                                renewed_by: renewed_by.map(str::to_string),
                                software_name: name(&e.sku),
                                software_vendor: vendor(&e.sku),
                                timestamp: timestamp.clone(),
                            }));
                        }
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| a.event_type().cmp(b.event_type()).then_with(|| a.license_id().cmp(b.license_id())));
    out
}
