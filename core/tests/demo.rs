//! The demo bundle's counters match the hand-worked `fixtures/demo-canonical/expected.json`
//! (reasoning in `EXPECTED.md`), and its snapshot hash is pinned.

use eucora_license_core::bundle::MemoryBundle;
use eucora_license_core::{reconcile, Outcome, RunStatus};
use serde_json::Value;
use std::path::Path;

fn demo_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo-canonical"))
}

pub fn load_dir(root: &Path) -> MemoryBundle {
    fn walk(root: &Path, dir: &Path, b: &mut MemoryBundle) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, b);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                if !rel.ends_with(".md") && rel != "expected.json" {
                    b.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    let mut b = MemoryBundle::default();
    walk(root, root, &mut b);
    b
}

fn run_demo() -> Outcome {
    reconcile(&load_dir(demo_dir()), None)
}

fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(demo_dir().join("expected.json")).unwrap()).unwrap()
}

const FIELDS: [&str; 6] = ["entitled", "reserved", "reserved_effective", "consumed", "remaining", "available"];

#[test]
fn demo_counters_match_expected() {
    let out = run_demo();
    assert_eq!(out.status, RunStatus::Ok, "{:?}", out.errors);
    let snap = out.snapshot.unwrap();
    let exp = expected();
    let exp_skus = exp["skus"].as_object().unwrap();
    let got_skus = snap.value()["skus"].as_array().unwrap();
    assert_eq!(got_skus.len(), exp_skus.len(), "every catalog SKU appears");
    for (id, e) in exp_skus {
        let g = snap.sku(id).unwrap_or_else(|| panic!("sku {id} missing"));
        for f in FIELDS.iter().chain(&["compliance_status", "variance", "variance_percent"]) {
            assert_eq!(g[*f], e[*f], "{id}.{f}");
        }
        let exp_pools = e["pools"].as_object().unwrap();
        let got_pools = g["pools"].as_array().unwrap();
        assert_eq!(got_pools.len(), exp_pools.len(), "{id} pools");
        for p in got_pools {
            let name = p["pool"].as_str().unwrap_or("unpooled");
            let ep = &exp_pools[name];
            for f in FIELDS.iter().chain(&["compliance_status"]) {
                assert_eq!(p[*f], ep[*f], "{id}.pools.{name}.{f}");
            }
        }
    }
    for f in FIELDS.iter().chain(&["variance"]) {
        assert_eq!(snap.value()["totals"][*f], exp["totals"][*f], "totals.{f}");
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
    assert_eq!(got_ex, exp_ex);
}

#[test]
fn demo_has_no_rejected_rows_and_full_coverage() {
    let out = run_demo();
    let snap = out.snapshot.unwrap();
    for j in snap.value()["imports"].as_array().unwrap() {
        assert_eq!(j["rows_rejected"], 0, "{}", j["path"]);
    }
    let cov = snap.value()["coverage"].as_object().unwrap();
    for s in ["entra", "flexlm", "intune", "jamf", "sccm"] {
        assert_eq!(cov[s]["status"], "ok", "{s}");
    }
    assert_eq!(snap.value()["sequence"], 1);
    assert_eq!(snap.value()["previous_hash"], Value::Null);
}

/// The pinned hash changes only when the contract's output changes on purpose;
/// update it together with the reason in the commit message.
#[test]
fn demo_snapshot_hash_is_pinned() {
    let out = run_demo();
    let snap = out.snapshot.unwrap();
    assert_eq!(snap.hash().to_prefixed(), PINNED_DEMO_HASH);
}

const PINNED_DEMO_HASH: &str = "sha256:454981c0776488a7c097163c54509528fe20df885d01bb81f2b5dc24e9bedcd1";
