//! Golden vectors (`fixtures/golden/`, format in its README): every case's
//! observed result must equal its `expected.json`. The Node and C tests (and
//! the Python binding's) iterate the same directories and compare the same
//! fields, so all bindings agree byte for byte with the engine.
//!
//! `EUCORA_GOLDEN_BLESS=1 cargo test -p eucora-license-core --test it golden::`
//! rewrites every `expected.json` from the engine; review the diff before
//! committing it.

use eucora_license_core::MemoryBundle;
use eucora_license_core::{api, internal::canonical, internal::ruleset, reconcile, RunStatus};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    crate::common::fixtures().join("golden")
}

/// The kinds the engine answers; the governance kinds (`authorize`,
/// `decide`, `apply`, `audit-*`) are iterated by the governance crate's
/// `tests/golden.rs` and skipped here.
const CORE_KINDS: [&str; 4] = ["jcs", "reconcile", "ruleset", "sidebar"];

/// Case directories (those holding `case.json`) of the engine's kinds, in
/// byte order of their names.
fn cases() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").is_file())
        .filter(|p| read_json(&p.join("case.json"))["kind"].as_str().is_some_and(|k| CORE_KINDS.contains(&k)))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn optional(path: &Path) -> Option<Vec<u8>> {
    path.is_file().then(|| std::fs::read(path).unwrap())
}

/// What a case produced, in the shape of its `expected.json`.
fn observe(dir: &Path, case: &Value) -> Value {
    match case["kind"].as_str().unwrap() {
        "reconcile" => observe_reconcile(dir),
        "jcs" => observe_jcs(&std::fs::read(dir.join("input.json")).unwrap()),
        "ruleset" => observe_ruleset(dir, case),
        "sidebar" => observe_sidebar(dir, case),
        other => panic!("{}: unknown kind {other}", dir.display()),
    }
}

fn observe_reconcile(dir: &Path) -> Value {
    let bundle = if dir.join("bundle").is_dir() {
        assert!(!dir.join("files.json").exists(), "{}: both bundle/ and files.json", dir.display());
        crate::common::load_dir(&dir.join("bundle"))
    } else {
        MemoryBundle::from_json(&read_json(&dir.join("files.json"))).unwrap()
    };
    let previous = optional(&dir.join("previous.json"));
    let out = reconcile(&bundle, previous.as_deref());
    let Some(snapshot) = &out.snapshot else {
        assert_eq!(out.status, RunStatus::Failed);
        return json!({
            "status": "failed",
            "snapshot_hash": null,
            "reasons": out.report.to_json()["reasons"],
            "errors": out.report.to_json()["errors"],
        });
    };
    let s = snapshot.value();
    let mut skus = Map::new();
    for rec in s["skus"].as_array().unwrap() {
        let mut r = rec.as_object().unwrap().clone();
        r.remove("sku");
        r.remove("units_root");
        let mut pools = Map::new();
        for p in rec["pools"].as_array().unwrap() {
            let mut p = p.as_object().unwrap().clone();
            let id = p.remove("pool").unwrap();
            pools.insert(id.as_str().unwrap_or("(unpooled)").to_string(), Value::Object(p));
        }
        r.insert("pools".into(), Value::Object(pools));
        skus.insert(rec["sku"].as_str().unwrap().to_string(), Value::Object(r));
    }
    let imports: Map<String, Value> = s["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["path"].as_str().unwrap().to_string(), json!([j["rows_total"], j["rows_accepted"], j["rows_rejected"]])))
        .collect();
    let exceptions: Vec<Value> = out.exceptions.iter().map(|e| json!([e.code, e.source, e.raw_id])).collect();
    json!({
        "status": out.status.name(),
        "snapshot_hash": snapshot.hash().to_prefixed(),
        "sequence": s["sequence"],
        "previous_hash": s["previous_hash"],
        "health": s["health"],
        "health_reasons": s["health_reasons"],
        "coverage": s["coverage"],
        "imports": imports,
        "totals": s["totals"],
        "skus": skus,
        "exceptions_summary": s["exceptions_summary"],
        "exceptions": exceptions,
        "diff": s["diff"],
    })
}

fn observe_jcs(input: &[u8]) -> Value {
    match canonical::canonicalize(input) {
        Ok(bytes) => json!({
            "canonical": String::from_utf8(bytes.clone()).unwrap(),
            "canonical_hex": hex::encode(&bytes),
            "sha256": format!("sha256:{}", hex::encode(Sha256::digest(&bytes))),
        }),
        Err(e) => json!({"error": e.code().name()}),
    }
}

fn observe_ruleset(dir: &Path, case: &Value) -> Value {
    let input = std::fs::read(dir.join("input.json")).unwrap();
    let ids: Option<Vec<String>> = case.get("sku_ids").map(|v| serde_json::from_value(v.clone()).unwrap());
    let exists = |id: &str| ids.as_ref().is_some_and(|ids| ids.iter().any(|x| x == id));
    let check: Option<&dyn Fn(&str) -> bool> = if ids.is_some() { Some(&exists) } else { None };
    ruleset::report(&input, check)
}

fn observe_sidebar(dir: &Path, case: &Value) -> Value {
    let snapshot = optional(&dir.join("snapshot.json"));
    let last_run = optional(&dir.join("last_run.json"));
    match api::sidebar(
        snapshot.as_deref(),
        last_run.as_deref(),
        case["now"].as_str().unwrap(),
        case["schedule_interval_secs"].as_i64().unwrap(),
        case["stale_factor"].as_i64().unwrap(),
    ) {
        Ok(v) => v,
        Err(e) => json!({"error": e.code().name()}),
    }
}

/// JSON for review: two-space indentation, with containers that fit on one
/// line kept on one line.
fn pretty(v: &Value, indent: usize) -> String {
    let flat = serde_json::to_string(v).unwrap();
    let pad = "  ".repeat(indent);
    let fits = flat.len() + pad.len() < 110;
    match v {
        Value::Object(m) if !m.is_empty() && (!fits || indent == 0) => {
            let items: Vec<String> =
                m.iter().map(|(k, x)| format!("{pad}  {}: {}", serde_json::to_string(k).unwrap(), pretty(x, indent + 1))).collect();
            format!("{{\n{}\n{pad}}}", items.join(",\n"))
        }
        Value::Array(a) if !a.is_empty() && !fits => {
            let items: Vec<String> = a.iter().map(|x| format!("{pad}  {}", pretty(x, indent + 1))).collect();
            format!("[\n{}\n{pad}]", items.join(",\n"))
        }
        _ => flat,
    }
}

#[test]
fn golden_vectors() {
    let bless = std::env::var_os("EUCORA_GOLDEN_BLESS").is_some();
    let mut failures = Vec::new();
    for (name, dir) in cases() {
        let case = read_json(&dir.join("case.json"));
        let got = observe(&dir, &case);
        let path = dir.join("expected.json");
        if bless {
            std::fs::write(&path, pretty(&got, 0) + "\n").unwrap();
            continue;
        }
        let want = read_json(&path);
        if got != want {
            failures.push(format!("{name}:\n  expected {}\n  observed {}", want, got));
        }
    }
    assert!(failures.is_empty(), "{} golden case(s) differ:\n{}", failures.len(), failures.join("\n"));
}

/// The set keeps covering what the bindings must agree on: every model, every
/// fail-closed reason, the JCS edge cases, each kind of case.
#[test]
fn golden_vectors_cover_the_contract() {
    let all = cases();
    assert!(all.len() >= 30, "only {} golden cases", all.len());
    let mut models = std::collections::BTreeSet::new();
    let mut reasons = std::collections::BTreeSet::new();
    let mut kinds = std::collections::BTreeSet::new();
    let mut covers = std::collections::BTreeSet::new();
    for (name, dir) in &all {
        let case = read_json(&dir.join("case.json"));
        assert!(case["description"].as_str().is_some_and(|d| !d.is_empty()), "{name}: no description");
        let kind = case["kind"].as_str().unwrap().to_string();
        assert!(name.starts_with(&format!("{kind}-")), "{name}: the name starts with its kind");
        kinds.insert(kind);
        for c in case["covers"].as_array().unwrap() {
            covers.insert(c.as_str().unwrap().to_string());
        }
        let expected = read_json(&dir.join("expected.json"));
        for rec in expected["skus"].as_object().into_iter().flat_map(|m| m.values()) {
            models.insert(rec["model"].as_str().unwrap().to_string());
        }
        for r in expected["reasons"].as_array().into_iter().flatten() {
            reasons.insert(r.as_str().unwrap().to_string());
        }
    }
    let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(kinds, set(&["jcs", "reconcile", "ruleset", "sidebar"]));
    assert_eq!(models, set(&["concurrent", "device", "feature", "subscription", "user"]));
    let fail_closed = set(&[
        "catalog_integrity",
        "conflicting_duplicate",
        "invalid_input",
        "invalid_ruleset",
        "previous_snapshot_invalid",
        "reject_threshold_exceeded",
    ]);
    assert_eq!(reasons, fail_closed);
    for c in [
        "jcs:key_order",
        "jcs:beyond_bmp",
        "jcs:escapes",
        "jcs:integers",
        "identity:serial",
        "identity:hostname_fallback",
        "identity:directory",
        "identity:user_alias",
        "form:directory",
        "form:base64",
    ] {
        assert!(covers.contains(c), "no golden case covers {c}");
    }
}

/// The in-memory form and the directory form of one bundle give the same
/// snapshot: the demo's files.json twin is built here from its directory.
#[test]
fn json_form_equals_directory_form() {
    let dir = golden_dir().join("reconcile-demo/bundle");
    let from_dir = crate::common::load_dir(&dir);
    let mut doc = Map::new();
    for (path, bytes) in from_dir.files() {
        doc.insert(path.clone(), Value::String(String::from_utf8(bytes.clone()).unwrap()));
    }
    let from_json = MemoryBundle::from_json(&Value::Object(doc)).unwrap();
    let a = reconcile(&from_dir, None).snapshot.unwrap().hash();
    let b = reconcile(&from_json, None).snapshot.unwrap().hash();
    assert_eq!(a, b);
}
