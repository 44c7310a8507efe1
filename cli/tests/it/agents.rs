//! `agent run` and `agent replay` end to end (DESIGN D4, docs/agents.md).

use crate::common::{bin, demo, reconcile_demo, text, tmp};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;

fn out_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

fn agent(args: &[&str]) -> Output {
    bin().arg("agent").args(args).output().unwrap()
}

#[test]
fn truth_builder_runs_and_replays() {
    let d = tmp("agents-truth");
    let actor = write(&d, "actor.json", &json!({"type": "user", "id": "u-olivia", "roles": ["agent_operator"]}));
    let bundle = format!("bundle={}", demo().display());
    let o = agent(&["run", "truth_builder", "--actor", &actor, "--at", "2026-11-22T07:00:00Z", "--correlation-id", "c-1", &bundle]);
    assert!(o.status.success(), "{}", text(&o));
    let v = out_json(&o);
    assert_eq!(v["run"]["status"], "ok");
    assert_eq!(v["run"]["agent"], "truth_builder");
    assert!(v["run"]["outputs"]["snapshot_hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(v["audit_entry"]["action"], "agent.run");
    assert_eq!(v["audit_entry"]["entity"]["id"], v["run"]["run_id"]);
    let run = write(&d, "run.json", &v);
    let o = agent(&["replay", &run, &bundle]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(out_json(&o)["ok"], true);
    assert_eq!(out_json(&o)["outputs"], v["run"]["outputs"]);
    // Other inputs: refused, exit 2.
    let o = agent(&["replay", &run, &format!("bundle={}", d.display())]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(out_json(&o)["error"]["code"], "inputs_mismatch");
}

#[test]
fn a_refused_agent_exits_2_with_its_run() {
    let d = tmp("agents-refused");
    let actor = write(&d, "actor.json", &json!({"type": "user", "id": "u-vic", "roles": ["viewer"]}));
    let o = agent(&["run", "truth_builder", "--actor", &actor, "--at", "2026-11-22T07:00:00Z"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let v = out_json(&o);
    assert_eq!(v["run"]["status"], "failed");
    assert_eq!(v["run"]["error"], "delegator_lacks_action");
    let o = agent(&["run", "no_such_agent", "--actor", &actor, "--at", "2026-11-22T07:00:00Z"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(out_json(&o)["error"]["code"], "unknown_agent");
    let o = agent(&["run", "truth_builder", "--at", "2026-11-22T07:00:00Z"]);
    assert_eq!(o.status.code(), Some(1), "a usage error");
}

#[test]
fn anomaly_detector_with_scripted_responses_replays() {
    let d = tmp("agents-anomaly");
    let run_dir = reconcile_demo("agents-anomaly-run");
    let actor = write(&d, "actor.json", &json!({"type": "user", "id": "u-olivia", "roles": ["agent_operator"]}));
    let responses = write(&d, "responses.json", &json!({"anomaly_detector": {"narrative": "not json"}}));
    let hist = format!("history/0001={}", run_dir.join("snapshot.json").display());
    let pack = format!("pack={}", run_dir.join("evidence.tar").display());
    let o = agent(&[
        "run",
        "anomaly_detector",
        "--actor",
        &actor,
        "--at",
        "2026-11-22T07:00:00Z",
        "--responses",
        &responses,
        "--model-id",
        "demo-model",
        &hist,
        &pack,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v = out_json(&o);
    let alerts = v["run"]["outputs"]["alerts"].as_array().unwrap();
    assert!(!alerts.is_empty(), "the demo has alerts");
    assert_eq!(v["run"]["model_calls"].as_array().unwrap().len(), 3 * alerts.len(), "each invalid answer is re-asked twice");
    assert!(v["run"]["model_calls"].as_array().unwrap().iter().all(|c| c["model_id"] == "demo-model"));
    assert!(alerts.iter().all(|a| a["message_source"] == "deterministic"));
    let run = write(&d, "run.json", &v["run"]);
    let o = agent(&["replay", &run, &hist, &pack]);
    assert!(o.status.success(), "{}", text(&o));
    // A tampered recorded output is caught.
    let mut t = v["run"].clone();
    t["outputs"]["alerts"] = json!([]);
    let tampered = write(&d, "tampered.json", &t);
    let o = agent(&["replay", &tampered, &hist, &pack]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(out_json(&o)["error"]["code"], "replay_mismatch");
}
