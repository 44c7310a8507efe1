//! The snapshot (DESIGN A5, A6): the reconciled truth as canonical JSON,
//! hash-chained to the previous snapshot of the same organization.
//!
//! `snapshot_hash` is the `eucora.snapshot.v1` hash of the canonical snapshot
//! without that field. Per-SKU records are the leaves of `skus_root`, and each
//! SKU's units are the leaves of its `units_root` (RFC 9162), so one SKU can be
//! proven without the rest.

use crate::canonical;
use crate::error::{Error, ErrorCode, Result};
use crate::hash::{tagged, Digest32, Domain};
use serde_json::{Map, Value};

/// The snapshot schema identifier.
pub const SCHEMA: &str = "eucora.license.snapshot/v1";

/// A snapshot: its JSON value (with `snapshot_hash`), canonical bytes and hash.
#[derive(Debug, Clone)]
pub struct Snapshot {
    value: Value,
    canonical: Vec<u8>,
    hash: Digest32,
}

impl Snapshot {
    /// Seal a snapshot body (without `snapshot_hash`): hash it, add the hash.
    pub fn seal(mut body: Map<String, Value>) -> Result<Snapshot> {
        body.remove("snapshot_hash");
        let body = Value::Object(body);
        let hash = tagged(Domain::Snapshot, &canonical::to_vec(&body)?);
        let Value::Object(mut full) = body else { unreachable!("built as an object") };
        full.insert("snapshot_hash".into(), Value::String(hash.to_prefixed()));
        let value = Value::Object(full);
        let canonical = canonical::to_vec(&value)?;
        Ok(Snapshot { value, canonical, hash })
    }

    /// Parse snapshot bytes and verify `snapshot_hash` against the content.
    ///
    /// Fails with `previous_snapshot_invalid` when the bytes are not a
    /// snapshot or the hash does not match.
    pub fn parse_verified(bytes: &[u8]) -> Result<Snapshot> {
        let invalid = |m: String| Error::new(ErrorCode::PreviousSnapshotInvalid, m);
        let value: Value = serde_json::from_slice(bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let Value::Object(mut obj) = value else { return Err(invalid("not a JSON object".into())) };
        if obj.get("schema").and_then(Value::as_str) != Some(SCHEMA) {
            return Err(invalid(format!("`schema` is not {SCHEMA}")));
        }
        let claimed = obj
            .remove("snapshot_hash")
            .and_then(|v| v.as_str().and_then(Digest32::parse_prefixed))
            .ok_or_else(|| invalid("`snapshot_hash` is missing or malformed".into()))?;
        let sealed = Snapshot::seal(obj).map_err(|e| invalid(e.message().to_string()))?;
        if sealed.hash != claimed {
            return Err(invalid(format!("snapshot_hash {} does not match the content ({})", claimed, sealed.hash)));
        }
        Ok(sealed)
    }

    /// The JSON value, `snapshot_hash` included.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Canonical (RFC 8785) bytes, as written to `snapshot.json`.
    pub fn canonical_bytes(&self) -> &[u8] {
        &self.canonical
    }

    /// The snapshot hash.
    pub fn hash(&self) -> Digest32 {
        self.hash
    }

    /// `organization_id`.
    pub fn organization_id(&self) -> &str {
        self.value.get("organization_id").and_then(Value::as_str).unwrap_or("")
    }

    /// `sequence`.
    pub fn sequence(&self) -> i64 {
        self.value.get("sequence").and_then(Value::as_i64).unwrap_or(0)
    }

    /// The per-SKU record of `sku`, if present.
    pub fn sku(&self, sku: &str) -> Option<&Value> {
        self.value.get("skus")?.as_array()?.iter().find(|r| r.get("sku").and_then(Value::as_str) == Some(sku))
    }
}

/// `skus_root`: RFC 9162 root over the canonical per-SKU records, in SKU-id order.
pub fn skus_root(records: &[Value]) -> Result<Digest32> {
    let mut leaves = Vec::with_capacity(records.len());
    for r in records {
        leaves.push(crate::merkle::leaf_hash(&canonical::to_vec(r)?));
    }
    Ok(crate::merkle::root_of_leaves(leaves))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seal_then_verify_and_detect_tampering() {
        let body = json!({"schema": SCHEMA, "organization_id": "o", "sequence": 1, "skus": []});
        let s = Snapshot::seal(body.as_object().unwrap().clone()).unwrap();
        let again = Snapshot::parse_verified(s.canonical_bytes()).unwrap();
        assert_eq!(again.hash(), s.hash());
        let tampered = String::from_utf8(s.canonical_bytes().to_vec()).unwrap().replace("\"sequence\":1", "\"sequence\":2");
        let e = Snapshot::parse_verified(tampered.as_bytes()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::PreviousSnapshotInvalid);
    }
}
