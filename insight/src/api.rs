//! The bytes/JSON entry points the CLI and every binding call (DESIGN C5).
//!
//! Bindings are thin: they convert types and map errors. The argument checks
//! (policy bytes, organisation UUID, chain, pack) and the shape of each
//! output document live here, once, so the CLI's `--json`, Python, Node and
//! any later binding print the same bytes and refuse the same inputs with the
//! same [`InsightError`](crate::InsightError) (`code`, `message`, `index`).
//!
//! Each document is returned as JSON text, not as a `serde_json::Value`:
//! the IT-04 payloads (`events`, `rows`) write money as numbers with exactly
//! two decimals (`12.50`, C6), which a `Value` would turn into `12.5`.
//! `alerts` and `recommendations` documents are canonical (RFC 8785); the
//! IT-04 documents have their keys in the same sorted order.

use crate::error::Result;
use crate::inputs;
use crate::policy::{Policy, PolicyIdentity};
use crate::{advisor, alerts, it04, to_canonical};

/// The name an invalid policy given as bytes is reported under.
const POLICY_ARG: &str = "policy";

/// The policy of a call: `None` is the shipped default, bytes are parsed and
/// validated strictly (`invalid_policy`, located by JSON path, `index`
/// null).
pub fn policy(policy: Option<&[u8]>) -> Result<Policy> {
    match policy {
        None => Ok(Policy::default_policy()),
        Some(b) => Policy::parse(b, POLICY_ARG),
    }
}

/// `{"id", "version", "hash"}` of a policy (`None`: the shipped default),
/// after strict validation; what every output reports as `policy`.
pub fn policy_identity(bytes: Option<&[u8]>) -> Result<PolicyIdentity> {
    policy(bytes).map(|p| p.identity())
}

/// The `eucora.policy.v1` hash (`sha256:…`) of a valid policy document.
pub fn policy_hash(bytes: &[u8]) -> Result<String> {
    policy(Some(bytes)).map(|p| p.hash.to_prefixed())
}

/// `{"id","version","hash"}` as canonical JSON text.
fn identity_text(p: &Policy) -> String {
    String::from_utf8(to_canonical(&p.identity())).unwrap_or_default()
}

/// A JSON string literal.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The alerts document of an already-parsed policy (the CLI parses its
/// `--policy` file itself, to name the file in the error):
/// `{"alerts", "as_of", "policy"}`, canonical.
pub fn alerts_document(history: &[&[u8]], latest_pack: &[u8], policy: &Policy) -> Result<String> {
    let archive = inputs::archive(history, latest_pack)?;
    let inp = inputs::open(history, &archive)?;
    let list = alerts::compute(&inp, policy);
    let doc = serde_json::json!({"as_of": inp.latest().reconciled_text, "policy": policy.identity(), "alerts": list});
    Ok(String::from_utf8(to_canonical(&doc)).unwrap_or_default())
}

/// The recommendations document of an already-parsed policy:
/// `{"as_of", "policy", "recommendations"}`, canonical.
pub fn advise_document(history: &[&[u8]], latest_pack: &[u8], policy: &Policy) -> Result<String> {
    let archive = inputs::archive(history, latest_pack)?;
    let inp = inputs::open(history, &archive)?;
    let list = advisor::compute(&inp, policy)?;
    let doc = serde_json::json!({"as_of": inp.latest().reconciled_text, "policy": policy.identity(), "recommendations": list});
    Ok(String::from_utf8(to_canonical(&doc)).unwrap_or_default())
}

/// The IT-04 events document of an already-parsed policy:
/// `{"as_of", "events", "policy"}`, money as two-decimal numbers.
/// `organization_uuid` is checked before the history (`invalid_input`);
/// `renewed_by` is the host's actor id for renewals (null from the CLI).
pub fn events_document(
    history: &[&[u8]],
    latest_pack: &[u8],
    policy: &Policy,
    organization_uuid: Option<&str>,
    renewed_by: Option<&str>,
) -> Result<String> {
    let org = organization_uuid.map(it04::parse_organization_uuid).transpose()?;
    let archive = inputs::archive(history, latest_pack)?;
    let inp = inputs::open(history, &archive)?;
    let list = it04::compute(&inp, policy, org, renewed_by);
    let list = serde_json::to_string(&list).unwrap_or_default();
    Ok(format!("{{\"as_of\":{},\"events\":{list},\"policy\":{}}}", quoted(&inp.latest().reconciled_text), identity_text(policy)))
}

/// The compliance document of one run (its snapshot and the evidence pack
/// beside it): `{"as_of", "policy", "rows"}`, `variance_percent` as a
/// two-decimal number. `policy` is only reported (C6: the default's
/// identity unless the caller names another).
pub fn compliance_document(
    snapshot: &[u8],
    pack: &[u8],
    policy: &Policy,
    license_id: Option<&str>,
    organization_uuid: Option<&str>,
) -> Result<String> {
    if let Some(u) = organization_uuid {
        it04::parse_organization_uuid(u)?;
    }
    let archive = inputs::archive(&[snapshot], pack)?;
    let inp = inputs::open_one(snapshot, &archive)?;
    let rows = serde_json::to_string(&it04::rows(&inp, license_id)).unwrap_or_default();
    Ok(format!("{{\"as_of\":{},\"policy\":{},\"rows\":{rows}}}", quoted(&inp.latest().reconciled_text), identity_text(policy)))
}

/// `alerts --json` over bytes: `policy` `None` is the shipped default.
/// Errors in C6's order: `invalid_policy`, `chain_broken`, `pack_invalid`,
/// `pack_mismatch` (and `invalid_input` for an empty history).
///
/// ```
/// let e = eucora_license_insight::api::alerts_json(&[], b"", Some(b"{}")).unwrap_err();
/// assert_eq!(e.code.name(), "invalid_policy");
/// let e = eucora_license_insight::api::alerts_json(&[b"{}"], b"", None).unwrap_err();
/// assert_eq!((e.code.name(), e.index), ("chain_broken", Some(1)));
/// ```
pub fn alerts_json(history: &[&[u8]], latest_pack: &[u8], policy: Option<&[u8]>) -> Result<String> {
    alerts_document(history, latest_pack, &self::policy(policy)?)
}

/// `advise --json` over bytes (errors as [`alerts_json`]).
pub fn advise_json(history: &[&[u8]], latest_pack: &[u8], policy: Option<&[u8]>) -> Result<String> {
    advise_document(history, latest_pack, &self::policy(policy)?)
}

/// `events --json` over bytes (errors as [`alerts_json`], plus
/// `invalid_input` for an organisation UUID that is not a UUID).
pub fn events_json(
    history: &[&[u8]],
    latest_pack: &[u8],
    policy: Option<&[u8]>,
    organization_uuid: Option<&str>,
    renewed_by: Option<&str>,
) -> Result<String> {
    events_document(history, latest_pack, &self::policy(policy)?, organization_uuid, renewed_by)
}

/// `compliance --json` over bytes: one run's snapshot and its pack; the
/// shipped default policy's identity is reported unless `policy` is given.
pub fn compliance_json(
    snapshot: &[u8],
    pack: &[u8],
    license_id: Option<&str>,
    organization_uuid: Option<&str>,
    policy: Option<&[u8]>,
) -> Result<String> {
    compliance_document(snapshot, pack, &self::policy(policy)?, license_id, organization_uuid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::InsightCode;

    #[test]
    fn policy_errors_come_first_and_have_no_index() {
        let e = alerts_json(&[], b"", Some(b"[]")).unwrap_err();
        assert_eq!((e.code, e.index), (InsightCode::InvalidPolicy, None));
        let e = compliance_json(b"", b"", None, None, Some(b"{")).unwrap_err();
        assert_eq!(e.code, InsightCode::InvalidPolicy);
    }

    #[test]
    fn default_identity_and_hash_agree() {
        let id = policy_identity(None).unwrap();
        assert_eq!((id.id.as_str(), id.version), ("default", 1));
        assert_eq!(policy_hash(crate::DEFAULT_POLICY.as_bytes()).unwrap(), id.hash);
        assert_eq!(policy_hash(b"{}").unwrap_err().code, InsightCode::InvalidPolicy);
    }

    #[test]
    fn a_bad_organisation_uuid_is_invalid_input_before_the_chain() {
        let e = events_json(&[b"{}"], b"", None, Some("not-a-uuid"), None).unwrap_err();
        assert_eq!(e.code, InsightCode::InvalidInput);
        let e = events_json(&[b"{}"], b"", None, None, None).unwrap_err();
        assert_eq!((e.code, e.index), (InsightCode::ChainBroken, Some(1)));
    }
}
