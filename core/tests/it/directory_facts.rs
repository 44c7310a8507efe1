//! Directory facts the advisor rests on (DESIGN A1 `directory.csv`
//! `last_active_at`, C6 "Pack fields this needs"): read from `directory.csv`
//! and from directory adapters, kept in the evidence pack with each row's
//! `status`, `region`, `bu` and `last_active_at`, the signals' `last_used_at`
//! kept in `signals.jsonl`, and packs written before either was kept still
//! verifying. None of it changes a count (the fixtures' snapshot hashes,
//! pinned by the golden and demo tests, stay as they were).

use crate::common::SkuJson;
use crate::common::*;
use crate::hostile_packs::{demo_pack, members, repack};
use eucora_license_core::internal::evidence::{verify, write_pack};
use eucora_license_core::{internal::canonical, RunStatus};
use serde_json::{json, Value};

fn member(pack: &[u8], name: &str) -> Vec<u8> {
    members(pack).into_iter().find(|m| m.0 == name).unwrap_or_else(|| panic!("no member {name}")).1
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    bytes.split(|&c| c == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect()
}

fn jsonl(rows: &[Value]) -> Vec<u8> {
    rows.iter().flat_map(|v| canonical::to_vec(v).unwrap().into_iter().chain([b'\n'])).collect()
}

/// A small bundle: one user SKU, two holders, directory rows with the given
/// `last_active_at` cells.
fn bundle(alice_last: &str, bob_last: &str) -> Bundle {
    Bundle::new()
        .sku("e3", "user")
        .entitle("e3", 5)
        .dir(&format!("user,alice@acme.com,alice.smith@acme.com,active,emea,eng,{alice_last}"))
        .dir(&format!("user,bob@acme.com,bob.jones@acme.com,disabled,,,{bob_last}"))
        .signal(&sig("entra", "1", RECENT, "e3", "assignment", &[("user", "alice@acme.com")]))
        .signal(&sig("entra", "2", RECENT, "e3", "usage", &[("user", "bob@acme.com"), ("last_used_at", "2026-11-20T09:30:00+01:00")]))
}

fn pack_of(b: &Bundle) -> Vec<u8> {
    let out = b.run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    write_pack(&out, Vec::new()).unwrap().0
}

#[test]
fn directory_json_keeps_status_region_bu_and_last_active_at_normalised_to_utc() {
    let pack = pack_of(&bundle("2026-11-21T18:42:00+01:00", ""));
    let dir: Value = serde_json::from_slice(&member(&pack, "directory.json")).unwrap();
    assert_eq!(
        dir,
        json!([
            {"principal_type": "user", "canonical_id": "alice@acme.com", "alias": "alice.smith@acme.com", "status": "active",
             "region": "emea", "bu": "eng", "last_active_at": "2026-11-21T17:42:00Z"},
            // Unknown last activity: no key, exactly as packs written before it was kept.
            {"principal_type": "user", "canonical_id": "bob@acme.com", "alias": "bob.jones@acme.com", "status": "disabled",
             "region": "", "bu": ""},
        ])
    );
    assert!(verify(&pack, None).ok);
}

#[test]
fn signals_jsonl_keeps_last_used_at_only_where_a_signal_gives_it() {
    let pack = pack_of(&bundle("", ""));
    let rows = lines(&member(&pack, "signals.jsonl"));
    let by_raw = |raw: &str| rows.iter().find(|r| r["raw_id"] == raw).unwrap().clone();
    assert_eq!(by_raw("2")["last_used_at"], "2026-11-20T08:30:00Z");
    assert!(by_raw("1").get("last_used_at").is_none());
    assert!(verify(&pack, None).ok);
    // The fast rendering the pack uses is the canonical form of the row, key included.
    let out = bundle("", "").run();
    let store = &out.inputs.as_ref().unwrap().signals;
    for s in &store.rows {
        let mut fast = Vec::new();
        store.write_normalised(s, &mut fast);
        assert_eq!(fast, canonical::to_vec(&store.normalised_json(s)).unwrap());
    }
    assert_eq!(store.rows.iter().filter(|s| s.last_used_at(store).is_some()).count(), 1);
}

#[test]
fn entitlements_json_writes_an_absent_cost_or_currency_as_empty_text() {
    let b = bundle("", "").entitlement_row("ent-priced,e3,c-9,2,2026-01-01,,12.50,EUR");
    let ents: Value = serde_json::from_slice(&member(&pack_of(&b), "entitlements.json")).unwrap();
    let by_id = |id: &str| ents.as_array().unwrap().iter().find(|e| e["entitlement_id"] == id).unwrap().clone();
    // `Bundle::entitle` leaves both cells empty: "" (= none), never null or absent.
    assert_eq!((by_id("ent-0")["unit_cost"].clone(), by_id("ent-0")["currency"].clone()), (json!(""), json!("")));
    assert_eq!((by_id("ent-priced")["unit_cost"].clone(), by_id("ent-priced")["currency"].clone()), (json!("12.50"), json!("EUR")));
}

#[test]
fn directory_facts_change_the_pack_never_the_snapshot() {
    let (a, b) = (bundle("2026-11-21T17:42:00Z", ""), bundle("2020-01-01T00:00:00Z", "2026-11-01T00:00:00Z"));
    let (sa, sb) = (run_ok(&a).1, run_ok(&b).1);
    // The snapshots differ only in directory.csv's input hash: every counter
    // is the same.
    for key in ["skus", "totals", "by_model", "coverage"] {
        assert_eq!(sa.value()[key], sb.value()[key], "{key}");
    }
    assert_eq!(sa.sku_json("e3").unwrap()["consumed"], 2);
    assert_ne!(member(&pack_of(&a), "directory.json"), member(&pack_of(&b), "directory.json"));
}

#[test]
fn a_directory_without_the_last_active_at_column_still_reads() {
    let csv = "principal_type,canonical_id,alias,status,region,bu\nuser,alice@acme.com,alice.smith@acme.com,active,emea,eng\n";
    let b = Bundle::new().sku("e3", "user").entitle("e3", 5).file("directory.csv", csv.as_bytes()).signal(&sig(
        "entra",
        "1",
        RECENT,
        "e3",
        "assignment",
        &[("user", "alice.smith@acme.com")],
    ));
    let (out, snap) = run_ok(&b);
    assert_eq!(snap.sku_json("e3").unwrap()["consumed"], 1);
    let dir: Value = serde_json::from_slice(&member(&write_pack(&out, Vec::new()).unwrap().0, "directory.json")).unwrap();
    assert_eq!(dir[0]["status"], "active");
    assert!(dir[0].get("last_active_at").is_none());
    // Only the three identity columns are required.
    let minimal = Bundle::new().sku("e3", "user").file("directory.csv", b"principal_type,canonical_id,alias\nuser,a@x.com,b@x.com\n");
    run_ok(&minimal);
}

#[test]
fn a_bad_last_active_at_fails_closed_naming_file_line_and_field() {
    for (bad, why) in [("2026-11-21 17:42", "RFC 3339"), ("2026-11-21T17:42:00", "offset"), ("yesterday", "RFC 3339")] {
        let out = bundle("2026-11-21T17:42:00Z", bad).run();
        assert_eq!(out.status, RunStatus::Failed, "{bad}");
        let e = out.errors.iter().find(|e| e.location().and_then(|l| l.field.as_deref()) == Some("last_active_at")).expect("located");
        assert_eq!(e.code().name(), "catalog_integrity");
        let loc = e.location().unwrap();
        assert_eq!((loc.file.as_str(), loc.line), ("directory.csv", Some(3)), "{e}");
        assert!(e.message().contains(why), "{e}");
        assert!(!e.to_string().contains(bad), "the value is not echoed: {e}");
    }
}

/// Packs written before `last_active_at` and `last_used_at` were kept have
/// neither key; they must still replay byte for byte, with both unknown.
#[test]
fn packs_written_before_the_fields_were_kept_still_verify() {
    let mut files = members(demo_pack());
    let mut stripped = (0, 0);
    for f in files.iter_mut() {
        if f.0 == "directory.json" {
            let mut rows: Value = serde_json::from_slice(&f.1).unwrap();
            for r in rows.as_array_mut().unwrap() {
                stripped.0 += usize::from(r.as_object_mut().unwrap().remove("last_active_at").is_some());
            }
            f.1 = canonical::to_vec(&rows).unwrap();
        }
        if f.0 == "signals.jsonl" {
            let mut rows = lines(&f.1);
            for r in rows.iter_mut() {
                stripped.1 += usize::from(r.as_object_mut().unwrap().remove("last_used_at").is_some());
            }
            f.1 = jsonl(&rows);
        }
    }
    // The demo has both (directory.csv's column, entra-users' sign-ins and
    // its usage signals), so the old form really differs from the new one.
    assert!(stripped.0 > 0 && stripped.1 > 0, "{stripped:?}");
    let old = repack(files);
    assert_ne!(old, demo_pack());
    let report = verify(&old, None);
    assert!(report.ok, "{:#?}", report.checks.iter().filter(|c| c.status == "failed").collect::<Vec<_>>());
}

#[test]
fn the_demo_pack_carries_entra_account_facts_into_its_directory() {
    let dir: Value = serde_json::from_slice(&member(demo_pack(), "directory.json")).unwrap();
    let rows = dir.as_array().unwrap();
    // directory.csv's disabled leaver, with its last activity.
    assert!(rows
        .iter()
        .any(|r| r["canonical_id"] == "leo@acme.com" && r["status"] == "disabled" && r["last_active_at"] == "2026-09-30T16:00:00Z"));
    // Rows from the entra-users export (line 0: no directory.csv line) carry
    // the account's status.
    assert!(rows.iter().filter(|r| r["status"] != "").count() > 23, "{rows:#?}");
}
