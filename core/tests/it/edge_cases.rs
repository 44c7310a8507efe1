//! Edge cases of DESIGN A9/A10 found in review, each pinned by a test:
//! directory aliases as an equivalence (hostnames included), where pool
//! attributes come from, collapse-before-clip for sessions, literal JSONL
//! numbers, duplicate comparison as written, every fail-closed reason reported.

use crate::common::*;
use eucora_license_core::RunStatus;
use serde_json::{json, Value};

fn fields<'a>(src: &'a str, raw: &'a str, sku: &'a str, kind: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("source", src), ("raw_id", raw), ("observed_at", RECENT), ("sku", sku), ("kind", kind)];
    v.extend_from_slice(extra);
    v
}

fn pool_consumed(rec: &Value, pool: Option<&str>) -> i64 {
    rec["pools"].as_array().unwrap().iter().find(|p| p["pool"].as_str() == pool).unwrap_or_else(|| panic!("pool {pool:?} in {rec}"))
        ["consumed"]
        .as_i64()
        .unwrap()
}

#[test]
fn a9_directory_hostname_alias_binds_hostnames_to_one_device() {
    let b = Bundle::new()
        .sku("d", "device")
        .entitle("d", 5)
        .dir("device,name:h1,name:h2.corp.example,active,,,")
        .signal(&fields("sccm", "1", "d", "installation", &[("device_name", "H1")]))
        .signal(&fields("jamf", "2", "d", "installation", &[("device_name", "h2")]));
    assert_eq!(b.consumed("d"), 1);
}

#[test]
fn a9_directory_aliases_merge_strong_devices_through_a_hostname() {
    // Two rows give hostname `lab` to two serials: the directory says they are one device.
    let b = Bundle::new()
        .sku("d", "device")
        .entitle("d", 5)
        .dir("device,serial:AAA,name:lab,active,,,")
        .dir("device,serial:BBB,name:lab,active,,,")
        .signal(&fields("intune", "1", "d", "installation", &[("device_serial", "AAA")]))
        .signal(&fields("intune", "2", "d", "installation", &[("device_serial", "BBB")]))
        .signal(&fields("sccm", "3", "d", "installation", &[("device_name", "LAB")]));
    let out = b.run();
    assert!(exceptions(&out, "ambiguous_identity").is_empty());
    assert_eq!(out.snapshot.unwrap().sku_json("d").unwrap()["consumed"], 1);
}

#[test]
fn a9_pool_attributes_from_a_device_row_whose_canonical_value_is_a_placeholder() {
    let b = Bundle::new()
        .sku("d", "device")
        .entitle("d", 5)
        .pool("p1,d,region:emea,5,0")
        .dir("device,serial:0,id:abc,active,emea,,")
        .signal(&fields("intune", "1", "d", "installation", &[("device_id", "ABC")]));
    let rec = b.sku_record("d");
    assert_eq!(pool_consumed(&rec, Some("p1")), 1);
    assert_eq!(pool_consumed(&rec, None), 0);
}

#[test]
fn a9_user_row_attributes_belong_to_its_canonical_id_as_written() {
    // `bob` resolves to `alice` (one step); the row describing `alice` gives the region,
    // even though `alice` is itself listed as an alias of `carol`.
    let b = Bundle::new()
        .sku("u", "subscription")
        .entitle("u", 5)
        .pool("p-emea,u,region:emea,5,0")
        .dir("user,alice,bob,active,emea,,")
        .dir("user,carol,alice,active,,,")
        .signal(&fields("entra", "1", "u", "assignment", &[("user", "bob")]));
    let rec = b.sku_record("u");
    assert_eq!(rec["consumed"], 1);
    assert_eq!(pool_consumed(&rec, Some("p-emea")), 1);
}

#[test]
fn a9_identical_sessions_collapse_before_window_clipping() {
    // Same user, host and start: one ends before the window, one reaches into it.
    // Collapsed first (latest end, largest quantity), then clipped: 5 tokens count.
    let s = |raw: &'static str, end: &'static str, q: &'static str| {
        fields(
            "flexlm",
            raw,
            "c",
            "session",
            &[("user", "u"), ("device_serial", "H"), ("session_start", "2026-10-01T00:00:00Z"), ("session_end", end), ("quantity", q)],
        )
    };
    let b = Bundle::new()
        .sku("c", "concurrent")
        .entitle("c", 10)
        .rule(&["concurrent", "dup_group"], json!("none"))
        .signal(&s("1", "2026-10-02T00:00:00Z", "5"))
        .signal(&s("2", "2026-11-01T00:00:00Z", "1"));
    assert_eq!(b.consumed("c"), 5);
    // Without its twin, the early session alone is clipped away.
    let alone = Bundle::new().sku("c", "concurrent").entitle("c", 10).signal(&s("1", "2026-10-02T00:00:00Z", "5"));
    assert_eq!(alone.consumed("c"), 0);
}

#[test]
fn a9_quantity_beyond_32_bits_is_an_integer_too() {
    let b = Bundle::new().sku("c", "concurrent").entitle("c", 1).signal(&fields(
        "flexlm",
        "1",
        "c",
        "session",
        &[("session_start", "2026-11-20T00:00:00Z"), ("quantity", "5000000000")],
    ));
    assert_eq!(b.consumed("c"), 5_000_000_000);
}

#[test]
fn a10_duplicates_compare_status_as_written() {
    let b = Bundle::new()
        .sku("s", "subscription")
        .signal(&fields("entra", "1", "s", "assignment", &[("user", "a"), ("status", "")]))
        .signal(&fields("entra", "1", "s", "assignment", &[("user", "a"), ("status", "active")]));
    let out = b.run();
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(reasons(&out), vec!["conflicting_duplicate"]);
}

#[test]
fn a9_serial_inner_white_space_includes_vertical_tab() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&fields("intune", "1", "d", "installation", &[("device_serial", "AB\u{b}C")]))
        .signal(&fields("sccm", "2", "d", "installation", &[("device_serial", "abc")]));
    assert_eq!(b.consumed("d"), 1);
}

#[test]
fn a10_jsonl_numbers_follow_the_literal_grammar() {
    let rows = concat!(
        r#"{"source":"jamf","raw_id":"1","observed_at":"2026-11-21T00:00:00Z","sku":"d","kind":"installation","device_serial":"A","confidence":5e-1}"#,
        "\n",
        r#"{"source":"jamf","raw_id":"2","observed_at":"2026-11-21T00:00:00Z","sku":"d","kind":"installation","device_serial":"B","confidence":0.9}"#,
        "\n",
        r#"{"source":"jamf","raw_id":"3","observed_at":"2026-11-21T00:00:00Z","sku":"d","kind":"installation","device_serial":"C","confidence":true}"#,
        "\n"
    );
    let out = Bundle::new().sku("d", "device").rule(&["max_reject_percent"], json!(100)).file("signals/jamf.jsonl", rows.as_bytes()).run();
    let snap = out.snapshot.as_ref().expect("snapshot");
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 1);
    let job = out.report.to_json()["imports"].as_array().unwrap().iter().find(|j| j["path"] == "signals/jamf.jsonl").unwrap().clone();
    let codes: Vec<(u64, String)> =
        job["errors"].as_array().unwrap().iter().map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap().to_string())).collect();
    assert_eq!(codes, vec![(1, "bad_confidence".to_string()), (3, "wrong_type".to_string())]);
}

#[test]
fn a9_entitlement_unit_cost_is_not_an_integrity_rule() {
    let b = Bundle::new().sku("s", "device").entitlement_row("e1,s,c1,10,2026-01-01,,36.00 USD,USD");
    assert_eq!(b.sku_record("s")["entitled"], 10);
}

#[test]
fn a6_every_fail_closed_reason_is_reported() {
    // An invalid ruleset and an entitlement of an unknown SKU: both reasons.
    let out = Bundle::new().sku("s", "device").entitle("nosuch", 1).rule(&["min_confidence"], json!(0.5)).run();
    assert_eq!(reasons(&out), vec!["invalid_ruleset", "catalog_integrity"]);

    // Too many rejected rows and a conflicting duplicate: both reasons.
    let out = Bundle::new()
        .sku("s", "device")
        .signal(&fields("intune", "1", "s", "installation", &[("device_serial", "A")]))
        .signal(&fields("intune", "1", "s", "installation", &[("device_serial", "B")]))
        .signal(&fields("intune", "2", "s", "bogus_kind", &[]))
        .run();
    assert_eq!(reasons(&out), vec!["conflicting_duplicate", "reject_threshold_exceeded"]);
}

#[test]
fn a9_mapping_to_a_sku_with_an_unknown_model_is_a_catalog_problem() {
    let mut b = Bundle::new().rule(&["sku_mappings"], json!([{"match": "exact", "field": "product", "value": "x", "sku": "weird"}]));
    b.skus.push(json!({"id": "weird", "vendor": "v", "model": "per_core"}));
    let out = b.run();
    assert_eq!(reasons(&out), vec!["catalog_integrity"]);
}
