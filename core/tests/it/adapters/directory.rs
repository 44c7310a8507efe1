//! Directory adapters `ad-users` (Active Directory through `Get-ADUser |
//! Export-Csv`) and `okta-users` (Okta Users API pages): the fixtures against
//! their expected identity facts, every culture, encoding and quirk with the
//! exact facts it must give, bad input, and end-to-end runs that carry
//! status and last activity into the evidence pack.

use super::{canonical_lines, fixture_dir, notes, opts, rejects};
use crate::common::SkuJson;
use crate::common::*;
use eucora_license_core::internal::adapters::{self, AdapterOutput, DirectoryEntry, InputFile};
use eucora_license_core::internal::evidence::write_pack;
use eucora_license_core::internal::tar;
use eucora_license_core::Error;
use serde_json::{json, Value};

fn inputs(adapter: &str) -> Vec<InputFile> {
    let dir = fixture_dir(adapter).join("input");
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names.into_iter().map(|n| InputFile { path: format!("imports/{adapter}/{n}"), bytes: std::fs::read(dir.join(&n)).unwrap() }).collect()
}

fn fixture_options(adapter: &str) -> Vec<(String, String)> {
    let path = fixture_dir(adapter).join("options.json");
    if !path.exists() {
        return Vec::new();
    }
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()
}

fn expected(adapter: &str) -> Vec<String> {
    std::fs::read_to_string(fixture_dir(adapter).join("expected-directory.jsonl")).unwrap().lines().map(str::to_string).collect()
}

fn run(adapter: &str, files: &[(&str, Vec<u8>)], kv: &[(&str, &str)]) -> Result<AdapterOutput, Error> {
    let files: Vec<InputFile> = files.iter().map(|(p, b)| InputFile { path: p.to_string(), bytes: b.clone() }).collect();
    adapters::run(adapter, &files, &opts(kv)).map(|(_, out)| out)
}

fn ok(adapter: &str, files: &[(&str, Vec<u8>)], kv: &[(&str, &str)]) -> AdapterOutput {
    run(adapter, files, kv).unwrap_or_else(|e| panic!("{adapter} failed: {e}"))
}

fn entry(canonical: &str, alias: &str, status: &str, last: &str) -> DirectoryEntry {
    DirectoryEntry {
        principal_type: "user".into(),
        canonical_id: canonical.into(),
        alias: alias.into(),
        status: status.into(),
        last_active_at: last.into(),
    }
}

fn rejects_of(out: &AdapterOutput) -> Vec<(usize, u64, &str, &str)> {
    let r = rejects(out);
    r.iter().map(|(f, l, c, code)| (*f, *l, leak(c), *code)).collect()
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// The evidence pack's `directory.json` of a run.
fn pack_directory(b: &Bundle) -> Vec<Value> {
    let out = b.run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let pack = write_pack(&out, Vec::new()).unwrap().0;
    let dir = tar::read(&pack).unwrap().into_iter().find(|e| e.name == "directory.json").unwrap().data.to_vec();
    serde_json::from_slice::<Value>(&dir).unwrap().as_array().unwrap().clone()
}

#[test]
fn both_are_registered_with_source_version_and_options() {
    let ad = adapters::by_name("ad-users").unwrap();
    assert_eq!((ad.source(), ad.version(), ad.option_keys()), ("ad", "1.0.0", &["culture", "netbios_domain", "utc_offset"][..]));
    let okta = adapters::by_name("okta-users").unwrap();
    assert_eq!((okta.source(), okta.version(), okta.option_keys()), ("okta", "1.0.0", &[][..]));
    let e = run("okta-users", &[], &[("observed_at", "2026-11-21T08:00:00Z")]).unwrap_err();
    assert!(e.to_string().contains("has no option `observed_at`"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// ad-users

const AD_HEADER: &str = "\"DistinguishedName\",\"Enabled\",\"GivenName\",\"LastLogonDate\",\"mail\",\"Name\",\"ObjectClass\",\"ObjectGUID\",\"SamAccountName\",\"SID\",\"Surname\",\"UserPrincipalName\"";

/// One quoted export row: (enabled, last logon, mail, sam, upn).
fn ad_row(enabled: &str, last: &str, mail: &str, sam: &str, upn: &str) -> String {
    let v = [
        format!("CN={sam},OU=Staff,DC=contoso,DC=com"),
        enabled.into(),
        "".into(),
        last.into(),
        mail.into(),
        sam.into(),
        "user".into(),
        "0b8e9d1c-0000-4000-8000-000000000001".into(),
        sam.into(),
        "S-1-5-21-1-2-3-1101".into(),
        "".into(),
        upn.into(),
    ];
    v.iter().map(|x| format!("\"{}\"", x.replace('"', "\"\""))).collect::<Vec<_>>().join(",")
}

fn ad_csv(header: &str, rows: &[String], sep: &str) -> Vec<u8> {
    let mut s = String::from("#TYPE Microsoft.ActiveDirectory.Management.ADUser\r\n");
    s.push_str(&header.replace("\",\"", &format!("\"{sep}\"")));
    s.push_str("\r\n");
    for r in rows {
        s.push_str(&r.replace("\",\"", &format!("\"{sep}\"")));
        s.push_str("\r\n");
    }
    s.into_bytes()
}

#[test]
fn ad_fixture_matches_expected_directory() {
    let files = inputs("ad-users");
    assert_eq!(files.len(), 2);
    assert!(files[0].bytes.starts_with(b"\xFF\xFE"), "users-1.csv is UTF-16 LE as Export-Csv -Encoding Unicode writes it");
    let options: adapters::Options = fixture_options("ad-users").into_iter().collect();
    let (adapter, out) = adapters::run("ad-users", &files, &options).unwrap();
    assert_eq!(adapter.name(), "ad-users");
    assert_eq!(canonical_lines(&out.directory), expected("ad-users"));
    assert!(out.signals.is_empty() && out.observations.is_empty());
    assert_eq!(out.records, vec![7, 6]);
    assert_eq!(
        rejects_of(&out),
        vec![
            (1, 4, "UserPrincipalName", "duplicate_record"),
            (1, 5, "Enabled", "invalid_field"),
            (1, 6, "LastLogonDate", "malformed_instant")
        ]
    );
    assert_eq!(notes(&out), vec![(1, "1 user row(s) repeated identically were skipped".to_string())]);
}

#[test]
fn ad_cultures_give_the_same_facts() {
    let en_us = ad_csv(
        AD_HEADER,
        &[
            ad_row("True", "11/21/2026 5:42:07 PM", "Alice.Smith@contoso.com", "asmith", "alice@contoso.com"),
            ad_row("False", "1/2/2026 12:05:00 AM", "", "bjones", "bob@contoso.com"),
        ],
        ",",
    );
    let en_gb = ad_csv(
        AD_HEADER,
        &[
            ad_row("True", "21/11/2026 17:42:07", "Alice.Smith@contoso.com", "asmith", "alice@contoso.com"),
            ad_row("False", "02/01/2026 00:05:00", "", "bjones", "bob@contoso.com"),
        ],
        ",",
    );
    // de-DE with Export-Csv -UseCulture: `;` separates.
    let de_de = ad_csv(
        AD_HEADER,
        &[
            ad_row("True", "21.11.2026 17:42:07", "Alice.Smith@contoso.com", "asmith", "alice@contoso.com"),
            ad_row("False", "02.01.2026 00:05:00", "", "bjones", "bob@contoso.com"),
        ],
        ";",
    );
    let iso = ad_csv(
        AD_HEADER,
        &[
            ad_row("True", "2026-11-21 17:42:07", "Alice.Smith@contoso.com", "asmith", "alice@contoso.com"),
            ad_row("False", "2026-01-02T00:05:00+01:00", "", "bjones", "bob@contoso.com"),
        ],
        ",",
    );
    let want = vec![
        entry("alice@contoso.com", "Alice.Smith@contoso.com", "active", "2026-11-21T17:42:07+01:00"),
        entry("alice@contoso.com", "asmith", "active", "2026-11-21T17:42:07+01:00"),
        entry("bob@contoso.com", "bjones", "disabled", "2026-01-02T00:05:00+01:00"),
    ];
    for (culture, bytes) in [("en-US", en_us), ("en-GB", en_gb.clone()), ("fr-FR", en_gb), ("de-DE", de_de), ("iso", iso)] {
        let out = ok("ad-users", &[("imports/ad-users/u.csv", bytes)], &[("culture", culture), ("utc_offset", "+01:00")]);
        assert_eq!(out.directory, want, "{culture}");
        assert!(out.rejected.is_empty(), "{culture}: {:?}", out.rejected);
    }
}

#[test]
fn ad_dates_of_another_culture_are_rejected_never_guessed() {
    // 02/01/2026 is 1 February in en-US and 2 January in en-GB; the default
    // culture (iso) reads neither.
    let csv = ad_csv(AD_HEADER, &[ad_row("True", "02/01/2026 10:00:00", "", "asmith", "alice@contoso.com")], ",");
    let out = ok("ad-users", &[("imports/ad-users/u.csv", csv.clone())], &[]);
    assert_eq!(rejects_of(&out), vec![(0, 3, "LastLogonDate", "malformed_instant")]);
    assert!(out.rejected[0].1.message.contains("option `culture`"), "{}", out.rejected[0].1.message);
    assert!(!out.rejected[0].1.message.contains("02/01/2026"), "the value is not echoed");
    assert!(out.directory.is_empty());
    let gb = ok("ad-users", &[("u.csv", csv.clone())], &[("culture", "en-GB")]);
    assert_eq!(gb.directory[0].last_active_at, "2026-01-02T10:00:00+00:00");
    // en-US writes a 12-hour clock with AM/PM: the en-GB text is not en-US.
    let us = ok("ad-users", &[("u.csv", csv)], &[("culture", "en-US")]);
    assert_eq!(rejects_of(&us), vec![(0, 3, "LastLogonDate", "malformed_instant")]);
    let csv = ad_csv(AD_HEADER, &[ad_row("True", "2/1/2026 10:00:00 AM", "", "asmith", "alice@contoso.com")], ",");
    let us = ok("ad-users", &[("u.csv", csv)], &[("culture", "en-US")]);
    assert_eq!(us.directory[0].last_active_at, "2026-02-01T10:00:00+00:00");
}

#[test]
fn ad_aliases_status_and_accounts_without_upn() {
    let csv = ad_csv(
        AD_HEADER,
        &[
            // mail equal to the UPN (other case): no mail alias.
            ad_row("True", "", "ALICE@contoso.com", "asmith", "alice@contoso.com"),
            // No UPN: known by its sAMAccountName; no alias but the domain form.
            ad_row("False", "", "", "svc-sql", ""),
            // Enabled empty (not read): unknown status, still a fact.
            ad_row("", "", "", "carol", "carol@contoso.com"),
            // Neither UPN nor sAMAccountName.
            ad_row("True", "", "x@contoso.com", "", ""),
        ],
        ",",
    );
    let out = ok("ad-users", &[("u.csv", csv.clone())], &[("netbios_domain", "contoso")]);
    assert_eq!(
        out.directory,
        vec![
            entry("alice@contoso.com", "CONTOSO\\asmith", "active", ""),
            entry("alice@contoso.com", "asmith", "active", ""),
            entry("carol@contoso.com", "CONTOSO\\carol", "", ""),
            entry("carol@contoso.com", "carol", "", ""),
            entry("svc-sql", "CONTOSO\\svc-sql", "disabled", ""),
        ]
    );
    assert_eq!(rejects_of(&out), vec![(0, 6, "UserPrincipalName", "missing_field")]);
    // Without netbios_domain the UPN-less account still yields its row (empty alias).
    let out = ok("ad-users", &[("u.csv", csv)], &[]);
    assert!(out.directory.contains(&entry("svc-sql", "", "disabled", "")), "{:?}", out.directory);
}

#[test]
fn ad_encodings_and_export_variants_read_alike() {
    let body = format!("{AD_HEADER}\r\n{}\r\n", ad_row("True", "2026-11-21 10:00:00", "", "asmith", "alice@contoso.com"));
    let want = vec![entry("alice@contoso.com", "asmith", "active", "2026-11-21T10:00:00+00:00")];
    let utf16le: Vec<u8> = b"\xFF\xFE".iter().copied().chain(body.encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
    let utf16be: Vec<u8> = b"\xFE\xFF".iter().copied().chain(body.encode_utf16().flat_map(|u| u.to_be_bytes())).collect();
    let utf8bom: Vec<u8> = b"\xEF\xBB\xBF".iter().copied().chain(body.bytes()).collect();
    // PowerShell 7: no #TYPE line, LF, unquoted values are allowed (-UseQuotes AsNeeded).
    let ps7 =
        "SamAccountName,UserPrincipalName,Enabled,LastLogonDate\nasmith,alice@contoso.com,True,2026-11-21 10:00:00\n".as_bytes().to_vec();
    for (what, bytes) in [("utf-16 le", utf16le), ("utf-16 be", utf16be), ("utf-8 bom", utf8bom), ("ps7", ps7)] {
        assert_eq!(ok("ad-users", &[("u.csv", bytes)], &[]).directory, want, "{what}");
    }
}

#[test]
fn ad_bad_input_fails_naming_file_and_position_without_echoing_values() {
    // Not this export: a column is missing.
    let e = run("ad-users", &[("imports/ad-users/u.csv", b"\"SamAccountName\",\"mail\"\r\n\"a\",\"b\"\r\n".to_vec())], &[]).unwrap_err();
    assert_eq!(e.code().name(), "invalid_input");
    let loc = e.location().unwrap();
    assert_eq!((loc.file.as_str(), loc.field.as_deref()), ("imports/ad-users/u.csv", Some("UserPrincipalName")));
    // Not text.
    let e = run("ad-users", &[("imports/ad-users/u.csv", b"\xFF\x00\x01".to_vec())], &[]).unwrap_err();
    assert_eq!(e.location().unwrap().file, "imports/ad-users/u.csv");
    // A semicolon export with a stray comma outside quotes.
    let bad = format!("{}\r\n\"a\";b,c;\"d\"\r\n", AD_HEADER.replace("\",\"", "\";\""));
    let e = run("ad-users", &[("imports/ad-users/u.csv", bad.into_bytes())], &[]).unwrap_err();
    assert_eq!(e.location().unwrap().line, Some(2), "{e}");
    // Options: the value is never echoed.
    for (k, v) in [("culture", "xx-SECRET"), ("utc_offset", "SECRET"), ("netbios_domain", "SE CRET\\x")] {
        let e = run("ad-users", &[], &[(k, v)]).unwrap_err();
        assert_eq!(e.code().name(), "invalid_input");
        assert!(!e.to_string().contains("SECRET") && !e.to_string().contains("CRET"), "{e}");
    }
    // An empty file is no export and no error: nothing read.
    let out = ok("ad-users", &[("u.csv", Vec::new())], &[]);
    assert_eq!(out.records, vec![0]);
}

#[test]
fn ad_end_to_end_resolves_windows_names_and_keeps_facts_in_the_pack() {
    let csv = ad_csv(
        AD_HEADER,
        &[
            ad_row("True", "11/21/2026 9:00:00 AM", "Alice.Smith@contoso.com", "asmith", "alice@contoso.com"),
            ad_row("False", "6/30/2026 5:00:00 PM", "", "cwhite", "carol@contoso.com"),
        ],
        ",",
    );
    let b = Bundle::new()
        .sku("visio", "user")
        .entitle("visio", 5)
        .rule(&["identity", "strip_netbios_domain"], json!(true))
        .param("adapter_options", json!({"ad-users": {"culture": "en-US", "utc_offset": "-05:00"}}))
        .file("imports/ad-users/users.csv", &csv)
        // SCCM names users DOMAIN\sam; the AD facts map them to the UPN.
        .signal(&sig("sccm", "1", RECENT, "visio", "usage", &[("user", "CONTOSO\\asmith")]))
        .signal(&sig("sccm", "2", RECENT, "visio", "usage", &[("user", "carol@contoso.com")]))
        .signal(&sig("entra", "3", RECENT, "visio", "assignment", &[("user", "alice.smith@contoso.com")]))
        .signal(&sig("entra", "4", RECENT, "visio", "assignment", &[("user", "cwhite")]));
    let (_, snap) = run_ok(&b);
    assert_eq!(snap.sku_json("visio").unwrap()["consumed"], 2, "two people, four names");
    let dir = pack_directory(&b);
    let carol: Vec<&Value> = dir.iter().filter(|r| r["canonical_id"] == "carol@contoso.com").collect();
    assert_eq!(carol.len(), 1);
    assert_eq!(carol[0]["status"], "disabled");
    assert_eq!(carol[0]["last_active_at"], "2026-06-30T22:00:00Z", "normalised to UTC in the pack");
    assert!(dir
        .iter()
        .filter(|r| r["canonical_id"] == "alice@contoso.com")
        .all(|r| r["status"] == "active" && r["last_active_at"] == "2026-11-21T14:00:00Z"));
}

// ---------------------------------------------------------------------------------------------
// okta-users

fn okta_user(id: &str, status: Value, last: Value, login: &str, email: &str) -> Value {
    json!({"id": id, "status": status, "created": "2025-01-01T00:00:00.000Z", "lastLogin": last,
           "profile": {"login": login, "email": email, "firstName": "A", "lastName": "B"},
           "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}}})
}

fn okta_page(users: Value) -> Vec<u8> {
    serde_json::to_vec_pretty(&users).unwrap()
}

#[test]
fn okta_fixture_matches_expected_directory() {
    let files = inputs("okta-users");
    let (adapter, out) = adapters::run("okta-users", &files, &adapters::Options::new()).unwrap();
    assert_eq!(adapter.name(), "okta-users");
    assert_eq!(canonical_lines(&out.directory), expected("okta-users"));
    assert!(out.signals.is_empty() && out.observations.is_empty());
    assert_eq!(out.records, vec![4, 6]);
    assert_eq!(
        rejects_of(&out),
        vec![(1, 3, "status", "unknown_state"), (1, 4, "lastLogin", "malformed_instant"), (1, 5, "profile.login", "missing_field")]
    );
    assert_eq!(notes(&out), vec![(1, "1 user record(s) repeated identically from an earlier page were skipped".to_string())]);
}

#[test]
fn okta_every_status_maps_to_active_or_disabled() {
    let statuses = ["STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT", "SUSPENDED", "DEPROVISIONED"];
    let users: Vec<Value> = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| okta_user(&format!("00u{i}"), json!(s), Value::Null, &format!("u{i}@x.com"), &format!("u{i}@x.com")))
        .collect();
    let out = ok("okta-users", &[("p.json", okta_page(json!(users)))], &[]);
    let got: Vec<(String, String)> = out.directory.iter().map(|d| (d.canonical_id.clone(), d.status.clone())).collect();
    let want: Vec<(String, String)> = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("u{i}@x.com"), if matches!(*s, "SUSPENDED" | "DEPROVISIONED") { "disabled" } else { "active" }.to_string()))
        .collect();
    assert_eq!(got, want);
    // Never signed in: unknown last activity.
    assert!(out.directory.iter().all(|d| d.last_active_at.is_empty()));
}

#[test]
fn okta_record_problems_reject_the_record_only() {
    let page = json!([
        okta_user("00ua", json!("ACTIVE"), json!("2026-11-21T08:00:00.000Z"), "a@x.com", "a@x.com"),
        "not an object",
        {"status": "ACTIVE", "profile": {"login": "b@x.com"}},
        {"id": 7, "profile": {"login": "c@x.com"}},
        okta_user("00ud", json!(3), Value::Null, "d@x.com", "d@x.com"),
        okta_user("00ue", json!("ACTIVE"), json!(1_700_000_000), "e@x.com", "e@x.com"),
        {"id": "00uf", "status": "ACTIVE", "profile": "f@x.com"},
        okta_user("00ug", json!("ACTIVE"), Value::Null, "g@x.com", "g@x.com"),
        okta_user("00ug", json!("SUSPENDED"), Value::Null, "g@x.com", "g@x.com"),
        {"id": "00uh", "profile": {"login": "h@x.com", "email": 5}},
        {"id": "00ui", "lastLogin": "2026-11-21T08:00:00", "profile": {"login": "i@x.com"}},
    ]);
    let out = ok("okta-users", &[("p.json", okta_page(page))], &[]);
    assert_eq!(
        rejects_of(&out),
        vec![
            (0, 2, "$", "invalid_record"),
            (0, 3, "id", "missing_field"),
            (0, 4, "id", "invalid_field"),
            (0, 5, "status", "invalid_field"),
            (0, 6, "lastLogin", "invalid_field"),
            (0, 7, "profile", "invalid_field"),
            (0, 9, "id", "duplicate_record"),
            (0, 10, "profile.email", "invalid_field"),
        ]
    );
    assert_eq!(
        out.directory,
        vec![
            entry("a@x.com", "00ua", "active", "2026-11-21T08:00:00.000Z"),
            entry("g@x.com", "00ug", "active", ""),
            // No status given: unknown; a lastLogin without offset is read as UTC.
            entry("i@x.com", "00ui", "", "2026-11-21T08:00:00+00:00"),
        ]
    );
}

#[test]
fn okta_bad_pages_fail_naming_the_file() {
    for (bytes, field) in [(b"{\"value\": []}".to_vec(), Some("$")), (b"[{\"id\": \"00u1\",".to_vec(), None)] {
        let e = run("okta-users", &[("imports/okta-users/p.json", bytes)], &[]).unwrap_err();
        assert_eq!(e.code().name(), "invalid_input");
        let loc = e.location().unwrap();
        assert_eq!(loc.file, "imports/okta-users/p.json");
        if field.is_some() {
            assert_eq!(loc.field.as_deref(), field);
        } else {
            assert!(loc.line.is_some(), "{e}");
        }
    }
}

#[test]
fn okta_pages_in_utf16_or_with_a_bom_read_alike() {
    let page = serde_json::to_string(&json!([okta_user("00ua", json!("ACTIVE"), json!("2026-11-21T08:00:00.000Z"), "a@x.com", "A@x.com")]))
        .unwrap();
    let want = vec![entry("a@x.com", "00ua", "active", "2026-11-21T08:00:00.000Z")];
    let utf16le: Vec<u8> = b"\xFF\xFE".iter().copied().chain(page.encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
    let utf8bom: Vec<u8> = b"\xEF\xBB\xBF".iter().copied().chain(page.bytes()).collect();
    for bytes in [page.clone().into_bytes(), utf16le, utf8bom] {
        assert_eq!(ok("okta-users", &[("p.json", bytes)], &[]).directory, want);
    }
}

#[test]
fn okta_end_to_end_keeps_status_and_last_login_in_the_pack() {
    let page = json!([
        okta_user("00ua", json!("SUSPENDED"), json!("2026-08-02T17:00:00.000Z"), "ann@example.com", "ann.lee@example.com"),
        okta_user("00ub", json!("ACTIVE"), json!("2026-11-21T08:00:00.000Z"), "bo@example.com", "bo@example.com"),
    ]);
    let b = Bundle::new()
        .sku("zoom", "user")
        .entitle("zoom", 5)
        .file("imports/okta-users/page-1.json", &okta_page(page))
        .signal(&sig("zoom", "1", RECENT, "zoom", "assignment", &[("user", "ann.lee@example.com")]))
        .signal(&sig("zoom", "2", RECENT, "zoom", "assignment", &[("user", "ann@example.com")]));
    let (out, snap) = run_ok(&b);
    assert_eq!(snap.sku_json("zoom").unwrap()["consumed"], 1, "the e-mail alias joins the login");
    let job = out.inputs.as_ref().unwrap().jobs.iter().find(|j| j.adapter == "okta-users").unwrap().clone();
    assert_eq!((job.rows_total, job.rows_accepted, job.rows_rejected), (2, 0, 0));
    let dir = pack_directory(&b);
    let ann: Vec<&Value> = dir.iter().filter(|r| r["canonical_id"] == "ann@example.com").collect();
    assert_eq!(ann.len(), 2);
    assert!(ann.iter().all(|r| r["status"] == "disabled" && r["last_active_at"] == "2026-08-02T17:00:00Z"));
}

// ---------------------------------------------------------------------------------------------
// no input panics, and every fact the adapters emit meets the directory's row rule

/// What the run reads from an adapter's facts (DESIGN A1 `directory.csv`):
/// a user row with a canonical id, a status of the vocabulary and an RFC 3339
/// last activity with offset (or empty); one record count per file.
fn assert_directory_rules(out: &AdapterOutput, files: usize) {
    use eucora_license_core::internal::time::Instant;
    assert_eq!(out.records.len(), files);
    assert!(out.signals.is_empty());
    for d in &out.directory {
        assert_eq!(d.principal_type, "user");
        assert!(!d.canonical_id.trim().is_empty(), "{d:?}");
        assert!(matches!(d.status.as_str(), "" | "active" | "disabled"), "{d:?}");
        assert!(d.last_active_at.is_empty() || Instant::parse(&d.last_active_at).is_ok(), "{d:?}");
    }
    for (f, _) in &out.rejected {
        assert!(*f < files);
    }
}

fn fixture_texts(adapter: &str) -> Vec<(String, Vec<u8>)> {
    inputs(adapter).into_iter().map(|f| (f.path, f.bytes)).collect()
}

#[test]
fn no_input_prefix_panics() {
    for adapter in ["ad-users", "okta-users"] {
        let options = fixture_options(adapter);
        let o: Vec<(&str, &str)> = options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for (path, bytes) in fixture_texts(adapter) {
            for n in 0..bytes.len() {
                if let Ok(out) = run(adapter, &[(path.as_str(), bytes[..n].to_vec())], &o) {
                    assert_directory_rules(&out, 1);
                }
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        for (adapter, o) in [("ad-users", &[("culture", "en-US")][..]), ("ad-users", &[][..]), ("okta-users", &[][..])] {
            if let Ok(out) = run(adapter, &[("x", bytes.clone())], o) {
                assert_directory_rules(&out, 1);
            }
        }
    }

    /// The fixtures with one character replaced by (or cut at) a character
    /// that matters to the formats: separators, quotes, date punctuation.
    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..2,
        at in proptest::prelude::any::<proptest::sample::Index>(),
        with in proptest::sample::select(vec![",", ";", "\"", "\r\n", "#TYPE ", "/", ".", ":", " ", "\\", "é", "", "0", "12", "13", "AM", "PM", "T", "Z", "{", "}", "[", "]", "null", "true"]),
        cut in proptest::prelude::any::<bool>(),
    ) {
        for adapter in ["ad-users", "okta-users"] {
            let mut texts: Vec<(String, String)> = fixture_texts(adapter)
                .into_iter()
                .map(|(p, b)| (p, adapters::decode_text("x", &b).unwrap()))
                .collect();
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
            let options = fixture_options(adapter);
            let o: Vec<(&str, &str)> = options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            if let Ok(out) = run(adapter, &files, &o) {
                assert_directory_rules(&out, files.len());
            }
        }
    }
}
