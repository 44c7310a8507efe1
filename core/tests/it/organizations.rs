//! Runs of two organizations never mix (issue 10, defect 11): the sidebar
//! refuses another organization's run report, `diff` and `explain` refuse
//! runs of two organizations, each with an `invalid_input` error naming
//! `organization_id`.

use crate::common::*;
use eucora_license_core::{api, diff_between, explain, Outcome};
use serde_json::json;

fn run_of(org: &str, as_of: &str, ok: bool) -> Outcome {
    let mut b = Bundle::new().sku("d", "device").entitle("d", 3).signal(&[
        ("source", "intune"),
        ("raw_id", "1"),
        ("observed_at", "2026-11-21T00:00:00Z"),
        ("sku", "d"),
        ("kind", "installation"),
        ("device_serial", "A"),
    ]);
    b = b.param("organization_id", json!(org)).param("as_of", json!(as_of));
    if !ok {
        b = b.entitle("unknown-sku", 1); // catalog integrity: fails closed
    }
    b.run()
}

fn field(e: &eucora_license_core::Error) -> Option<&str> {
    e.location().and_then(|l| l.field.as_deref())
}

#[test]
fn the_sidebar_refuses_another_organizations_report() {
    let ours = run_of("org-acme", "2026-11-22T06:00:00Z", true);
    let theirs = run_of("org-other", "2026-11-23T06:00:00Z", false);
    assert!(theirs.snapshot.is_none(), "the other organization's run failed closed");
    let snap = ours.snapshot.as_ref().unwrap().canonical_bytes();
    let report = serde_json::to_vec(&theirs.report.to_json()).unwrap();
    let e = api::sidebar(Some(snap), Some(&report), "2026-11-23T07:00:00Z", 86_400, 2).unwrap_err();
    assert_eq!(e.code().name(), "invalid_input");
    assert_eq!(field(&e), Some("organization_id"));
    // `[]` is no run report either.
    let e = api::sidebar(Some(snap), Some(b"[]"), "2026-11-23T07:00:00Z", 86_400, 2).unwrap_err();
    assert_eq!(e.code().name(), "invalid_input");
    // Our own failed run still flips the state to failed.
    let our_failure = run_of("org-acme", "2026-11-23T06:00:00Z", false);
    let report = serde_json::to_vec(&our_failure.report.to_json()).unwrap();
    let s = api::sidebar(Some(snap), Some(&report), "2026-11-23T07:00:00Z", 86_400, 2).unwrap();
    assert_eq!(s["state"], "failed");
    assert_eq!(s["counters"], ours.snapshot.as_ref().unwrap().value()["totals"]);
}

#[test]
fn diff_and_explain_refuse_runs_of_two_organizations() {
    let a = run_of("org-acme", "2026-11-22T06:00:00Z", true);
    let b = run_of("org-other", "2026-11-23T06:00:00Z", true);
    let (sa, sb) = (a.snapshot.as_ref().unwrap(), b.snapshot.as_ref().unwrap());
    let e = diff_between(sa, sb).unwrap_err();
    assert_eq!((e.code().name(), field(&e)), ("invalid_input", Some("organization_id")));
    assert!(e.to_string().contains("org-acme") && e.to_string().contains("org-other"), "{e}");
    let e = explain(sa, sb, None, "d").unwrap_err();
    assert_eq!((e.code().name(), field(&e)), ("invalid_input", Some("organization_id")));
    // One organization compares as before.
    let c = run_of("org-acme", "2026-11-23T06:00:00Z", true);
    let d = diff_between(sa, c.snapshot.as_ref().unwrap()).unwrap();
    assert_eq!(serde_json::to_value(&d).unwrap()["basis"], "counters");
}
