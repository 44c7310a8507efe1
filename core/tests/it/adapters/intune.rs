//! The Intune adapters (`intune-devices`, `intune-apps`): fixtures against
//! their expected output, every Graph quirk they handle, bad input, and an
//! end-to-end reconciliation over `imports/<adapter>/`.

use super::{canonical_lines, notes, opts, rejects as rejections, signals};
use crate::common::*;
use eucora_license_core::internal::adapters::{self, AdapterOutput, DirectoryEntry, InputFile, Options, SignalRow};
use eucora_license_core::{Error, RunStatus};
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/adapters");
const NULL_GUID: &str = "00000000-0000-0000-0000-000000000000";
const DEVICES_CTX: &str = "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices";
const APPS_CTX: &str = "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/detectedApps(managedDevices())";

// ---------------------------------------------------------------------------------------------
// helpers

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Input files named `imports/<adapter>/<name>` with the fixture's bytes.
fn fixture_files(adapter: &str, dir: &str, names: &[&str]) -> Vec<InputFile> {
    names.iter().map(|n| InputFile { path: format!("imports/{adapter}/{n}"), bytes: fixture(&format!("{dir}/{n}")) }).collect()
}

fn fixture_options(dir: &str) -> Options {
    let v: Value = serde_json::from_slice(&fixture(&format!("{dir}/options.json"))).unwrap();
    v.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()
}

/// JSON pages as input files `p<i>.json`, in order.
fn pages(pages: &[Value]) -> Vec<InputFile> {
    pages.iter().enumerate().map(|(i, p)| InputFile { path: format!("p{i}.json"), bytes: serde_json::to_vec(p).unwrap() }).collect()
}

fn run(adapter: &str, files: &[InputFile], options: &Options) -> AdapterOutput {
    match adapters::run(adapter, files, options) {
        Ok((a, out)) => {
            assert_eq!(a.name(), adapter);
            assert_eq!(a.version(), "1.0.0");
            assert_eq!(a.source(), "intune");
            out
        }
        Err(e) => panic!("{adapter} failed: {e}"),
    }
}

fn run_err(adapter: &str, files: &[InputFile], options: &Options) -> Error {
    match adapters::run(adapter, files, options) {
        Ok((_, out)) => panic!("{adapter} should fail; signals {:?}", out.signals),
        Err(e) => e,
    }
}

/// Asserts an invalid_input error located in `file`; returns its message.
fn invalid_in(e: &Error, file: &str) -> String {
    assert_eq!(e.code().name(), "invalid_input", "{e}");
    assert_eq!(e.location().map(|l| l.file.as_str()), Some(file), "{e}");
    e.message().to_string()
}

fn page(records: Vec<Value>) -> Value {
    json!({"@odata.context": DEVICES_CTX, "value": records})
}

fn device(id: &str, name: &str, serial: &str, aad: &str, upn: &str, sync: &str) -> Value {
    json!({"id": id, "deviceName": name, "serialNumber": serial, "azureADDeviceId": aad,
           "userPrincipalName": upn, "emailAddress": upn, "lastSyncDateTime": sync,
           "enrolledDateTime": "2026-01-05T09:00:00Z", "operatingSystem": "Windows",
           "managedDeviceOwnerType": "company"})
}

fn with_apps(mut d: Value, apps: Value) -> Value {
    d["detectedApps"] = apps;
    d
}

fn app(id: &str, name: &str, version: &str) -> Value {
    json!({"id": id, "displayName": name, "version": version, "sizeInByte": 0, "deviceCount": 1,
           "publisher": "", "platform": "windows"})
}

/// An installation row as the adapter must emit it.
fn inst(raw_id: &str, at: &str, product: &str, user: &str, serial: &str, id: &str, name: &str) -> SignalRow {
    SignalRow {
        source: "intune".into(),
        raw_id: raw_id.into(),
        observed_at: at.into(),
        product: product.into(),
        kind: "installation".into(),
        user: user.into(),
        device_serial: serial.into(),
        device_id: id.into(),
        device_name: name.into(),
        ..SignalRow::default()
    }
}

fn dev_entry(canonical: &str, alias: &str) -> DirectoryEntry {
    DirectoryEntry { principal_type: "device".into(), canonical_id: canonical.into(), alias: alias.into(), ..Default::default() }
}

fn user_entry(canonical: &str, alias: &str) -> DirectoryEntry {
    DirectoryEntry { principal_type: "user".into(), canonical_id: canonical.into(), alias: alias.into(), ..Default::default() }
}

fn jsonl_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec()).unwrap().lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()
}

// ---------------------------------------------------------------------------------------------
// fixtures against expected output

#[test]
fn devices_fixture_gives_the_expected_identity_facts_and_no_signals() {
    let files = fixture_files("intune-devices", "intune-devices", &["page-1.json", "page-2.json"]);
    let out = run("intune-devices", &files, &Options::new());
    assert_eq!(canonical_lines(&signals(&out)), jsonl_lines(&fixture("intune-devices/expected.jsonl")));
    assert!(out.signals.is_empty());
    assert_eq!(canonical_lines(&out.directory), jsonl_lines(&fixture("intune-devices/expected_directory.jsonl")));
    assert_eq!(out.records, vec![4, 6]);
    assert!(out.rejected.is_empty());
    assert_eq!(
        notes(&out),
        vec![
            (
                1,
                "managed device `3f1c2a9e-7b41-4d2a-9c55-0a1b2c3d4e05` (serial `pf3abc12`, last sync 2026-06-30T16:20:00Z) \
                 is an older enrolment of managed device `3f1c2a9e-7b41-4d2a-9c55-0a1b2c3d4e02` (last sync \
                 2026-11-21T07:30:00.1234567Z): its device id, name and apps are not used"
                    .to_string()
            ),
            (
                0,
                "hostname `iphone` is reported for 2 managed devices (`3f1c2a9e-7b41-4d2a-9c55-0a1b2c3d4e04`, \
                 `3f1c2a9e-7b41-4d2a-9c55-0a1b2c3d4e06`): not linked to any of them"
                    .to_string()
            ),
            (
                1,
                "hostname `kiosk-01` is reported for 2 managed devices (`3f1c2a9e-7b41-4d2a-9c55-0a1b2c3d4e08`, \
                 `3f1c2a9e-7b41-4d2a-9c55-0a1b2c3d4e09`): not linked to any of them"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn apps_fixture_per_device_matches_expected_jsonl() {
    let names = ["device-3f1c2a9e-7b41-4d2a-9c55-0a1b2c3d4e09.json", "page-1.json", "page-2.json"];
    let files = fixture_files("intune-apps", "intune-apps", &names);
    let out = run("intune-apps", &files, &fixture_options("intune-apps"));
    assert_eq!(canonical_lines(&signals(&out)), jsonl_lines(&fixture("intune-apps/expected.jsonl")));
    assert_eq!(canonical_lines(&out.directory), jsonl_lines(&fixture("intune-apps/expected_directory.jsonl")));
    assert_eq!(out.records, vec![1, 4, 4]);
    assert!(out.rejected.is_empty());
    // Origins: each signal points at its device record.
    let origins: Vec<(usize, u64)> = out.signals.iter().map(|(o, _)| (o.file, o.line)).collect();
    assert_eq!(origins, vec![(0, 1), (0, 1), (1, 1), (1, 1), (1, 1), (1, 2), (1, 2), (1, 3), (2, 3), (2, 4)]);
}

#[test]
fn apps_fixture_per_app_matches_expected_jsonl() {
    let files = fixture_files("intune-apps", "intune-apps/by-app", &["page-1.json", "page-2.json"]);
    let out = run("intune-apps", &files, &fixture_options("intune-apps/by-app"));
    assert_eq!(canonical_lines(&signals(&out)), jsonl_lines(&fixture("intune-apps/by-app/expected.jsonl")));
    assert_eq!(canonical_lines(&out.directory), jsonl_lines(&fixture("intune-apps/by-app/expected_directory.jsonl")));
    assert_eq!(out.records, vec![2, 2]);
    assert!(out.rejected.is_empty());
}

// ---------------------------------------------------------------------------------------------
// paging

#[test]
fn pages_across_several_files_are_one_export() {
    let mut p1 = page(vec![device("m1", "PC-1", "SER1", "aad-1", "a@x.com", "2026-11-20T00:00:00Z")]);
    p1["@odata.nextLink"] = json!("https://graph.microsoft.com/v1.0/deviceManagement/managedDevices?$skiptoken=x");
    let p2 = page(vec![device("m2", "PC-2", "SER2", "aad-2", "b@x.com", "2026-11-20T00:00:00Z")]);
    let out = run("intune-devices", &pages(&[p1.clone(), p2.clone()]), &Options::new());
    assert_eq!(
        out.directory,
        vec![
            dev_entry("id:aad-1", "name:PC-1"),
            dev_entry("id:aad-1", "serial:SER1"),
            dev_entry("id:aad-2", "name:PC-2"),
            dev_entry("id:aad-2", "serial:SER2"),
        ]
    );
    assert!(out.notes.is_empty(), "{:?}", out.notes);

    // The last page is missing: every page has a nextLink.
    let out = run("intune-devices", &pages(&[p1.clone()]), &Options::new());
    assert_eq!(
        notes(&out),
        vec![(0, "every page has @odata.nextLink: the last page of the export is missing, devices may be missing".to_string())]
    );

    // Two exports in one folder: two pages without nextLink.
    let out = run("intune-devices", &pages(&[p2.clone(), p1, p2]), &Options::new());
    let msg = "2 pages have no @odata.nextLink: several exports share the folder (duplicates collapse)".to_string();
    assert_eq!(notes(&out), vec![(0, msg.clone()), (2, msg)]);
    assert_eq!(out.directory.len(), 4, "the repeated page collapses");
}

#[test]
fn single_entity_files_are_not_pages() {
    // GET managedDevices/{id}?$expand=detectedApps answers one object, without paging.
    let mut d = with_apps(device("m1", "PC-1", "SER1", "aad-1", "a@x.com", "2026-11-20T00:00:00Z"), json!([app("app1", "Visio", "16")]));
    d["@odata.context"] = json!(format!("{DEVICES_CTX}(detectedApps())/$entity"));
    let out = run("intune-apps", &pages(&[d]), &Options::new());
    assert_eq!(signals(&out), vec![inst("m1:app1", "2026-11-20T00:00:00Z", "Visio", "a@x.com", "SER1", "aad-1", "PC-1")]);
    assert!(out.notes.is_empty());
    assert_eq!(out.records, vec![1]);
}

// ---------------------------------------------------------------------------------------------
// timestamps

#[test]
fn timestamps_with_zero_to_seven_fractional_digits_are_kept_as_written() {
    let stamps = [
        "2026-11-20T08:15:42Z",
        "2026-11-20T08:15:42.1Z",
        "2026-11-20T08:15:42.12Z",
        "2026-11-20T08:15:42.123Z",
        "2026-11-20T08:15:42.1234Z",
        "2026-11-20T08:15:42.12345Z",
        "2026-11-20T08:15:42.123456Z",
        "2026-11-20T08:15:42.1234567Z",
        "2026-11-20T09:15:42.5+01:00",
    ];
    let records: Vec<Value> = stamps
        .iter()
        .enumerate()
        .map(|(i, s)| with_apps(device(&format!("m{i}"), "", "", "", "", s), json!([app("a", "App", "1")])))
        .collect();
    let out = run("intune-apps", &pages(&[page(records)]), &Options::new());
    let got: Vec<(String, String)> = signals(&out).into_iter().map(|r| (r.raw_id, r.observed_at)).collect();
    let want: Vec<(String, String)> = stamps.iter().enumerate().map(|(i, s)| (format!("m{i}:a"), s.to_string())).collect();
    assert_eq!(got, want);
}

#[test]
fn a_timestamp_without_offset_is_read_as_utc() {
    let d = with_apps(device("m1", "PC-1", "", "", "", "2026-11-20T08:15:42.1234567"), json!([app("a", "App", "1")]));
    let out = run("intune-apps", &pages(&[page(vec![d])]), &Options::new());
    assert_eq!(signals(&out), vec![inst("m1:a", "2026-11-20T08:15:42.1234567+00:00", "App", "", "", "", "PC-1")]);
}

#[test]
fn graph_never_date_and_missing_sync_fall_back_to_the_observed_at_option() {
    let recs = vec![
        with_apps(device("m1", "PC-1", "SER1", "", "", "0001-01-01T00:00:00Z"), json!([app("a", "App", "1")])),
        with_apps(json!({"id": "m2", "deviceName": "PC-2", "lastSyncDateTime": null}), json!([app("a", "App", "1")])),
        with_apps(json!({"id": "m3", "deviceName": "PC-3"}), json!([app("a", "App", "1")])),
    ];
    let files = pages(&[page(recs)]);
    let out = run("intune-apps", &files, &opts(&[("observed_at", "2026-11-22T05:00:00Z")]));
    assert_eq!(
        signals(&out),
        vec![
            inst("m1:a", "2026-11-22T05:00:00Z", "App", "", "SER1", "", "PC-1"),
            inst("m2:a", "2026-11-22T05:00:00Z", "App", "", "", "", "PC-2"),
            inst("m3:a", "2026-11-22T05:00:00Z", "App", "", "", "", "PC-3"),
        ]
    );
    // Without the option: a clear error naming the file, record and field.
    let e = run_err("intune-apps", &files, &Options::new());
    let msg = invalid_in(&e, "p0.json");
    assert_eq!(e.location().unwrap().line, Some(1));
    assert_eq!(e.location().unwrap().field.as_deref(), Some("lastSyncDateTime"));
    assert!(msg.contains("observed_at") && msg.contains("`m1`"), "{msg}");
}

#[test]
fn a_device_without_sync_but_without_apps_needs_no_option() {
    let recs = vec![with_apps(json!({"id": "m1", "deviceName": "PC-1", "serialNumber": "S1", "azureADDeviceId": "aad-1"}), json!([]))];
    let out = run("intune-apps", &pages(&[page(recs)]), &Options::new());
    assert!(out.signals.is_empty());
    assert_eq!(out.directory, vec![dev_entry("id:aad-1", "name:PC-1"), dev_entry("id:aad-1", "serial:S1")]);
}

// ---------------------------------------------------------------------------------------------
// identity: placeholders, null GUIDs, re-enrolment, hostnames, users

#[test]
fn placeholder_serials_never_merge_devices_and_are_never_emitted() {
    let serials = ["0", "To Be Filled By O.E.M.", "System Serial Number", "Default string", "0000000000", "XXXXXXXX", "  ", "0"];
    let recs: Vec<Value> = serials
        .iter()
        .enumerate()
        .map(|(i, s)| {
            with_apps(
                device(&format!("m{i}"), &format!("VM-{i}"), s, &format!("aad-{i}"), "", "2026-11-20T00:00:00Z"),
                json!([app("a", "App", "1")]),
            )
        })
        .collect();
    let out = run("intune-apps", &pages(&[page(recs)]), &Options::new());
    // Every device keeps its signal (none superseded), with no serial.
    let want: Vec<SignalRow> = (0..serials.len())
        .map(|i| inst(&format!("m{i}:a"), "2026-11-20T00:00:00Z", "App", "", "", &format!("aad-{i}"), &format!("VM-{i}")))
        .collect();
    assert_eq!(signals(&out), want);
    assert!(out.notes.is_empty(), "{:?}", out.notes);
    let want_dir: Vec<DirectoryEntry> = (0..serials.len()).map(|i| dev_entry(&format!("id:aad-{i}"), &format!("name:VM-{i}"))).collect();
    assert_eq!(out.directory, want_dir);
    assert!(out.directory.iter().all(|e| !e.alias.starts_with("serial:") && !e.canonical_id.starts_with("serial:")));
}

#[test]
fn all_zero_guids_are_never_a_device_id() {
    let recs = vec![
        with_apps(device("m1", "IPAD-1", "DMPX1", NULL_GUID, "", "2026-11-20T00:00:00Z"), json!([app("a", "App", "1")])),
        with_apps(device("m2", "IPAD-2", "DMPX2", NULL_GUID, "", "2026-11-20T00:00:00Z"), json!([app("a", "App", "1")])),
    ];
    let out = run("intune-apps", &pages(&[page(recs)]), &Options::new());
    assert_eq!(
        signals(&out),
        vec![
            inst("m1:a", "2026-11-20T00:00:00Z", "App", "", "DMPX1", "", "IPAD-1"),
            inst("m2:a", "2026-11-20T00:00:00Z", "App", "", "DMPX2", "", "IPAD-2"),
        ]
    );
    assert_eq!(out.directory, vec![dev_entry("serial:DMPX1", "name:IPAD-1"), dev_entry("serial:DMPX2", "name:IPAD-2")]);
}

#[test]
fn reenrolment_keeps_the_newest_record_and_its_apps_only() {
    // The old enrolment comes later in the files: order does not matter, the sync time does.
    let new = with_apps(
        device("m-new", "FIN-LT-007", "PF3ABC12", "aad-new", "bwong@x.com", "2026-11-21T07:30:00Z"),
        json!([app("acro", "Acrobat", "24")]),
    );
    let old = with_apps(
        device("m-old", "DESKTOP-OLD", " pf3 abc12 ", "aad-old", "cdiaz@x.com", "2026-06-30T16:20:00Z"),
        json!([app("acro", "Acrobat", "24"), app("acad", "AutoCAD", "25")]),
    );
    let mut first = page(vec![new]);
    first["@odata.nextLink"] = json!("https://graph.microsoft.com/v1.0/deviceManagement/managedDevices?$skiptoken=1");
    let files = pages(&[first, page(vec![old])]);
    let out = run("intune-apps", &files, &Options::new());
    assert_eq!(
        signals(&out),
        vec![inst("m-new:acro", "2026-11-21T07:30:00Z", "Acrobat", "bwong@x.com", "PF3ABC12", "aad-new", "FIN-LT-007")]
    );
    assert_eq!(out.directory, vec![dev_entry("id:aad-new", "name:FIN-LT-007"), dev_entry("id:aad-new", "serial:PF3ABC12")]);
    assert_eq!(
        notes(&out),
        vec![(
            1,
            "managed device `m-old` (serial `pf3 abc12`, last sync 2026-06-30T16:20:00Z) is an older enrolment of managed \
             device `m-new` (last sync 2026-11-21T07:30:00Z): its device id, name and apps are not used"
                .to_string()
        )]
    );

    // intune-devices: the same choice.
    let out = run("intune-devices", &files, &Options::new());
    assert_eq!(out.directory, vec![dev_entry("id:aad-new", "name:FIN-LT-007"), dev_entry("id:aad-new", "serial:PF3ABC12")]);
}

#[test]
fn reenrolment_ties_on_sync_are_broken_by_enrolment_then_id() {
    let mut a = device("m-a", "PC-A", "SER", "aad-a", "", "2026-11-21T00:00:00Z");
    let mut b = device("m-b", "PC-B", "SER", "aad-b", "", "2026-11-21T00:00:00Z");
    a["enrolledDateTime"] = json!("2026-10-01T00:00:00Z");
    b["enrolledDateTime"] = json!("2026-09-01T00:00:00Z");
    let out = run("intune-devices", &pages(&[page(vec![a.clone(), b.clone()])]), &Options::new());
    assert_eq!(out.directory, vec![dev_entry("id:aad-a", "name:PC-A"), dev_entry("id:aad-a", "serial:SER")]);
    b["enrolledDateTime"] = json!("2026-10-01T00:00:00Z");
    let out = run("intune-devices", &pages(&[page(vec![a, b])]), &Options::new());
    assert_eq!(out.directory, vec![dev_entry("id:aad-b", "name:PC-B"), dev_entry("id:aad-b", "serial:SER")]);
}

#[test]
fn fqdn_and_short_hostname_of_one_device_give_one_consistent_identity() {
    // The device is read per device (FQDN) and per app (short name, partial object).
    let per_device = page(vec![with_apps(
        device("m1", "FIN-LT-007.corp.contoso.com", "PF3ABC12", "aad-1", "bwong@x.com", "2026-11-21T07:30:00Z"),
        json!([app("acro", "Acrobat", "24")]),
    )]);
    let per_app = json!({"@odata.context": APPS_CTX, "value": [
        {"id": "tab", "displayName": "Tableau", "version": "", "managedDevices": [{"id": "m1", "deviceName": "fin-lt-007"}]}
    ]});
    let out = run("intune-apps", &pages(&[per_device, per_app]), &Options::new());
    assert_eq!(
        signals(&out),
        vec![
            inst("m1:acro", "2026-11-21T07:30:00Z", "Acrobat", "bwong@x.com", "PF3ABC12", "aad-1", "FIN-LT-007.corp.contoso.com"),
            inst("m1:tab", "2026-11-21T07:30:00Z", "Tableau", "bwong@x.com", "PF3ABC12", "aad-1", "FIN-LT-007.corp.contoso.com"),
        ]
    );
    assert_eq!(out.directory, vec![dev_entry("id:aad-1", "name:FIN-LT-007.corp.contoso.com"), dev_entry("id:aad-1", "serial:PF3ABC12")]);
}

#[test]
fn a_hostname_shared_by_two_devices_in_any_spelling_is_never_linked() {
    let recs = vec![
        with_apps(device("m1", "KIOSK-01.corp.contoso.com", "MXL1", "aad-1", "", "2026-11-20T00:00:00Z"), json!([app("e", "Edge", "131")])),
        with_apps(device("m2", "kiosk-01", "MXL2", "aad-2", "", "2026-11-20T00:00:00Z"), json!([app("e", "Edge", "131")])),
        with_apps(device("m3", "Kiosk-01.Fabrikam.local", "MXL3", "", "", "2026-11-20T00:00:00Z"), json!([])),
    ];
    let out = run("intune-apps", &pages(&[page(recs)]), &Options::new());
    // Signals keep the names as given; the core normalises them.
    assert_eq!(
        signals(&out),
        vec![
            inst("m1:e", "2026-11-20T00:00:00Z", "Edge", "", "MXL1", "aad-1", "KIOSK-01.corp.contoso.com"),
            inst("m2:e", "2026-11-20T00:00:00Z", "Edge", "", "MXL2", "aad-2", "kiosk-01"),
        ]
    );
    assert_eq!(out.directory, vec![dev_entry("id:aad-1", "serial:MXL1"), dev_entry("id:aad-2", "serial:MXL2")]);
    assert_eq!(
        notes(&out),
        vec![(0, "hostname `kiosk-01` is reported for 3 managed devices (`m1`, `m2`, `m3`): not linked to any of them".to_string())]
    );
}

#[test]
fn an_ip_address_as_device_name_is_not_linked() {
    let recs = vec![device("m1", "10.1.2.3", "SER1", "aad-1", "", "2026-11-20T00:00:00Z")];
    let out = run("intune-devices", &pages(&[page(recs)]), &Options::new());
    assert_eq!(out.directory, vec![dev_entry("id:aad-1", "serial:SER1")]);
}

#[test]
fn guest_ext_upns_pass_through_and_email_aliases_are_emitted_when_unambiguous() {
    let guest = "jane_fabrikam.com#EXT#@contoso.onmicrosoft.com";
    let mut d1 = device("m1", "IPHONE-JANE", "F2LX1", "", guest, "2026-11-20T00:00:00Z");
    d1["emailAddress"] = json!("jane@fabrikam.com");
    let mut d2 = device("m2", "PC-2", "S2", "", "asmith@contoso.com", "2026-11-20T00:00:00Z");
    d2["emailAddress"] = json!("Alice.Smith@contoso.com");
    // Same address claimed by two users: not linked.
    let mut d3 = device("m3", "PC-3", "S3", "", "frontdesk1@contoso.com", "2026-11-20T00:00:00Z");
    d3["emailAddress"] = json!("reception@contoso.com");
    let mut d4 = device("m4", "PC-4", "S4", "", "frontdesk2@contoso.com", "2026-11-20T00:00:00Z");
    d4["emailAddress"] = json!("Reception@contoso.com");
    // Several addresses in one field, and an address equal to the UPN: nothing.
    let mut d5 = device("m5", "PC-5", "S5", "", "bob@contoso.com", "2026-11-20T00:00:00Z");
    d5["emailAddress"] = json!("bob@contoso.com; robert@contoso.com");
    let mut d6 = device("m6", "PC-6", "S6", "", "carl@contoso.com", "2026-11-20T00:00:00Z");
    d6["emailAddress"] = json!("CARL@contoso.com");
    let recs: Vec<Value> = [d1, d2, d3, d4, d5, d6].into_iter().map(|d| with_apps(d, json!([app("a", "App", "1")]))).collect();
    let out = run("intune-apps", &pages(&[page(recs)]), &Options::new());
    assert_eq!(signals(&out)[0], inst("m1:a", "2026-11-20T00:00:00Z", "App", guest, "F2LX1", "", "IPHONE-JANE"));
    let users: Vec<DirectoryEntry> = out.directory.iter().filter(|e| e.principal_type == "user").cloned().collect();
    assert_eq!(users, vec![user_entry("asmith@contoso.com", "Alice.Smith@contoso.com"), user_entry(guest, "jane@fabrikam.com")]);
    assert_eq!(
        notes(&out),
        vec![(
            0,
            "e-mail `reception@contoso.com` is reported for several users (`frontdesk1@contoso.com`, `frontdesk2@contoso.com`): not linked"
                .to_string()
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// null sections, empty versions, duplicates

#[test]
fn null_sections_and_empty_versions() {
    let recs = vec![
        with_apps(device("m1", "PC-1", "S1", "", "", "2026-11-20T00:00:00Z"), Value::Null),
        json!({"id": "m2", "deviceName": "PC-2", "lastSyncDateTime": "2026-11-20T00:00:00Z"}), // no detectedApps key
        with_apps(
            device("m3", "PC-3", "S3", "", "", "2026-11-20T00:00:00Z"),
            json!([
                {"id": "v-empty", "displayName": "7-Zip", "version": ""},
                {"id": "v-null", "displayName": "Tableau", "version": null},
                {"id": "v-missing", "displayName": "Notepad++"}
            ]),
        ),
    ];
    let out = run("intune-apps", &pages(&[page(recs)]), &Options::new());
    assert_eq!(
        signals(&out),
        vec![
            inst("m3:v-empty", "2026-11-20T00:00:00Z", "7-Zip", "", "S3", "", "PC-3"),
            inst("m3:v-missing", "2026-11-20T00:00:00Z", "Notepad++", "", "S3", "", "PC-3"),
            inst("m3:v-null", "2026-11-20T00:00:00Z", "Tableau", "", "S3", "", "PC-3"),
        ]
    );
    assert!(out.rejected.is_empty());

    // Per app: managedDevices null (deviceCount 0) gives nothing.
    let per_app = json!({"@odata.context": APPS_CTX, "value": [
        {"id": "visio", "displayName": "Visio", "version": "16", "deviceCount": 0, "managedDevices": null},
        {"id": "acro", "displayName": "Acrobat", "version": "", "deviceCount": 1,
         "managedDevices": [{"id": "m9", "deviceName": "PC-9", "lastSyncDateTime": "2026-11-20T00:00:00Z"}]}
    ]});
    let out = run("intune-apps", &pages(&[per_app]), &Options::new());
    assert_eq!(signals(&out), vec![inst("m9:acro", "2026-11-20T00:00:00Z", "Acrobat", "", "", "", "PC-9")]);
    assert!(out.rejected.is_empty());
}

#[test]
fn a_device_or_installation_read_twice_is_one() {
    let old = with_apps(device("m1", "PC-1", "S1", "aad-1", "a@x.com", "2026-11-19T00:00:00Z"), json!([app("a", "App", "1")]));
    let new = with_apps(
        device("m1", "PC-1", "S1", "aad-1", "a@x.com", "2026-11-20T00:00:00Z"),
        json!([app("a", "App", "1"), app("b", "Other", "2")]),
    );
    // A page shifted during the export: the device appears on both pages.
    let out = run("intune-apps", &pages(&[page(vec![old]), page(vec![new])]), &Options::new());
    assert_eq!(
        signals(&out),
        vec![
            inst("m1:a", "2026-11-20T00:00:00Z", "App", "a@x.com", "S1", "aad-1", "PC-1"),
            inst("m1:b", "2026-11-20T00:00:00Z", "Other", "a@x.com", "S1", "aad-1", "PC-1"),
        ]
    );
    assert_eq!(out.signals[0].0.file, 0, "first place the installation was read");
    assert_eq!(out.signals[1].0.file, 1);

    // Per app, the device is listed under the app twice (two pages).
    let p = |app: &str| {
        json!({"@odata.context": APPS_CTX, "value": [
            {"id": app, "displayName": "Acrobat", "managedDevices": [
                {"id": "m1", "deviceName": "PC-1", "serialNumber": "S1", "lastSyncDateTime": "2026-11-20T00:00:00Z"}]}]})
    };
    let out = run("intune-apps", &pages(&[p("acro"), p("acro")]), &Options::new());
    assert_eq!(signals(&out), vec![inst("m1:acro", "2026-11-20T00:00:00Z", "Acrobat", "", "S1", "", "PC-1")]);
}

#[test]
fn partial_device_objects_are_completed_from_other_records_of_the_same_device() {
    let per_app = json!({"@odata.context": APPS_CTX, "value": [
        {"id": "acro", "displayName": "Acrobat", "managedDevices": [{"id": "m1", "deviceName": "PC-1"}]},
        {"id": "visio", "displayName": "Visio", "managedDevices": [
            {"id": "m1", "deviceName": "PC-1", "serialNumber": "S1", "azureADDeviceId": "aad-1",
             "userPrincipalName": "a@x.com", "lastSyncDateTime": "2026-11-20T00:00:00Z"}]}
    ]});
    let out = run("intune-apps", &pages(&[per_app]), &Options::new());
    assert_eq!(
        signals(&out),
        vec![
            inst("m1:acro", "2026-11-20T00:00:00Z", "Acrobat", "a@x.com", "S1", "aad-1", "PC-1"),
            inst("m1:visio", "2026-11-20T00:00:00Z", "Visio", "a@x.com", "S1", "aad-1", "PC-1"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// rejected records

#[test]
fn records_that_fail_alone_are_rejected_with_their_position() {
    let recs = vec![
        with_apps(json!({"deviceName": "NO-ID", "lastSyncDateTime": "2026-11-20T00:00:00Z"}), json!([app("a", "App", "1")])),
        with_apps(device("m2", "PC-2", "S2", "", "", "yesterday"), json!([app("a", "App", "1")])),
        with_apps(
            device("m3", "PC-3", "S3", "", "", "2026-11-20T00:00:00Z"),
            json!([
                {"displayName": "No id"},
                {"id": "blank", "displayName": "   "},
                {"id": "ok", "displayName": "Good"},
                "not an object",
                {"id": "typed", "displayName": {"en": "x"}}
            ]),
        ),
        json!({"id": "m4", "deviceName": "PC-4", "serialNumber": {"value": "S4"}, "detectedApps": []}),
        json!(42),
        json!({"id": "m6", "deviceName": "PC-6", "lastSyncDateTime": "2026-11-20T00:00:00Z", "detectedApps": "none"}),
    ];
    let out = run("intune-apps", &pages(&[page(recs)]), &Options::new());
    assert_eq!(signals(&out), vec![inst("m3:ok", "2026-11-20T00:00:00Z", "Good", "", "S3", "", "PC-3")]);
    assert_eq!(
        rejections(&out),
        vec![
            (0, 1, "id".to_string(), "missing_id"),
            (0, 2, "lastSyncDateTime".to_string(), "malformed_instant"),
            (0, 3, "detectedApps[0].id".to_string(), "missing_id"),
            (0, 3, "detectedApps[1].displayName".to_string(), "missing_product"),
            (0, 3, "detectedApps[3]".to_string(), "wrong_type"),
            (0, 3, "detectedApps[4].displayName".to_string(), "wrong_type"),
            (0, 4, "serialNumber".to_string(), "wrong_type"),
            (0, 5, "value".to_string(), "wrong_type"),
            (0, 6, "detectedApps".to_string(), "wrong_type"),
        ]
    );
    assert_eq!(out.records, vec![6]);

    // Per app: the nested device's position is in the column.
    let per_app = json!({"@odata.context": APPS_CTX, "value": [
        {"id": "acro", "displayName": "Acrobat", "managedDevices": [
            {"deviceName": "NO-ID"},
            {"id": "m1", "deviceName": "PC-1", "lastSyncDateTime": "2026-13-01T00:00:00Z"},
            {"id": "m2", "deviceName": "PC-2", "lastSyncDateTime": "2026-11-20T00:00:00Z"}]},
        {"id": "", "displayName": "No id", "managedDevices": []},
        {"id": "x", "displayName": "X", "managedDevices": {"id": "m2"}}
    ]});
    let out = run("intune-apps", &pages(&[per_app]), &Options::new());
    assert_eq!(signals(&out), vec![inst("m2:acro", "2026-11-20T00:00:00Z", "Acrobat", "", "", "", "PC-2")]);
    assert_eq!(
        rejections(&out),
        vec![
            (0, 1, "managedDevices[0].id".to_string(), "missing_id"),
            (0, 1, "managedDevices[1].lastSyncDateTime".to_string(), "malformed_instant"),
            (0, 2, "id".to_string(), "missing_id"),
            (0, 3, "managedDevices".to_string(), "wrong_type"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// bad input: the whole folder fails, nothing partial

#[test]
fn a_truncated_page_fails_with_file_and_line() {
    let good = fixture("intune-apps/page-1.json");
    let full = fixture("intune-apps/page-2.json");
    let cut = full[..full.len() / 2].to_vec();
    let files = vec![
        InputFile { path: "imports/intune-apps/page-1.json".into(), bytes: good },
        InputFile { path: "imports/intune-apps/page-2.json".into(), bytes: cut },
    ];
    let e = run_err("intune-apps", &files, &fixture_options("intune-apps"));
    let msg = invalid_in(&e, "imports/intune-apps/page-2.json");
    assert!(msg.contains("malformed JSON"), "{msg}");
    assert!(e.location().unwrap().line.is_some_and(|l| l > 1));

    let cut = fixture("intune-devices/page-1.json")[..300].to_vec();
    let e = run_err("intune-devices", &[InputFile { path: "p.json".into(), bytes: cut }], &Options::new());
    invalid_in(&e, "p.json");
}

#[test]
fn a_page_of_another_endpoint_is_the_wrong_header() {
    let users = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": [
        {"id": "u1", "userPrincipalName": "a@x.com", "signInActivity": null}]});
    let e = run_err("intune-devices", &pages(std::slice::from_ref(&users)), &Options::new());
    assert_eq!(invalid_in(&e, "p0.json"), "`@odata.context` names `users`, not managedDevices");
    let e = run_err("intune-apps", &pages(std::slice::from_ref(&users)), &Options::new());
    assert_eq!(invalid_in(&e, "p0.json"), "`@odata.context` names `users`, not managedDevices or detectedApps");

    // Without @odata.context, recognised by content.
    let bare = json!({"value": [{"id": "u1", "userPrincipalName": "a@x.com", "displayName": "A"}]});
    let e = run_err("intune-devices", &pages(std::slice::from_ref(&bare)), &Options::new());
    assert!(invalid_in(&e, "p0.json").starts_with("no record is a managedDevice"), "{e}");
    let e = run_err("intune-apps", &pages(&[bare]), &Options::new());
    assert!(invalid_in(&e, "p0.json").starts_with("no record carries `detectedApps` or `managedDevices`"), "{e}");

    // Detected apps given to intune-devices.
    let apps = json!({"value": [{"id": "a", "displayName": "Acrobat", "managedDevices": []}]});
    let e = run_err("intune-devices", &pages(&[apps]), &Options::new());
    assert!(invalid_in(&e, "p0.json").ends_with("(detected apps with managedDevices belong to intune-apps)"), "{e}");

    // A managedDevices list without $expand given to intune-apps: it has no installations.
    let devices = fixture("intune-devices/page-1.json");
    let e = run_err("intune-apps", &[InputFile { path: "d.json".into(), bytes: devices }], &Options::new());
    assert!(invalid_in(&e, "d.json").contains("$expand=detectedApps"), "{e}");

    // Both shapes in one page.
    let mixed = json!({"value": [{"id": "m1", "detectedApps": []}, {"id": "a1", "displayName": "A", "managedDevices": []}]});
    let e = run_err("intune-apps", &pages(&[mixed]), &Options::new());
    assert!(invalid_in(&e, "p0.json").starts_with("the page mixes"), "{e}");
}

#[test]
fn other_non_exports_fail_the_file() {
    let cases: Vec<(Value, &str)> = vec![
        (json!([{"id": "m1"}]), "expected a Microsoft Graph response object (a page with `value`, or one entity), found an array"),
        (json!({"error": {"code": "Forbidden", "message": "token abc.def is not allowed"}}), "the file is a Graph error response (code `Forbidden`), not an intune-devices export"),
        (json!({"value": {"id": "m1"}}), "`value` is an object, not an array"),
        (json!({"value": [], "@odata.nextLink": 5}), "`@odata.nextLink` is not a string"),
        (json!({}), "no record is a managedDevice (none has deviceName, serialNumber, azureADDeviceId, lastSyncDateTime, enrolledDateTime, managedDeviceOwnerType, operatingSystem, detectedApps)"),
    ];
    for (doc, want) in cases {
        let e = run_err("intune-devices", &pages(&[doc]), &Options::new());
        assert_eq!(invalid_in(&e, "p0.json"), want);
        assert!(!e.to_string().contains("abc.def"), "the error echoes the response message: {e}");
    }
    // An empty last page is fine.
    let out = run("intune-devices", &pages(&[json!({"@odata.context": DEVICES_CTX, "value": []})]), &Options::new());
    assert!(out.directory.is_empty() && out.notes.is_empty());
    let out = run("intune-apps", &pages(&[json!({"value": []})]), &Options::new());
    assert!(out.signals.is_empty());
}

#[test]
fn a_file_that_is_neither_utf8_nor_utf16_fails() {
    let mut bytes = br#"{"value": [{"id": "m1", "deviceName": "PC-"#.to_vec();
    bytes.extend_from_slice(b"\xC3\x28\"}]}");
    for adapter in ["intune-devices", "intune-apps"] {
        let e = run_err(adapter, &[InputFile { path: "bad.json".into(), bytes: bytes.clone() }], &Options::new());
        let msg = invalid_in(&e, "bad.json");
        assert!(msg.contains("not valid UTF-8 at byte"), "{msg}");
    }
}

#[test]
fn utf16_and_bom_pages_read_like_utf8() {
    let text = String::from_utf8(fixture("intune-apps/page-1.json")).unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    let o = fixture_options("intune-apps");
    let plain = run("intune-apps", &[InputFile { path: "p.json".into(), bytes: text.into_bytes() }], &o);
    let a = run("intune-apps", &[InputFile { path: "p.json".into(), bytes: utf16 }], &o);
    let b = run("intune-apps", &[InputFile { path: "p.json".into(), bytes: bom }], &o);
    assert_eq!(signals(&plain).len(), 6);
    assert_eq!(signals(&a), signals(&plain));
    assert_eq!(signals(&b), signals(&plain));
    assert_eq!(a.directory, plain.directory);
}

#[test]
fn unknown_or_malformed_options_fail() {
    let files = pages(&[page(vec![])]);
    let e = run_err("intune-devices", &files, &opts(&[("observed_at", "2026-11-22T05:00:00Z")]));
    assert_eq!(e.code().name(), "invalid_input");
    assert_eq!(e.message(), "adapter `intune-devices` has no option `observed_at` (options: none)");
    let e = run_err("intune-apps", &files, &opts(&[("utc_offset", "+01:00")]));
    assert_eq!(e.message(), "adapter `intune-apps` has no option `utc_offset` (options: observed_at)");
    for bad in ["yesterday", "2026-11-22T05:00:00", "2026-11-22"] {
        let e = run_err("intune-apps", &files, &opts(&[("observed_at", bad)]));
        assert_eq!(e.code().name(), "invalid_input");
        // The option is named, its value never echoed (issue 10, defect 7).
        assert_eq!(e.message(), "option `observed_at` must be an RFC 3339 instant with offset (the value is not shown)");
        assert!(!e.to_string().contains(bad));
    }
}

// ---------------------------------------------------------------------------------------------
// end to end

fn e2e_bundle() -> Bundle {
    let mut b = Bundle::new()
        .param("expected_sources", json!(["intune", "sccm"]))
        .param("adapter_options", json!({"intune-apps": {"observed_at": "2026-11-22T05:00:00Z"}}))
        .sku("acrobat", "device")
        .entitle("acrobat", 10)
        .sku("visio", "device")
        .entitle("visio", 5)
        .rule(
            &["sku_mappings"],
            json!([
                {"match": "prefix", "field": "product", "value": "Adobe Acrobat", "sku": "acrobat"},
                {"match": "prefix", "field": "product", "value": "microsoft visio", "sku": "visio"}
            ]),
        )
        // Only the directory facts may bind a hostname-only signal to a device.
        .rule(&["identity", "hostname_fallback"], json!(false))
        // SCCM knows the re-enrolled laptop by its short hostname only.
        .signal(&[
            ("source", "sccm"),
            ("raw_id", "s1"),
            ("observed_at", "2026-11-21T00:00:00Z"),
            ("product", "Adobe Acrobat Pro"),
            ("kind", "installation"),
            ("device_name", "fin-lt-007"),
        ]);
    for n in ["device-3f1c2a9e-7b41-4d2a-9c55-0a1b2c3d4e09.json", "page-1.json", "page-2.json"] {
        b = b.file(&format!("imports/intune-apps/{n}"), &fixture(&format!("intune-apps/{n}")));
    }
    for n in ["page-1.json", "page-2.json"] {
        b = b.file(&format!("imports/intune-devices/{n}"), &fixture(&format!("intune-devices/{n}")));
    }
    b
}

#[test]
fn end_to_end_reconciliation_over_imports_folders() {
    let out = e2e_bundle().run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.status, RunStatus::Ok, "{}", out.report.to_json());
    let snap = out.snapshot.as_ref().unwrap();
    // Acrobat: LAPTOP-0142, FIN-LT-007 (also seen by SCCM by hostname: the
    // intune-devices name fact binds it), MKT-WS-031. The old enrolment of
    // FIN-LT-007 (DESKTOP-7QH2K) is not counted.
    assert_eq!(snap.sku_json("acrobat").unwrap()["consumed"], 3);
    // Visio: LAPTOP-0142 and VDI-POOL-01 (placeholder serial, Entra id).
    assert_eq!(snap.sku_json("visio").unwrap()["consumed"], 2);

    let all = snap.value()["imports"].as_array().unwrap();
    let imports: Vec<&Value> =
        all.iter().filter(|j| ["imports/", "signals/"].iter().any(|p| j["path"].as_str().unwrap().starts_with(p))).collect();
    let got: Vec<(String, String, String, u64, u64, u64)> = imports
        .iter()
        .map(|j| {
            (
                j["path"].as_str().unwrap().to_string(),
                j["adapter"].as_str().unwrap().to_string(),
                j["adapter_version"].as_str().unwrap().to_string(),
                j["rows_total"].as_u64().unwrap(),
                j["rows_accepted"].as_u64().unwrap(),
                j["rows_rejected"].as_u64().unwrap(),
            )
        })
        .collect();
    let row = |p: &str, a: &str, v: &str, n: u64| (p.to_string(), a.to_string(), v.to_string(), n, n, 0);
    let canonical = imports.iter().find(|j| j["path"] == "signals/s.csv").unwrap()["adapter_version"].as_str().unwrap().to_string();
    assert_eq!(
        got,
        vec![
            row("imports/intune-apps/device-3f1c2a9e-7b41-4d2a-9c55-0a1b2c3d4e09.json", "intune-apps", "1.0.0", 2),
            row("imports/intune-apps/page-1.json", "intune-apps", "1.0.0", 6),
            row("imports/intune-apps/page-2.json", "intune-apps", "1.0.0", 2),
            // Identity-only files count the records read (their reject threshold's denominator).
            ("imports/intune-devices/page-1.json".to_string(), "intune-devices".to_string(), "1.0.0".to_string(), 4, 0, 0),
            ("imports/intune-devices/page-2.json".to_string(), "intune-devices".to_string(), "1.0.0".to_string(), 6, 0, 0),
            (
                "signals/s.csv".to_string(),
                imports.iter().find(|j| j["path"] == "signals/s.csv").unwrap()["adapter"].as_str().unwrap().to_string(),
                canonical,
                1,
                1,
                0
            ),
        ]
    );
    for j in imports.iter().filter(|j| j["path"].as_str().unwrap().starts_with("imports/")) {
        assert_eq!(j["source"], "intune", "{j}");
    }
    // The notes reach the run report as import warnings.
    let report_json = out.report.to_json();
    let jobs = report_json["imports"].as_array().unwrap();
    let p2 = jobs.iter().find(|j| j["path"] == "imports/intune-apps/page-2.json").unwrap();
    assert!(p2.to_string().contains("is an older enrolment of managed device"), "{p2}");
}

#[test]
fn end_to_end_without_the_device_facts_the_hostname_signal_stands_alone() {
    // Remove intune-devices: FIN-LT-007 (SCCM, hostname only) is now a device of its own
    // (hostname fallback off), while intune-apps still states the name fact for its devices.
    let mut b = e2e_bundle();
    b.extra.retain(|(p, _)| !p.starts_with("imports/intune-devices/"));
    assert_eq!(b.consumed("acrobat"), 3, "intune-apps emits the same identity facts");
    let mut b = e2e_bundle();
    b.extra.retain(|(p, _)| !p.starts_with("imports/"));
    assert_eq!(b.consumed("acrobat"), 1);
    // The old enrolment's name is not linked: SCCM's DESKTOP-7QH2K is a device of its own.
    let b = e2e_bundle().signal(&[
        ("source", "sccm"),
        ("raw_id", "s2"),
        ("observed_at", "2026-11-21T00:00:00Z"),
        ("product", "Adobe Acrobat Pro"),
        ("kind", "installation"),
        ("device_name", "DESKTOP-7QH2K.corp.contoso.com"),
    ]);
    assert_eq!(b.consumed("acrobat"), 4);
}

#[test]
fn end_to_end_a_bad_page_fails_the_run_with_nothing_partial() {
    let full = fixture("intune-apps/page-2.json");
    let b = e2e_bundle().file("imports/intune-apps/page-3.json", &full[..full.len() - 10]);
    let out = b.run();
    assert_eq!(out.status, RunStatus::Failed);
    assert!(out.snapshot.is_none());
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert_eq!(out.errors[0].code().name(), "invalid_input");
    assert_eq!(out.errors[0].location().unwrap().file, "imports/intune-apps/page-3.json");

    // Without observed_at for the device that never synced: also invalid_input, located.
    let out = e2e_bundle().param("adapter_options", json!({})).run();
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(out.errors[0].code().name(), "invalid_input");
    let loc = out.errors[0].location().unwrap();
    assert_eq!((loc.file.as_str(), loc.line, loc.field.as_deref()), ("imports/intune-apps/page-2.json", Some(4), Some("lastSyncDateTime")));
}
