//! Pseudonymised packs: same counters, no principal in any byte, and the
//! pack verifies and replays on its own.

use eucora_license_core::internal::evidence::{verify, write_pack};
use eucora_license_core::pseudonymise;
use eucora_license_core::{reconcile, Outcome};
use serde_json::Value;

const KEY: &[u8] = b"0123456789abcdef-host-secret";

fn demo() -> Outcome {
    let out = reconcile(&crate::common::load_fixture("demo-history/step-1"), None);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    out
}

/// The snapshot's SKU records without what depends on unit keys.
fn counters(out: &Outcome) -> Vec<Value> {
    let mut skus = out.snapshot.as_ref().unwrap().value()["skus"].as_array().unwrap().clone();
    for r in &mut skus {
        r.as_object_mut().unwrap().remove("units_root");
    }
    skus
}

/// Every principal and record id the demo's inputs name, as the inputs spell
/// them and as identity resolution normalises them.
fn principals(out: &Outcome) -> Vec<String> {
    let inputs = out.inputs.as_ref().unwrap();
    let store = &inputs.signals;
    let mut names = Vec::new();
    for s in &store.rows {
        let v = store.normalised_json(s);
        for f in ["raw_id", "user", "device_serial", "device_id", "device_name"] {
            if let Some(t) = v[f].as_str() {
                names.push(t.to_string());
            }
        }
    }
    for d in &inputs.master.directory {
        for v in [&d.canonical_id, &d.alias] {
            let bare = v.split_once(':').map_or(v.as_str(), |(_, x)| x);
            if !bare.is_empty() {
                names.push(bare.to_string());
                names.push(bare.to_lowercase());
            }
        }
    }
    names.retain(|n| n.len() >= 4 && n != "To Be Filled By O.E.M.");
    names.sort();
    names.dedup();
    names
}

#[test]
fn counters_survive_and_no_principal_is_left() {
    let out = demo();
    let shared = pseudonymise(&out, KEY).unwrap();
    assert_eq!(counters(&shared), counters(&out));
    assert_ne!(shared.snapshot.as_ref().unwrap().hash(), out.snapshot.as_ref().unwrap().hash());
    let (pack, _) = write_pack(&shared, Vec::new()).unwrap();
    let names = principals(&out);
    assert!(names.len() > 40, "the scan must cover the demo's principals: {names:?}");
    // As a token: "erin" may not appear on its own, but "engineering" may.
    let alnum = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    for name in &names {
        let n = name.as_bytes();
        let found = (0..pack.len().saturating_sub(n.len()))
            .any(|i| &pack[i..i + n.len()] == n && !alnum(i.checked_sub(1).and_then(|j| pack.get(j))) && !alnum(pack.get(i + n.len())));
        assert!(!found, "`{name}` appears in the pseudonymised pack");
    }
    // The exceptions too (they name users in their details).
    assert_eq!(shared.exceptions.len(), out.exceptions.len());
    let codes = |o: &Outcome| o.exceptions.iter().map(|e| e.code).collect::<Vec<_>>();
    let (mut a, mut b) = (codes(&shared), codes(&out));
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn the_pseudonymised_pack_verifies_and_says_what_it_is() {
    let out = demo();
    let shared = pseudonymise(&out, KEY).unwrap();
    let (pack, _) = write_pack(&shared, Vec::new()).unwrap();
    let report = verify(&pack, None);
    assert!(report.ok, "{:?}", report.first_failure);
    let entries = eucora_license_core::internal::tar::read(&pack).unwrap();
    let manifest: Value = serde_json::from_slice(entries.iter().find(|e| e.name == "manifest.json").unwrap().data).unwrap();
    let note = &manifest["pseudonymised"];
    assert_eq!(note["scheme"], "hmac-sha256");
    assert_eq!(note["original_snapshot_hash"], out.snapshot.as_ref().unwrap().hash().to_prefixed());
    // The key is not in the pack; its fingerprint is, and depends on the key.
    assert!(!pack.windows(KEY.len()).any(|w| w == KEY));
    let other = pseudonymise(&out, b"another key of 16+ bytes").unwrap();
    let (pack2, _) = write_pack(&other, Vec::new()).unwrap();
    let m2: Value = serde_json::from_slice(
        eucora_license_core::internal::tar::read(&pack2).unwrap().iter().find(|e| e.name == "manifest.json").unwrap().data,
    )
    .unwrap();
    assert_ne!(m2["pseudonymised"]["key_fingerprint"], note["key_fingerprint"]);
    assert_eq!(counters(&other), counters(&out));
}

#[test]
fn same_key_same_pack_and_short_keys_are_refused() {
    let out = demo();
    let a = write_pack(&pseudonymise(&out, KEY).unwrap(), Vec::new()).unwrap().0;
    let b = write_pack(&pseudonymise(&out, KEY).unwrap(), Vec::new()).unwrap().0;
    assert_eq!(a, b);
    let e = pseudonymise(&out, b"short").unwrap_err();
    assert_eq!(e.code().name(), "invalid_input");
    assert!(!e.message().contains("short"));
}
