//! Counter, identity and exclusion rules of DESIGN A2–A4, A9 and A10, one
//! focused test per rule, each asserting the numbers the contract dictates.

use crate::common::*;
use eucora_license_core::{reconcile, Outcome, RunStatus, Snapshot};
use serde_json::{json, Value};

/// Default as_of of the test bundles.
const AS_OF: &str = "2026-11-22T06:00:00Z";

// ---------------------------------------------------------------------------------------------
// helpers

/// A recent installation of `sku` on the device with `serial`.
fn inst(b: Bundle, raw: &str, sku: &str, serial: &str) -> Bundle {
    b.signal(&sig("intune", raw, RECENT, sku, "installation", &[("device_serial", serial)]))
}

/// `n` distinct devices installing `sku` (serials `<sku>-<i>`).
fn devices(mut b: Bundle, sku: &str, n: usize) -> Bundle {
    for i in 0..n {
        let raw = format!("{sku}-{i}");
        b = inst(b, &raw, sku, &raw);
    }
    b
}

/// A session of `sku` (host given as a serial; empty = none).
#[allow(clippy::too_many_arguments)]
fn sess(b: Bundle, src: &str, raw: &str, sku: &str, user: &str, host: &str, start: &str, end: &str, qty: &str) -> Bundle {
    b.signal(&sig(
        src,
        raw,
        AS_OF,
        sku,
        "session",
        &[("user", user), ("device_serial", host), ("session_start", start), ("session_end", end), ("quantity", qty)],
    ))
}

/// Same-day session times on 2026-11-20.
fn t(hm: &str) -> String {
    format!("2026-11-20T{hm}:00Z")
}

fn rec(snap: &Snapshot, sku: &str) -> Value {
    snap.sku_json(sku).unwrap_or_else(|| panic!("sku {sku} missing")).clone()
}

fn consumed(snap: &Snapshot, sku: &str) -> i64 {
    rec(snap, sku)["consumed"].as_i64().unwrap()
}

/// Keys of the units of `sku`, sorted.
fn unit_keys(out: &Outcome, sku: &str) -> Vec<String> {
    let mut v: Vec<String> = out
        .units
        .get(sku)
        .map(|us| {
            us.iter()
                .map(|u| {
                    let j: Value = serde_json::from_slice(u).expect("unit is JSON");
                    j["key"].as_str().expect("unit key").to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn exc_sorted(out: &Outcome, code: &str) -> Vec<(String, String)> {
    let mut v = exceptions(out, code);
    v.sort();
    v
}

fn pair(s: &str, r: &str) -> (String, String) {
    (s.to_string(), r.to_string())
}

fn pool<'a>(rec: &'a Value, name: Option<&str>) -> &'a Value {
    rec["pools"]
        .as_array()
        .expect("pools array")
        .iter()
        .find(|p| p["pool"].as_str() == name)
        .unwrap_or_else(|| panic!("pool {name:?} missing in {}", rec["pools"]))
}

fn counters(v: &Value) -> [i64; 6] {
    ["entitled", "reserved", "reserved_effective", "consumed", "remaining", "available"]
        .map(|f| v[f].as_i64().unwrap_or_else(|| panic!("{f} not an integer in {v}")))
}

// ---------------------------------------------------------------------------------------------
// A2 lookback and future signals

#[test]
fn a2_lookback_installation_edge_excluded_one_ns_later_included() {
    let b = Bundle::new()
        .sku("d", "device")
        .entitle("d", 10)
        .signal(&sig("intune", "1", "2026-10-23T06:00:00Z", "d", "installation", &[("device_serial", "A")]))
        .signal(&sig("intune", "2", "2026-10-23T06:00:00.000000001Z", "d", "installation", &[("device_serial", "B")]))
        .signal(&sig("intune", "3", AS_OF, "d", "installation", &[("device_serial", "C")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 2);
    assert_eq!(unit_keys(&out, "d"), vec!["serial:B", "serial:C"]);
    assert!(out.exceptions.is_empty(), "lookback exclusion is silent: {:?}", out.exceptions);
}

#[test]
fn a2_lookback_assignment_edge_30_days() {
    let b = Bundle::new()
        .sku("u", "user")
        .entitle("u", 10)
        .signal(&sig("entra", "1", "2026-10-23T06:00:00Z", "u", "assignment", &[("user", "a")]))
        .signal(&sig("entra", "2", "2026-10-23T06:00:00.000000001Z", "u", "assignment", &[("user", "b")]))
        .signal(&sig("entra", "3", AS_OF, "u", "assignment", &[("user", "c")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 2);
    assert_eq!(unit_keys(&out, "u"), vec!["b", "c"]);
}

#[test]
fn a2_lookback_usage_edge_90_days_with_offset() {
    // as_of - 90 d = 2026-08-24T06:00:00Z, written here with a +01:00 offset.
    let b = Bundle::new()
        .sku("d", "device")
        .entitle("d", 10)
        .signal(&sig("sccm", "1", "2026-08-24T07:00:00+01:00", "d", "usage", &[("device_serial", "A")]))
        .signal(&sig("sccm", "2", "2026-08-24T06:00:00.000000001Z", "d", "usage", &[("device_serial", "B")]))
        // outside the installation lookback (30 d) but inside usage's 90 d
        .signal(&sig("sccm", "3", "2026-09-01T00:00:00Z", "d", "usage", &[("device_serial", "C")]))
        // the same instant as an installation is outside its 30 d lookback
        .signal(&sig("sccm", "4", "2026-09-01T00:00:00Z", "d", "installation", &[("device_serial", "D")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 2);
    assert_eq!(unit_keys(&out, "d"), vec!["serial:B", "serial:C"]);
}

#[test]
fn a2_future_signal_is_exception_and_observed_at_as_of_counts() {
    let b = Bundle::new()
        .sku("d", "device")
        .entitle("d", 10)
        .signal(&sig("intune", "1", "2026-11-22T06:00:00.000000001Z", "d", "installation", &[("device_serial", "A")]))
        // exactly as_of, written with an offset: included
        .signal(&sig("intune", "2", "2026-11-22T07:00:00+01:00", "d", "installation", &[("device_serial", "B")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 1);
    assert_eq!(unit_keys(&out, "d"), vec!["serial:B"]);
    assert_eq!(exc_sorted(&out, "future_signal"), vec![pair("intune", "1")]);
}

#[test]
fn a9_sessions_have_no_lookback() {
    // observed_at far outside every lookback: only the interval matters.
    let b = Bundle::new().sku("c", "concurrent").entitle("c", 5).signal(&sig(
        "flexlm",
        "1",
        "2026-01-01T00:00:00Z",
        "c",
        "session",
        &[("user", "u1"), ("session_start", "2026-11-20T10:00:00Z"), ("session_end", "2026-11-20T11:00:00Z")],
    ));
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "c"), 1);
}

#[test]
fn a9_order_lookback_exclusion_is_silent_and_precedes_sku_resolution() {
    let old = "2026-01-01T00:00:00Z";
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", old, "nope", "installation", &[("device_serial", "A")]))
        .signal(&sig("intune", "2", old, "", "installation", &[("product", "Mystery"), ("device_serial", "B")]))
        .signal(&sig("intune", "3", old, "d", "installation", &[("device_serial", "C"), ("confidence", "0.1")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 0);
    assert!(out.exceptions.is_empty(), "{:?}", out.exceptions);
}

// ---------------------------------------------------------------------------------------------
// A2 confidence

#[test]
fn a2_min_confidence_excludes_strictly_below() {
    let b = Bundle::new()
        .sku("d", "device")
        .entitle("d", 10)
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "A"), ("confidence", "0.49")]))
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_serial", "B"), ("confidence", "0.5")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 1);
    assert_eq!(unit_keys(&out, "d"), vec!["serial:B"]);
    assert_eq!(exc_sorted(&out, "low_confidence"), vec![pair("intune", "1")]);
}

#[test]
fn a9_needs_review_only_for_counted_signals_strictly_below_review() {
    let b = Bundle::new()
        .sku("d", "device")
        .sku("sub", "subscription")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "A"), ("confidence", "0.79")]))
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_serial", "B"), ("confidence", "0.8")]))
        // excluded: low_confidence, not needs_review
        .signal(&sig("intune", "3", RECENT, "d", "installation", &[("device_serial", "C"), ("confidence", "0.3")]))
        // qualifies, but installations do not count for subscriptions
        .signal(&sig("intune", "4", RECENT, "sub", "installation", &[("user", "x"), ("confidence", "0.6")]))
        // revoked latest assignment: not counted
        .signal(&sig("intune", "5", RECENT, "sub", "assignment", &[("user", "y"), ("status", "revoked"), ("confidence", "0.6")]))
        // a counted unit resting on two signals, one of them below review
        .signal(&sig("intune", "6", RECENT, "d", "installation", &[("device_serial", "D"), ("confidence", "0.6")]))
        .signal(&sig("jamf", "7", RECENT, "d", "installation", &[("device_serial", "D"), ("confidence", "1")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 3);
    assert_eq!(consumed(&snap, "sub"), 0);
    assert_eq!(exc_sorted(&out, "needs_review"), vec![pair("intune", "1"), pair("intune", "6")]);
    assert_eq!(exc_sorted(&out, "low_confidence"), vec![pair("intune", "3")]);
}

#[test]
fn a10_confidence_literal_truncated_after_nine_fraction_digits() {
    // 0.49999999999 -> 0.499999999 (< 0.5: excluded); rounding would give 0.5.
    // 0.79999999999 -> 0.799999999 (< 0.8: needs_review); rounding would give 0.8.
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "A"), ("confidence", "0.49999999999")]))
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_serial", "B"), ("confidence", "0.79999999999")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 1);
    assert_eq!(exc_sorted(&out, "low_confidence"), vec![pair("intune", "1")]);
    assert_eq!(exc_sorted(&out, "needs_review"), vec![pair("intune", "2")]);
}

// ---------------------------------------------------------------------------------------------
// A9 order of exclusion

#[test]
fn a9_order_future_signal_before_unknown_sku() {
    let b = Bundle::new().sku("d", "device").signal(&sig(
        "intune",
        "1",
        "2026-11-23T00:00:00Z",
        "nope",
        "installation",
        &[("device_serial", "A")],
    ));
    let (out, _) = run_ok(&b);
    assert_eq!(exc_sorted(&out, "future_signal"), vec![pair("intune", "1")]);
    assert!(exceptions(&out, "unknown_sku").is_empty());
    assert_eq!(out.exceptions.len(), 1, "{:?}", out.exceptions);
}

#[test]
fn a9_order_sku_wins_over_product() {
    let b = Bundle::new()
        .sku("d", "device")
        .sku("a", "device")
        .rule(&["sku_mappings"], json!([{"match": "prefix", "field": "product", "value": "Acro", "sku": "a"}]))
        // sku given: product ignored even though it maps
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("product", "Acro X"), ("device_serial", "A")]))
        // unknown sku: unknown_sku, even though the product maps
        .signal(&sig("intune", "2", RECENT, "nope", "installation", &[("product", "Acro Y"), ("device_serial", "B")]))
        // no sku: product mapping applies
        .signal(&sig("intune", "3", RECENT, "", "installation", &[("product", "acro z"), ("device_serial", "C")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 1);
    assert_eq!(consumed(&snap, "a"), 1);
    assert_eq!(unit_keys(&out, "a"), vec!["serial:C"]);
    assert_eq!(exc_sorted(&out, "unknown_sku"), vec![pair("intune", "2")]);
    assert!(exceptions(&out, "unmapped_product").is_empty());
}

#[test]
fn a9_order_unknown_sku_vs_unmapped_product() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "nope", "installation", &[("device_serial", "A")]))
        .signal(&sig("intune", "2", RECENT, "", "installation", &[("product", "Mystery"), ("device_serial", "B")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 0);
    assert_eq!(exc_sorted(&out, "unknown_sku"), vec![pair("intune", "1")]);
    assert_eq!(exc_sorted(&out, "unmapped_product"), vec![pair("intune", "2")]);
}

#[test]
fn a9_order_sku_resolution_before_low_confidence() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "nope", "installation", &[("device_serial", "A"), ("confidence", "0.1")]))
        .signal(&sig("intune", "2", RECENT, "", "installation", &[("product", "Mystery"), ("device_serial", "B"), ("confidence", "0.1")]));
    let (out, _) = run_ok(&b);
    assert_eq!(exc_sorted(&out, "unknown_sku"), vec![pair("intune", "1")]);
    assert_eq!(exc_sorted(&out, "unmapped_product"), vec![pair("intune", "2")]);
    assert!(exceptions(&out, "low_confidence").is_empty());
}

#[test]
fn a9_order_low_confidence_before_invalid_interval() {
    let b = Bundle::new().sku("c", "concurrent").signal(&sig(
        "flexlm",
        "1",
        AS_OF,
        "c",
        "session",
        &[("user", "u"), ("session_start", "2026-11-20T10:00:00Z"), ("session_end", "2026-11-20T09:00:00Z"), ("confidence", "0.1")],
    ));
    let (out, _) = run_ok(&b);
    assert_eq!(exc_sorted(&out, "low_confidence"), vec![pair("flexlm", "1")]);
    assert!(exceptions(&out, "invalid_interval").is_empty());
}

// ---------------------------------------------------------------------------------------------
// A2 sku_mappings

#[test]
fn a2_sku_mappings_exact_vs_prefix_lowercased_trimmed() {
    let b = Bundle::new()
        .sku("a-exact", "device")
        .sku("a-prefix", "device")
        .rule(
            &["sku_mappings"],
            json!([
                {"match": "exact", "field": "product", "value": "Acrobat", "sku": "a-exact"},
                {"match": "prefix", "field": "product", "value": "Acrobat", "sku": "a-prefix"}
            ]),
        )
        .signal(&sig("intune", "1", RECENT, "", "installation", &[("product", "acrobat"), ("device_serial", "A")]))
        .signal(&sig("intune", "2", RECENT, "", "installation", &[("product", "  ACROBAT  "), ("device_serial", "B")]))
        .signal(&sig("intune", "3", RECENT, "", "installation", &[("product", "Acrobat Pro DC"), ("device_serial", "C")]))
        .signal(&sig("intune", "4", RECENT, "", "installation", &[("product", "Acro"), ("device_serial", "D")]))
        .signal(&sig("intune", "5", RECENT, "", "installation", &[("product", "xAcrobat"), ("device_serial", "E")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "a-exact"), 2);
    assert_eq!(unit_keys(&out, "a-exact"), vec!["serial:A", "serial:B"]);
    assert_eq!(consumed(&snap, "a-prefix"), 1);
    assert_eq!(unit_keys(&out, "a-prefix"), vec!["serial:C"]);
    assert_eq!(exc_sorted(&out, "unmapped_product"), vec![pair("intune", "4"), pair("intune", "5")]);
}

#[test]
fn a2_sku_mappings_first_match_wins() {
    let b = Bundle::new()
        .sku("s1", "device")
        .sku("s2", "device")
        .rule(
            &["sku_mappings"],
            json!([
                {"match": "prefix", "field": "product", "value": "Adobe", "sku": "s1"},
                {"match": "exact", "field": "product", "value": "Adobe Acrobat", "sku": "s2"}
            ]),
        )
        .signal(&sig("intune", "1", RECENT, "", "installation", &[("product", "Adobe Acrobat"), ("device_serial", "A")]));
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "s1"), 1);
    assert_eq!(consumed(&snap, "s2"), 0);
}

// ---------------------------------------------------------------------------------------------
// A3 identity normalisation

#[test]
fn a3_serial_normalisation_trim_upper_inner_whitespace() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", " pf3 abc12 ")]))
        .signal(&sig("jamf", "2", RECENT, "d", "installation", &[("device_serial", "PF3ABC12")]))
        .signal(&sig("sccm", "3", RECENT, "d", "installation", &[("device_serial", "pf3\tabc12")]))
        // Unicode white space (NBSP, EM SPACE) is trimmed / removed too
        .signal(&sig("sccm", "4", RECENT, "d", "installation", &[("device_serial", "\u{2003}pf3\u{00A0}abc12\u{00A0}")]))
        // Unicode default upper-casing: ß -> SS
        .signal(&sig("intune", "5", RECENT, "d", "installation", &[("device_serial", "maß1")]))
        .signal(&sig("jamf", "6", RECENT, "d", "installation", &[("device_serial", "MASS1")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 2);
    assert_eq!(unit_keys(&out, "d"), vec!["serial:MASS1", "serial:PF3ABC12"]);
}

#[test]
fn a3_serial_placeholders_compared_after_normalisation() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "To Be Filled By O.E.M."), ("device_name", "host1")]))
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_serial", " system serial number ")]))
        .signal(&sig("intune", "3", RECENT, "d", "installation", &[("device_serial", "n/a"), ("device_id", "ID-9")]))
        .signal(&sig("intune", "4", RECENT, "d", "installation", &[("device_serial", "0")]))
        .signal(&sig("intune", "5", RECENT, "d", "installation", &[("device_serial", "Default  String")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 2);
    assert_eq!(unit_keys(&out, "d"), vec!["id:id-9", "name:host1"]);
    assert_eq!(exc_sorted(&out, "unattributable"), vec![pair("intune", "2"), pair("intune", "4"), pair("intune", "5")]);
}

#[test]
fn a9_serial_placeholders_replace_builtin_list() {
    let b = Bundle::new()
        .sku("d", "device")
        .rule(&["identity", "serial_placeholders"], json!(["XXX"]))
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "0")]))
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_serial", "xxx"), ("device_name", "h2")]))
        .signal(&sig("intune", "3", RECENT, "d", "installation", &[("device_serial", "NONE")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 3);
    assert_eq!(unit_keys(&out, "d"), vec!["name:h2", "serial:0", "serial:NONE"]);
}

#[test]
fn a3_device_id_trimmed_lowercased() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_id", " ABC-DEF ")]))
        .signal(&sig("entra", "2", RECENT, "d", "installation", &[("device_id", "abc-def")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 1);
    assert_eq!(unit_keys(&out, "d"), vec!["id:abc-def"]);
}

#[test]
fn a3_hostname_fqdn_cut_and_ip_addresses_dropped() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_name", "LAPTOP1.corp.example.com")]))
        .signal(&sig("sccm", "2", RECENT, "d", "installation", &[("device_name", " laptop1 ")]))
        .signal(&sig("sccm", "3", RECENT, "d", "installation", &[("device_name", "10.1.2.3")]))
        .signal(&sig("sccm", "4", RECENT, "d", "installation", &[("device_name", "fe80::1%eth0")]))
        .signal(&sig("sccm", "5", RECENT, "d", "installation", &[("device_name", "010.1.2.3")]))
        .signal(&sig("sccm", "6", RECENT, "d", "installation", &[("device_name", "::1")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 2);
    assert_eq!(unit_keys(&out, "d"), vec!["name:010", "name:laptop1"]);
    assert_eq!(exc_sorted(&out, "unattributable"), vec![pair("sccm", "3"), pair("sccm", "4"), pair("sccm", "6")]);
}

#[test]
fn a3_user_lowercase_and_netbios_domain_stripped() {
    let b = Bundle::new()
        .sku("u", "user")
        .signal(&sig("entra", "1", RECENT, "u", "usage", &[("user", "CORP\\Alice")]))
        .signal(&sig("entra", "2", RECENT, "u", "usage", &[("user", " ALICE ")]))
        .signal(&sig("sccm", "3", RECENT, "u", "usage", &[("user", "alice")]))
        // split at the first backslash
        .signal(&sig("sccm", "4", RECENT, "u", "usage", &[("user", "DOM\\Sub\\Bob")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 2);
    assert_eq!(unit_keys(&out, "u"), vec!["alice", "sub\\bob"]);
}

#[test]
fn a3_netbios_strip_off_keeps_domain() {
    let b = Bundle::new()
        .sku("u", "user")
        .rule(&["identity", "strip_netbios_domain"], json!(false))
        .signal(&sig("entra", "1", RECENT, "u", "usage", &[("user", "CORP\\Alice")]))
        .signal(&sig("entra", "2", RECENT, "u", "usage", &[("user", "alice")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 2);
    assert_eq!(unit_keys(&out, "u"), vec!["alice", "corp\\alice"]);
}

// ---------------------------------------------------------------------------------------------
// A3 device merging

#[test]
fn a3_strong_hints_merge_across_sources() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "S1")]))
        .signal(&sig("jamf", "1", RECENT, "d", "installation", &[("device_serial", "S1"), ("device_id", "D1")]))
        .signal(&sig("sccm", "1", RECENT, "d", "usage", &[("device_id", "d1")]))
        .signal(&sig("sccm", "2", RECENT, "d", "usage", &[("device_serial", "S2")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 2);
    assert_eq!(unit_keys(&out, "d"), vec!["id:d1", "serial:S2"]);
}

#[test]
fn a3_canonical_key_is_byte_smallest_strong_hint() {
    let b = Bundle::new()
        .sku("d", "device")
        .dir("device,serial:Z9,serial:M5,active,,,")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "B2"), ("device_id", "x")]))
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_serial", "A1"), ("device_id", "x")]))
        // directory alias participates in the key
        .signal(&sig("intune", "3", RECENT, "d", "installation", &[("device_serial", "Z9")]))
        // a hostname never keys a device that has a strong hint
        .signal(&sig("intune", "4", RECENT, "d", "installation", &[("device_serial", "Q1"), ("device_name", "aaa")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 3);
    assert_eq!(unit_keys(&out, "d"), vec!["id:x", "serial:M5", "serial:Q1"]);
}

#[test]
fn a9_directory_device_aliases_merge_and_bind_hostnames_without_fallback() {
    let b = Bundle::new()
        .sku("d", "device")
        .rule(&["identity", "hostname_fallback"], json!(false))
        .dir("device,serial:S1,id:d1,active,,,")
        .dir("device,serial:S1,name:host9,active,,,")
        .dir("device,serial:S2,serial:S3,active,,,")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "S1")]))
        .signal(&sig("entra", "2", RECENT, "d", "installation", &[("device_id", "D1")]))
        .signal(&sig("sccm", "3", RECENT, "d", "installation", &[("device_name", "host9.corp")]))
        .signal(&sig("jamf", "4", RECENT, "d", "installation", &[("device_serial", "S2")]))
        .signal(&sig("jamf", "5", RECENT, "d", "installation", &[("device_serial", "S3")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 2);
    assert_eq!(unit_keys(&out, "d"), vec!["id:d1", "serial:S2"]);
}

#[test]
fn a3_hostname_fallback_joins_exactly_one_strong_device() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "S1"), ("device_name", "host1")]))
        .signal(&sig("sccm", "2", RECENT, "d", "installation", &[("device_name", "HOST1.corp.local")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 1);
    assert_eq!(unit_keys(&out, "d"), vec!["serial:S1"]);
    assert!(exceptions(&out, "ambiguous_identity").is_empty());
}

#[test]
fn a3_hostname_fallback_off_keeps_hostname_device() {
    let b = Bundle::new()
        .sku("d", "device")
        .rule(&["identity", "hostname_fallback"], json!(false))
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "S1"), ("device_name", "host1")]))
        .signal(&sig("sccm", "2", RECENT, "d", "installation", &[("device_name", "HOST1.corp.local")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 2);
    assert_eq!(unit_keys(&out, "d"), vec!["name:host1", "serial:S1"]);
    assert!(exceptions(&out, "ambiguous_identity").is_empty(), "no fallback attempted");
}

#[test]
fn a3_hostname_fallback_ambiguous_identity_counts_own_device() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "S1"), ("device_name", "host1")]))
        .signal(&sig("jamf", "2", RECENT, "d", "installation", &[("device_serial", "S2"), ("device_name", "host1")]))
        .signal(&sig("sccm", "3", RECENT, "d", "installation", &[("device_name", "host1")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 3);
    assert_eq!(unit_keys(&out, "d"), vec!["name:host1", "serial:S1", "serial:S2"]);
    assert_eq!(exc_sorted(&out, "ambiguous_identity"), vec![pair("sccm", "3")]);
}

#[test]
fn a3_hostnames_never_merge_two_strong_devices() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "S1"), ("device_name", "host1")]))
        .signal(&sig("jamf", "2", RECENT, "d", "installation", &[("device_serial", "S2"), ("device_name", "host1.corp")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 2);
    assert_eq!(unit_keys(&out, "d"), vec!["serial:S1", "serial:S2"]);
    assert!(exceptions(&out, "ambiguous_identity").is_empty());
}

#[test]
fn a3_hostname_only_device_keyed_by_name() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("sccm", "1", RECENT, "d", "installation", &[("device_name", "host5")]))
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_name", "Host5.example.org")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 1);
    assert_eq!(unit_keys(&out, "d"), vec!["name:host5"]);
}

#[test]
fn a9_identity_resolved_once_across_skus_from_qualifying_signals() {
    let b = Bundle::new()
        .sku("d1", "device")
        .sku("d2", "device")
        .sku("sub", "subscription")
        // qualifies (does not count for a subscription) and feeds identity
        .signal(&sig("intune", "1", RECENT, "sub", "installation", &[("device_serial", "S1"), ("device_name", "h1")]))
        .signal(&sig("sccm", "2", RECENT, "d2", "installation", &[("device_name", "h1")]))
        // outside the lookback: does not feed identity
        .signal(&sig("intune", "3", "2026-01-01T00:00:00Z", "d1", "installation", &[("device_serial", "S7"), ("device_name", "h7")]))
        .signal(&sig("sccm", "4", RECENT, "d2", "installation", &[("device_name", "h7")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d1"), 0);
    assert_eq!(consumed(&snap, "d2"), 2);
    assert_eq!(unit_keys(&out, "d2"), vec!["name:h7", "serial:S1"]);
}

// ---------------------------------------------------------------------------------------------
// A3 users

#[test]
fn a3_user_alias_from_directory_one_step() {
    let b = Bundle::new()
        .sku("u", "user")
        .dir("user,alice@x.com,alice.smith@x.com,active,emea,,")
        .dir("user,b,a,active,,,")
        .dir("user,c,b,active,,,")
        .signal(&sig("entra", "1", RECENT, "u", "usage", &[("user", "Alice.Smith@X.COM")]))
        .signal(&sig("entra", "2", RECENT, "u", "usage", &[("user", "alice@x.com")]))
        // a -> b, and not further to c
        .signal(&sig("entra", "3", RECENT, "u", "usage", &[("user", "a")]))
        .signal(&sig("entra", "4", RECENT, "u", "usage", &[("user", "c")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 3);
    assert_eq!(unit_keys(&out, "u"), vec!["alice@x.com", "b", "c"]);
}

#[test]
fn a9_user_aliases_normalised_in_both_columns() {
    let b = Bundle::new()
        .sku("u", "user")
        .dir("user,ALICE@X.COM,CORP\\asmith,active,,,")
        .signal(&sig("entra", "1", RECENT, "u", "usage", &[("user", "asmith")]))
        .signal(&sig("sccm", "2", RECENT, "u", "usage", &[("user", "OTHER\\ASmith")]))
        .signal(&sig("sccm", "3", RECENT, "u", "usage", &[("user", "alice@x.com")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 1);
    assert_eq!(unit_keys(&out, "u"), vec!["alice@x.com"]);
}

#[test]
fn a9_conflicting_alias_maps_to_byte_smallest() {
    let b = Bundle::new()
        .sku("u", "user")
        .dir("user,u2,shared,active,,,")
        .dir("user,u1,shared,active,,,")
        .signal(&sig("entra", "1", RECENT, "u", "usage", &[("user", "shared")]))
        .signal(&sig("entra", "2", RECENT, "u", "usage", &[("user", "u2")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 2);
    assert_eq!(unit_keys(&out, "u"), vec!["u1", "u2"]);
    assert_eq!(exceptions(&out, "conflicting_alias").len(), 1);
}

#[test]
fn a10_alias_listed_under_itself_and_another_id_is_conflict() {
    let b = Bundle::new().sku("u", "user").dir("user,zed,zed,active,,,").dir("user,amy,zed,active,,,").signal(&sig(
        "entra",
        "1",
        RECENT,
        "u",
        "usage",
        &[("user", "zed")],
    ));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 1);
    assert_eq!(unit_keys(&out, "u"), vec!["amy"]);
    assert_eq!(exceptions(&out, "conflicting_alias").len(), 1);
}

#[test]
fn a3_device_to_user_attribution_smallest_key() {
    let b = Bundle::new()
        .sku("u", "user")
        .sku("d", "device")
        .sku("sub", "subscription")
        // user-model signal with device hints only
        .signal(&sig("sccm", "1", RECENT, "u", "installation", &[("device_serial", "S1")]))
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_serial", "S1"), ("user", "Bob")]))
        .signal(&sig("intune", "3", RECENT, "d", "installation", &[("device_serial", "S1"), ("user", "alice")]))
        // subscription assignment carrying only a device id
        .signal(&sig("sccm", "4", RECENT, "sub", "assignment", &[("device_id", "D9")]))
        .signal(&sig("entra", "5", RECENT, "d", "installation", &[("device_id", "d9"), ("user", "carol")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 1);
    assert_eq!(unit_keys(&out, "u"), vec!["alice"]);
    assert_eq!(consumed(&snap, "sub"), 1);
    assert_eq!(unit_keys(&out, "sub"), vec!["carol"]);
    assert!(exceptions(&out, "unattributable").is_empty(), "{:?}", out.exceptions);
}

#[test]
fn a3_unattributable_without_principal() {
    let b = Bundle::new()
        .sku("u", "user")
        .sku("d", "device")
        // user SKU, device hint but no signal of that device carries a user
        .signal(&sig("sccm", "1", RECENT, "u", "installation", &[("device_serial", "S5")]))
        // device SKU without any device hint
        .signal(&sig("sccm", "2", RECENT, "d", "installation", &[("user", "x")]))
        // revoked assignment with no principal at all (A10)
        .signal(&sig("sccm", "3", RECENT, "u", "assignment", &[("status", "revoked")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 0);
    assert_eq!(consumed(&snap, "d"), 0);
    assert_eq!(exc_sorted(&out, "unattributable"), vec![pair("sccm", "1"), pair("sccm", "2"), pair("sccm", "3")]);
}

#[test]
fn a9_device_to_user_attribution_never_for_sessions() {
    // Sessions without a user stand alone under dup_group `user`; attributing
    // them to the device's user would merge them into one.
    let b = Bundle::new().sku("c", "concurrent").sku("d", "device").rule(&["concurrent", "dup_group"], json!("user")).signal(&sig(
        "intune",
        "0",
        RECENT,
        "d",
        "installation",
        &[("device_serial", "S1"), ("user", "bob")],
    ));
    let b = sess(b, "flexlm", "1", "c", "", "S1", &t("10:00"), &t("12:00"), "");
    let b = sess(b, "flexlm", "2", "c", "", "S1", &t("11:00"), &t("13:00"), "");
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "c"), 2);
}

// ---------------------------------------------------------------------------------------------
// A4 per-model consumed

#[test]
fn a4_device_model_install_usage_or_latest_active_assignment() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "D1")]))
        .signal(&sig("intune", "2", "2026-09-01T00:00:00Z", "d", "usage", &[("device_serial", "D2")]))
        .signal(&sig("intune", "3", RECENT, "d", "assignment", &[("device_serial", "D3")]))
        .signal(&sig("intune", "4a", "2026-11-01T00:00:00Z", "d", "assignment", &[("device_serial", "D4")]))
        .signal(&sig("intune", "4b", "2026-11-10T00:00:00Z", "d", "assignment", &[("device_serial", "D4"), ("status", "revoked")]))
        .signal(&sig("intune", "5a", "2026-11-01T00:00:00Z", "d", "assignment", &[("device_serial", "D5"), ("status", "revoked")]))
        .signal(&sig("intune", "5b", "2026-11-10T00:00:00Z", "d", "assignment", &[("device_serial", "D5")]))
        .signal(&sig(
            "intune",
            "6",
            AS_OF,
            "d",
            "session",
            &[("device_serial", "D6"), ("session_start", "2026-11-20T10:00:00Z"), ("session_end", "2026-11-20T11:00:00Z")],
        ))
        .signal(&sig("intune", "7", RECENT, "d", "assignment", &[("device_serial", "D7"), ("status", "suspended")]))
        .signal(&sig("intune", "8", RECENT, "d", "assignment", &[("device_serial", "D8"), ("status", "active")]))
        // an installation counts even when the latest assignment is revoked
        .signal(&sig("intune", "9a", RECENT, "d", "installation", &[("device_serial", "D9")]))
        .signal(&sig("intune", "9b", RECENT, "d", "assignment", &[("device_serial", "D9"), ("status", "revoked")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 6);
    assert_eq!(unit_keys(&out, "d"), vec!["serial:D1", "serial:D2", "serial:D3", "serial:D5", "serial:D8", "serial:D9"]);
}

#[test]
fn a4_user_model_install_usage_or_latest_active_assignment() {
    let b = Bundle::new()
        .sku("u", "user")
        .signal(&sig("entra", "1", RECENT, "u", "installation", &[("user", "u1")]))
        .signal(&sig("entra", "2", "2026-09-01T00:00:00Z", "u", "usage", &[("user", "u2")]))
        .signal(&sig("entra", "3", RECENT, "u", "assignment", &[("user", "u3")]))
        .signal(&sig("entra", "4a", "2026-11-01T00:00:00Z", "u", "assignment", &[("user", "u4")]))
        .signal(&sig("entra", "4b", "2026-11-10T00:00:00Z", "u", "assignment", &[("user", "u4"), ("status", "revoked")]))
        .signal(&sig("entra", "5a", "2026-11-01T00:00:00Z", "u", "assignment", &[("user", "u5"), ("status", "suspended")]))
        .signal(&sig("entra", "5b", "2026-11-10T00:00:00Z", "u", "assignment", &[("user", "u5")]))
        .signal(&sig(
            "entra",
            "6",
            AS_OF,
            "u",
            "session",
            &[("user", "u6"), ("session_start", "2026-11-20T10:00:00Z"), ("session_end", "2026-11-20T11:00:00Z")],
        ))
        .signal(&sig("entra", "7", RECENT, "u", "assignment", &[("user", "u7"), ("status", "suspended")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 4);
    assert_eq!(unit_keys(&out, "u"), vec!["u1", "u2", "u3", "u5"]);
}

#[test]
fn a4_subscription_latest_assignment_by_observed_at_source_raw_id() {
    let b = Bundle::new()
        .sku("sub", "subscription")
        // same instant: source "b" sorts after "a" -> revoked is latest
        .signal(&sig("a", "1", RECENT, "sub", "assignment", &[("user", "ua")]))
        .signal(&sig("b", "1", RECENT, "sub", "assignment", &[("user", "ua"), ("status", "revoked")]))
        // same instant and source: raw_id "9" sorts after "10" (bytes) -> active is latest
        .signal(&sig("a", "10", RECENT, "sub", "assignment", &[("user", "ub"), ("status", "revoked")]))
        .signal(&sig("a", "9", RECENT, "sub", "assignment", &[("user", "ub")]))
        // later suspension wins over an earlier activation from a larger source name
        .signal(&sig("z", "c1", "2026-11-10T00:00:00Z", "sub", "assignment", &[("user", "uc")]))
        .signal(&sig("a", "c2", "2026-11-11T00:00:00Z", "sub", "assignment", &[("user", "uc"), ("status", "suspended")]))
        // installation and usage never count for a subscription
        .signal(&sig("a", "d1", RECENT, "sub", "installation", &[("user", "ud")]))
        .signal(&sig("a", "d2", RECENT, "sub", "usage", &[("user", "ud")]))
        .signal(&sig("a", "e1", RECENT, "sub", "assignment", &[("user", "ue")]))
        // instants compared as instants, not as text: 01:00+02:00 is 23:00Z the day before
        .signal(&sig("a", "f1", "2026-11-21T01:00:00+02:00", "sub", "assignment", &[("user", "uf")]))
        .signal(&sig("a", "f2", "2026-11-21T00:00:00Z", "sub", "assignment", &[("user", "uf"), ("status", "revoked")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "sub"), 2);
    assert_eq!(unit_keys(&out, "sub"), vec!["ub", "ue"]);
}

#[test]
fn a4_feature_without_base_flagged_once_per_user_and_counted() {
    let b = Bundle::new()
        .sku("base", "subscription")
        .feature("feat", "base")
        // a: base active
        .signal(&sig("entra", "a1", RECENT, "base", "assignment", &[("user", "a")]))
        .signal(&sig("entra", "a2", RECENT, "feat", "assignment", &[("user", "a")]))
        // b: no base at all, feature assigned from two sources
        .signal(&sig("entra", "b1", RECENT, "feat", "assignment", &[("user", "b")]))
        .signal(&sig("adobe", "b2", RECENT, "feat", "assignment", &[("user", "b")]))
        // c: base revoked latest
        .signal(&sig("entra", "c1", "2026-11-10T00:00:00Z", "base", "assignment", &[("user", "c")]))
        .signal(&sig("entra", "c2", "2026-11-11T00:00:00Z", "base", "assignment", &[("user", "c"), ("status", "revoked")]))
        .signal(&sig("entra", "c3", RECENT, "feat", "assignment", &[("user", "c")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "feat"), 3);
    assert_eq!(unit_keys(&out, "feat"), vec!["a", "b", "c"]);
    assert_eq!(consumed(&snap, "base"), 1);
    assert_eq!(exceptions(&out, "feature_without_base").len(), 2, "{:?}", out.exceptions);
    assert_eq!(snap.value()["exceptions_summary"]["feature_without_base"], 2);
}

#[test]
fn a9_feature_base_of_user_model_needs_active_assignment() {
    let b = Bundle::new()
        .sku("bu", "user")
        .feature("feat", "bu")
        // a uses the base (counts for bu) but has no base assignment
        .signal(&sig("entra", "1", RECENT, "bu", "installation", &[("user", "a")]))
        .signal(&sig("entra", "2", RECENT, "feat", "assignment", &[("user", "a")]))
        .signal(&sig("entra", "3", RECENT, "bu", "assignment", &[("user", "b")]))
        .signal(&sig("entra", "4", RECENT, "feat", "assignment", &[("user", "b")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "bu"), 2);
    assert_eq!(consumed(&snap, "feat"), 2);
    assert_eq!(exceptions(&out, "feature_without_base").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// A4 concurrent

fn conc(dup: &str) -> Bundle {
    Bundle::new().sku("c", "concurrent").entitle("c", 10).rule(&["concurrent", "dup_group"], json!(dup))
}

#[test]
fn a4_concurrent_half_open_intervals() {
    let b = conc("none");
    let b = sess(b, "flexlm", "1", "c", "u1", "H1", &t("10:00"), &t("11:00"), "");
    let b = sess(b, "flexlm", "2", "c", "u2", "H2", &t("11:00"), &t("12:00"), "");
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "c"), 1, "end == start of the next does not overlap");

    let b = conc("none");
    let b = sess(b, "flexlm", "1", "c", "u1", "H1", &t("10:00"), "2026-11-20T11:00:00.000000001Z", "");
    let b = sess(b, "flexlm", "2", "c", "u2", "H2", &t("11:00"), &t("12:00"), "");
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "c"), 2, "1 ns overlap");
}

#[test]
fn a4_concurrent_open_sessions_end_at_as_of() {
    let b = conc("none");
    let b = sess(b, "flexlm", "1", "c", "u1", "H1", "2026-11-22T05:00:00Z", "", "");
    let b = sess(b, "flexlm", "2", "c", "u2", "H2", "2026-11-22T05:59:59Z", "", "");
    let b = sess(b, "flexlm", "3", "c", "u3", "H3", "2026-09-01T00:00:00Z", "", "");
    let b = sess(b, "flexlm", "4", "c", "u4", "H4", "2026-11-01T00:00:00Z", "2026-11-01T01:00:00Z", "");
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "c"), 3);
    assert!(exceptions(&out, "invalid_interval").is_empty());
}

#[test]
fn a4_concurrent_peak_sums_quantity() {
    let b = conc("none");
    let b = sess(b, "flexlm", "1", "c", "u1", "H1", &t("10:00"), &t("12:00"), "3");
    let b = sess(b, "flexlm", "2", "c", "u2", "H2", &t("11:00"), &t("13:00"), "2");
    let b = sess(b, "flexlm", "3", "c", "u3", "H3", &t("14:00"), &t("15:00"), "4");
    let b = sess(b, "flexlm", "4", "c", "u4", "H4", &t("14:30"), &t("15:00"), "");
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "c"), 5);
}

#[test]
fn a10_concurrent_identical_sessions_collapse_keeping_latest_end_and_largest_quantity() {
    let b = conc("none");
    // identical (user, host, start) from two sources, written differently
    let b = sess(b, "flexlm", "1", "c", "u", "H1", &t("10:00"), &t("12:00"), "1");
    let b = sess(b, "sccm", "1", "c", "U", "h1", "2026-11-20T11:00:00+01:00", &t("11:00"), "3");
    let b = sess(b, "flexlm", "2", "c", "v", "H2", &t("11:30"), &t("12:30"), "2");
    let (_, snap) = run_ok(&b);
    // merged [10:00, 12:00) x3 overlaps v's x2 at 11:30
    assert_eq!(consumed(&snap, "c"), 5);
}

#[test]
fn a4_concurrent_window_clipping() {
    // window [2026-10-23T06:00Z, 2026-11-22T06:00Z)
    let b = conc("none");
    let b = sess(b, "flexlm", "1", "c", "u1", "H1", "2026-10-01T00:00:00Z", "2026-10-23T06:00:00Z", "5");
    let b = sess(b, "flexlm", "2", "c", "u2", "H2", "2026-11-22T06:00:00Z", "2026-11-22T08:00:00Z", "7");
    let b = sess(b, "flexlm", "3", "c", "u3", "H3", "2026-10-01T00:00:00Z", "2026-10-23T06:00:00.000000001Z", "2");
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "c"), 2);
    assert!(out.exceptions.is_empty(), "clipping is silent: {:?}", out.exceptions);

    let b = conc("none").rule(&["concurrent", "window_days"], json!(1));
    let b = sess(b, "flexlm", "4", "c", "u4", "H4", "2026-11-20T00:00:00Z", "2026-11-21T06:00:00Z", "9");
    let b = sess(b, "flexlm", "5", "c", "u5", "H5", "2026-11-21T05:00:00Z", "2026-11-21T07:00:00Z", "1");
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "c"), 1);
}

fn dup_group_bundle(dup: &str) -> Bundle {
    let b = conc(dup);
    let b = sess(b, "flexlm", "1", "c", "u1", "H1", &t("10:00"), &t("12:00"), "1");
    let b = sess(b, "flexlm", "2", "c", "u1", "H2", &t("11:00"), &t("13:00"), "1");
    sess(b, "flexlm", "3", "c", "u1", "H1", &t("11:30"), &t("14:00"), "2")
}

#[test]
fn a4_concurrent_dup_group_none_user_user_host() {
    assert_eq!(dup_group_bundle("none").consumed("c"), 4);
    assert_eq!(dup_group_bundle("user_host").consumed("c"), 3);
    assert_eq!(dup_group_bundle("user").consumed("c"), 2);
}

#[test]
fn a9_concurrent_dup_group_sessions_without_user_stand_alone() {
    for dup in ["user", "user_host"] {
        let b = conc(dup);
        let b = sess(b, "flexlm", "1", "c", "", "H1", &t("10:00"), &t("12:00"), "");
        let b = sess(b, "flexlm", "2", "c", "", "H1", &t("10:30"), &t("12:00"), "");
        assert_eq!(b.consumed("c"), 2, "dup_group {dup}");
    }
}

#[test]
fn a9_concurrent_dup_group_session_without_host_groups_as_user_no_host() {
    let mk = |dup: &str| {
        let b = conc(dup);
        let b = sess(b, "flexlm", "1", "c", "u3", "", &t("10:00"), &t("12:00"), "");
        let b = sess(b, "flexlm", "2", "c", "u3", "", &t("11:00"), &t("13:00"), "");
        sess(b, "flexlm", "3", "c", "u3", "H1", &t("11:00"), &t("13:00"), "")
    };
    assert_eq!(mk("user_host").consumed("c"), 2);
    assert_eq!(mk("user").consumed("c"), 1);
    assert_eq!(mk("none").consumed("c"), 3);
}

#[test]
fn a9_concurrent_dup_group_merges_transitively_at_largest_quantity() {
    let b = conc("user_host");
    let b = sess(b, "flexlm", "a", "c", "u1", "H1", &t("10:00"), &t("11:00"), "1");
    let b = sess(b, "flexlm", "b", "c", "u1", "H1", &t("10:30"), &t("12:00"), "1");
    let b = sess(b, "flexlm", "c", "c", "u1", "H1", &t("11:30"), &t("13:00"), "3");
    let b = sess(b, "flexlm", "x", "c", "u2", "H2", &t("10:00"), &t("10:15"), "1");
    // union [10:00, 13:00) holds 3 from 10:00, plus x at 10:00
    assert_eq!(b.consumed("c"), 4);
}

#[test]
fn a10_dup_group_merging_happens_after_window_clipping() {
    // window start 2026-10-23T06:00Z; B lies wholly before it.
    let b = conc("user_host");
    let b = sess(b, "flexlm", "a", "c", "u1", "H1", "2026-10-23T04:00:00Z", "2026-10-23T07:00:00Z", "1");
    let b = sess(b, "flexlm", "b", "c", "u1", "H1", "2026-10-23T03:00:00Z", "2026-10-23T05:00:00Z", "5");
    assert_eq!(b.consumed("c"), 1);
}

#[test]
fn a4_concurrent_invalid_interval() {
    let b = conc("none");
    let b = sess(b, "flexlm", "1", "c", "u1", "H1", &t("10:00"), &t("10:00"), "");
    let b = sess(b, "flexlm", "2", "c", "u2", "H2", &t("11:00"), &t("10:00"), "");
    let b = sess(b, "flexlm", "3", "c", "u3", "H3", &t("10:00"), &t("11:00"), "");
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "c"), 1);
    assert_eq!(exc_sorted(&out, "invalid_interval"), vec![pair("flexlm", "1"), pair("flexlm", "2")]);
}

#[test]
fn a9_sessions_count_only_for_concurrent_skus() {
    let b = Bundle::new()
        .sku("c", "concurrent")
        .sku("d", "device")
        .sku("u", "user")
        .signal(&sig("intune", "1", RECENT, "c", "installation", &[("user", "a"), ("device_serial", "S1")]))
        .signal(&sig("intune", "2", RECENT, "c", "usage", &[("user", "a"), ("device_serial", "S1")]))
        .signal(&sig("intune", "3", RECENT, "c", "assignment", &[("user", "a"), ("device_serial", "S1")]));
    let b = sess(b, "flexlm", "4", "d", "a", "S2", &t("10:00"), &t("11:00"), "");
    let b = sess(b, "flexlm", "5", "u", "b", "S3", &t("10:00"), &t("11:00"), "");
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "c"), 0);
    assert_eq!(consumed(&snap, "d"), 0);
    assert_eq!(consumed(&snap, "u"), 0);
}

// ---------------------------------------------------------------------------------------------
// A4 counters

#[test]
fn a4_entitled_only_from_entitlements_active_on_as_of_date() {
    let b = Bundle::new()
        .sku("d", "device")
        .entitlement_row("e1,d,c,1,2026-11-22,,,")
        .entitlement_row("e2,d,c,2,2026-01-01,2026-11-22,,")
        .entitlement_row("e3,d,c,4,2026-11-23,,,")
        .entitlement_row("e4,d,c,8,2026-01-01,2026-11-21,,")
        .entitlement_row("e5,d,c,16,2026-12-01,2026-11-01,,")
        .entitlement_row("e6,d,c,32,2026-11-22,2026-11-21,,")
        .entitlement_row("e7,d,c,64,2026-11-22,2026-11-22,,");
    let (_, snap) = run_ok(&b);
    assert_eq!(rec(&snap, "d")["entitled"], 67);
}

#[test]
fn a9_as_of_date_taken_in_utc() {
    // 2026-11-22T23:30-02:00 is 2026-11-23T01:30Z
    let b = Bundle::new()
        .param("as_of", json!("2026-11-22T23:30:00-02:00"))
        .sku("d", "device")
        .entitlement_row("e1,d,c,1,2026-01-01,2026-11-22,,")
        .entitlement_row("e2,d,c,2,2026-11-23,,,")
        .entitlement_row("e3,d,c,4,2026-01-01,2026-11-23,,");
    let (_, snap) = run_ok(&b);
    assert_eq!(rec(&snap, "d")["entitled"], 6);
    assert_eq!(snap.value()["reconciled_at"], "2026-11-23T01:30:00Z");
}

#[test]
fn a4_reserved_effective_only_holds_what_is_not_consumed() {
    let b =
        Bundle::new().sku("d", "device").entitle("d", 10).pool("p1,d,global,,5").sku("e", "device").entitle("e", 10).pool("p2,e,global,,2");
    let b = devices(devices(b, "d", 7), "e", 3);
    let (_, snap) = run_ok(&b);
    let d = rec(&snap, "d");
    // entitled, reserved, reserved_effective, consumed, remaining, available
    assert_eq!(counters(&d), [10, 5, 3, 7, 0, 0]);
    assert_eq!(d["compliance_status"], "compliant");
    assert_eq!(d["variance"], 3);
    assert_eq!(d["variance_percent"], "30.00");
    let e = rec(&snap, "e");
    assert_eq!(counters(&e), [10, 2, 2, 3, 5, 5]);
    assert_eq!(e["compliance_status"], "under_utilized");
}

#[test]
fn a4_over_deployed_remaining_negative_available_zero() {
    let b = Bundle::new().sku("d", "device").entitle("d", 2).pool("p1,d,global,,4");
    let b = devices(b, "d", 3);
    let (_, snap) = run_ok(&b);
    let d = rec(&snap, "d");
    assert_eq!(counters(&d), [2, 4, 0, 3, -1, 0]);
    assert_eq!(d["compliance_status"], "over_deployed");
    assert_eq!(d["variance"], -1);
    assert_eq!(d["variance_percent"], "-50.00");
}

#[test]
fn a4_compliance_status_thresholds() {
    let b = Bundle::new()
        .sku("a", "device")
        .entitle("a", 10)
        .sku("b", "device")
        .entitle("b", 10)
        .sku("c", "device")
        .sku("e", "device")
        .sku("f", "device")
        .entitle("f", 3);
    let b = devices(devices(devices(devices(b, "a", 7), "b", 6), "e", 1), "f", 3);
    let (_, snap) = run_ok(&b);
    let st = |s: &str| rec(&snap, s)["compliance_status"].as_str().unwrap().to_string();
    assert_eq!(st("a"), "compliant", "7*100 < 10*70 is false");
    assert_eq!(st("b"), "under_utilized");
    assert_eq!(st("c"), "compliant", "nothing entitled, nothing consumed");
    assert_eq!(st("e"), "over_deployed");
    assert_eq!(st("f"), "compliant");

    let b =
        Bundle::new().rule(&["under_utilized_percent"], json!(50)).sku("g", "device").entitle("g", 10).sku("h", "device").entitle("h", 10);
    let b = devices(devices(b, "g", 5), "h", 4);
    let (_, snap) = run_ok(&b);
    assert_eq!(rec(&snap, "g")["compliance_status"], "compliant");
    assert_eq!(rec(&snap, "h")["compliance_status"], "under_utilized");
}

#[test]
fn a4_variance_percent_half_even_two_places() {
    let mut b = Bundle::new();
    // (sku, entitled, consumed, expected)
    let cases = [
        ("a", 32, 31, "3.12"),  // 3.125 -> 3.12
        ("b", 32, 29, "9.38"),  // 9.375 -> 9.38
        ("c", 32, 33, "-3.12"), // -3.125 -> -3.12
        ("d", 3, 1, "66.67"),
        ("e", 3, 2, "33.33"),
        ("f", 8, 7, "12.50"),
        ("g", 5, 0, "100.00"),
        ("h", 4, 4, "0.00"),
    ];
    for (s, ent, cons, _) in cases {
        b = devices(b.sku(s, "device").entitle(s, ent), s, cons);
    }
    let b = b.sku("z", "device");
    let b = devices(b, "z", 2);
    let (_, snap) = run_ok(&b);
    for (s, ent, cons, exp) in cases {
        let r = rec(&snap, s);
        assert_eq!(r["variance"], ent - cons as i64, "{s}");
        assert_eq!(r["variance_percent"], exp, "{s}");
    }
    let z = rec(&snap, "z");
    assert_eq!(z["variance"], -2);
    assert_eq!(z["variance_percent"], Value::Null, "null when entitled is 0");
}

#[test]
fn a9_variance_percent_never_negative_zero() {
    // -1 * 100 / 20000 = -0.005 -> half-even -> 0.00, written "0.00"
    let b = Bundle::new().sku("d", "device").entitle("d", 20000);
    let b = devices(b, "d", 20001);
    let (_, snap) = run_ok(&b);
    let d = rec(&snap, "d");
    assert_eq!(d["variance"], -1);
    assert_eq!(d["variance_percent"], "0.00");
    assert_eq!(d["compliance_status"], "over_deployed");
}

// ---------------------------------------------------------------------------------------------
// A4 / A9 pools

#[test]
fn a9_pools_scope_match_in_pool_id_byte_order_then_unpooled() {
    let b = Bundle::new()
        .sku("d", "device")
        .entitle("d", 20)
        .pool("p9,d,region:emea,5,0")
        .pool("p10,d,region:emea,2,1")
        .pool("pb,d,bu:sales,3,2")
        .dir("device,serial:S1,id:s1,active,emea,sales,")
        .dir("device,serial:S2,id:s2,active,emea,,")
        .dir("device,serial:S3,id:s3,active,,sales,")
        .dir("device,serial:S4,id:s4,active,apac,,")
        .dir("device,serial:S6,id:s6,active,EMEA,,");
    let mut b = b;
    for s in ["S1", "S2", "S3", "S4", "S5", "S6"] {
        b = inst(b, s, "d", s);
    }
    let (_, snap) = run_ok(&b);
    let d = rec(&snap, "d");
    assert_eq!(counters(&d), [20, 3, 3, 6, 11, 11]);
    // "p10" < "p9" < "pb" in byte order
    let p10 = pool(&d, Some("p10"));
    assert_eq!(counters(p10), [2, 1, 0, 2, 0, 0]);
    assert_eq!(p10["scope"], "region:emea");
    assert_eq!(counters(pool(&d, Some("p9"))), [5, 0, 0, 0, 5, 5]);
    let pb = pool(&d, Some("pb"));
    assert_eq!(counters(pb), [3, 2, 2, 1, 0, 0]);
    assert_eq!(pb["scope"], "bu:sales");
    // S4 (apac), S5 (no directory row), S6 (EMEA: matching is exact)
    let un = pool(&d, None);
    assert_eq!(un["entitled"], 10, "20 - (5 + 2 + 3)");
    assert_eq!(un["consumed"], 3);
}

#[test]
fn a9_pools_global_pool_tried_after_scoped_pools() {
    let b = Bundle::new()
        .sku("g", "device")
        .entitle("g", 10)
        .pool("a0,g,global,4,0")
        .pool("aa,g,region:emea,3,0")
        .dir("device,serial:S1,id:g1,active,emea,,")
        .dir("device,serial:S2,id:g2,active,apac,,");
    let b = inst(inst(inst(b, "1", "g", "S1"), "2", "g", "S2"), "3", "g", "S3");
    let (_, snap) = run_ok(&b);
    let g = rec(&snap, "g");
    assert_eq!(pool(&g, Some("aa"))["consumed"], 1);
    assert_eq!(pool(&g, Some("a0"))["consumed"], 2);
    assert_eq!(pool(&g, Some("a0"))["scope"], "global");
    let pooled: i64 = g["pools"].as_array().unwrap().iter().map(|p| p["consumed"].as_i64().unwrap()).sum();
    assert_eq!(pooled, 3, "each unit in exactly one pool");
}

#[test]
fn a9_pool_attributes_from_principal_rows_first_setting_row() {
    let b = Bundle::new()
        .sku("d", "device")
        .entitle("d", 10)
        .sku("u", "user")
        .entitle("u", 10)
        .pool("pa,d,region:apac,0,0")
        .pool("pe,d,region:emea,5,0")
        .pool("pu,u,region:emea,5,0")
        .dir("user,alice,alice@x.com,active,emea,,")
        .dir("device,serial:S1,id:a1,active,,,")
        .dir("device,serial:S1,id:a2,active,apac,,")
        .dir("device,serial:S1,id:a3,active,emea,,")
        // device unit of alice's device: device rows only -> unpooled
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "S9"), ("user", "alice")]))
        // first device row that sets region says apac
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_serial", "S1")]))
        // user unit: user row of the canonical id
        .signal(&sig("entra", "3", RECENT, "u", "usage", &[("user", "alice@x.com")]));
    let (_, snap) = run_ok(&b);
    let d = rec(&snap, "d");
    assert_eq!(pool(&d, Some("pa"))["consumed"], 1);
    assert_eq!(pool(&d, Some("pe"))["consumed"], 0);
    assert_eq!(pool(&d, None)["consumed"], 1);
    assert_eq!(pool(&rec(&snap, "u"), Some("pu"))["consumed"], 1);
}

#[test]
fn a9_unpooled_entitled_not_below_zero_and_empty_quantity_is_zero() {
    let b = Bundle::new().sku("d", "device").entitle("d", 5).pool("p1,d,region:x,4,0").pool("p2,d,region:y,3,0").pool("p3,d,region:z,,0");
    let b = inst(b, "1", "d", "S1");
    let (_, snap) = run_ok(&b);
    let d = rec(&snap, "d");
    assert_eq!(pool(&d, Some("p3"))["entitled"], 0);
    let un = pool(&d, None);
    assert_eq!(un["entitled"], 0);
    assert_eq!(un["consumed"], 1);
    assert_eq!(un["remaining"], -1);
    assert_eq!(un["available"], 0);
    assert_eq!(un["reserved_effective"], 0);
    assert_eq!(un["compliance_status"], "over_deployed");
}

#[test]
fn a9_concurrent_skus_not_split_into_pools() {
    let b = Bundle::new().sku("c", "concurrent").entitle("c", 5).pool("pc,c,global,3,0");
    let b = sess(b, "flexlm", "1", "c", "u1", "H1", &t("10:00"), &t("11:00"), "");
    let (_, snap) = run_ok(&b);
    let c = rec(&snap, "c");
    assert_eq!(c["consumed"], 1);
    let pools = c["pools"].as_array().expect("pools array");
    assert!(pools.iter().all(|p| p["pool"].is_null()), "no named pool for a concurrent SKU: {pools:?}");
}

// ---------------------------------------------------------------------------------------------
// A9 totals and by_model

#[test]
fn a9_totals_and_by_model_are_sums_and_every_catalog_sku_appears() {
    let b =
        Bundle::new().sku("d", "device").entitle("d", 10).pool("p1,d,global,,2").sku("u", "user").entitle("u", 5).sku("z", "subscription");
    let mut b = devices(b, "d", 3);
    for i in 0..6 {
        let raw = format!("u{i}");
        b = b.signal(&sig("entra", &raw, RECENT, "u", "usage", &[("user", &raw)]));
    }
    let (_, snap) = run_ok(&b);
    let v = snap.value();
    assert_eq!(v["skus"].as_array().unwrap().len(), 3);
    let z = rec(&snap, "z");
    assert_eq!(counters(&z), [0, 0, 0, 0, 0, 0]);
    assert_eq!(z["variance_percent"], Value::Null);
    // d: [10,2,2,3,5,5] v 7; u: [5,0,0,6,-1,0] v -1
    let tot = &v["totals"];
    assert_eq!(counters(tot), [15, 2, 2, 9, 4, 5], "available is the sum of per-SKU available");
    assert_eq!(tot["variance"], 6);
    assert!(tot.get("variance_percent").is_none() && tot.get("compliance_status").is_none());
    assert_eq!(counters(&v["by_model"]["device"]), [10, 2, 2, 3, 5, 5]);
    assert_eq!(counters(&v["by_model"]["user"]), [5, 0, 0, 6, -1, 0]);
    assert_eq!(counters(&v["by_model"]["subscription"]), [0, 0, 0, 0, 0, 0]);
}

// ---------------------------------------------------------------------------------------------
// A6 / A9 coverage and runs

#[test]
fn a6_missing_expected_source_degrades_health() {
    let mut b = Bundle::new().param("expected_sources", json!(["intune", "jamf"])).sku("d", "device").entitle("d", 40);
    b = devices(b, "d", 30);
    // jamf's only row is rejected (1 of 31 rows): jamf has no accepted row
    b = b.signal(&sig("jamf", "x", RECENT, "d", "Installation", &[("device_serial", "J1")]));
    let out = b.run();
    assert_eq!(out.status, RunStatus::Degraded, "{:?}", out.errors);
    let snap = out.snapshot.expect("a missing source is not a failure");
    let v = snap.value();
    assert_eq!(v["health"], "degraded");
    assert_eq!(v["coverage"]["jamf"]["status"], "missing");
    assert_eq!(v["coverage"]["jamf"]["signals"], 0);
    assert_eq!(v["coverage"]["intune"]["status"], "ok");
    assert_eq!(v["coverage"]["intune"]["signals"], 30);
    let reasons = v["health_reasons"].as_array().unwrap();
    assert!(reasons.iter().any(|r| r.to_string().contains("jamf")), "{reasons:?}");
    assert_eq!(rec(&snap, "d")["consumed"], 30);
}

#[test]
fn a9_coverage_counts_accepted_rows_and_last_observed_ignores_future() {
    let row = sig("a", "1", "2026-11-20T00:00:00Z", "d", "installation", &[("device_serial", "S1")]);
    let b = Bundle::new()
        .param("expected_sources", json!(["a"]))
        .rule(&["max_reject_percent"], json!(50))
        .sku("d", "device")
        .signal(&row)
        .signal(&row) // identical duplicate: collapsed, still an accepted row
        .signal(&sig("a", "2", "2026-11-23T00:00:00Z", "d", "installation", &[("device_serial", "S2")]))
        .signal(&sig("a", "3", "2026-01-01T00:00:00Z", "d", "installation", &[("device_serial", "S3")]))
        .signal(&sig("a", "4", RECENT, "d", "bogus", &[("device_serial", "S4")]));
    let (out, snap) = run_ok(&b);
    let cov = &snap.value()["coverage"]["a"];
    assert_eq!(cov["signals"], 4);
    assert_eq!(cov["last_observed_at"], "2026-11-20T00:00:00Z");
    assert_eq!(cov["status"], "ok");
    assert_eq!(out.status, RunStatus::Ok);
    assert_eq!(consumed(&snap, "d"), 1);
}

fn source_rows(n: usize) -> Bundle {
    let mut b = Bundle::new().param("expected_sources", json!(["a"])).sku("d", "device");
    for i in 0..n {
        let raw = format!("r{i}");
        b = b.signal(&sig("a", &raw, RECENT, "d", "installation", &[("device_serial", &raw)]));
    }
    b
}

#[test]
fn a9_coverage_degraded_against_previous_snapshot() {
    let first = source_rows(10).run();
    let prev = first.snapshot.expect("first snapshot");
    // 5 of 10 is not fewer than 50%
    let out = reconcile(&source_rows(5).build(), Some(prev.canonical_bytes()));
    assert_eq!(out.status, RunStatus::Ok, "{:?}", out.errors);
    assert_eq!(out.snapshot.unwrap().value()["coverage"]["a"]["status"], "ok");
    // 4 of 10 is
    let out = reconcile(&source_rows(4).build(), Some(prev.canonical_bytes()));
    assert_eq!(out.status, RunStatus::Degraded, "{:?}", out.errors);
    let snap = out.snapshot.unwrap();
    assert_eq!(snap.value()["coverage"]["a"]["status"], "degraded");
    assert_eq!(snap.value()["coverage"]["a"]["signals"], 4);
    assert_eq!(snap.value()["health"], "degraded");
    assert!(!snap.value()["health_reasons"].as_array().unwrap().is_empty());
    // without a previous snapshot there is no degraded state
    assert_eq!(source_rows(4).run().status, RunStatus::Ok);
}

#[test]
fn a9_sequence_and_previous_hash_chain() {
    let b = source_rows(2);
    let s1 = b.run().snapshot.unwrap();
    assert_eq!(s1.value()["sequence"], 1);
    assert_eq!(s1.value()["previous_hash"], Value::Null);
    assert_eq!(s1.value()["snapshot_hash"], s1.hash().to_prefixed());
    let s2 = reconcile(&b.build(), Some(s1.canonical_bytes())).snapshot.expect("second snapshot");
    assert_eq!(s2.value()["sequence"], 2);
    assert_eq!(s2.value()["previous_hash"], s1.hash().to_prefixed());
    let s3 = reconcile(&b.build(), Some(s2.canonical_bytes())).snapshot.expect("third snapshot");
    assert_eq!(s3.value()["sequence"], 3);
    assert_eq!(s3.value()["previous_hash"], s2.hash().to_prefixed());
}

#[test]
fn a6_previous_snapshot_of_another_organization_fails_closed() {
    let prev = source_rows(2).param("organization_id", json!("org-other")).run().snapshot.unwrap();
    let out = reconcile(&source_rows(2).build(), Some(prev.canonical_bytes()));
    assert_eq!(out.status, RunStatus::Failed);
    assert!(out.snapshot.is_none());
    assert_eq!(reasons(&out), vec!["previous_snapshot_invalid"]);
    assert_eq!(out.report.to_json()["status"], "failed");
}

#[test]
fn a6_tampered_previous_snapshot_fails_closed() {
    let prev = source_rows(2).run().snapshot.unwrap();
    let text = String::from_utf8(prev.canonical_bytes().to_vec()).unwrap();
    assert!(text.contains("\"sequence\":1"));
    let tampered = text.replace("\"sequence\":1", "\"sequence\":7");
    let out = reconcile(&source_rows(2).build(), Some(tampered.as_bytes()));
    assert_eq!(out.status, RunStatus::Failed);
    assert!(out.snapshot.is_none());
    assert_eq!(reasons(&out), vec!["previous_snapshot_invalid"]);
}

// ---------------------------------------------------------------------------------------------
// further identity, counting and formatting rules

#[test]
fn a10_ambiguous_identity_only_when_fallback_attempted() {
    let b = Bundle::new()
        .sku("d", "device")
        .rule(&["identity", "hostname_fallback"], json!(false))
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "S1"), ("device_name", "host1")]))
        .signal(&sig("jamf", "2", RECENT, "d", "installation", &[("device_serial", "S2"), ("device_name", "host1")]))
        .signal(&sig("sccm", "3", RECENT, "d", "installation", &[("device_name", "host1")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 3);
    assert!(exceptions(&out, "ambiguous_identity").is_empty(), "{:?}", out.exceptions);
}

#[test]
fn a9_excluded_signals_do_not_feed_identity() {
    let b = Bundle::new()
        .sku("d", "device")
        // low confidence: excluded, so S1/host1 are not linked
        .signal(&sig(
            "intune",
            "1",
            RECENT,
            "d",
            "installation",
            &[("device_serial", "S1"), ("device_name", "host1"), ("confidence", "0.1")],
        ))
        // unknown SKU: excluded, so S2/host2 are not linked
        .signal(&sig("intune", "2", RECENT, "nope", "installation", &[("device_serial", "S2"), ("device_name", "host2")]))
        // future: excluded
        .signal(&sig("intune", "3", "2026-11-23T00:00:00Z", "d", "installation", &[("device_serial", "S3"), ("device_name", "host3")]))
        .signal(&sig("sccm", "4", RECENT, "d", "installation", &[("device_name", "host1")]))
        .signal(&sig("sccm", "5", RECENT, "d", "installation", &[("device_name", "host2")]))
        .signal(&sig("sccm", "6", RECENT, "d", "installation", &[("device_name", "host3")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 3);
    assert_eq!(unit_keys(&out, "d"), vec!["name:host1", "name:host2", "name:host3"]);
}

#[test]
fn a10_session_user_attributes_device_only_signal_of_another_sku() {
    let b = Bundle::new().sku("c", "concurrent").sku("u", "user");
    let b = sess(b, "flexlm", "1", "c", "Bob", "S1", &t("10:00"), &t("11:00"), "");
    let b = b.signal(&sig("sccm", "2", RECENT, "u", "installation", &[("device_serial", "s1")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 1);
    assert_eq!(unit_keys(&out, "u"), vec!["bob"]);
}

#[test]
fn a3_device_to_user_attribution_uses_resolved_user_keys() {
    // raw names "zed" and "bob"; "zed" resolves to "aaa", the smallest key
    let b = Bundle::new()
        .sku("u", "user")
        .sku("d", "device")
        .dir("user,aaa,zed,active,,,")
        .signal(&sig("sccm", "1", RECENT, "u", "installation", &[("device_serial", "S2")]))
        .signal(&sig("intune", "2", RECENT, "d", "installation", &[("device_serial", "S2"), ("user", "bob")]))
        .signal(&sig("intune", "3", RECENT, "d", "installation", &[("device_serial", "S2"), ("user", "zed")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 1);
    assert_eq!(unit_keys(&out, "u"), vec!["aaa"]);
}

#[test]
fn a9_conflicting_alias_counted_once_per_alias() {
    let b = Bundle::new()
        .sku("u", "user")
        .dir("user,u3,shared,active,,,")
        .dir("user,u2,shared,active,,,")
        .dir("user,u1,shared,active,,,")
        .signal(&sig("entra", "1", RECENT, "u", "usage", &[("user", "SHARED")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 1);
    assert_eq!(unit_keys(&out, "u"), vec!["u1"]);
    assert_eq!(exceptions(&out, "conflicting_alias").len(), 1);
}

#[test]
fn a9_status_read_on_assignments_only() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", RECENT, "d", "installation", &[("device_serial", "A"), ("status", "revoked")]))
        .signal(&sig("intune", "2", RECENT, "d", "usage", &[("device_serial", "B"), ("status", "suspended")]));
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 2);
}

#[test]
fn a9_latest_assignment_per_resolved_principal() {
    // active via serial, later revoked via the device id of the same device
    let b = Bundle::new()
        .sku("d", "device")
        .sku("o", "device")
        .signal(&sig("intune", "1", "2026-11-01T00:00:00Z", "d", "assignment", &[("device_serial", "S10")]))
        .signal(&sig("entra", "2", "2026-11-10T00:00:00Z", "d", "assignment", &[("device_id", "X10"), ("status", "revoked")]))
        .signal(&sig("sccm", "3", RECENT, "o", "installation", &[("device_serial", "S10"), ("device_id", "x10")]));
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "d"), 0);
    assert_eq!(consumed(&snap, "o"), 1);
}

#[test]
fn a9_installation_and_usage_do_not_count_for_feature() {
    let b = Bundle::new()
        .sku("base", "subscription")
        .feature("feat", "base")
        .signal(&sig("entra", "1", RECENT, "base", "assignment", &[("user", "a")]))
        .signal(&sig("entra", "2", RECENT, "feat", "installation", &[("user", "a")]))
        .signal(&sig("entra", "3", RECENT, "feat", "usage", &[("user", "a")]));
    let (_, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "feat"), 0);
    assert_eq!(consumed(&snap, "base"), 1);
}

#[test]
fn a9_concurrent_host_is_resolved_device_key() {
    // S1 and D1 are one device (linked by another signal): same (user, host) group
    let b = conc("user_host").sku("o", "device").signal(&sig(
        "intune",
        "0",
        RECENT,
        "o",
        "installation",
        &[("device_serial", "S1"), ("device_id", "D1")],
    ));
    let b = sess(b, "flexlm", "1", "c", "u1", "S1", &t("10:00"), &t("12:00"), "");
    let b = b.signal(&sig(
        "flexlm",
        "2",
        AS_OF,
        "c",
        "session",
        &[("user", "U1"), ("device_id", "d1"), ("session_start", &t("11:00")), ("session_end", &t("13:00"))],
    ));
    assert_eq!(b.consumed("c"), 1);
}

#[test]
fn a10_ids_and_enumerations_trimmed() {
    let b = Bundle::new().param("expected_sources", json!(["intune"])).sku("d", "device").signal(&sig(
        " intune ",
        "1",
        RECENT,
        " d ",
        " installation ",
        &[("device_serial", "A")],
    ));
    let (out, snap) = run_ok(&b);
    assert_eq!(out.status, RunStatus::Ok, "source ` intune ` is source `intune`");
    assert_eq!(consumed(&snap, "d"), 1);
    assert!(exceptions(&out, "unknown_sku").is_empty());
    assert_eq!(snap.value()["coverage"]["intune"]["signals"], 1);
}

#[test]
fn a9_directory_disabled_status_does_not_change_counting() {
    let b = Bundle::new().sku("u", "user").dir("user,alice,alice@x.com,disabled,,,").signal(&sig(
        "entra",
        "1",
        RECENT,
        "u",
        "usage",
        &[("user", "alice@x.com")],
    ));
    let (out, snap) = run_ok(&b);
    assert_eq!(consumed(&snap, "u"), 1);
    assert_eq!(unit_keys(&out, "u"), vec!["alice"]);
}

#[test]
fn a9_instants_written_utc_without_trailing_zeros() {
    let b = Bundle::new()
        .param("as_of", json!("2026-11-22T07:00:00.120+01:00"))
        .sku("d", "device")
        .signal(&sig("a", "1", "2026-11-20T00:00:00.500Z", "d", "installation", &[("device_serial", "S1")]))
        .signal(&sig("b", "2", "2026-11-20T00:00:00.000Z", "d", "installation", &[("device_serial", "S2")]));
    let (_, snap) = run_ok(&b);
    let v = snap.value();
    assert_eq!(v["reconciled_at"], "2026-11-22T06:00:00.12Z");
    assert_eq!(v["coverage"]["a"]["last_observed_at"], "2026-11-20T00:00:00.5Z");
    assert_eq!(v["coverage"]["b"]["last_observed_at"], "2026-11-20T00:00:00Z");
}

#[test]
fn a9_snapshot_carries_reserved_and_reserved_effective() {
    let b = Bundle::new().sku("d", "device").entitle("d", 1).pool("p,d,global,1,1");
    let b = devices(b, "d", 1);
    let (_, snap) = run_ok(&b);
    let d = rec(&snap, "d");
    assert_eq!(d["reserved"], 1);
    assert_eq!(d["reserved_effective"], 0);
    assert_eq!(snap.value()["totals"]["reserved"], 1);
    assert_eq!(snap.value()["totals"]["reserved_effective"], 0);
}

#[test]
fn a6_exceptions_summary_counts_exceptions_per_code() {
    let b = Bundle::new()
        .sku("d", "device")
        .signal(&sig("intune", "1", "2026-11-23T00:00:00Z", "d", "installation", &[("device_serial", "A")]))
        .signal(&sig("intune", "2", "2026-11-23T00:00:00Z", "d", "installation", &[("device_serial", "B")]))
        .signal(&sig("intune", "3", RECENT, "nope", "installation", &[("device_serial", "C")]))
        .signal(&sig("intune", "4", RECENT, "d", "installation", &[("device_serial", "D"), ("confidence", "0.6")]));
    let (out, snap) = run_ok(&b);
    let sum = &snap.value()["exceptions_summary"];
    assert_eq!(sum["future_signal"], 2);
    assert_eq!(sum["unknown_sku"], 1);
    assert_eq!(sum["needs_review"], 1);
    let total: u64 = sum.as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(total as usize, out.exceptions.len());
}
