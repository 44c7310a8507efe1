//! Issue 10, defect 7 (seed 003: "license_key MUST NOT be logged"): a secret
//! planted in every field the engine does not define — or that is named like
//! a secret — of every input file type and every adapter's export, and in
//! adapter options, reaches no output byte: not the snapshot, the run report,
//! `exceptions.jsonl`, the evidence pack, the pseudonymised pack, nor any
//! error message.
//!
//! Markers read `SECRET-<file>-<field>-XYZZY`; the scan looks for `XYZZY` and
//! names the marker it found.

use crate::common::load_dir;
use eucora_license_core::MemoryBundle;
use eucora_license_core::{internal::evidence, pseudonymise, reconcile, Outcome};
use serde_json::{json, Value};
use std::path::Path;

const TAG: &str = "XYZZY";

/// A license key where a name was expected: never echoed.
const KEY_SHAPED: &str = "ABCD-1234-EFGH-5678-XYZZY";

fn marker(file: &str, field: &str) -> String {
    let clean = |s: &str| s.replace(['/', '.', ' '], "_");
    format!("SECRET-{}-{}-{TAG}", clean(file), clean(field))
}

fn root() -> std::path::PathBuf {
    crate::common::fixtures().join("..")
}

/// Every output of a run, as (name, bytes).
fn outputs(out: &Outcome) -> Vec<(String, Vec<u8>)> {
    let mut all = vec![
        ("run_report.json".to_string(), out.report.to_json().to_string().into_bytes()),
        ("exceptions.jsonl".to_string(), out.exceptions_jsonl()),
    ];
    for e in &out.errors {
        all.push(("error".to_string(), e.to_string().into_bytes()));
        all.push(("error json".to_string(), eucora_license_core::error_json(e).to_string().into_bytes()));
    }
    if let Some(s) = &out.snapshot {
        all.push(("snapshot.json".to_string(), s.canonical_bytes().to_vec()));
        let (pack, _) = evidence::write_pack(out, Vec::new()).expect("pack");
        all.push(("evidence.tar".to_string(), pack));
        let shared = pseudonymise(out, b"a pseudonymisation key of 32 bytes!!").expect("pseudonymise");
        let (pack, _) = evidence::write_pack(&shared, Vec::new()).expect("pseudonymised pack");
        all.push(("pseudonymised evidence.tar".to_string(), pack));
        all.push(("pseudonymised run_report.json".to_string(), shared.report.to_json().to_string().into_bytes()));
    }
    all
}

/// Panics naming the first planted secret found in any output.
fn assert_no_secret(case: &str, out: &Outcome) {
    for (name, bytes) in outputs(out) {
        if let Some(p) = bytes.windows(TAG.len()).position(|w| w == TAG.as_bytes()) {
            let start = bytes[..p].iter().rposition(|&b| b == b'S').map_or(0, |s| s.saturating_sub(40));
            let around = String::from_utf8_lossy(&bytes[start..(p + TAG.len()).min(bytes.len())]).to_string();
            panic!("{case}: a planted secret reached {name}: …{around}");
        }
    }
}

// ------------------------------------------------------------------------------------------
// Planting.

/// CSV text with a `license_key` column (and an unknown column) of markers
/// appended to every row.
fn csv_with_secret_columns(file: &str, text: &str) -> String {
    let crlf = text.contains("\r\n");
    let nl = if crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    let mut first = true;
    for line in text.split(nl) {
        if line.trim().is_empty() {
            out.push_str(line);
        } else if first {
            out.push_str(&format!("{line},license_key,extra_notes"));
            first = false;
        } else {
            out.push_str(&format!("{line},{},{}", marker(file, "license_key"), marker(file, "extra_notes")));
        }
        out.push_str(nl);
    }
    out.truncate(out.len() - nl.len());
    out
}

/// Every object in `v` gets secret-named fields holding markers.
fn plant_json(file: &str, v: &mut Value) {
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                plant_json(file, x);
            }
            for k in ["license_key", "password", "api_key", "x_unknown"] {
                m.insert(k.to_string(), json!(marker(file, k)));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| plant_json(file, x)),
        _ => {}
    }
}

/// Decode (UTF-8 or UTF-16 LE with BOM), edit, encode the same way.
fn edit_text(bytes: &[u8], edit: impl Fn(&str) -> String) -> Vec<u8> {
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        let text = String::from_utf16(&units).unwrap();
        let mut out = vec![0xFF, 0xFE];
        for u in edit(&text).encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    } else {
        let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(b) => (&b"\xEF\xBB\xBF"[..], b),
            None => (&b""[..], bytes),
        };
        let mut out = bom.to_vec();
        out.extend_from_slice(edit(std::str::from_utf8(body).unwrap()).as_bytes());
        out
    }
}

/// An adapter export with secrets added where its format allows.
fn plant_export(path: &str, bytes: &[u8]) -> Vec<u8> {
    if path.ends_with(".json") {
        edit_text(bytes, |t| {
            let mut v: Value = serde_json::from_str(t).unwrap();
            plant_json(path, &mut v);
            serde_json::to_string_pretty(&v).unwrap()
        })
    } else if path.ends_with(".csv") {
        edit_text(bytes, |t| csv_with_secret_columns(path, t))
    } else {
        // Logs and captures: a line of their own and a key=value at the end of one.
        edit_text(bytes, |t| {
            let nl = if t.contains("\r\n") { "\r\n" } else { "\n" };
            format!("{t}{nl}license_key={}{nl}password: {}{nl}", marker(path, "license_key"), marker(path, "password"))
        })
    }
}

/// The demo bundle with a secret in every field it does not define.
fn planted_demo() -> MemoryBundle {
    let mut b = load_dir(&root().join("fixtures/demo"));
    let files: Vec<(String, Vec<u8>)> = b.files().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (path, bytes) in files {
        let planted = match path.as_str() {
            "bundle.json" => {
                let mut v: Value = serde_json::from_slice(&bytes).unwrap();
                for k in ["license_key", "password", "token"] {
                    v[k] = json!(marker(&path, k));
                }
                serde_json::to_vec(&v).unwrap()
            }
            "catalog.json" => {
                let mut v: Value = serde_json::from_slice(&bytes).unwrap();
                for vendor in v["vendors"].as_array_mut().unwrap() {
                    vendor["password"] = json!(marker(&path, "vendor password"));
                    vendor["api_key"] = json!(marker(&path, "vendor api_key"));
                    vendor["contacts"] = json!([{
                        "name": "Support desk", "email": "support@vendor.example", "role": "support", "phone": "+1 555 0100",
                        "password": marker(&path, "contact password"), "token": marker(&path, "contact token"),
                        "notes": marker(&path, "contact notes"),
                    }]);
                }
                for sku in v["skus"].as_array_mut().unwrap() {
                    sku["license_key"] = json!(marker(&path, "sku license_key"));
                    sku["secret"] = json!(marker(&path, "sku secret"));
                }
                serde_json::to_vec(&v).unwrap()
            }
            "ruleset.json" => bytes.clone(), // unknown keys are an error: see its own case
            p if p.ends_with(".csv") && !p.starts_with("imports/") => edit_text(&bytes, |t| csv_with_secret_columns(p, t)),
            p if p.starts_with("imports/") => plant_export(p, &bytes),
            _ => bytes.clone(),
        };
        b.insert(path, planted);
    }
    // A JSON Lines signal file with secret fields.
    let mut line = json!({"source": "jamf", "raw_id": "jl-1", "observed_at": "2026-11-21T09:00:00Z", "sku": "acrobat-pro",
                          "kind": "installation", "device_serial": "JLSERIAL1"});
    for k in ["license_key", "password", "token", "x_unknown"] {
        line[k] = json!(marker("signals/extra.jsonl", k));
    }
    b.insert("signals/extra.jsonl", format!("{line}\n").into_bytes());
    // A signal CSV without a header: its one row (license key included) is
    // taken for a header and must not be echoed.
    let row = format!(
        "intune,nh-1,2026-11-21T00:00:00Z,m365-e3,,assignment,,bob@acme.com,,,,,,,,1,{}",
        marker("signals/noheader.csv", "license_key")
    );
    b.insert("signals/noheader.csv", format!("{row}\n").into_bytes());
    b
}

#[test]
fn no_planted_secret_reaches_any_output_of_the_demo() {
    let b = planted_demo();
    let out = reconcile(&b, None);
    assert!(out.errors.is_empty(), "the planted demo should still reconcile: {:?}", out.errors);
    assert_no_secret("demo", &out);
    // The header-less file is reported, without its cells.
    let report_json = out.report.to_json();
    let job = report_json["imports"].as_array().unwrap().iter().find(|j| j["path"] == "signals/noheader.csv").unwrap();
    let w = job["warnings"][0].as_str().unwrap();
    assert!(w.contains("is the header missing?"), "{w}");
    // Unknown column *names* that look like names are reported.
    let report_json = out.report.to_json();
    let job = report_json["imports"].as_array().unwrap().iter().find(|j| j["path"] == "signals/extra.jsonl").unwrap();
    assert_eq!(job["warnings"][0], json!("unknown columns ignored: license_key, password, token, x_unknown"));
    // Contacts keep their known fields only.
    let (pack, _) = evidence::write_pack(&out, Vec::new()).unwrap();
    let text = String::from_utf8_lossy(&pack);
    assert!(text.contains("support@vendor.example") && text.contains("\"role\":\"support\""));
    // And the planted pack still verifies (the catalog in it is the filtered one).
    assert!(evidence::verify(&pack, None).ok);
}

#[test]
fn a_header_less_signal_file_with_several_rows_fails_without_echoing_them() {
    let mut b = planted_demo();
    let mut text = String::new();
    for i in 0..3 {
        text.push_str(&format!(
            "intune,nh-{i},2026-11-21T00:00:00Z,m365-e3,,assignment,,bob@acme.com,,,,,,,,1,{}\n",
            marker("signals/noheader.csv", &format!("license_key row {i}"))
        ));
    }
    b.insert("signals/noheader.csv", text.into_bytes());
    let out = reconcile(&b, None);
    assert_eq!(out.report.to_json()["reasons"], json!(["reject_threshold_exceeded"]));
    assert_no_secret("header-less", &out);
}

#[test]
fn no_planted_secret_reaches_any_output_of_any_adapter() {
    let adapters = root().join("fixtures/adapters");
    let mut names: Vec<String> =
        std::fs::read_dir(&adapters).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    assert_eq!(names.len(), 12);
    for name in names {
        let dir = adapters.join(&name);
        let input = if dir.join("input").is_dir() { dir.join("input") } else { dir.clone() };
        let mut b = planted_demo();
        let stale: Vec<String> = b.files().keys().filter(|k| k.starts_with(&format!("imports/{name}/"))).cloned().collect();
        for k in stale {
            b.remove(&k);
        }
        let mut files = Vec::new();
        fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                if p.is_dir() {
                    if rel != "by-app" {
                        walk(base, &p, out);
                    }
                } else if !(rel.starts_with("expected") || rel == "options.json" || rel.ends_with(".md")) {
                    out.push((rel, std::fs::read(&p).unwrap()));
                }
            }
        }
        walk(&input, &input, &mut files);
        assert!(!files.is_empty(), "{name}");
        for (rel, bytes) in files {
            let path = format!("imports/{name}/{rel}");
            let planted = plant_export(&path, &bytes);
            b.insert(path, planted);
        }
        let mut params: Value = serde_json::from_slice(b.get("bundle.json").unwrap()).unwrap();
        if let Ok(o) = std::fs::read(dir.join("options.json")) {
            params["adapter_options"][&name] = serde_json::from_slice(&o).unwrap();
        }
        b.insert("bundle.json", serde_json::to_vec(&params).unwrap());
        // Some fixtures hold a bad record on purpose: let the run succeed so
        // that its pack is scanned too.
        let mut rs: Value = serde_json::from_slice(b.get("ruleset.json").unwrap()).unwrap();
        rs["max_reject_percent"] = json!(100);
        b.insert("ruleset.json", serde_json::to_vec(&rs).unwrap());
        let out = reconcile(&b, None);
        assert!(out.errors.is_empty(), "{name}: {:?}", out.errors);
        assert_no_secret(&name, &out);
    }
}

#[test]
fn adapter_option_values_and_unknown_keys_never_reach_a_message() {
    let cases: Vec<(&str, Value)> = vec![
        ("flexlm-log", json!({"utc_offset": marker("options", "utc_offset"), "start_date": "2026-10-19"})),
        ("flexlm-log", json!({"utc_offset": "+08:00", "start_date": marker("options", "start_date")})),
        ("sccm-installed", json!({"utc_offset": marker("options", "utc_offset")})),
        ("adobe-users", json!({"observed_at": marker("options", "observed_at")})),
        ("intune-apps", json!({"observed_at": marker("options", "observed_at")})),
        ("entra-users", json!({"observed_at": marker("options", "observed_at")})),
        ("entra-users", json!({"assignment_time": marker("options", "assignment_time")})),
        ("entra-users", json!({"sku_names": format!("a=x,a={}", marker("options", "sku_names"))})),
        ("entra-users", json!({"sku_names": marker("options", "sku_names")})),
        ("adobe-users", json!({"password": marker("options", "password"), "observed_at": "2026-11-22T04:00:00Z"})),
        ("ad-users", json!({"culture": marker("options", "culture")})),
        ("ad-users", json!({"utc_offset": marker("options", "utc_offset")})),
        ("ad-users", json!({"netbios_domain": marker("options", "netbios_domain")})),
        ("ad-users", json!({"password": marker("options", "password")})),
        ("okta-users", json!({"api_token": marker("options", "api_token")})),
        // A key-shaped option *name* (names that look like names may be echoed).
        ("adobe-users", json!({KEY_SHAPED: "x", "observed_at": "2026-11-22T04:00:00Z"})),
    ];
    for (adapter, options) in cases {
        let mut b = planted_demo();
        if !b.files().keys().any(|k| k.starts_with(&format!("imports/{adapter}/"))) {
            // The demo holds no export for this adapter: give it its fixture, so
            // that the options are read.
            let input = root().join("fixtures/adapters").join(adapter).join("input");
            for e in std::fs::read_dir(&input).unwrap() {
                let p = e.unwrap().path();
                b.insert(format!("imports/{adapter}/{}", p.file_name().unwrap().to_string_lossy()), std::fs::read(&p).unwrap());
            }
        }
        let mut params: Value = serde_json::from_slice(b.get("bundle.json").unwrap()).unwrap();
        params["adapter_options"][adapter] = options.clone();
        b.insert("bundle.json", serde_json::to_vec(&params).unwrap());
        let out = reconcile(&b, None);
        assert!(!out.errors.is_empty(), "{adapter} {options}: expected an option error");
        assert_no_secret(&format!("{adapter} options {options}"), &out);
    }
}

#[test]
fn ruleset_unknown_keys_are_named_but_their_values_never_shown() {
    let mut b = planted_demo();
    let mut rs: Value = serde_json::from_slice(b.get("ruleset.json").unwrap()).unwrap();
    rs["license_key"] = json!(marker("ruleset.json", "license_key"));
    rs["identity"]["password"] = json!(marker("ruleset.json", "password"));
    rs[KEY_SHAPED] = json!(1);
    b.insert("ruleset.json", serde_json::to_vec(&rs).unwrap());
    let out = reconcile(&b, None);
    assert_eq!(out.report.to_json()["reasons"], json!(["invalid_ruleset"]));
    assert!(out.report.to_json().to_string().contains("unknown key `license_key`"));
    assert_no_secret("ruleset", &out);
}

#[test]
fn any_csv_without_its_header_echoes_none_of_its_first_row() {
    let base = planted_demo();
    let csvs: Vec<String> = base.files().keys().filter(|k| k.ends_with(".csv")).cloned().collect();
    assert!(csvs.len() >= 10, "{csvs:?}");
    for path in csvs {
        let mut b = planted_demo();
        let bytes = b.get(&path).unwrap().to_vec();
        // Drop the header: the first data row (markers included) takes its place.
        let headless = edit_text(&bytes, |t| {
            let nl = if t.contains("\r\n") { "\r\n" } else { "\n" };
            t.split_once(nl).map_or(String::new(), |(_, rest)| rest.to_string())
        });
        b.insert(path.clone(), headless);
        let out = reconcile(&b, None);
        assert_no_secret(&format!("{path} without header"), &out);
    }
}
