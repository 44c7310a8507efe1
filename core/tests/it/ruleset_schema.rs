//! `rulesets/schema/ruleset.schema.json` describes what the validator accepts:
//! the same required keys at every level, the same enumerations, and the
//! same confidence literals.

use eucora_license_core::internal::ruleset::validate;
use serde_json::{json, Value};

fn schema() -> Value {
    serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../rulesets/schema/ruleset.schema.json"))).unwrap()
}

fn default_doc() -> Value {
    serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../rulesets/default/v1.json"))).unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().filter(|k| !k.starts_with('$') && *k != "description").cloned().collect();
    k.sort();
    k
}

fn required(s: &Value) -> Vec<String> {
    let mut r: Vec<String> = s["required"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
    r.sort();
    r
}

#[test]
fn required_keys_match_the_validator_at_every_level() {
    let s = schema();
    let d = default_doc();
    assert_eq!(required(&s), keys(&d));
    for nested in ["lookback_days", "identity", "concurrent"] {
        assert_eq!(required(&s["properties"][nested]), keys(&d[nested]), "{nested}");
        assert_eq!(s["properties"][nested]["additionalProperties"], json!(false));
    }
    assert_eq!(s["additionalProperties"], json!(false));
    // Removing any required key is an error for the validator too.
    for k in required(&s) {
        let mut doc = d.clone();
        doc.as_object_mut().unwrap().remove(&k);
        assert!(validate(&doc, None).is_err(), "{k}");
    }
}

#[test]
fn confidence_pattern_agrees_with_the_validator() {
    let pattern = schema()["$defs"]["confidence"]["pattern"].as_str().unwrap().to_string();
    let re = regex::Regex::new(&pattern).unwrap();
    let samples = [
        "0",
        "1",
        "0.5",
        ".5",
        "+.5",
        "+1",
        "-0",
        "-0.0",
        "00.30",
        "1.000",
        "1.0000000001",
        "1.000000001",
        "1.01",
        "2",
        "-0.1",
        "-.0000000001",
        "1.",
        "",
        "1e0",
        "0,5",
        " 0.5",
        "0.99999999999",
        "10",
        "01",
        "-1",
    ];
    for s in samples {
        let mut doc = default_doc();
        doc["min_confidence"] = json!(s);
        let accepted = validate(&doc, None).is_ok();
        assert_eq!(re.is_match(s), accepted, "`{s}`: schema vs validator");
    }
}

#[test]
fn enumerations_match_the_validator() {
    let s = schema();
    let groups = s["properties"]["concurrent"]["properties"]["dup_group"]["enum"].as_array().unwrap().clone();
    for g in ["none", "user", "user_host", "host", "USER"] {
        let mut doc = default_doc();
        doc["concurrent"]["dup_group"] = json!(g);
        assert_eq!(groups.contains(&json!(g)), validate(&doc, None).is_ok(), "{g}");
    }
    let matches = s["properties"]["sku_mappings"]["items"]["properties"]["match"]["enum"].as_array().unwrap().clone();
    for m in ["exact", "prefix", "regex"] {
        let mut doc = default_doc();
        doc["sku_mappings"] = json!([{"match": m, "field": "product", "value": "x", "sku": "y"}]);
        assert_eq!(matches.contains(&json!(m)), validate(&doc, None).is_ok(), "{m}");
    }
}
