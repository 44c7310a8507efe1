//! The 90-day history (`fixtures/history-90d/`): every alert and
//! recommendation worked out by hand in its `expected.json` (39 days) and
//! the two IT-04 contract events of `expected-events.json` must come out of
//! the insight crate over the real reconciled runs.
//!
//! The packs carry the signals' `last_used_at` and the directory's
//! `last_active_at` (DESIGN C6's A7 addition), so the comparison is exact:
//! every field the fixture lists, `reclaim_inactive` and `rank` included.

use eucora_license_core::write_pack;
use eucora_license_insight::{advise, alerts, events, Event, Policy};
use serde_json::Value;

fn expected(name: &str) -> Value {
    let path = format!("{}/../fixtures/history-90d/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn pick(v: &Value, keys: &[&str]) -> Value {
    Value::Object(keys.iter().map(|k| (k.to_string(), v[*k].clone())).collect())
}

#[test]
fn the_hand_worked_expectations_hold() {
    let (mut snaps, mut packs) = (Vec::new(), Vec::new());
    eucora_license_history90::reconcile_days(eucora_license_history90::DAYS, |_, out| {
        snaps.push(out.snapshot.as_ref().unwrap().canonical_bytes().to_vec());
        packs.push(write_pack(out, Vec::new()).unwrap().0);
    })
    .unwrap();
    // The packs carry the signals' `last_used_at` (C6's A7 addition), so the
    // comparison is exact, `reclaim_inactive` included.
    let carries_last_used = packs[0].windows(14).any(|w| w == b"\"last_used_at\"");
    assert!(carries_last_used, "the history's packs carry last_used_at");
    let policy = Policy::default_policy();
    let exp = expected("expected.json");
    let days = exp.as_object().unwrap();
    assert!(days.len() >= 30);
    for (day, want) in days {
        let d: usize = day.parse().unwrap();
        let history: Vec<&[u8]> = snaps[..d].iter().map(Vec::as_slice).collect();
        let a = alerts(&history, &packs[d - 1], &policy).unwrap();
        let got: Vec<Value> =
            a.iter().map(|x| pick(&serde_json::to_value(x).unwrap(), &["type", "severity", "subject", "facts"])).collect();
        assert_eq!(Value::Array(got), want["alerts"], "day {day}: alerts");
        assert!(a.iter().all(|x| x.as_of == want["as_of"]), "day {day}: as_of");
        let r = advise(&history, &packs[d - 1], &policy).unwrap();
        let keys: &[&str] = &["rank", "type", "subject", "quantity", "amount", "annualized", "currency", "facts"];
        let got: Vec<Value> = r.iter().map(|x| pick(&serde_json::to_value(x).unwrap(), keys)).collect();
        let want: Vec<Value> = want["recommendations"].as_array().unwrap().iter().map(|v| pick(v, keys)).collect();
        assert_eq!(got, want, "day {day}: recommendations");
    }
    // The IT-04 contract events: the renewal on day 70, the purchase on day 80.
    for (day, want) in expected("expected-events.json").as_object().unwrap() {
        let d: usize = day.parse().unwrap();
        let history: Vec<&[u8]> = snaps[..d].iter().map(Vec::as_slice).collect();
        let ev = events(&history, &packs[d - 1], &policy, None, None).unwrap();
        for w in want.as_array().unwrap() {
            let event = ev
                .iter()
                .filter(|e| matches!(e, Event::Created(_) | Event::Renewed(_)))
                .find(|e| e.license_id() == w["license_id"])
                .unwrap_or_else(|| panic!("day {day}: no event for {}", w["license_id"]));
            let got = serde_json::to_value(event).unwrap();
            let text = serde_json::to_string(event).unwrap();
            assert_eq!(got["event_type"], w["event_type"]);
            for (k, v) in w.as_object().unwrap() {
                if k == "entitlement" || k == "event_type" || k == "license_id" {
                    continue;
                }
                // Money is a decimal string in the fixture, a two-place number in the payload.
                match v {
                    Value::String(s) if s.contains('.') => assert!(text.contains(&format!("\"{k}\":{s}")), "day {day}: {k} in {text}"),
                    other => assert_eq!(&got[k], other, "day {day}: {k}"),
                }
            }
        }
    }
}
