//! One-SKU inclusion proofs (RFC 9162 audit paths over `skus_root`), bound
//! to a snapshot hash.
//!
//! A license manager can hand an auditor one SKU's record and a proof instead
//! of the whole evidence pack: the record's leaf hash plus the audit path
//! must rebuild the snapshot's `skus_root`.
//!
//! `skus_root` alone says nothing about *which* snapshot the record is in.
//! The snapshot hash (DESIGN A5) is over the whole snapshot, every SKU record
//! included, so nothing shorter than the snapshot can tie a root to a hash:
//! the proof therefore carries the snapshot it was made from (`snapshot`).
//! [`verify_proof_against`] checks the proof against a snapshot hash the
//! auditor trusts (from the chain, a report, the sidebar) with nothing else;
//! [`verify_proof_with_snapshot`] against a snapshot the auditor holds.
//! [`verify_proof`] checks the proof on its own terms (the path rebuilds the
//! proof's `skus_root`, and the carried snapshot, when there is one, hashes
//! to the proof's `snapshot_hash` and holds the record): whoever reads its
//! result must still compare `snapshot_hash` with one they trust.

use crate::canon::canonical;
use crate::canon::hash::Digest32;
use crate::canon::merkle::{inclusion_path, leaf_hash, verify_inclusion};
use crate::document::snapshot::Snapshot;
use crate::error::{Error, ErrorCode, Result};
use serde_json::{json, Value};

/// Build the inclusion proof of `sku`'s record in `snapshot`.
///
/// The proof is JSON: the record, its index among the SKUs, the tree size,
/// the audit path (bottom first), `skus_root`, the snapshot hash and the
/// snapshot itself (`snapshot`), which binds the rest to that hash.
pub fn prove(snapshot: &Snapshot, sku: &str) -> Result<Value> {
    let records = &snapshot.doc().skus;
    let index = records
        .iter()
        .position(|r| r.sku == sku)
        .ok_or_else(|| Error::new(ErrorCode::InvalidInput, format!("SKU `{sku}` is not in the snapshot")))?;
    let leaves: Vec<Digest32> = records.iter().map(|r| canonical::to_vec_of(r).map(|b| leaf_hash(&b))).collect::<Result<_>>()?;
    let path: Vec<String> = inclusion_path(&leaves, index).iter().map(Digest32::to_prefixed).collect();
    Ok(json!({
        "sku": sku,
        "record": records[index],
        "index": index,
        "tree_size": records.len(),
        "path": path,
        "skus_root": snapshot.doc().skus_root,
        "snapshot_hash": snapshot.hash().to_prefixed(),
        "snapshot": snapshot.value(),
    }))
}

/// Check a proof made by [`prove`] on its own terms: the record's leaf and
/// the path must give `skus_root`; when the proof carries its snapshot, that
/// snapshot must hash to the proof's `snapshot_hash` and hold the record at
/// `index` under that `skus_root`. Returns why it does not verify.
///
/// This does not say the snapshot is one you trust: use
/// [`verify_proof_against`] with a trusted snapshot hash (or
/// [`verify_proof_with_snapshot`] with the snapshot).
///
/// ```
/// use eucora_license_core::{prove, verify_proof, verify_proof_against, Snapshot, SnapshotDoc, SkuRecord};
/// use eucora_license_core::internal::catalog::Model;
/// use serde_json::json;
/// let skus = vec![SkuRecord::empty("a", Model::Device), SkuRecord::empty("b", Model::User)];
/// let root = eucora_license_core::internal::snapshot::skus_root(&skus).unwrap();
/// let snap = Snapshot::seal(SnapshotDoc { skus, skus_root: root.to_prefixed(), ..SnapshotDoc::default() }).unwrap();
/// let mut p = prove(&snap, "b").unwrap();
/// assert!(verify_proof(&p).is_ok());
/// assert!(verify_proof_against(&p, &snap.hash().to_prefixed()).is_ok());
/// p["record"]["consumed"] = json!(3);
/// assert!(verify_proof(&p).is_err());
/// p["record"]["consumed"] = json!(0);
/// assert!(verify_proof(&p).is_ok());
/// p["record"]["units"] = json!(1);
/// assert!(verify_proof(&p).is_err());
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
    if !verify_inclusion(&leaf, index, size, &path, &root) {
        return Err("the record and path do not rebuild skus_root".into());
    }
    if let Some(carried) = proof.get("snapshot") {
        let bytes = canonical::to_vec(carried).map_err(|e| format!("the proof's snapshot: {}", e.message()))?;
        let snapshot = Snapshot::parse_verified(&bytes).map_err(|e| format!("the proof's snapshot: {}", e.message()))?;
        holds(proof, &snapshot).map_err(|e| format!("the proof's snapshot: {e}"))?;
    }
    Ok(())
}

/// The proof's claims about its snapshot hold for `snapshot`: same hash, same
/// `skus_root`, as many SKUs as the tree, the record at `index`.
fn holds(proof: &Value, snapshot: &Snapshot) -> std::result::Result<(), String> {
    if proof["snapshot_hash"].as_str() != Some(snapshot.hash().to_prefixed().as_str()) {
        return Err(format!("the proof names snapshot_hash {}, the snapshot hashes to {}", proof["snapshot_hash"], snapshot.hash()));
    }
    let doc = snapshot.doc();
    if proof["skus_root"].as_str() != Some(doc.skus_root.as_str()) {
        return Err("the snapshot's skus_root is not the proof's".into());
    }
    let records = &doc.skus;
    if proof["tree_size"].as_u64() != Some(records.len() as u64) {
        return Err(format!("the snapshot has {} SKUs, the proof's tree {}", records.len(), proof["tree_size"]));
    }
    let at = proof["index"].as_u64().and_then(|i| usize::try_from(i).ok()).and_then(|i| records.get(i));
    let at = at.map(serde_json::to_value).transpose().map_err(|e| e.to_string())?;
    if at.as_ref() != proof.get("record") {
        return Err("the snapshot does not hold the proof's record at its index".into());
    }
    Ok(())
}

/// Check a proof against a snapshot hash the auditor trusts
/// (`sha256:<64 hex>`): the proof must verify ([`verify_proof`]), carry its
/// snapshot, and that snapshot must have exactly this hash. Nothing else is
/// needed. A proof without its snapshot (made before proofs carried one)
/// cannot be tied to a hash: check it with [`verify_proof_with_snapshot`].
pub fn verify_proof_against(proof: &Value, snapshot_hash: &str) -> std::result::Result<(), String> {
    let expected =
        Digest32::parse_prefixed(snapshot_hash).ok_or("the expected snapshot hash is not `sha256:` and 64 lower-case hex digits")?;
    verify_proof(proof)?;
    if proof.get("snapshot").is_none() {
        return Err("the proof carries no snapshot, so nothing ties its skus_root to a snapshot hash: check it against the snapshot".into());
    }
    if proof["snapshot_hash"].as_str() != Some(expected.to_prefixed().as_str()) {
        return Err(format!("the proof is of snapshot {}, not of {expected}", proof["snapshot_hash"]));
    }
    Ok(())
}

/// Check a proof against a snapshot the auditor holds (its bytes, any JSON
/// layout; its own hash is verified first): the proof must verify
/// ([`verify_proof`]) and its record, index, tree size, `skus_root` and
/// snapshot hash must be this snapshot's. Works for proofs with or without
/// the carried snapshot.
pub fn verify_proof_with_snapshot(proof: &Value, snapshot: &[u8]) -> std::result::Result<(), String> {
    let snapshot = Snapshot::parse_verified(snapshot).map_err(|e| format!("the snapshot does not verify: {}", e.message()))?;
    verify_proof(proof)?;
    holds(proof, &snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::snapshot::{SkuRecord, SnapshotDoc};

    #[test]
    fn every_sku_of_trees_of_1_to_9_proves() {
        for n in 1..=9usize {
            let records: Vec<SkuRecord> = (0..n).map(|i| record(&format!("s{i}"), i as i64)).collect();
            let snap = sealed(records);
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

    fn record(sku: &str, consumed: i64) -> SkuRecord {
        SkuRecord { consumed, ..SkuRecord::empty(sku, crate::input::catalog::Model::Device) }
    }

    fn sealed(skus: Vec<SkuRecord>) -> Snapshot {
        let root = crate::document::snapshot::skus_root(&skus).unwrap().to_prefixed();
        Snapshot::seal(SnapshotDoc { organization_id: "o".into(), skus, skus_root: root, ..SnapshotDoc::default() }).unwrap()
    }

    fn two(consumed: i64) -> Snapshot {
        sealed(vec![record("a", consumed), record("b", 2)])
    }

    /// Issue 10, defect 6: a proof was bound to a `skus_root` only. Now it is
    /// bound to a snapshot hash: a proof of another snapshot (its own
    /// `snapshot_hash` and `skus_root` consistent) is refused against the
    /// trusted hash, and so is one that names the trusted hash but proves
    /// another root.
    #[test]
    fn proofs_are_bound_to_a_snapshot_hash() {
        let (trusted, other) = (two(1), two(7));
        let h = trusted.hash().to_prefixed();
        let p = prove(&trusted, "a").unwrap();
        assert_eq!(verify_proof_against(&p, &h), Ok(()));
        assert_eq!(verify_proof_with_snapshot(&p, trusted.canonical_bytes()), Ok(()));
        // A proof of another snapshot: valid on its own terms, refused against the trusted hash.
        let q = prove(&other, "a").unwrap();
        assert_eq!(verify_proof(&q), Ok(()));
        assert!(verify_proof_against(&q, &h).is_err());
        assert!(verify_proof_with_snapshot(&q, trusted.canonical_bytes()).is_err());
        // ... also when it claims the trusted hash.
        let mut forged = q.clone();
        forged["snapshot_hash"] = json!(h);
        assert!(verify_proof(&forged).is_err());
        assert!(verify_proof_against(&forged, &h).is_err());
        // ... or claims it without carrying a snapshot (an old-style proof).
        forged.as_object_mut().unwrap().remove("snapshot");
        assert_eq!(verify_proof(&forged), Ok(()), "on its own a bare proof binds skus_root only");
        assert!(verify_proof_against(&forged, &h).is_err());
        assert!(verify_proof_with_snapshot(&forged, trusted.canonical_bytes()).is_err());
        // A carried snapshot edited (another record at the index) does not verify.
        let mut edited = p.clone();
        edited["snapshot"]["skus"][0]["consumed"] = json!(5);
        assert!(verify_proof(&edited).is_err());
        // A bare proof of the trusted snapshot verifies with the snapshot.
        let mut bare = p.clone();
        bare.as_object_mut().unwrap().remove("snapshot");
        assert_eq!(verify_proof_with_snapshot(&bare, trusted.canonical_bytes()), Ok(()));
        assert!(verify_proof_against(&p, "sha256:nope").is_err());
    }
}
