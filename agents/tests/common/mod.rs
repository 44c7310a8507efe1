#![allow(dead_code)]
use eucora_license_agents::{run, AgentMachine, AgentRun, Inputs, Model};
use eucora_license_core::{reconcile, write_pack, AgentName, MemoryBundle, RunStatus};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const AT: &str = "2026-11-22T07:00:00Z";

pub fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Every file under `dir`, by '/'-separated relative path, into `inputs` under `prefix/`.
pub fn load_dir(inputs: &mut Inputs, prefix: &str, dir: &Path) {
    fn walk(base: &Path, d: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    for (rel, b) in files {
        if rel.ends_with(".md") {
            continue;
        }
        inputs.insert(format!("{prefix}/{rel}"), b);
    }
}

pub fn operator() -> Value {
    json!({"type": "user", "id": "u-olivia", "roles": ["agent_operator"]})
}

pub fn viewer() -> Value {
    json!({"type": "user", "id": "u-vic", "roles": ["viewer"]})
}

pub fn demo_truth_inputs() -> Inputs {
    let mut i = Inputs::new();
    load_dir(&mut i, "bundle", &root().join("fixtures/demo"));
    i
}

/// The demo history reconciled in memory: snapshot bytes and the last pack.
pub fn history_inputs() -> Inputs {
    let mut snaps = Vec::new();
    let mut packs: Vec<Vec<u8>> = Vec::new();
    for step in ["step-1", "step-2", "step-3"] {
        let mut raw = Inputs::new();
        load_dir(&mut raw, "b", &root().join("fixtures/demo-history").join(step));
        let mut b = MemoryBundle::default();
        for (k, v) in raw {
            b.insert(k.strip_prefix("b/").unwrap().to_string(), v);
        }
        let out = reconcile(&b, packs.last().map(Vec::as_slice));
        assert!(out.status != RunStatus::Failed, "{step}: {:?}", out.errors);
        snaps.push(out.snapshot.as_ref().unwrap().canonical_bytes().to_vec());
        packs.push(write_pack(&out, Vec::new()).unwrap().0);
    }
    let mut i = Inputs::new();
    for (n, s) in snaps.into_iter().enumerate() {
        i.insert(format!("history/{:04}", n + 1), s);
    }
    i.insert("pack".into(), packs.pop().unwrap());
    i
}

pub fn run_agent(agent: AgentName, actor: &Value, inputs: &Inputs, model: Option<&mut dyn Model>) -> AgentRun {
    let id = model.as_ref().map(|m| m.id());
    let mut m = AgentMachine::new(agent, actor, AT, Some("corr-1"), inputs.clone(), id.as_deref()).unwrap();
    run(&mut m, model)
}

/// Replay must reproduce the outputs byte for byte.
pub fn assert_replays(run: &AgentRun, inputs: &Inputs) {
    let again = eucora_license_agents::replay(&run.to_value(), inputs).unwrap();
    assert_eq!(again.outputs_bytes(), run.outputs_bytes());
    assert_eq!(again.to_value(), run.to_value());
}

/// The run record and its audit entry are well formed and hold no secret.
pub fn assert_clean(run: &AgentRun, secrets: &[&str]) {
    let entry = eucora_license_governance::append(None, &run.audit_entry()).unwrap();
    let text = format!("{}{}", run.to_value(), entry);
    for s in secrets {
        assert!(!text.contains(s), "secret `{s}` leaked");
    }
}
