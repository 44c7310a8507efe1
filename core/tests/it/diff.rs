//! Diffs against the previous run: every unit added or removed has a reason,
//! and the counts add up (consumed(prev) + added − removed = consumed(cur)).

use crate::common::{Bundle, SkuJson};
use eucora_license_core::internal::evidence::{verify, write_pack};
use eucora_license_core::{reconcile, Outcome, RunStatus};
use proptest::prelude::*;
use serde_json::{json, Value};

/// The evidence pack of a successful run.
fn pack(out: &Outcome) -> Vec<u8> {
    assert!(out.errors.is_empty(), "run failed: {:?}", out.errors);
    write_pack(out, Vec::new()).expect("pack").0
}

/// Run `next` after the run `prev` (chained through its pack).
fn after(prev: &Outcome, next: &Bundle) -> Outcome {
    let out = reconcile(&next.build(), Some(&pack(prev)));
    assert!(out.errors.is_empty(), "run failed: {:?}", out.errors);
    out
}

/// The snapshot's diff entry of `sku` (Null when the SKU did not change).
fn entry(out: &Outcome, sku: &str) -> Value {
    let diff = &out.snapshot.as_ref().unwrap().value()["diff"];
    diff["skus"].as_array().unwrap().iter().find(|d| d["sku"] == sku).cloned().unwrap_or(Value::Null)
}

/// The pack's unit list of `sku`: (key, reason, weight) added and removed.
fn units(out: &Outcome, sku: &str, side: &str) -> Vec<(String, String, i64)> {
    let detail = serde_json::to_value(out.diff.as_ref().unwrap()).unwrap();
    let d = detail["skus"].as_array().unwrap().iter().find(|d| d["sku"] == sku).cloned().unwrap_or(json!({}));
    d[side]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| (u["key"].as_str().unwrap().to_string(), u["reason"].as_str().unwrap().to_string(), u["weight"].as_i64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

/// consumed(prev) + Σ added − Σ removed = consumed(cur) and entitled likewise,
/// for every SKU of the snapshot (unlisted SKUs did not change).
fn assert_adds_up(prev: &Outcome, cur: &Outcome) {
    let (p, c) = (prev.snapshot.as_ref().unwrap(), cur.snapshot.as_ref().unwrap());
    assert_eq!(c.value()["diff"]["basis"], "units");
    for record in c.value()["skus"].as_array().unwrap() {
        let sku = record["sku"].as_str().unwrap();
        let before = p.sku_json(sku).map(|r| (r["consumed"].as_i64().unwrap(), r["entitled"].as_i64().unwrap())).unwrap_or((0, 0));
        let now = (record["consumed"].as_i64().unwrap(), record["entitled"].as_i64().unwrap());
        let e = entry(cur, sku);
        if e.is_null() {
            assert_eq!(before, now, "{sku} changed but is not in the diff");
            continue;
        }
        let sum = |side: &str| e[side].as_object().unwrap().values().map(|v| v.as_i64().unwrap()).sum::<i64>();
        assert_eq!(before.0 + sum("added") - sum("removed"), now.0, "{sku}: consumed does not add up: {e}");
        assert_eq!(before.1 + sum("entitlements"), now.1, "{sku}: entitled does not add up: {e}");
        assert_eq!(e["consumed"], json!({"previous": before.0, "current": now.0}));
        // The pack's unit lists are what the snapshot counts.
        for side in ["added", "removed"] {
            let listed: i64 = units(cur, sku, side).iter().map(|u| u.2).sum();
            assert_eq!(listed, sum(side), "{sku} {side}");
        }
    }
}

fn device_bundle() -> Bundle {
    Bundle::new()
        .sku("app", "device")
        .entitle("app", 10)
        .rule(&["sku_mappings"], json!([{"match": "exact", "field": "product", "value": "App", "sku": "app"}]))
}

fn install(b: Bundle, raw_id: &str, serial: &str, at: &str) -> Bundle {
    b.signal(&[
        ("source", "intune"),
        ("raw_id", raw_id),
        ("observed_at", at),
        ("product", "App"),
        ("kind", "installation"),
        ("device_serial", serial),
    ])
}

#[test]
fn new_signal_adds_a_unit() {
    let first = install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z").run();
    let b = install(install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z"), "i2", "SER002", "2026-11-21T00:00:00Z");
    let second = after(&first, &b);
    assert_eq!(entry(&second, "app")["added"], json!({"new_signal": 1}));
    assert_eq!(units(&second, "app", "added"), vec![("serial:SER002".to_string(), "new_signal".to_string(), 1)]);
    assert_eq!(entry(&second, "app")["removed"], json!({}));
    assert_adds_up(&first, &second);
}

#[test]
fn unchanged_run_has_an_empty_diff() {
    let b = install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z");
    let first = b.run();
    let second = after(&first, &b);
    assert_eq!(second.snapshot.as_ref().unwrap().value()["diff"]["skus"], json!([]));
    assert_adds_up(&first, &second);
}

#[test]
fn a_signal_out_of_the_lookback_is_aged_out() {
    let b = install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z");
    let first = b.run();
    let later = b.param("as_of", json!("2027-03-01T00:00:00Z"));
    let second = after(&first, &later);
    assert_eq!(entry(&second, "app")["removed"], json!({"aged_out": 1}));
    assert_adds_up(&first, &second);
}

#[test]
fn a_vanished_record_is_not_reported_unless_its_source_sent_nothing() {
    let two = install(install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z"), "i2", "SER002", "2026-11-20T00:00:00Z")
        .param("expected_sources", json!(["intune"]));
    let first = two.run();
    let one = install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z").param("expected_sources", json!(["intune"]));
    let second = after(&first, &one);
    assert_eq!(entry(&second, "app")["removed"], json!({"not_reported": 1}));
    assert_adds_up(&first, &second);

    // The source sends nothing: the snapshot is degraded and the gap names the SKU.
    let none = device_bundle().param("expected_sources", json!(["intune"]));
    let third = after(&first, &none);
    assert_eq!(third.status, RunStatus::Degraded);
    assert_eq!(entry(&third, "app")["removed"], json!({"source_missing": 2}));
    assert_eq!(
        third.snapshot.as_ref().unwrap().value()["diff"]["coverage_gaps"],
        json!([{"source": "intune", "status": "missing", "skus": ["app"]}])
    );
    assert_adds_up(&first, &third);
}

#[test]
fn confidence_below_the_minimum_removes_with_below_confidence() {
    let first = install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z").run();
    let low = device_bundle().signal(&[
        ("source", "intune"),
        ("raw_id", "i1"),
        ("observed_at", "2026-11-21T00:00:00Z"),
        ("product", "App"),
        ("kind", "installation"),
        ("device_serial", "SER001"),
        ("confidence", "0.1"),
    ]);
    let second = after(&first, &low);
    assert_eq!(entry(&second, "app")["removed"], json!({"below_confidence": 1}));
    assert_adds_up(&first, &second);
}

fn assign(b: Bundle, raw_id: &str, user: &str, at: &str, status: &str) -> Bundle {
    b.signal(&[
        ("source", "entra"),
        ("raw_id", raw_id),
        ("observed_at", at),
        ("sku", "suite"),
        ("kind", "assignment"),
        ("status", status),
        ("user", user),
    ])
}

#[test]
fn a_later_revocation_removes_with_revoked() {
    let base = || Bundle::new().sku("suite", "user").entitle("suite", 5);
    let first =
        assign(assign(base(), "a1", "ann@x.com", "2026-11-20T00:00:00Z", "active"), "a2", "bob@x.com", "2026-11-20T00:00:00Z", "active")
            .run();
    let b = assign(
        assign(assign(base(), "a1", "ann@x.com", "2026-11-20T00:00:00Z", "active"), "a2", "bob@x.com", "2026-11-20T00:00:00Z", "active"),
        "a3",
        "bob@x.com",
        "2026-11-21T00:00:00Z",
        "revoked",
    );
    let second = after(&first, &b);
    assert_eq!(units(&second, "suite", "removed"), vec![("bob@x.com".to_string(), "revoked".to_string(), 1)]);
    assert_adds_up(&first, &second);
}

#[test]
fn a_directory_merge_removes_with_merged_identity() {
    let host = |b: Bundle| {
        b.signal(&[
            ("source", "sccm"),
            ("raw_id", "s1"),
            ("observed_at", "2026-11-20T00:00:00Z"),
            ("product", "App"),
            ("kind", "installation"),
            ("device_name", "ws-01"),
        ])
    };
    let first = host(install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z")).run();
    assert_eq!(first.snapshot.as_ref().unwrap().sku_json("app").unwrap()["consumed"], 2);
    let merged = host(install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z")).dir("device,serial:SER001,name:ws-01,active,,,");
    let second = after(&first, &merged);
    assert_eq!(second.snapshot.as_ref().unwrap().sku_json("app").unwrap()["consumed"], 1);
    assert_eq!(entry(&second, "app")["removed"], json!({"merged_identity": 1}));
    assert_adds_up(&first, &second);
    // And back: the split adds the hostname's unit with merged_identity.
    let third = after(&second, &host(install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z")));
    assert_eq!(entry(&third, "app")["added"], json!({"merged_identity": 1}));
    assert_adds_up(&second, &third);
}

#[test]
fn a_mapping_change_moves_units_with_ruleset_changed() {
    let two = || device_bundle().sku("app2", "device").entitle("app2", 3);
    let first = install(two(), "i1", "SER001", "2026-11-20T00:00:00Z").run();
    let remapped = install(
        two().rule(&["sku_mappings"], json!([{"match": "exact", "field": "product", "value": "App", "sku": "app2"}])),
        "i1",
        "SER001",
        "2026-11-20T00:00:00Z",
    );
    let second = after(&first, &remapped);
    assert_eq!(second.snapshot.as_ref().unwrap().value()["diff"]["ruleset_changed"], true);
    assert_eq!(entry(&second, "app")["removed"], json!({"ruleset_changed": 1}));
    assert_eq!(entry(&second, "app2")["added"], json!({"ruleset_changed": 1}));
    assert_adds_up(&first, &second);
}

#[test]
fn entitlement_changes_carry_their_reasons() {
    let base = || Bundle::new().sku("suite", "user");
    let first = base()
        .entitlement_row("E1,suite,C1,10,2024-01-01,,1.00,USD")
        .entitlement_row("E2,suite,C1,5,2024-01-01,2026-12-31,1.00,USD")
        .entitlement_row("E3,suite,C1,2,2024-01-01,,1.00,USD")
        .run();
    let b = base()
        .entitlement_row("E1,suite,C1,12,2024-01-01,,1.00,USD")
        .entitlement_row("E2,suite,C1,5,2024-01-01,2026-11-01,1.00,USD")
        .entitlement_row("E4,suite,C2,7,2026-11-01,,1.00,USD");
    let second = after(&first, &b);
    let e = entry(&second, "suite");
    assert_eq!(e["entitlements"], json!({"entitlement_ended": -7, "entitlement_started": 7, "quantity_changed": 2}));
    assert_eq!(e["entitled"], json!({"previous": 17, "current": 19}));
    let detail = serde_json::to_value(second.diff.as_ref().unwrap()).unwrap();
    let listed = &detail["skus"][0]["entitlements"];
    assert_eq!(
        listed,
        &json!([
            {"entitlement_id": "E1", "reason": "quantity_changed", "quantity": 2},
            {"entitlement_id": "E2", "reason": "entitlement_ended", "quantity": -5},
            {"entitlement_id": "E3", "reason": "entitlement_ended", "quantity": -2},
            {"entitlement_id": "E4", "reason": "entitlement_started", "quantity": 7},
        ])
    );
    assert_adds_up(&first, &second);
}

fn session(b: Bundle, raw_id: &str, user: &str, start: &str, end: &str) -> Bundle {
    b.signal(&[
        ("source", "flexlm"),
        ("raw_id", raw_id),
        ("observed_at", end),
        ("sku", "cad"),
        ("kind", "session"),
        ("user", user),
        ("device_name", &format!("ws-{user}")),
        ("session_start", start),
        ("session_end", end),
    ])
}

#[test]
fn concurrent_diffs_count_the_sessions_at_the_peak() {
    let base = || Bundle::new().sku("cad", "concurrent").entitle("cad", 5);
    // Peak 2 (ann + bob overlap); carol alone later.
    let one = session(
        session(
            session(base(), "f1", "ann", "2026-11-20T08:00:00Z", "2026-11-20T10:00:00Z"),
            "f2",
            "bob",
            "2026-11-20T09:00:00Z",
            "2026-11-20T11:00:00Z",
        ),
        "f3",
        "carol",
        "2026-11-20T12:00:00Z",
        "2026-11-20T13:00:00Z",
    );
    let first = one.run();
    assert_eq!(first.snapshot.as_ref().unwrap().sku_json("cad").unwrap()["consumed"], 2);
    // dan and erin overlap carol: peak 3 at 12:30, ann and bob leave the peak.
    let two = session(
        session(one, "f4", "dan", "2026-11-20T12:00:00Z", "2026-11-20T14:00:00Z"),
        "f5",
        "erin",
        "2026-11-20T12:30:00Z",
        "2026-11-20T13:30:00Z",
    );
    let second = after(&first, &two);
    assert_eq!(second.snapshot.as_ref().unwrap().sku_json("cad").unwrap()["consumed"], 3);
    let e = entry(&second, "cad");
    assert_eq!(e["added"], json!({"new_signal": 2, "peak_moved": 1}));
    assert_eq!(e["removed"], json!({"peak_moved": 2}));
    assert_adds_up(&first, &second);
}

#[test]
fn the_pack_of_a_chained_run_verifies_by_replay() {
    let first = install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z").run();
    let first_pack = pack(&first);
    let b = install(device_bundle(), "i2", "SER002", "2026-11-21T00:00:00Z");
    let second = after(&first, &b);
    let p = pack(&second);
    let report = verify(&p, Some(first.snapshot.as_ref().unwrap().canonical_bytes()));
    assert!(report.ok, "{:?}", report.checks.iter().filter(|c| c.status == "failed").collect::<Vec<_>>());
    // A previous pack whose units do not match its snapshot is refused.
    let entries = eucora_license_core::internal::tar::read(&first_pack).unwrap();
    let mut w = eucora_license_core::internal::tar::TarWriter::new(Vec::new());
    for e in &entries {
        let data =
            if e.name == "units.jsonl" { e.data.iter().map(|&b| if b == b'1' { b'2' } else { b }).collect() } else { e.data.to_vec() };
        w.append(&e.name, &data).unwrap();
    }
    let tampered = w.finish().unwrap();
    let out = reconcile(&b.build(), Some(&tampered));
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(crate::common::reasons(&out), vec!["previous_snapshot_invalid"]);
    // A bare previous snapshot still chains, with counter deltas only.
    let bare = reconcile(&b.build(), Some(first.snapshot.as_ref().unwrap().canonical_bytes()));
    assert_eq!(bare.snapshot.as_ref().unwrap().value()["diff"]["basis"], "counters");
}

// ---------------------------------------------------------------------------------------------
// Generated histories.

/// A run of a small estate: which devices have the app (and from which
/// source), which users hold the suite, which sessions ran, entitlements, as_of.
#[derive(Debug, Clone)]
struct Step {
    installs: Vec<(u8, u8)>, // (device, source)
    links: Vec<u8>,          // devices whose hostname row is linked to their serial
    assigns: Vec<(u8, bool)>,
    sessions: Vec<(u8, u8, u8)>, // (user, start hour, hours)
    ent: (i64, i64),
    day: u8,
}

fn step() -> impl Strategy<Value = Step> {
    (
        proptest::collection::vec((0u8..8, 0u8..2), 0..10),
        proptest::collection::vec(0u8..8, 0..4),
        proptest::collection::vec((0u8..6, any::<bool>()), 0..8),
        proptest::collection::vec((0u8..5, 0u8..20, 1u8..6), 0..8),
        (0i64..20, 0i64..20),
        0u8..60,
    )
        .prop_map(|(installs, links, assigns, sessions, ent, day)| Step { installs, links, assigns, sessions, ent, day })
}

fn bundle_of(s: &Step) -> Bundle {
    let as_of = format!("2026-{}T06:00:00Z", if s.day < 30 { format!("11-{:02}", s.day + 1) } else { format!("12-{:02}", s.day - 29) });
    let mut b = Bundle::new()
        .sku("app", "device")
        .sku("suite", "user")
        .sku("cad", "concurrent")
        .entitle("app", s.ent.0)
        .entitle("suite", s.ent.1)
        .entitle("cad", 3)
        .rule(&["sku_mappings"], json!([{"match": "exact", "field": "product", "value": "App", "sku": "app"}]))
        .param("as_of", json!(as_of));
    for &(d, src) in &s.installs {
        let (source, hint) = if src == 0 { ("intune", "device_serial") } else { ("sccm", "device_name") };
        let value = if src == 0 { format!("SER{d:03}") } else { format!("ws-{d:02}") };
        b = b.signal(&[
            ("source", source),
            ("raw_id", &format!("{source}-{d}")),
            ("observed_at", "2026-11-01T00:00:00Z"),
            ("product", "App"),
            ("kind", "installation"),
            (hint, &value),
        ]);
    }
    for &d in &s.links {
        b = b.dir(&format!("device,serial:SER{d:03},name:ws-{d:02},active,,,"));
    }
    for (n, &(u, active)) in s.assigns.iter().enumerate() {
        b = b.signal(&[
            ("source", "entra"),
            ("raw_id", &format!("a{n}")),
            ("observed_at", &format!("2026-11-01T0{}:00:00Z", n % 10)),
            ("sku", "suite"),
            ("kind", "assignment"),
            ("status", if active { "active" } else { "revoked" }),
            ("user", &format!("u{u}@x.com")),
        ]);
    }
    for (n, &(u, h, len)) in s.sessions.iter().enumerate() {
        let start = format!("2026-11-01T{:02}:00:00Z", h);
        let end = format!("2026-11-0{}T{:02}:00:00Z", 1 + (h as u32 + len as u32) / 24, (h as u32 + len as u32) % 24);
        b = b.signal(&[
            ("source", "flexlm"),
            ("raw_id", &format!("f{n}")),
            ("observed_at", &end),
            ("sku", "cad"),
            ("kind", "session"),
            ("user", &format!("u{u}")),
            ("device_name", &format!("ws-{u:02}")),
            ("session_start", &start),
            ("session_end", &end),
        ]);
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Over any three-run history: every SKU's diff adds up, and each
    /// chained pack verifies by replay (the diff is re-derived from the pack).
    #[test]
    fn generated_histories_add_up(steps in proptest::collection::vec(step(), 3)) {
        let mut prev = bundle_of(&steps[0]).run();
        prop_assert!(prev.errors.is_empty(), "{:?}", prev.errors);
        for s in &steps[1..] {
            let cur = after(&prev, &bundle_of(s));
            assert_adds_up(&prev, &cur);
            let report = verify(&pack(&cur), Some(prev.snapshot.as_ref().unwrap().canonical_bytes()));
            prop_assert!(report.ok, "{:?}", report.first_failure);
            prev = cur;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Explain.

use eucora_license_core::explain;

fn explained(prev: &Outcome, cur: &Outcome, sku: &str) -> String {
    explain(prev.snapshot.as_ref().unwrap(), cur.snapshot.as_ref().unwrap(), cur.diff.as_ref(), sku).unwrap()
}

#[test]
fn explain_tells_each_reason_with_the_diffs_numbers() {
    let two = install(install(device_bundle(), "i1", "SER001", "2026-11-20T00:00:00Z"), "i2", "SER002", "2026-11-20T00:00:00Z")
        .param("expected_sources", json!(["intune"]));
    let first = two.run();
    let none = device_bundle().param("expected_sources", json!(["intune"]));
    let second = after(&first, &none);
    assert_eq!(
        explained(&first, &second, "app"),
        "app (device): consumed 2 → 0 (−2); entitled 10 → 10 (±0); remaining 8 → 10 (+2).\n−2 devices: 2 source intune sent nothing this run."
    );
    let third = after(&second, &two);
    assert_eq!(
        explained(&second, &third, "app"),
        "app (device): consumed 0 → 2 (+2); entitled 10 → 10 (±0); remaining 10 → 8 (−2).\n+2 devices: 2 newly reported by intune."
    );
    // Unchanged SKU, and snapshots that do not follow each other.
    let fourth = after(&third, &two);
    assert!(explained(&third, &fourth, "app").ends_with("\nNo change."));
    let e = explain(first.snapshot.as_ref().unwrap(), third.snapshot.as_ref().unwrap(), None, "app").unwrap_err();
    assert_eq!(e.code().name(), "invalid_input");
    assert!(e.message().contains("consecutive"), "{e}");
}

#[test]
fn explain_names_entitlements_and_mixed_sources() {
    let base = || device_bundle().sku("x", "device");
    let first = base().entitlement_row("E9,app,C1,4,2024-01-01,,1.00,USD").run();
    let b = install(base(), "i1", "SER001", "2026-11-20T00:00:00Z")
        .signal(&[
            ("source", "sccm"),
            ("raw_id", "s1"),
            ("observed_at", "2026-11-20T00:00:00Z"),
            ("product", "App"),
            ("kind", "installation"),
            ("device_name", "ws-9"),
        ])
        .entitlement_row("E9,app,C1,6,2024-01-01,,1.00,USD");
    let second = after(&first, &b);
    let text = explained(&first, &second, "app");
    assert!(text.contains("+2 devices: 2 newly reported by intune 1, sccm 1."), "{text}");
    assert!(text.contains("Entitled +2: +2 quantity changed (E9 +2)."), "{text} {}", entry(&second, "app"));
    // Every number in the text is one the diff holds.
    let e = entry(&second, "app");
    assert_eq!(e["added"]["new_signal"], 2);
    assert_eq!(e["entitlements"], json!({"quantity_changed": 2}));
}
