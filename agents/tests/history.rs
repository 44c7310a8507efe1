//! The agents on the 90-day history (`fixtures/history-90d/`): with no
//! model and with a scripted one, each agent's outputs are asserted against
//! the hand-worked `expected.json` (Part C) or against what the engine
//! itself says; every run replays byte for byte and leaks no secret.

mod common;
use common::*;
use eucora_license_agents::{AgentRun, Inputs, ModelRequest, ScriptedModel};
use eucora_license_core::internal::hash::sha256;
use eucora_license_core::{canonical_bytes, tagged_hash, write_pack, AgentName, Domain};
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The 90 days reconciled once, in memory: snapshot bytes, snapshot hashes,
/// evidence packs and pack hashes, day 1 first.
struct History {
    snaps: Vec<Vec<u8>>,
    snap_hashes: Vec<String>,
    packs: Vec<Vec<u8>>,
    pack_hashes: Vec<String>,
}

fn history() -> &'static History {
    static H: OnceLock<History> = OnceLock::new();
    H.get_or_init(|| {
        let mut h = History { snaps: Vec::new(), snap_hashes: Vec::new(), packs: Vec::new(), pack_hashes: Vec::new() };
        eucora_license_history90::reconcile_days(eucora_license_history90::DAYS, |_, out| {
            let s = out.snapshot.as_ref().unwrap();
            h.snaps.push(s.canonical_bytes().to_vec());
            h.snap_hashes.push(s.hash().to_prefixed());
            let (pack, hash) = write_pack(out, Vec::new()).unwrap();
            h.packs.push(pack);
            h.pack_hashes.push(hash.to_prefixed());
        })
        .unwrap();
        h
    })
}

/// `anomaly_detector` / `optimization_advisor` inputs as of `day`: the
/// snapshots of days 1..=day (oldest first) and day's pack.
fn insight_inputs(day: usize) -> Inputs {
    let h = history();
    let mut i = Inputs::new();
    for (n, s) in h.snaps[..day].iter().enumerate() {
        i.insert(format!("history/{:04}", n + 1), s.clone());
    }
    i.insert("pack".into(), h.packs[day - 1].clone());
    i
}

fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(root().join("fixtures/history-90d/expected.json")).unwrap()).unwrap()
}

fn pick(v: &Value, keys: &[&str]) -> Value {
    Value::Object(keys.iter().map(|k| (k.to_string(), v[*k].clone())).collect())
}

/// `eucora.<domain>.v1` id of canonical `{type, subject}` (C2, C3),
/// computed here from the fixture, not by the insight crate.
fn id_of(domain: Domain, v: &Value) -> Value {
    let doc = json!({"type": v["type"], "subject": v["subject"]});
    json!(tagged_hash(domain, &canonical_bytes(&doc).unwrap()).to_prefixed())
}

fn alerts_of(run: &AgentRun) -> Vec<Value> {
    run.outputs["alerts"].as_array().unwrap().clone()
}

fn steps_with(run: &AgentRun, status: &str, detail_prefix: &str) -> usize {
    run.steps.iter().filter(|s| s.status == status && s.detail.starts_with(detail_prefix)).count()
}

/// The prompt's JSON (a re-ask appends the validation errors after a blank line).
fn prompt_json(req: &ModelRequest) -> Value {
    serde_json::from_str(req.prompt.split("\n\n").next().unwrap()).unwrap()
}

/// A narrative citing every fact and stating the first numeric one (or no
/// number at all when no fact is a number): always grounded.
fn grounded_reply(req: &ModelRequest) -> String {
    let p = prompt_json(req);
    let facts = p["facts"].as_array().unwrap();
    let ids: Vec<Value> = facts.iter().map(|f| f["id"].clone()).collect();
    let text = match facts.iter().find_map(|f| f["value"].as_i64()) {
        Some(n) => format!("Model says: {n} is the figure to watch."),
        None => "Model says: look at this one.".to_string(),
    };
    json!({"sentences": [{"text": text, "fact_ids": ids}]}).to_string()
}

#[test]
fn anomaly_detector_without_a_model_gives_the_expected_alerts() {
    let exp = expected();
    for day in [40usize, 55, 90] {
        let inputs = insight_inputs(day);
        let run = run_agent(AgentName::AnomalyDetector, &operator(), &inputs, None);
        assert_eq!(run.status, "ok", "day {day}: {:?}", run.steps);
        let alerts = alerts_of(&run);
        let got: Vec<Value> = alerts.iter().map(|a| pick(a, &["type", "severity", "subject", "facts"])).collect();
        assert_eq!(Value::Array(got), exp[day.to_string()]["alerts"], "day {day}");
        for a in &alerts {
            assert_eq!(a["alert_id"], id_of(Domain::Alert, a), "day {day}: alert_id");
            assert_eq!(a["as_of"], exp[day.to_string()]["as_of"]);
            assert_eq!(a["message_source"], "deterministic");
            assert!(!a["message"].as_str().unwrap().is_empty());
        }
        assert!(run.model_calls.is_empty());
        assert_eq!(steps_with(&run, "ok", &format!("{} alerts", alerts.len())), 1, "day {day}: {:?}", run.steps);
        assert_replays(&run, &inputs);
        assert_clean(&run, &[]);
    }
}

#[test]
fn anomaly_detector_keeps_grounded_narratives_and_drops_ungrounded_ones() {
    let day = 90;
    let inputs = insight_inputs(day);
    let plain = alerts_of(&run_agent(AgentName::AnomalyDetector, &operator(), &inputs, None));
    // Grounded for every alert but `utilization_high` (Visio Plan 2 at
    // 90.00 %), where the model invents 91.5 %, a number no cited fact holds.
    let mut model = ScriptedModel::from_fn("scripted-h90", |req| {
        let p = prompt_json(req);
        if p["about"]["type"] == "utilization_high" {
            let ids: Vec<Value> = p["facts"].as_array().unwrap().iter().map(|f| f["id"].clone()).collect();
            return Ok(json!({"sentences": [
                {"text": "The seats are nearly all taken.", "fact_ids": []},
                {"text": "It runs at 91.5 % of its seats.", "fact_ids": ids}]})
            .to_string());
        }
        Ok(grounded_reply(req))
    });
    let run = run_agent(AgentName::AnomalyDetector, &operator(), &inputs, Some(&mut model));
    assert_eq!(run.status, "ok");
    let alerts = alerts_of(&run);
    assert_eq!(alerts.len(), plain.len());
    assert_eq!(run.model_calls.len(), alerts.len(), "one call per alert: none invalid, an ungrounded answer is not re-asked");
    for (a, p) in alerts.iter().zip(&plain) {
        // Only the message and its source may differ from the deterministic run.
        for k in ["alert_id", "type", "severity", "subject", "as_of", "facts", "evidence"] {
            assert_eq!(a[k], p[k], "{k}");
        }
        if a["type"] == "utilization_high" {
            assert_eq!(a["message_source"], "deterministic");
            assert_eq!(a["message"], p["message"], "the deterministic message is used");
        } else {
            assert_eq!(a["message_source"], "model");
            assert!(a["message"].as_str().unwrap().starts_with("Model says: "), "{a}");
        }
    }
    assert_eq!(steps_with(&run, "fallback", "ungrounded_narrative: sentence 1 states 91.5"), 1, "{:?}", run.steps);
    assert_eq!(steps_with(&run, "fallback", ""), 1);
    assert_eq!(run.steps.iter().filter(|s| s.step == "narrative" && s.status == "ok").count(), alerts.len());
    assert!(run.model_calls.iter().all(|c| c.model_id == "scripted-h90" && c.response.is_some()));
    assert_replays(&run, &inputs);
    assert_clean(&run, &[]);
}

#[test]
fn anomaly_detector_survives_a_raising_model_on_the_history() {
    let inputs = insight_inputs(55);
    let plain = alerts_of(&run_agent(AgentName::AnomalyDetector, &operator(), &inputs, None));
    let mut model = ScriptedModel::from_fn("boom", |_| Err("503 from gateway; Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.SECRET".into()));
    let run = run_agent(AgentName::AnomalyDetector, &operator(), &inputs, Some(&mut model));
    assert_eq!(run.status, "ok");
    assert_eq!(alerts_of(&run), plain, "every message falls back to the deterministic one");
    assert_eq!(steps_with(&run, "failed", "model_call_failed"), plain.len());
    assert!(run.model_calls.iter().all(|c| c.response.is_none() && c.response_hash.is_none()));
    assert_replays(&run, &inputs);
    assert_clean(&run, &["eyJhbGciOiJIUzI1NiJ9", "Bearer"]);
}

#[test]
fn optimization_advisor_on_day_90_proposes_the_expected_recommendations() {
    let day = 90;
    let inputs = insight_inputs(day);
    let keys: &[&str] = &["rank", "type", "subject", "quantity", "amount", "annualized", "currency", "facts"];
    let want: Vec<Value> = expected()["90"]["recommendations"].as_array().unwrap().iter().map(|v| pick(v, keys)).collect();
    assert_eq!(want.len(), 9);
    let plain = run_agent(AgentName::OptimizationAdvisor, &operator(), &inputs, None);
    // The advisor asks no model: with one, the run is the same.
    let mut model = ScriptedModel::from_fn("never-called", |_| panic!("the advisor asks no model"));
    let with = run_agent(AgentName::OptimizationAdvisor, &operator(), &inputs, Some(&mut model));
    for run in [&plain, &with] {
        assert_eq!(run.status, "ok", "{:?}", run.steps);
        assert!(run.model_calls.is_empty());
        let recs = run.outputs["recommendations"].as_array().unwrap();
        let got: Vec<Value> = recs.iter().map(|r| pick(r, keys)).collect();
        assert_eq!(got, want);
        let props = run.outputs["proposals"].as_array().unwrap();
        assert_eq!(props.len(), recs.len());
        for (r, p) in recs.iter().zip(props) {
            assert_eq!(r["recommendation_id"], id_of(Domain::Recommendation, r));
            assert_eq!(p["kind"], "recommendation");
            assert_eq!(p["payload"], json!({"recommendation_id": r["recommendation_id"]}));
            assert_eq!(p["proposer"], run.actor);
            assert_eq!(p["created_at"], AT);
            assert_eq!(p["expires_at"], "2026-11-29T07:00:00Z");
            assert_eq!(p["evidence"], r["evidence"]["snapshots"]);
            let ev = p["evidence"].as_array().unwrap();
            assert!(!ev.is_empty());
            assert!(ev.iter().all(|h| history().snap_hashes.contains(&h.as_str().unwrap().to_string())), "evidence = history snapshots");
        }
        assert_replays(run, &inputs);
        assert_clean(run, &[]);
    }
    assert_eq!(plain.outputs_bytes(), with.outputs_bytes());
}

/// A history day's bundle as `bundle/<path>` inputs.
fn bundle_inputs(day: u32) -> Inputs {
    let mut i = Inputs::new();
    for (path, bytes) in eucora_license_history90::bundle(day).files() {
        i.insert(format!("bundle/{path}"), bytes.to_vec());
    }
    i
}

#[test]
fn truth_builder_reconciles_a_history_day_and_keeps_the_previous_truth_on_failure() {
    let h = history();
    let day = 55u32;
    let mut inputs = bundle_inputs(day);
    inputs.insert("previous".into(), h.packs[day as usize - 2].clone());
    let previous_sha = json!(sha256(&h.packs[day as usize - 2]).to_prefixed());
    let mut model = ScriptedModel::from_fn("never-called", |_| panic!("truth_builder asks no model"));
    for run in [
        run_agent(AgentName::TruthBuilder, &operator(), &inputs, None),
        run_agent(AgentName::TruthBuilder, &operator(), &inputs, Some(&mut model)),
    ] {
        assert_eq!(run.status, "ok", "{:?}", run.steps);
        assert_eq!(run.outputs["reconcile_status"], "ok");
        assert_eq!(run.outputs["errors"], json!([]));
        assert_eq!(run.outputs["snapshot_hash"], json!(h.snap_hashes[day as usize - 1]), "the chained day-55 snapshot");
        assert_eq!(run.outputs["pack_hash"], json!(h.pack_hashes[day as usize - 1]));
        assert_eq!(run.outputs["pack_sha256"], json!(sha256(&h.packs[day as usize - 1]).to_prefixed()));
        assert_eq!(run.outputs["truth"], json!({"kept": "new", "previous_pack_sha256": previous_sha}));
        assert!(run.model_calls.is_empty());
        assert_replays(&run, &inputs);
        assert_clean(&run, &[]);
    }
    // A broken bundle (an entitlement row whose quantity is a license key):
    // a failed run, no snapshot, no pack, the previous truth kept, and the
    // key appears nowhere.
    let key = "QWERT-12345-ASDFG-67890-ZXCVB";
    let mut broken = inputs.clone();
    let csv = broken.get_mut("bundle/entitlements.csv").unwrap();
    csv.extend_from_slice(format!("E-999,autocad,C-KEY,{key},2026-01-01,2027-01-01,1.00,USD\n").as_bytes());
    let run = run_agent(AgentName::TruthBuilder, &operator(), &broken, None);
    assert_eq!(run.status, "failed", "{:?}", run.steps);
    assert_eq!(run.error.as_deref(), Some("reconcile_failed"));
    assert_eq!(run.outputs["reconcile_status"], "failed");
    assert!(!run.outputs["errors"].as_array().unwrap().is_empty());
    assert_eq!(run.outputs["snapshot_hash"], Value::Null);
    assert_eq!(run.outputs["pack_hash"], Value::Null);
    assert_eq!(run.outputs["truth"], json!({"kept": "previous", "previous_pack_sha256": previous_sha}));
    assert!(run.steps.iter().any(|s| s.step == "reconcile" && s.status == "failed"));
    assert!(!run.steps.iter().any(|s| s.step == "evidence_pack"), "no pack is written");
    assert_eq!(run.audit_entry()["details"]["status"], "failed");
    assert_replays(&run, &broken);
    assert_clean(&run, &[key]);
}

// ------------------------------------------------------------------------------------------
// consumption_discovery on a history day's exports.

/// Planted canonical rows: two below `review_confidence` (0.8 in
/// rulesets/default/v1.json), one at it, one at 1, one unmapped product, one
/// with a confidence out of range (rejected).
const REVIEW_CSV: &str = "source,raw_id,observed_at,sku,product,kind,status,user,device_serial,device_id,device_name,last_used_at,session_start,session_end,quantity,confidence
helpdesk,rv-1,2026-11-28T09:00:00Z,acrobat-pro,,installation,,,PFZZ0001,,,,,,,0.6
helpdesk,rv-2,2026-11-28T09:00:00Z,acrobat-pro,,installation,,,PFZZ0002,,,,,,,0.79
helpdesk,rv-3,2026-11-28T09:00:00Z,acrobat-pro,,installation,,,PFZZ0003,,,,,,,0.8
helpdesk,rv-4,2026-11-28T09:00:00Z,acrobat-pro,,installation,,,PFZZ0004,,,,,,,1
helpdesk,rv-5,2026-11-28T09:00:00Z,,Frobnicator Studio 9,installation,,,PFZZ0005,,,,,,,
helpdesk,rv-6,2026-11-28T09:00:00Z,acrobat-pro,,installation,,,PFZZ0006,,,,,,,1.5
";

fn discovery_inputs(day: u32) -> Inputs {
    let b = eucora_license_history90::bundle(day);
    let mut i = Inputs::new();
    for (path, bytes) in b.files() {
        match path.strip_prefix("signals/") {
            Some(f) => {
                i.insert(format!("exports/signals/{f}"), bytes.to_vec());
            }
            None if path == "catalog.json" => {
                i.insert("catalog".into(), bytes.to_vec());
            }
            None if path == "ruleset.json" => {
                i.insert("ruleset".into(), bytes.to_vec());
            }
            None if path == "bundle.json" => {
                i.insert("bundle.json".into(), bytes.to_vec());
            }
            None => {}
        }
    }
    i.insert("exports/signals/zz-review.csv".into(), REVIEW_CSV.as_bytes().to_vec());
    i
}

#[test]
fn consumption_discovery_flags_low_confidence_and_unmapped_products_on_a_history_day() {
    let inputs = discovery_inputs(60);
    // The threshold is the ruleset's review_confidence.
    let rs: Value = serde_json::from_slice(&inputs["ruleset"]).unwrap();
    assert_eq!(rs["review_confidence"], "0.8");
    let day_rows: usize = inputs
        .iter()
        .filter(|(k, _)| k.starts_with("exports/signals/") && !k.ends_with("zz-review.csv"))
        .map(|(_, v)| String::from_utf8_lossy(v).lines().filter(|l| !l.trim().is_empty()).count() - 1)
        .sum();
    let run = run_agent(AgentName::ConsumptionDiscovery, &operator(), &inputs, None);
    assert_eq!(run.status, "ok", "{:?}", run.steps);
    let signals = run.outputs["signals"].as_array().unwrap();
    assert_eq!(signals.len(), day_rows + 5, "every valid row passes through");
    let jobs = run.outputs["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["adapter"], "signals");
    assert_eq!(jobs[0]["status"], "ok");
    assert_eq!(jobs[0]["rejected"], json!([{"file": "zz-review.csv", "line": 7, "column": null, "code": "bad_confidence"}]));
    let review: Vec<(Value, Value)> =
        run.outputs["review"].as_array().unwrap().iter().map(|r| (r["raw_id"].clone(), r["confidence"].clone())).collect();
    assert_eq!(review, vec![(json!("rv-1"), json!("0.6")), (json!("rv-2"), json!("0.79"))], "strictly below 0.8 only");
    for r in run.outputs["review"].as_array().unwrap() {
        let i = r["index"].as_u64().unwrap() as usize;
        assert_eq!(signals[i]["raw_id"], r["raw_id"], "index points at the signal");
    }
    assert_eq!(run.outputs["unmapped_products"], json!(["Frobnicator Studio 9"]));
    assert_eq!(run.outputs["proposals"], json!([]), "no model, no mapping proposal");
    assert!(run.steps.iter().any(|s| s.step == "mapping" && s.status == "skipped" && s.detail == "no_model"));
    assert!(run.steps.iter().any(|s| s.step == "review" && s.detail == "2 low-confidence signals"));
    assert_replays(&run, &inputs);
    assert_clean(&run, &[]);

    // A catalog SKU from the model becomes a mapping.sku proposal.
    let mut good = ScriptedModel::from_map("m", &json!({"consumption_discovery": {"mapping": {"sku": "acrobat-pro"}}})).unwrap();
    let with = run_agent(AgentName::ConsumptionDiscovery, &operator(), &inputs, Some(&mut good));
    assert_eq!(with.model_calls.len(), 1);
    let props = with.outputs["proposals"].as_array().unwrap();
    assert_eq!(props.len(), 1);
    assert_eq!(props[0]["kind"], "mapping.sku");
    assert_eq!(props[0]["payload"], json!({"match": "exact", "field": "product", "value": "Frobnicator Studio 9", "sku": "acrobat-pro"}));
    assert_eq!(props[0]["proposer"], with.actor);
    for k in ["jobs", "signals", "review", "unmapped_products"] {
        assert_eq!(with.outputs[k], run.outputs[k], "{k}");
    }
    assert_replays(&with, &inputs);

    // An unknown SKU is refused: model_output_invalid, re-asked at most
    // twice, nothing built.
    let mut bad = ScriptedModel::from_map("m", &json!({"consumption_discovery": {"mapping": {"sku": "frobnicator-pro"}}})).unwrap();
    let refused = run_agent(AgentName::ConsumptionDiscovery, &operator(), &inputs, Some(&mut bad));
    assert_eq!(refused.status, "ok");
    assert_eq!(refused.model_calls.len(), 3);
    assert_eq!(steps_with(&refused, "failed", "model_output_invalid"), 3);
    assert!(refused.model_calls[1].request.prompt.contains("`frobnicator-pro` is not a catalog SKU"));
    assert!(refused.model_calls[2].request.prompt.contains("`frobnicator-pro` is not a catalog SKU"));
    assert_eq!(refused.outputs_bytes(), run.outputs_bytes(), "nothing is built from invalid output");
    assert_replays(&refused, &inputs);

    // null: no proposal, a valid answer.
    let mut none = ScriptedModel::from_map("m", &json!({"consumption_discovery": {"mapping": {"sku": null}}})).unwrap();
    let none = run_agent(AgentName::ConsumptionDiscovery, &operator(), &inputs, Some(&mut none));
    assert_eq!(none.model_calls.len(), 1);
    assert_eq!(none.outputs_bytes(), run.outputs_bytes());
    assert_replays(&none, &inputs);
}

#[test]
fn consumption_discovery_fails_a_bad_canonical_file_not_the_run() {
    let mut inputs = discovery_inputs(60);
    inputs.insert("exports/signals/zz-review.csv".into(), b"source,raw_id\nx,y\n".to_vec());
    let run = run_agent(AgentName::ConsumptionDiscovery, &operator(), &inputs, None);
    assert_eq!(run.status, "ok");
    assert_eq!(run.outputs["jobs"][0]["status"], "failed");
    assert_eq!(run.outputs["jobs"][0]["error"], "invalid_input");
    assert_eq!(run.outputs["signals"], json!([]));
    assert!(run.steps.iter().any(|s| s.step == "adapter signals" && s.status == "failed"));
    assert_replays(&run, &inputs);
}

// ------------------------------------------------------------------------------------------
// inventory_extractor on constructed portal observations and a contract.

fn subscribed(part: &str, sku_id: &str, enabled: u32, consumed: u32) -> Value {
    json!({"skuId": sku_id, "skuPartNumber": part, "consumedUnits": consumed, "capabilityStatus": "Enabled",
           "prepaidUnits": {"enabled": enabled, "lockedOut": 0, "suspended": 0, "warning": 0}})
}

const ENTITLEMENTS: &str = "entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency
E-1,m365-e3,C-EA,15,2024-07-01,2027-06-30,36.00,USD
E-2,visio-plan2,C-EA,4,2023-01-01,2025-12-31,15.00,USD
E-3,acrobat-pro,C-AD,6,2025-12-01,2026-11-30,239.88,USD
";

const LICENSE_KEY: &str = "VK7JG-NPHTM-C97JM-9MPGT-3V66T";
const TOKEN: &str = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";

fn inventory_inputs() -> Inputs {
    let demo = root().join("fixtures/demo");
    let page = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus", "value": [
        subscribed("SPE_E3", "05e9a617-0261-4cee-bb44-138d3ef5d965", 10, 7),
        subscribed("VISIOCLIENT", "c5928f49-12ba-48f7-ada3-0d743a3601d5", 4, 3),
        subscribed("Microsoft_365_Copilot", "639dec6b-bb19-468b-871c-c5c441c4b0cb", 5, 2)]});
    let mut i = Inputs::new();
    i.insert("exports/entra-subscribed-skus/page-1.json".into(), serde_json::to_vec(&page).unwrap());
    i.insert("bundle.json".into(), b"{}".to_vec());
    for (k, f) in [("ruleset", "ruleset.json"), ("catalog", "catalog.json")] {
        i.insert(k.into(), std::fs::read(demo.join(f)).unwrap());
    }
    i.insert("entitlements".into(), ENTITLEMENTS.as_bytes().to_vec());
    let contract = format!(
        "Adobe VIP renewal C-AD\nAcrobat Pro: 8 seats, 2025-12-01 to 2027-11-30\nAutoCAD: 2 seats, 2026-01-01 to 2026-12-31\n\
         Product key: {LICENSE_KEY}\nPortal access token {TOKEN}\nActivation {LICENSE_KEY}\n"
    );
    i.insert("contracts/adobe-vip.txt".into(), contract.into_bytes());
    i
}

fn by_type<'a>(d: &'a [Value], t: &str) -> Vec<&'a Value> {
    d.iter().filter(|x| x["type"] == t).collect()
}

#[test]
fn inventory_extractor_finds_every_discrepancy_type() {
    let inputs = inventory_inputs();
    // Without a model: the portal comparison only; the contract is not read.
    let run = run_agent(AgentName::InventoryExtractor, &operator(), &inputs, None);
    assert_eq!(run.status, "ok", "{:?}", run.steps);
    let d = run.outputs["discrepancies"].as_array().unwrap();
    assert_eq!(
        by_type(d, "quantity_differs"),
        vec![&json!({"type": "quantity_differs", "sku": "m365-e3", "source": "portal", "held": 15, "observed": 10})]
    );
    assert_eq!(by_type(d, "expired_in_use").len(), 1);
    assert_eq!(by_type(d, "expired_in_use")[0]["sku"], "visio-plan2");
    assert_eq!(by_type(d, "expired_in_use")[0]["consumed"], 3);
    assert_eq!(by_type(d, "missing_entitlement").len(), 1);
    assert_eq!(by_type(d, "missing_entitlement")[0]["sku"], "m365-copilot");
    assert_eq!(by_type(d, "missing_entitlement")[0]["observed"], 5);
    assert_eq!(d.len(), 3);
    let props = run.outputs["proposals"].as_array().unwrap();
    assert_eq!(props.len(), 1, "only the in-force quantity gets a proposal");
    assert_eq!(props[0]["kind"], "entitlement.update");
    assert_eq!(props[0]["payload"]["entitlement_id"], "E-1");
    assert_eq!(props[0]["payload"]["quantity"], 10);
    assert!(run.steps.iter().any(|s| s.step == "contract" && s.status == "skipped"));
    assert_replays(&run, &inputs);
    assert_clean(&run, &[LICENSE_KEY, TOKEN]);

    // With a model reading the contract: dates_differ and quantity_differs on
    // E-3 (one update with the contract's values), missing_entitlement for
    // AutoCAD (a create).
    let reply = json!({"entitlements": [
        {"contract_id": "C-AD", "sku": "acrobat-pro", "quantity": 8, "starts_on": "2025-12-01", "ends_on": "2027-11-30"},
        {"contract_id": "C-AD", "sku": "autocad", "quantity": 2, "starts_on": "2026-01-01", "ends_on": "2026-12-31",
         "unit_cost": "1975.00", "currency": "USD"}]});
    let mut model = ScriptedModel::from_map("m", &json!({"inventory_extractor": {"contract": reply}})).unwrap();
    let with = run_agent(AgentName::InventoryExtractor, &operator(), &inputs, Some(&mut model));
    assert_eq!(with.status, "ok", "{:?}", with.steps);
    assert_eq!(with.model_calls.len(), 1);
    let prompt = &with.model_calls[0].request.prompt;
    assert!(prompt.contains("[redacted]") && prompt.contains("Acrobat Pro: 8 seats"), "{prompt}");
    let d = with.outputs["discrepancies"].as_array().unwrap();
    let dates = by_type(d, "dates_differ");
    assert_eq!(dates.len(), 1);
    assert_eq!(dates[0]["entitlement_id"], "E-3");
    assert_eq!(dates[0]["held"], json!(["2025-12-01", "2026-11-30"]));
    assert_eq!(dates[0]["contract"], json!(["2025-12-01", "2027-11-30"]));
    assert!(by_type(d, "quantity_differs").iter().any(|x| x["entitlement_id"] == "E-3" && x["held"] == 6 && x["contract"] == 8));
    assert!(by_type(d, "missing_entitlement").iter().any(|x| x["sku"] == "autocad" && x["source"] == "contract"));
    let props = with.outputs["proposals"].as_array().unwrap();
    let doc_hash = json!([sha256(&inputs["contracts/adobe-vip.txt"]).to_prefixed()]);
    let update = props.iter().find(|p| p["kind"] == "entitlement.update" && p["payload"]["entitlement_id"] == "E-3").unwrap();
    assert_eq!(
        update["payload"],
        json!({"entitlement_id": "E-3", "sku": "acrobat-pro", "contract_id": "C-AD", "quantity": 8, "starts_on": "2025-12-01",
               "ends_on": "2027-11-30", "unit_cost": "239.88", "currency": "USD"})
    );
    assert_eq!(update["evidence"], doc_hash);
    let create = props.iter().find(|p| p["kind"] == "entitlement.create").unwrap();
    assert_eq!(create["payload"]["entitlement_id"], "C-AD/autocad");
    assert_eq!(create["payload"]["quantity"], 2);
    assert_eq!(create["evidence"], doc_hash);
    assert_eq!(props.len(), 3);
    assert_replays(&with, &inputs);
    assert_clean(&with, &[LICENSE_KEY, TOKEN]);

    // An unknown SKU or a bad date in the answer: refused, nothing built.
    let bad = json!({"entitlements": [
        {"contract_id": "C-AD", "sku": "acrobat-ultra", "quantity": 8, "starts_on": "2025-12-01", "ends_on": "30/11/2027"}]});
    let mut model = ScriptedModel::from_map("m", &json!({"inventory_extractor": {"contract": bad}})).unwrap();
    let refused = run_agent(AgentName::InventoryExtractor, &operator(), &inputs, Some(&mut model));
    assert_eq!(refused.status, "ok");
    assert_eq!(refused.model_calls.len(), 3);
    assert_eq!(steps_with(&refused, "failed", "model_output_invalid"), 3);
    let reask = &refused.model_calls[1].request.prompt;
    assert!(reask.contains("`acrobat-ultra` is not a catalog SKU") && reask.contains("ends_on: not a YYYY-MM-DD date"), "{reask}");
    assert_eq!(refused.outputs_bytes(), run.outputs_bytes());
    assert_replays(&refused, &inputs);
    assert_clean(&refused, &[LICENSE_KEY, TOKEN]);
}
