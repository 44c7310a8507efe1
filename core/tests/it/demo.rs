//! The two demo bundles of the same organisation (reasoning in each `EXPECTED.md`):
//!
//! - `fixtures/demo`: raw exports under `imports/<adapter>/` (Graph pages, Intune and Jamf
//!   inventories, SCCM views, a FlexLM debug log, an Adobe user list) read through the adapters,
//!   plus the few canonical rows no adapter can produce;
//! - `fixtures/demo-canonical`: canonical signal files only.
//!
//! Each matches its hand-worked `expected.json`, the two agree on every SKU record (and on the
//! devices, users and sessions counted), and both snapshot hashes are pinned.

use crate::common::SkuJson;
use eucora_license_core::internal::adapters;
use eucora_license_core::{reconcile, Outcome, RunStatus};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

// A bundle directory as the CLI reads it (dot files skipped), without the
// hand-worked results (`*.md`, `expected.json`).
use crate::common::{fixtures, load_dir};

fn run(name: &str) -> Outcome {
    reconcile(&load_dir(&fixture(name)), None)
}

fn expected(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixture(name).join("expected.json")).unwrap()).unwrap()
}

const FIELDS: [&str; 6] = ["entitled", "reserved", "reserved_effective", "consumed", "remaining", "available"];

/// The bundle's counters, pools, totals and exceptions are those of its `expected.json`.
fn assert_matches_expected(name: &str) {
    let out = run(name);
    assert_eq!(out.status, RunStatus::Ok, "{name}: {:?}", out.errors);
    let snap = out.snapshot.unwrap();
    let exp = expected(name);
    let exp_skus = exp["skus"].as_object().unwrap();
    let got_skus = snap.value()["skus"].as_array().unwrap();
    assert_eq!(got_skus.len(), exp_skus.len(), "{name}: every catalog SKU appears");
    for (id, e) in exp_skus {
        let g = snap.sku_json(id).unwrap_or_else(|| panic!("{name}: sku {id} missing"));
        for f in FIELDS.iter().chain(&["compliance_status", "variance", "variance_percent"]) {
            assert_eq!(g[*f], e[*f], "{name}: {id}.{f}");
        }
        let exp_pools = e["pools"].as_object().unwrap();
        let got_pools = g["pools"].as_array().unwrap();
        assert_eq!(got_pools.len(), exp_pools.len(), "{name}: {id} pools");
        for p in got_pools {
            let pool = p["pool"].as_str().unwrap_or("unpooled");
            let ep = &exp_pools[pool];
            for f in FIELDS.iter().chain(&["compliance_status"]) {
                assert_eq!(p[*f], ep[*f], "{name}: {id}.pools.{pool}.{f}");
            }
        }
    }
    for f in FIELDS.iter().chain(&["variance"]) {
        assert_eq!(snap.value()["totals"][*f], exp["totals"][*f], "{name}: totals.{f}");
    }
    let mut got_ex: Vec<(String, String, String)> =
        out.exceptions.iter().map(|e| (e.code.to_string(), e.source.clone(), e.raw_id.clone())).collect();
    got_ex.sort();
    let mut exp_ex: Vec<(String, String, String)> = exp["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_str().unwrap().into(), e["source"].as_str().unwrap().into(), e["raw_id"].as_str().unwrap().into()))
        .collect();
    exp_ex.sort();
    assert_eq!(got_ex, exp_ex, "{name}: exceptions");
}

#[test]
fn demo_counters_match_expected() {
    assert_matches_expected("demo");
}

#[test]
fn demo_canonical_counters_match_expected() {
    assert_matches_expected("demo-canonical");
}

#[test]
fn demos_have_no_rejected_rows_and_full_coverage() {
    for name in ["demo", "demo-canonical"] {
        let out = run(name);
        let snap = out.snapshot.unwrap();
        for j in snap.value()["imports"].as_array().unwrap() {
            assert_eq!(j["rows_rejected"], 0, "{name}: {}", j["path"]);
        }
        let cov = snap.value()["coverage"].as_object().unwrap();
        for s in ["entra", "flexlm", "intune", "jamf", "sccm"] {
            assert_eq!(cov[s]["status"], "ok", "{name}: {s}");
        }
        assert_eq!(snap.value()["health"], "ok", "{name}");
        assert_eq!(snap.value()["sequence"], 1);
        assert_eq!(snap.value()["previous_hash"], Value::Null);
    }
}

/// A SKU record without `units_root`: the Merkle root over the units, whose
/// leaves name the signals (source, raw_id) each unit rests on, and raw ids
/// are the adapters' own in the raw bundle.
fn records_without_units_root(out: &Outcome) -> Vec<Value> {
    let snap = out.snapshot.as_ref().unwrap();
    snap.value()["skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let root = r.as_object_mut().unwrap().remove("units_root");
            assert!(root.as_ref().and_then(Value::as_str).is_some_and(|s| s.starts_with("sha256:")), "{}", r["sku"]);
            r
        })
        .collect()
}

/// Every counted unit (device, user or merged session, with its pool) per
/// SKU, without the signals it rests on.
fn units_without_signals(out: &Outcome) -> BTreeMap<String, Vec<Value>> {
    out.units
        .iter()
        .map(|(sku, list)| {
            let units = list
                .iter()
                .map(|bytes| {
                    let mut u: Value = serde_json::from_slice(bytes).unwrap();
                    let signals = u.as_object_mut().unwrap().remove("signals").unwrap();
                    assert!(!signals.as_array().unwrap().is_empty(), "{sku}: a unit rests on no signal");
                    u
                })
                .collect();
            (sku.clone(), units)
        })
        .collect()
}

#[test]
fn raw_and_canonical_demos_give_identical_sku_records() {
    let raw = run("demo");
    let canonical = run("demo-canonical");
    assert_eq!(raw.status, RunStatus::Ok, "{:?}", raw.errors);
    assert_eq!(raw.status, canonical.status);
    let (r, c) = (raw.snapshot.as_ref().unwrap().value(), canonical.snapshot.as_ref().unwrap().value());
    // Consumed, entitled, reserved, remaining, available, variance, compliance, pools, unit count.
    let (raw_records, canonical_records) = (records_without_units_root(&raw), records_without_units_root(&canonical));
    assert_eq!(raw_records.len(), 10);
    for (a, b) in raw_records.iter().zip(&canonical_records) {
        assert_eq!(a, b, "SKU record {}", b["sku"]);
    }
    assert_eq!(raw_records, canonical_records);
    for key in ["totals", "by_model", "health", "health_reasons", "reconciled_at", "ruleset", "exceptions_summary"] {
        assert_eq!(r[key], c[key], "{key}");
    }
    // The same devices, users and session intervals are counted, in the same pools.
    assert_eq!(units_without_signals(&raw), units_without_signals(&canonical));
    // The same exceptions, by code and source (raw ids are the adapters' own).
    let codes = |o: &Outcome| o.exceptions.iter().map(|e| (e.code, e.source.clone())).collect::<Vec<_>>();
    assert_eq!(codes(&raw), codes(&canonical));
}

/// The folders under `fixtures/demo/imports/`, each with its file names.
fn import_folders() -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(fixture("demo").join("imports")).unwrap() {
        let dir = e.unwrap().path();
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| !f.starts_with('.'))
            .collect();
        files.sort();
        out.insert(dir.file_name().unwrap().to_string_lossy().into_owned(), files);
    }
    out
}

#[test]
fn raw_demo_reads_every_import_folder_through_its_adapter() {
    let folders = import_folders();
    let names: Vec<&str> = folders.keys().map(String::as_str).collect();
    assert_eq!(names, ["adobe-users", "entra-users", "flexlm-log", "intune-apps", "jamf-inventory", "sccm-installed", "sccm-metering"]);
    let out = run("demo");
    let snap = out.snapshot.unwrap();
    let jobs = snap.value()["imports"].as_array().unwrap();
    for (folder, files) in &folders {
        let adapter = adapters::by_name(folder).unwrap_or_else(|| panic!("no adapter `{folder}`"));
        let prefix = format!("imports/{folder}/");
        let mine: Vec<&Value> = jobs.iter().filter(|j| j["path"].as_str().unwrap().starts_with(&prefix)).collect();
        let paths: Vec<String> = mine.iter().map(|j| j["path"].as_str().unwrap().to_string()).collect();
        let want: Vec<String> = files.iter().map(|f| format!("{prefix}{f}")).collect();
        assert_eq!(paths, want, "one import job per file of {prefix}");
        for j in &mine {
            assert_eq!(j["adapter"], folder.as_str(), "{}", j["path"]);
            assert_eq!(j["adapter_version"], adapter.version(), "{}", j["path"]);
            assert_eq!(j["source"], adapter.source(), "{}", j["path"]);
            assert_eq!(j["rows_rejected"], 0, "{}", j["path"]);
            assert!(j["rows_total"].as_u64().unwrap() > 0, "{} read nothing", j["path"]);
        }
        let accepted: u64 = mine.iter().map(|j| j["rows_accepted"].as_u64().unwrap()).sum();
        assert!(accepted > 0, "{prefix} yields no signal");
    }
    // Every other job is master data or a canonical signal file.
    for j in jobs.iter().filter(|j| !j["path"].as_str().unwrap().starts_with("imports/")) {
        assert_eq!(j["adapter"], "canonical", "{}", j["path"]);
    }
    let signals_from_adapters: u64 =
        jobs.iter().filter(|j| j["path"].as_str().unwrap().starts_with("imports/")).map(|j| j["rows_accepted"].as_u64().unwrap()).sum();
    let signals_from_files: u64 =
        jobs.iter().filter(|j| j["path"].as_str().unwrap().starts_with("signals/")).map(|j| j["rows_accepted"].as_u64().unwrap()).sum();
    assert_eq!((signals_from_adapters, signals_from_files), (77, 13));
}

/// (source, raw_id) of the canonical rows kept in `fixtures/demo/signals/`.
fn canonical_rows_of_raw_demo() -> BTreeSet<(String, String)> {
    let mut rows = BTreeSet::new();
    for e in std::fs::read_dir(fixture("demo").join("signals")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        for line in text.lines().skip(1) {
            let mut cols = line.split(',');
            rows.insert((cols.next().unwrap().to_string(), cols.next().unwrap().to_string()));
        }
    }
    rows
}

#[test]
fn raw_demo_counts_rest_on_adapter_signals_except_two_documented_units() {
    let kept = canonical_rows_of_raw_demo();
    assert_eq!(kept.len(), 13, "{kept:?}");
    let out = run("demo");
    let mut canonical_only = Vec::new();
    let mut units = 0;
    for (sku, list) in &out.units {
        for bytes in list.iter() {
            units += 1;
            let u: Value = serde_json::from_slice(bytes).unwrap();
            let refs: Vec<(String, String)> = u["signals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["source"].as_str().unwrap().to_string(), s["raw_id"].as_str().unwrap().to_string()))
                .collect();
            if refs.iter().all(|r| kept.contains(r)) {
                canonical_only.push((sku.clone(), u["key"].as_str().unwrap().to_string()));
            }
        }
    }
    assert_eq!(units, 47);
    // mia's IntelliJ rests on Intune usage, grace's Visio seat on audit-log events
    // (EXPECTED.md, "Rows kept canonical"); every other unit has an adapter signal.
    assert_eq!(
        canonical_only,
        [("intellij-ultimate".to_string(), "mia@acme.com".to_string()), ("visio-plan2".to_string(), "grace@acme.com".to_string())]
    );
}

#[test]
fn raw_and_canonical_demos_share_their_master_data() {
    for f in ["catalog.json", "ruleset.json", "entitlements.csv", "pools.csv", "directory.csv"] {
        assert_eq!(std::fs::read(fixture("demo").join(f)).unwrap(), std::fs::read(fixture("demo-canonical").join(f)).unwrap(), "{f}");
    }
    let params = |name: &str| -> Value { serde_json::from_slice(&std::fs::read(fixture(name).join("bundle.json")).unwrap()).unwrap() };
    let mut raw = params("demo");
    assert!(raw["adapter_options"].is_object());
    raw.as_object_mut().unwrap().remove("adapter_options");
    assert_eq!(raw, params("demo-canonical"), "bundle.json differs only by adapter_options");
}

/// The pinned hashes change only when the contract's output changes on purpose;
/// update them together with the reason in the commit message.
#[test]
fn demo_snapshot_hash_is_pinned() {
    assert_eq!(run("demo").snapshot.unwrap().hash().to_prefixed(), PINNED_DEMO_HASH);
}

#[test]
fn demo_canonical_snapshot_hash_is_pinned() {
    assert_eq!(run("demo-canonical").snapshot.unwrap().hash().to_prefixed(), PINNED_DEMO_CANONICAL_HASH);
}

/// `fixtures/demo` (raw exports).
const PINNED_DEMO_HASH: &str = "sha256:8a996e04564192e50e8ad70fdf2b6f6e337b90a56febdf52ceb927fa0939ac43";
/// `fixtures/demo-canonical` (canonical signals; the demo's hash before it moved to raw exports).
const PINNED_DEMO_CANONICAL_HASH: &str = "sha256:454981c0776488a7c097163c54509528fe20df885d01bb81f2b5dc24e9bedcd1";
