//! `jamf-inventory` and `adobe-users`: every quirk of the issue that concerns
//! them, pinned by exact signals, identity facts, rejections and notes; the
//! fixtures against their `expected.jsonl`; bad input; and end-to-end runs
//! through `imports/<adapter>/` of a bundle.

use super::{notes, opts, signals};
use crate::common::*;
use eucora_license_core::internal::adapters::{self, AdapterOutput, DirectoryEntry, InputFile, SignalRow};
use eucora_license_core::internal::signals::RowError;
use eucora_license_core::{Error, RunStatus};
use serde_json::json;

/// The path of `fixtures/adapters/<rel>`, for `include_bytes!` and `include_str!`.
macro_rules! fixture {
    ($rel:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/adapters/", $rel)
    };
}

const JAMF_PAGES: [(&str, &[u8]); 3] = [
    ("imports/jamf-inventory/page-0.json", include_bytes!(fixture!("jamf-inventory/page-0.json"))),
    ("imports/jamf-inventory/page-1.json", include_bytes!(fixture!("jamf-inventory/page-1.json"))),
    ("imports/jamf-inventory/page-2.json", include_bytes!(fixture!("jamf-inventory/page-2.json"))),
];
const JAMF_EXPECTED: &str = include_str!(fixture!("jamf-inventory/expected.jsonl"));
const ADOBE_CSV: &[u8] = include_bytes!(fixture!("adobe-users/users.csv"));
const ADOBE_EXPECTED: &str = include_str!(fixture!("adobe-users/expected.jsonl"));
/// The option both fixtures are imported with (`expected.jsonl` was made with it).
const FIXTURE_OBSERVED_AT: &str = "2026-11-21T08:00:00Z";
const ADOBE_HEADER: &str = "Identity Type,Username,Domain,Email,First Name,Last Name,Country Code,Product Configurations,Admin Roles,Product Configurations Administered,User Groups,User Groups Administered,Products Administered,Developer Access,Auto Assigned Products";

fn run(adapter: &str, files: &[(&str, &[u8])], kv: &[(&str, &str)]) -> Result<AdapterOutput, Error> {
    let inputs: Vec<InputFile> = files.iter().map(|(p, b)| InputFile { path: p.to_string(), bytes: b.to_vec() }).collect();
    adapters::run(adapter, &inputs, &opts(kv)).map(|(_, out)| out)
}

fn ok(adapter: &str, files: &[(&str, &[u8])], kv: &[(&str, &str)]) -> AdapterOutput {
    run(adapter, files, kv).unwrap_or_else(|e| panic!("{adapter} failed: {e}"))
}

fn err(adapter: &str, files: &[(&str, &[u8])], kv: &[(&str, &str)]) -> Error {
    match run(adapter, files, kv) {
        Ok(out) => panic!("{adapter} should fail, produced {} signals", out.signals.len()),
        Err(e) => e,
    }
}

fn rejected(out: &AdapterOutput) -> Vec<(usize, u64, String, String)> {
    out.rejected.iter().map(|(f, RowError { line, column, code, .. })| (*f, *line, column.clone(), code.to_string())).collect()
}

fn device(serial: &str, name: &str) -> DirectoryEntry {
    DirectoryEntry {
        principal_type: "device".into(),
        canonical_id: format!("serial:{serial}"),
        alias: format!("name:{name}"),
        ..Default::default()
    }
}

/// A Jamf installation signal.
fn jamf(raw_id: &str, observed_at: &str, product: &str, user: &str, serial: &str, name: &str) -> SignalRow {
    SignalRow {
        source: "jamf".into(),
        raw_id: raw_id.into(),
        observed_at: observed_at.into(),
        product: product.into(),
        kind: "installation".into(),
        user: user.into(),
        device_serial: serial.into(),
        device_name: name.into(),
        ..Default::default()
    }
}

/// An Adobe assignment signal.
fn adobe(raw_id: &str, observed_at: &str, product: &str, user: &str) -> SignalRow {
    SignalRow {
        source: "adobe".into(),
        raw_id: raw_id.into(),
        observed_at: observed_at.into(),
        product: product.into(),
        kind: "assignment".into(),
        status: "active".into(),
        user: user.into(),
        ..Default::default()
    }
}

/// A Jamf page from computer records.
fn page(total: Option<u64>, results: serde_json::Value) -> Vec<u8> {
    let mut p = json!({ "results": results });
    if let Some(t) = total {
        p["totalCount"] = json!(t);
    }
    serde_json::to_vec_pretty(&p).unwrap()
}

/// A complete computer record.
fn computer(id: &str, name: &str, serial: &str, report: &str, apps: serde_json::Value) -> serde_json::Value {
    json!({
        "id": id, "udid": format!("UDID-{id}"),
        "general": {"name": name, "reportDate": report, "lastContactTime": report, "platform": "Mac"},
        "hardware": {"serialNumber": serial, "model": "MacBook Pro"},
        "applications": apps,
        "userAndLocation": {"username": format!("u{id}"), "realname": "", "email": format!("u{id}@acme.example")}
    })
}

fn app(name: &str, bundle: &str) -> serde_json::Value {
    json!({"name": name, "path": format!("/Applications/{name}"), "version": "1.0", "bundleId": bundle, "macAppStore": false})
}

fn jsonl(rows: &[SignalRow]) -> String {
    rows.iter().map(|r| String::from_utf8(eucora_license_core::internal::canonical::to_vec_of(r).unwrap()).unwrap() + "\n").collect()
}

fn adobe_csv(rows: &[&str]) -> Vec<u8> {
    let mut s = String::from(ADOBE_HEADER);
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s.into_bytes()
}

fn location(e: &Error) -> (String, Option<u64>) {
    let l = e.location().unwrap_or_else(|| panic!("no location: {e}"));
    (l.file.clone(), l.line)
}

// ==========================================================================================
// Registry

#[test]
fn both_adapters_are_registered_with_source_and_version() {
    let j = adapters::by_name("jamf-inventory").unwrap();
    assert_eq!((j.source(), j.version(), j.option_keys()), ("jamf", "1.0.0", &["observed_at"][..]));
    let a = adapters::by_name("adobe-users").unwrap();
    assert_eq!((a.source(), a.version(), a.option_keys()), ("adobe", "1.0.0", &["observed_at"][..]));
    let names: Vec<&str> = adapters::all().iter().map(|a| a.name()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ADAPTERS is kept in name order");
}

// ==========================================================================================
// jamf-inventory

#[test]
fn jamf_fixture_matches_expected_jsonl() {
    let out = ok("jamf-inventory", &JAMF_PAGES, &[("observed_at", FIXTURE_OBSERVED_AT)]);
    assert_eq!(jsonl(&signals(&out)), JAMF_EXPECTED);
    assert_eq!(out.records, vec![3, 3, 2]);
    assert!(out.rejected.is_empty());
    assert_eq!(
        out.directory,
        vec![device("C02XK1AAJG5H", "MAC-ANNA"), device("C02YL2BBJG5J", "MAC-BEN"), device("C02ZM3CCJG5K", "MAC-CARL")]
    );
    assert_eq!(
        notes(&out),
        vec![
            (
                0,
                "computer `3` (serial C02ZM3CCJG5K) skipped: computer `9` has the same serial and a newer report (re-enrolment)"
                    .to_string()
            ),
            (1, "computer name `MacBook Pro` is shared by 2 serial numbers: no serial ↔ name identity fact emitted for it".to_string()),
        ]
    );
    assert!(out.observations.is_empty());
}

#[test]
fn jamf_fixture_rows_in_detail() {
    // The quirks of the fixture, spelled out: null sections (computer 2 has
    // no userAndLocation, 4 no general: its instant is the option), empty and
    // null versions, duplicate application entries (2), a placeholder serial
    // and an FQDN name (5), an app known by bundle id only (5), an app without
    // bundle id (7: raw_id uses the name), a re-enrolled Mac (3 → 9).
    let out = ok("jamf-inventory", &JAMF_PAGES, &[("observed_at", FIXTURE_OBSERVED_AT)]);
    let s = signals(&out);
    assert_eq!(s[3], jamf("2:com.adobe.Photoshop", "2026-11-18T07:00:00.5Z", "Adobe Photoshop 2025.app", "", "C02YL2BBJG5J", "MAC-BEN"));
    assert_eq!(s[4], jamf("4:us.zoom.xos", FIXTURE_OBSERVED_AT, "zoom.us.app", "dora", "C02AB4DDJG5L", ""));
    assert_eq!(
        s[5],
        jamf(
            "5:com.acme.helper",
            "2026-11-21T03:00:00.123456Z",
            "com.acme.helper",
            "build@acme.example",
            "",
            "mac-vm-build01.acme.example"
        )
    );
    assert_eq!(s[7], jamf("7:Adobe Acrobat.app", "2026-11-20T14:22:31.000Z", "Adobe Acrobat.app", "gus", "C02DE7FFJG5N", "MacBook Pro"));
    assert!(!s.iter().any(|r| r.raw_id.starts_with("3:")), "the superseded enrolment gives no signal");
    assert_eq!(s.len(), 10);
}

#[test]
fn jamf_paging_across_files_with_total_count_check() {
    let p0 = page(Some(3), json!([computer("1", "M1", "SER1", "2026-11-20T10:00:00Z", json!([app("A.app", "com.a")]))]));
    let p1 = page(Some(3), json!([computer("2", "M2", "SER2", "2026-11-20T10:00:00Z", json!([app("A.app", "com.a")]))]));
    let p2 = page(Some(3), json!([computer("3", "M3", "SER3", "2026-11-20T10:00:00Z", json!([app("B.app", "com.b")]))]));
    let all = [("p/page-0.json", &p0[..]), ("p/page-1.json", &p1[..]), ("p/page-2.json", &p2[..])];
    let out = ok("jamf-inventory", &all, &[]);
    let t = "2026-11-20T10:00:00Z";
    assert_eq!(
        signals(&out),
        vec![
            jamf("1:com.a", t, "A.app", "u1@acme.example", "SER1", "M1"),
            jamf("2:com.a", t, "A.app", "u2@acme.example", "SER2", "M2"),
            jamf("3:com.b", t, "B.app", "u3@acme.example", "SER3", "M3"),
        ]
    );
    let origins: Vec<(usize, u64)> = out.signals.iter().map(|(o, _)| (o.file, o.line)).collect();
    assert_eq!(origins, vec![(0, 1), (1, 1), (2, 1)]);
    assert_eq!(out.records, vec![1, 1, 1]);
    assert!(out.notes.is_empty(), "totalCount agrees: {:?}", out.notes);

    // A missing page: totalCount says 3, two pages hold 2.
    let out = ok("jamf-inventory", &all[..2], &[]);
    assert_eq!(
        notes(&out),
        vec![(
            1,
            "totalCount is 3 but the pages hold 2 computers: a page is missing or the inventory changed while it was paged through"
                .to_string()
        )]
    );
    assert_eq!(out.signals.len(), 2);

    // Pages that disagree among themselves.
    let p2b = page(Some(4), json!([computer("3", "M3", "SER3", "2026-11-20T10:00:00Z", json!([]))]));
    let out = ok("jamf-inventory", &[all[0], all[1], ("p/page-2.json", &p2b[..])], &[]);
    assert_eq!(notes(&out), vec![(2, "pages disagree on totalCount (3, 4): the inventory changed while it was paged through".to_string())]);

    // No totalCount at all: nothing to check.
    let bare = page(None, json!([]));
    let out = ok("jamf-inventory", &[("p/page-0.json", &bare[..])], &[]);
    assert!(out.notes.is_empty() && out.signals.is_empty());
    assert_eq!(out.records, vec![0]);
}

#[test]
fn jamf_same_computer_on_two_pages_keeps_the_newest_record() {
    // The inventory moved while it was paged: computer 2 appears on both pages.
    let p0 = page(Some(2), json!([computer("2", "M2", "SER2", "2026-11-19T10:00:00Z", json!([app("A.app", "com.a")]))]));
    let p1 = page(
        Some(2),
        json!([
            computer("1", "M1", "SER1", "2026-11-20T10:00:00Z", json!([app("A.app", "com.a")])),
            computer("2", "M2", "SER2", "2026-11-20T11:00:00Z", json!([app("A.app", "com.a"), app("B.app", "com.b")]))
        ]),
    );
    let out = ok("jamf-inventory", &[("page-0.json", &p0[..]), ("page-1.json", &p1[..])], &[]);
    assert_eq!(
        signals(&out),
        vec![
            jamf("1:com.a", "2026-11-20T10:00:00Z", "A.app", "u1@acme.example", "SER1", "M1"),
            jamf("2:com.a", "2026-11-20T11:00:00Z", "A.app", "u2@acme.example", "SER2", "M2"),
            jamf("2:com.b", "2026-11-20T11:00:00Z", "B.app", "u2@acme.example", "SER2", "M2"),
        ]
    );
    assert_eq!(
        notes(&out),
        vec![(
            0,
            "computer `2` appears more than once (record 1 here): kept the record with the newest report (file 2, record 2)".to_string()
        )]
    );
    assert_eq!(out.directory, vec![device("SER1", "M1"), device("SER2", "M2")]);
}

#[test]
fn jamf_null_sections_and_empty_versions() {
    let p = page(
        Some(4),
        json!([
            {"id": "10", "general": null, "hardware": null, "userAndLocation": null,
             "applications": [{"name": "Tool.app", "bundleId": "com.tool", "version": null}]},
            {"id": "11", "general": {"name": "M11", "reportDate": "2026-11-20T10:00:00Z"}, "hardware": {"serialNumber": "SER11"},
             "userAndLocation": {"username": null, "email": null}, "applications": null},
            {"id": "12", "general": {"name": "M12", "reportDate": "2026-11-20T10:00:00Z"}, "hardware": {"serialNumber": "SER12"},
             "userAndLocation": {"username": "ann", "email": ""},
             "applications": [{"name": "A.app", "bundleId": "com.a", "version": ""}, {"name": "B.app", "bundleId": null}]},
            {"id": 13, "general": {"name": "M13", "reportDate": "2026-11-20T10:00:00Z"}}
        ]),
    );
    let out = ok("jamf-inventory", &[("p.json", &p[..])], &[("observed_at", "2026-11-21T00:00:00Z")]);
    assert_eq!(
        signals(&out),
        vec![
            jamf("10:com.tool", "2026-11-21T00:00:00Z", "Tool.app", "", "", ""),
            // A computer's applications come in raw_id (key) byte order.
            jamf("12:B.app", "2026-11-20T10:00:00Z", "B.app", "ann", "SER12", "M12"),
            jamf("12:com.a", "2026-11-20T10:00:00Z", "A.app", "ann", "SER12", "M12"),
        ]
    );
    assert_eq!(out.directory, vec![device("SER11", "M11"), device("SER12", "M12")]);
    assert!(out.rejected.is_empty() && out.notes.is_empty());
    assert_eq!(out.records, vec![4]);
}

#[test]
fn jamf_timestamps_with_0_to_7_fractional_digits_and_fallbacks() {
    let rec = |id: &str, report: serde_json::Value, contact: serde_json::Value| {
        json!({"id": id, "general": {"name": format!("M{id}"), "reportDate": report, "lastContactTime": contact},
               "hardware": {"serialNumber": format!("SER{id}")}, "applications": [app("A.app", "com.a")]})
    };
    let p = page(
        None,
        json!([
            rec("1", json!("2026-11-20T10:00:00Z"), json!(null)),
            rec("2", json!("2026-11-20T10:00:00.1Z"), json!(null)),
            rec("3", json!("2026-11-20T10:00:00.123Z"), json!(null)),
            rec("4", json!("2026-11-20T10:00:00.1234567Z"), json!(null)),
            rec("5", json!("2026-11-20T10:00:00.000+01:00"), json!(null)),
            rec("6", json!("2026-11-20T10:00:00"), json!(null)),
            rec("7", json!(null), json!("2026-11-19T08:00:00.25Z")),
            rec("8", json!(""), json!(null)),
        ]),
    );
    let with = ok("jamf-inventory", &[("p.json", &p[..])], &[("observed_at", "2026-11-21T06:00:00+01:00")]);
    let got: Vec<(String, String)> = signals(&with).into_iter().map(|s| (s.raw_id, s.observed_at)).collect();
    let want: Vec<(String, String)> = [
        ("1:com.a", "2026-11-20T10:00:00Z"),
        ("2:com.a", "2026-11-20T10:00:00.1Z"),
        ("3:com.a", "2026-11-20T10:00:00.123Z"),
        ("4:com.a", "2026-11-20T10:00:00.1234567Z"),
        ("5:com.a", "2026-11-20T10:00:00.000+01:00"),
        // No offset: the Jamf Pro API speaks UTC.
        ("6:com.a", "2026-11-20T10:00:00+00:00"),
        // No report date: the last contact.
        ("7:com.a", "2026-11-19T08:00:00.25Z"),
        // Neither: the export instant given as option.
        ("8:com.a", "2026-11-21T06:00:00+01:00"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);

    // Without the option, a computer with no instant at all is rejected,
    // one row per application it would have produced.
    let without = ok("jamf-inventory", &[("p.json", &p[..])], &[]);
    assert_eq!(without.signals.len(), 7);
    assert_eq!(rejected(&without), vec![(0, 8, "general.reportDate".to_string(), "missing_field".to_string())]);
}

#[test]
fn jamf_re_enrolment_keeps_the_newest_report() {
    // One Mac enrolled twice (ids 20 then 31), the serial written differently.
    let p = page(
        Some(3),
        json!([
            computer("20", "OLD-NAME", "C02ZM3CCJG5K", "2026-11-01T09:00:00Z", json!([app("A.app", "com.a"), app("Old.app", "com.old")])),
            computer("31", "NEW-NAME", " c02zm3cc jg5k ", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")])),
            computer("32", "OTHER", "C02OTHERJG5K", "2026-11-02T09:00:00Z", json!([app("A.app", "com.a")]))
        ]),
    );
    let out = ok("jamf-inventory", &[("p.json", &p[..])], &[]);
    assert_eq!(
        signals(&out),
        vec![
            jamf("31:com.a", "2026-11-20T09:00:00Z", "A.app", "u31@acme.example", "c02zm3cc jg5k", "NEW-NAME"),
            jamf("32:com.a", "2026-11-02T09:00:00Z", "A.app", "u32@acme.example", "C02OTHERJG5K", "OTHER"),
        ]
    );
    assert_eq!(out.directory, vec![device("C02OTHERJG5K", "OTHER"), device("c02zm3cc jg5k", "NEW-NAME")]);
    assert_eq!(
        notes(&out),
        vec![(
            0,
            "computer `20` (serial C02ZM3CCJG5K) skipped: computer `31` has the same serial and a newer report (re-enrolment)".to_string()
        )]
    );

    // Same report date: the later enrolment (the larger numeric id) wins,
    // whatever the page order.
    let a = computer("9", "N9", "SERX", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")]));
    let b = computer("10", "N10", "SERX", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")]));
    for results in [json!([a.clone(), b.clone()]), json!([b, a])] {
        let p = page(None, results);
        let out = ok("jamf-inventory", &[("p.json", &p[..])], &[]);
        assert_eq!(signals(&out), vec![jamf("10:com.a", "2026-11-20T09:00:00Z", "A.app", "u10@acme.example", "SERX", "N10")]);
    }
}

#[test]
fn jamf_placeholder_serials_never_merge_devices() {
    let p = page(
        None,
        json!([
            computer("1", "VM-1", "0", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")])),
            computer("2", "VM-2", "0", "2026-11-20T10:00:00Z", json!([app("A.app", "com.a")])),
            computer("3", "VM-3", "To Be Filled By O.E.M.", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")])),
            computer("4", "VM-4", "System Serial Number", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")])),
            computer("5", "VM-5", "XXXXXXXXXXXX", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")])),
            computer("6", "VM-6", "", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")]))
        ]),
    );
    let out = ok("jamf-inventory", &[("p.json", &p[..])], &[]);
    // Every record kept (no re-enrolment merge on a placeholder), serial dropped.
    let got: Vec<(String, String, String)> = signals(&out).into_iter().map(|s| (s.raw_id, s.device_serial, s.device_name)).collect();
    let want: Vec<(String, String, String)> = (1..=6).map(|i| (format!("{i}:com.a"), String::new(), format!("VM-{i}"))).collect();
    assert_eq!(got, want);
    assert!(out.directory.is_empty(), "no identity fact on a placeholder serial: {:?}", out.directory);
    assert!(out.notes.is_empty());

    // End to end: six devices, not one.
    let b = Bundle::new()
        .sku("a", "device")
        .entitle("a", 10)
        .rule(&["sku_mappings"], json!([{"match": "exact", "field": "product", "value": "A.app", "sku": "a"}]))
        .file("imports/jamf-inventory/p.json", &p);
    assert_eq!(b.consumed("a"), 6);
}

#[test]
fn jamf_duplicate_application_entries_are_one_signal() {
    // The same bundle in two folders, listed in either order: one signal,
    // the byte-smallest (name, path) naming the product.
    let apps1 = json!([
        {"name": "Zed.app", "path": "/Users/a/Applications/Zed.app", "bundleId": "dev.zed", "version": "0.160"},
        {"name": "Zed.app", "path": "/Applications/Zed.app", "bundleId": "dev.zed", "version": ""},
        {"name": "Zed Preview.app", "path": "/Applications/Zed Preview.app", "bundleId": "dev.zed", "version": "0.161"}
    ]);
    let mut apps2 = apps1.clone();
    apps2.as_array_mut().unwrap().reverse();
    for apps in [apps1, apps2] {
        let p = page(None, json!([computer("1", "M1", "SER1", "2026-11-20T09:00:00Z", apps)]));
        let out = ok("jamf-inventory", &[("p.json", &p[..])], &[]);
        assert_eq!(signals(&out), vec![jamf("1:dev.zed", "2026-11-20T09:00:00Z", "Zed Preview.app", "u1@acme.example", "SER1", "M1")]);
    }
}

#[test]
fn jamf_shared_computer_names_give_no_identity_fact() {
    // "MacBook Pro" on two Macs must not become a directory alias, which
    // would merge them; a name on one Mac does.
    let p = page(
        None,
        json!([
            computer("1", "MacBook Pro", "SER1", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")])),
            computer("2", "macbook pro.local", "SER2", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")])),
            computer("3", "Eva's MacBook Air", "SER3", "2026-11-20T09:00:00Z", json!([]))
        ]),
    );
    let out = ok("jamf-inventory", &[("p.json", &p[..])], &[]);
    assert_eq!(out.directory, vec![device("SER3", "Eva's MacBook Air")]);
    assert_eq!(
        notes(&out),
        vec![(0, "computer name `MacBook Pro` is shared by 2 serial numbers: no serial ↔ name identity fact emitted for it".to_string())]
    );
    let b = Bundle::new()
        .sku("a", "device")
        .entitle("a", 10)
        .rule(&["sku_mappings"], json!([{"match": "exact", "field": "product", "value": "A.app", "sku": "a"}]))
        .file("imports/jamf-inventory/p.json", &p);
    assert_eq!(b.consumed("a"), 2);
}

#[test]
fn jamf_records_that_fail_alone_are_rejected() {
    let p = page(
        Some(7),
        json!([
            "not a computer",
            {"general": {"name": "no id"}, "applications": [app("A.app", "com.a"), app("B.app", "com.b")]},
            {"id": "3", "general": "oops", "applications": [app("A.app", "com.a")]},
            {"id": "4", "general": {"reportDate": "20/11/2026 10:00"}, "applications": [app("A.app", "com.a"), app("B.app", "com.b")]},
            {"id": "5", "general": {"reportDate": "2026-11-20T10:00:00Z"}, "hardware": {"serialNumber": ["x"]}, "applications": []},
            {"id": "6", "general": {"reportDate": "2026-11-20T10:00:00Z"}, "applications":
                [{"name": "", "bundleId": null}, 7, {"name": {"x": 1}}, app("C.app", "com.c")]},
            {"id": "7", "general": {"reportDate": "2026-11-20T10:00:00Z"}, "applications": {"name": "A.app"}}
        ]),
    );
    let out = ok("jamf-inventory", &[("p.json", &p[..])], &[]);
    assert_eq!(signals(&out), vec![jamf("6:com.c", "2026-11-20T10:00:00Z", "C.app", "", "", "")]);
    let r = |line: u64, col: &str, code: &str| (0usize, line, col.to_string(), code.to_string());
    assert_eq!(
        rejected(&out),
        vec![
            r(1, "results", "wrong_type"),
            r(2, "id", "missing_field"),
            r(2, "id", "missing_field"),
            r(3, "general", "wrong_type"),
            r(4, "general.reportDate", "malformed_instant"),
            r(4, "general.reportDate", "malformed_instant"),
            r(5, "hardware.serialNumber", "wrong_type"),
            r(6, "applications[0].name", "missing_field"),
            r(6, "applications[1]", "wrong_type"),
            r(6, "applications[2].name", "wrong_type"),
            r(7, "applications", "wrong_type"),
        ]
    );
    assert_eq!(out.rejected[1].1.message, "record 2: computer without `id`");
    assert_eq!(out.rejected[4].1.message, "computer `4`: `general.reportDate` is not an RFC 3339 instant");
    assert_eq!(out.records, vec![7]);
    assert!(out.notes.is_empty(), "all seven records were seen: {:?}", out.notes);
}

#[test]
fn jamf_bad_input_fails_the_folder_with_file_and_position() {
    let good = page(Some(1), json!([computer("1", "M1", "SER1", "2026-11-20T09:00:00Z", json!([app("A.app", "com.a")]))]));
    // A truncated page (the download was cut): no signal from any page.
    let full = String::from_utf8(JAMF_PAGES[1].1.to_vec()).unwrap();
    let cut = &full.as_bytes()[..full.len() / 2];
    let e = err("jamf-inventory", &[("imports/jamf-inventory/page-0.json", &good[..]), ("imports/jamf-inventory/page-1.json", cut)], &[]);
    assert_eq!(e.code().name(), "invalid_input");
    let (file, line) = location(&e);
    assert_eq!(file, "imports/jamf-inventory/page-1.json");
    assert!(line.is_some_and(|l| l > 1), "{e}");

    // Not a page: an array, `results` missing, a bad totalCount.
    for (bytes, field) in [
        (&b"[1,2]"[..], "$"),
        (&br#"{"totalCount": 1}"#[..], "$.results"),
        (&br#"{"totalCount": "1", "results": []}"#[..], "$.totalCount"),
        (&br#"{"totalCount": -1, "results": []}"#[..], "$.totalCount"),
    ] {
        let e = err("jamf-inventory", &[("x/page.json", bytes)], &[]);
        assert_eq!(e.code().name(), "invalid_input");
        let l = e.location().unwrap();
        assert_eq!((l.file.as_str(), l.field.as_deref()), ("x/page.json", Some(field)), "{e}");
    }

    // Neither UTF-8 nor UTF-16.
    let e = err("jamf-inventory", &[("x/page.json", &b"{\"results\": [\xff]}"[..])], &[]);
    assert_eq!(e.code().name(), "invalid_input");
    assert_eq!(location(&e).0, "x/page.json");
    assert!(e.message().contains("UTF-8"), "{e}");

    // A UTF-16 LE page with a BOM is read.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in String::from_utf8(good.clone()).unwrap().encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    assert_eq!(ok("jamf-inventory", &[("x/page.json", &utf16[..])], &[]).signals.len(), 1);

    // Unknown option, bad option value.
    let e = err("jamf-inventory", &[("x/page.json", &good[..])], &[("utc_offset", "+01:00")]);
    assert_eq!(e.code().name(), "invalid_input");
    assert!(e.message().contains("has no option `utc_offset`"), "{e}");
    let e = err("jamf-inventory", &[("x/page.json", &good[..])], &[("observed_at", "2026-11-21 08:00")]);
    assert_eq!(e.code().name(), "invalid_input");
    assert!(e.message().contains("observed_at"), "{e}");
}

// ==========================================================================================
// adobe-users

#[test]
fn adobe_fixture_matches_expected_jsonl() {
    let out = ok("adobe-users", &[("imports/adobe-users/users.csv", ADOBE_CSV)], &[("observed_at", FIXTURE_OBSERVED_AT)]);
    assert_eq!(jsonl(&signals(&out)), ADOBE_EXPECTED);
    assert_eq!(out.records, vec![6]);
    assert!(out.rejected.is_empty() && out.directory.is_empty() && out.observations.is_empty());
    assert_eq!(
        notes(&out),
        vec![(0, "anna.berg@acme.example has accounts under 2 identity types (adobe-id [Default Adobe Acrobat Pro DC configuration]; federated-id [Default Adobe Acrobat Pro DC configuration, Default All Apps plan - 100 GB configuration]): Adobe counts a seat per account, reconciliation counts one user".to_string())]
    );
}

#[test]
fn adobe_multi_value_cells_are_split_and_trimmed() {
    let t = "2026-11-21T08:00:00Z";
    let csv = adobe_csv(&[
        r#"Federated ID,dora,acme.example,dora@acme.example,Dora,"Ek, Jr.",SE,"  CC All Apps ,Acrobat Pro,,  Stock , Acrobat Pro ",,,"Design, Marketing",,,,"#,
        r#"Federated ID,eve,acme.example,eve@acme.example,Eve,Ahl,SE,Acrobat Pro,,,,,,,"#,
        r#"Federated ID,fay,acme.example,fay@acme.example,Fay,Bo,SE," , ",Support Admin,,,,,,"#,
    ]);
    let out = ok("adobe-users", &[("u.csv", &csv[..])], &[("observed_at", t)]);
    assert_eq!(
        signals(&out),
        vec![
            adobe("federated-id:dora@acme.example:Acrobat Pro", t, "Acrobat Pro", "dora@acme.example"),
            adobe("federated-id:dora@acme.example:CC All Apps", t, "CC All Apps", "dora@acme.example"),
            adobe("federated-id:dora@acme.example:Stock", t, "Stock", "dora@acme.example"),
            adobe("federated-id:eve@acme.example:Acrobat Pro", t, "Acrobat Pro", "eve@acme.example"),
        ]
    );
    let lines: Vec<u64> = out.signals.iter().map(|(o, _)| o.line).collect();
    assert_eq!(lines, vec![2, 2, 2, 3]);
    assert_eq!(out.records, vec![3]);
    assert!(out.rejected.is_empty() && out.notes.is_empty());
}

#[test]
fn adobe_same_email_under_two_identity_types() {
    let t = "2026-11-21T08:00:00Z";
    let csv = adobe_csv(&[
        "Adobe ID,jo@acme.example,acme.example,jo@acme.example,Jo,Li,SE,Acrobat Pro,,,,,,,",
        "Federated ID,JO@acme.example,acme.example,JO@acme.example,Jo,Li,SE,Acrobat Pro,,,,,,,",
    ]);
    let out = ok("adobe-users", &[("u.csv", &csv[..])], &[("observed_at", t)]);
    // Two accounts, two assignments with distinct raw_ids...
    assert_eq!(
        signals(&out),
        vec![
            adobe("adobe-id:jo@acme.example:Acrobat Pro", t, "Acrobat Pro", "jo@acme.example"),
            adobe("federated-id:jo@acme.example:Acrobat Pro", t, "Acrobat Pro", "JO@acme.example"),
        ]
    );
    assert_eq!(
        notes(&out),
        vec![(0, "jo@acme.example has accounts under 2 identity types (adobe-id [Acrobat Pro]; federated-id [Acrobat Pro]): Adobe counts a seat per account, reconciliation counts one user".to_string())]
    );
    // ...that resolve to one user, hence one unit.
    let b = Bundle::new()
        .sku("acro", "user")
        .entitle("acro", 5)
        .rule(&["sku_mappings"], json!([{"match": "exact", "field": "product", "value": "acrobat pro", "sku": "acro"}]))
        .param("adapter_options", json!({"adobe-users": {"observed_at": t}}))
        .file("imports/adobe-users/u.csv", &csv);
    assert_eq!(b.consumed("acro"), 1);
}

#[test]
fn adobe_repeated_rows_and_email_case_are_one_assignment() {
    let t = "2026-11-21T08:00:00Z";
    let row_a = "Federated ID,kim,acme.example,Kim@acme.example,Kim,Yu,SE,Acrobat Pro,,,,,,,";
    let row_b = "Federated ID,kim,acme.example,kim@acme.example,Kim,Yu,SE,\"Acrobat Pro,Stock\",,,,,,,";
    for rows in [[row_a, row_b], [row_b, row_a]] {
        let csv = adobe_csv(&rows);
        let out = ok("adobe-users", &[("u.csv", &csv[..])], &[("observed_at", t)]);
        // The byte-smallest spelling wins whatever the row order ("K" < "k").
        let mut got: Vec<(String, String)> = signals(&out).into_iter().map(|s| (s.raw_id, s.user)).collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("federated-id:kim@acme.example:Acrobat Pro".to_string(), "Kim@acme.example".to_string()),
                ("federated-id:kim@acme.example:Stock".to_string(), "kim@acme.example".to_string()),
            ]
        );
        assert_eq!(notes(&out), vec![(0, "1 repeated (account, product configuration) pairs counted once".to_string())]);
    }
}

#[test]
fn adobe_rows_without_email_or_identity_type_are_rejected() {
    let t = "2026-11-21T08:00:00Z";
    let csv = adobe_csv(&[
        ",ann,acme.example,ann@acme.example,Ann,A,SE,Acrobat Pro,,,,,,,",
        "Federated ID,bo,acme.example,,Bo,B,SE,\"Acrobat Pro,Stock\",,,,,,,",
        "Federated ID,cy,acme.example,,Cy,C,SE,,,,,,,,",
        "Federated ID,di,acme.example,di@acme.example,Di,D,SE,Stock,,,,,,,",
    ]);
    let out = ok("adobe-users", &[("u.csv", &csv[..])], &[("observed_at", t)]);
    assert_eq!(signals(&out), vec![adobe("federated-id:di@acme.example:Stock", t, "Stock", "di@acme.example")]);
    let r = |line: u64, col: &str| (0usize, line, col.to_string(), "missing_field".to_string());
    // One rejection per assignment lost; a row without products loses none.
    assert_eq!(rejected(&out), vec![r(2, "Identity Type"), r(3, "Email"), r(3, "Email")]);
    assert_eq!(out.records, vec![4]);
}

#[test]
fn adobe_encodings_and_header_variants() {
    let t = "2026-11-21T08:00:00Z";
    let want = vec![adobe("enterprise-id:lu@acme.example:Acrobat Pro", t, "Acrobat Pro", "lu@acme.example")];
    // Older consoles add `ID` and lack `Auto Assigned Products`; column order is free.
    let text = "Identity Type,Username,Domain,Email,First Name,Last Name,Country Code,ID,Product Configurations,Admin Roles,Product Configurations Administered,User Groups,User Groups Administered,Products Administered,Developer Access\r\n\
                Enterprise ID,lu@acme.example,acme.example,lu@acme.example,Lu,Ma,SE,ABC123@AdobeID,Acrobat Pro,,,,,,\r\n";
    // UTF-8 with BOM.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    assert_eq!(signals(&ok("adobe-users", &[("u.csv", &bom[..])], &[("observed_at", t)])), want);
    // UTF-16 LE with BOM (saved from Excel as "Unicode text").
    let mut le = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
    }
    assert_eq!(signals(&ok("adobe-users", &[("u.csv", &le[..])], &[("observed_at", t)])), want);
    // Header case does not matter.
    let lower = text.replacen("Identity Type", "identity type", 1);
    assert_eq!(signals(&ok("adobe-users", &[("u.csv", lower.as_bytes())], &[("observed_at", t)])), want);
}

#[test]
fn adobe_bad_input() {
    let t = [("observed_at", "2026-11-21T08:00:00Z")];
    // A wrong header: another adapter's export.
    let sccm = b"ResourceID,Name0,User_Name0\n1,PC1,ACME\\ann\n";
    let e = err("adobe-users", &[("imports/adobe-users/x.csv", &sccm[..])], &t);
    assert_eq!(e.code().name(), "invalid_input");
    assert_eq!(location(&e), ("imports/adobe-users/x.csv".to_string(), Some(1)));
    assert_eq!(e.location().unwrap().field.as_deref(), Some("Identity Type"));
    assert!(e.message().starts_with("not an Adobe Admin Console user export: column `Identity Type` is missing"), "{e}");
    // Semicolon-separated (an import template re-saved): named in the message.
    let semi = ADOBE_HEADER.replace(',', ";") + "\n";
    let e = err("adobe-users", &[("u.csv", semi.as_bytes())], &t);
    assert!(e.message().contains("separated by semicolons"), "{e}");
    // An empty file has no header at all.
    let e = err("adobe-users", &[("u.csv", &b""[..])], &t);
    assert_eq!(e.code().name(), "invalid_input");
    // A record with a wrong field count fails the file (and the folder: no
    // signal from the good file either).
    let good = adobe_csv(&["Federated ID,a,acme.example,a@acme.example,A,A,SE,Stock,,,,,,,"]);
    let bad = adobe_csv(&["Federated ID,b,acme.example,b@acme.example,B,B,SE,Stock"]);
    let e = err("adobe-users", &[("a.csv", &good[..]), ("b.csv", &bad[..])], &t);
    assert_eq!(location(&e), ("b.csv".to_string(), Some(2)));
    // An unterminated quoted cell (a truncated export).
    let cut = adobe_csv(&["Federated ID,b,acme.example,b@acme.example,B,B,SE,\"Stock,"]);
    let e = err("adobe-users", &[("c.csv", &cut[..])], &t);
    assert_eq!((e.code().name(), location(&e).0.as_str()), ("invalid_input", "c.csv"));
    // Neither UTF-8 nor UTF-16.
    let mut latin1 = adobe_csv(&[]);
    latin1.extend_from_slice(b"Federated ID,j,acme.example,j@acme.example,J\xF6rg,K,DE,Stock,,,,,,,\n");
    let e = err("adobe-users", &[("l.csv", &latin1[..])], &t);
    assert_eq!((e.code().name(), location(&e).0.as_str()), ("invalid_input", "l.csv"));
    assert!(e.message().contains("not valid UTF-8"), "{e}");
    // Options: observed_at is required and must be an instant with offset.
    let e = err("adobe-users", &[("a.csv", &good[..])], &[]);
    assert_eq!(e.code().name(), "invalid_input");
    assert!(e.message().contains("needs option `observed_at`"), "{e}");
    for v in ["2026-11-21T08:00:00", "yesterday", ""] {
        let e = err("adobe-users", &[("a.csv", &good[..])], &[("observed_at", v)]);
        assert_eq!(e.code().name(), "invalid_input", "{v}");
    }
    let e = err("adobe-users", &[("a.csv", &good[..])], &[("observed_at", "2026-11-21T08:00:00Z"), ("org_id", "x")]);
    assert!(e.message().contains("has no option `org_id`"), "{e}");
}

// ==========================================================================================
// End to end

fn e2e_bundle() -> Bundle {
    let mut b = Bundle::new()
        .sku("acrobat", "user")
        .sku("photoshop", "device")
        .sku("cc-all-apps", "user")
        .sku("ps-named", "user")
        .entitle("acrobat", 10)
        .entitle("photoshop", 5)
        .entitle("cc-all-apps", 5)
        .entitle("ps-named", 1)
        .rule(
            &["sku_mappings"],
            json!([
                {"match": "exact", "field": "product", "value": "Adobe Acrobat.app", "sku": "acrobat"},
                {"match": "exact", "field": "product", "value": "Default Adobe Acrobat Pro DC configuration", "sku": "acrobat"},
                {"match": "prefix", "field": "product", "value": "Adobe Photoshop", "sku": "photoshop"},
                {"match": "prefix", "field": "product", "value": "Default All Apps plan", "sku": "cc-all-apps"},
                {"match": "exact", "field": "product", "value": "Default Photoshop - 100 GB configuration", "sku": "ps-named"}
            ]),
        )
        .param("expected_sources", json!(["jamf", "adobe"]))
        .param(
            "adapter_options",
            json!({"jamf-inventory": {"observed_at": FIXTURE_OBSERVED_AT}, "adobe-users": {"observed_at": FIXTURE_OBSERVED_AT}}),
        )
        .file("imports/adobe-users/users.csv", ADOBE_CSV);
    for (p, bytes) in JAMF_PAGES {
        b = b.file(p, bytes);
    }
    b
}

#[test]
fn end_to_end_through_imports_folders() {
    let out = e2e_bundle().run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.status, RunStatus::Ok);
    let snap = out.snapshot.as_ref().unwrap();
    let consumed = |sku: &str| snap.sku_json(sku).unwrap()["consumed"].as_i64().unwrap();
    // Acrobat (user model): Jamf users anna (computer 1), gus (7), carl (9)
    // plus Adobe's anna under two identity types: three users.
    assert_eq!(consumed("acrobat"), 3);
    // Photoshop (device): computer 2, its duplicate app entry counted once.
    assert_eq!(consumed("photoshop"), 1);
    // All Apps: anna and dora.
    assert_eq!(consumed("cc-all-apps"), 2);
    assert_eq!(consumed("ps-named"), 1);
    // Applications nobody mapped are exceptions, not silently dropped.
    let mut unmapped = exceptions(&out, "unmapped_product");
    unmapped.sort();
    let want: Vec<(String, String)> = [
        ("adobe", "federated-id:dora.ek@acme.example:Default Adobe Stock configuration"),
        ("jamf", "1:com.apple.Safari"),
        ("jamf", "1:com.microsoft.Word"),
        ("jamf", "4:us.zoom.xos"),
        ("jamf", "5:com.acme.helper"),
        ("jamf", "5:com.apple.dt.Xcode"),
        ("jamf", "9:com.microsoft.Excel"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(unmapped, want);

    let imports: Vec<&serde_json::Value> =
        snap.value()["imports"].as_array().unwrap().iter().filter(|j| j["adapter"] != "canonical").collect();
    let rows: Vec<(String, String, String, i64, i64)> = imports
        .iter()
        .map(|j| {
            (
                j["adapter"].as_str().unwrap().to_string(),
                j["adapter_version"].as_str().unwrap().to_string(),
                j["path"].as_str().unwrap().to_string(),
                j["rows_total"].as_i64().unwrap(),
                j["rows_accepted"].as_i64().unwrap(),
            )
        })
        .collect();
    let s = |a: &str, p: &str, n: i64| (a.to_string(), "1.0.0".to_string(), p.to_string(), n, n);
    assert_eq!(
        rows,
        vec![
            s("adobe-users", "imports/adobe-users/users.csv", 6),
            s("jamf-inventory", "imports/jamf-inventory/page-0.json", 4),
            s("jamf-inventory", "imports/jamf-inventory/page-1.json", 3),
            s("jamf-inventory", "imports/jamf-inventory/page-2.json", 3),
        ]
    );
    let sources: Vec<&str> = imports.iter().map(|j| j["source"].as_str().unwrap()).collect();
    assert_eq!(sources, vec!["adobe", "jamf", "jamf", "jamf"]);
}

#[test]
fn end_to_end_directory_facts_join_other_sources() {
    // The serial ↔ name fact from Jamf lets a hostname-only signal of another
    // source land on the same Mac.
    let b = e2e_bundle().rule(&["identity", "hostname_fallback"], json!(false)).signal(&[
        ("source", "manual"),
        ("raw_id", "m1"),
        ("observed_at", "2026-11-21T00:00:00Z"),
        ("product", "Adobe Photoshop 2025"),
        ("kind", "installation"),
        ("device_name", "mac-ben.acme.example"),
    ]);
    assert_eq!(b.consumed("photoshop"), 1);
    // Control: a name Jamf does not know stays a device of its own.
    let b = e2e_bundle().rule(&["identity", "hostname_fallback"], json!(false)).signal(&[
        ("source", "manual"),
        ("raw_id", "m1"),
        ("observed_at", "2026-11-21T00:00:00Z"),
        ("product", "Adobe Photoshop 2025"),
        ("kind", "installation"),
        ("device_name", "mac-nobody.acme.example"),
    ]);
    assert_eq!(b.consumed("photoshop"), 2);
}

#[test]
fn end_to_end_bad_input_fails_the_run() {
    // Adobe without its required option: the run fails naming the folder.
    let out = e2e_bundle().param("adapter_options", json!({"jamf-inventory": {"observed_at": FIXTURE_OBSERVED_AT}})).run();
    assert_eq!(out.status, RunStatus::Failed);
    let e = &out.errors[0];
    assert_eq!(e.code().name(), "invalid_input");
    assert_eq!(e.location().unwrap().file, "imports/adobe-users/");
    assert!(out.snapshot.is_none());

    // A truncated Jamf page: the run fails naming the page.
    let out = e2e_bundle().file("imports/jamf-inventory/page-3.json", br#"{"totalCount": 8, "results": [{"id": "10", "gen"#).run();
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(out.errors[0].location().unwrap().file, "imports/jamf-inventory/page-3.json");
}
