//! Evidence packs: deterministic bytes, offline verification with replay,
//! tamper detection, chain links, and no secrets in any artifact.

use crate::common::*;
use eucora_license_core::internal::evidence::{verify, write_pack};
use eucora_license_core::internal::hash::sha256;
use eucora_license_core::{reconcile, Outcome};
use serde_json::{json, Value};

fn pack_of(out: &Outcome) -> Vec<u8> {
    write_pack(out, Vec::new()).unwrap().0
}

/// Rewrite one artifact and re-hash the manifest consistently (as a forger would).
fn forge(pack: &[u8], name: &str, edit: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let entries = eucora_license_core::internal::tar::read(pack).unwrap();
    let mut files: Vec<(String, Vec<u8>)> = entries.iter().map(|e| (e.name.clone(), e.data.to_vec())).collect();
    for f in files.iter_mut() {
        if f.0 == name {
            f.1 = edit(&f.1);
        }
    }
    let mut manifest: Value = serde_json::from_slice(&files.iter().find(|f| f.0 == "manifest.json").unwrap().1).unwrap();
    for a in manifest["artifacts"].as_array_mut().unwrap() {
        let data = &files.iter().find(|f| f.0 == a["name"].as_str().unwrap()).unwrap().1;
        a["size"] = json!(data.len());
        a["sha256"] = json!(sha256(data).to_prefixed());
    }
    // The pack hash is re-derived too: the forger has the whole algorithm.
    let mut body = manifest.clone();
    body.as_object_mut().unwrap().remove("pack_hash");
    let h = eucora_license_core::internal::hash::tagged(
        eucora_license_core::internal::hash::Domain::Pack,
        &eucora_license_core::internal::canonical::to_vec(&body).unwrap(),
    );
    manifest["pack_hash"] = json!(h.to_prefixed());
    for f in files.iter_mut() {
        if f.0 == "manifest.json" {
            f.1 = eucora_license_core::internal::canonical::to_vec(&manifest).unwrap();
        }
    }
    let mut w = eucora_license_core::internal::tar::TarWriter::new(Vec::new());
    for (n, d) in &files {
        w.append(n, d).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn demo_pack_is_deterministic_and_verifies_with_replay() {
    let out = demo();
    let a = pack_of(&out);
    assert_eq!(a, pack_of(&demo()), "same inputs, same pack bytes");
    let report = verify(&a, None);
    assert!(report.ok, "{:#?}", report.checks.iter().filter(|c| c.status != "passed").collect::<Vec<_>>());
    assert!(report.checks.iter().any(|c| c.name == "replay" && c.status == "passed"));
    assert_eq!(report.snapshot_hash.as_deref(), Some(out.snapshot.unwrap().hash().to_prefixed().as_str()));
    // The pack records which adapter (and version) read each raw export.
    let imports = eucora_license_core::internal::tar::read(&a).unwrap().into_iter().find(|e| e.name == "imports.json").unwrap();
    let jobs: Value = serde_json::from_slice(imports.data).unwrap();
    let adapters: std::collections::BTreeSet<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["path"].as_str().unwrap().starts_with("imports/"))
        .map(|j| j["adapter"].as_str().unwrap())
        .collect();
    assert_eq!(adapters.len(), 7, "{adapters:?}");
}

#[test]
fn demo_canonical_pack_verifies_with_replay() {
    let out = demo_canonical();
    let report = verify(&pack_of(&out), None);
    assert!(report.ok, "{:#?}", report.checks.iter().filter(|c| c.status != "passed").collect::<Vec<_>>());
    assert_eq!(report.snapshot_hash.as_deref(), Some(out.snapshot.unwrap().hash().to_prefixed().as_str()));
}

#[test]
fn every_flipped_byte_of_the_demo_pack_is_caught() {
    let pack = pack_of(&demo());
    // Every byte of the first 64 KiB and a deterministic sample of the rest.
    let positions: Vec<usize> = (0..pack.len()).filter(|i| *i < 65_536 || i % 97 == 0).collect();
    for i in positions {
        let mut bad = pack.clone();
        bad[i] ^= 0x01;
        let r = verify(&bad, None);
        // Flips inside tar padding or the end marker change no artifact: the
        // reader rejects the marker; padding bytes are covered by the archive check.
        assert!(!r.ok, "flip at byte {i} went unnoticed");
        assert!(r.first_failure.is_some());
    }
}

#[test]
fn a_tampered_snapshot_is_caught_by_its_hash() {
    let pack = pack_of(&demo());
    let forged =
        forge(&pack, "snapshot.json", |b| String::from_utf8_lossy(b).replacen("\"consumed\":13", "\"consumed\":12", 1).into_bytes());
    let r = verify(&forged, None);
    assert_eq!(r.first_failure.as_deref(), Some("snapshot_hash"), "{:#?}", r.checks);
}

#[test]
fn a_fully_consistent_forgery_is_caught_by_replay() {
    let pack = pack_of(&demo());
    let mut new_hash = String::new();
    let forged = forge(&pack, "snapshot.json", |b| {
        let mut v: Value = serde_json::from_slice(b).unwrap();
        let skus = v["skus"].as_array_mut().unwrap();
        skus[0]["consumed"] = json!(skus[0]["consumed"].as_i64().unwrap() + 1);
        let rec = skus.clone();
        v["skus_root"] = json!(eucora_license_core::internal::snapshot::skus_root_json(&rec).unwrap().to_prefixed());
        let mut body = v.as_object().unwrap().clone();
        body.remove("snapshot_hash");
        eucora_license_core::internal::snapshot::seal_json(body).unwrap().2
    });
    for e in eucora_license_core::internal::tar::read(&forged).unwrap() {
        if e.name == "snapshot.json" {
            new_hash = serde_json::from_slice::<Value>(e.data).unwrap()["snapshot_hash"].as_str().unwrap().to_string();
        }
    }
    let forged = forge(&forged, "manifest.json", |b| {
        let mut m: Value = serde_json::from_slice(b).unwrap();
        m["snapshot_hash"] = json!(new_hash);
        eucora_license_core::internal::canonical::to_vec(&m).unwrap()
    });
    let r = verify(&forged, None);
    assert!(!r.ok);
    assert_eq!(r.first_failure.as_deref(), Some("replay"), "{:#?}", r.checks);
}

#[test]
fn chains_verify_and_broken_links_are_caught() {
    let b = || {
        Bundle::new().sku("d", "device").entitle("d", 3).signal(&[
            ("source", "intune"),
            ("raw_id", "1"),
            ("observed_at", "2026-11-21T00:00:00Z"),
            ("sku", "d"),
            ("kind", "installation"),
            ("device_serial", "A"),
        ])
    };
    let first = b().run();
    let s1 = first.snapshot.clone().unwrap();
    let second =
        reconcile(&b().param("as_of", json!("2026-11-23T06:00:00Z")).param("run_id", json!("run-2")).build(), Some(s1.canonical_bytes()));
    let s2 = second.snapshot.clone().unwrap();
    let third =
        reconcile(&b().param("as_of", json!("2026-11-24T06:00:00Z")).param("run_id", json!("run-3")).build(), Some(s2.canonical_bytes()));
    let (p1, p2, p3) = (pack_of(&first), pack_of(&second), pack_of(&third));
    assert!(verify(&p1, None).ok);
    assert!(verify(&p2, Some(s1.canonical_bytes())).ok);
    assert!(verify(&p3, Some(s2.canonical_bytes())).ok);
    assert!(verify(&p3, None).ok, "the pack carries its previous snapshot");
    // Reordered or skipped links.
    for (pack, wrong) in [(&p3, s1.canonical_bytes()), (&p2, s2.canonical_bytes()), (&p1, s1.canonical_bytes())] {
        let r = verify(pack, Some(wrong));
        assert_eq!(r.first_failure.as_deref(), Some("chain"), "{:#?}", r.checks);
    }
}

#[test]
fn license_keys_appear_in_no_artifact_report_or_error() {
    let key = "LK-9F3A-SECRET-0042";
    let mut b = Bundle::new().sku("d", "device");
    b.skus[0]["license_key"] = json!(key);
    let b = b
        .file(
            "signals/keys.csv",
            format!("source,raw_id,observed_at,sku,kind,device_serial,license_key\nintune,1,2026-11-21T00:00:00Z,d,installation,A,{key}\nintune,2,2026-11-21T00:00:00Z,d,installation,B,{key}\n").as_bytes(),
        )
        .file(
            "entitlements.csv",
            format!("entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency,license_key\ne1,d,c1,3,2026-01-01,,,,{key}\n").as_bytes(),
        );
    let out = b.run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.snapshot.as_ref().unwrap().sku_json("d").unwrap()["consumed"], 2, "the rows were read");
    let pack = pack_of(&out);
    assert!(!String::from_utf8_lossy(&pack).contains(key), "the key leaked into the pack");
    assert!(!out.report.to_json().to_string().contains(key), "the key leaked into the run report");
    assert!(!String::from_utf8_lossy(&out.exceptions_jsonl()).contains(key));
    // A row that fails does not echo it either.
    let bad = Bundle::new().sku("d", "device").file(
        "signals/keys.csv",
        format!("source,raw_id,observed_at,sku,kind,quantity\nintune,1,2026-11-21T00:00:00Z,d,installation,{key}\n").as_bytes(),
    );
    let out = bad.run();
    assert!(!out.report.to_json().to_string().contains(key));
    assert!(out.errors.iter().all(|e| !e.to_string().contains(key)));
}

#[test]
fn packs_of_bundles_with_raw_exports_replay() {
    // Adapter output (signals and identity facts) goes into the pack in its
    // normalised form; the replay must reach the same snapshot.
    let dir = fixtures().join("adapters/intune-apps");
    let mut b = Bundle::new().sku("d", "device").entitle("d", 50);
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_file() && name.ends_with(".json") && name != "options.json" {
            b = b.file(&format!("imports/intune-apps/{name}"), &std::fs::read(&p).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "fixture pages found");
    let b = b
        .param("adapter_options", json!({"intune-apps": {"observed_at": "2026-11-21T08:00:00Z"}}))
        .rule(&["sku_mappings"], json!([{"match": "prefix", "field": "product", "value": "", "sku": "d"}]));
    let out = b.run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert!(out.snapshot.as_ref().unwrap().sku_json("d").unwrap()["consumed"].as_i64().unwrap() > 0);
    let report = verify(&pack_of(&out), None);
    assert!(report.ok, "{:#?}", report.checks.iter().filter(|c| c.status != "passed").collect::<Vec<_>>());
}

/// The pack's signal lines are written without building JSON values; they
/// must be byte for byte the canonical form of the normalised row.
#[test]
fn fast_signal_rendering_is_the_canonical_form() {
    let out = eucora_license_core::reconcile(&load_fixture("demo-history/step-2"), None);
    let store = &out.inputs.as_ref().unwrap().signals;
    assert!(store.rows.len() > 50);
    for s in &store.rows {
        let mut fast = Vec::new();
        store.write_normalised(s, &mut fast);
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            String::from_utf8(eucora_license_core::internal::canonical::to_vec(&store.normalised_json(s)).unwrap()).unwrap()
        );
    }
}
