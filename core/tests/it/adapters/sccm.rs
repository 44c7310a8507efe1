//! The Configuration Manager adapters (`sccm-installed`, `sccm-metering`):
//! every SCCM export quirk of the issue (literal `NULL`, duplicate rows,
//! several date formats, UTF-16 LE and UTF-8 with BOM, quoted commas),
//! obsolete/inactive systems, placeholder serials and all-zero GUIDs, joins by
//! ResourceID and by machine name, the fixtures against their expected
//! signals, bad input, and end-to-end runs through `reconcile`.

use super::{fixture_dir, notes, opts, rejects as rejected, signals};
use crate::common::*;
use eucora_license_core::internal::adapters::{self, AdapterOutput, DirectoryEntry, InputFile, SignalRow};
use eucora_license_core::{Error, ErrorCode, Outcome};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// helpers

const SYS_HEADER: &str =
    "ResourceID,Name0,Netbios_Name0,Resource_Domain_OR_Workgr0,User_Name0,User_Domain0,Obsolete0,Active0,Client0,AADDeviceID,SerialNumber0";
const ARP_HEADER: &str = "ResourceID,GroupID,RevisionID,AgentID,TimeStamp,ProdID0,DisplayName0,InstallDate0,Publisher0,Version0";
const GUID: &str = "6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b";
const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// `header` + `rows`, CRLF line ends as SSMS writes them.
fn csv(header: &str, rows: &[&str]) -> String {
    let mut s = String::from(header);
    s.push_str("\r\n");
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    s
}

fn utf8_bom(s: &str) -> Vec<u8> {
    let mut v = b"\xEF\xBB\xBF".to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

fn utf16le(s: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

fn utf16be(s: &str) -> Vec<u8> {
    let mut v = vec![0xFE, 0xFF];
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_be_bytes());
    }
    v
}

/// Run adapter `name` over (path, bytes) files (sorted by path, as the core does).
fn run(name: &str, files: &[(&str, Vec<u8>)], options: &[(&str, &str)]) -> Result<AdapterOutput, Error> {
    let mut inputs: Vec<InputFile> = files.iter().map(|(p, b)| InputFile { path: p.to_string(), bytes: b.clone() }).collect();
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    adapters::run(name, &inputs, &opts(options)).map(|(_, out)| out)
}

fn installed(files: &[(&str, Vec<u8>)], options: &[(&str, &str)]) -> AdapterOutput {
    run("sccm-installed", files, options).unwrap_or_else(|e| panic!("sccm-installed failed: {e}"))
}

fn metering(files: &[(&str, Vec<u8>)], options: &[(&str, &str)]) -> AdapterOutput {
    run("sccm-metering", files, options).unwrap_or_else(|e| panic!("sccm-metering failed: {e}"))
}

/// An `installation` signal of source `sccm`.
fn inst(raw_id: &str, at: &str, product: &str, user: &str, serial: &str, id: &str, name: &str) -> SignalRow {
    SignalRow {
        source: "sccm".into(),
        raw_id: raw_id.into(),
        observed_at: at.into(),
        product: product.into(),
        kind: "installation".into(),
        user: user.into(),
        device_serial: serial.into(),
        device_id: id.into(),
        device_name: name.into(),
        ..Default::default()
    }
}

/// A `usage` signal of source `sccm` (`last_used_at` = `observed_at`).
fn used(raw_id: &str, at: &str, product: &str, user: &str, name: &str) -> SignalRow {
    SignalRow {
        source: "sccm".into(),
        raw_id: raw_id.into(),
        observed_at: at.into(),
        product: product.into(),
        kind: "usage".into(),
        user: user.into(),
        device_name: name.into(),
        last_used_at: at.into(),
        ..Default::default()
    }
}

fn dev(canonical: &str, alias: &str) -> DirectoryEntry {
    DirectoryEntry { principal_type: "device".into(), canonical_id: canonical.into(), alias: alias.into(), ..Default::default() }
}

fn assert_invalid_input(e: &Error, file: &str, line: Option<u64>) {
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    let loc = e.location().unwrap_or_else(|| panic!("no location: {e}"));
    assert_eq!(loc.file, file, "{e}");
    if line.is_some() {
        assert_eq!(loc.line, line, "{e}");
    }
}

/// One current system LT-0042 (ResourceID 16777220) with serial, Entra id and user.
fn one_system() -> String {
    csv(SYS_HEADER, &[&format!("16777220,LT-0042,LT-0042,CONTOSO,jdoe,CONTOSO,0,1,1,{GUID},5CG1234XYZ")])
}

/// The fixture's input files as (path under `input/`, bytes), sorted.
fn fixture_inputs(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fixture_dir(name).join("input");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn fixture_options(name: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_slice(&std::fs::read(fixture_dir(name).join("options.json")).unwrap()).unwrap();
    v.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()
}

fn fixture_lines(name: &str, file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixture_dir(name).join(file)).unwrap_or_default();
    text.lines().map(str::to_string).collect()
}

fn run_fixture(name: &str) -> AdapterOutput {
    let files = fixture_inputs(name);
    let files: Vec<(String, Vec<u8>)> = files.into_iter().map(|(p, b)| (format!("input/{p}"), b)).collect();
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, b)| (p.as_str(), b.clone())).collect();
    let o = fixture_options(name);
    let o: Vec<(&str, &str)> = o.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run(name, &files, &o).unwrap_or_else(|e| panic!("{name} failed on its fixture: {e}"))
}

fn canonical_line<T: serde::Serialize>(v: &T) -> String {
    String::from_utf8(eucora_license_core::internal::canonical::to_vec_of(v).unwrap()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// fixtures

#[test]
fn installed_fixture_matches_expected_jsonl() {
    let out = run_fixture("sccm-installed");
    let got: Vec<String> = out.signals.iter().map(|(_, r)| canonical_line(r)).collect();
    assert_eq!(got, fixture_lines("sccm-installed", "expected.jsonl"));
    let dir: Vec<String> = out.directory.iter().map(canonical_line).collect();
    assert_eq!(dir, fixture_lines("sccm-installed", "expected-directory.jsonl"));
    // Files: software_by_name, v_Add_Remove_Programs, v_GS_INSTALLED_SOFTWARE, v_R_System.
    assert_eq!(out.records, vec![2, 7, 4, 7]);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(
        notes(&out),
        vec![
            (1, "excluded: 2 rows of obsolete or inactive systems (Obsolete0 = 1 or Active0 = 0): ResourceID 16777199, 16777224".to_string()),
            (1, "skipped: 1 row without a product name".to_string()),
            (1, "collapsed: 2 rows with the raw id of another (same ResourceID, product and version); the newest kept".to_string()),
            (2, "collapsed: 1 row with the raw id of another (same ResourceID, product and version); the newest kept".to_string()),
            (3, "collapsed: 1 row identical to an earlier system row".to_string()),
            (
                3,
                "excluded: 2 systems obsolete or inactive (Obsolete0 = 1 or Active0 = 0), no signals or identity facts from them: ResourceID 16777199, 16777224"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn metering_fixture_matches_expected_jsonl() {
    let out = run_fixture("sccm-metering");
    let got: Vec<String> = out.signals.iter().map(|(_, r)| canonical_line(r)).collect();
    assert_eq!(got, fixture_lines("sccm-metering", "expected.jsonl"));
    assert!(out.directory.is_empty());
    assert_eq!(out.records, vec![2, 7]);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(
        notes(&out),
        vec![
            (1, "skipped: 1 row with UsageCount 0 (no use in the month)".to_string()),
            (1, "collapsed: 2 rows with the raw id of another (same ResourceID, month, user and product); the newest kept".to_string()),
        ]
    );
}

#[test]
fn expected_jsonl_rows_are_canonical_signal_rows() {
    // Every expected line carries exactly the 16 A1 fields.
    for name in ["sccm-installed", "sccm-metering"] {
        for line in fixture_lines(name, "expected.jsonl") {
            let v: Value = serde_json::from_str(&line).unwrap();
            let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            let mut want: Vec<&str> = SIGNAL_HEADER.split(',').collect();
            want.sort();
            assert_eq!(keys, want);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// sccm-installed: encodings, NULL, dates, duplicates, quoting

#[test]
fn utf16_le_utf16_be_utf8_bom_and_plain_utf8_read_alike() {
    let sys = one_system();
    let arp = csv(ARP_HEADER, &["16777220,40,7,1,2026-11-20 14:03:11.000,{AC76BA86},Adobe Acrobat (64-bit),20240110,Adobe,23.008.20470"]);
    let want = vec![inst(
        "16777220:Adobe Acrobat (64-bit):23.008.20470",
        "2026-11-20T14:03:11Z",
        "Adobe Acrobat (64-bit)",
        "CONTOSO\\jdoe",
        "5CG1234XYZ",
        GUID,
        "LT-0042",
    )];
    let want_dir = vec![dev("serial:5CG1234XYZ", &format!("id:{GUID}")), dev("serial:5CG1234XYZ", "name:LT-0042")];
    for enc in [utf16le as fn(&str) -> Vec<u8>, utf16be, utf8_bom, |s: &str| s.as_bytes().to_vec()] {
        let out = installed(&[("sys.csv", enc(&sys)), ("arp.csv", enc(&arp))], &[]);
        assert_eq!(signals(&out), want);
        assert_eq!(out.directory, want_dir);
        assert_eq!(out.signals[0].0.line, 2);
    }
}

#[test]
fn literal_null_reads_as_empty() {
    let sys = csv(
        SYS_HEADER,
        &[
            "16777222,WS-0100,WS-0100,CONTOSO,NULL,NULL,0,1,1,NULL,NULL",
            "16777223,NULL,WS-0101,NULL,jdoe,NULL,NULL,NULL,NULL,NULL,PF3ABCDE",
        ],
    );
    let arp = csv(
        ARP_HEADER,
        &[
            "16777222,1,1,1,NULL,KB1,Notepad++ (64-bit x64),NULL,NULL,NULL",
            "16777223,1,1,1,2026-11-20 10:00:00.000,P,Google Chrome,NULL,Google LLC,119.0",
        ],
    );
    let out = installed(&[("a.csv", arp.into_bytes()), ("s.csv", sys.into_bytes())], &[("observed_at", "2026-11-21T06:00:00Z")]);
    assert_eq!(
        signals(&out),
        vec![
            // NULL TimeStamp: the export's instant; NULL version: empty; no user, serial or id.
            inst("16777222:Notepad++ (64-bit x64):", "2026-11-21T06:00:00Z", "Notepad++ (64-bit x64)", "", "", "", "WS-0100"),
            // NULL Name0 falls back to Netbios_Name0; NULL domain leaves the bare user name;
            // NULL Obsolete0/Active0 are not exclusions.
            inst("16777223:Google Chrome:119.0", "2026-11-20T10:00:00Z", "Google Chrome", "jdoe", "PF3ABCDE", "", "WS-0101"),
        ]
    );
    assert_eq!(out.directory, vec![dev("serial:PF3ABCDE", "name:WS-0101")]);
}

#[test]
fn sql_datetime_formats_and_utc_offset() {
    let sys = one_system();
    let arp = csv(
        ARP_HEADER,
        &[
            "16777220,1,1,1,2026-11-20 14:03:11.000,P,A,,,1",
            "16777220,1,1,1,2026-11-20T14:03:11,P,B,,,1",
            "16777220,1,1,1,11/20/2026 2:03:11 PM,P,C,,,1",
            "16777220,1,1,1,2026-11-20 14:03:11.1234567,P,D,,,1",
            "16777220,1,1,1,2026-11-20T14:03:11Z,P,E,,,1",
            "16777220,1,1,1,2026-11-20T15:03:11+01:00,P,F,,,1",
            "16777220,1,1,1,1/2/2026 12:05:00 AM,P,G,,,1",
            "16777220,1,1,1,20/11/2026 14:03:11,P,H,,,1",
            "16777220,1,1,1,2026-02-30 10:00:00.000,P,I,,,1",
            "16777220,1,1,1,2026-11-20 14:03:60,P,J,,,1",
        ],
    );
    let files = [("arp.csv", arp.into_bytes()), ("sys.csv", sys.into_bytes())];
    let at = |out: &AdapterOutput| -> Vec<(String, String)> {
        out.signals.iter().map(|(_, r)| (r.product.clone(), r.observed_at.clone())).collect()
    };
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    let utc = installed(&files, &[]);
    assert_eq!(
        at(&utc),
        vec![
            s("A", "2026-11-20T14:03:11Z"),
            s("B", "2026-11-20T14:03:11Z"),
            s("C", "2026-11-20T14:03:11Z"),
            s("D", "2026-11-20T14:03:11.1234567Z"),
            s("E", "2026-11-20T14:03:11Z"),
            s("F", "2026-11-20T14:03:11Z"),
            s("G", "2026-01-02T00:05:00Z"),
        ]
    );
    // Day-first dates, impossible dates and leap seconds are rejected alone, with their line.
    let bad = vec![
        (0, 9, "TimeStamp".to_string(), "malformed_instant"),
        (0, 10, "TimeStamp".to_string(), "malformed_instant"),
        (0, 11, "TimeStamp".to_string(), "malformed_instant"),
    ];
    assert_eq!(rejected(&utc), bad);
    // SQL datetimes without offset are read at utc_offset; explicit offsets are kept.
    let paris = installed(&files, &[("utc_offset", "+01:00")]);
    assert_eq!(
        at(&paris),
        vec![
            s("A", "2026-11-20T13:03:11Z"),
            s("B", "2026-11-20T13:03:11Z"),
            s("C", "2026-11-20T13:03:11Z"),
            s("D", "2026-11-20T13:03:11.1234567Z"),
            s("E", "2026-11-20T14:03:11Z"),
            s("F", "2026-11-20T14:03:11Z"),
            s("G", "2026-01-01T23:05:00Z"),
        ]
    );
    assert_eq!(rejected(&paris), bad);
}

#[test]
fn duplicate_rows_collapse_and_the_newest_timestamp_wins() {
    let sys = one_system();
    // Exact duplicates (SSMS repeats rows), and the 32- and 64-bit uninstall
    // keys listing the same product and version at different inventory times.
    let arp = csv(
        ARP_HEADER,
        &[
            "16777220,40,7,1,2026-11-18 09:12:44.000,P,Adobe Acrobat (64-bit),20240110,Adobe,23.008.20470",
            "16777220,40,7,1,2026-11-18 09:12:44.000,P,Adobe Acrobat (64-bit),20240110,Adobe,23.008.20470",
            "16777220,41,7,1,2026-11-20 14:03:11.000,P,Adobe Acrobat (64-bit),20240110,Adobe,23.008.20470",
            "16777220,42,7,1,2026-11-19 00:00:00.000,P,Adobe Acrobat (64-bit),20240110,Adobe,23.008.20470",
        ],
    );
    // The same product in v_GS_INSTALLED_SOFTWARE, older: collapses across files.
    let gs = csv(
        "ResourceID,TimeStamp,ProductName0,ProductVersion0,Publisher0",
        &["16777220,2026-11-17 08:00:00.000,Adobe Acrobat (64-bit),23.008.20470,Adobe"],
    );
    let out = installed(&[("arp.csv", arp.into_bytes()), ("gs.csv", gs.into_bytes()), ("sys.csv", sys.into_bytes())], &[]);
    assert_eq!(
        signals(&out),
        vec![inst(
            "16777220:Adobe Acrobat (64-bit):23.008.20470",
            "2026-11-20T14:03:11Z",
            "Adobe Acrobat (64-bit)",
            "CONTOSO\\jdoe",
            "5CG1234XYZ",
            GUID,
            "LT-0042"
        )]
    );
    assert_eq!(out.signals[0].0.line, 4, "the kept row's origin");
    assert_eq!(out.records, vec![4, 1, 1]);
    assert_eq!(
        notes(&out),
        vec![
            (0, "collapsed: 3 rows with the raw id of another (same ResourceID, product and version); the newest kept".to_string()),
            (1, "collapsed: 1 row with the raw id of another (same ResourceID, product and version); the newest kept".to_string()),
        ]
    );
}

#[test]
fn quoted_commas_quotes_and_line_breaks_keep_fields_and_line_numbers() {
    let sys = one_system();
    let arp = csv(
        ARP_HEADER,
        &[
            "16777220,1,1,1,2026-11-20 10:00:00.000,P,\"Microsoft Visio Professional 2021 - en-us, de-de\",,\"Microsoft, Corp.\",16.0.1",
            "16777220,1,1,1,2026-11-20 10:00:00.000,P,\"The \"\"Best\"\" Tool\",,\"Multi\nline publisher\",2.0",
            "16777220,1,1,1,not a date,P,Broken,,,1",
        ],
    );
    let out = installed(&[("arp.csv", arp.into_bytes()), ("sys.csv", sys.into_bytes())], &[]);
    let products: Vec<(String, String)> = out.signals.iter().map(|(_, r)| (r.product.clone(), r.raw_id.clone())).collect();
    assert_eq!(
        products,
        vec![
            (
                "Microsoft Visio Professional 2021 - en-us, de-de".to_string(),
                "16777220:Microsoft Visio Professional 2021 - en-us, de-de:16.0.1".to_string()
            ),
            ("The \"Best\" Tool".to_string(), "16777220:The \"Best\" Tool:2.0".to_string()),
        ]
    );
    // The quoted line break moved the next record to line 5.
    assert_eq!(rejected(&out), vec![(0, 5, "TimeStamp".to_string(), "malformed_instant")]);
}

#[test]
fn powershell_type_line_is_skipped_and_lines_stay_exact() {
    let sys = one_system();
    let arp = format!(
        "#TYPE System.Data.DataRow\r\n{}",
        csv(
            "\"ResourceID\",\"TimeStamp\",\"DisplayName0\",\"Version0\"",
            &["\"16777220\",\"11/20/2026 2:03:11 PM\",\"Zoom Workplace (64-bit)\",\"6.2.5\"", "\"16777220\",\"bad\",\"X\",\"1\""]
        )
    );
    let out = installed(&[("arp.csv", utf8_bom(&arp)), ("sys.csv", sys.into_bytes())], &[]);
    assert_eq!(
        signals(&out),
        vec![inst(
            "16777220:Zoom Workplace (64-bit):6.2.5",
            "2026-11-20T14:03:11Z",
            "Zoom Workplace (64-bit)",
            "CONTOSO\\jdoe",
            "5CG1234XYZ",
            GUID,
            "LT-0042"
        )]
    );
    assert_eq!(out.signals[0].0.line, 3);
    assert_eq!(rejected(&out), vec![(0, 4, "TimeStamp".to_string(), "malformed_instant")]);
}

#[test]
fn rows_without_a_product_name_are_skipped_and_counted() {
    let sys = one_system();
    let arp =
        csv(ARP_HEADER, &["16777220,1,1,1,2026-11-20 10:00:00.000,KB5031455,NULL,,,", "16777220,1,1,1,2026-11-20 10:00:00.000,KB1,,,,"]);
    let out = installed(&[("arp.csv", arp.into_bytes()), ("sys.csv", sys.into_bytes())], &[]);
    assert!(out.signals.is_empty());
    assert!(out.rejected.is_empty());
    assert_eq!(out.records, vec![2, 1]);
    assert_eq!(notes(&out), vec![(0, "skipped: 2 rows without a product name".to_string())]);
}

// ---------------------------------------------------------------------------------------------
// sccm-installed: systems, exclusion, identity

#[test]
fn obsolete_and_inactive_systems_are_excluded_with_a_note() {
    let sys = csv(
        SYS_HEADER,
        &[
            "16777199,LT-0042,LT-0042,CONTOSO,jdoe,CONTOSO,1,0,1,1b7e4c2d-9a3f-4e1b-8c6d-2f5a7b9e0c11,OLDSERIAL1",
            &format!("16777220,LT-0042,LT-0042,CONTOSO,jdoe,CONTOSO,0,1,1,{GUID},5CG1234XYZ"),
            "16777224,VM-0007,VM-0007,CONTOSO,svc_build,CONTOSO,0,0,0,NULL,VMSERIAL7",
            "16777226,PC-OLD,PC-OLD,CONTOSO,x,CONTOSO,True,False,1,NULL,OLDSERIAL2",
        ],
    );
    let arp = csv(
        ARP_HEADER,
        &[
            "16777199,1,1,1,2026-10-01 09:12:44.000,P,Adobe Acrobat (64-bit),,Adobe,23.003",
            "16777220,1,1,1,2026-11-20 14:03:11.000,P,Adobe Acrobat (64-bit),,Adobe,23.008",
            "16777224,1,1,1,2026-11-15 23:59:59.000,P,Zoom Workplace (64-bit),,Zoom,6.2.5",
            "16777224,1,1,1,2026-11-15 23:59:59.000,P,Google Chrome,,Google,119",
            "16777226,1,1,1,2026-11-15 23:59:59.000,P,Google Chrome,,Google,119",
        ],
    );
    let out = installed(&[("arp.csv", arp.into_bytes()), ("sys.csv", sys.into_bytes())], &[]);
    assert_eq!(
        signals(&out),
        vec![inst(
            "16777220:Adobe Acrobat (64-bit):23.008",
            "2026-11-20T14:03:11Z",
            "Adobe Acrobat (64-bit)",
            "CONTOSO\\jdoe",
            "5CG1234XYZ",
            GUID,
            "LT-0042"
        )]
    );
    assert!(out.rejected.is_empty());
    assert_eq!(out.records, vec![5, 4]);
    assert_eq!(
        notes(&out),
        vec![
            (0, "excluded: 4 rows of obsolete or inactive systems (Obsolete0 = 1 or Active0 = 0): ResourceID 16777199, 16777224, 16777226".to_string()),
            (
                1,
                "excluded: 3 systems obsolete or inactive (Obsolete0 = 1 or Active0 = 0), no signals or identity facts from them: ResourceID 16777199, 16777224, 16777226"
                    .to_string()
            ),
        ]
    );
    // No identity fact from a stale record: the old Entra id is not tied to the serial.
    assert_eq!(out.directory, vec![dev("serial:5CG1234XYZ", &format!("id:{GUID}")), dev("serial:5CG1234XYZ", "name:LT-0042")]);
}

#[test]
fn placeholder_serials_and_zero_guids_never_identify_devices() {
    let sys = csv(
        SYS_HEADER,
        &[
            &format!("1,PC-1,PC-1,D,u1,D,0,1,1,{ZERO_GUID},To Be Filled By O.E.M."),
            &format!("2,PC-2,PC-2,D,u2,D,0,1,1,{ZERO_GUID},System Serial Number"),
            "3,PC-3,PC-3,D,u3,D,0,1,1,NULL,0",
            "4,PC-4,PC-4,D,u4,D,0,1,1,NULL,0000000000",
            "5,PC-5,PC-5,D,u5,D,0,1,1,NULL,Default string",
        ],
    );
    let rows: Vec<String> = (1..=5).map(|i| format!("{i},1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16")).collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let arp = csv(ARP_HEADER, &rows);
    let out = installed(&[("arp.csv", arp.into_bytes()), ("sys.csv", sys.into_bytes())], &[]);
    let want: Vec<SignalRow> = (1..=5)
        .map(|i| inst(&format!("{i}:Visio:16"), "2026-11-20T10:00:00Z", "Visio", &format!("D\\u{i}"), "", "", &format!("PC-{i}")))
        .collect();
    assert_eq!(signals(&out), want);
    assert!(out.directory.is_empty(), "{:?}", out.directory);
}

#[test]
fn users_are_written_domain_backslash_name() {
    let sys = csv(
        SYS_HEADER,
        &[
            "1,PC-1,PC-1,CONTOSO,jdoe,CONTOSO,0,1,1,NULL,S1",
            "2,PC-2,PC-2,CONTOSO,jdoe@contoso.com,CONTOSO,0,1,1,NULL,S2",
            "3,PC-3,PC-3,CONTOSO,FABRIKAM\\asmith,CONTOSO,0,1,1,NULL,S3",
            "4,PC-4,PC-4,CONTOSO,NULL,CONTOSO,0,1,1,NULL,S4",
        ],
    );
    let rows: Vec<String> = (1..=4).map(|i| format!("{i},1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16")).collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let out = installed(&[("arp.csv", csv(ARP_HEADER, &rows).into_bytes()), ("sys.csv", sys.into_bytes())], &[]);
    let users: Vec<String> = out.signals.iter().map(|(_, r)| r.user.clone()).collect();
    assert_eq!(users, vec!["CONTOSO\\jdoe", "jdoe@contoso.com", "FABRIKAM\\asmith", ""]);
}

#[test]
fn bios_view_supplies_the_serial() {
    let sys = csv(
        "ResourceID,Name0,User_Name0,User_Domain0,Obsolete0,Active0,AADDeviceID",
        &[&format!("16777220,LT-0042,jdoe,CONTOSO,0,1,{GUID}")],
    );
    let bios = csv("ResourceID,SerialNumber0,Manufacturer0", &["16777220,5CG1234XYZ,HP", "16777220,5CG1234XYZ,HP"]);
    let gs = csv("ResourceID,TimeStamp,ProductName0,ProductVersion0", &["16777220,2026-11-20 10:00:00.000,Adobe Acrobat,23"]);
    let out = installed(&[("bios.csv", bios.into_bytes()), ("gs.csv", gs.into_bytes()), ("sys.csv", sys.into_bytes())], &[]);
    assert_eq!(
        signals(&out),
        vec![inst("16777220:Adobe Acrobat:23", "2026-11-20T10:00:00Z", "Adobe Acrobat", "CONTOSO\\jdoe", "5CG1234XYZ", GUID, "LT-0042")]
    );
    assert_eq!(out.directory, vec![dev("serial:5CG1234XYZ", &format!("id:{GUID}")), dev("serial:5CG1234XYZ", "name:LT-0042")]);
    assert_eq!(notes(&out), vec![(0, "collapsed: 1 row identical to an earlier system row".to_string())]);
}

#[test]
fn software_joins_systems_by_machine_name_fqdn_in_any_case() {
    let sys = csv(
        SYS_HEADER,
        &[
            "16777199,LT-0042,LT-0042,CONTOSO,jdoe,CONTOSO,1,0,1,NULL,5CG1234XYZ",
            &format!("16777220,LT-0042,LT-0042,CONTOSO,jdoe,CONTOSO,0,1,1,{GUID},5CG1234XYZ"),
            "16777230,PC-9,PC-9,CONTOSO,a,CONTOSO,0,1,1,NULL,SERIAL-A",
            "16777231,PC-9,PC-9,CONTOSO,b,CONTOSO,0,1,1,NULL,SERIAL-B",
            "16777240,RETIRED,RETIRED,CONTOSO,c,CONTOSO,1,0,1,NULL,SERIAL-C",
        ],
    );
    let by_name = csv(
        "Netbios_Name0,DisplayName0,Version0,InstallDate0",
        &[
            // The obsolete record of the same name is passed over.
            "lt-0042.CONTOSO.com,Notepad++ (64-bit x64),8.6.2,20261105",
            // A machine no system row knows: keyed by its short name.
            "KIOSK-01.contoso.com,Google Chrome,119.0,11/12/2026",
            // Two current records carry this name: no guess.
            "pc-9,Visio,16,20261101",
            // Only an obsolete record carries it: excluded.
            "retired,Visio,16,20261101",
        ],
    );
    let out =
        installed(&[("by_name.csv", by_name.into_bytes()), ("sys.csv", sys.into_bytes())], &[("observed_at", "2026-11-21T06:00:00Z")]);
    assert_eq!(
        signals(&out),
        vec![
            inst(
                "16777220:Notepad++ (64-bit x64):8.6.2",
                "2026-11-21T06:00:00Z",
                "Notepad++ (64-bit x64)",
                "CONTOSO\\jdoe",
                "5CG1234XYZ",
                GUID,
                "lt-0042.CONTOSO.com"
            ),
            inst("host:kiosk-01:Google Chrome:119.0", "2026-11-21T06:00:00Z", "Google Chrome", "", "", "", "KIOSK-01.contoso.com"),
        ]
    );
    assert_eq!(rejected(&out), vec![(0, 4, "Name0".to_string(), "ambiguous_system")]);
    assert_eq!(
        notes(&out),
        vec![
            (0, "excluded: 1 row of obsolete or inactive systems (Obsolete0 = 1 or Active0 = 0): ResourceID 16777240".to_string()),
            (
                1,
                "excluded: 2 systems obsolete or inactive (Obsolete0 = 1 or Active0 = 0), no signals or identity facts from them: ResourceID 16777199, 16777240"
                    .to_string()
            ),
            (1, "machine name `pc-9` is carried by systems with different serials or device ids: not emitted as an identity fact".to_string()),
        ]
    );
    // PC-9's name is ambiguous: its serials are facts, its name is not.
    assert_eq!(out.directory, vec![dev("serial:5CG1234XYZ", &format!("id:{GUID}")), dev("serial:5CG1234XYZ", "name:LT-0042")]);
}

#[test]
fn a_single_pre_joined_export_works_alone() {
    let joined = csv(
        "ResourceID,Name0,User_Name0,User_Domain0,Obsolete0,Active0,AADDeviceID,SerialNumber0,ResourceID,DisplayName0,Version0,TimeStamp",
        &[
            &format!("16777220,LT-0042,jdoe,CONTOSO,0,1,{GUID},5CG1234XYZ,16777220,Adobe Acrobat (64-bit),23.008,2026-11-20 14:03:11.000"),
            &format!("16777220,LT-0042,jdoe,CONTOSO,0,1,{GUID},5CG1234XYZ,16777220,Zoom Workplace,6.2.5,2026-11-20 14:03:11.000"),
            "16777199,LT-0042,jdoe,CONTOSO,1,0,NULL,5CG1234XYZ,16777199,Adobe Acrobat (64-bit),23.003,2026-10-01 09:00:00.000",
            "16777250,LAB-7,NULL,NULL,0,1,NULL,To Be Filled By O.E.M.,16777250,Visio,16,2026-11-20 14:03:11.000",
        ],
    );
    let out = installed(&[("joined.csv", joined.into_bytes())], &[]);
    assert_eq!(
        signals(&out),
        vec![
            inst(
                "16777220:Adobe Acrobat (64-bit):23.008",
                "2026-11-20T14:03:11Z",
                "Adobe Acrobat (64-bit)",
                "CONTOSO\\jdoe",
                "5CG1234XYZ",
                GUID,
                "LT-0042"
            ),
            inst("16777220:Zoom Workplace:6.2.5", "2026-11-20T14:03:11Z", "Zoom Workplace", "CONTOSO\\jdoe", "5CG1234XYZ", GUID, "LT-0042"),
            inst("16777250:Visio:16", "2026-11-20T14:03:11Z", "Visio", "", "", "", "LAB-7"),
        ]
    );
    assert_eq!(
        notes(&out),
        vec![(0, "excluded: 1 row of obsolete or inactive systems (Obsolete0 = 1 or Active0 = 0): ResourceID 16777199".to_string())]
    );
    assert_eq!(out.directory, vec![dev("serial:5CG1234XYZ", &format!("id:{GUID}")), dev("serial:5CG1234XYZ", "name:LT-0042")]);
}

#[test]
fn bad_system_and_software_rows_are_rejected_alone() {
    let sys = csv(
        SYS_HEADER,
        &[
            &format!("16777220,LT-0042,LT-0042,CONTOSO,jdoe,CONTOSO,0,1,1,{GUID},5CG1234XYZ"),
            // Same ResourceID, other values: the first row is kept.
            "16777220,LT-0099,LT-0099,CONTOSO,x,CONTOSO,0,1,1,NULL,OTHER",
            "NULL,PC-1,PC-1,D,u,D,0,1,1,NULL,S1",
            "12ab,PC-2,PC-2,D,u,D,0,1,1,NULL,S2",
            "16777221,PC-3,PC-3,D,u,D,2,1,1,NULL,S3",
        ],
    );
    let arp = csv(
        ARP_HEADER,
        &[
            "16777220,1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16",
            // No system row for this ResourceID and no machine name.
            "16777299,1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16",
            "x1,1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16",
            // No TimeStamp, no InstallDate0, no observed_at option.
            "16777220,1,1,1,NULL,P,Zoom,NULL,,6",
            "16777220,1,1,1,NULL,P,Chrome,someday,,119",
        ],
    );
    let out = installed(&[("arp.csv", arp.into_bytes()), ("sys.csv", sys.clone().into_bytes())], &[]);
    assert_eq!(
        signals(&out),
        vec![inst("16777220:Visio:16", "2026-11-20T10:00:00Z", "Visio", "CONTOSO\\jdoe", "5CG1234XYZ", GUID, "LT-0042")]
    );
    assert_eq!(
        rejected(&out),
        vec![
            (0, 3, "ResourceID".to_string(), "unknown_resource"),
            (0, 4, "ResourceID".to_string(), "malformed_value"),
            (0, 5, "TimeStamp".to_string(), "missing_field"),
            (0, 6, "InstallDate0".to_string(), "malformed_instant"),
        ]
    );
    // System rows carry no signal: a bad one is skipped with a note naming its line
    // (a rejection would count against a file of zero signals and fail the run).
    assert_eq!(
        notes(&out),
        vec![(
            1,
            "skipped: 4 system rows that cannot be used: \
             line 3 (ResourceID, conflicting_duplicate: sys.csv:2 has other values for this ResourceID; the first is kept); \
             line 4 (ResourceID, missing_field: `ResourceID` is empty); \
             line 5 (ResourceID, malformed_value: `ResourceID` must be a decimal resource id); \
             line 6 (Obsolete0, malformed_value: `Obsolete0` must be 0 or 1)"
                .to_string()
        )]
    );
    assert_eq!(out.records, vec![5, 5]);
    // Messages never echo the value.
    for (_, e) in &out.rejected {
        assert!(!e.message.contains("12ab") && !e.message.contains("someday") && !e.message.contains("x1"), "{}", e.message);
    }
    assert!(!out.notes.iter().any(|(_, n)| n.contains("12ab")));

    // Through reconcile the run succeeds: the skipped system rows are warnings.
    let run = Bundle::new()
        .file("imports/sccm-installed/sys.csv", sys.as_bytes())
        .file("imports/sccm-installed/arp.csv", csv(ARP_HEADER, &["16777220,1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16"]).as_bytes())
        .run();
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let job =
        run.report.to_json()["imports"].as_array().unwrap().iter().find(|j| j["path"] == "imports/sccm-installed/sys.csv").unwrap().clone();
    assert_eq!((job["rows_rejected"].as_i64(), job["warnings"].as_array().unwrap().len()), (Some(0), 1));
}

#[test]
fn observed_at_order_timestamp_then_option_then_install_date() {
    let sys = one_system();
    let arp = csv(
        "ResourceID,DisplayName0,Version0,InstallDate0,TimeStamp",
        &[
            "16777220,A,1,20261105,2026-11-20 10:00:00.000",
            "16777220,B,1,20261105,NULL",
            "16777220,C,1,2026-11-06 00:00:00.000,NULL",
            "16777220,D,1,11/7/2026,NULL",
        ],
    );
    let files = [("arp.csv", arp.into_bytes()), ("sys.csv", sys.into_bytes())];
    let at = |out: &AdapterOutput| -> Vec<String> { out.signals.iter().map(|(_, r)| format!("{} {}", r.product, r.observed_at)).collect() };
    // Without the option, InstallDate0 is the last resort (midnight at utc_offset).
    assert_eq!(
        at(&installed(&files, &[("utc_offset", "-05:00")])),
        vec!["A 2026-11-20T15:00:00Z", "B 2026-11-05T05:00:00Z", "C 2026-11-06T05:00:00Z", "D 2026-11-07T05:00:00Z"]
    );
    // With it, the export's instant beats the install date.
    assert_eq!(
        at(&installed(&files, &[("observed_at", "2026-11-21T07:00:00+01:00")])),
        vec!["A 2026-11-20T10:00:00Z", "B 2026-11-21T06:00:00Z", "C 2026-11-21T06:00:00Z", "D 2026-11-21T06:00:00Z"]
    );
}

#[test]
fn an_export_without_timestamps_needs_the_observed_at_option() {
    let sys = one_system();
    let arp = csv("ResourceID,DisplayName0,Version0", &["16777220,Visio,16"]);
    let files = [("imports/sccm-installed/arp.csv", arp.into_bytes()), ("imports/sccm-installed/sys.csv", sys.into_bytes())];
    let e = run("sccm-installed", &files, &[]).unwrap_err();
    assert_invalid_input(&e, "imports/sccm-installed/arp.csv", Some(1));
    assert!(e.message().contains("observed_at"), "{e}");
    let out = installed(&files, &[("observed_at", "2026-11-21T06:00:00Z")]);
    assert_eq!(
        signals(&out),
        vec![inst("16777220:Visio:16", "2026-11-21T06:00:00Z", "Visio", "CONTOSO\\jdoe", "5CG1234XYZ", GUID, "LT-0042")]
    );
}

#[test]
fn a_machine_name_on_several_devices_is_not_an_identity_fact() {
    let sys = csv(
        SYS_HEADER,
        &[
            &format!("1,PC-9,PC-9,D,a,D,0,1,1,{GUID},SERIAL-A"),
            "2,PC-9,PC-9,D,b,D,0,1,1,NULL,SERIAL-B",
            "3,PC-8,PC-8,D,c,D,0,1,1,NULL,SERIAL-C",
        ],
    );
    let arp = csv(ARP_HEADER, &["1,1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16", "2,1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16"]);
    let out = installed(&[("arp.csv", arp.into_bytes()), ("sys.csv", sys.into_bytes())], &[]);
    assert_eq!(
        signals(&out),
        vec![
            inst("1:Visio:16", "2026-11-20T10:00:00Z", "Visio", "D\\a", "SERIAL-A", GUID, "PC-9"),
            inst("2:Visio:16", "2026-11-20T10:00:00Z", "Visio", "D\\b", "SERIAL-B", "", "PC-9"),
        ]
    );
    assert_eq!(out.directory, vec![dev("serial:SERIAL-A", &format!("id:{GUID}")), dev("serial:SERIAL-C", "name:PC-8")]);
    assert_eq!(
        notes(&out),
        vec![(
            1,
            "machine name `pc-9` is carried by systems with different serials or device ids: not emitted as an identity fact".to_string()
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// sccm-metering

const MUS_HEADER: &str = "ResourceID,Name0,FileID,ProductName,FullName,UsageCount,TSUsageCount,UsageTime,LastUsage,TimeKey";

#[test]
fn metering_rows_become_usage_signals_at_utc_offset() {
    let mus = csv(
        MUS_HEADER,
        &[
            "16777220,LT-0042,1021,Adobe Acrobat,CONTOSO\\jdoe,14,0,312,2026-11-20 16:45:00.000,202611",
            "16777222,WS-0100,1040,\"Tableau Desktop, Professional\",CONTOSO\\bwong,5,0,95,11/19/2026 10:20:00 AM,202611",
            "16777224,VM-0007,1021,Adobe Acrobat,NULL,2,0,5,2026-11-21T07:30:00,202611",
        ],
    );
    let want_utc = vec![
        used("usage:16777220:202611:CONTOSO\\jdoe:Adobe Acrobat", "2026-11-20T16:45:00Z", "Adobe Acrobat", "CONTOSO\\jdoe", "LT-0042"),
        used(
            "usage:16777222:202611:CONTOSO\\bwong:Tableau Desktop, Professional",
            "2026-11-19T10:20:00Z",
            "Tableau Desktop, Professional",
            "CONTOSO\\bwong",
            "WS-0100",
        ),
        used("usage:16777224:202611::Adobe Acrobat", "2026-11-21T07:30:00Z", "Adobe Acrobat", "", "VM-0007"),
    ];
    for bytes in [utf16le(&mus), utf8_bom(&mus), mus.clone().into_bytes()] {
        let out = metering(&[("mus.csv", bytes)], &[]);
        assert_eq!(signals(&out), want_utc);
        assert!(out.rejected.is_empty());
    }
    let out = metering(&[("mus.csv", mus.into_bytes())], &[("utc_offset", "-08:00")]);
    let at: Vec<String> = out.signals.iter().map(|(_, r)| format!("{} {}", r.observed_at, r.last_used_at)).collect();
    assert_eq!(
        at,
        vec![
            "2026-11-21T00:45:00Z 2026-11-21T00:45:00Z",
            "2026-11-19T18:20:00Z 2026-11-19T18:20:00Z",
            "2026-11-21T15:30:00Z 2026-11-21T15:30:00Z"
        ]
    );
}

#[test]
fn metering_collapses_files_of_one_product_and_skips_unused_rows() {
    let mus = csv(
        MUS_HEADER,
        &[
            "16777220,LT-0042,1021,Adobe Acrobat,CONTOSO\\jdoe,14,0,312,2026-11-18 09:00:00.000,202611",
            "16777220,LT-0042,1022,Adobe Acrobat,CONTOSO\\jdoe,3,0,20,2026-11-20 16:45:00.000,202611",
            "16777220,LT-0042,1022,Adobe Acrobat,CONTOSO\\jdoe,3,0,20,2026-11-20 16:45:00.000,202611",
            "16777220,LT-0042,1021,Adobe Acrobat,CONTOSO\\jdoe,22,0,540,2026-10-29 11:00:00.000,202610",
            "16777221,LT-0043,1030,Microsoft Visio,CONTOSO\\asmith,0,0,0,NULL,202611",
            // Remote Desktop use only: still a use.
            "16777221,LT-0043,1030,Microsoft Visio,CONTOSO\\bwong,0,3,40,2026-11-02 08:00:00.000,202611",
        ],
    );
    let out = metering(&[("mus.csv", mus.into_bytes())], &[]);
    assert_eq!(
        signals(&out),
        vec![
            used("usage:16777220:202611:CONTOSO\\jdoe:Adobe Acrobat", "2026-11-20T16:45:00Z", "Adobe Acrobat", "CONTOSO\\jdoe", "LT-0042"),
            used("usage:16777220:202610:CONTOSO\\jdoe:Adobe Acrobat", "2026-10-29T11:00:00Z", "Adobe Acrobat", "CONTOSO\\jdoe", "LT-0042"),
            used(
                "usage:16777221:202611:CONTOSO\\bwong:Microsoft Visio",
                "2026-11-02T08:00:00Z",
                "Microsoft Visio",
                "CONTOSO\\bwong",
                "LT-0043"
            ),
        ]
    );
    assert_eq!(out.signals.iter().map(|(o, _)| o.line).collect::<Vec<_>>(), vec![3, 5, 7]);
    assert_eq!(out.records, vec![6]);
    assert_eq!(
        notes(&out),
        vec![
            (0, "skipped: 1 row with UsageCount 0 (no use in the month)".to_string()),
            (0, "collapsed: 2 rows with the raw id of another (same ResourceID, month, user and product); the newest kept".to_string()),
        ]
    );
}

#[test]
fn metering_user_and_machine_column_variants() {
    let ps = format!(
        "#TYPE System.Data.DataRow\r\n{}",
        csv(
            "\"ResourceID\",\"Netbios_Name0\",\"MeteredProductName\",\"MeteredUserName\",\"UsageCount\",\"LastUsage\",\"TimeKey\"",
            &["\"16777225\",\"LT-0044\",\"Microsoft Visio\",\"CONTOSO\\kpatel\",\"7\",\"11/21/2026 8:10:00 AM\",\"202611\""]
        )
    );
    let split = csv(
        "resourceid,productname,domain,username,lastusage,timekey",
        &["16777226,Microsoft Visio,CONTOSO,lchen,2026-11-03 12:00:00.000,202611"],
    );
    let out = metering(&[("a.csv", utf8_bom(&ps)), ("b.csv", split.into_bytes())], &[]);
    assert_eq!(
        signals(&out),
        vec![
            used(
                "usage:16777225:202611:CONTOSO\\kpatel:Microsoft Visio",
                "2026-11-21T08:10:00Z",
                "Microsoft Visio",
                "CONTOSO\\kpatel",
                "LT-0044"
            ),
            used("usage:16777226:202611:CONTOSO\\lchen:Microsoft Visio", "2026-11-03T12:00:00Z", "Microsoft Visio", "CONTOSO\\lchen", ""),
        ]
    );
    assert_eq!(out.signals[0].0.line, 3);
}

#[test]
fn metering_bad_rows_are_rejected_alone() {
    let mus = csv(
        MUS_HEADER,
        &[
            "16777220,LT-0042,1021,Adobe Acrobat,CONTOSO\\jdoe,14,0,312,2026-11-20 16:45:00.000,202611",
            "NULL,LT-0042,1021,Adobe Acrobat,CONTOSO\\jdoe,14,0,312,2026-11-20 16:45:00.000,202611",
            "16777220,LT-0042,1021,NULL,CONTOSO\\jdoe,14,0,312,2026-11-20 16:45:00.000,202611",
            "16777220,LT-0042,1021,Adobe Acrobat,CONTOSO\\jdoe,14,0,312,2026-11-20 16:45:00.000,202613",
            "16777220,LT-0042,1021,Adobe Acrobat,CONTOSO\\jdoe,many,0,312,2026-11-20 16:45:00.000,202609",
            "16777220,LT-0042,1021,Adobe Acrobat,CONTOSO\\jdoe,14,0,312,NULL,202608",
            "16777220,LT-0042,1021,Adobe Acrobat,CONTOSO\\jdoe,14,0,312,20.11.2026 16:45,202607",
        ],
    );
    let out = metering(&[("mus.csv", mus.into_bytes())], &[]);
    assert_eq!(
        signals(&out),
        vec![used(
            "usage:16777220:202611:CONTOSO\\jdoe:Adobe Acrobat",
            "2026-11-20T16:45:00Z",
            "Adobe Acrobat",
            "CONTOSO\\jdoe",
            "LT-0042"
        )]
    );
    assert_eq!(
        rejected(&out),
        vec![
            (0, 3, "ResourceID".to_string(), "missing_field"),
            (0, 4, "ProductName".to_string(), "missing_field"),
            (0, 5, "TimeKey".to_string(), "malformed_value"),
            (0, 6, "UsageCount".to_string(), "malformed_value"),
            (0, 7, "LastUsage".to_string(), "missing_field"),
            (0, 8, "LastUsage".to_string(), "malformed_instant"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// bad input: whole-file errors

#[test]
fn wrong_header_is_invalid_input_naming_the_file() {
    let mus = csv(MUS_HEADER, &["16777220,LT-0042,1021,Adobe Acrobat,CONTOSO\\jdoe,14,0,312,2026-11-20 16:45:00.000,202611"]);
    let e = run("sccm-installed", &[("imports/sccm-installed/mus.csv", mus.into_bytes())], &[]).unwrap_err();
    assert_invalid_input(&e, "imports/sccm-installed/mus.csv", Some(1));
    assert!(e.message().contains("imports/sccm-metering/"), "{e}");

    // A ResourceID and a name alone are not a v_R_System export; nor is a JSON page.
    for (path, bytes) in [
        ("imports/sccm-installed/names.csv", b"ResourceID,Name0\r\n1,PC-1\r\n".to_vec()),
        ("imports/sccm-installed/devices.json", b"{\"value\": []}\n".to_vec()),
    ] {
        let e = run("sccm-installed", &[(path, bytes)], &[]).unwrap_err();
        assert_invalid_input(&e, path, Some(1));
        assert!(e.message().contains("v_R_System (ResourceID, Name0 or Netbios_Name0"), "{e}");
    }

    let sys = format!("#TYPE System.Data.DataRow\r\n{}", one_system());
    let e = run("sccm-metering", &[("imports/sccm-metering/sys.csv", sys.into_bytes())], &[]).unwrap_err();
    assert_invalid_input(&e, "imports/sccm-metering/sys.csv", Some(2));
    assert!(e.message().contains("`ProductName`"), "{e}");

    let no_key = csv("ResourceID,ProductName,LastUsage", &["1,Visio,2026-11-20 10:00:00.000"]);
    let e = run("sccm-metering", &[("m.csv", no_key.into_bytes())], &[]).unwrap_err();
    assert_invalid_input(&e, "m.csv", Some(1));
    assert!(e.message().contains("`TimeKey`"), "{e}");

    // Software without any key to a system.
    let e = run("sccm-installed", &[("s.csv", b"DisplayName0,Version0\nVisio,16\n".to_vec())], &[]).unwrap_err();
    assert_invalid_input(&e, "s.csv", Some(1));

    for name in ["sccm-installed", "sccm-metering"] {
        let e = run(name, &[("empty.csv", Vec::new())], &[]).unwrap_err();
        assert_invalid_input(&e, "empty.csv", None);
        let e = run(name, &[("bom-only.csv", b"\xFF\xFE".to_vec())], &[]).unwrap_err();
        assert_invalid_input(&e, "bom-only.csv", None);
    }
}

#[test]
fn neither_utf8_nor_utf16_is_invalid_input() {
    // Windows-1252 `é` in a name: not UTF-8, and no UTF-16 BOM.
    let mut bytes = one_system().into_bytes();
    bytes.extend_from_slice(b"16777221,CAF\xC9-01,CAF\xC9-01,D,u,D,0,1,1,NULL,S1\r\n");
    for name in ["sccm-installed", "sccm-metering"] {
        let e = run(name, &[("imports/x/sys.csv", bytes.clone())], &[]).unwrap_err();
        assert_invalid_input(&e, "imports/x/sys.csv", None);
        assert!(e.message().contains("not valid UTF-8"), "{e}");
    }
    // An unpaired surrogate in UTF-16.
    let mut bad16 = utf16le("ResourceID,Name0\r\n1,");
    bad16.extend_from_slice(&[0x00, 0xD8, 0x41, 0x00]);
    let e = run("sccm-installed", &[("u16.csv", bad16)], &[]).unwrap_err();
    assert_invalid_input(&e, "u16.csv", None);
}

#[test]
fn truncated_exports_are_invalid_input_with_the_line() {
    let sys = one_system();
    let arp =
        csv(ARP_HEADER, &["16777220,1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16", "16777220,1,1,1,2026-11-20 10:00:00.000,P,\"Zoom Wor"]);
    // Cut inside a quoted field.
    let e = run("sccm-installed", &[("arp.csv", arp.clone().into_bytes()), ("sys.csv", sys.clone().into_bytes())], &[]).unwrap_err();
    assert_invalid_input(&e, "arp.csv", Some(3));
    // Cut between fields.
    let cut = csv(ARP_HEADER, &["16777220,1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16", "16777220,1,1,1,2026-11-20"]);
    let e = run("sccm-installed", &[("arp.csv", cut.into_bytes()), ("sys.csv", sys.clone().into_bytes())], &[]).unwrap_err();
    assert_invalid_input(&e, "arp.csv", Some(3));
    // A UTF-16 file cut in the middle of a code unit.
    let mut odd = utf16le(&sys);
    odd.pop();
    let e = run("sccm-installed", &[("sys.csv", odd)], &[]).unwrap_err();
    assert_invalid_input(&e, "sys.csv", None);
    // No partial output: one bad file fails the whole folder.
    let ok = csv(ARP_HEADER, &["16777220,1,1,1,2026-11-20 10:00:00.000,P,Visio,,,16"]);
    let r = run(
        "sccm-installed",
        &[("a-good.csv", ok.into_bytes()), ("b-bad.csv", b"ResourceID,DisplayName0\n1,\"x\n".to_vec()), ("sys.csv", sys.into_bytes())],
        &[],
    );
    assert_invalid_input(&r.unwrap_err(), "b-bad.csv", Some(2));
}

#[test]
fn unknown_and_malformed_options_are_invalid_input() {
    let sys = one_system().into_bytes();
    let e = run("sccm-installed", &[("sys.csv", sys.clone())], &[("utc_ofset", "+01:00")]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.message().contains("utc_ofset") && e.message().contains("observed_at, utc_offset"), "{e}");
    let e = run("sccm-metering", &[("m.csv", Vec::new())], &[("observed_at", "2026-11-21T06:00:00Z")]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.message().contains("options: utc_offset"), "{e}");
    for (k, v) in [("utc_offset", "+1"), ("utc_offset", "UTC"), ("observed_at", "2026-11-21 06:00:00"), ("observed_at", "yesterday")] {
        let e = run("sccm-installed", &[("sys.csv", sys.clone())], &[(k, v)]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{k}={v}");
        assert!(e.message().contains(k), "{e}");
    }
    let e = run("sccm-metering", &[("m.csv", Vec::new())], &[("utc_offset", "+25:00")]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
}

#[test]
fn adapters_are_registered_with_name_source_and_version() {
    let names: Vec<&str> = adapters::all().iter().map(|a| a.name()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ADAPTERS is kept in name order");
    for name in ["sccm-installed", "sccm-metering"] {
        let a = adapters::by_name(name).unwrap();
        assert_eq!((a.source(), a.version()), ("sccm", "1.0.0"));
    }
}

// ---------------------------------------------------------------------------------------------
// end to end through reconcile

/// A bundle holding the fixture of `adapter` under `imports/<adapter>/`, with its options.
fn fixture_bundle(adapter: &str) -> Bundle {
    let mut b = Bundle::new();
    for (p, bytes) in fixture_inputs(adapter) {
        b = b.file(&format!("imports/{adapter}/{p}"), &bytes);
    }
    let o: serde_json::Map<String, Value> = fixture_options(adapter).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    b.param("adapter_options", json!({ adapter: o }))
}

/// The snapshot's import entries of adapter folders.
fn import_jobs(out: &Outcome) -> Vec<Value> {
    let all = out.snapshot.as_ref().unwrap().value()["imports"].as_array().unwrap().clone();
    all.into_iter().filter(|j| j["path"].as_str().unwrap().starts_with("imports/")).collect()
}

fn consumed(out: &Outcome, sku: &str) -> i64 {
    out.snapshot.as_ref().unwrap().sku_json(sku).unwrap()["consumed"].as_i64().unwrap()
}

#[test]
fn end_to_end_installed_fixture() {
    let out = fixture_bundle("sccm-installed")
        .sku("acrobat", "device")
        .sku("visio", "device")
        .sku("m365apps", "device")
        .sku("notepadpp", "device")
        .sku("zoom", "device")
        .sku("tableau", "user")
        .entitle("acrobat", 5)
        .entitle("visio", 5)
        .rule(
            &["sku_mappings"],
            json!([
                {"match": "prefix", "field": "product", "value": "Adobe Acrobat", "sku": "acrobat"},
                {"match": "prefix", "field": "product", "value": "Microsoft Visio", "sku": "visio"},
                {"match": "prefix", "field": "product", "value": "Microsoft 365 Apps", "sku": "m365apps"},
                {"match": "prefix", "field": "product", "value": "Notepad++", "sku": "notepadpp"},
                {"match": "prefix", "field": "product", "value": "Zoom", "sku": "zoom"},
                {"match": "prefix", "field": "product", "value": "Tableau Desktop", "sku": "tableau"}
            ]),
        )
        .run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    // LT-0042 only (its obsolete twin is excluded).
    assert_eq!(consumed(&out, "acrobat"), 1);
    // LT-0043 and LT-0044 share a placeholder serial and the all-zero GUID: two devices.
    assert_eq!(consumed(&out, "visio"), 2);
    assert_eq!(consumed(&out, "m365apps"), 1);
    assert_eq!(consumed(&out, "notepadpp"), 1);
    // Only the inactive VM-0007 had Zoom.
    assert_eq!(consumed(&out, "zoom"), 0);
    // WS-0100 has no user in v_R_System; the name-joined row of the same device names CONTOSO\bwong.
    assert_eq!(consumed(&out, "tableau"), 1);
    assert_eq!(exceptions(&out, "unmapped_product"), vec![("sccm".to_string(), "host:kiosk-01:Google Chrome:119.0.6045.160".to_string())]);
    let jobs = import_jobs(&out);
    let got: Vec<(String, String, String, String, i64, i64)> = jobs
        .iter()
        .map(|j| {
            (
                j["path"].as_str().unwrap().to_string(),
                j["adapter"].as_str().unwrap().to_string(),
                j["adapter_version"].as_str().unwrap().to_string(),
                j["source"].as_str().unwrap().to_string(),
                j["rows_accepted"].as_i64().unwrap(),
                j["rows_rejected"].as_i64().unwrap(),
            )
        })
        .collect();
    let job = |p: &str, n: i64| (format!("imports/sccm-installed/{p}"), "sccm-installed".into(), "1.0.0".into(), "sccm".into(), n, 0);
    assert_eq!(
        got,
        vec![
            job("software_by_name.csv", 2),
            job("v_Add_Remove_Programs.csv", 2),
            job("v_GS_INSTALLED_SOFTWARE.csv", 3),
            job("v_R_System.csv", 0)
        ]
    );
    // The adapter's notes are the import jobs' warnings in the run report.
    let report_job = out.report.to_json()["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["path"] == "imports/sccm-installed/v_R_System.csv")
        .unwrap()
        .clone();
    assert_eq!(
        report_job["warnings"],
        json!([
            "collapsed: 1 row identical to an earlier system row",
            "excluded: 2 systems obsolete or inactive (Obsolete0 = 1 or Active0 = 0), no signals or identity facts from them: ResourceID 16777199, 16777224"
        ])
    );
}

#[test]
fn end_to_end_metering_fixture() {
    let out = fixture_bundle("sccm-metering")
        .sku("acrobat", "user")
        .sku("visio", "user")
        .sku("tableau", "user")
        .entitle("acrobat", 5)
        .rule(
            &["sku_mappings"],
            json!([
                {"match": "prefix", "field": "product", "value": "Adobe Acrobat", "sku": "acrobat"},
                {"match": "prefix", "field": "product", "value": "Microsoft Visio", "sku": "visio"},
                {"match": "prefix", "field": "product", "value": "Tableau Desktop", "sku": "tableau"}
            ]),
        )
        .run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    // jdoe (two months, one user); VM-0007's row has no user and no other signal to attribute it.
    assert_eq!(consumed(&out, "acrobat"), 1);
    assert_eq!(exceptions(&out, "unattributable"), vec![("sccm".to_string(), "usage:16777224:202611::Adobe Acrobat".to_string())]);
    assert_eq!(consumed(&out, "visio"), 2);
    assert_eq!(consumed(&out, "tableau"), 1);
    let jobs = import_jobs(&out);
    let got: Vec<(String, String, String, i64)> = jobs
        .iter()
        .map(|j| {
            (
                j["path"].as_str().unwrap().to_string(),
                j["adapter"].as_str().unwrap().to_string(),
                j["adapter_version"].as_str().unwrap().to_string(),
                j["rows_accepted"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("imports/sccm-metering/metering_powershell.csv".into(), "sccm-metering".into(), "1.0.0".into(), 2),
            ("imports/sccm-metering/v_MonthlyUsageSummary.csv".into(), "sccm-metering".into(), "1.0.0".into(), 4),
        ]
    );
}

#[test]
fn end_to_end_both_sccm_adapters_in_one_bundle() {
    let mut b = fixture_bundle("sccm-installed");
    for (p, bytes) in fixture_inputs("sccm-metering") {
        b = b.file(&format!("imports/sccm-metering/{p}"), &bytes);
    }
    let out = b
        .param(
            "adapter_options",
            json!({"sccm-installed": {"observed_at": "2026-11-21T06:00:00Z"}, "sccm-metering": {"utc_offset": "+01:00"}}),
        )
        .sku("acrobat", "device")
        .entitle("acrobat", 5)
        .rule(&["sku_mappings"], json!([{"match": "prefix", "field": "product", "value": "Adobe Acrobat", "sku": "acrobat"}]))
        .run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    // LT-0042 (installed and used: one device) and VM-0007 (used, though its installation was excluded).
    assert_eq!(consumed(&out, "acrobat"), 2);
    assert_eq!(import_jobs(&out).len(), 6);
}

#[test]
fn end_to_end_bad_file_fails_the_run_with_its_location() {
    let out = fixture_bundle("sccm-installed")
        .file("imports/sccm-installed/zz-truncated.csv", b"ResourceID,DisplayName0,TimeStamp\n16777220,\"Visio")
        .run();
    assert_eq!(reasons(&out), vec!["invalid_input".to_string()]);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert_invalid_input(&out.errors[0], "imports/sccm-installed/zz-truncated.csv", Some(2));
    assert!(out.snapshot.is_none());

    let out = Bundle::new().file("imports/sccm-metering/v_MonthlyUsageSummary.csv", one_system().as_bytes()).run();
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert_invalid_input(&out.errors[0], "imports/sccm-metering/v_MonthlyUsageSummary.csv", Some(1));

    let out = fixture_bundle("sccm-metering").param("adapter_options", json!({"sccm-metering": {"timezone": "CET"}})).run();
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert_eq!(out.errors[0].code(), ErrorCode::InvalidInput);
    assert_eq!(out.errors[0].location().unwrap().file, "imports/sccm-metering/");
}

// ---------------------------------------------------------------------------------------------
// never panic, and every emitted row passes the canonical row rules

/// The fixture files of `adapter` as text (decoded from UTF-8 / UTF-16).
fn fixture_texts(adapter: &str) -> Vec<(String, String)> {
    fixture_inputs(adapter).into_iter().map(|(p, b)| (p.clone(), adapters::decode_text(&p, &b).unwrap())).collect()
}

/// Check what an adapter produced against the A1 row rules it must meet.
fn assert_canonical(out: &AdapterOutput, n_files: usize) {
    use eucora_license_core::internal::time::Instant;
    assert_eq!(out.records.len(), n_files);
    for (o, r) in &out.signals {
        assert!(o.file < n_files && o.line >= 1);
        assert_eq!(r.source, "sccm");
        assert!(!r.raw_id.is_empty() && !r.product.is_empty());
        assert!(r.kind == "installation" || r.kind == "usage");
        assert!(Instant::parse(&r.observed_at).is_ok(), "{}", r.observed_at);
        assert!(r.last_used_at.is_empty() || Instant::parse(&r.last_used_at).is_ok());
    }
    let mut ids: Vec<&str> = out.signals.iter().map(|(_, r)| r.raw_id.as_str()).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "raw ids are unique");
    for d in &out.directory {
        for v in [&d.canonical_id, &d.alias] {
            assert!(v.starts_with("serial:") || v.starts_with("id:") || v.starts_with("name:"), "{v}");
            assert!(v != &format!("id:{ZERO_GUID}"));
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        let installed_opts: &[(&str, &str)] = &[("observed_at", "2026-11-21T06:00:00Z")];
        for (name, o) in [("sccm-installed", installed_opts), ("sccm-metering", &[])] {
            if let Ok(out) = run(name, &[("x.csv", bytes.clone())], o) {
                assert_canonical(&out, 1);
            }
        }
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..6,
        at in proptest::prelude::any::<proptest::sample::Index>(),
        with in proptest::sample::select(vec![",", "\"", "\r\n", "NULL", "/", ":", " ", "\\", "é", "", "0", "1", "13", "AM", "PM", "T", "-"]),
        cut in proptest::prelude::any::<bool>(),
    ) {
        for adapter in ["sccm-installed", "sccm-metering"] {
            let mut texts = fixture_texts(adapter);
            let i = which % texts.len();
            let t = &mut texts[i].1;
            let chars: Vec<char> = t.chars().collect();
            let p = at.index(chars.len().max(1));
            let mut s: String = chars[..p.min(chars.len())].iter().collect();
            if !cut {
                s.push_str(with);
                s.extend(chars.iter().skip(p + 1));
            }
            *t = s;
            let files: Vec<(&str, Vec<u8>)> = texts.iter().map(|(p, t)| (p.as_str(), t.as_bytes().to_vec())).collect();
            let o = fixture_options(adapter);
            let o: Vec<(&str, &str)> = o.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            if let Ok(out) = run(adapter, &files, &o) {
                assert_canonical(&out, files.len());
            }
        }
    }
}

#[test]
fn fixtures_meet_the_canonical_row_rules() {
    for name in ["sccm-installed", "sccm-metering"] {
        assert_canonical(&run_fixture(name), fixture_inputs(name).len());
    }
}
