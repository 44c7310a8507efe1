//! One-SKU inclusion proofs (RFC 9162 audit paths over `skus_root`).
//!
//! A license manager can hand an auditor one SKU's record and a short proof
//! instead of the whole snapshot or pack: the record's leaf hash plus the
//! audit path must rebuild the snapshot's `skus_root`.

use crate::canonical;
use crate::error::{Error, ErrorCode, Result};
use crate::hash::Digest32;
use crate::merkle::{inclusion_path, leaf_hash, verify_inclusion};
use crate::snapshot::Snapshot;
use serde_json::{json, Value};

/// Build the inclusion proof of `sku`'s record in `snapshot`.
///
/// The proof is JSON: the record, its index among the SKUs, the tree size,
/// the audit path (bottom first), `skus_root` and the snapshot hash.
pub fn prove(snapshot: &Snapshot, sku: &str) -> Result<Value> {
    let records = snapshot.value()["skus"].as_array().cloned().unwrap_or_default();
    let index = records
        .iter()
        .position(|r| r["sku"].as_str() == Some(sku))
        .ok_or_else(|| Error::new(ErrorCode::InvalidInput, format!("SKU `{sku}` is not in the snapshot")))?;
    let leaves: Vec<Digest32> = records.iter().map(|r| canonical::to_vec(r).map(|b| leaf_hash(&b))).collect::<Result<_>>()?;
    let path: Vec<String> = inclusion_path(&leaves, index).iter().map(Digest32::to_prefixed).collect();
    Ok(json!({
        "sku": sku,
        "record": records[index],
        "index": index,
        "tree_size": records.len(),
        "path": path,
        "skus_root": snapshot.value()["skus_root"],
        "snapshot_hash": snapshot.hash().to_prefixed(),
    }))
}

/// Check a proof made by [`prove`]: the record's leaf and the path must give
/// `skus_root`. Returns why it does not verify.
///
/// ```
/// use eucora_license_core::{proof, Snapshot};
/// use serde_json::json;
/// let records = vec![json!({"sku": "a", "consumed": 1}), json!({"sku": "b", "consumed": 2})];
/// let root = eucora_license_core::snapshot::skus_root(&records).unwrap();
/// let body = json!({"schema": "eucora.license.snapshot/v1", "skus": records, "skus_root": root.to_prefixed()});
/// let snap = Snapshot::seal(body.as_object().unwrap().clone()).unwrap();
/// let mut p = proof::prove(&snap, "b").unwrap();
/// assert!(proof::verify_proof(&p).is_ok());
/// p["record"]["consumed"] = json!(3);
/// assert!(proof::verify_proof(&p).is_err());
/// ```
pub fn verify_proof(proof: &Value) -> std::result::Result<(), String> {
    let record = proof.get("record").ok_or("the proof has no record")?;
    if record["sku"] != proof["sku"] {
        return Err("the record is not the SKU the proof names".into());
    }
    let index = proof["index"].as_u64().ok_or("bad `index`")?;
    let size = proof["tree_size"].as_u64().ok_or("bad `tree_size`")?;
    let root = proof["skus_root"].as_str().and_then(Digest32::parse_prefixed).ok_or("bad `skus_root`")?;
    let path: Vec<Digest32> = proof["path"]
        .as_array()
        .ok_or("bad `path`")?
        .iter()
        .map(|h| h.as_str().and_then(Digest32::parse_prefixed).ok_or("bad hash in `path`"))
        .collect::<std::result::Result<_, _>>()?;
    let leaf = leaf_hash(&canonical::to_vec(record).map_err(|e| e.message().to_string())?);
    if verify_inclusion(&leaf, index, size, &path, &root) {
        Ok(())
    } else {
        Err("the record and path do not rebuild skus_root".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sku_of_trees_of_1_to_9_proves() {
        for n in 1..=9usize {
            let records: Vec<Value> = (0..n).map(|i| json!({"sku": format!("s{i}"), "consumed": i})).collect();
            let root = crate::snapshot::skus_root(&records).unwrap();
            let body = json!({"schema": crate::snapshot::SCHEMA, "skus": records, "skus_root": root.to_prefixed()});
            let snap = Snapshot::seal(body.as_object().unwrap().clone()).unwrap();
            for i in 0..n {
                let mut p = prove(&snap, &format!("s{i}")).unwrap();
                assert_eq!(verify_proof(&p), Ok(()), "n={n} i={i}");
                p["index"] = json!((i + 1) % n.max(2));
                if n > 1 {
                    assert!(verify_proof(&p).is_err(), "n={n} i={i} wrong index");
                }
            }
            assert!(prove(&snap, "nope").is_err());
        }
    }
}
