//! Golden vectors of the intelligence layer (`fixtures/golden/insight/`):
//! each case's `steps.json` (bundles, oldest first) is reconciled in
//! memory, each run chained to the previous run's pack; the alerts,
//! recommendations and IT-04 events of the history must equal
//! `expected.json` byte for byte (one line: `{"alerts","events",
//! "recommendations"}`, money in events as two-decimal numbers).
//!
//! `EUCORA_GOLDEN_BLESS=1 cargo test -p eucora-license-insight --test golden`
//! rewrites the expected files; review their diff.

use eucora_license_core::{reconcile, write_pack, MemoryBundle, RunStatus};
use eucora_license_insight::{advise, alerts, events, to_canonical, Policy};
use std::path::PathBuf;

fn cases() -> Vec<PathBuf> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/golden/insight"));
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("case.json").is_file()).collect();
    out.sort();
    out
}

/// The outputs of one case, as the expected file holds them.
fn observe(dir: &std::path::Path) -> String {
    let steps: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(dir.join("steps.json")).unwrap()).unwrap();
    let (mut snaps, mut packs) = (Vec::new(), Vec::<Vec<u8>>::new());
    for (i, s) in steps.iter().enumerate() {
        let b = MemoryBundle::from_json(s).unwrap();
        let out = reconcile(&b, packs.last().map(Vec::as_slice));
        assert!(out.status != RunStatus::Failed, "{} step {}: {:?}", dir.display(), i + 1, out.errors);
        snaps.push(out.snapshot.as_ref().unwrap().canonical_bytes().to_vec());
        packs.push(write_pack(&out, Vec::new()).unwrap().0);
    }
    let history: Vec<&[u8]> = snaps.iter().map(Vec::as_slice).collect();
    let pack = packs.last().unwrap();
    let p = Policy::default_policy();
    let a = String::from_utf8(to_canonical(&alerts(&history, pack, &p).unwrap())).unwrap();
    let r = String::from_utf8(to_canonical(&advise(&history, pack, &p).unwrap())).unwrap();
    let e = serde_json::to_string(&events(&history, pack, &p, None, None).unwrap()).unwrap();
    format!("{{\"alerts\":{a},\"events\":{e},\"recommendations\":{r}}}\n")
}

#[test]
fn golden_cases_reproduce() {
    let bless = std::env::var_os("EUCORA_GOLDEN_BLESS").is_some();
    let all = cases();
    assert!(all.len() >= 5, "the cases are missing");
    let mut covered = std::collections::BTreeSet::new();
    for dir in all {
        let got = observe(&dir);
        let file = dir.join("expected.json");
        if bless {
            std::fs::write(&file, &got).unwrap();
        }
        let want = std::fs::read_to_string(&file).unwrap_or_default();
        assert_eq!(got, want, "{}", dir.display());
        let case: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap()).unwrap();
        for c in case["covers"].as_array().unwrap() {
            let c = c.as_str().unwrap();
            assert!(
                got.contains(&format!("\"type\":\"{c}\"")) || got.contains(&format!("\"event_type\":\"{c}\"")),
                "{}: {c}",
                dir.display()
            );
            covered.insert(c.to_string());
        }
    }
    // Every alert type, recommendation type and event has a vector.
    for t in [
        "over_deployed",
        "utilization_high",
        "spike",
        "drop",
        "oscillation",
        "source_missing",
        "source_degraded",
        "source_stale",
        "identity_conflict",
        "possible_duplicate_user",
        "entitlement_expiring",
        "exhaustion_forecast",
        "purchase",
        "reassign",
        "reclaim_disabled",
        "reclaim_inactive",
        "right_size",
        "it_license_compliance_alert",
        "it_license_expiring",
        "it_license_created",
        "it_license_renewed",
    ] {
        assert!(covered.contains(t), "no golden case covers {t}");
    }
}
