//! The audit chain: every single-field edit, deletion, insertion and swap
//! in a 100-entry log is detected and named; checkpoints catch a cut tail;
//! inclusion and consistency proofs verify against checkpoints, and every
//! single-bit corruption of a proof (its canonical bytes) is rejected.

use eucora_license_core::AuditFailure;
use eucora_license_governance::audit::{self, ENTRY_KEYS};
use eucora_license_governance::{checkpoint, prove_consistency, prove_entry, verify_log, verify_proof, Checkpoint};
use serde_json::{json, Value};

fn entry(i: usize) -> Value {
    json!({
        "at": format!("2026-11-{:02}T{:02}:00:00+01:00", 1 + i % 28, i % 24),
        "actor": {"type": "user", "id": format!("user-{}", i % 7), "roles": ["license_admin"]},
        "action": "entitlement.propose",
        "entity": {"type": "entitlement", "id": format!("e{i}")},
        "before_hash": if i % 3 == 0 { Value::Null } else { json!(format!("sha256:{:064x}", i)) },
        "after_hash": json!(format!("sha256:{:064x}", i + 1000)),
        "correlation_id": format!("corr-{i}"),
        "evidence": [format!("pack-{i}")],
        "details": {"quantity": i},
    })
}

fn log(n: usize) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for i in 0..n {
        let e = audit::append(out.last(), &entry(i)).unwrap();
        out.push(e);
    }
    out
}

fn failure(entries: &[Value]) -> Option<(AuditFailure, u64)> {
    verify_log(entries, None).failure.map(|f| (f.code, f.seq))
}

#[test]
fn append_fills_the_chain_and_normalises() {
    let l = log(3);
    assert_eq!(l[0]["seq"], 1);
    assert_eq!(l[0]["prev_hash"], Value::Null);
    assert_eq!(l[1]["prev_hash"], l[0]["entry_hash"]);
    assert_eq!(l[0]["at"], "2026-10-31T23:00:00Z", "normalised to UTC");
    assert_eq!(l[0].as_object().unwrap().len(), 12);
    for k in ENTRY_KEYS {
        assert!(l[2].get(k).is_some(), "{k}");
    }
    // Given seq/prev_hash/entry_hash are replaced.
    let mut e = entry(3);
    e["seq"] = json!(99);
    e["entry_hash"] = json!("sha256:00");
    let a = audit::append(l.last(), &e).unwrap();
    assert_eq!(a["seq"], 4);
    assert!(verify_log(&[l.clone(), vec![a]].concat(), None).ok);
    // Defaults for the nullable keys.
    let minimal = json!({"at": "2026-11-01T00:00:00Z", "actor": {"type": "user", "id": "u", "roles": []}, "action": "x", "entity": {"type": "t", "id": "i"}});
    let m = audit::append(None, &minimal).unwrap();
    assert_eq!((m["evidence"].clone(), m["details"].clone(), m["correlation_id"].clone()), (json!([]), json!({}), Value::Null));
}

#[test]
fn secrets_and_malformed_entries_are_refused() {
    let mut e = entry(0);
    e["details"] = json!({"nested": {"api_key": "x"}});
    let err = audit::append(None, &e).unwrap_err();
    assert_eq!((err.code, err.path.as_deref()), ("invalid_entry", Some("$.details.nested.api_key")));
    for (k, v) in [("at", json!("yesterday")), ("entity", json!({"type": "t"})), ("evidence", json!({})), ("extra", json!(1))] {
        let mut e = entry(0);
        e[k] = v;
        assert_eq!(audit::append(None, &e).unwrap_err().code, "invalid_entry", "{k}");
    }
}

#[test]
fn every_single_field_edit_is_detected_and_named() {
    let l = log(100);
    assert!(verify_log(&l, None).ok);
    for i in 0..l.len() {
        for k in ENTRY_KEYS {
            let mut t = l.clone();
            t[i][k] = match &t[i][k] {
                Value::Number(n) => json!(n.as_u64().unwrap() + 1),
                Value::String(s) => json!(format!("{s}x")),
                Value::Null => json!("x"),
                Value::Array(_) => json!(["edited"]),
                Value::Object(_) => json!({"edited": true}),
                Value::Bool(b) => json!(!b),
            };
            let pos = i as u64 + 1;
            assert_eq!(failure(&t), Some((AuditFailure::EntryHashMismatch, pos)), "entry {pos} field {k}");
        }
        // A removed or added key, too.
        let mut t = l.clone();
        t[i].as_object_mut().unwrap().remove("details");
        assert_eq!(failure(&t), Some((AuditFailure::EntryHashMismatch, i as u64 + 1)));
    }
}

#[test]
fn every_deletion_insertion_and_swap_is_detected_and_named() {
    let l = log(100);
    let cp = checkpoint(&l).unwrap();
    for i in 0..l.len() {
        let mut t = l.clone();
        t.remove(i);
        let pos = i as u64 + 1;
        if i + 1 < l.len() {
            assert_eq!(failure(&t), Some((AuditFailure::SeqGap, pos)), "delete {pos}");
        } else {
            // A cut tail: only the checkpoint kept outside the log reveals it.
            assert_eq!(failure(&t), None);
            let r = verify_log(&t, Some(&cp));
            assert_eq!(r.failure.map(|f| (f.code, f.seq)), Some((AuditFailure::CheckpointMismatch, 100)));
        }
    }
    // Insertion of a well-formed entry chained to its predecessor.
    for i in 0..=l.len() {
        let mut t = l[..i].to_vec();
        let forged = audit::append(t.last(), &entry(1000)).unwrap();
        t.push(forged);
        t.extend_from_slice(&l[i..]);
        let pos = i as u64 + 2;
        if i < l.len() {
            assert_eq!(failure(&t), Some((AuditFailure::PrevHashMismatch, pos)), "insert before {}", i + 1);
        } else {
            assert_eq!(failure(&t), None, "appending is what append does");
            assert!(verify_log(&t, Some(&cp)).ok, "the log grew; the old checkpoint still holds");
        }
    }
    // A stale copy of an entry inserted as is.
    for i in 1..l.len() {
        let mut t = l.clone();
        t.insert(i, l[i - 1].clone());
        assert_eq!(failure(&t), Some((AuditFailure::PrevHashMismatch, i as u64 + 1)), "duplicate {i}");
    }
    for i in 0..l.len() {
        for j in (i + 1)..l.len() {
            let mut t = l.clone();
            t.swap(i, j);
            assert_eq!(failure(&t), Some((AuditFailure::SeqGap, i as u64 + 1)), "swap {i} {j}");
        }
    }
}

#[test]
fn the_order_of_the_checks_is_d6s() {
    let l = log(5);
    // prev_hash wrong and seq behind: prev_hash_mismatch first.
    let mut t = l.clone();
    let mut e = t[2].clone();
    e["seq"] = json!(1);
    e["prev_hash"] = json!(format!("sha256:{:064x}", 1));
    let body: serde_json::Map<String, Value> = e.as_object().unwrap().clone();
    e["entry_hash"] = json!(audit::entry_hash(&body).unwrap().to_prefixed());
    t[2] = e.clone();
    assert_eq!(failure(&t), Some((AuditFailure::PrevHashMismatch, 3)));
    // seq ahead and prev_hash wrong: seq_gap first.
    e["seq"] = json!(9);
    let body = e.as_object().unwrap().clone();
    e["entry_hash"] = json!(audit::entry_hash(&body).unwrap().to_prefixed());
    t[2] = e;
    assert_eq!(failure(&t), Some((AuditFailure::SeqGap, 3)));
    // seq behind with the right prev_hash: seq_gap after the prev check.
    let mut e = l[2].clone();
    e["seq"] = json!(2);
    let body = e.as_object().unwrap().clone();
    e["entry_hash"] = json!(audit::entry_hash(&body).unwrap().to_prefixed());
    let mut t = l.clone();
    t[2] = e;
    assert_eq!(failure(&t), Some((AuditFailure::SeqGap, 3)));
    // A checkpoint of another log.
    let other = checkpoint(&log(4)[..2]).unwrap();
    let mut wrong = other.clone();
    wrong.root = checkpoint(&l[..1]).unwrap().root;
    assert_eq!(verify_log(&l, Some(&wrong)).failure.map(|f| (f.code, f.seq)), Some((AuditFailure::CheckpointMismatch, 2)));
    assert!(verify_log(&l, Some(&other)).ok);
}

#[test]
fn the_empty_log() {
    let cp = checkpoint(&[]).unwrap();
    assert_eq!(
        cp.to_value(),
        json!({"size": 0, "root": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "head_hash": null})
    );
    assert!(verify_log(&[], Some(&cp)).ok);
    assert_eq!(prove_entry(&[], 1).unwrap_err().code, "out_of_range");
}

#[test]
fn proofs_verify_against_checkpoints() {
    let l = log(100);
    let checkpoints: Vec<Value> = (0..=l.len()).map(|n| checkpoint(&l[..n]).unwrap().to_value()).collect();
    for n in [1usize, 2, 3, 7, 8, 9, 31, 64, 100] {
        for seq in 1..=n as u64 {
            let p = prove_entry(&l[..n], seq).unwrap();
            let v = verify_proof(&p, &checkpoints[n]);
            assert!(v.ok(), "inclusion {seq} of {n}: {:?}", v.to_value());
            assert_eq!(v.to_value()["seq"], seq);
            if n > 1 {
                assert_eq!(verify_proof(&p, &checkpoints[n - 1]).to_value()["reason"], "size_mismatch");
            }
        }
        for old in 1..=n as u64 {
            let p = prove_consistency(&l[..n], old).unwrap();
            let v = verify_proof(&p, &checkpoints[old as usize]);
            assert!(v.ok(), "consistency {old} -> {n}");
            assert_eq!(v.to_value()["new_root"], checkpoints[n]["root"]);
        }
    }
    assert!(prove_consistency(&l, 100).unwrap()["path"].as_array().unwrap().is_empty());
    assert_eq!(prove_consistency(&l, 0).unwrap_err().code, "out_of_range");
    assert_eq!(prove_consistency(&l, 101).unwrap_err().code, "out_of_range");
    assert_eq!(prove_entry(&l, 0).unwrap_err().code, "out_of_range");
    assert_eq!(prove_entry(&l, 101).unwrap_err().code, "out_of_range");
    // A log that was rewritten is not consistent with the auditor's checkpoint.
    let mut rewritten = l[..10].to_vec();
    rewritten[4] = audit::append(Some(&rewritten[3]), &entry(555)).unwrap();
    let mut rebuilt = rewritten[..5].to_vec();
    for i in 5..20 {
        let e = audit::append(rebuilt.last(), &entry(i)).unwrap();
        rebuilt.push(e);
    }
    let p = prove_consistency(&rebuilt, 10).unwrap();
    assert_eq!(verify_proof(&p, &checkpoints[10]).to_value(), json!({"ok": false, "reason": "inconsistent"}));
}

/// Flip every bit of the proof's canonical bytes: the result either is not
/// a proof at all or does not verify; never a different valid proof. The
/// one exception is a consistency proof's `new_size`, which RFC 9162's
/// verifier does not bind (a root does not commit to its size: CT signs
/// both); it is reported in the verdict, and a verdict whose `new_size`
/// is not the new checkpoint's is caught by comparing the two (asserted).
#[test]
fn every_single_bit_corruption_of_a_proof_is_rejected() {
    let l = log(100);
    let cp_new = checkpoint(&l).unwrap().to_value();
    let cp_old = checkpoint(&l[..37]).unwrap().to_value();
    let proofs = [
        (prove_entry(&l, 42).unwrap(), cp_new.clone()),
        (prove_entry(&l, 100).unwrap(), cp_new),
        (prove_consistency(&l, 37).unwrap(), cp_old),
    ];
    for (proof, cp) in proofs {
        assert!(verify_proof(&proof, &cp).ok());
        let bytes = eucora_license_core::canonical_bytes(&proof).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let new_size_digits = text.find("\"new_size\":").map(|p| {
            let start = p + "\"new_size\":".len();
            start..start + text[start..].find(',').unwrap()
        });
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                let Ok(text) = std::str::from_utf8(&b) else { continue };
                let Ok(v) = eucora_license_core::internal::canonical::parse_strict(text) else { continue };
                if v == proof {
                    continue; // a flip that JSON does not see (none in canonical bytes, but be exact)
                }
                let verdict = verify_proof(&v, &cp);
                if new_size_digits.as_ref().is_some_and(|r| r.contains(&i)) && verdict.ok() {
                    assert_ne!(verdict.to_value()["new_size"], json!(l.len()), "byte {i} bit {bit}");
                    continue;
                }
                assert!(!verdict.ok(), "byte {i} bit {bit}: {text}");
            }
        }
    }
}

#[test]
fn checkpoints_parse_strictly() {
    let cp = checkpoint(&log(3)).unwrap();
    assert_eq!(Checkpoint::from_value(&cp.to_value()).unwrap(), cp);
    let mut bad = cp.to_value();
    bad["head_hash"] = Value::Null;
    assert_eq!(Checkpoint::from_value(&bad).unwrap_err().code, "invalid_checkpoint");
    assert_eq!(verify_proof(&prove_entry(&log(3), 1).unwrap(), &bad).to_value()["reason"], "malformed_checkpoint");
}

#[test]
fn entry_hash_follows_d3s_formula() {
    use eucora_license_core::{canonical_bytes, tagged_hash, Domain};
    let l = log(2);
    let mut body = l[1].clone();
    body.as_object_mut().unwrap().remove("entry_hash");
    assert_eq!(l[1]["entry_hash"], json!(tagged_hash(Domain::Audit, &canonical_bytes(&body).unwrap()).to_prefixed()));
    // The checkpoint's root is RFC 9162 over the 32 digest bytes of each entry hash.
    use eucora_license_core::internal::merkle::{leaf_hash, node_hash};
    let d = |e: &Value| eucora_license_core::Digest32::parse_prefixed(e["entry_hash"].as_str().unwrap()).unwrap();
    let root = node_hash(&leaf_hash(&d(&l[0]).0), &leaf_hash(&d(&l[1]).0));
    assert_eq!(checkpoint(&l).unwrap().to_value(), json!({"size": 2, "root": root.to_prefixed(), "head_hash": l[1]["entry_hash"]}));
}
