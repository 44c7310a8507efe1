//! Bad input (DESIGN A1, A6, A9, A10): fail-closed reasons with their
//! locations, rejected rows with line and column, and inputs that must be
//! tolerated (BOM, CRLF, blank lines, JSONL empties, unknown columns).

use crate::common::*;
use eucora_license_core::{reconcile, Error, Outcome, RunStatus};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// helpers

/// A valid bundle with one device SKU `d` (entitled 10) and one vendor `v`.
fn base() -> Bundle {
    Bundle::new().sku("d", "device").entitle("d", 10)
}

/// `n` good installation rows in `signals/<file>` (raw ids `<prefix><i>`).
fn good_rows(mut b: Bundle, file: &str, prefix: &str, n: usize) -> Bundle {
    for i in 0..n {
        let raw = format!("{prefix}{i}");
        b = b.signal_in(file, &sig("intune", &raw, RECENT, "d", "installation", &[("device_serial", &raw)]));
    }
    b
}

/// Asserts the run failed closed with exactly `code` as reason; returns its errors.
fn failed_with(out: &Outcome, code: &str) -> Vec<Error> {
    assert_eq!(out.status, RunStatus::Failed, "expected a failed run ({code}); report {}", out.report.to_json());
    assert!(out.snapshot.is_none(), "a failed run has no snapshot");
    assert_eq!(out.report.to_json()["status"], "failed");
    assert_eq!(reasons(out), vec![code.to_string()], "errors: {:?}", out.errors);
    assert!(!out.errors.is_empty());
    for e in &out.errors {
        assert_eq!(e.code().name(), code, "{e}");
        assert!(e.location().is_some_and(|l| !l.file.is_empty()), "error without a file: {e}");
    }
    for e in out.report.to_json()["errors"].as_array().expect("report errors") {
        assert_eq!(e["code"], code);
        assert!(e["file"].as_str().is_some_and(|f| !f.is_empty()), "report error without file: {e}");
    }
    out.errors.clone()
}

/// The one error of a failed run, asserting its file (and line, field when given).
fn located(out: &Outcome, code: &str, file: &str, line: Option<u64>, field: Option<&str>) {
    let errs = failed_with(out, code);
    let hit = errs.iter().any(|e| {
        e.location().is_some_and(|l| {
            l.file == file && line.is_none_or(|n| l.line == Some(n)) && field.is_none_or(|f| l.field.as_deref() == Some(f))
        })
    });
    assert!(hit, "no {code} error at {file} line {line:?} field {field:?}: {:?}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>());
}

/// The import job of `path` in the run report.
fn job(out: &Outcome, path: &str) -> Value {
    let report = out.report.to_json();
    report["imports"]
        .as_array()
        .expect("imports")
        .iter()
        .find(|j| j["path"] == path)
        .cloned()
        .unwrap_or_else(|| panic!("no import job for {path}: {}", report["imports"]))
}

/// Row errors of a job as (line, column).
fn row_errors(job: &Value) -> Vec<(u64, String)> {
    let mut v: Vec<(u64, String)> = job["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            assert!(!e["code"].as_str().unwrap_or("").is_empty(), "row error without code: {e}");
            assert!(!e["message"].as_str().unwrap_or("").is_empty(), "row error without message: {e}");
            (e["line"].as_u64().expect("row error line"), e["column"].as_str().unwrap_or("").to_string())
        })
        .collect();
    v.sort();
    v
}

fn rows(job: &Value) -> (u64, u64, u64) {
    (job["rows_total"].as_u64().unwrap(), job["rows_accepted"].as_u64().unwrap(), job["rows_rejected"].as_u64().unwrap())
}

fn signal_file(header: &str, lines: &[&str]) -> Vec<u8> {
    let mut s = String::from(header);
    s.push('\n');
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s.into_bytes()
}

const ENT_HEADER: &str = "entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency";

// ---------------------------------------------------------------------------------------------
// invalid_input: unusable tables and files (A10)

#[test]
fn invalid_input_unterminated_quote_in_entitlements() {
    let b = base().entitlement_row("e9,d,c,\"5,2026-01-01,,,");
    located(&b.run(), "invalid_input", "entitlements.csv", None, None);
}

#[test]
fn invalid_input_unterminated_quote_in_signal_file() {
    let f = signal_file(SIGNAL_HEADER, &["intune,1,2026-11-21T00:00:00Z,d,,installation,,\"u,ABC,,,,,,,"]);
    let b = base().file("signals/x.csv", &f);
    located(&b.run(), "invalid_input", "signals/x.csv", None, None);
}

#[test]
fn invalid_input_entitlements_missing_required_column() {
    let b = base().file("entitlements.csv", b"entitlement_id,sku,contract_id,starts_on,ends_on,unit_cost,currency\ne1,d,c,2026-01-01,,,\n");
    located(&b.run(), "invalid_input", "entitlements.csv", None, Some("quantity"));
}

#[test]
fn invalid_input_entitlements_wrong_field_count() {
    let b = base().entitlement_row("e9,d,c,5,2026-01-01,,");
    // header line 1, ent-0 line 2, e9 line 3
    located(&b.run(), "invalid_input", "entitlements.csv", Some(3), None);
}

#[test]
fn invalid_input_signal_file_wrong_field_count() {
    let f = signal_file(
        "source,raw_id,observed_at,sku,kind,device_serial",
        &["intune,1,2026-11-21T00:00:00Z,d,installation,A", "intune,2,2026-11-21T00:00:00Z,d,installation,B,extra"],
    );
    let b = base().file("signals/x.csv", &f);
    located(&b.run(), "invalid_input", "signals/x.csv", Some(3), None);
}

#[test]
fn invalid_input_pools_missing_required_column() {
    let b = base().file("pools.csv", b"pool_id,sku,quantity,reserved\np1,d,5,0\n");
    located(&b.run(), "invalid_input", "pools.csv", None, Some("scope"));
}

#[test]
fn invalid_input_directory_wrong_field_count() {
    let b = base().dir("user,alice,alice@x.com,active");
    located(&b.run(), "invalid_input", "directory.csv", Some(2), None);
}

#[test]
fn invalid_input_missing_required_files() {
    for missing in ["bundle.json", "catalog.json", "entitlements.csv"] {
        let mut mb = base().build();
        assert!(mb.remove(missing).is_some());
        let out = reconcile(&mb, None);
        located(&out, "invalid_input", missing, None, None);
    }
}

#[test]
fn invalid_input_non_utf8_signal_file() {
    let mut f = signal_file("source,raw_id,observed_at,sku,kind,device_serial", &["intune,1,2026-11-21T00:00:00Z,d,installation,A"]);
    f.extend_from_slice(b"intune,2,2026-11-21T00:00:00Z,d,installation,\xff\xfe\n");
    let b = base().file("signals/x.csv", &f);
    located(&b.run(), "invalid_input", "signals/x.csv", None, None);
}

#[test]
fn invalid_input_non_utf8_entitlements() {
    let mut e = format!("{ENT_HEADER}\n").into_bytes();
    e.extend_from_slice(b"e1,d,c,5,2026-01-01,,,\xe9\n");
    let b = base().file("entitlements.csv", &e);
    located(&b.run(), "invalid_input", "entitlements.csv", None, None);
}

// ---------------------------------------------------------------------------------------------
// invalid_ruleset (A2, A9, A10)

#[test]
fn invalid_ruleset_missing_ruleset_file() {
    let b = base().param("ruleset", json!("rules/missing.json"));
    located(&b.run(), "invalid_ruleset", "rules/missing.json", None, None);

    // no `ruleset` in bundle.json and no ruleset.json: no implicit default
    let mut mb = base().build();
    mb.insert("bundle.json", br#"{"organization_id":"org-test","as_of":"2026-11-22T06:00:00Z","run_id":"r"}"#.to_vec());
    mb.remove("ruleset.json");
    let out = reconcile(&mb, None);
    failed_with(&out, "invalid_ruleset");
}

#[test]
fn ruleset_found_without_bundle_key_or_under_named_path() {
    let mut mb = base().build();
    mb.insert("bundle.json", br#"{"organization_id":"org-test","as_of":"2026-11-22T06:00:00Z","run_id":"r"}"#.to_vec());
    let out = reconcile(&mb, None);
    assert_eq!(out.status, RunStatus::Ok, "{:?}", out.errors);

    let mut mb = base().param("ruleset", json!("rules/custom.json")).build();
    let rs = mb.remove("ruleset.json").unwrap();
    mb.insert("rules/custom.json", rs);
    let out = reconcile(&mb, None);
    assert_eq!(out.status, RunStatus::Ok, "{:?}", out.errors);
}

#[test]
fn invalid_ruleset_unknown_top_level_key() {
    let b = base().rule(&["lookback_day"], json!({"assignment": 30}));
    located(&b.run(), "invalid_ruleset", "ruleset.json", None, None);
    let errs = b.run().errors;
    assert!(errs.iter().any(|e| e.to_string().contains("lookback_day")), "names the key: {errs:?}");
}

#[test]
fn invalid_ruleset_unknown_nested_key() {
    let b = base().rule(&["identity", "hostname_fallbak"], json!(true));
    located(&b.run(), "invalid_ruleset", "ruleset.json", None, None);
    let errs = b.run().errors;
    assert!(errs.iter().any(|e| e.to_string().contains("hostname_fallbak")), "names the key: {errs:?}");
}

#[test]
fn ruleset_schema_and_description_keys_allowed() {
    let b = base().rule(&["$schema"], json!("x.json")).rule(&["description"], json!("anything"));
    assert_eq!(b.run().status, RunStatus::Ok);
}

#[test]
fn invalid_ruleset_missing_required_key() {
    let mut b = base();
    b.ruleset.as_object_mut().unwrap().remove("stale_factor");
    located(&b.run(), "invalid_ruleset", "ruleset.json", None, None);
}

#[test]
fn invalid_ruleset_mapping_to_unknown_sku() {
    let b = base().rule(&["sku_mappings"], json!([{"match": "prefix", "field": "product", "value": "Acro", "sku": "nope"}]));
    located(&b.run(), "invalid_ruleset", "ruleset.json", None, None);
}

#[test]
fn invalid_ruleset_float_confidence() {
    let b = base().rule(&["min_confidence"], json!(0.5));
    located(&b.run(), "invalid_ruleset", "ruleset.json", None, None);
    let b = base().rule(&["review_confidence"], json!(0.8));
    located(&b.run(), "invalid_ruleset", "ruleset.json", None, None);
}

#[test]
fn invalid_ruleset_out_of_range_values() {
    for (path, v) in [
        (vec!["min_confidence"], json!("1.5")),
        (vec!["version"], json!(0)),
        (vec!["lookback_days", "usage"], json!(-1)),
        (vec!["lookback_days", "usage"], json!("90")),
        (vec!["max_reject_percent"], json!(-5)),
        (vec!["concurrent", "dup_group"], json!("host")),
        (vec!["concurrent", "window_days"], json!(-1)),
    ] {
        let b = base().rule(&path, v.clone());
        let out = b.run();
        assert_eq!(out.status, RunStatus::Failed, "{path:?} = {v}");
        located(&out, "invalid_ruleset", "ruleset.json", None, None);
    }
}

#[test]
fn invalid_ruleset_not_json() {
    let b = base().file("ruleset.json", b"{ not json");
    located(&b.run(), "invalid_ruleset", "ruleset.json", None, None);
}

// ---------------------------------------------------------------------------------------------
// catalog_integrity (A9, A10)

#[test]
fn catalog_integrity_unknown_model() {
    let b = Bundle::new().sku("d", "seat");
    located(&b.run(), "catalog_integrity", "catalog.json", None, None);
}

#[test]
fn catalog_integrity_duplicate_sku_id() {
    let b = base().sku("d", "user");
    located(&b.run(), "catalog_integrity", "catalog.json", None, None);
}

#[test]
fn catalog_integrity_duplicate_vendor_id() {
    let mut b = base();
    b.vendors.push(json!({"id": "v", "name": "Again"}));
    located(&b.run(), "catalog_integrity", "catalog.json", None, None);
}

#[test]
fn catalog_integrity_sku_of_unknown_vendor() {
    let mut b = base();
    b.skus.push(json!({"id": "x", "vendor": "ghost", "model": "device", "base_sku": null}));
    located(&b.run(), "catalog_integrity", "catalog.json", None, None);
}

#[test]
fn catalog_integrity_duplicate_entitlement_id() {
    let b = base().entitlement_row("ent-0,d,c,5,2026-01-01,,,");
    located(&b.run(), "catalog_integrity", "entitlements.csv", Some(3), None);
}

#[test]
fn catalog_integrity_entitlement_of_unknown_sku() {
    let b = Bundle::new().sku("d", "device").entitle("ghost", 5);
    located(&b.run(), "catalog_integrity", "entitlements.csv", Some(2), None);
}

#[test]
fn catalog_integrity_pool_of_unknown_sku() {
    let b = base().pool("p1,ghost,global,5,0");
    located(&b.run(), "catalog_integrity", "pools.csv", Some(2), None);
}

#[test]
fn catalog_integrity_negative_or_non_integer_entitlement_quantity() {
    for q in ["-1", "1.5", "1e3", "ten"] {
        let b = Bundle::new().sku("d", "device").entitlement_row(&format!("e1,d,c,{q},2026-01-01,,,"));
        let out = b.run();
        assert_eq!(out.status, RunStatus::Failed, "quantity {q}");
        located(&out, "catalog_integrity", "entitlements.csv", Some(2), Some("quantity"));
    }
}

#[test]
fn entitlement_quantity_with_plus_sign_is_an_integer() {
    let b = Bundle::new().sku("d", "device").entitlement_row("e1,d,c,+5,2026-01-01,,,");
    let (_, snap) = run_ok(&b);
    assert_eq!(snap.sku_json("d").unwrap()["entitled"], 5);
}

#[test]
fn catalog_integrity_negative_or_non_integer_pool_quantity() {
    for q in ["-1", "2.5"] {
        let b = base().pool(&format!("p1,d,global,{q},0"));
        let out = b.run();
        assert_eq!(out.status, RunStatus::Failed, "pool quantity {q}");
        located(&out, "catalog_integrity", "pools.csv", Some(2), Some("quantity"));
    }
}

#[test]
fn catalog_integrity_bad_pool_reserved() {
    for r in ["x", "1.5"] {
        let b = base().pool(&format!("p1,d,global,5,{r}"));
        let out = b.run();
        assert_eq!(out.status, RunStatus::Failed, "reserved {r}");
        located(&out, "catalog_integrity", "pools.csv", Some(2), Some("reserved"));
    }
}

#[test]
fn catalog_integrity_malformed_entitlement_date() {
    for (row, field) in [
        ("e1,d,c,5,2026-13-01,,,", "starts_on"),
        ("e1,d,c,5,2026-02-30,,,", "starts_on"),
        ("e1,d,c,5,2026/01/01,,,", "starts_on"),
        ("e1,d,c,5,2026-01-01,22.11.2026,,", "ends_on"),
    ] {
        let b = Bundle::new().sku("d", "device").entitlement_row(row);
        let out = b.run();
        assert_eq!(out.status, RunStatus::Failed, "{row}");
        located(&out, "catalog_integrity", "entitlements.csv", Some(2), Some(field));
    }
}

#[test]
fn catalog_integrity_feature_base_must_be_subscription_or_user_sku() {
    // base is a device SKU
    let b = base().feature("f", "d");
    located(&b.run(), "catalog_integrity", "catalog.json", None, None);
    // base does not exist
    let b = base().feature("f", "ghost");
    located(&b.run(), "catalog_integrity", "catalog.json", None, None);
    // base missing
    let mut b = base();
    b.skus.push(json!({"id": "f", "vendor": "v", "model": "feature", "base_sku": null}));
    located(&b.run(), "catalog_integrity", "catalog.json", None, None);
    // the allowed bases
    let b = base().sku("s", "subscription").sku("u", "user").feature("f1", "s").feature("f2", "u");
    assert_eq!(b.run().status, RunStatus::Ok);
}

#[test]
fn catalog_integrity_directory_unknown_principal_type() {
    let b = base().dir("user,alice,alice@x.com,active,,,").dir("group,admins,admins@x.com,active,,,");
    located(&b.run(), "catalog_integrity", "directory.csv", Some(3), None);
}

#[test]
fn catalog_integrity_directory_device_value_without_prefix() {
    let b = base().dir("device,ABC123,serial:X1,active,,,");
    located(&b.run(), "catalog_integrity", "directory.csv", Some(2), None);
    let b = base().dir("device,serial:X1,laptop7,active,,,");
    located(&b.run(), "catalog_integrity", "directory.csv", Some(2), None);
}

#[test]
fn ends_on_before_starts_on_is_not_a_failure() {
    let b = Bundle::new().sku("d", "device").entitlement_row("e1,d,c,5,2026-12-01,2026-01-01,,");
    let (_, snap) = run_ok(&b);
    assert_eq!(snap.sku_json("d").unwrap()["entitled"], 0);
}

// ---------------------------------------------------------------------------------------------
// duplicates (A1, A9, A10)

#[test]
fn conflicting_duplicate_raw_id_fails_closed() {
    let b = base().sku("e", "device").signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "A")])).signal(&sig(
        "intune",
        "1",
        RECENT,
        "e",
        "installation",
        &[("device_serial", "A")],
    ));
    located(&b.run(), "conflicting_duplicate", "signals/s.csv", Some(3), None);
}

#[test]
fn conflicting_duplicate_across_files() {
    let b = base()
        .signal_in("a.csv", &sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "A")]))
        .signal_in("b.csv", &sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "B")]));
    let errs = failed_with(&b.run(), "conflicting_duplicate");
    assert!(errs.iter().all(|e| e.location().is_some_and(|l| l.file.starts_with("signals/"))), "{errs:?}");
}

#[test]
fn conflicting_duplicate_compares_text_as_written() {
    let b = base().signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "A"), ("user", "Alice")])).signal(&sig(
        "intune",
        "1",
        RECENT,
        "d",
        "installation",
        &[("device_serial", "A"), ("user", "alice")],
    ));
    failed_with(&b.run(), "conflicting_duplicate");
}

#[test]
fn identical_duplicates_collapse_and_count_in_rows_and_coverage() {
    let b = base()
        .param("expected_sources", json!(["intune"]))
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "A")]))
        // same parsed values: instant with offset, confidence 1.0 vs empty, quantity 1 vs empty
        .signal(&sig(
            "intune",
            "1",
            "2026-11-21T01:00:00+01:00",
            "d",
            "installation",
            &[("device_serial", "A"), ("confidence", "1.0"), ("quantity", "1")],
        ))
        .signal_in("other.csv", &sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "A")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 1);
    assert_eq!(rows(&job(&out, "signals/s.csv")), (2, 2, 0));
    assert_eq!(rows(&job(&out, "signals/other.csv")), (1, 1, 0));
    assert_eq!(snap.value()["coverage"]["intune"]["signals"], 3);
}

// ---------------------------------------------------------------------------------------------
// rejected rows (A9, A10)

#[test]
fn rejected_rows_malformed_instants_with_line_and_column() {
    let mut b = base();
    b = good_rows(b, "s.csv", "g", 92);
    // lines 94..: header is line 1, 92 good rows on lines 2..=93
    b = b
        .signal(&sig("intune", "b1", "2026-11-21T00:00:00", "d", "installation", &[("device_serial", "X1")]))
        .signal(&sig("intune", "b2", "2026-11-21 00:00:00Z", "d", "installation", &[("device_serial", "X2")]))
        .signal(&sig("intune", "b3", "2026-11-21T23:59:60Z", "d", "installation", &[("device_serial", "X3")]))
        .signal(&sig("intune", "b4", RECENT, "d", "installation", &[("device_serial", "X4"), ("last_used_at", "yesterday")]))
        // accepted spellings: lower-case t/z and -00:00
        .signal(&sig("intune", "ok1", "2026-11-21t00:00:00z", "d", "installation", &[("device_serial", "Y1")]))
        .signal(&sig("intune", "ok2", "2026-11-21T00:00:00-00:00", "d", "installation", &[("device_serial", "Y2")]))
        .signal(&sig("intune", "ok3", "2026-11-21T00:00:00.123456789Z", "d", "installation", &[("device_serial", "Y3")]))
        .signal(&sig(
            "intune",
            "ok4",
            RECENT,
            "d",
            "installation",
            &[("device_serial", "Y4"), ("last_used_at", "2026-11-20T00:00:00+05:30")],
        ));
    let (out, snap) = run_ok(&b);
    let j = job(&out, "signals/s.csv");
    assert_eq!(rows(&j), (100, 96, 4));
    assert_eq!(
        row_errors(&j),
        vec![
            (94, "observed_at".to_string()),
            (95, "observed_at".to_string()),
            (96, "observed_at".to_string()),
            (97, "last_used_at".to_string())
        ]
    );
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 96);
}

#[test]
fn rejected_rows_each_reason_with_line_and_column() {
    let q = |sess: bool, extra: &'static [(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        let mut v = vec![("device_serial", "S")];
        if sess {
            v.push(("session_start", "2026-11-20T10:00:00Z"));
        }
        v.extend_from_slice(extra);
        v
    };
    let b = base()
        .sku("c", "concurrent")
        .rule(&["max_reject_percent"], json!(100))
        .signal(&sig("", "1", RECENT, "d", "installation", &q(false, &[]))) // line 2
        .signal(&sig("intune", "", RECENT, "d", "installation", &q(false, &[]))) // 3
        .signal(&sig("intune", "3", RECENT, "d", "Installation", &q(false, &[]))) // 4
        .signal(&sig("intune", "4", RECENT, "d", "assignment", &q(false, &[("status", "Active")]))) // 5
        .signal(&sig("intune", "5", RECENT, "d", "installation", &q(false, &[("confidence", "1.5")]))) // 6
        .signal(&sig("intune", "6", RECENT, "d", "installation", &q(false, &[("confidence", "-0.1")]))) // 7
        .signal(&sig("intune", "7", RECENT, "d", "installation", &q(false, &[("confidence", "1e-1")]))) // 8
        .signal(&sig("intune", "8", RECENT, "c", "session", &q(true, &[("quantity", "0")]))) // 9
        .signal(&sig("intune", "9", RECENT, "c", "session", &q(true, &[("quantity", "1.5")]))) // 10
        .signal(&sig("intune", "10", RECENT, "c", "session", &q(false, &[("session_end", "2026-11-20T11:00:00Z")]))) // 11
        .signal(&sig("intune", "11", RECENT, "", "installation", &q(false, &[]))) // 12
        .signal(&sig("intune", "12", "", "d", "installation", &q(false, &[]))) // 13
        .signal(&sig("intune", "13", RECENT, "d", "", &q(false, &[]))) // 14
        // quantity is checked on every kind (A10)
        .signal(&sig("intune", "14", RECENT, "d", "installation", &q(false, &[("quantity", "x")]))) // 15
        // accepted: enumerations are trimmed before comparison
        .signal(&sig("intune", "15", RECENT, "d", " installation ", &[("device_serial", "T1")])) // 16
        .signal(&sig("intune", "16", RECENT, "d", "assignment", &[("device_serial", "T2"), ("status", " active ")])); // 17
    let (out, snap) = run_ok(&b);
    let j = job(&out, "signals/s.csv");
    assert_eq!(rows(&j), (16, 2, 14));
    let errs = row_errors(&j);
    let lines: Vec<u64> = errs.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, (2..=15).collect::<Vec<u64>>());
    let col = |line: u64| errs.iter().find(|(l, _)| *l == line).unwrap().1.clone();
    assert_eq!(col(2), "source");
    assert_eq!(col(3), "raw_id");
    assert_eq!(col(4), "kind");
    assert_eq!(col(5), "status");
    for l in [6, 7, 8] {
        assert_eq!(col(l), "confidence", "line {l}");
    }
    for l in [9, 10, 15] {
        assert_eq!(col(l), "quantity", "line {l}");
    }
    assert_eq!(col(11), "session_start");
    assert!(!col(12).is_empty());
    assert_eq!(col(13), "observed_at");
    assert_eq!(col(14), "kind");
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 2);
}

#[test]
fn reject_threshold_exceeded_fails_closed() {
    let b = good_rows(base(), "s.csv", "g", 18)
        .signal(&sig("intune", "b1", "2026-11-21T00:00:00", "d", "installation", &[("device_serial", "X1")]))
        .signal(&sig("intune", "b2", "2026-11-21T00:00:00", "d", "installation", &[("device_serial", "X2")]));
    // 2 of 20 = 10% > 5%
    let out = b.run();
    located(&out, "reject_threshold_exceeded", "signals/s.csv", None, None);
    assert_eq!(rows(&job(&out, "signals/s.csv")), (20, 18, 2));
}

#[test]
fn reject_threshold_exactly_at_limit_is_not_exceeded() {
    let b = good_rows(base(), "s.csv", "g", 19).signal(&sig(
        "intune",
        "b1",
        "2026-11-21T00:00:00",
        "d",
        "installation",
        &[("device_serial", "X1")],
    ));
    // 1 of 20 = 5%, not strictly greater
    let (out, snap) = run_ok(&b);
    assert_eq!(rows(&job(&out, "signals/s.csv")), (20, 19, 1));
    assert_eq!(snap.value()["imports"].as_array().unwrap().iter().find(|j| j["path"] == "signals/s.csv").unwrap()["rows_rejected"], 1);
}

#[test]
fn reject_threshold_is_per_file() {
    // a.csv: 1 of 10 rejected (10%); b.csv: 90 good rows (1% overall)
    let b = good_rows(base(), "a.csv", "a", 9)
        .signal_in("a.csv", &sig("intune", "bad", "2026-11-21T00:00:00", "d", "installation", &[("device_serial", "X1")]));
    let b = good_rows(b, "b.csv", "b", 90);
    located(&b.run(), "reject_threshold_exceeded", "signals/a.csv", None, None);
}

#[test]
fn reject_threshold_follows_ruleset() {
    let b = good_rows(base(), "s.csv", "g", 9).rule(&["max_reject_percent"], json!(10)).signal(&sig(
        "intune",
        "b1",
        "2026-11-21T00:00:00",
        "d",
        "installation",
        &[("device_serial", "X1")],
    ));
    let (out, _) = run_ok(&b);
    assert_eq!(rows(&job(&out, "signals/s.csv")), (10, 9, 1));
}

#[test]
fn signal_file_without_required_column_rejects_all_rows() {
    let f = signal_file(
        "source,raw_id,observed_at,sku,device_serial",
        &["intune,1,2026-11-21T00:00:00Z,d,A", "intune,2,2026-11-21T00:00:00Z,d,B", "intune,3,2026-11-21T00:00:00Z,d,C"],
    );
    let b = base().rule(&["max_reject_percent"], json!(100)).file("signals/x.csv", &f);
    let (out, snap) = run_ok(&b);
    let j = job(&out, "signals/x.csv");
    assert_eq!(rows(&j), (3, 0, 3));
    let mut lines: Vec<u64> = row_errors(&j).iter().map(|(l, _)| *l).collect();
    lines.dedup();
    assert_eq!(lines, vec![2, 3, 4], "every row rejected with its line");
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 0);
    // with the default 5% the run fails closed
    let b = base().file("signals/x.csv", &f);
    located(&b.run(), "reject_threshold_exceeded", "signals/x.csv", None, None);
}

#[test]
fn unknown_columns_are_ignored_with_a_warning() {
    let f = signal_file("colour,source,raw_id,observed_at,sku,kind,device_serial", &["red,intune,1,2026-11-21T00:00:00Z,d,installation,A"]);
    let b = base().file("signals/x.csv", &f);
    let (out, snap) = run_ok(&b);
    let j = job(&out, "signals/x.csv");
    assert_eq!(rows(&j), (1, 1, 0));
    let warnings = j["warnings"].as_array().expect("warnings");
    assert!(warnings.iter().any(|w| w.as_str().unwrap_or("").contains("colour")), "{warnings:?}");
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 1);
}

#[test]
fn signal_columns_in_any_order() {
    let f = signal_file("device_serial,kind,sku,observed_at,raw_id,source", &["A,installation,d,2026-11-21T00:00:00Z,1,intune"]);
    let b = base().file("signals/x.csv", &f);
    let (_, snap) = run_ok(&b);
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 1);
}

#[test]
fn jsonl_null_missing_and_empty_are_all_empty() {
    let lines = [
        // accepted: product null, user "", confidence/quantity null
        r#"{"source":"intune","raw_id":"1","observed_at":"2026-11-21T00:00:00Z","sku":"d","product":null,"kind":"installation","user":"","device_serial":"A","confidence":null,"quantity":null}"#,
        // rejected: sku null and product missing
        r#"{"source":"intune","raw_id":"2","observed_at":"2026-11-21T00:00:00Z","sku":null,"kind":"installation","device_serial":"B"}"#,
        // rejected: observed_at null
        r#"{"source":"intune","raw_id":"3","observed_at":null,"sku":"d","kind":"installation","device_serial":"C"}"#,
        // rejected: kind ""
        r#"{"source":"intune","raw_id":"4","observed_at":"2026-11-21T00:00:00Z","sku":"d","kind":"","device_serial":"D"}"#,
        // rejected: raw_id missing
        r#"{"source":"intune","observed_at":"2026-11-21T00:00:00Z","sku":"d","kind":"installation","device_serial":"E"}"#,
    ];
    let body = lines.join("\n") + "\n";
    let b = base().rule(&["max_reject_percent"], json!(100)).file("signals/j.jsonl", body.as_bytes());
    let (out, snap) = run_ok(&b);
    let j = job(&out, "signals/j.jsonl");
    assert_eq!(rows(&j), (5, 1, 4));
    let lines: Vec<u64> = row_errors(&j).iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![2, 3, 4, 5]);
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 1);
    assert!(out.exceptions.is_empty(), "{:?}", out.exceptions);
}

#[test]
fn utf8_bom_is_tolerated() {
    let mut e = b"\xef\xbb\xbf".to_vec();
    e.extend_from_slice(format!("{ENT_HEADER}\ne1,d,c,7,2026-01-01,,,\n").as_bytes());
    let mut s = b"\xef\xbb\xbf".to_vec();
    s.extend_from_slice(b"source,raw_id,observed_at,sku,kind,device_serial\nintune,1,2026-11-21T00:00:00Z,d,installation,A\n");
    let b = Bundle::new().sku("d", "device").file("entitlements.csv", &e).file("signals/x.csv", &s);
    let (out, snap) = run_ok(&b);
    assert_eq!(rows(&job(&out, "signals/x.csv")), (1, 1, 0));
    let d = snap.sku_json("d").unwrap();
    assert_eq!(d["entitled"], 7);
    assert_eq!(d["consumed"], 1);
}

#[test]
fn crlf_line_endings_are_tolerated() {
    let e = format!("{ENT_HEADER}\r\ne1,d,c,7,2026-01-01,,,\r\n");
    // confidence last: a kept '\r' would make it malformed
    let s = "source,raw_id,observed_at,sku,kind,device_serial,confidence\r\n\
             intune,1,2026-11-21T00:00:00Z,d,installation,A,1\r\n\
             intune,2,2026-11-21T00:00:00Z,d,installation,B,0.9\r\n";
    let dir = "principal_type,canonical_id,alias,status,region,bu,last_active_at\r\ndevice,serial:A,id:a1,active,emea,,\r\n";
    let b = Bundle::new()
        .sku("d", "device")
        .pool("pe,d,region:emea,3,0")
        .file("entitlements.csv", e.as_bytes())
        .file("signals/x.csv", s.as_bytes())
        .file("directory.csv", dir.as_bytes());
    let (out, snap) = run_ok(&b);
    assert_eq!(rows(&job(&out, "signals/x.csv")), (2, 2, 0));
    let d = snap.sku_json("d").unwrap();
    assert_eq!(d["entitled"], 7);
    assert_eq!(d["consumed"], 2);
    let pe = d["pools"].as_array().unwrap().iter().find(|p| p["pool"] == "pe").expect("pool pe");
    assert_eq!(pe["consumed"], 1, "region read without a trailing CR");
    assert!(exceptions(&out, "needs_review").is_empty());
}

#[test]
fn blank_lines_are_skipped() {
    let s = "source,raw_id,observed_at,sku,kind,device_serial\n\
             \n\
             intune,1,2026-11-21T00:00:00Z,d,installation,A\n\
             \n\
             \n\
             intune,2,2026-11-21T00:00:00Z,d,installation,B\n\
             intune,3,2026-11-21T00:00:00,d,installation,C\n\
             \n";
    let b = base().rule(&["max_reject_percent"], json!(100)).file("signals/x.csv", s.as_bytes());
    let (out, snap) = run_ok(&b);
    let j = job(&out, "signals/x.csv");
    assert_eq!(rows(&j), (3, 2, 1));
    assert_eq!(row_errors(&j), vec![(7, "observed_at".to_string())], "physical line of the bad row");
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 2);
}

#[test]
fn header_only_signal_file_has_no_rows() {
    let b = base().file("signals/x.csv", b"source,raw_id,observed_at,sku,kind,device_serial\n");
    let (out, snap) = run_ok(&b);
    assert_eq!(rows(&job(&out, "signals/x.csv")), (0, 0, 0));
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 0);
}

#[test]
fn header_only_entitlements_is_valid() {
    let b = Bundle::new().sku("d", "device");
    let (_, snap) = run_ok(&b);
    assert_eq!(snap.sku_json("d").unwrap()["entitled"], 0);
}

#[test]
fn literal_grammar_for_confidence_and_quantity() {
    // decimals [+-]?(\d+(\.\d+)?|\.\d+); integers [+-]?\d+
    let b = base()
        .sku("c", "concurrent")
        .rule(&["max_reject_percent"], json!(100))
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "A"), ("confidence", ".9")])) // 2 ok
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_serial", "B"), ("confidence", "+1")])) // 3 ok
        .signal(&sig("intune", "3", RECENT, "d", "installation", &[("device_serial", "C"), ("confidence", "1.")])) // 4 rejected
        .signal(&sig("intune", "4", RECENT, "d", "installation", &[("device_serial", "D"), ("confidence", "0,5")])) // 5 rejected
        .signal(&sig(
            "intune",
            "5",
            RECENT,
            "c",
            "session",
            &[("user", "u"), ("session_start", "2026-11-20T10:00:00Z"), ("session_end", "2026-11-20T11:00:00Z"), ("quantity", "+2")],
        )) // 6 ok
        .signal(&sig(
            "intune",
            "6",
            RECENT,
            "c",
            "session",
            &[("user", "v"), ("session_start", "2026-11-20T10:00:00Z"), ("session_end", "2026-11-20T11:00:00Z"), ("quantity", "2e0")],
        )); // 7 rejected
    let (out, snap) = run_ok(&b);
    let j = job(&out, "signals/s.csv");
    assert_eq!(rows(&j), (6, 3, 3));
    assert_eq!(row_errors(&j), vec![(4, "confidence".to_string()), (5, "confidence".to_string()), (7, "quantity".to_string())]);
    assert_eq!(snap.sku_json("d").unwrap()["consumed"], 2);
    assert_eq!(snap.sku_json("c").unwrap()["consumed"], 2);
}

#[test]
fn invalid_ruleset_wrong_literal_types() {
    for (path, v) in [
        (vec!["version"], json!("1")),
        (vec!["min_confidence"], json!("5e-1")),
        (vec!["under_utilized_percent"], json!("70")),
        (vec!["identity", "hostname_fallback"], json!("true")),
    ] {
        let out = base().rule(&path, v.clone()).run();
        assert_eq!(out.status, RunStatus::Failed, "{path:?} = {v}");
        located(&out, "invalid_ruleset", "ruleset.json", None, None);
    }
}

#[test]
fn csv_quoted_fields_with_commas_and_quotes() {
    let b = Bundle::new()
        .sku("u", "user")
        .signal(&sig("entra", "1", RECENT, "u", "usage", &[("user", "Smith, John")]))
        .signal(&sig("entra", "2", RECENT, "u", "usage", &[("user", "smith, john")]))
        .signal(&sig("entra", "3", RECENT, "u", "usage", &[("user", "o\"brien")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(rows(&job(&out, "signals/s.csv")), (3, 3, 0));
    assert_eq!(snap.sku_json("u").unwrap()["consumed"], 2);
    let mut keys: Vec<String> =
        out.units["u"].iter().map(|u| serde_json::from_slice::<Value>(u).unwrap()["key"].as_str().unwrap().to_string()).collect();
    keys.sort();
    assert_eq!(keys, vec!["o\"brien", "smith, john"]);
}

#[test]
fn invalid_ruleset_bad_mapping_rule() {
    for m in [
        json!({"match": "suffix", "field": "product", "value": "Acro", "sku": "d"}),
        json!({"match": "prefix", "field": "product", "value": "Acro", "sku": "d", "extra": 1}),
        json!({"match": "prefix", "field": "product", "sku": "d"}),
    ] {
        let out = base().rule(&["sku_mappings"], json!([m.clone()])).run();
        assert_eq!(out.status, RunStatus::Failed, "{m}");
        located(&out, "invalid_ruleset", "ruleset.json", None, None);
    }
    // a well-formed mapping to a catalog SKU is fine
    let out = base().rule(&["sku_mappings"], json!([{"match": "exact", "field": "product", "value": "X", "sku": "d"}])).run();
    assert_eq!(out.status, RunStatus::Ok, "{:?}", out.errors);
}
