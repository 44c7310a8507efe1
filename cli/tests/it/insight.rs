//! `alerts`, `advise`, `events` and `compliance` end to end (DESIGN C5):
//! the demo's over-deployed AutoCAD raises an alert (AC2), the demo history
//! chains, and contract errors exit 2 with JSON on stdout.

use crate::common::{bin, history_step, reconcile_demo, text, tmp};
use serde_json::Value;
use std::path::PathBuf;

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// The demo history's three runs, chained pack to pack.
fn history(name: &str) -> PathBuf {
    let root = tmp(name);
    for n in 1..=3 {
        let mut cmd = bin();
        cmd.arg("reconcile").arg(history_step(n)).arg("--out").arg(root.join(n.to_string()));
        if n > 1 {
            cmd.arg("--previous").arg(root.join((n - 1).to_string()));
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "step {n}: {}", text(&o));
    }
    root
}

#[test]
fn the_demo_raises_over_deployed_for_autocad() {
    let out = reconcile_demo("insight-demo");
    let o = bin().arg("alerts").arg(&out).arg("--json").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc = json_of(&o);
    assert_eq!(doc["as_of"], "2026-11-22T06:00:00Z");
    assert_eq!(doc["policy"]["id"], "default");
    assert_eq!(doc["policy"]["version"], 1);
    assert!(doc["policy"]["hash"].as_str().unwrap().starts_with("sha256:"));
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["alerts", "as_of", "policy"]);
    let autocad = doc["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "over_deployed" && a["subject"] == serde_json::json!({"sku": "autocad"}))
        .expect("AC2: an over_deployed alert for autocad");
    assert_eq!(autocad["severity"], "critical");
    assert_eq!(autocad["facts"], serde_json::json!({"entitled": 2, "consumed": 3, "remaining": -1}));
    // The snapshot file works as the run argument too; the table names the policy.
    let o = bin().arg("alerts").arg(out.join("snapshot.json")).output().unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("policy: default v1 sha256:") && t.contains("over_deployed") && t.contains("sku=autocad"), "{t}");
}

#[test]
fn advise_compliance_and_events_on_the_demo() {
    let out = reconcile_demo("insight-demo-2");
    let o = bin().arg("advise").arg(&out).arg("--json").output().unwrap();
    let doc = json_of(&o);
    let first = &doc["recommendations"][0];
    assert_eq!(
        (first["type"].as_str(), first["subject"]["sku"].as_str(), first["rank"].as_i64()),
        (Some("purchase"), Some("autocad"), Some(1))
    );
    assert_eq!(first["amount"], "2030.00");
    let o = bin().arg("compliance").arg(&out).arg("--json").output().unwrap();
    let raw = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(raw.contains(r#""variance_percent":-50.00"#), "{raw}");
    let doc = json_of(&o);
    assert_eq!(doc["rows"].as_array().unwrap().len(), 10);
    let id = doc["rows"][1]["license_id"].as_str().unwrap().to_string();
    let o = bin().args(["compliance", out.to_str().unwrap(), "--json", "--license-id", &id]).output().unwrap();
    let rows = json_of(&o)["rows"].clone();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["software_name"], "Autodesk AutoCAD (named user)");
    let o = bin()
        .args(["events", out.to_str().unwrap(), "--json", "--organization-uuid", "0E7F3A2C-1111-4222-8333-944455556666"])
        .output()
        .unwrap();
    let doc = json_of(&o);
    let evs = doc["events"].as_array().unwrap();
    assert!(evs.iter().all(|e| e["organization_id"] == "0e7f3a2c-1111-4222-8333-944455556666"));
    assert!(evs.iter().any(|e| e["event_type"] == "it_license_compliance_alert" && e["threshold_breached"] == "critical"));
}

#[test]
fn a_chained_history_reports_the_missing_source_and_the_new_entitlement() {
    let root = history("insight-history");
    let runs: Vec<PathBuf> = (1..=3).map(|n| root.join(n.to_string())).collect();
    let o = bin().arg("alerts").args(&runs).arg("--json").output().unwrap();
    let doc = json_of(&o);
    let missing = doc["alerts"].as_array().unwrap().iter().find(|a| a["type"] == "source_missing").expect("flexlm is missing at step 3");
    assert_eq!(missing["subject"]["source"], "flexlm");
    assert_eq!(missing["facts"]["last_seen_at"], "2026-12-01T06:00:00Z");
    assert_eq!(missing["evidence"]["snapshots"].as_array().unwrap().len(), 2);
    let o = bin().arg("events").args(&runs[..2]).arg("--json").output().unwrap();
    let doc = json_of(&o);
    let created: Vec<&Value> = doc["events"].as_array().unwrap().iter().filter(|e| e["event_type"] == "it_license_created").collect();
    assert_eq!(created.len(), 1, "E-013 replaces E-005");
    assert_eq!(created[0]["purchase_date"], "2026-12-01");
    // Skipping a run breaks the chain: exit 2, the error on stdout.
    let o = bin().arg("alerts").arg(&runs[0]).arg(&runs[2]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = json_of(&o);
    assert_eq!((e["error"]["code"].as_str(), e["error"]["index"].as_i64()), (Some("chain_broken"), Some(2)));
    // The pack beside the latest must be the latest's.
    let mixed = tmp("insight-mixed");
    std::fs::copy(runs[1].join("snapshot.json"), mixed.join("snapshot.json")).unwrap();
    std::fs::copy(runs[2].join("evidence.tar"), mixed.join("evidence.tar")).unwrap();
    let o = bin().arg("advise").arg(&runs[0]).arg(&mixed).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(json_of(&o)["error"]["code"], "pack_mismatch");
}

#[test]
fn bad_policy_usage_and_io_errors() {
    let out = reconcile_demo("insight-demo-3");
    let dir = tmp("insight-policy");
    let mut p: Value = serde_json::from_str(include_str!("../../../rulesets/default/policy-v1.json")).unwrap();
    p["alerts"]["spike_min_units"] = Value::from(-1);
    let f = dir.join("p.json");
    std::fs::write(&f, serde_json::to_vec(&p).unwrap()).unwrap();
    let o = bin().arg("alerts").arg(&out).arg("--policy").arg(&f).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = json_of(&o);
    assert_eq!(e["error"]["code"], "invalid_policy");
    assert_eq!(e["error"]["index"], Value::Null);
    assert!(e["error"]["message"].as_str().unwrap().contains("$.alerts.spike_min_units"));
    // A policy with another threshold is used and reported.
    p["alerts"]["spike_min_units"] = Value::from(6);
    std::fs::write(&f, serde_json::to_vec(&p).unwrap()).unwrap();
    let o = bin().arg("alerts").arg(&out).arg("--policy").arg(&f).arg("--json").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_ne!(json_of(&o)["policy"]["hash"], json_of(&bin().arg("alerts").arg(&out).arg("--json").output().unwrap())["policy"]["hash"]);
    // Usage: no run, an unknown option, a malformed organisation UUID.
    assert_eq!(bin().arg("alerts").output().unwrap().status.code(), Some(1));
    assert_eq!(bin().arg("advise").arg(&out).arg("--frobnicate").output().unwrap().status.code(), Some(1));
    assert_eq!(bin().arg("events").arg(&out).args(["--organization-uuid", "nope"]).output().unwrap().status.code(), Some(1));
    // I/O: a run without its pack.
    let bare = tmp("insight-bare");
    std::fs::copy(out.join("snapshot.json"), bare.join("snapshot.json")).unwrap();
    assert_eq!(bin().arg("alerts").arg(&bare).output().unwrap().status.code(), Some(1));
}
