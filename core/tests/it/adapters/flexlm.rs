//! FlexNet Publisher adapters (`flexlm-lmstat`, `flexlm-log`): every quirk
//! asserted on whole signal rows, the fixtures against their expected.jsonl,
//! bad input, and the adapters inside a reconciliation run.

use super::{opts, rejects, signals as rows};
use crate::common::*;
use eucora_license_core::internal::adapters::{self, AdapterOutput, InputFile, SignalRow};
use eucora_license_core::{Error, RunStatus};
use proptest::prelude::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// helpers

fn inputs(files: &[(&str, &[u8])]) -> Vec<InputFile> {
    files.iter().map(|(p, b)| InputFile { path: p.to_string(), bytes: b.to_vec() }).collect()
}

fn run(adapter: &str, files: &[(&str, &[u8])], kv: &[(&str, &str)]) -> Result<AdapterOutput, Error> {
    adapters::run(adapter, &inputs(files), &opts(kv)).map(|(_, out)| out)
}

fn ok(adapter: &str, files: &[(&str, &[u8])], kv: &[(&str, &str)]) -> AdapterOutput {
    match run(adapter, files, kv) {
        Ok(out) => out,
        Err(e) => panic!("{adapter} failed: {e}"),
    }
}

fn err(adapter: &str, files: &[(&str, &[u8])], kv: &[(&str, &str)]) -> Error {
    match run(adapter, files, kv) {
        Ok(out) => panic!("{adapter} should fail, produced {:?}", out.signals),
        Err(e) => e,
    }
}

/// Asserts an `invalid_input` error located in `file` (and at `line` when given).
fn assert_invalid(e: &Error, file: &str, line: Option<u64>) {
    assert_eq!(e.code().name(), "invalid_input", "{e}");
    let loc = e.location().unwrap_or_else(|| panic!("no location: {e}"));
    assert_eq!(loc.file, file, "{e}");
    assert_eq!(loc.line, line, "{e}");
}

fn lines_of(out: &AdapterOutput) -> Vec<(usize, u64)> {
    out.signals.iter().map(|(o, _)| (o.file, o.line)).collect()
}

fn notes(out: &AdapterOutput, file: usize) -> Vec<String> {
    out.notes.iter().filter(|(f, _)| *f == file).map(|(_, n)| n.clone()).collect()
}

/// A FlexLM session row; `end` empty = still open.
#[allow(clippy::too_many_arguments)]
fn session(raw_id: &str, observed_at: &str, feature: &str, user: &str, host: &str, start: &str, end: &str, qty: &str) -> SignalRow {
    SignalRow {
        source: "flexlm".into(),
        raw_id: raw_id.into(),
        observed_at: observed_at.into(),
        product: feature.into(),
        kind: "session".into(),
        user: user.into(),
        device_name: host.into(),
        session_start: start.into(),
        session_end: end.into(),
        quantity: qty.into(),
        ..Default::default()
    }
}

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../fixtures/adapters/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn fixture_options(adapter: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_slice(&fixture(&format!("{adapter}/options.json"))).unwrap();
    v.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()
}

/// The fixture's adapter output compared line by line with expected.jsonl
/// (canonical JSON of each SignalRow, as `eucora-license import` prints it).
fn check_fixture(adapter: &str, files: &[&str]) -> AdapterOutput {
    let bytes: Vec<(String, Vec<u8>)> =
        files.iter().map(|f| (format!("imports/{adapter}/{f}"), fixture(&format!("{adapter}/input/{f}")))).collect();
    let refs: Vec<(&str, &[u8])> = bytes.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let o = fixture_options(adapter);
    let kv: Vec<(&str, &str)> = o.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = ok(adapter, &refs, &kv);
    let got: Vec<String> = out
        .signals
        .iter()
        .map(|(_, r)| String::from_utf8(eucora_license_core::internal::canonical::to_vec_of(r).unwrap()).unwrap())
        .collect();
    let expected_text = String::from_utf8(fixture(&format!("{adapter}/expected.jsonl"))).unwrap();
    let expected: Vec<&str> = expected_text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(got, expected, "{adapter} output differs from expected.jsonl");
    for line in &expected {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 16, "expected.jsonl rows carry the 16 A1 fields");
    }
    assert!(out.directory.is_empty(), "FlexLM knows no serials or device ids: no identity facts");
    assert!(out.observations.is_empty());
    out
}

// ---------------------------------------------------------------------------------------------
// flexlm-lmstat

const CAPTURE: &str = "Flexible License Manager status on Fri 11/20/2026 10:05";

/// A capture with the header, the server block, and `body` after it.
fn lmstat(body: &str) -> Vec<u8> {
    format!(
        "lmutil - Copyright (c) 1989-2023 Flexera. All Rights Reserved.\n{CAPTURE}\n\n[Detecting lmgrd processes...]\n\
         License server status: 27000@lmhost\n    License file(s) on lmhost: /opt/lic/cad.lic:\n\n    lmhost: license server UP (MASTER) v11.19.6\n\n\
         Vendor daemon status (on lmhost):\n\n   cadvend: UP v11.19.6\nFeature usage info:\n\n{body}"
    )
    .into_bytes()
}

/// The capture instant of [`lmstat`] at +00:00, as in raw ids.
const CAP_UTC: &str = "2026-11-20T10:05:00Z";

fn lmstat_id(handle: &str, feature: &str, user: &str, host: &str, start: &str) -> String {
    format!("lmstat|{CAP_UTC}|lmhost/27000 {handle}|{feature}|{user}|{host}|{start}")
}

#[test]
fn lmstat_fixture_matches_expected_jsonl() {
    let out = check_fixture("flexlm-lmstat", &["lmstat-2026-11-20-1005.txt", "lmstat-2026-11-20-1430.txt"]);
    assert_eq!(out.records, vec![6, 3]);
    assert!(out.rejected.is_empty());
    assert_eq!(
        notes(&out, 0),
        vec![
            "feature `CATIA_VIEW` is uncounted (node-locked): 1 checkout not counted",
            "feature `CATIA_OLD`: lmstat reports an error instead of its usage",
            "unmet demand: 1 queued request for feature `CATIA_KIN`",
        ]
    );
    assert!(notes(&out, 1).is_empty());
    // The UTF-16 LE capture (PowerShell redirect, CRLF) reads like the UTF-8 one.
    assert_eq!(out.signals.iter().filter(|(o, _)| o.file == 1).count(), 3);
}

#[test]
fn lmstat_singular_and_plural_licenses() {
    let body = "Users of CATIA_KIN:  (Total of 1 license issued;  Total of 1 license in use)\n\n  \"CATIA_KIN\" v2023.0, vendor: cadvend\n  floating license\n\n\
        \x20   jdoe ws-042 ws-042 (v2023.0) (lmhost/27000 101), start Fri 11/20 9:15, 1 license\n\n\
        Users of CATIA_MD2:  (Total of 10 licenses issued;  Total of 4 licenses in use)\n\n  floating license\n\n\
        \x20   asmith ws-017 ws-017 (v2023.0) (lmhost/27000 102), start Fri 11/20 9:20, 3 licenses\n\
        \x20   bwong ws-088 ws-088 (v2023.0) (lmhost/27000 103), start Fri 11/20 9:30\n";
    let out = ok("flexlm-lmstat", &[("cap.txt", &lmstat(body))], &[]);
    let at = "2026-11-20T10:05:00+00:00";
    assert_eq!(
        rows(&out),
        vec![
            session(
                &lmstat_id("101", "CATIA_KIN", "jdoe", "ws-042", "2026-11-20T09:15"),
                at,
                "CATIA_KIN",
                "jdoe",
                "ws-042",
                "2026-11-20T09:15:00+00:00",
                "",
                "1"
            ),
            session(
                &lmstat_id("102", "CATIA_MD2", "asmith", "ws-017", "2026-11-20T09:20"),
                at,
                "CATIA_MD2",
                "asmith",
                "ws-017",
                "2026-11-20T09:20:00+00:00",
                "",
                "3"
            ),
            session(
                &lmstat_id("103", "CATIA_MD2", "bwong", "ws-088", "2026-11-20T09:30"),
                at,
                "CATIA_MD2",
                "bwong",
                "ws-088",
                "2026-11-20T09:30:00+00:00",
                "",
                "1"
            ),
        ]
    );
    assert_eq!(lines_of(&out), vec![(0, 20), (0, 26), (0, 27)]);
    assert_eq!(out.records, vec![3]);
}

#[test]
fn lmstat_uncounted_features_give_no_sessions() {
    let body = "Users of SERIAL:  (Uncounted, node-locked)\n\n  \"SERIAL\" v6.4, vendor: cadvend, expiry: permanent(no expiration date)\n\
        \x20 uncounted nodelocked license locked to NOTHING (hostid=ANY)\n\n\
        \x20   user1 simulatorv3 DESKTOP-7S65DQL (v6.4) (lmhost/27000), start Fri 11/20 8:54, PID: 18304\n\
        \x20   user1 SIMULATORV2 SIMULATORV2 (v6.4) (lmhost/27000), start Fri 11/20 9:12, PID: 33984\n\n\
        Users of CFD:  (Total of 3 licenses issued;  Total of 0 licenses in use)\n";
    let out = ok("flexlm-lmstat", &[("cap.txt", &lmstat(body))], &[]);
    assert!(out.signals.is_empty());
    assert!(out.rejected.is_empty());
    assert_eq!(out.records, vec![2]);
    assert_eq!(notes(&out, 0), vec!["feature `SERIAL` is uncounted (node-locked): 2 checkouts not counted"]);
}

#[test]
fn lmstat_lines_before_the_first_users_of_are_ignored() {
    // A header line that looks like a checkout (", start ") is not one: no
    // feature section has begun.
    let text = format!(
        "{CAPTURE}\nLicense server status: 27000@lmhost\n    note: lmgrd restarted, start Fri 11/20 6:00, 9 licenses\n\
         \x20   ghost ws-999 ws-999 (v1) (lmhost/27000 9), start Fri 11/20 6:00\n\n\
         Users of CATIA_MD2:  (Total of 10 licenses issued;  Total of 1 license in use)\n\n\
         \x20   jdoe ws-042 ws-042 (v2023.0) (lmhost/27000 1234), start Fri 11/20 9:15\n"
    );
    let out = ok("flexlm-lmstat", &[("cap.txt", text.as_bytes())], &[]);
    assert_eq!(
        rows(&out),
        vec![session(
            &lmstat_id("1234", "CATIA_MD2", "jdoe", "ws-042", "2026-11-20T09:15"),
            "2026-11-20T10:05:00+00:00",
            "CATIA_MD2",
            "jdoe",
            "ws-042",
            "2026-11-20T09:15:00+00:00",
            "",
            "1"
        )]
    );
    assert_eq!(out.records, vec![1]);
    assert!(out.rejected.is_empty());
}

#[test]
fn lmstat_start_year_weekday_and_capture_checks() {
    let body = "Users of F:  (Total of 9 licenses issued;  Total of 5 licenses in use)\n\n\
        \x20   a h1 h1 (v1) (lmhost/27000 1), start Tue 12/30 8:02 (linger: 3600)\n\
        \x20   b h2 h2 (v1) (lmhost/27000 2), start Wed 11/20 8:00\n\
        \x20   c h3 h3 (v1) (lmhost/27000 3), start Fri 11/20 10:06\n\
        \x20   d h4 h4 (v1) (lmhost/27000 4), start Fri 11/20 10:05\n\
        \x20   e h5 h5 (v1) (lmhost/27000 5), start Fri 2/30 10:05\n\
        \x20   f h6 h6 (v1) (lmhost/27000 6), start 11/20 7:00\n";
    let out = ok("flexlm-lmstat", &[("cap.txt", &lmstat(body))], &[]);
    let at = "2026-11-20T10:05:00+00:00";
    assert_eq!(
        rows(&out),
        vec![
            // 12/30 is after the capture day 11/20: last year, a Tuesday in 2025.
            session(&lmstat_id("1", "F", "a", "h1", "2025-12-30T08:02"), at, "F", "a", "h1", "2025-12-30T08:02:00+00:00", "", "1"),
            // Starting in the capture minute is fine (observed_at is not before the start).
            session(&lmstat_id("4", "F", "d", "h4", "2026-11-20T10:05"), at, "F", "d", "h4", "2026-11-20T10:05:00+00:00", "", "1"),
            // No weekday printed: nothing to check.
            session(&lmstat_id("6", "F", "f", "h6", "2026-11-20T07:00"), at, "F", "f", "h6", "2026-11-20T07:00:00+00:00", "", "1"),
        ]
    );
    assert_eq!(
        rejects(&out),
        vec![
            (0, 18, "session_start".into(), "weekday_mismatch"),
            (0, 19, "session_start".into(), "start_after_capture"),
            (0, 21, "session_start".into(), "malformed_start"),
        ]
    );
    assert_eq!(out.records, vec![6]);
}

#[test]
fn lmstat_leap_day_of_last_year() {
    let text = "Flexible License Manager status on Fri 1/8/2027 12:00\n\nUsers of F:  (Total of 2 licenses issued;  Total of 1 license in use)\n\n\
        \x20   a h1 h1 (v1) (lmhost/27000 1), start Fri 12/25 8:00\n\
        \x20   b h2 h2 (v1) (lmhost/27000 2), start Sat 2/29 8:00\n";
    let out = ok("flexlm-lmstat", &[("cap.txt", text.as_bytes())], &[]);
    assert_eq!(rows(&out).iter().map(|r| r.session_start.as_str()).collect::<Vec<_>>(), vec!["2026-12-25T08:00:00+00:00"]);
    // 2/29 is after 1/8, so 2026, which has no 29 February.
    assert_eq!(rejects(&out), vec![(0, 6, "session_start".into(), "malformed_start")]);
}

#[test]
fn lmstat_utc_offset_applies_to_capture_and_starts() {
    let body = "Users of F:  (Total of 2 licenses issued;  Total of 1 license in use)\n\n\
        \x20   jdoe ws-042 ws-042 (v1) (lmhost/27000 7), start Fri 11/20 9:15, 2 licenses\n";
    let out = ok("flexlm-lmstat", &[("cap.txt", &lmstat(body))], &[("utc_offset", "-05:00")]);
    assert_eq!(
        rows(&out),
        vec![session(
            "lmstat|2026-11-20T15:05:00Z|lmhost/27000 7|F|jdoe|ws-042|2026-11-20T09:15",
            "2026-11-20T10:05:00-05:00",
            "F",
            "jdoe",
            "ws-042",
            "2026-11-20T09:15:00-05:00",
            "",
            "2"
        )]
    );
    let e = err("flexlm-lmstat", &[("cap.txt", &lmstat(body))], &[("utc_offset", "+1")]);
    assert_eq!(e.code().name(), "invalid_input");
    assert!(e.message().contains("utc_offset"), "{e}");
}

#[test]
fn lmstat_capture_instant_from_header_or_option() {
    let usage = "Users of F:  (Total of 2 licenses issued;  Total of 1 license in use)\n\n\
        \x20   jdoe ws-042 ws-042 (v1) (lmhost/27000 7), start Fri 11/20 9:15\n";
    // Neither header nor option: no clock to guess.
    let e = err("flexlm-lmstat", &[("imports/flexlm-lmstat/cap.txt", usage.as_bytes())], &[]);
    assert_invalid(&e, "imports/flexlm-lmstat/cap.txt", Some(1));
    assert!(e.message().contains("observed_at"), "{e}");
    // The option dates a capture without header; its text is observed_at as given.
    let out = ok("flexlm-lmstat", &[("cap.txt", usage.as_bytes())], &[("observed_at", "2026-11-20T11:05:00+01:00")]);
    assert_eq!(
        rows(&out),
        vec![session(
            "lmstat|2026-11-20T10:05:00Z|lmhost/27000 7|F|jdoe|ws-042|2026-11-20T09:15",
            "2026-11-20T11:05:00+01:00",
            "F",
            "jdoe",
            "ws-042",
            "2026-11-20T09:15:00+00:00",
            "",
            "1"
        )]
    );
    assert_eq!(notes(&out, 0), vec!["usage before the first capture header dated by option `observed_at`"]);
    // With a header, the file's own capture instant wins.
    let out = ok("flexlm-lmstat", &[("cap.txt", &lmstat(usage))], &[("observed_at", "2027-01-01T00:00:00Z")]);
    assert_eq!(rows(&out)[0].observed_at, "2026-11-20T10:05:00+00:00");
    assert_eq!(notes(&out, 0), vec!["option `observed_at` not used: the file has its own capture header"]);
    // A malformed option is an error, whatever the file.
    let e = err("flexlm-lmstat", &[("cap.txt", &lmstat(usage))], &[("observed_at", "2026-11-20 10:05")]);
    assert_eq!(e.code().name(), "invalid_input");
    // A malformed header is an error at its line.
    let e = err("flexlm-lmstat", &[("cap.txt", b"Flexible License Manager status on Thu 11/20/2026 10:05\n")], &[]);
    assert_invalid(&e, "cap.txt", Some(1));
}

#[test]
fn lmstat_several_captures_in_one_file() {
    let one = |at: &str, start: &str| {
        format!("Flexible License Manager status on {at}\n\nUsers of F:  (Total of 2 licenses issued;  Total of 1 license in use)\n\n    jdoe ws-042 ws-042 (v1) (lmhost/27000 7), start {start}\n\n")
    };
    let text = one("Fri 11/20/2026 10:05", "Fri 11/20 9:15") + &one("Fri 11/20/2026 11:05", "Fri 11/20 9:15");
    let out = ok("flexlm-lmstat", &[("cap.txt", text.as_bytes())], &[]);
    assert_eq!(
        rows(&out),
        vec![
            session(
                "lmstat|2026-11-20T10:05:00Z|lmhost/27000 7|F|jdoe|ws-042|2026-11-20T09:15",
                "2026-11-20T10:05:00+00:00",
                "F",
                "jdoe",
                "ws-042",
                "2026-11-20T09:15:00+00:00",
                "",
                "1"
            ),
            session(
                "lmstat|2026-11-20T11:05:00Z|lmhost/27000 7|F|jdoe|ws-042|2026-11-20T09:15",
                "2026-11-20T11:05:00+00:00",
                "F",
                "jdoe",
                "ws-042",
                "2026-11-20T09:15:00+00:00",
                "",
                "1"
            ),
        ]
    );
}

#[test]
fn lmstat_linger_queued_and_odd_user_lines() {
    let body = "Users of F:  (Total of 9 licenses issued;  Total of 3 licenses in use)\n\n  floating license\n\n\
        \x20   John Smith WS-042.corp.example.com /dev/pts/3 (v2023.0) (lmhost/27000 11), start Fri 11/20 9:15 (linger: 7200 / 3600)\n\
        \x20   svc-build build-01 build-01 (lmhost/27000 12), start Fri 11/20 9:16, 2 licenses, PID: 4242\n\
        \x20   nohandle ws-7 ws-7 (v6.4) (lmhost/27000), start Fri 11/20 9:17\n\
        \x20   cmiller ws-101 ws-101 (v2023.0) (lmhost/27000 13) queued for 2 licenses\n\
        \x20   1 RESERVATION for USER jdoe (lmhost/27000)\n";
    let out = ok("flexlm-lmstat", &[("cap.txt", &lmstat(body))], &[]);
    let at = "2026-11-20T10:05:00+00:00";
    assert_eq!(
        rows(&out),
        vec![
            session(
                &lmstat_id("11", "F", "John Smith", "WS-042.corp.example.com", "2026-11-20T09:15"),
                at,
                "F",
                "John Smith",
                "WS-042.corp.example.com",
                "2026-11-20T09:15:00+00:00",
                "",
                "1"
            ),
            session(
                &lmstat_id("12", "F", "svc-build", "build-01", "2026-11-20T09:16"),
                at,
                "F",
                "svc-build",
                "build-01",
                "2026-11-20T09:16:00+00:00",
                "",
                "2"
            ),
            session(
                &format!("lmstat|{CAP_UTC}|lmhost/27000|F|nohandle|ws-7|2026-11-20T09:17"),
                at,
                "F",
                "nohandle",
                "ws-7",
                "2026-11-20T09:17:00+00:00",
                "",
                "1"
            ),
        ]
    );
    assert_eq!(out.records, vec![4]);
    assert_eq!(notes(&out, 0), vec!["unmet demand: 1 queued request for feature `F`"]);
}

#[test]
fn lmstat_utf16_and_bom_variants_read_alike() {
    let body = "Users of F:  (Total of 2 licenses issued;  Total of 1 license in use)\r\n\r\n    jdoe ws-042 ws-042 (v1) (lmhost/27000 7), start Fri 11/20 9:15\r\n";
    let plain = lmstat(body);
    let text = String::from_utf8(plain.clone()).unwrap().replace("\r\n", "\n").replace('\n', "\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut bom8 = b"\xEF\xBB\xBF".to_vec();
    bom8.extend_from_slice(text.as_bytes());
    let want = rows(&ok("flexlm-lmstat", &[("cap.txt", &plain)], &[]));
    assert_eq!(want.len(), 1);
    assert_eq!(rows(&ok("flexlm-lmstat", &[("cap.txt", &utf16)], &[])), want);
    assert_eq!(rows(&ok("flexlm-lmstat", &[("cap.txt", &bom8)], &[])), want);
}

#[test]
fn lmstat_bad_rows_are_rejected_alone() {
    // A truncated capture (the copy stopped mid-line), a zero quantity and a
    // line without the server group.
    let body = "Users of F:  (Total of 9 licenses issued;  Total of 1 license in use)\n\n\
        \x20   jdoe ws-042 ws-042 (v1) (lmhost/27000 7), start Fri 11/20 9:15\n\
        \x20   zero ws-1 ws-1 (v1) (lmhost/27000 8), start Fri 11/20 9:15, 0 licenses\n\
        \x20   nogroup ws-2 ws-2, start Fri 11/20 9:15\n\
        \x20   asmith ws-017 ws-017 (v1) (lmhost/27000 9), start Fri 11/2";
    let out = ok("flexlm-lmstat", &[("cap.txt", &lmstat(body))], &[]);
    assert_eq!(rows(&out).iter().map(|r| r.user.as_str()).collect::<Vec<_>>(), vec!["jdoe"]);
    assert_eq!(
        rejects(&out),
        vec![
            (0, 18, "quantity".into(), "invalid_quantity"),
            (0, 19, "line".into(), "malformed_checkout"),
            (0, 20, "session_start".into(), "malformed_start"),
        ]
    );
    assert_eq!(out.records, vec![4]);
    for (_, e) in &out.rejected {
        assert!(!e.message.contains("asmith") && !e.message.contains("zero"), "messages never echo values: {}", e.message);
    }
}

#[test]
fn lmstat_error_feature_and_empty_capture_notes() {
    let body = "Users of OLD:  (Error: 5 licenses, unsupported by licensed server)\n\n    jdoe ws-042 ws-042 (v1) (lmhost/27000 7), start Fri 11/20 9:15\n\n\
        Users of NEW:  (Error: 1 licenses, unsupported by licensed server)\n";
    let out = ok("flexlm-lmstat", &[("cap.txt", &lmstat(body))], &[]);
    assert!(out.signals.is_empty());
    assert_eq!(out.records, vec![1]);
    assert_eq!(
        notes(&out, 0),
        vec![
            "feature `NEW`: lmstat reports an error instead of its usage",
            "feature `OLD`: lmstat reports an error instead of its usage (1 checkout line skipped)",
        ]
    );
    // Server down: a capture header and an error, no usage at all.
    let down =
        format!("{CAPTURE}\n\nError getting status: Cannot connect to license server system. (-15,570:111 \"Connection refused\")\n");
    let out = ok("flexlm-lmstat", &[("cap.txt", down.as_bytes())], &[]);
    assert!(out.signals.is_empty());
    assert_eq!(notes(&out, 0), vec!["no `Users of` line: the capture shows no feature usage"]);
}

#[test]
fn lmstat_bad_input_is_a_located_error() {
    let good = lmstat("Users of F:  (Total of 1 license issued;  Total of 1 license in use)\n\n    jdoe ws-042 ws-042 (v1) (lmhost/27000 7), start Fri 11/20 9:15\n");
    // Neither UTF-8 nor UTF-16: the whole run fails, no partial signals.
    let e =
        err("flexlm-lmstat", &[("imports/flexlm-lmstat/a.txt", &good), ("imports/flexlm-lmstat/b.txt", b"Users of F:\xFF\xFE\xFD")], &[]);
    assert_invalid(&e, "imports/flexlm-lmstat/b.txt", None);
    // The wrong export for this adapter (a debug log).
    let e = err("flexlm-lmstat", &[("imports/flexlm-lmstat/lmgrd.log", b" 9:15:02 (cadvend) OUT: \"F\" jdoe@ws-042\n")], &[]);
    assert_invalid(&e, "imports/flexlm-lmstat/lmgrd.log", None);
    // An unknown option.
    let e = err("flexlm-lmstat", &[("imports/flexlm-lmstat/a.txt", &good)], &[("capture_date", "2026-11-20")]);
    assert_eq!(e.code().name(), "invalid_input");
    assert!(e.message().contains("observed_at, utc_offset"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// flexlm-log

fn log(lines: &[&str]) -> Vec<u8> {
    let mut s = lines.join("\n");
    s.push('\n');
    s.into_bytes()
}

#[test]
fn log_fixture_matches_expected_jsonl() {
    let out = check_fixture("flexlm-log", &["lmgrd-2026-11-19.log", "lmgrd-2026-11-20.log"]);
    assert_eq!(out.records, vec![16, 8]);
    assert!(out.rejected.is_empty());
    assert_eq!(
        notes(&out, 0),
        vec![
            "1 check-in line without a matching checkout ignored (checked out before the log starts)",
            "1 checkout with no duration (checked in within the same second) skipped",
            "unmet demand: 2 DENIED requests for feature `CATIA_KIN`",
            "unmet demand: 1 DENIED request for feature `CATIA_MD2`",
            "unmet demand: 1 QUEUED request for feature `CATIA_MD2`",
        ]
    );
    assert_eq!(
        notes(&out, 1),
        vec!["line 6: license server start or shutdown ended 2 open checkouts", "3 checkouts still open at the end of the log"]
    );
}

#[test]
fn log_singular_and_plural_licenses() {
    let text = log(&[
        " 9:00:00 (lmgrd) TIMESTAMP 11/20/2026",
        " 9:15:02 (cadvend) OUT: \"F\" jdoe@ws-042  (1 license)",
        " 9:16:00 (cadvend) OUT: \"F\" asmith@ws-017  (4 licenses)",
        " 9:17:00 (cadvend) OUT: \"F\" bwong@ws-088  ",
        "10:00:00 (cadvend) IN: \"F\" jdoe@ws-042  (1 license)",
        "10:01:00 (cadvend) IN: \"F\" asmith@ws-017  (4 licenses)",
        "10:02:00 (cadvend) IN: \"F\" bwong@ws-088  ",
    ]);
    let out = ok("flexlm-log", &[("lmgrd.log", &text)], &[]);
    assert_eq!(
        rows(&out),
        vec![
            session(
                "lmgrd.log:2",
                "2026-11-20T10:00:00+00:00",
                "F",
                "jdoe",
                "ws-042",
                "2026-11-20T09:15:02+00:00",
                "2026-11-20T10:00:00+00:00",
                "1"
            ),
            session(
                "lmgrd.log:3",
                "2026-11-20T10:01:00+00:00",
                "F",
                "asmith",
                "ws-017",
                "2026-11-20T09:16:00+00:00",
                "2026-11-20T10:01:00+00:00",
                "4"
            ),
            session(
                "lmgrd.log:4",
                "2026-11-20T10:02:00+00:00",
                "F",
                "bwong",
                "ws-088",
                "2026-11-20T09:17:00+00:00",
                "2026-11-20T10:02:00+00:00",
                "1"
            ),
        ]
    );
    assert_eq!(out.records, vec![6]);
}

#[test]
fn log_lines_before_the_first_date() {
    let text = log(&[
        " 8:02:11 (cadvend) OUT: \"F\" jdoe@ws-042",
        " 8:30:00 (cadvend) IN: \"F\" early@ws-009",
        " 8:40:00 (cadvend) DENIED: \"F\" late@ws-010  (Licensed number of users already reached. (-4,342))",
        " 9:00:00 (lmgrd) TIMESTAMP 11/20/2026",
        " 9:10:00 (cadvend) OUT: \"F\" asmith@ws-017",
        "10:00:00 (cadvend) IN: \"F\" jdoe@ws-042",
    ]);
    // Without `start_date`: the undated checkout is rejected (and noted), its
    // check-in then matches nothing; dated lines are used.
    let out = ok("flexlm-log", &[("lmgrd.log", &text)], &[]);
    assert_eq!(
        rows(&out),
        vec![session("lmgrd.log:5", "2026-11-20T10:00:00+00:00", "F", "asmith", "ws-017", "2026-11-20T09:10:00+00:00", "", "1")]
    );
    assert_eq!(rejects(&out), vec![(0, 1, "session_start".into(), "undated_line")]);
    assert_eq!(
        notes(&out, 0),
        vec![
            "1 checkout still open at the end of the log",
            "1 checkout line before the first date of the log (no TIMESTAMP yet) rejected: give option `start_date`",
            "2 check-in lines without a matching checkout ignored (checked out before the log starts)",
            "unmet demand: 1 DENIED request for feature `F`",
        ]
    );
    // With `start_date` the first lines are dated.
    let out = ok("flexlm-log", &[("lmgrd.log", &text)], &[("start_date", "2026-11-20")]);
    assert_eq!(
        rows(&out),
        vec![
            session(
                "lmgrd.log:1",
                "2026-11-20T10:00:00+00:00",
                "F",
                "jdoe",
                "ws-042",
                "2026-11-20T08:02:11+00:00",
                "2026-11-20T10:00:00+00:00",
                "1"
            ),
            session("lmgrd.log:5", "2026-11-20T10:00:00+00:00", "F", "asmith", "ws-017", "2026-11-20T09:10:00+00:00", "", "1"),
        ]
    );
    assert!(out.rejected.is_empty());
    let e = err("flexlm-log", &[("lmgrd.log", &text)], &[("start_date", "11/20/2026")]);
    assert_eq!(e.code().name(), "invalid_input");
}

#[test]
fn log_midnight_rollover() {
    let text = log(&[
        "23:00:00 (lmgrd) TIMESTAMP 11/20/2026",
        "23:59:50 (cadvend) OUT: \"F\" night@build-01",
        " 0:00:10 (cadvend) IN: \"F\" night@build-01",
        "23:10:00 (cadvend) OUT: \"F\" night@build-01",
        // A second midnight without a TIMESTAMP in between.
        " 1:00:00 (cadvend) IN: \"F\" night@build-01",
        // Written a few minutes out of order by another daemon: not a new day.
        " 0:58:00 (lmgrd) cadvend using TCP-port 41234",
        " 1:05:00 (cadvend) OUT: \"F\" day@ws-1",
        // The TIMESTAMP is authoritative: the same day again.
        " 2:00:00 (lmgrd) TIMESTAMP 11/22/2026",
        " 3:00:00 (cadvend) IN: \"F\" day@ws-1",
    ]);
    let out = ok("flexlm-log", &[("lmgrd.log", &text)], &[("utc_offset", "+01:00")]);
    assert_eq!(
        rows(&out),
        vec![
            session(
                "lmgrd.log:2",
                "2026-11-21T00:00:10+01:00",
                "F",
                "night",
                "build-01",
                "2026-11-20T23:59:50+01:00",
                "2026-11-21T00:00:10+01:00",
                "1"
            ),
            session(
                "lmgrd.log:4",
                "2026-11-22T01:00:00+01:00",
                "F",
                "night",
                "build-01",
                "2026-11-21T23:10:00+01:00",
                "2026-11-22T01:00:00+01:00",
                "1"
            ),
            session(
                "lmgrd.log:7",
                "2026-11-22T03:00:00+01:00",
                "F",
                "day",
                "ws-1",
                "2026-11-22T01:05:00+01:00",
                "2026-11-22T03:00:00+01:00",
                "1"
            ),
        ]
    );
}

#[test]
fn log_dates_from_startup_lines() {
    // lmgrd's banner and start-up line name the date before any TIMESTAMP.
    let text = log(&[
        "15:50:35 (lmgrd) -----------------------------------------------",
        "15:50:35 (lmgrd) Server's System Date and Time: Thu Nov 19 2026 15:50:35 CET",
        "15:51:00 (cadvend) OUT: \"F\" jdoe@ws-042",
        "15:52:00 (lmgrd) FlexNet Licensing (v11.19.6.0 build 306019 x64_lsb) started on lmhost (linux) (11/20/2026)",
        "15:53:00 (cadvend) OUT: \"F\" asmith@ws-017",
    ]);
    let out = ok("flexlm-log", &[("lmgrd.log", &text)], &[("utc_offset", "+01:00")]);
    assert_eq!(
        rows(&out),
        vec![
            session(
                "lmgrd.log:3",
                "2026-11-20T15:52:00+01:00",
                "F",
                "jdoe",
                "ws-042",
                "2026-11-19T15:51:00+01:00",
                "2026-11-20T15:52:00+01:00",
                "1"
            ),
            session("lmgrd.log:5", "2026-11-20T15:53:00+01:00", "F", "asmith", "ws-017", "2026-11-20T15:53:00+01:00", "", "1"),
        ]
    );
    assert!(out.rejected.is_empty());
}

#[test]
fn log_restart_and_shutdown_close_open_checkouts() {
    let text = log(&[
        " 8:00:00 (lmgrd) TIMESTAMP 11/20/2026",
        " 8:10:00 (cadvend) OUT: \"F\" jdoe@ws-042",
        " 8:11:00 (mathd) OUT: \"M\" jdoe@ws-042",
        // One vendor daemon restarted by lmgrd: only its checkouts end.
        " 9:00:00 (lmgrd) REStarted cadvend (internet tcp_port 41234 pid 5544)",
        " 9:05:00 (cadvend) OUT: \"F\" asmith@ws-017",
        // lmgrd restarts (crash, no shutdown logged): everything ends.
        "10:00:00 (lmgrd) FlexNet Licensing (v11.19.6.0 build 306019 x64_lsb) started on lmhost (linux) (11/20/2026)",
        "10:05:00 (cadvend) OUT: \"F\" bwong@ws-088",
        "10:06:00 (cadvend_2) OUT: \"F\" cmiller@ws-101",
        // The forked copy `cadvend_2` goes with its vendor daemon.
        "11:00:00 (cadvend) EXITING DUE TO SIGNAL 15 Exit reason 2",
        "11:30:00 (cadvend) TIMESTAMP 11/20/2026",
    ]);
    let out = ok("flexlm-log", &[("lmgrd.log", &text)], &[]);
    let z = |t: &str| format!("2026-11-20T{t}+00:00");
    assert_eq!(
        rows(&out),
        vec![
            session("lmgrd.log:2", &z("09:00:00"), "F", "jdoe", "ws-042", &z("08:10:00"), &z("09:00:00"), "1"),
            session("lmgrd.log:3", &z("10:00:00"), "M", "jdoe", "ws-042", &z("08:11:00"), &z("10:00:00"), "1"),
            session("lmgrd.log:5", &z("10:00:00"), "F", "asmith", "ws-017", &z("09:05:00"), &z("10:00:00"), "1"),
            session("lmgrd.log:7", &z("11:00:00"), "F", "bwong", "ws-088", &z("10:05:00"), &z("11:00:00"), "1"),
            session("lmgrd.log:8", &z("11:00:00"), "F", "cmiller", "ws-101", &z("10:06:00"), &z("11:00:00"), "1"),
        ]
    );
    assert_eq!(
        notes(&out, 0),
        vec![
            "line 4: vendor daemon `cadvend` start or exit ended 1 open checkout",
            "line 6: license server start or shutdown ended 2 open checkouts",
            "line 9: vendor daemon `cadvend` start or exit ended 2 open checkouts",
        ]
    );
}

#[test]
fn log_denied_lines_are_unmet_demand_per_feature() {
    let text = log(&[
        " 9:00:00 (lmgrd) TIMESTAMP 11/20/2026",
        " 9:01:00 (cadvend) DENIED: \"F\" a@h1  (Licensed number of users already reached. (-4,342))",
        " 9:02:00 (cadvend) DENIED: \"F\" b@h2  (25 licenses) (Users are queued for this feature. (-24,332))",
        " 9:03:00 (cadvend) DENIED: \"G\" a@h1  (User/host on EXCLUDE list for feature. (-38,348))",
        " 9:04:00 (cadvend) DENIED: 2 H to c",
        " 9:05:00 (cadvend) DENIED: \"F\" @h3 (No such feature exists. (-5,414)) ^^^ 1.0 d 10.0.0.3 4242 0x12 1 3 proj 11 19 11-20-2026 9:05:00 NO ^^^",
    ]);
    let out = ok("flexlm-log", &[("lmgrd.log", &text)], &[]);
    assert!(out.signals.is_empty());
    assert_eq!(out.records, vec![5]);
    assert_eq!(
        notes(&out, 0),
        vec![
            "unmet demand: 3 DENIED requests for feature `F`",
            "unmet demand: 1 DENIED request for feature `G`",
            "unmet demand: 1 DENIED request for feature `H`",
        ]
    );
}

#[test]
fn log_check_ins_match_the_oldest_checkout_of_the_same_size() {
    let text = log(&[
        " 9:00:00 (lmgrd) TIMESTAMP 11/20/2026",
        " 9:00:01 (cadvend) OUT: \"F\" jdoe@ws-042",
        " 9:00:02 (cadvend) OUT: \"F\" jdoe@ws-042  (2 licenses)",
        " 9:00:03 (cadvend) OUT: \"F\" jdoe@ws-042",
        " 9:00:04 (cadvend) OUT: \"F\" jdoe@ws-999",
        // The 2-license checkout, although not the oldest.
        "10:00:00 (cadvend) IN: \"F\" jdoe@ws-042  (2 licenses)",
        // Then the oldest single one.
        "10:00:01 (cadvend) IN: \"F\" jdoe@ws-042",
        // Legacy `IN` without a host: any host of that user and feature.
        "10:00:02 (cadvend) IN: \"F\" jdoe",
        // Verbose format.
        "10:00:03 (cadvend) IN: \"F\" @ws-999 (1) ^^^ 1.0 jdoe 10.0.0.9 77 0x1 0 3 proj 11 19 11-20-2026 10:00:03 NO ^^^",
        "10:00:04 (cadvend) IN: \"F\" jdoe@ws-042",
    ]);
    let out = ok("flexlm-log", &[("lmgrd.log", &text)], &[]);
    let z = |t: &str| format!("2026-11-20T{t}+00:00");
    assert_eq!(
        rows(&out),
        vec![
            session("lmgrd.log:2", &z("10:00:01"), "F", "jdoe", "ws-042", &z("09:00:01"), &z("10:00:01"), "1"),
            session("lmgrd.log:3", &z("10:00:00"), "F", "jdoe", "ws-042", &z("09:00:02"), &z("10:00:00"), "2"),
            session("lmgrd.log:4", &z("10:00:02"), "F", "jdoe", "ws-042", &z("09:00:03"), &z("10:00:02"), "1"),
            session("lmgrd.log:5", &z("10:00:03"), "F", "jdoe", "ws-999", &z("09:00:04"), &z("10:00:03"), "1"),
        ]
    );
    assert_eq!(notes(&out, 0), vec!["1 check-in line without a matching checkout ignored (checked out before the log starts)"]);
}

#[test]
fn log_open_checkouts_are_observed_at_the_last_line() {
    let text = log(&[
        " 9:00:00 (lmgrd) TIMESTAMP 11/20/2026",
        " 9:15:02 (cadvend) OUT: \"F\" John Smith@WS-042.corp.example.com  (3 licenses)",
        " 9:15:02 (cadvend) OUT: \"G\" jdoe@ws-042",
        " 9:15:02 (cadvend) IN: \"G\" jdoe@ws-042",
        "15:00:00 (lmgrd) TIMESTAMP 11/20/2026",
        "15:00:07 (cadvend) Lost connection to client",
    ]);
    let out = ok("flexlm-log", &[("lmgrd.log", &text)], &[]);
    assert_eq!(
        rows(&out),
        vec![session(
            "lmgrd.log:2",
            "2026-11-20T15:00:07+00:00",
            "F",
            "John Smith",
            "WS-042.corp.example.com",
            "2026-11-20T09:15:02+00:00",
            "",
            "3"
        )]
    );
    assert_eq!(
        notes(&out, 0),
        vec!["1 checkout still open at the end of the log", "1 checkout with no duration (checked in within the same second) skipped"]
    );
}

#[test]
fn log_datestamp_lines_carry_their_own_date() {
    let text = log(&[
        "2026-11-20T09:15:02-05:00 (cadvend) OUT: \"F\" jdoe@ws-042",
        "2026-11-20T09:20:00 (cadvend) OUT: \"F\" asmith@ws-017",
        "2026-11-20T10:00:00-0500 (cadvend) IN: \"F\" jdoe@ws-042",
        // A classic line afterwards continues that date.
        "11:00:00 (cadvend) IN: \"F\" asmith@ws-017",
    ]);
    let out = ok("flexlm-log", &[("lmgrd.log", &text)], &[("utc_offset", "-05:00")]);
    assert_eq!(
        rows(&out),
        vec![
            session(
                "lmgrd.log:1",
                "2026-11-20T10:00:00-05:00",
                "F",
                "jdoe",
                "ws-042",
                "2026-11-20T09:15:02-05:00",
                "2026-11-20T10:00:00-05:00",
                "1"
            ),
            session(
                "lmgrd.log:2",
                "2026-11-20T11:00:00-05:00",
                "F",
                "asmith",
                "ws-017",
                "2026-11-20T09:20:00-05:00",
                "2026-11-20T11:00:00-05:00",
                "1"
            ),
        ]
    );
}

#[test]
fn log_files_chain_in_path_order() {
    let a = log(&[" 9:00:00 (lmgrd) TIMESTAMP 11/20/2026", "23:00:00 (cadvend) OUT: \"F\" jdoe@ws-042"]);
    // The next file continues the day (midnight roll-over across files).
    let b = log(&[" 1:00:00 (cadvend) IN: \"F\" jdoe@ws-042", " 3:00:00 (lmgrd) TIMESTAMP 11/21/2026"]);
    let out = ok("flexlm-log", &[("logs/2026-11-20.log", &a), ("logs/2026-11-21.log", &b)], &[]);
    assert_eq!(
        out.signals,
        vec![(
            adapters::Origin { file: 0, line: 2 },
            session(
                "2026-11-20.log:2",
                "2026-11-21T01:00:00+00:00",
                "F",
                "jdoe",
                "ws-042",
                "2026-11-20T23:00:00+00:00",
                "2026-11-21T01:00:00+00:00",
                "1"
            )
        )]
    );
    // Path order must be chronological: a file dated before the end of the previous one is an error.
    let e = err(
        "flexlm-log",
        &[("imports/flexlm-log/a.log", &log(&["9:00:00 (lmgrd) TIMESTAMP 11/25/2026"])), ("imports/flexlm-log/b.log", &a)],
        &[],
    );
    assert_invalid(&e, "imports/flexlm-log/b.log", Some(1));
    // Two files with the same base name: the raw ids carry the whole paths.
    let one = log(&[" 9:00:00 (lmgrd) TIMESTAMP 11/20/2026", " 9:10:00 (cadvend) OUT: \"F\" jdoe@ws-042"]);
    let two = log(&[" 9:20:00 (lmgrd) TIMESTAMP 11/20/2026", " 9:30:00 (cadvend) OUT: \"F\" asmith@ws-017"]);
    let out = ok("flexlm-log", &[("s1/lmgrd.log", &one), ("s2/lmgrd.log", &two)], &[]);
    assert_eq!(rows(&out).iter().map(|r| r.raw_id.as_str()).collect::<Vec<_>>(), vec!["s1/lmgrd.log:2", "s2/lmgrd.log:2"]);
}

#[test]
fn log_bad_rows_are_rejected_alone() {
    let text = b" 9:00:00 (lmgrd) TIMESTAMP 11/20/2026\n 9:10:00 (cadvend) OUT: \"F\" jdoe@ws-042\n25:00:00 (cadvend) OUT: \"F\" bad@ws-1\n 9:11:00 (cadvend) OUT: \"F\" zero@ws-1  (0 licenses)\n 9:12:00 (cadvend) OUT: \"\"\n 9:13:00 (cadvend) OUT: \"CATIA";
    let out = ok("flexlm-log", &[("lmgrd.log", text)], &[]);
    assert_eq!(rows(&out).iter().map(|r| r.user.as_str()).collect::<Vec<_>>(), vec!["jdoe"]);
    assert_eq!(
        rejects(&out),
        vec![
            (0, 3, "session_start".into(), "malformed_time"),
            (0, 4, "quantity".into(), "invalid_quantity"),
            (0, 5, "line".into(), "malformed_checkout"),
            (0, 6, "line".into(), "malformed_checkout"),
        ]
    );
    assert_eq!(out.records, vec![5]);
}

#[test]
fn log_bad_input_is_a_located_error() {
    let good = log(&[" 9:00:00 (lmgrd) TIMESTAMP 11/20/2026", " 9:10:00 (cadvend) OUT: \"F\" jdoe@ws-042"]);
    let e = err("flexlm-log", &[("imports/flexlm-log/a.log", &good), ("imports/flexlm-log/b.log", b" 9:00:00 (lmgrd) \xC3\x28")], &[]);
    assert_invalid(&e, "imports/flexlm-log/b.log", None);
    // An lmstat capture given to the log adapter.
    let e = err("flexlm-log", &[("imports/flexlm-log/lmstat.txt", &lmstat(""))], &[]);
    assert_invalid(&e, "imports/flexlm-log/lmstat.txt", None);
    let e = err("flexlm-log", &[("imports/flexlm-log/a.log", &good)], &[("capture_date", "2026-11-20")]);
    assert_eq!(e.code().name(), "invalid_input");
    assert!(e.message().contains("start_date, utc_offset"), "{e}");
    // An empty file is no error (a freshly rotated log).
    let out = ok("flexlm-log", &[("a.log", b""), ("b.log", &good)], &[]);
    assert_eq!(notes(&out, 0), vec!["empty log file"]);
    assert_eq!(out.signals.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// end to end

fn e2e_bundle(adapter: &str, files: &[&str]) -> Bundle {
    let mut b = Bundle::new()
        .sku("catia-md2", "concurrent")
        .sku("catia-kin", "concurrent")
        .entitle("catia-md2", 10)
        .entitle("catia-kin", 1)
        .rule(
            &["sku_mappings"],
            json!([
                {"match": "exact", "field": "product", "value": "CATIA_MD2", "sku": "catia-md2"},
                {"match": "exact", "field": "product", "value": "catia_kin", "sku": "catia-kin"}
            ]),
        )
        .param("expected_sources", json!(["flexlm"]));
    let o: serde_json::Map<String, Value> = fixture_options(adapter).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    b = b.param("adapter_options", json!({ adapter: o }));
    for f in files {
        b = b.file(&format!("imports/{adapter}/{f}"), &fixture(&format!("{adapter}/input/{f}")));
    }
    b
}

fn check_imports(out: &eucora_license_core::Outcome, adapter: &str, files: &[&str], rows: &[u64]) {
    let snap = out.snapshot.as_ref().expect("snapshot");
    let imports: Vec<&Value> = snap.value()["imports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["path"].as_str().is_some_and(|p| p.starts_with("imports/")))
        .collect();
    assert_eq!(imports.len(), files.len());
    for ((imp, f), n) in imports.iter().zip(files).zip(rows) {
        assert_eq!(imp["adapter"], adapter);
        assert_eq!(imp["adapter_version"], "1.0.0");
        assert_eq!(imp["source"], "flexlm");
        assert_eq!(imp["path"], format!("imports/{adapter}/{f}"));
        assert_eq!(imp["rows_total"], *n);
        assert_eq!(imp["rows_accepted"], *n);
        assert_eq!(imp["rows_rejected"], 0);
    }
    assert_eq!(snap.value()["coverage"]["flexlm"]["signals"], rows.iter().sum::<u64>(), "{}", snap.value()["coverage"]);
}

#[test]
fn lmstat_end_to_end() {
    let files = ["lmstat-2026-11-20-1005.txt", "lmstat-2026-11-20-1430.txt"];
    let b = e2e_bundle("flexlm-lmstat", &files);
    let out = b.run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.status, RunStatus::Ok, "{}", out.report.to_json());
    // All open until as_of: jdoe (2, seen in both captures: one session),
    // asmith, bwong (since last year, clipped to the window), emartin.
    assert_eq!(b.consumed("catia-md2"), 5);
    // jdoe and cmiller (queued at 10:05, holding the license at 14:30).
    assert_eq!(b.consumed("catia-kin"), 2);
    check_imports(&out, "flexlm-lmstat", &files, &[4, 3]);
    assert!(exceptions(&out, "unmapped_product").is_empty());
}

#[test]
fn log_end_to_end() {
    let files = ["lmgrd-2026-11-19.log", "lmgrd-2026-11-20.log"];
    let b = e2e_bundle("flexlm-log", &files);
    let out = b.run();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.status, RunStatus::Ok, "{}", out.report.to_json());
    // Peak on 11/20 after 11:02: jdoe 1 + emartin 2 + asmith 1 (all open).
    assert_eq!(b.consumed("catia-md2"), 4);
    assert_eq!(b.consumed("catia-kin"), 1);
    check_imports(&out, "flexlm-log", &files, &[5, 6]);
    let report_json = out.report.to_json();
    let job = report_json["imports"].as_array().unwrap().iter().find(|j| j["path"] == "imports/flexlm-log/lmgrd-2026-11-19.log").unwrap();
    let warnings: Vec<String> = job["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_string()).collect();
    assert!(warnings.contains(&"unmet demand: 2 DENIED requests for feature `CATIA_KIN`".to_string()), "{warnings:?}");
}

#[test]
fn end_to_end_bad_option_names_the_folder() {
    let b = e2e_bundle("flexlm-log", &["lmgrd-2026-11-19.log"]).param("adapter_options", json!({"flexlm-log": {"start": "2026-11-19"}}));
    let out = b.run();
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(reasons(&out), vec!["invalid_input"]);
    let loc = out.errors[0].location().expect("location");
    assert_eq!(loc.file, "imports/flexlm-log/");
    // A file that fails as a whole fails the run: no partial signals.
    let b = e2e_bundle("flexlm-lmstat", &["lmstat-2026-11-20-1005.txt"]).file("imports/flexlm-lmstat/zz.txt", b"\xFF\xFF\xFF");
    let out = b.run();
    assert_eq!(out.status, RunStatus::Failed);
    assert!(out.snapshot.is_none());
    assert_eq!(out.errors[0].location().map(|l| l.file.as_str()), Some("imports/flexlm-lmstat/zz.txt"));
}

// ---------------------------------------------------------------------------------------------
// robustness: no input makes an adapter panic

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Flexible License Manager status on Fri 11/20/2026 10:05".to_string()),
        Just("Users of F:  (Total of 1 license issued;  Total of 1 license in use)".to_string()),
        Just("Users of U:  (Uncounted, node-locked)".to_string()),
        Just("    jdoe ws-042 ws-042 (v1) (lmhost/27000 7), start Fri 11/20 9:15, 2 licenses".to_string()),
        Just("    a b c (x) (y/1), start 2/29 23:59 (linger: 9)".to_string()),
        Just(" 9:00:00 (lmgrd) TIMESTAMP 11/20/2026".to_string()),
        Just("23:59:59 (v) OUT: \"F\" u@h  (3 licenses)".to_string()),
        Just(" 0:00:01 (v) IN: \"F\" u@h".to_string()),
        Just("9999-12-31T23:59:59+14:00 (v) OUT: F u@h".to_string()),
        Just("1:00:00 (lmgrd) FlexNet Licensing (v1) started on h (linux) (12/31/9999)".to_string()),
        Just("1:00:00 (v) EXITING DUE TO SIGNAL 15".to_string()),
        Just("1:00:00 (v) DENIED: 2 F to u".to_string()),
        Just("1:00:00 (v) OUT: \"F\" @h (2) ^^^ 1 u ^^^".to_string()),
        "\\PC{0,40}",
        "[ 0-9:/(),@\"^a-zA-Z]{0,60}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn adapters_never_panic(lines in prop::collection::vec(fragment(), 0..40), start in prop::option::of(Just("9999-12-31"))) {
        let text = lines.join("\n");
        for adapter in ["flexlm-lmstat", "flexlm-log"] {
            let mut kv = vec![("utc_offset", "+14:00")];
            if adapter == "flexlm-log" {
                if let Some(d) = start { kv.push(("start_date", d)); }
            } else {
                kv.push(("observed_at", "2026-11-20T10:05:00Z"));
            }
            let _ = run(adapter, &[("a.txt", text.as_bytes()), ("b.txt", text.as_bytes())], &kv);
        }
    }

    #[test]
    fn adapters_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for adapter in ["flexlm-lmstat", "flexlm-log"] {
            let _ = run(adapter, &[("a.txt", &bytes)], &[]);
        }
    }
}
