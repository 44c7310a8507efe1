//! Issue 10, defect 2: every sum, product and difference of quantities,
//! reservations, tokens and durations is checked. Overflow — past 2^53 − 1,
//! the largest integer canonical JSON holds exactly — is a located
//! `catalog_integrity` / `invalid_input` error, never a wrapped value.
//! Defect 5 (hardening): the engine does not index past its import list.

use crate::common::SkuJson;
use crate::common::{reasons, Bundle};
use eucora_license_core::internal::counters::{collapse_duplicates, Counters, MAX_COUNT};
use eucora_license_core::internal::signals::SignalStore;
use eucora_license_core::RunStatus;
use serde_json::json;

const MAX: i64 = (1 << 53) - 1;

fn base() -> Bundle {
    Bundle::new().sku("app", "device")
}

fn failed_with(b: &Bundle, code: &str) -> eucora_license_core::Error {
    let out = b.run();
    assert_eq!(out.status, RunStatus::Failed, "expected a failed run, got {:?}", out.report.to_json());
    assert!(out.snapshot.is_none());
    assert_eq!(reasons(&out), vec![code.to_string()], "{:?}", out.errors);
    out.errors.into_iter().find(|e| e.code().name() == code).unwrap()
}

#[test]
fn two_rows_of_i64_max_fail_closed_with_catalog_integrity() {
    let b = base()
        .entitlement_row("e1,app,c1,9223372036854775807,2026-01-01,,,")
        .entitlement_row("e2,app,c2,9223372036854775807,2026-01-01,,,");
    let out = b.run();
    assert_eq!(out.status, RunStatus::Failed);
    assert!(out.snapshot.is_none());
    assert_eq!(reasons(&out), vec!["catalog_integrity"]);
    // Each row is named: file, line, field; no wrapped number anywhere.
    let lines: Vec<Option<u64>> = out.errors.iter().map(|e| e.location().and_then(|l| l.line)).collect();
    assert_eq!(lines, vec![Some(2), Some(3)]);
    for e in &out.errors {
        let loc = e.location().unwrap();
        assert_eq!((loc.file.as_str(), loc.field.as_deref()), ("entitlements.csv", Some("quantity")));
        assert!(e.message().contains("9007199254740991"), "{e}");
    }
    let report = out.report.to_json().to_string();
    assert!(!report.contains("\"entitled\"") && !report.contains("non_canonical"), "{report}");
}

#[test]
fn one_row_beyond_the_exact_range_is_catalog_integrity_not_non_canonical() {
    for q in ["9223372036854775807", "9007199254740992", "99999999999999999999"] {
        let b = base().entitlement_row(&format!("e1,app,c1,{q},2026-01-01,,,"));
        let e = failed_with(&b, "catalog_integrity");
        assert_eq!(e.location().unwrap().line, Some(2));
        assert_eq!(e.location().unwrap().field.as_deref(), Some("quantity"));
    }
}

#[test]
fn quantities_at_the_limit_that_do_not_overflow_still_work() {
    let b = base()
        .entitlement_row(&format!("e1,app,c1,{},2026-01-01,,,", 1i64 << 52))
        .entitlement_row(&format!("e2,app,c2,{},2026-01-01,,,", (1i64 << 52) - 1))
        // Not in force on as_of: not part of the sum.
        .entitlement_row(&format!("e3,app,c3,{MAX},2020-01-01,2020-12-31,,"))
        .pool(&format!("p1,app,global,{MAX},{MAX}"))
        .signal(&[
            ("source", "intune"),
            ("raw_id", "1"),
            ("observed_at", "2026-11-21T00:00:00Z"),
            ("sku", "app"),
            ("kind", "installation"),
            ("device_serial", "S1"),
        ]);
    let out = b.run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let snap = out.snapshot.unwrap();
    let r = snap.sku_json("app").unwrap();
    assert_eq!(r["entitled"], json!(MAX));
    assert_eq!(r["consumed"], json!(1));
    assert_eq!(r["reserved"], json!(MAX));
    assert_eq!(r["reserved_effective"], json!(MAX - 1));
    assert_eq!(r["remaining"], json!(0));
    assert_eq!(r["variance"], json!(MAX - 1));
    assert_eq!(r["variance_percent"], json!("100.00"));
    assert_eq!(r["compliance_status"], json!("under_utilized"));
    assert_eq!(snap.value()["totals"]["entitled"], json!(MAX));
}

#[test]
fn entitlement_sum_past_the_limit_names_the_row_that_crossed_it() {
    let b = base()
        .entitlement_row(&format!("e1,app,c1,{},2026-01-01,,,", 1i64 << 52))
        .entitlement_row(&format!("e2,app,c2,{},2026-01-01,,,", 1i64 << 52));
    let e = failed_with(&b, "catalog_integrity");
    let loc = e.location().unwrap();
    assert_eq!((loc.file.as_str(), loc.line, loc.field.as_deref()), ("entitlements.csv", Some(3), Some("quantity")));
    assert!(e.message().contains("`app`"), "{e}");
}

#[test]
fn totals_over_skus_past_the_limit_fail_closed() {
    let b = Bundle::new()
        .sku("a", "device")
        .sku("b", "device")
        .entitlement_row(&format!("e1,a,c1,{MAX},2026-01-01,,,"))
        .entitlement_row("e2,b,c2,1,2026-01-01,,,");
    let e = failed_with(&b, "catalog_integrity");
    assert!(e.message().contains("totals"), "{e}");
}

#[test]
fn pool_reservations_and_quantities_past_the_limit_fail_closed() {
    let b = base().entitle("app", 5).pool(&format!("p1,app,global,1,{}", 1i64 << 52)).pool(&format!("p2,app,region:emea,1,{}", 1i64 << 52));
    let e = failed_with(&b, "catalog_integrity");
    let loc = e.location().unwrap();
    assert_eq!((loc.file.as_str(), loc.line, loc.field.as_deref()), ("pools.csv", Some(3), Some("reserved")));

    let b = base().entitle("app", 5).pool(&format!("p1,app,global,{},0", 1i64 << 52)).pool(&format!("p2,app,region:emea,{},0", 1i64 << 52));
    let e = failed_with(&b, "catalog_integrity");
    assert_eq!(e.location().unwrap().field.as_deref(), Some("quantity"));

    let b = base().entitle("app", 5).pool("p1,app,global,9223372036854775807,0");
    let e = failed_with(&b, "catalog_integrity");
    assert_eq!((e.location().unwrap().line, e.location().unwrap().field.as_deref()), (Some(2), Some("quantity")));
}

fn session(b: Bundle, id: &str, user: &str, qty: &str) -> Bundle {
    b.signal(&[
        ("source", "flexlm"),
        ("raw_id", id),
        ("observed_at", "2026-11-21T00:00:00Z"),
        ("sku", "lic"),
        ("kind", "session"),
        ("user", user),
        ("device_name", user),
        ("session_start", "2026-11-20T00:00:00Z"),
        ("session_end", "2026-11-21T00:00:00Z"),
        ("quantity", qty),
    ])
}

#[test]
fn session_tokens_summing_past_the_limit_fail_cleanly() {
    let mut b = Bundle::new().sku("lic", "concurrent").entitle("lic", 10);
    for (i, u) in ["alice", "bob"].iter().enumerate() {
        b = session(b, &format!("s{i}"), u, &MAX.to_string());
    }
    let e = failed_with(&b, "invalid_input");
    let loc = e.location().unwrap();
    assert_eq!((loc.file.as_str(), loc.field.as_deref()), ("signals/s.csv", Some("quantity")));
    assert!(e.message().contains("`lic`"), "{e}");

    // Past i64 itself: 1,100 sessions of 2^53 − 1 tokens (≈ 9.9e18 > i64::MAX).
    let mut b = Bundle::new().sku("lic", "concurrent").entitle("lic", 10);
    for i in 0..1100 {
        b = session(b, &format!("s{i}"), &format!("u{i}"), &MAX.to_string());
    }
    failed_with(&b, "invalid_input");

    // At the limit exactly: fine.
    let b = session(
        session(Bundle::new().sku("lic", "concurrent").entitle("lic", 10), "s1", "alice", &(MAX - 1).to_string()),
        "s2",
        "bob",
        "1",
    );
    assert_eq!(b.consumed("lic"), MAX);
}

#[test]
fn a_session_quantity_beyond_the_exact_range_rejects_the_row() {
    let mut b = Bundle::new().sku("lic", "concurrent").entitle("lic", 10);
    for i in 0..40 {
        b = session(b, &format!("ok{i}"), &format!("u{i}"), "1");
    }
    let b = session(b, "big", "zed", "9223372036854775807");
    let out = b.run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let report_json = out.report.to_json();
    let job = report_json["imports"].as_array().unwrap().iter().find(|j| j["path"] == "signals/s.csv").unwrap();
    assert_eq!(job["rows_rejected"], json!(1));
    assert_eq!(job["errors"][0]["code"], json!("bad_quantity"));
    assert_eq!(out.snapshot.unwrap().sku_json("lic").unwrap()["consumed"], json!(40));
}

fn usage(b: Bundle, id: &str, at: &str, serial: &str) -> Bundle {
    b.signal(&[
        ("source", "intune"),
        ("raw_id", id),
        ("observed_at", at),
        ("sku", "app"),
        ("kind", "installation"),
        ("device_serial", serial),
    ])
}

#[test]
fn a_huge_lookback_is_exact_not_wrapped() {
    // 2^53 − 1 days reaches before the first representable instant: every
    // past signal qualifies (the start is "none", not a wrapped instant).
    let b = usage(usage(base().entitle("app", 5), "1", "0001-01-01T00:00:00Z", "A"), "2", "2026-11-21T00:00:00Z", "B")
        .rule(&["lookback_days", "installation"], json!(MAX));
    assert_eq!(b.consumed("app"), 2);
    // 700,000 days back from 2026-11-22 is in the year 110: a signal of the
    // year 1 is out, one of the year 200 is in.
    let b = usage(usage(base().entitle("app", 5), "1", "0001-01-01T00:00:00Z", "A"), "2", "0200-01-01T00:00:00Z", "B")
        .rule(&["lookback_days", "installation"], json!(700_000));
    assert_eq!(b.consumed("app"), 1);
}

#[test]
fn a_huge_window_is_exact_not_wrapped() {
    let b = Bundle::new().sku("lic", "concurrent").entitle("lic", 10).rule(&["concurrent", "window_days"], json!(MAX));
    let b = b.signal(&[
        ("source", "flexlm"),
        ("raw_id", "old"),
        ("observed_at", "0001-01-02T00:00:00Z"),
        ("sku", "lic"),
        ("kind", "session"),
        ("user", "alice"),
        ("session_start", "0001-01-01T00:00:00Z"),
        ("session_end", "0001-01-02T00:00:00Z"),
        ("quantity", "3"),
    ]);
    assert_eq!(b.consumed("lic"), 3);
}

#[test]
fn counter_arithmetic_never_wraps() {
    assert_eq!(Counters::default().checked_add(&Counters { entitled: MAX_COUNT, ..Default::default() }).unwrap().entitled, MAX_COUNT);
    let one = Counters { entitled: 1, ..Default::default() };
    assert!(Counters { entitled: MAX_COUNT, ..Default::default() }.checked_add(&one).is_none());
    let c = Counters::derive(i64::MAX, i64::MAX, i64::MIN);
    assert_eq!((c.remaining, c.available), (0, 0));
    let c = Counters::derive(i64::MIN, 0, i64::MAX);
    assert_eq!(c.variance(), i64::MIN);
    assert_eq!(c.variance_percent().as_deref(), Some("200.00"));
}

#[test]
fn conflicting_duplicates_naming_no_import_do_not_panic() {
    // A crafted pack: two different lines with the same (source, raw_id) and
    // an empty imports list. The rows name job 0, which does not exist.
    let mut store = SignalStore::default();
    let line = |user: &str| {
        format!(
            r#"{{"confidence":"1","device_id":null,"device_name":null,"device_serial":null,"job":"job-x","kind":"usage","line":1,"observed_at":"2026-11-21T00:00:00Z","product":null,"quantity":null,"raw_id":"r1","session_end":null,"session_start":null,"sku":"app","source":"intune","status":"active","user":"{user}"}}"#
        )
    };
    store.push_normalised_line(line("alice").as_bytes(), |_| 0).unwrap();
    store.push_normalised_line(line("bob").as_bytes(), |_| 0).unwrap();
    assert!(store.jobs.is_empty());
    let errors = collapse_duplicates(&store).unwrap_err();
    assert_eq!(errors[0].code().name(), "conflicting_duplicate");
    assert!(errors[0].to_string().contains("<unknown import #0>"), "{}", errors[0]);
}
