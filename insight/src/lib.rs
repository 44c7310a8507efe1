//! # eucora-license-insight
//!
//! License intelligence over verified EUCORA documents (DESIGN Part C):
//! alerts ([`alerts`]), recommendations ([`advise`]), the IT-04
//! compliance rows ([`compliance_check`]) and event payloads ([`events`]),
//! driven by a strict, hashed [`Policy`].
//!
//! Pure like the core: no files, clock, environment or randomness; every
//! "now" is the latest snapshot's `reconciled_at`; numbers are integers and
//! exact rationals, written as decimal strings rounded half-even. The same
//! inputs give byte-identical outputs.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod advisor;
mod alerts;
pub mod api;
mod error;
mod inputs;
mod it04;
mod model;
mod policy;
mod rational;

pub use advisor::advise;
pub use alerts::alerts;
pub use error::{InsightCode, InsightError, Result};
pub use it04::{
    compliance_check, events, license_uuid, parse_organization_uuid, ComplianceAlertEvent, ComplianceRow, CreatedEvent, Event,
    ExpiringEvent, Money, RenewedEvent,
};
pub use model::{Alert, Evidence, Recommendation, Severity, Subject};
pub use policy::{
    issues_to_error as policy_issues_to_error, validate as validate_policy, AdvisorPolicy, AlertPolicy, ApprovalRule, Policy,
    PolicyIdentity, PolicyIssue, ACTIONS, AGENTS, DEFAULT_POLICY, KINDS, ROLES,
};
pub use rational::{mad, median, theil_sen, Rat};

/// Canonical JSON (RFC 8785) of any output of this crate that holds no
/// money numbers (alerts, recommendations).
pub fn to_canonical<T: serde::Serialize>(value: &T) -> Vec<u8> {
    eucora_license_core::canonical_bytes_of(value).unwrap_or_default()
}
