//! Issue 10, defect 8: bad values are caught when read, not while writing.
//! A float `unit_cost`, a previous snapshot with a field of the wrong type or
//! range, and duplicate keys in any JSON document are refused with a location.

use crate::common::{reasons, Bundle};
use eucora_license_core::internal::canonical::parse_strict;
use eucora_license_core::{reconcile, RunStatus};
use serde_json::{json, Value};

fn app() -> Bundle {
    Bundle::new().sku("app", "device").entitle("app", 5).signal(&[
        ("source", "intune"),
        ("raw_id", "1"),
        ("observed_at", "2026-11-21T00:00:00Z"),
        ("sku", "app"),
        ("kind", "installation"),
        ("device_serial", "S1"),
    ])
}

fn only_error(out: &eucora_license_core::Outcome, code: &str) -> eucora_license_core::Error {
    assert_eq!(out.status, RunStatus::Failed, "{}", out.report.to_json());
    assert!(out.snapshot.is_none());
    assert_eq!(reasons(out), vec![code.to_string()], "{:?}", out.errors);
    out.errors[0].clone()
}

#[test]
fn a_float_unit_cost_is_a_located_catalog_error_when_read() {
    for bad in [json!(36.5), json!(36), json!("36,50"), json!(["1"])] {
        let mut b = app();
        b.skus[0]["unit_cost"] = bad.clone();
        let e = only_error(&b.run(), "catalog_integrity");
        let loc = e.location().unwrap();
        assert_eq!((loc.file.as_str(), loc.field.as_deref()), ("catalog.json", Some("$.skus[0].unit_cost")), "{bad}");
    }
    // Other known fields must be text.
    let mut b = app();
    b.skus[0]["currency"] = json!(840);
    let e = only_error(&b.run(), "catalog_integrity");
    assert_eq!(e.location().unwrap().field.as_deref(), Some("$.skus[0].currency"));
    let mut b = app();
    b.vendors[0]["contacts"] = json!([{"name": "A", "phone": 5551234}]);
    let e = only_error(&b.run(), "catalog_integrity");
    assert_eq!(e.location().unwrap().field.as_deref(), Some("$.vendors[0].contacts[0].phone"));
    // A decimal string and null are fine.
    let mut b = app();
    b.skus[0]["unit_cost"] = json!(null);
    assert!(b.run().errors.is_empty());
}

fn first_snapshot() -> Value {
    let out = app().run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    out.snapshot.unwrap().value().clone()
}

/// The previous snapshot with `edit` applied, resealed (its hash recomputed).
fn resealed(edit: impl Fn(&mut Value)) -> Vec<u8> {
    let mut v = first_snapshot();
    edit(&mut v);
    let Value::Object(body) = v else { unreachable!() };
    eucora_license_core::internal::snapshot::seal_json(body).unwrap().2
}

#[test]
fn a_resealed_previous_snapshot_with_bad_fields_is_refused_with_the_field_named() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("$.sequence", Box::new(|v| v["sequence"] = json!(-5))),
        ("$.sequence", Box::new(|v| v["sequence"] = json!("7"))),
        ("$.sequence", Box::new(|v| v["sequence"] = json!(0))),
        ("$.sequence", Box::new(|v| v["sequence"] = json!(9007199254740991u64))), // no successor
        ("$.sequence", Box::new(|v| drop(v.as_object_mut().unwrap().remove("sequence")))),
        ("$.organization_id", Box::new(|v| v["organization_id"] = json!(7))),
        ("$.previous_hash", Box::new(|v| v["previous_hash"] = json!("sha256:abc"))),
        ("$.reconciled_at", Box::new(|v| v["reconciled_at"] = json!("yesterday"))),
        ("$.ruleset.version", Box::new(|v| v["ruleset"]["version"] = json!("1"))),
        ("$.ruleset.hash", Box::new(|v| v["ruleset"]["hash"] = json!(null))),
        ("$.imports[0].rows_total", Box::new(|v| v["imports"][0]["rows_total"] = json!(-1))),
        ("$.coverage.intune.signals", Box::new(|v| v["coverage"]["intune"]["signals"] = json!("1"))),
        ("$.coverage.intune.status", Box::new(|v| v["coverage"]["intune"]["status"] = json!("great"))),
        ("$.health", Box::new(|v| v["health"] = json!("fine"))),
        ("$.totals.entitled", Box::new(|v| v["totals"]["entitled"] = json!("5"))),
        ("$.skus[0].entitled", Box::new(|v| v["skus"][0]["entitled"] = json!(-1))),
        ("$.skus[0].model", Box::new(|v| v["skus"][0]["model"] = json!("galaxy"))),
        ("$.skus[0].units_root", Box::new(|v| v["skus"][0]["units_root"] = json!("x"))),
        ("$.skus", Box::new(|v| v["skus"] = json!({}))),
        ("$.skus_root", Box::new(|v| v["skus_root"] = json!(1))),
        ("$.exceptions_summary.x", Box::new(|v| v["exceptions_summary"]["x"] = json!("1"))),
    ];
    for (field, edit) in cases {
        let prev = resealed(edit);
        let out = reconcile(&app().build(), Some(&prev));
        let e = only_error(&out, "previous_snapshot_invalid");
        assert_eq!(e.location().and_then(|l| l.field.as_deref()), Some(field), "{e}");
    }
    // The untouched snapshot chains.
    let prev = resealed(|_| {});
    let out = reconcile(&app().build(), Some(&prev));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.snapshot.unwrap().value()["sequence"], json!(2));
}

/// `text` with its first `{` followed by a duplicate of an existing key.
fn with_duplicate(text: &str, key_value: &str) -> Vec<u8> {
    text.replacen('{', &format!("{{{key_value},"), 1).into_bytes()
}

#[test]
fn duplicate_keys_are_refused_in_every_json_document() {
    // bundle.json
    let mut b = app().build();
    let text = String::from_utf8(b.get("bundle.json").unwrap().to_vec()).unwrap();
    b.insert("bundle.json", with_duplicate(&text, "\"organization_id\": \"b\""));
    let e = only_error(&reconcile(&b, None), "invalid_input");
    assert_eq!(e.location().unwrap().file, "bundle.json");
    assert!(e.location().unwrap().line.is_some());
    assert!(e.message().contains("duplicate key `organization_id`"), "{e}");

    // catalog.json, nested
    let mut b = app().build();
    let text = String::from_utf8(b.get("catalog.json").unwrap().to_vec()).unwrap();
    b.insert("catalog.json", text.replacen("\"id\":\"v\"", "\"id\":\"v\",\"id\":\"w\"", 1).into_bytes());
    let e = only_error(&reconcile(&b, None), "invalid_input");
    assert_eq!(e.location().unwrap().file, "catalog.json");
    assert!(e.message().contains("duplicate key `id`"), "{e}");

    // ruleset
    let mut b = app().build();
    let text = String::from_utf8(b.get("ruleset.json").unwrap().to_vec()).unwrap();
    b.insert("ruleset.json", with_duplicate(&text, "\"version\": 2"));
    let e = only_error(&reconcile(&b, None), "invalid_ruleset");
    assert_eq!(e.location().unwrap().file, "ruleset.json");
    assert!(e.message().contains("duplicate key `version`") && e.message().contains("line 1"), "{e}");

    // a JSON Lines signal: the row is rejected with its line, never last-wins
    let line =
        r#"{"source":"jamf","raw_id":"j1","observed_at":"2026-11-21T00:00:00Z","sku":"app","kind":"installation","device_serial":"S2"}"#;
    let dup = r#"{"source":"jamf","raw_id":"j2","observed_at":"2026-11-21T00:00:00Z","sku":"app","sku":"other","kind":"installation","device_serial":"S3"}"#;
    let mut rows = String::new();
    for _ in 0..30 {
        rows.push_str(line);
        rows.push('\n');
    }
    rows.push_str(dup);
    rows.push('\n');
    let out = reconcile(&app().file("signals/j.jsonl", rows.as_bytes()).build(), None);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let report_json = out.report.to_json();
    let job = report_json["imports"].as_array().unwrap().iter().find(|j| j["path"] == "signals/j.jsonl").unwrap();
    assert_eq!(job["rows_rejected"], json!(1));
    assert_eq!((job["errors"][0]["line"].clone(), job["errors"][0]["code"].clone()), (json!(31), json!("duplicate_key")));

    // the previous snapshot
    let prev = String::from_utf8(resealed(|_| {})).unwrap();
    let prev = with_duplicate(&prev, "\"organization_id\":\"org-test\"");
    let e = only_error(&reconcile(&app().build(), Some(&prev)), "previous_snapshot_invalid");
    assert!(e.message().contains("duplicate key"), "{e}");

    // an adapter's JSON
    let page = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": [], "value": []}"#;
    let e = only_error(&reconcile(&app().file("imports/entra-users/page-1.json", page).build(), None), "invalid_input");
    assert_eq!(e.location().unwrap().file, "imports/entra-users/page-1.json");
    assert!(e.message().contains("duplicate key `value`"), "{e}");
}

#[test]
fn a_duplicate_key_that_does_not_look_like_a_name_is_not_echoed() {
    let e = parse_strict(r#"{"ABCD-1234-EFGH-5678": 1, "ABCD-1234-EFGH-5678": 2}"#).unwrap_err();
    assert!(!e.to_string().contains("ABCD"), "{e}");
    assert!(e.to_string().starts_with("duplicate key"), "{e}");
}

#[test]
fn the_strict_parser_agrees_with_serde_json_on_every_fixture() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let root = crate::common::fixtures();
    let mut files = Vec::new();
    walk(&root, &mut files);
    walk(&crate::common::fixtures().join("../rulesets"), &mut files);
    let mut compared = 0;
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let Ok(plain) = serde_json::from_str::<Value>(text) else { continue };
        match parse_strict(text) {
            Ok(strict) => {
                assert_eq!(strict, plain, "{}", f.display());
                compared += 1;
            }
            Err(e) => assert!(e.to_string().starts_with("duplicate key"), "{}: {e}", f.display()),
        }
    }
    assert!(compared > 50, "{compared}");
}
