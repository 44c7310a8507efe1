//! The agents of D4 on the demo: outputs, guardrails, replay, no secrets.

mod common;
use common::*;
use eucora_license_agents::{Inputs, ModelRequest, ScriptedModel};
use eucora_license_core::AgentName;
use serde_json::{json, Value};

const SKIPTOKEN: &str = "RFNwdAIAAQAAAB86aGVpZGlAYWNtZS5jb20pVXNlcl9kYmRlOGU1NC02YTV";

fn steps(run: &eucora_license_agents::AgentRun) -> Vec<(String, String, String)> {
    run.steps.iter().map(|s| (s.step.clone(), s.status.to_string(), s.detail.clone())).collect()
}

#[test]
fn truth_builder_reconciles_the_demo() {
    let inputs = demo_truth_inputs();
    let run = run_agent(AgentName::TruthBuilder, &operator(), &inputs, None);
    assert_eq!(run.status, "ok", "{:?}", run.steps);
    let expected: Value = serde_json::from_slice(&std::fs::read(root().join("fixtures/demo/expected.json")).unwrap()).unwrap();
    let want = expected["snapshot_hash"].as_str().or(expected["snapshot"]["snapshot_hash"].as_str());
    if let Some(w) = want {
        assert_eq!(run.outputs["snapshot_hash"], json!(w));
    }
    assert!(run.outputs["snapshot_hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(run.outputs["truth"]["kept"], "new");
    assert!(run.model_calls.is_empty());
    assert_eq!(run.actor["type"], "agent");
    assert_eq!(run.actor["on_behalf_of"]["id"], "u-olivia");
    assert_replays(&run, &inputs);
    assert_clean(&run, &[SKIPTOKEN]);
}

#[test]
fn truth_builder_without_a_pack_keeps_the_previous_truth() {
    let mut inputs = demo_truth_inputs();
    inputs.remove("bundle/ruleset.json");
    inputs.insert("previous".into(), b"not a pack".to_vec());
    let run = run_agent(AgentName::TruthBuilder, &operator(), &inputs, None);
    assert_eq!(run.status, "failed");
    assert_eq!(run.error.as_deref(), Some("reconcile_failed"));
    assert_eq!(run.outputs["snapshot_hash"], Value::Null);
    assert_eq!(run.outputs["pack_hash"], Value::Null);
    assert_eq!(run.outputs["truth"]["kept"], "previous");
    assert_replays(&run, &inputs);
}

#[test]
fn refused_agents_fail_a_step_not_crash() {
    for agent in [AgentName::TruthBuilder, AgentName::AnomalyDetector, AgentName::OptimizationAdvisor] {
        let run = run_agent(agent, &viewer(), &Inputs::new(), None);
        assert_eq!(run.status, "failed");
        assert_eq!(run.error.as_deref(), Some("delegator_lacks_action"), "{agent}");
        assert_eq!(run.steps[0].status, "failed");
        assert!(run.steps[0].step.starts_with("authorize "));
        assert_clean(&run, &[]);
    }
    // An agent may not act for an agent (agent_chain).
    let chain = json!({"type": "agent", "agent": "truth_builder", "on_behalf_of":
        {"type": "agent", "agent": "anomaly_detector", "on_behalf_of": operator()}});
    let run = run_agent(AgentName::TruthBuilder, &chain, &demo_truth_inputs(), None);
    assert_eq!(run.error.as_deref(), Some("agent_chain"));
    // An agent outside its policy list: anomaly_detector may only view alerts.
    let wrong = json!({"type": "agent", "agent": "anomaly_detector", "on_behalf_of": operator()});
    let run = run_agent(AgentName::OptimizationAdvisor, &wrong, &history_inputs(), None);
    assert_eq!(run.error.as_deref(), Some("agent_not_permitted"));
    assert_eq!(run.outputs, json!({}), "nothing is built after a refusal");
    // A delegator without agent.run (license_admin) delegates nothing.
    let license_admin = json!({"type": "user", "id": "u-al", "roles": ["license_admin"]});
    let run = run_agent(AgentName::OptimizationAdvisor, &license_admin, &history_inputs(), None);
    assert_eq!(run.error.as_deref(), Some("delegator_lacks_action"));
}

fn alerts_of(run: &eucora_license_agents::AgentRun) -> Vec<Value> {
    run.outputs["alerts"].as_array().unwrap().clone()
}

#[test]
fn anomaly_detector_without_a_model_gives_insight_alerts() {
    let inputs = history_inputs();
    let run = run_agent(AgentName::AnomalyDetector, &operator(), &inputs, None);
    assert_eq!(run.status, "ok", "{:?}", run.steps);
    let hist: Vec<&[u8]> = inputs.iter().filter(|(k, _)| k.starts_with("history/")).map(|(_, v)| v.as_slice()).collect();
    let want = eucora_license_insight::alerts(&hist, &inputs["pack"], &eucora_license_insight::Policy::default_policy()).unwrap();
    let got = alerts_of(&run);
    assert!(!want.is_empty(), "the demo history has alerts");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g["alert_id"], json!(w.alert_id));
        assert_eq!(g["message"], json!(w.message));
        assert_eq!(g["message_source"], "deterministic");
    }
    assert!(run.model_calls.is_empty());
    assert_replays(&run, &inputs);
}

/// A model that cites every fact and states the first numeric one.
fn grounded(req: &ModelRequest) -> Result<String, String> {
    // A re-ask appends the validation errors after a blank line.
    let p: Value = serde_json::from_str(req.prompt.split("\n\n").next().unwrap()).map_err(|e| e.to_string())?;
    let facts = p["facts"].as_array().unwrap();
    let ids: Vec<Value> = facts.iter().map(|f| f["id"].clone()).collect();
    let num = facts.iter().find_map(|f| f["value"].as_i64()).unwrap_or(0);
    Ok(json!({"sentences": [{"text": format!("Watch this: {num} is the figure."), "fact_ids": ids}]}).to_string())
}

#[test]
fn anomaly_detector_uses_grounded_narratives_and_replays() {
    let inputs = history_inputs();
    let mut model = ScriptedModel::from_fn("scripted-1", grounded);
    let run = run_agent(AgentName::AnomalyDetector, &operator(), &inputs, Some(&mut model));
    assert_eq!(run.status, "ok");
    let alerts = alerts_of(&run);
    assert_eq!(run.model_calls.len(), alerts.len());
    for a in &alerts {
        assert_eq!(a["message_source"], "model");
        assert!(a["message"].as_str().unwrap().starts_with("Watch this: "));
    }
    for c in &run.model_calls {
        assert_eq!(c.model_id, "scripted-1");
        assert_eq!(c.request.purpose, "narrative");
        assert!(c.request.response_schema.is_object());
    }
    assert_replays(&run, &inputs);
    assert_clean(&run, &[]);
    // Replay refuses other inputs and tampered responses.
    let mut other = inputs.clone();
    other.remove("history/0001");
    assert_eq!(eucora_license_agents::replay(&run.to_value(), &other).unwrap_err().code, "inputs_mismatch");
    let mut v = run.to_value();
    v["model_calls"][0]["response"] = json!(json!({"sentences": [{"text": "Nothing.", "fact_ids": []}]}).to_string());
    assert_eq!(eucora_license_agents::replay(&v, &inputs).unwrap_err().code, "replay_mismatch");
}

fn deterministic_messages(inputs: &Inputs) -> Vec<Value> {
    alerts_of(&run_agent(AgentName::AnomalyDetector, &operator(), inputs, None)).iter().map(|a| a["message"].clone()).collect()
}

#[test]
fn a_raising_model_fails_the_step_and_falls_back() {
    let inputs = history_inputs();
    let mut model = ScriptedModel::from_fn("boom", |_| Err("connection reset; token=abc123".into()));
    let run = run_agent(AgentName::AnomalyDetector, &operator(), &inputs, Some(&mut model));
    assert_eq!(run.status, "ok");
    let n = alerts_of(&run).len();
    assert_eq!(run.model_calls.len(), n, "a failed call is not re-asked");
    assert!(run.model_calls.iter().all(|c| c.response.is_none()));
    assert_eq!(steps(&run).iter().filter(|s| s.2 == "model_call_failed" && s.1 == "failed").count(), n);
    let msgs: Vec<Value> = alerts_of(&run).iter().map(|a| a["message"].clone()).collect();
    assert_eq!(msgs, deterministic_messages(&inputs));
    assert_replays(&run, &inputs);
    assert_clean(&run, &["abc123"]);
}

#[test]
fn invalid_json_is_re_asked_twice_then_dropped() {
    let inputs = history_inputs();
    let mut model = ScriptedModel::from_map("m", &json!({"anomaly_detector": {"narrative": "{not json"}})).unwrap();
    let run = run_agent(AgentName::AnomalyDetector, &operator(), &inputs, Some(&mut model));
    assert_eq!(run.status, "ok");
    let n = alerts_of(&run).len();
    assert_eq!(run.model_calls.len(), 3 * n);
    assert!(run.model_calls[1].request.prompt.contains("$: not JSON"));
    assert_eq!(steps(&run).iter().filter(|s| s.2 == "model_output_invalid").count(), 3 * n);
    let msgs: Vec<Value> = alerts_of(&run).iter().map(|a| a["message"].clone()).collect();
    assert_eq!(msgs, deterministic_messages(&inputs));
    assert_replays(&run, &inputs);
}

#[test]
fn an_invalid_then_valid_answer_is_used() {
    let inputs = history_inputs();
    let mut calls = 0;
    let mut model = ScriptedModel::from_fn("m", move |req| {
        calls += 1;
        if calls == 1 {
            Ok(json!({"sentences": [{"text": "x", "fact_ids": ["no_such_fact"]}]}).to_string())
        } else {
            grounded(req)
        }
    });
    let run = run_agent(AgentName::AnomalyDetector, &operator(), &inputs, Some(&mut model));
    assert!(run.model_calls[1].request.prompt.contains("unknown fact id `no_such_fact`"));
    assert_eq!(alerts_of(&run)[0]["message_source"], "model");
    assert_replays(&run, &inputs);
}

#[test]
fn an_ungrounded_number_drops_the_narrative() {
    let inputs = history_inputs();
    let mut model = ScriptedModel::from_fn("m", |req| {
        let p: Value = serde_json::from_str(&req.prompt).unwrap();
        let ids: Vec<Value> = p["facts"].as_array().unwrap().iter().map(|f| f["id"].clone()).collect();
        Ok(json!({"sentences": [{"text": "You could save €987,654.32 today.", "fact_ids": ids}]}).to_string())
    });
    let run = run_agent(AgentName::AnomalyDetector, &operator(), &inputs, Some(&mut model));
    assert_eq!(run.status, "ok");
    let n = alerts_of(&run).len();
    assert_eq!(run.model_calls.len(), n, "an ungrounded narrative is not re-asked");
    assert_eq!(steps(&run).iter().filter(|s| s.1 == "fallback" && s.2.starts_with("ungrounded_narrative")).count(), n);
    assert!(alerts_of(&run).iter().all(|a| a["message_source"] == "deterministic"));
    assert_replays(&run, &inputs);
}

#[test]
fn optimization_advisor_proposes_each_recommendation() {
    let inputs = history_inputs();
    let run = run_agent(AgentName::OptimizationAdvisor, &operator(), &inputs, None);
    assert_eq!(run.status, "ok", "{:?}", run.steps);
    let recs = run.outputs["recommendations"].as_array().unwrap();
    let props = run.outputs["proposals"].as_array().unwrap();
    assert!(!recs.is_empty());
    assert_eq!(recs.len(), props.len());
    for (r, p) in recs.iter().zip(props) {
        assert_eq!(p["kind"], "recommendation");
        assert_eq!(p["payload"]["recommendation_id"], r["recommendation_id"]);
        assert_eq!(p["proposer"], run.actor);
        assert_eq!(p["correlation_id"], "corr-1");
        assert_eq!(p["created_at"], AT);
    }
    assert_replays(&run, &inputs);
    assert_clean(&run, &[]);
}
