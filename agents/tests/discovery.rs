//! consumption_discovery and inventory_extractor on the demo.

mod common;
use common::*;
use eucora_license_agents::{Inputs, ScriptedModel};
use eucora_license_core::AgentName;
use serde_json::{json, Value};

fn discovery_inputs() -> Inputs {
    let demo = root().join("fixtures/demo");
    let mut i = Inputs::new();
    load_dir(&mut i, "exports", &demo.join("imports"));
    for (k, f) in [("bundle.json", "bundle.json"), ("ruleset", "ruleset.json"), ("catalog", "catalog.json")] {
        i.insert(k.into(), std::fs::read(demo.join(f)).unwrap());
    }
    i
}

#[test]
fn consumption_discovery_on_the_demo() {
    let inputs = discovery_inputs();
    let run = run_agent(AgentName::ConsumptionDiscovery, &operator(), &inputs, None);
    assert_eq!(run.outputs["unmapped_products"], json!(["Autodesk Revit 2026"]));
    assert_eq!(run.status, "ok");
    assert_eq!(run.outputs["jobs"].as_array().unwrap().len(), 7);
    assert!(!run.outputs["signals"].as_array().unwrap().is_empty());
    assert_eq!(run.outputs["proposals"], json!([]), "no model, no mapping proposal");
    assert_replays(&run, &inputs);
    assert_clean(&run, &["RFNwdAIAAQAAAB86aGVpZGlAYWNtZS5jb20pVXNlcl9kYmRlOGU1NC02YTV"]);
}

#[test]
fn consumption_discovery_mapping_proposals_are_validated() {
    let inputs = discovery_inputs();
    let base = run_agent(AgentName::ConsumptionDiscovery, &operator(), &inputs, None);
    let unmapped = base.outputs["unmapped_products"].as_array().unwrap().len();
    assert!(unmapped > 0, "the demo has unmapped products");
    // An unknown SKU is re-asked twice, then dropped.
    let mut bad = ScriptedModel::from_map("m", &json!({"consumption_discovery": {"mapping": {"sku": "no-such-sku"}}})).unwrap();
    let run = run_agent(AgentName::ConsumptionDiscovery, &operator(), &inputs, Some(&mut bad));
    assert_eq!(run.model_calls.len(), 3 * unmapped);
    assert!(run.model_calls[1].request.prompt.contains("`no-such-sku` is not a catalog SKU"));
    assert_eq!(run.outputs["proposals"], json!([]));
    assert_eq!(run.outputs["signals"], base.outputs["signals"]);
    assert_replays(&run, &inputs);
    // A catalog SKU becomes a mapping.sku proposal.
    let mut good = ScriptedModel::from_map("m", &json!({"consumption_discovery": {"mapping": {"sku": "visio-plan2"}}})).unwrap();
    let run = run_agent(AgentName::ConsumptionDiscovery, &operator(), &inputs, Some(&mut good));
    let props = run.outputs["proposals"].as_array().unwrap();
    assert_eq!(props.len(), unmapped);
    for (p, prod) in props.iter().zip(base.outputs["unmapped_products"].as_array().unwrap()) {
        assert_eq!(p["kind"], "mapping.sku");
        assert_eq!(p["payload"], json!({"match": "exact", "field": "product", "value": prod, "sku": "visio-plan2"}));
    }
    assert_replays(&run, &inputs);
}

const CONTRACT: &str = "Contract MS-EA-2024-0117\nMicrosoft 365 E3: 15 seats from 2024-07-01 to 2027-12-31\n\
License key: ABCDE-12345-FGHIJ-67890-KLMNO\nActivation XYZ12-AB34C-77QQ9-PLMN0 for Visio\n";

fn inventory_inputs() -> Inputs {
    let demo = root().join("fixtures/demo");
    let mut i = Inputs::new();
    load_dir(&mut i, "exports/entra-users", &demo.join("imports/entra-users"));
    load_dir(&mut i, "exports/adobe-users", &demo.join("imports/adobe-users"));
    for (k, f) in
        [("bundle.json", "bundle.json"), ("ruleset", "ruleset.json"), ("catalog", "catalog.json"), ("entitlements", "entitlements.csv")]
    {
        i.insert(k.into(), std::fs::read(demo.join(f)).unwrap());
    }
    i.insert("contracts/ms-ea.txt".into(), CONTRACT.as_bytes().to_vec());
    i
}

#[test]
fn inventory_extractor_on_the_demo() {
    let inputs = inventory_inputs();
    let run = run_agent(AgentName::InventoryExtractor, &operator(), &inputs, None);
    assert_eq!(run.status, "ok", "{:?}", run.steps);
    assert_replays(&run, &inputs);
    // An unknown SKU makes the whole answer invalid: re-asked twice, then dropped.
    let bad = json!({"entitlements": [{"contract_id": "C", "sku": "project-plan3", "quantity": 2, "starts_on": "2024-07-01", "ends_on": "2027-12-31"}]});
    let mut m = ScriptedModel::from_map("m", &json!({"inventory_extractor": {"contract": bad}})).unwrap();
    let dropped = run_agent(AgentName::InventoryExtractor, &operator(), &inputs, Some(&mut m));
    assert_eq!(dropped.model_calls.len(), 3);
    assert_eq!(dropped.outputs, run.outputs);
    assert_replays(&dropped, &inputs);
    let reply = json!({"entitlements": [
        {"contract_id": "MS-EA-2024-0117", "sku": "m365-e3", "quantity": 15, "starts_on": "2024-07-01", "ends_on": "2027-12-31"},
        {"contract_id": "MS-EA-2024-0117", "sku": "intellij-ultimate", "quantity": 2, "starts_on": "2024-07-01", "ends_on": "2027-12-31"}]});
    let mut model = ScriptedModel::from_map("m", &json!({"inventory_extractor": {"contract": reply}})).unwrap();
    let with = run_agent(AgentName::InventoryExtractor, &operator(), &inputs, Some(&mut model));
    assert_eq!(with.status, "ok");
    let d = with.outputs["discrepancies"].as_array().unwrap();
    assert!(d.iter().any(|x| x["type"] == "dates_differ" && x["entitlement_id"] == "E-001"));
    let props = with.outputs["proposals"].as_array().unwrap();
    assert!(props.iter().any(|p| p["kind"] == "entitlement.update"
        && p["payload"]["entitlement_id"] == "E-001"
        && p["payload"]["ends_on"] == "2027-12-31"));
    assert!(d.iter().any(|x| x["type"] == "missing_entitlement" && x["sku"] == "intellij-ultimate"));
    assert!(props.iter().any(|p| p["kind"] == "entitlement.create" && p["payload"]["sku"] == "intellij-ultimate"));
    assert_replays(&with, &inputs);
    assert_clean(&with, &["ABCDE-12345-FGHIJ-67890-KLMNO", "XYZ12-AB34C-77QQ9-PLMN0"]);
    let _: Value = with.to_value();
}

#[test]
fn inventory_extractor_compares_portal_observations() {
    let demo = root().join("fixtures/demo");
    let fx = root().join("fixtures/adapters/entra-subscribed-skus");
    let mut inputs = Inputs::new();
    inputs.insert("exports/entra-subscribed-skus/subscribedSkus.json".into(), std::fs::read(fx.join("input/subscribedSkus.json")).unwrap());
    let opts: Value = serde_json::from_slice(&std::fs::read(fx.join("options.json")).unwrap()).unwrap();
    inputs.insert("bundle.json".into(), serde_json::to_vec(&json!({"adapter_options": {"entra-subscribed-skus": opts}})).unwrap());
    for (k, f) in [("ruleset", "ruleset.json"), ("catalog", "catalog.json"), ("entitlements", "entitlements.csv")] {
        inputs.insert(k.into(), std::fs::read(demo.join(f)).unwrap());
    }
    let run = run_agent(AgentName::InventoryExtractor, &operator(), &inputs, None);
    assert_eq!(run.status, "ok", "{:?}", run.steps);
    let d = run.outputs["discrepancies"].as_array().unwrap();
    assert!(d.iter().any(|x| x["type"] == "quantity_differs" && x["sku"] == "m365-e3" && x["held"] == 15 && x["observed"] == 10), "{d:?}");
    let props = run.outputs["proposals"].as_array().unwrap();
    assert!(props
        .iter()
        .any(|p| p["kind"] == "entitlement.update" && p["payload"]["entitlement_id"] == "E-001" && p["payload"]["quantity"] == 10));
    assert_replays(&run, &inputs);
    // Ended entitlements still consumed: expired_in_use.
    let csv = "entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency\nE-001,m365-e3,C1,10,2020-01-01,2021-01-01,1.00,USD\n";
    inputs.insert("entitlements".into(), csv.as_bytes().to_vec());
    let run = run_agent(AgentName::InventoryExtractor, &operator(), &inputs, None);
    let d = run.outputs["discrepancies"].as_array().unwrap();
    assert!(d.iter().any(|x| x["type"] == "expired_in_use" && x["sku"] == "m365-e3"), "{d:?}");
    assert!(d.iter().any(|x| x["type"] == "missing_entitlement" && x["sku"] == "visio-plan2"), "{d:?}");
}
