//! D4's guardrails under arbitrary model behaviour: whatever the model does
//! (raise, answer garbage, invalid JSON, JSON of the wrong shape, an unknown
//! SKU, a bad date, an ungrounded number), every agent finishes its run —
//! `ok`, with a failed or fallback step and the deterministic result —
//! never a panic; every call has exactly one recorded outcome; nothing is
//! built from invalid output; each run replays byte for byte and leaks no
//! secret.

mod common;
use common::*;
use eucora_license_agents::grounding::numbers;
use eucora_license_agents::{AgentRun, Inputs, ModelRequest, ScriptedModel};
use eucora_license_core::{AgentName, Date};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Planted in every raised error: it must never reach a run record.
const RAISED_SECRET: &str = "sk-live-51HqLyjWDarjtT1zdp7dc";
const SKIPTOKEN: &str = "RFNwdAIAAQAAAB86aGVpZGlAYWNtZS5jb20pVXNlcl9kYmRlOGU1NC02YTV";
const LICENSE_KEY: &str = "ABCDE-12345-FGHIJ-67890-KLMNO";

/// One scripted model behaviour, interpreted against the request it answers.
#[derive(Debug, Clone)]
enum Plan {
    /// The call raises (its text holds a secret).
    Raise,
    /// Any text at all.
    Text(String),
    /// Any JSON value.
    Json(Value),
    /// A narrative: per sentence, which facts it cites (bit mask over the
    /// request's facts), whether it also cites an unknown id, and what number
    /// it states (none, the k-th fact's value, or an invented one).
    Narrative(Vec<(u32, bool, Stated)>),
    /// A mapping answer: a SKU id (catalog or not) or null, maybe a reason.
    Mapping(Option<&'static str>, bool),
    /// A contract answer: lines of (contract, sku, quantity, starts_on, ends_on).
    Contract(Vec<(&'static str, &'static str, Value, &'static str, &'static str)>),
}

#[derive(Debug, Clone)]
enum Stated {
    Nothing,
    Fact(usize),
    Invented(i64),
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop_oneof![Just("sku".to_string()), Just("sentences".to_string()), "[a-z]{1,6}"], inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn plan() -> impl Strategy<Value = Plan> {
    let stated =
        prop_oneof![1 => Just(Stated::Nothing), 2 => (0usize..8).prop_map(Stated::Fact), 2 => any::<i64>().prop_map(Stated::Invented)];
    let sku = prop::sample::select(vec!["autocad", "visio-plan2", "m365-e3", "intellij-ultimate", "no-such-sku", "AUTOCAD", ""]);
    let date = prop::sample::select(vec!["2024-07-01", "2027-12-31", "2026-02-30", "31/12/2027", ""]);
    let line = (
        prop::sample::select(vec!["MS-EA-2024-0117", "C-NEW"]),
        sku.clone(),
        prop_oneof![(0i64..40).prop_map(Value::from), Just(json!("5")), Just(Value::Null)],
        date.clone(),
        date,
    );
    // Weighted towards answers of the right shape, so that the valid,
    // grounded and ungrounded paths are all reached in a few cases.
    prop_oneof![
        1 => Just(Plan::Raise),
        1 => "\\PC{0,40}".prop_map(Plan::Text),
        1 => json_value().prop_map(Plan::Json),
        4 => prop::collection::vec((any::<u32>(), prop::bool::weighted(0.15), stated), 0..3).prop_map(Plan::Narrative),
        3 => (prop::option::of(sku), any::<bool>()).prop_map(|(s, r)| Plan::Mapping(s, r)),
        3 => prop::collection::vec(line, 0..3).prop_map(Plan::Contract),
    ]
}

/// The prompt's JSON (a re-ask appends the validation errors after a blank line).
fn prompt_json(req: &ModelRequest) -> Value {
    serde_json::from_str(req.prompt.split("\n\n").next().unwrap_or_default()).unwrap_or(Value::Null)
}

fn answer(p: &Plan, req: &ModelRequest) -> Result<String, String> {
    Ok(match p {
        Plan::Raise => return Err(format!("upstream failed; api_key={RAISED_SECRET}")),
        Plan::Text(t) => t.clone(),
        Plan::Json(v) => v.to_string(),
        Plan::Narrative(sentences) => {
            let facts = prompt_json(req)["facts"].as_array().cloned().unwrap_or_default();
            let s: Vec<Value> = sentences
                .iter()
                .map(|(mask, unknown, stated)| {
                    let mut ids: Vec<Value> =
                        facts.iter().enumerate().filter(|(i, _)| mask & (1 << (i % 32)) != 0).map(|(_, f)| f["id"].clone()).collect();
                    if *unknown {
                        ids.push(json!("no_such_fact"));
                    }
                    let text = match stated {
                        Stated::Nothing => "Worth a look.".to_string(),
                        Stated::Fact(k) => match facts.get(k % facts.len().max(1)) {
                            Some(f) => format!("The value is {}.", f["value"].as_str().map_or(f["value"].to_string(), str::to_string)),
                            None => "Worth a look.".to_string(),
                        },
                        Stated::Invented(n) => format!("About {n} seats."),
                    };
                    json!({"text": text, "fact_ids": ids})
                })
                .collect();
            json!({"sentences": s}).to_string()
        }
        Plan::Mapping(sku, reason) => {
            let mut v = json!({"sku": sku});
            if *reason {
                v["reason"] = json!("closest name");
            }
            v.to_string()
        }
        Plan::Contract(lines) => {
            let l: Vec<Value> = lines
                .iter()
                .map(|(c, s, q, a, b)| json!({"contract_id": c, "sku": s, "quantity": q, "starts_on": a, "ends_on": b}))
                .collect();
            json!({"entitlements": l}).to_string()
        }
    })
}

/// A model answering call i with plans[i % len].
fn model_of(plans: Vec<Plan>) -> ScriptedModel {
    let mut i = 0usize;
    ScriptedModel::from_fn("prop-model", move |req| {
        let p = plans[i % plans.len()].clone();
        i += 1;
        answer(&p, req)
    })
}

/// The checks every run must pass whatever the model did: a finished `ok`
/// run, one outcome step per model call, at most three calls per question,
/// a byte-identical replay, no secret.
fn common_checks(run: &AgentRun, inputs: &Inputs, purpose: &str, questions: usize) {
    assert_eq!(run.status, "ok", "{:?}", run.steps);
    assert!(run.model_calls.len() <= 3 * questions, "{} calls for {questions} questions", run.model_calls.len());
    assert!(run.model_calls.len() >= questions, "every question is asked at least once");
    let outcomes = run
        .steps
        .iter()
        .filter(|s| {
            s.step == purpose
                && matches!(
                    (s.status, s.detail.as_str()),
                    ("ok", "valid") | ("failed", "model_output_invalid") | ("failed", "model_call_failed")
                )
        })
        .count();
    assert_eq!(outcomes, run.model_calls.len(), "one outcome per call: {:?}", run.steps);
    for s in &run.steps {
        assert!(matches!(s.status, "ok" | "failed" | "fallback" | "skipped"), "{s:?}");
        if s.status == "fallback" {
            assert!(s.detail.starts_with("ungrounded_narrative: sentence "), "{s:?}");
        }
    }
    for c in &run.model_calls {
        assert_eq!(c.request.purpose, purpose);
        assert_eq!(c.response.is_none(), c.response_hash.is_none());
    }
    assert_replays(run, inputs);
    assert_clean(run, &[RAISED_SECRET, SKIPTOKEN, LICENSE_KEY]);
}

fn demo_history() -> &'static Inputs {
    static H: OnceLock<Inputs> = OnceLock::new();
    H.get_or_init(history_inputs)
}

fn without(v: &Value, keys: &[&str]) -> Value {
    let mut v = v.clone();
    for k in keys {
        v.as_object_mut().unwrap().remove(*k);
    }
    v
}

/// Every number a fact holds, written out (for the independent grounding check).
fn fact_text(v: &Value) -> String {
    match v {
        Value::Array(a) => a.iter().map(fact_text).collect::<Vec<_>>().join(" "),
        Value::Object(o) => o.values().map(fact_text).collect::<Vec<_>>().join(" "),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn anomaly_case(plans: Vec<Plan>) {
    let inputs = demo_history();
    static BASE: OnceLock<AgentRun> = OnceLock::new();
    let base = BASE.get_or_init(|| run_agent(AgentName::AnomalyDetector, &operator(), inputs, None));
    let base_alerts = base.outputs["alerts"].as_array().unwrap();
    let mut model = model_of(plans);
    let run = run_agent(AgentName::AnomalyDetector, &operator(), inputs, Some(&mut model));
    common_checks(&run, inputs, "narrative", base_alerts.len());
    let alerts = run.outputs["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), base_alerts.len());
    for (a, b) in alerts.iter().zip(base_alerts) {
        assert_eq!(without(a, &["message", "message_source"]), without(b, &["message", "message_source"]));
        match a["message_source"].as_str() {
            Some("deterministic") => assert_eq!(a["message"], b["message"]),
            Some("model") => {
                // Independent check: every number of the kept narrative is a number of the alert's facts.
                let allowed: BTreeSet<String> = numbers(&fact_text(&a["facts"])).into_iter().collect();
                for n in numbers(a["message"].as_str().unwrap()) {
                    assert!(allowed.contains(&n), "ungrounded {n} kept in {}", a["message"]);
                }
            }
            other => panic!("message_source {other:?}"),
        }
    }
}

fn discovery_inputs() -> Inputs {
    let demo = root().join("fixtures/demo");
    let mut i = Inputs::new();
    load_dir(&mut i, "exports/entra-users", &demo.join("imports/entra-users"));
    for (k, f) in [("bundle.json", "bundle.json"), ("ruleset", "ruleset.json"), ("catalog", "catalog.json")] {
        i.insert(k.into(), std::fs::read(demo.join(f)).unwrap());
    }
    let csv = "source,raw_id,observed_at,sku,product,kind,status,user,device_serial,device_id,device_name,last_used_at,session_start,session_end,quantity,confidence\n\
               helpdesk,h-1,2026-11-21T09:00:00Z,,Autodesk Revit 2026,installation,,,SN-0001,,,,,,,0.7\n\
               helpdesk,h-2,2026-11-21T09:00:00Z,,Frobnicator Studio 9,installation,,,SN-0002,,,,,,,\n";
    i.insert("exports/signals/helpdesk.csv".into(), csv.as_bytes().to_vec());
    i
}

fn catalog_ids(inputs: &Inputs) -> BTreeSet<String> {
    let c: Value = serde_json::from_slice(&inputs["catalog"]).unwrap();
    c["skus"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

fn discovery_case(plans: Vec<Plan>) {
    static INPUTS: OnceLock<(Inputs, AgentRun)> = OnceLock::new();
    let (inputs, base) = INPUTS.get_or_init(|| {
        let i = discovery_inputs();
        let b = run_agent(AgentName::ConsumptionDiscovery, &operator(), &i, None);
        (i, b)
    });
    let unmapped: Vec<Value> = base.outputs["unmapped_products"].as_array().unwrap().clone();
    assert!(unmapped.contains(&json!("Frobnicator Studio 9")) && unmapped.contains(&json!("Autodesk Revit 2026")));
    let mut model = model_of(plans);
    let run = run_agent(AgentName::ConsumptionDiscovery, &operator(), inputs, Some(&mut model));
    common_checks(&run, inputs, "mapping", unmapped.len());
    assert_eq!(without(&run.outputs, &["proposals"]), without(&base.outputs, &["proposals"]));
    let skus = catalog_ids(inputs);
    let mut seen = BTreeSet::new();
    for p in run.outputs["proposals"].as_array().unwrap() {
        assert_eq!(p["kind"], "mapping.sku");
        assert!(skus.contains(p["payload"]["sku"].as_str().unwrap()), "a proposal for a SKU outside the catalog: {p}");
        assert!(unmapped.contains(&p["payload"]["value"]));
        assert!(seen.insert(p["payload"]["value"].to_string()), "one proposal per product");
    }
    // A proposal only from a valid answer: as many as the valid non-null answers.
    let valid_non_null = run
        .model_calls
        .iter()
        .filter_map(|c| c.response.as_deref())
        .filter_map(|t| serde_json::from_str::<Value>(t).ok())
        .filter(|v| {
            v.as_object().is_some_and(|o| o.keys().all(|k| k == "sku" || (k == "reason" && o[k].is_string())))
                && v["sku"].as_str().is_some_and(|s| skus.contains(s))
        })
        .count();
    assert_eq!(run.outputs["proposals"].as_array().unwrap().len(), valid_non_null);
}

fn inventory_inputs() -> Inputs {
    let demo = root().join("fixtures/demo");
    let fx = root().join("fixtures/adapters/entra-subscribed-skus");
    let mut i = Inputs::new();
    i.insert("exports/entra-subscribed-skus/subscribedSkus.json".into(), std::fs::read(fx.join("input/subscribedSkus.json")).unwrap());
    i.insert("bundle.json".into(), b"{}".to_vec());
    for (k, f) in [("ruleset", "ruleset.json"), ("catalog", "catalog.json"), ("entitlements", "entitlements.csv")] {
        i.insert(k.into(), std::fs::read(demo.join(f)).unwrap());
    }
    let contract =
        format!("Contract MS-EA-2024-0117\nMicrosoft 365 E3: 15 seats from 2024-07-01 to 2027-12-31\nLicense key: {LICENSE_KEY}\n");
    i.insert("contracts/ms-ea.txt".into(), contract.into_bytes());
    i
}

fn inventory_case(plans: Vec<Plan>) {
    static INPUTS: OnceLock<(Inputs, AgentRun)> = OnceLock::new();
    let (inputs, base) = INPUTS.get_or_init(|| {
        let i = inventory_inputs();
        let b = run_agent(AgentName::InventoryExtractor, &operator(), &i, None);
        (i, b)
    });
    let mut model = model_of(plans);
    let run = run_agent(AgentName::InventoryExtractor, &operator(), inputs, Some(&mut model));
    common_checks(&run, inputs, "contract", 1);
    // The portal part does not depend on the model.
    let portal = |r: &AgentRun| -> Vec<Value> {
        r.outputs["discrepancies"].as_array().unwrap().iter().filter(|d| d["source"] == "portal").cloned().collect()
    };
    assert_eq!(portal(&run), portal(base));
    let skus = catalog_ids(inputs);
    let extra = &run.outputs["proposals"].as_array().unwrap()[base.outputs["proposals"].as_array().unwrap().len()..];
    let answered_valid = run.steps.iter().any(|s| s.step == "contract" && s.status == "ok");
    if !answered_valid {
        assert_eq!(run.outputs_bytes(), base.outputs_bytes(), "nothing is built from invalid output");
    }
    for p in extra {
        assert!(p["kind"] == "entitlement.create" || p["kind"] == "entitlement.update", "{p}");
        assert!(skus.contains(p["payload"]["sku"].as_str().unwrap()), "{p}");
        for k in ["starts_on", "ends_on"] {
            assert!(p["payload"][k].as_str().and_then(Date::parse).is_some(), "{p}");
        }
        assert!(p["payload"]["quantity"].is_i64(), "{p}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn anomaly_detector_survives_any_model(plans in prop::collection::vec(plan(), 1..6)) {
        anomaly_case(plans);
    }

    #[test]
    fn consumption_discovery_survives_any_model(plans in prop::collection::vec(plan(), 1..6)) {
        discovery_case(plans);
    }

    #[test]
    fn inventory_extractor_survives_any_model(plans in prop::collection::vec(plan(), 1..6)) {
        inventory_case(plans);
    }
}

/// The named failure modes, each for every agent that asks a model.
#[test]
fn each_named_failure_mode_for_each_asking_agent() {
    let modes: Vec<(&str, Plan)> = vec![
        ("raises", Plan::Raise),
        ("invalid JSON", Plan::Text("{\"sku\": ".into())),
        ("unknown SKU", Plan::Mapping(Some("no-such-sku"), false)),
        ("unknown SKU in a contract", Plan::Contract(vec![("C-NEW", "no-such-sku", json!(3), "2024-07-01", "2027-12-31")])),
        ("ungrounded number", Plan::Narrative(vec![(u32::MAX, false, Stated::Invented(987_654))])),
    ];
    for (name, p) in modes {
        eprintln!("mode: {name}");
        anomaly_case(vec![p.clone()]);
        discovery_case(vec![p.clone()]);
        inventory_case(vec![p]);
    }
    // The ungrounded narrative is a fallback step, not a re-ask.
    let mut model = model_of(vec![Plan::Narrative(vec![(u32::MAX, false, Stated::Invented(987_654))])]);
    let run = run_agent(AgentName::AnomalyDetector, &operator(), demo_history(), Some(&mut model));
    let n = run.outputs["alerts"].as_array().unwrap().len();
    assert_eq!(run.model_calls.len(), n);
    assert_eq!(run.steps.iter().filter(|s| s.status == "fallback" && s.detail.ends_with("states 987654")).count(), n);
    // Invalid JSON and an unknown SKU: exactly three calls (two re-asks).
    let mut model = model_of(vec![Plan::Mapping(Some("no-such-sku"), false)]);
    let run = run_agent(AgentName::ConsumptionDiscovery, &operator(), &discovery_inputs(), Some(&mut model));
    assert_eq!(run.model_calls.len(), 3 * run.outputs["unmapped_products"].as_array().unwrap().len());
    assert_eq!(run.outputs["proposals"], json!([]));
}

/// truth_builder and optimization_advisor ask no model: given one that
/// would fail every way, they never call it and their runs are those
/// without a model.
#[test]
fn agents_without_questions_never_call_the_model() {
    for (agent, inputs) in [(AgentName::TruthBuilder, demo_truth_inputs()), (AgentName::OptimizationAdvisor, demo_history().clone())] {
        let mut model = ScriptedModel::from_fn("prop-model", |_| Err(format!("boom {RAISED_SECRET}")));
        let with = run_agent(agent, &operator(), &inputs, Some(&mut model));
        let without = run_agent(agent, &operator(), &inputs, None);
        assert_eq!(with.status, "ok", "{agent}: {:?}", with.steps);
        assert!(with.model_calls.is_empty());
        assert_eq!(with.outputs_bytes(), without.outputs_bytes());
        assert_replays(&with, &inputs);
        assert_clean(&with, &[RAISED_SECRET]);
    }
}
