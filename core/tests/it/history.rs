//! `fixtures/demo-history`: three runs of the demo estate, chained through
//! their evidence packs. Each step's diff and explanation are the ones
//! `fixtures/demo-history/EXPECTED.md` works out by hand.

use crate::common::SkuJson;
use eucora_license_core::explain;
use eucora_license_core::internal::evidence::{verify, write_pack};
use eucora_license_core::{reconcile, Outcome, RunStatus};
use serde_json::{json, Value};

fn step(n: usize, previous: Option<&Outcome>) -> Outcome {
    let pack = previous.map(|p| write_pack(p, Vec::new()).expect("pack").0);
    let out = reconcile(&crate::common::load_fixture(&format!("demo-history/step-{n}")), pack.as_deref());
    assert!(out.errors.is_empty(), "step {n}: {:?}", out.errors);
    out
}

fn history() -> [Outcome; 3] {
    let one = step(1, None);
    let two = step(2, Some(&one));
    let three = step(3, Some(&two));
    [one, two, three]
}

/// The diff entries of a run as (sku, added, removed, entitlements).
fn diffs(out: &Outcome) -> Vec<(String, Value, Value, Value)> {
    out.snapshot.as_ref().unwrap().value()["diff"]["skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["sku"].as_str().unwrap().to_string(), d["added"].clone(), d["removed"].clone(), d["entitlements"].clone()))
        .collect()
}

fn why(prev: &Outcome, cur: &Outcome, sku: &str) -> String {
    explain(prev.snapshot.as_ref().unwrap(), cur.snapshot.as_ref().unwrap(), cur.diff.as_ref(), sku).unwrap()
}

#[test]
fn step_two_new_devices_a_revocation_and_contract_changes() {
    let [one, two, _] = history();
    assert_eq!(two.status, RunStatus::Ok);
    assert_eq!(
        diffs(&two),
        vec![
            ("acrobat-pro".into(), json!({"new_signal": 2}), json!({}), json!({"entitlement_ended": -6, "entitlement_started": 6})),
            ("m365-copilot".into(), json!({}), json!({"revoked": 1}), json!({"quantity_changed": 3})),
            ("m365-e3".into(), json!({"new_signal": 1}), json!({}), json!({})),
        ]
    );
    assert_eq!(
        why(&one, &two, "acrobat-pro"),
        "acrobat-pro (device): consumed 8 → 10 (+2); entitled 10 → 10 (±0); remaining 0 → 0 (±0).\n\
         +2 devices: 2 newly reported by intune 1, sccm 1.\n\
         Entitled ±0: −6 entitlement ended (E-005 −6); +6 entitlement started (E-013 +6)."
    );
    assert_eq!(
        why(&one, &two, "m365-copilot"),
        "m365-copilot (feature): consumed 3 → 2 (−1); entitled 5 → 8 (+3); remaining 2 → 6 (+4).\n\
         −1 user: 1 assignment revoked or suspended.\n\
         Entitled +3: +3 quantity changed (E-002 +3)."
    );
    // oscar's assignment was dated after step 1's as_of (a future signal then).
    assert!(why(&one, &two, "m365-e3").ends_with("+1 user: 1 newly reported by entra."));
}

#[test]
fn step_three_a_merged_device_and_a_missing_source() {
    let [_, two, three] = history();
    assert_eq!(three.status, RunStatus::Degraded);
    assert_eq!(
        diffs(&three),
        vec![
            ("acrobat-pro".into(), json!({}), json!({"merged_identity": 1}), json!({})),
            ("matlab-concurrent".into(), json!({}), json!({"source_missing": 5}), json!({})),
            ("simulink-concurrent".into(), json!({}), json!({"source_missing": 2}), json!({})),
        ]
    );
    let snap = three.snapshot.as_ref().unwrap();
    assert_eq!(
        snap.value()["diff"]["coverage_gaps"],
        json!([{"source": "flexlm", "status": "missing", "skus": ["matlab-concurrent", "simulink-concurrent"]}])
    );
    assert_eq!(snap.sku_json("matlab-concurrent").unwrap()["consumed"], 1); // SCCM's metered MATLAB session remains
    assert!(why(&two, &three, "acrobat-pro").ends_with("−1 device: 1 merged into another identity."));
    assert!(why(&two, &three, "matlab-concurrent").ends_with("−5 tokens at the peak: 5 source flexlm sent nothing this run."));
}

#[test]
fn every_step_verifies_against_its_predecessor() {
    let [one, two, three] = history();
    for (prev, cur) in [(&one, &two), (&two, &three)] {
        let pack = write_pack(cur, Vec::new()).unwrap().0;
        let report = verify(&pack, Some(prev.snapshot.as_ref().unwrap().canonical_bytes()));
        assert!(report.ok, "{:?}", report.first_failure);
        assert_eq!(cur.snapshot.as_ref().unwrap().sequence(), prev.snapshot.as_ref().unwrap().sequence() + 1);
    }
}
