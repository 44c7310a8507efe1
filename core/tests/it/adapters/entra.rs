//! Entra ID adapters (`entra-users`, `entra-subscribed-skus`) over Microsoft
//! Graph v1.0 pages: every quirk with the exact rows it must produce, the
//! fixtures against their expected files, bad input, and an end-to-end run.

use super::{canonical_lines, fixture_dir, opts, rejects, signals};
use crate::common::*;
use eucora_license_core::internal::adapters::{self, AdapterOutput, DirectoryEntry, EntitlementObservation, InputFile, Options, SignalRow};
use eucora_license_core::{Error, RunStatus};
use serde_json::{json, Value};

const E3: &str = "05e9a617-0261-4cee-bb44-138d3ef5d965";
const E5: &str = "06ebc4ee-1bb5-47dd-8120-11324bc54e06";
const VISIO: &str = "c5928f49-12ba-48f7-ada3-0d743a3601d5";
const U1: &str = "6c733b2a-71bf-4e30-b9ca-7678784fb067";
const U2: &str = "90f5b8a2-6286-4898-a206-b9f33702f513";
const U3: &str = "c70bcf9f-1d8a-4e82-b4d5-00fcda5e1440";
const GROUP: &str = "d1cad8da-8c7e-4543-9c1a-544375b13561";
const USERS_CTX: &str =
    "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,mail,accountEnabled,assignedLicenses,licenseAssignmentStates,signInActivity)";
const SKUS_CTX: &str = "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus";

// ---------------------------------------------------------------------------------------------
// helpers

/// A Graph `/users` page holding `records`; `next` adds an `@odata.nextLink`.
fn users_page(records: Value, next: bool) -> Vec<u8> {
    let mut p = json!({"@odata.context": USERS_CTX, "value": records});
    if next {
        p["@odata.nextLink"] = json!("https://graph.microsoft.com/v1.0/users?$top=2&$skiptoken=RFNwdAIAAQAAAC");
    }
    serde_json::to_vec_pretty(&p).unwrap()
}

fn input(path: &str, bytes: Vec<u8>) -> InputFile {
    InputFile { path: path.to_string(), bytes }
}

fn run(adapter: &str, files: &[InputFile], options: &[(&str, &str)]) -> Result<AdapterOutput, Error> {
    adapters::run(adapter, files, &opts(options)).map(|(_, out)| out)
}

/// `entra-users` over one page of `records` (no next link).
fn users(records: Value, options: &[(&str, &str)]) -> AdapterOutput {
    run("entra-users", &[input("imports/entra-users/page-1.json", users_page(records, false))], options).expect("adapter run")
}

fn assignment(user_id: &str, sku: &str, at: &str, product: &str, status: &str, upn: &str) -> SignalRow {
    SignalRow {
        source: "entra".into(),
        raw_id: format!("{user_id}:{sku}"),
        observed_at: at.into(),
        product: product.into(),
        kind: "assignment".into(),
        status: status.into(),
        user: upn.into(),
        ..Default::default()
    }
}

fn usage(user_id: &str, sku: &str, at: &str, product: &str, upn: &str) -> SignalRow {
    SignalRow {
        source: "entra".into(),
        raw_id: format!("{user_id}:{sku}:signin"),
        observed_at: at.into(),
        product: product.into(),
        kind: "usage".into(),
        user: upn.into(),
        last_used_at: at.into(),
        ..Default::default()
    }
}

fn alias(upn: &str, alias: &str) -> DirectoryEntry {
    DirectoryEntry { principal_type: "user".into(), canonical_id: upn.into(), alias: alias.into(), ..Default::default() }
}

/// An alias row of an account with its status and last activity.
fn account(upn: &str, alias: &str, status: &str, last_active_at: &str) -> DirectoryEntry {
    DirectoryEntry { status: status.into(), last_active_at: last_active_at.into(), ..self::alias(upn, alias) }
}

/// A licensed user record with one licenseAssignmentState per `states` entry.
fn user(id: &str, upn: &str, assigned: &[&str], states: Value, sign_in: Value) -> Value {
    json!({
        "id": id, "userPrincipalName": upn, "mail": upn, "accountEnabled": true,
        "assignedLicenses": assigned.iter().map(|s| json!({"skuId": s, "disabledPlans": []})).collect::<Vec<_>>(),
        "licenseAssignmentStates": states,
        "signInActivity": sign_in,
    })
}

fn state(sku: &str, state: &str, at: &str) -> Value {
    json!({"skuId": sku, "assignedByGroup": null, "disabledPlans": [], "state": state, "error": null, "lastUpdatedDateTime": at})
}

/// The fixture's raw files (`input/`, sorted) as they would sit under `imports/<adapter>/`.
fn fixture_inputs(adapter: &str) -> Vec<InputFile> {
    let dir = fixture_dir(adapter).join("input");
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names.into_iter().map(|n| input(&format!("imports/{adapter}/{n}"), std::fs::read(dir.join(&n)).unwrap())).collect()
}

fn fixture_options(adapter: &str) -> Options {
    let v: Value = serde_json::from_slice(&std::fs::read(fixture_dir(adapter).join("options.json")).unwrap()).unwrap();
    v.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()
}

fn fixture_lines(adapter: &str, file: &str) -> Vec<String> {
    std::fs::read_to_string(fixture_dir(adapter).join(file)).unwrap().lines().map(str::to_string).collect()
}

fn invalid_input_at(r: Result<AdapterOutput, Error>, file: &str) -> Error {
    let e = r.expect_err("expected an error");
    assert_eq!(e.code().name(), "invalid_input", "{e}");
    assert_eq!(e.location().map(|l| l.file.as_str()), Some(file), "{e}");
    e
}

// ---------------------------------------------------------------------------------------------
// fixtures

#[test]
fn users_fixture_matches_expected_jsonl() {
    let files = fixture_inputs("entra-users");
    assert_eq!(files.len(), 3);
    let (adapter, out) = adapters::run("entra-users", &files, &fixture_options("entra-users")).unwrap();
    assert_eq!((adapter.name(), adapter.version(), adapter.source()), ("entra-users", "1.1.0", "entra"));
    assert_eq!(canonical_lines(&signals(&out)), fixture_lines("entra-users", "expected.jsonl"));
    assert_eq!(canonical_lines(&out.directory), fixture_lines("entra-users", "expected-directory.jsonl"));
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert!(out.notes.is_empty(), "{:?}", out.notes);
    assert!(out.observations.is_empty());
    assert_eq!(out.records, vec![3, 3, 4]);
    // Signals keep the page they came from: 4, 8 and 6 rows.
    let per_file: Vec<usize> = (0..3).map(|f| out.signals.iter().filter(|(o, _)| o.file == f).count()).collect();
    assert_eq!(per_file, vec![4, 8, 6]);
}

#[test]
fn subscribed_skus_fixture_matches_expected_files() {
    let files = fixture_inputs("entra-subscribed-skus");
    let (adapter, out) = adapters::run("entra-subscribed-skus", &files, &fixture_options("entra-subscribed-skus")).unwrap();
    assert_eq!((adapter.name(), adapter.version(), adapter.source()), ("entra-subscribed-skus", "1.0.0", "entra"));
    assert_eq!(canonical_lines(&signals(&out)), fixture_lines("entra-subscribed-skus", "expected.jsonl"));
    assert!(out.signals.is_empty() && out.directory.is_empty() && out.rejected.is_empty());
    assert_eq!(canonical_lines(&out.observations), fixture_lines("entra-subscribed-skus", "expected-observations.jsonl"));
    assert_eq!(out.records, vec![6]);
}

#[test]
fn adapters_are_registered_in_name_order() {
    let names: Vec<&str> = adapters::all().iter().map(|a| a.name()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.contains(&"entra-users") && names.contains(&"entra-subscribed-skus"));
}

// ---------------------------------------------------------------------------------------------
// paging

#[test]
fn pages_across_files_are_read_in_path_order() {
    let p1 = users_page(json!([user(U1, "a@contoso.com", &[E3], json!([state(E3, "Active", "2026-11-01T00:00:00Z")]), Value::Null)]), true);
    let p2 =
        users_page(json!([user(U2, "b@contoso.com", &[E3], json!([state(E3, "Active", "2026-11-02T00:00:00Z")]), Value::Null)]), false);
    let out = run("entra-users", &[input("imports/entra-users/p1.json", p1), input("imports/entra-users/p2.json", p2)], &[]).unwrap();
    assert_eq!(
        out.signals,
        vec![
            (adapters::Origin { file: 0, line: 1 }, assignment(U1, E3, "2026-11-01T00:00:00Z", E3, "active", "a@contoso.com")),
            (adapters::Origin { file: 1, line: 1 }, assignment(U2, E3, "2026-11-02T00:00:00Z", E3, "active", "b@contoso.com")),
        ]
    );
    assert_eq!(out.records, vec![1, 1]);
    assert!(out.notes.is_empty());
}

#[test]
fn page_chain_is_checked_by_count_not_file_order() {
    let rec = |id: &str, upn: &str| json!([user(id, upn, &[], json!([]), Value::Null)]);
    // page-10 (the last page, no next link) sorts before page-2: still complete.
    let files = vec![
        input("imports/entra-users/page-1.json", users_page(rec(U1, "a@x.com"), true)),
        input("imports/entra-users/page-10.json", users_page(rec(U2, "b@x.com"), false)),
        input("imports/entra-users/page-2.json", users_page(rec(U3, "c@x.com"), true)),
    ];
    let out = run("entra-users", &files, &[]).unwrap();
    assert!(out.notes.is_empty(), "{:?}", out.notes);

    // Every page points onwards: the last page is missing.
    let files = vec![
        input("imports/entra-users/page-1.json", users_page(rec(U1, "a@x.com"), true)),
        input("imports/entra-users/page-2.json", users_page(rec(U2, "b@x.com"), true)),
    ];
    let out = run("entra-users", &files, &[]).unwrap();
    assert_eq!(out.notes, vec![(1, "every page has @odata.nextLink: the export looks incomplete (its last page is missing)".to_string())]);

    // Two final pages: two exports in one folder?
    let files = vec![
        input("imports/entra-users/a.json", users_page(rec(U1, "a@x.com"), false)),
        input("imports/entra-users/b.json", users_page(rec(U2, "b@x.com"), false)),
    ];
    let out = run("entra-users", &files, &[]).unwrap();
    let msg = "2 pages have no @odata.nextLink: the folder may hold more than one export".to_string();
    assert_eq!(out.notes, vec![(0, msg.clone()), (1, msg)]);
}

#[test]
fn a_user_repeated_across_pages_is_read_once() {
    let r1 = user(U1, "a@contoso.com", &[E3], json!([state(E3, "Active", "2026-11-01T00:00:00Z")]), Value::Null);
    let mut changed = r1.clone();
    changed["licenseAssignmentStates"][0]["lastUpdatedDateTime"] = json!("2026-11-05T00:00:00Z");
    let files = vec![
        input("imports/entra-users/p1.json", users_page(json!([r1.clone()]), true)),
        input("imports/entra-users/p2.json", users_page(json!([r1]), true)),
        input("imports/entra-users/p3.json", users_page(json!([changed]), false)),
    ];
    let out = run("entra-users", &files, &[]).unwrap();
    assert_eq!(signals(&out), vec![assignment(U1, E3, "2026-11-01T00:00:00Z", E3, "active", "a@contoso.com")]);
    assert_eq!(out.notes, vec![(1, "1 user record(s) repeated identically from an earlier page were skipped".to_string())]);
    assert_eq!(rejects(&out), vec![(2, 1, "id".to_string(), "duplicate_record")]);
    assert_eq!(out.records, vec![1, 1, 1]);
}

// ---------------------------------------------------------------------------------------------
// timestamps

#[test]
fn timestamps_with_zero_to_seven_fraction_digits_are_kept_as_written() {
    let stamps = [
        "2026-11-20T10:00:00Z",
        "2026-11-20T10:00:00.1Z",
        "2026-11-20T10:00:00.12Z",
        "2026-11-20T10:00:00.123Z",
        "2026-11-20T10:00:00.1234Z",
        "2026-11-20T10:00:00.12345Z",
        "2026-11-20T10:00:00.123456Z",
        "2026-11-20T10:00:00.1234567Z",
    ];
    let ids: Vec<String> = (0..stamps.len()).map(|i| format!("00000000-0000-4000-8000-00000000000{i}")).collect();
    let records: Vec<Value> = stamps
        .iter()
        .zip(&ids)
        .map(|(at, id)| {
            user(id, &format!("{id}@contoso.com"), &[E3], json!([state(E3, "Active", at)]), json!({"lastSuccessfulSignInDateTime": at}))
        })
        .collect();
    let out = users(Value::Array(records), &[]);
    let mut want = Vec::new();
    for (at, id) in stamps.iter().zip(&ids) {
        let upn = format!("{id}@contoso.com");
        want.push(assignment(id, E3, at, E3, "active", &upn));
        want.push(usage(id, E3, at, E3, &upn));
    }
    assert_eq!(signals(&out), want);
    assert!(out.rejected.is_empty());
}

#[test]
fn a_graph_timestamp_without_offset_is_read_at_utc() {
    let out = users(
        json!([user(
            U1,
            "a@contoso.com",
            &[E3],
            json!([state(E3, "Active", "2026-11-20T10:00:00.25")]),
            json!({"lastSuccessfulSignInDateTime": "2026-11-21T09:00:00"})
        )]),
        &[],
    );
    assert_eq!(
        signals(&out),
        vec![
            assignment(U1, E3, "2026-11-20T10:00:00.25+00:00", E3, "active", "a@contoso.com"),
            usage(U1, E3, "2026-11-21T09:00:00+00:00", E3, "a@contoso.com"),
        ]
    );
}

#[test]
fn the_latest_state_timestamp_is_compared_as_an_instant() {
    // Byte order would pick "…00Z" ('Z' > '.'); in time ".5Z" is later.
    let states = json!([
        {"skuId": E3, "assignedByGroup": null, "state": "Active", "lastUpdatedDateTime": "2026-11-10T07:30:00Z"},
        {"skuId": E3, "assignedByGroup": GROUP, "state": "Active", "lastUpdatedDateTime": "2026-11-10T07:30:00.5Z"},
    ]);
    let out = users(json!([user(U1, "a@contoso.com", &[E3], states, Value::Null)]), &[]);
    assert_eq!(signals(&out), vec![assignment(U1, E3, "2026-11-10T07:30:00.5Z", E3, "active", "a@contoso.com")]);
}

#[test]
fn a_malformed_timestamp_rejects_only_its_pair_or_the_usage() {
    let states = json!([state(E3, "Active", "20/11/2026 10:00"), state(VISIO, "Active", "2026-11-20T10:00:00Z")]);
    let out = users(json!([user(U1, "a@contoso.com", &[E3, VISIO], states, json!({"lastSuccessfulSignInDateTime": "yesterday"}))]), &[]);
    assert_eq!(signals(&out), vec![assignment(U1, VISIO, "2026-11-20T10:00:00Z", VISIO, "active", "a@contoso.com")]);
    assert_eq!(
        rejects(&out),
        vec![
            (0, 1, "licenseAssignmentStates.lastUpdatedDateTime".to_string(), "malformed_instant"),
            (0, 1, "signInActivity".to_string(), "malformed_instant"),
        ]
    );
}

#[test]
fn observed_at_option_dates_assignments_without_a_state_timestamp() {
    // assignedLicenses only (licenseAssignmentStates not selected).
    let rec = json!([{"id": U1, "userPrincipalName": "a@contoso.com", "assignedLicenses": [{"skuId": E3, "disabledPlans": []}]}]);
    let page = || vec![input("imports/entra-users/page-1.json", users_page(rec.clone(), false))];
    let e = invalid_input_at(run("entra-users", &page(), &[]), "imports/entra-users/page-1.json");
    assert_eq!(e.location().unwrap().line, Some(1));
    assert!(e.message().contains("observed_at"), "{e}");

    let out = run("entra-users", &page(), &[("observed_at", "2026-11-22T05:00:00Z")]).unwrap();
    assert_eq!(signals(&out), vec![assignment(U1, E3, "2026-11-22T05:00:00Z", E3, "active", "a@contoso.com")]);

    for bad in ["2026-11-22T05:00:00", "yesterday", ""] {
        let e = run("entra-users", &page(), &[("observed_at", bad)]).err().unwrap();
        assert_eq!(e.code().name(), "invalid_input");
        assert!(e.message().contains("observed_at"), "{e}");
    }
}

#[test]
fn assignment_time_export_dates_every_assignment_at_the_export() {
    let rec = json!([user(
        U1,
        "a@contoso.com",
        &[E3],
        json!([state(E3, "Active", "2024-01-01T00:00:00Z")]),
        json!({"lastSuccessfulSignInDateTime": "2026-11-21T09:00:00Z"})
    )]);
    let out = users(rec.clone(), &[("assignment_time", "export"), ("observed_at", "2026-11-22T05:00:00Z")]);
    assert_eq!(
        signals(&out),
        vec![
            assignment(U1, E3, "2026-11-22T05:00:00Z", E3, "active", "a@contoso.com"),
            usage(U1, E3, "2026-11-21T09:00:00Z", E3, "a@contoso.com"),
        ]
    );
    // The default: the export's instant when it is known...
    let by_default = users(rec.clone(), &[("observed_at", "2026-11-22T05:00:00Z")]);
    assert_eq!(signals(&by_default), signals(&out));
    // ... and lastUpdatedDateTime when it is not, or when asked for.
    let out = users(rec.clone(), &[("assignment_time", "last_updated")]);
    assert_eq!(signals(&out)[0].observed_at, "2024-01-01T00:00:00Z");
    let out = users(rec.clone(), &[]);
    assert_eq!(signals(&out)[0].observed_at, "2024-01-01T00:00:00Z");
    let out = users(rec.clone(), &[("assignment_time", "last_updated"), ("observed_at", "2026-11-22T05:00:00Z")]);
    assert_eq!(signals(&out)[0].observed_at, "2024-01-01T00:00:00Z");
    let page = vec![input("imports/entra-users/page-1.json", users_page(rec, false))];
    for o in [vec![("assignment_time", "export")], vec![("assignment_time", "newest"), ("observed_at", "2026-11-22T05:00:00Z")]] {
        let e = run("entra-users", &page, &o).err().unwrap();
        assert_eq!(e.code().name(), "invalid_input");
        assert!(e.message().contains("assignment_time"), "{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// assignment states

#[test]
fn signin_activity_null_absent_or_empty_yields_no_usage() {
    let mk = |id: &str, upn: &str, sign_in: Option<Value>| {
        let mut u = user(id, upn, &[E3], json!([state(E3, "Active", "2026-11-20T10:00:00Z")]), Value::Null);
        match sign_in {
            None => {
                u.as_object_mut().unwrap().remove("signInActivity");
            }
            Some(v) => u["signInActivity"] = v,
        }
        u
    };
    let out = users(
        json!([
            mk(U1, "a@contoso.com", Some(Value::Null)),
            mk(U2, "b@contoso.com", None),
            mk(
                U3,
                "c@contoso.com",
                Some(json!({"lastSignInDateTime": null, "lastSuccessfulSignInDateTime": null,
                                                 "lastNonInteractiveSignInDateTime": "2026-11-21T00:00:00Z"}))
            ),
        ]),
        &[],
    );
    assert_eq!(
        signals(&out),
        vec![
            assignment(U1, E3, "2026-11-20T10:00:00Z", E3, "active", "a@contoso.com"),
            assignment(U2, E3, "2026-11-20T10:00:00Z", E3, "active", "b@contoso.com"),
            assignment(U3, E3, "2026-11-20T10:00:00Z", E3, "active", "c@contoso.com"),
        ]
    );
    assert!(out.rejected.is_empty());
}

#[test]
fn usage_prefers_the_last_successful_sign_in() {
    let at = "2026-11-20T10:00:00Z";
    let out = users(
        json!([
            user(
                U1,
                "a@contoso.com",
                &[E3],
                json!([state(E3, "Active", at)]),
                json!({"lastSignInDateTime": "2026-11-21T12:00:00Z", "lastSuccessfulSignInDateTime": "2026-11-19T08:00:00Z",
                        "lastNonInteractiveSignInDateTime": "2026-11-21T20:00:00Z"})
            ),
            user(
                U2,
                "b@contoso.com",
                &[E3],
                json!([state(E3, "Active", at)]),
                json!({"lastSignInDateTime": "2026-11-18T07:00:00Z", "lastSuccessfulSignInDateTime": null})
            ),
        ]),
        &[],
    );
    assert_eq!(
        signals(&out),
        vec![
            assignment(U1, E3, at, E3, "active", "a@contoso.com"),
            usage(U1, E3, "2026-11-19T08:00:00Z", E3, "a@contoso.com"),
            assignment(U2, E3, at, E3, "active", "b@contoso.com"),
            usage(U2, E3, "2026-11-18T07:00:00Z", E3, "b@contoso.com"),
        ]
    );
}

#[test]
fn error_null_absent_or_none_all_mean_no_error() {
    let at = "2026-11-20T10:00:00Z";
    let with_error = |e: Option<Value>| {
        let mut s = json!({"skuId": E3, "assignedByGroup": null, "disabledPlans": [], "state": "Active", "lastUpdatedDateTime": at});
        if let Some(e) = e {
            s["error"] = e;
        }
        json!([s])
    };
    let out = users(
        json!([
            user(U1, "a@contoso.com", &[E3], with_error(Some(Value::Null)), Value::Null),
            user(U2, "b@contoso.com", &[E3], with_error(None), Value::Null),
            user(U3, "c@contoso.com", &[E3], with_error(Some(json!("None"))), Value::Null),
        ]),
        &[],
    );
    assert_eq!(
        signals(&out),
        vec![
            assignment(U1, E3, at, E3, "active", "a@contoso.com"),
            assignment(U2, E3, at, E3, "active", "b@contoso.com"),
            assignment(U3, E3, at, E3, "active", "c@contoso.com"),
        ]
    );
}

#[test]
fn without_a_state_the_error_field_decides() {
    let at = "2026-11-20T10:00:00Z";
    let s = |sku: &str, error: Value| json!({"skuId": sku, "error": error, "lastUpdatedDateTime": at});
    let out = users(
        json!([user(
            U1,
            "a@contoso.com",
            &[E3, VISIO],
            json!([s(E3, json!("None")), s(VISIO, json!("CountViolation")), s(E5, json!("Other"))]),
            Value::Null
        )]),
        &[],
    );
    assert_eq!(
        signals(&out),
        vec![
            assignment(U1, E3, at, E3, "active", "a@contoso.com"),
            assignment(U1, E5, at, E5, "revoked", "a@contoso.com"),
            assignment(U1, VISIO, at, VISIO, "suspended", "a@contoso.com"),
        ]
    );
}

#[test]
fn states_map_to_active_suspended_or_revoked() {
    let at = "2026-11-20T10:00:00Z";
    let sign_in = json!({"lastSuccessfulSignInDateTime": "2026-11-21T00:00:00Z"});
    let p = "00000000-0000-4000-8000-00000000000";
    let skus: Vec<String> = (1..=6).map(|i| format!("{p}{i}")).collect();
    let states = json!([
        state(&skus[0], "Active", at),
        {"skuId": skus[1], "assignedByGroup": GROUP, "state": "ActiveWithError", "error": "DependencyViolation", "lastUpdatedDateTime": at},
        {"skuId": skus[2], "assignedByGroup": null, "state": "Error", "error": "MutuallyExclusiveViolation", "lastUpdatedDateTime": at},
        state(&skus[3], "Disabled", at),
        {"skuId": skus[4], "assignedByGroup": GROUP, "state": "Error", "error": "CountViolation", "lastUpdatedDateTime": at},
        state(&skus[5], "Disabled", at),
    ]);
    // In effect (assignedLicenses): 1, 2, 3, 4; 5 and 6 only in the states.
    let assigned: Vec<&str> = skus[..4].iter().map(String::as_str).collect();
    let out = users(json!([user(U1, "a@contoso.com", &assigned, states, sign_in)]), &[]);
    let u = "a@contoso.com";
    assert_eq!(
        signals(&out),
        vec![
            assignment(U1, &skus[0], at, &skus[0], "active", u),
            usage(U1, &skus[0], "2026-11-21T00:00:00Z", &skus[0], u),
            assignment(U1, &skus[1], at, &skus[1], "active", u),
            usage(U1, &skus[1], "2026-11-21T00:00:00Z", &skus[1], u),
            assignment(U1, &skus[2], at, &skus[2], "suspended", u),
            assignment(U1, &skus[3], at, &skus[3], "suspended", u),
            assignment(U1, &skus[4], at, &skus[4], "revoked", u),
            assignment(U1, &skus[5], at, &skus[5], "revoked", u),
        ]
    );
}

#[test]
fn an_undocumented_state_rejects_only_its_sku() {
    let at = "2026-11-20T10:00:00Z";
    let out = users(
        json!([user(U1, "a@contoso.com", &[E3, VISIO], json!([state(E3, "Pending", at), state(VISIO, "Active", at)]), Value::Null)]),
        &[],
    );
    assert_eq!(signals(&out), vec![assignment(U1, VISIO, at, VISIO, "active", "a@contoso.com")]);
    assert_eq!(rejects(&out), vec![(0, 1, "licenseAssignmentStates.state".to_string(), "unknown_state")]);
}

#[test]
fn direct_and_group_assignment_of_one_sku_is_one_seat() {
    let states = json!([
        {"skuId": E3, "assignedByGroup": null, "state": "Error", "error": "CountViolation", "lastUpdatedDateTime": "2026-11-01T00:00:00Z"},
        {"skuId": E3, "assignedByGroup": GROUP, "state": "Active", "error": "None", "lastUpdatedDateTime": "2026-11-02T00:00:00Z"},
        {"skuId": E3, "assignedByGroup": "5dbdf2ac-9c53-480f-9f13-8bcc4ece8507", "state": "Active", "lastUpdatedDateTime": "2026-10-30T00:00:00Z"},
    ]);
    // assignedLicenses lists the SKU once (Graph does not say how it was assigned); a repeat is harmless.
    let out = users(json!([user(U1, "a@contoso.com", &[E3, E3], states, Value::Null)]), &[]);
    assert_eq!(signals(&out), vec![assignment(U1, E3, "2026-11-02T00:00:00Z", E3, "active", "a@contoso.com")]);
}

#[test]
fn disabled_accounts_keep_assignments_but_not_usage() {
    let mut u = user(
        U1,
        "a@contoso.com",
        &[E3],
        json!([state(E3, "Active", "2026-11-20T10:00:00Z")]),
        json!({"lastSuccessfulSignInDateTime": "2026-11-21T00:00:00Z"}),
    );
    u["accountEnabled"] = json!(false);
    let mut v = user(
        U2,
        "b@contoso.com",
        &[E3],
        json!([state(E3, "Active", "2026-11-20T10:00:00Z")]),
        json!({"lastSuccessfulSignInDateTime": "2026-11-21T00:00:00Z"}),
    );
    v.as_object_mut().unwrap().remove("accountEnabled");
    let out = users(json!([u, v]), &[]);
    assert_eq!(
        signals(&out),
        vec![
            assignment(U1, E3, "2026-11-20T10:00:00Z", E3, "active", "a@contoso.com"),
            assignment(U2, E3, "2026-11-20T10:00:00Z", E3, "active", "b@contoso.com"),
            usage(U2, E3, "2026-11-21T00:00:00Z", E3, "b@contoso.com"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// identity and products

#[test]
fn guest_ext_upns_stay_the_user_and_mail_becomes_an_alias() {
    let guest = "dana.reyes_fabrikam.com#EXT#@contoso.onmicrosoft.com";
    let mut g = user(U1, guest, &[E3], json!([state(E3, "Active", "2026-11-20T10:00:00Z")]), Value::Null);
    g["mail"] = json!("dana.reyes@fabrikam.com");
    // Same address in another case: no alias; no mail: no alias.
    let mut same = user(U2, "Bob@Contoso.com", &[], json!([]), Value::Null);
    same["mail"] = json!("bob@contoso.com");
    let mut none = user(U3, "carol@contoso.com", &[], json!([]), Value::Null);
    none.as_object_mut().unwrap().remove("mail");
    let out = users(json!([g, same, none]), &[]);
    assert_eq!(signals(&out), vec![assignment(U1, E3, "2026-11-20T10:00:00Z", E3, "active", guest)]);
    let active = |upn: &str, a: &str| account(upn, a, "active", "");
    assert_eq!(
        out.directory,
        vec![active("Bob@Contoso.com", U2), active("carol@contoso.com", U3), active(guest, U1), active(guest, "dana.reyes@fabrikam.com"),]
    );
}

#[test]
fn every_alias_row_carries_the_account_status_and_last_sign_in() {
    let at = "2026-11-20T10:00:00Z";
    let held = || json!([state(E3, "Active", at)]);
    // Enabled, last successful sign-in preferred over the last interactive attempt.
    let mut a = user(
        U1,
        "a@contoso.com",
        &[E3],
        held(),
        json!({"lastSignInDateTime": "2026-11-21T09:00:00Z", "lastSuccessfulSignInDateTime": "2026-11-20T08:00:00.5Z"}),
    );
    a["mail"] = json!("anna@contoso.com");
    // Disabled, only the interactive sign-in recorded (before December 2023 the successful one was not kept).
    let mut b = user(
        U2,
        "b@contoso.com",
        &[E3],
        held(),
        json!({"lastSignInDateTime": "2023-06-01T12:00:00Z", "lastSuccessfulSignInDateTime": null}),
    );
    b["accountEnabled"] = json!(false);
    // accountEnabled not selected, never signed in: both unknown.
    let mut c = user(U3, "c@contoso.com", &[], json!([]), Value::Null);
    c.as_object_mut().unwrap().remove("accountEnabled");
    // accountEnabled of another type, sign-in unreadable: both unknown, and no
    // record is rejected for it (no usage signal was wanted: no SKU).
    let mut d = user(GROUP, "d@contoso.com", &[], json!([]), json!({"lastSignInDateTime": "yesterday"}));
    d["accountEnabled"] = json!("true");
    let out = users(json!([a, b, c, d]), &[]);
    assert_eq!(
        out.directory,
        vec![
            account("a@contoso.com", U1, "active", "2026-11-20T08:00:00.5Z"),
            account("a@contoso.com", "anna@contoso.com", "active", "2026-11-20T08:00:00.5Z"),
            account("b@contoso.com", U2, "disabled", "2023-06-01T12:00:00Z"),
            account("c@contoso.com", U3, "", ""),
            account("d@contoso.com", GROUP, "", ""),
        ]
    );
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    // The disabled account's seat is still reported (counting does not read
    // the status, DESIGN A9); it yields no usage signal.
    assert!(signals(&out).iter().any(|s| s.user == "b@contoso.com" && s.kind == "assignment"));
    assert!(!signals(&out).iter().any(|s| s.user == "b@contoso.com" && s.kind == "usage"));
}

#[test]
fn sku_names_name_products_and_unknown_skus_keep_their_guid() {
    let at = "2026-11-20T10:00:00Z";
    let upper = E3.to_uppercase();
    let out = users(
        json!([user(U1, "a@contoso.com", &[&upper, VISIO], json!([state(&upper, "Active", at), state(VISIO, "Active", at)]), Value::Null)]),
        &[("sku_names", &format!(" {} = SPE_E3 ,, {E5}=SPE_E5 ", E3.to_uppercase()))],
    );
    assert_eq!(
        signals(&out),
        vec![assignment(U1, E3, at, "SPE_E3", "active", "a@contoso.com"), assignment(U1, VISIO, at, VISIO, "active", "a@contoso.com")]
    );
    let page = vec![input("imports/entra-users/page-1.json", users_page(json!([]), false))];
    for bad in ["SPE_E3", "=SPE_E3", &format!("{E3}="), &format!("{E3}=SPE_E3,{E3}=ENTERPRISEPACK")] {
        let e = run("entra-users", &page, &[("sku_names", bad)]).err().unwrap();
        assert_eq!(e.code().name(), "invalid_input");
        assert!(e.message().contains("sku_names"), "{e}");
    }
    // The same pair twice is fine.
    assert!(run("entra-users", &page, &[("sku_names", &format!("{E3}=SPE_E3,{E3}=SPE_E3"))]).is_ok());
}

#[test]
fn broken_records_are_rejected_alone() {
    let at = "2026-11-20T10:00:00Z";
    let good = user(U1, "a@contoso.com", &[E3], json!([state(E3, "Active", at)]), Value::Null);
    let out = users(
        json!([
            "not an object",
            {"userPrincipalName": "x@contoso.com", "assignedLicenses": [{"skuId": E3}]},
            {"id": 42, "userPrincipalName": "y@contoso.com"},
            {"id": "00000000-0000-0000-0000-000000000000", "userPrincipalName": "z@contoso.com"},
            {"id": U2, "assignedLicenses": [{"skuId": E3}]},
            {"id": U3, "userPrincipalName": "c@contoso.com", "assignedLicenses": {"skuId": E3}},
            {"id": "11111111-2222-4333-8444-555555555555", "userPrincipalName": "d@contoso.com", "assignedLicenses": [{"disabledPlans": []}]},
            {"id": "11111111-2222-4333-8444-666666666666", "userPrincipalName": "e@contoso.com", "licenseAssignmentStates": [{"skuId": null, "state": "Active"}]},
            {"id": "11111111-2222-4333-8444-777777777777", "userPrincipalName": "f@contoso.com", "licenseAssignmentStates": "Active"},
            good,
        ]),
        &[],
    );
    assert_eq!(signals(&out), vec![assignment(U1, E3, at, E3, "active", "a@contoso.com")]);
    assert_eq!(
        rejects(&out),
        vec![
            (0, 1, "$".to_string(), "invalid_record"),
            (0, 2, "id".to_string(), "missing_field"),
            (0, 3, "id".to_string(), "invalid_field"),
            (0, 4, "id".to_string(), "invalid_id"),
            (0, 5, "userPrincipalName".to_string(), "missing_field"),
            (0, 6, "assignedLicenses".to_string(), "invalid_field"),
            (0, 7, "assignedLicenses".to_string(), "invalid_field"),
            (0, 8, "licenseAssignmentStates".to_string(), "invalid_field"),
            (0, 9, "licenseAssignmentStates".to_string(), "invalid_field"),
        ]
    );
    assert_eq!(out.records, vec![10]);
    // Rejection messages never echo input values.
    for (_, e) in &out.rejected {
        assert!(!e.message.contains("@contoso.com"), "{}", e.message);
    }
}

// ---------------------------------------------------------------------------------------------
// bad input

#[test]
fn a_truncated_page_fails_the_folder_naming_file_and_line() {
    let good =
        users_page(json!([user(U1, "a@contoso.com", &[E3], json!([state(E3, "Active", "2026-11-20T10:00:00Z")]), Value::Null)]), true);
    let full =
        users_page(json!([user(U2, "b@contoso.com", &[E3], json!([state(E3, "Active", "2026-11-20T10:00:00Z")]), Value::Null)]), false);
    let truncated = full[..full.len() * 2 / 3].to_vec();
    let r = run("entra-users", &[input("imports/entra-users/p1.json", good), input("imports/entra-users/p2.json", truncated)], &[]);
    let e = invalid_input_at(r, "imports/entra-users/p2.json");
    assert!(e.location().unwrap().line.is_some(), "{e}");
    assert!(e.message().contains("malformed JSON"), "{e}");
}

#[test]
fn no_input_prefix_panics() {
    // Every prefix of a realistic page: an error or an output, never a panic.
    let page = std::fs::read(fixture_dir("entra-users").join("input/users-page-2.json")).unwrap();
    for n in 0..page.len() {
        let _ = run("entra-users", &[input("imports/entra-users/p.json", page[..n].to_vec())], &[("observed_at", "2026-11-22T00:00:00Z")]);
    }
    let skus = std::fs::read(fixture_dir("entra-subscribed-skus").join("input/subscribedSkus.json")).unwrap();
    for n in 0..skus.len() {
        let _ = run("entra-subscribed-skus", &[input("imports/entra-subscribed-skus/s.json", skus[..n].to_vec())], &[]);
    }
}

#[test]
fn a_page_for_the_other_adapter_is_the_wrong_header() {
    let skus = std::fs::read(fixture_dir("entra-subscribed-skus").join("input/subscribedSkus.json")).unwrap();
    let e = invalid_input_at(run("entra-users", &[input("imports/entra-users/skus.json", skus)], &[]), "imports/entra-users/skus.json");
    assert_eq!(e.location().unwrap().field.as_deref(), Some("@odata.context"));
    assert!(e.message().contains("subscribedSkus"), "{e}");

    let users = std::fs::read(fixture_dir("entra-users").join("input/users-page-1.json")).unwrap();
    let e = invalid_input_at(
        run("entra-subscribed-skus", &[input("imports/entra-subscribed-skus/u.json", users)], &[]),
        "imports/entra-subscribed-skus/u.json",
    );
    assert_eq!(e.location().unwrap().field.as_deref(), Some("@odata.context"));
}

#[test]
fn a_document_that_is_not_a_graph_page_is_rejected_whole() {
    for (doc, field) in [
        (json!([{"id": U1, "userPrincipalName": "a@contoso.com"}]), "$"),
        (json!({"users": []}), "value"),
        (json!({"value": {"id": U1}}), "value"),
        (json!("value"), "$"),
    ] {
        let bytes = serde_json::to_vec(&doc).unwrap();
        for adapter in ["entra-users", "entra-subscribed-skus"] {
            let e = invalid_input_at(run(adapter, &[input("imports/x/p.json", bytes.clone())], &[]), "imports/x/p.json");
            assert_eq!(e.location().unwrap().field.as_deref(), Some(field), "{adapter} {doc}");
        }
    }
}

#[test]
fn bytes_that_are_neither_utf8_nor_utf16_fail_naming_the_file() {
    let mut bytes = br#"{"value": [{"id": "x", "userPrincipalName": "caf"#.to_vec();
    bytes.extend_from_slice(b"\xE9\"}]}");
    for adapter in ["entra-users", "entra-subscribed-skus"] {
        let e = invalid_input_at(run(adapter, &[input("imports/x/latin1.json", bytes.clone())], &[]), "imports/x/latin1.json");
        assert!(e.message().contains("UTF-8"), "{e}");
    }
}

#[test]
fn utf8_and_utf16_pages_with_a_bom_are_read() {
    let text = String::from_utf8(users_page(
        json!([user(U1, "zoë@contoso.com", &[E3], json!([state(E3, "Active", "2026-11-20T10:00:00Z")]), Value::Null)]),
        false,
    ))
    .unwrap();
    let mut utf8 = b"\xEF\xBB\xBF".to_vec();
    utf8.extend_from_slice(text.as_bytes());
    let mut utf16 = b"\xFF\xFE".to_vec();
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    for bytes in [utf8, utf16] {
        let out = run("entra-users", &[input("imports/entra-users/p.json", bytes)], &[]).unwrap();
        assert_eq!(signals(&out), vec![assignment(U1, E3, "2026-11-20T10:00:00Z", E3, "active", "zoë@contoso.com")]);
    }
}

#[test]
fn unknown_options_are_invalid_input() {
    let page = vec![input("imports/entra-users/p.json", users_page(json!([]), false))];
    let e = run("entra-users", &page, &[("utc_offset", "+01:00")]).err().unwrap();
    assert_eq!(e.code().name(), "invalid_input");
    assert!(e.message().contains("assignment_time, observed_at, sku_names"), "{e}");
    let e = run("entra-subscribed-skus", &page, &[("sku_names", "x=y")]).err().unwrap();
    assert_eq!(e.code().name(), "invalid_input");
    assert!(e.message().contains("options: none"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// entra-subscribed-skus

fn skus_page(records: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"@odata.context": SKUS_CTX, "value": records})).unwrap()
}

fn obs(product: &str, id: &str, units: [i64; 4], consumed: i64, status: &str) -> EntitlementObservation {
    EntitlementObservation {
        source: "entra".into(),
        product: product.into(),
        external_id: id.into(),
        enabled: units[0],
        warning: units[1],
        suspended: units[2],
        locked_out: units[3],
        consumed,
        status: status.into(),
    }
}

#[test]
fn subscribed_skus_become_observations_across_pages() {
    let p1 = skus_page(json!([
        {"skuId": E3.to_uppercase(), "skuPartNumber": "SPE_E3", "capabilityStatus": "Enabled", "consumedUnits": 14,
         "prepaidUnits": {"enabled": 25, "lockedOut": 0, "suspended": 0, "warning": 0}},
        {"skuId": E5, "skuPartNumber": "SPE_E5", "capabilityStatus": "Warning", "consumedUnits": 3,
         "prepaidUnits": {"enabled": 0, "lockedOut": 1, "suspended": 2, "warning": 5}},
    ]));
    // No prepaidUnits and null counts: zero units, status kept as written.
    let p2 = skus_page(json!([
        {"skuId": VISIO, "skuPartNumber": "VISIOCLIENT", "capabilityStatus": "Deleted", "consumedUnits": null},
        {"skuId": "6470687e-a428-4b7a-bef2-8a291ad947c9", "skuPartNumber": "WINDOWS_STORE", "appliesTo": "Company",
         "prepaidUnits": {"enabled": null}},
    ]));
    let out = run(
        "entra-subscribed-skus",
        &[input("imports/entra-subscribed-skus/a.json", p1), input("imports/entra-subscribed-skus/b.json", p2)],
        &[],
    )
    .unwrap();
    assert_eq!(
        out.observations,
        vec![
            obs("SPE_E3", E3, [25, 0, 0, 0], 14, "Enabled"),
            obs("SPE_E5", E5, [0, 5, 2, 1], 3, "Warning"),
            obs("VISIOCLIENT", VISIO, [0, 0, 0, 0], 0, "Deleted"),
            obs("WINDOWS_STORE", "6470687e-a428-4b7a-bef2-8a291ad947c9", [0, 0, 0, 0], 0, ""),
        ]
    );
    assert!(out.signals.is_empty() && out.rejected.is_empty() && out.directory.is_empty());
    assert_eq!(out.records, vec![2, 2]);
}

#[test]
fn broken_subscribed_skus_are_rejected_alone() {
    let ok =
        json!({"skuId": E3, "skuPartNumber": "SPE_E3", "capabilityStatus": "Enabled", "consumedUnits": 1, "prepaidUnits": {"enabled": 1}});
    let mut changed = ok.clone();
    changed["consumedUnits"] = json!(2);
    let out = run(
        "entra-subscribed-skus",
        &[input(
            "imports/entra-subscribed-skus/a.json",
            skus_page(json!([
                ok.clone(),
                [1, 2],
                {"skuPartNumber": "SPE_E5"},
                {"skuId": E5},
                {"skuId": VISIO, "skuPartNumber": "VISIOCLIENT", "consumedUnits": -1},
                {"skuId": VISIO, "skuPartNumber": "VISIOCLIENT", "consumedUnits": "3"},
                {"skuId": VISIO, "skuPartNumber": "VISIOCLIENT", "prepaidUnits": {"enabled": 2.5}},
                {"skuId": VISIO, "skuPartNumber": "VISIOCLIENT", "prepaidUnits": [1]},
                ok,
                changed,
            ])),
        )],
        &[],
    )
    .unwrap();
    assert_eq!(out.observations, vec![obs("SPE_E3", E3, [1, 0, 0, 0], 1, "Enabled")]);
    assert_eq!(
        rejects(&out),
        vec![
            (0, 2, "$".to_string(), "invalid_record"),
            (0, 3, "skuId".to_string(), "missing_field"),
            (0, 4, "skuPartNumber".to_string(), "missing_field"),
            (0, 5, "consumedUnits".to_string(), "invalid_number"),
            (0, 6, "consumedUnits".to_string(), "invalid_number"),
            (0, 7, "prepaidUnits".to_string(), "invalid_number"),
            (0, 8, "prepaidUnits".to_string(), "invalid_field"),
            (0, 10, "skuId".to_string(), "duplicate_record"),
        ]
    );
    assert_eq!(out.notes, vec![(0, "1 SKU record(s) repeated identically from an earlier page were skipped".to_string())]);
}

// ---------------------------------------------------------------------------------------------
// end to end

/// A bundle with both fixtures under `imports/`, the Microsoft SKUs mapped by
/// skuPartNumber (Project deliberately unmapped).
fn e2e_bundle(user_options: &Options) -> Bundle {
    let mut b = Bundle::new()
        .sku("m365-e3", "subscription")
        .sku("m365-e5", "subscription")
        .sku("visio", "subscription")
        .sku("pbi-pro", "user")
        .entitle("m365-e3", 10)
        .entitle("m365-e5", 5)
        .entitle("visio", 2)
        .entitle("pbi-pro", 3)
        .param("expected_sources", json!(["entra"]))
        .param("adapter_options", json!({"entra-users": user_options}))
        .rule(
            &["sku_mappings"],
            json!([
                {"match": "exact", "field": "product", "value": "SPE_E3", "sku": "m365-e3"},
                {"match": "exact", "field": "product", "value": "SPE_E5", "sku": "m365-e5"},
                {"match": "exact", "field": "product", "value": "VISIOCLIENT", "sku": "visio"},
                {"match": "exact", "field": "product", "value": "POWER_BI_PRO", "sku": "pbi-pro"},
            ]),
        );
    for adapter in ["entra-users", "entra-subscribed-skus"] {
        for f in fixture_inputs(adapter) {
            b = b.file(&f.path, &f.bytes);
        }
    }
    b
}

fn observation<'a>(report: &'a Value, product: &str) -> &'a Value {
    report["entitlement_observations"].as_array().unwrap().iter().find(|o| o["product"] == product).unwrap()
}

#[test]
fn end_to_end_reconciles_the_fixtures() {
    let out = e2e_bundle(&fixture_options("entra-users")).run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.status, RunStatus::Ok);
    let snap = out.snapshot.as_ref().unwrap();
    let consumed = |sku: &str| snap.sku_json(sku).unwrap()["consumed"].as_i64().unwrap();
    // alice, bob, carol (disabled, still assigned), erin (ActiveWithError), frank, henry (dated by
    // option); with `assignment_time=last_updated` (the fixture's option) judy's assignment,
    // last updated in 2025, falls outside the 30-day lookback.
    assert_eq!(consumed("m365-e3"), 6);
    assert_eq!(consumed("m365-e5"), 0); // erin's group assignment failed: revoked
    assert_eq!(consumed("visio"), 0); // frank's is Disabled: suspended
    assert_eq!(consumed("pbi-pro"), 1); // the guest, by assignment and usage
                                        // grace's Project rows carry the skuId GUID, which no mapping names.
    let grace = "689bfb35-f5e5-463a-89b5-181436547da8:53818b1b-4a27-454b-8896-0dba576410e6";
    assert_eq!(
        exceptions(&out, "unmapped_product"),
        vec![("entra".to_string(), grace.to_string()), ("entra".to_string(), format!("{grace}:signin"))]
    );
    // Every page is an import job carrying the adapter name and version.
    let imports = snap.value()["imports"].as_array().unwrap();
    let jobs: Vec<(&str, &str, &str, &str, i64, i64)> = imports
        .iter()
        .filter(|j| j["path"].as_str().unwrap().starts_with("imports/"))
        .map(|j| {
            (
                j["path"].as_str().unwrap(),
                j["adapter"].as_str().unwrap(),
                j["adapter_version"].as_str().unwrap(),
                j["source"].as_str().unwrap(),
                j["rows_accepted"].as_i64().unwrap(),
                j["rows_rejected"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        jobs,
        vec![
            ("imports/entra-subscribed-skus/subscribedSkus.json", "entra-subscribed-skus", "1.0.0", "entra", 0, 0),
            ("imports/entra-users/users-page-1.json", "entra-users", "1.1.0", "entra", 4, 0),
            ("imports/entra-users/users-page-2.json", "entra-users", "1.1.0", "entra", 8, 0),
            ("imports/entra-users/users-page-3.json", "entra-users", "1.1.0", "entra", 6, 0),
        ]
    );
    assert_eq!(snap.value()["coverage"]["entra"]["signals"], 18);
    assert_eq!(snap.value()["coverage"]["entra"]["status"], "ok");
    // The portal's numbers next to ours.
    let report_json = out.report.to_json();
    let e3 = observation(&report_json, "SPE_E3");
    assert_eq!(e3["sku"], "m365-e3");
    assert_eq!(e3["portal"]["consumed"], 7);
    assert_eq!(e3["ours"], json!({"entitled": 10, "consumed": 6}));
    assert_eq!(e3["discrepancies"], json!(["consumed_mismatch"]));
    assert_eq!(observation(&out.report.to_json(), "SPE_E5")["discrepancies"], json!(["entitled_mismatch"]));
    assert_eq!(observation(&out.report.to_json(), "POWER_BI_PRO")["discrepancies"], json!([]));
    assert_eq!(observation(&out.report.to_json(), "CRMSTANDARD")["discrepancies"], json!(["unmapped_product"]));
}

#[test]
fn end_to_end_by_default_counts_long_standing_seats() {
    // The fixture's options ask for `last_updated` (to exercise its quirks); without
    // that, `observed_at` being set, assignments are dated at the export.
    let mut o = fixture_options("entra-users");
    assert_eq!(o.remove("assignment_time").as_deref(), Some("last_updated"));
    let out = e2e_bundle(&o).run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let snap = out.snapshot.as_ref().unwrap();
    assert_eq!(snap.sku_json("m365-e3").unwrap()["consumed"], 7); // judy too
    let report_json = out.report.to_json();
    let e3 = observation(&report_json, "SPE_E3");
    assert_eq!(e3["ours"], json!({"entitled": 10, "consumed": 7}));
    assert_eq!(e3["discrepancies"], json!([]));
}

#[test]
fn end_to_end_a_broken_page_fails_the_run_with_its_file() {
    let b = e2e_bundle(&fixture_options("entra-users")).file("imports/entra-users/users-page-4.json", b"{\"value\": [");
    let out = b.run();
    assert_eq!(out.status, RunStatus::Failed);
    assert!(out.snapshot.is_none());
    assert_eq!(reasons(&out), vec!["invalid_input".to_string()]);
    assert_eq!(out.errors[0].location().unwrap().file, "imports/entra-users/users-page-4.json");
    // A missing observed_at for undated assignments fails the same way.
    let mut o = fixture_options("entra-users");
    o.remove("observed_at");
    let out = e2e_bundle(&o).run();
    assert_eq!(reasons(&out), vec!["invalid_input".to_string()]);
    assert_eq!(out.errors[0].location().unwrap().file, "imports/entra-users/users-page-3.json");
}

#[test]
fn end_to_end_a_rejected_subscribed_sku_trips_the_reject_threshold() {
    // Observations are not rows: a rejected SKU is 1 of 1 rows of its job.
    let b = e2e_bundle(&fixture_options("entra-users"))
        .file("imports/entra-subscribed-skus/more.json", &skus_page(json!([{"skuId": E5, "consumedUnits": 1}])));
    let out = b.run();
    assert_eq!(reasons(&out), vec!["reject_threshold_exceeded".to_string()]);
    assert_eq!(out.errors[0].location().unwrap().file, "imports/entra-subscribed-skus/more.json");
}

#[test]
fn end_to_end_directory_aliases_join_other_sources() {
    // Another source knows the guest by mail and alice by object id: still one user each.
    let b = e2e_bundle(&fixture_options("entra-users"))
        .signal(&[
            ("source", "manual"),
            ("raw_id", "m1"),
            ("observed_at", "2026-11-21T00:00:00Z"),
            ("product", "POWER_BI_PRO"),
            ("kind", "usage"),
            ("user", "Dana.Reyes@fabrikam.com"),
        ])
        .signal(&[
            ("source", "manual"),
            ("raw_id", "m2"),
            ("observed_at", "2026-11-21T00:00:00Z"),
            ("product", "POWER_BI_PRO"),
            ("kind", "usage"),
            ("user", U1),
        ])
        .signal(&[
            ("source", "manual"),
            ("raw_id", "m3"),
            ("observed_at", "2026-11-21T00:00:00Z"),
            ("product", "POWER_BI_PRO"),
            ("kind", "usage"),
            ("user", "alice@contoso.com"),
        ]);
    assert_eq!(b.consumed("pbi-pro"), 2); // dana (entra + manual) and alice (by id and by UPN)
}
