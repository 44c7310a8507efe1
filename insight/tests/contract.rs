//! The contract's errors (C6 order and indices), the chain properties, and
//! the IT-04 payloads (C4) field for field.

mod common;
use common::*;
use eucora_license_insight::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// Snapshots and packs of a chain.
type Chain = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// A four-run chain, built once.
fn four() -> &'static Chain {
    static C: OnceLock<Chain> = OnceLock::new();
    C.get_or_init(|| chain(&series("cad", &[1, 2, 3, 4], 10)))
}

fn err(history: &[&[u8]], pack: &[u8]) -> InsightError {
    alerts(history, pack, &Policy::default_policy()).unwrap_err()
}

#[test]
fn chain_broken_names_the_first_bad_link() {
    let (s, p) = four();
    let e = err(&[&s[0], &s[2], &s[1], &s[3]], &p[3]);
    assert_eq!((e.code, e.index), (InsightCode::ChainBroken, Some(2)));
    let e = err(&[&s[0], &s[2], &s[3]], &p[3]);
    assert_eq!((e.code, e.index), (InsightCode::ChainBroken, Some(2)));
    // A snapshot whose bytes were edited does not verify.
    let mut bad = s[1].clone();
    let at = bad.windows(10).position(|w| w == b"\"consumed\"").unwrap() + 11;
    bad[at] = if bad[at] == b'9' { b'8' } else { b'9' };
    let e = err(&[&s[0], &bad, &s[2], &s[3]], &p[3]);
    assert_eq!((e.code, e.index), (InsightCode::ChainBroken, Some(2)));
    // The first may start mid-chain.
    assert!(alerts(&[&s[1], &s[2], &s[3]], &p[3], &Policy::default_policy()).is_ok());
}

#[test]
fn another_organisation_breaks_the_chain() {
    let (s, _) = four();
    let mut other = series("cad", &[1], 10);
    other[0].organization = Some("org-other".into());
    let (o, op) = chain(&other);
    let e = err(&[&s[3], &o[0]], &op[0]);
    assert_eq!((e.code, e.index), (InsightCode::ChainBroken, Some(2)));
}

#[test]
fn pack_errors_come_after_the_chain() {
    let (s, p) = four();
    let e = err(&[&s[0], &s[1]], &p[0]);
    assert_eq!((e.code, e.index), (InsightCode::PackMismatch, Some(2)));
    let mut bad = p[1].clone();
    let n = bad.len();
    bad[n / 2] ^= 1;
    let e = err(&[&s[0], &s[1]], &bad);
    assert_eq!((e.code, e.index), (InsightCode::PackInvalid, Some(2)));
    // chain_broken wins over a bad pack.
    let e = err(&[&s[1], &s[0]], &bad);
    assert_eq!(e.code, InsightCode::ChainBroken);
    let j: Value = serde_json::from_str(&e.to_json()).unwrap();
    assert_eq!(j["error"]["code"], "chain_broken");
    assert_eq!(j["error"]["index"], 2);
}

#[test]
fn an_invalid_policy_is_located() {
    let mut doc: Value = serde_json::from_str(DEFAULT_POLICY).unwrap();
    doc["alerts"]["spike_percent"] = json!("25");
    let e = Policy::parse(&serde_json::to_vec(&doc).unwrap(), "p.json").unwrap_err();
    assert_eq!((e.code, e.index), (InsightCode::InvalidPolicy, None));
    assert!(e.message.contains("$.alerts.spike_percent"), "{}", e.message);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn reordering_or_dropping_a_snapshot_is_chain_broken(perm in Just(vec![0usize, 1, 2, 3]).prop_shuffle(), drop in 1usize..3) {
        let (s, p) = four();
        let order: Vec<&[u8]> = perm.iter().map(|i| s[*i].as_slice()).collect();
        let r = alerts(&order, &p[perm[3]], &Policy::default_policy());
        if perm == vec![0, 1, 2, 3] {
            prop_assert!(r.is_ok());
        } else {
            prop_assert_eq!(r.unwrap_err().code, InsightCode::ChainBroken);
        }
        let mut kept: Vec<&[u8]> = s.iter().map(Vec::as_slice).collect();
        kept.remove(drop);
        prop_assert_eq!(alerts(&kept, &p[3], &Policy::default_policy()).unwrap_err().code, InsightCode::ChainBroken);
    }
}

#[test]
fn license_ids_are_uuid_v5_in_the_url_namespace() {
    assert_eq!(license_uuid("org-acme", None), "5dfd56b9-0471-5ed4-9b28-3c0ad6628203");
    assert_eq!(license_uuid("org-acme", Some(("sku", "autocad"))), "5375a684-ebde-592a-a081-3f6ddbcad39f");
}

#[test]
fn compliance_rows_like_it_check_license_compliance() {
    let (s, p) = chain(&series("cad", &[3], 2));
    let rows = compliance_check(&s[0], &p[0], None, None).unwrap();
    assert_eq!(rows.iter().map(|r| r.software_name.clone().unwrap()).collect::<Vec<_>>(), ["CAD Pro", "Dev Tool", "Suite"]);
    let text = serde_json::to_string(&rows[0]).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"compliance_status":"over_deployed","license_count":2,"license_id":"{}","software_name":"CAD Pro","usage_count":3,"variance":-1,"variance_percent":-50.00}}"#,
            license_uuid("org-test", Some(("sku", "cad")))
        )
    );
    assert!(text.contains(r#""variance_percent":-50.00"#), "two decimals, a number");
    let one = compliance_check(&s[0], &p[0], None, Some(&rows[1].license_id.to_uppercase())).unwrap();
    assert_eq!(one, vec![rows[1].clone()]);
    assert!(compliance_check(&s[0], &p[0], None, Some("00000000-0000-0000-0000-000000000000")).unwrap().is_empty());
    assert_eq!(rows[1].variance_percent, None);
}

#[test]
fn events_created_renewed_expiring_and_compliance() {
    let mut runs = series("cad", &[1, 3], 2);
    runs[0].entitlements = vec![ent("E-1", "cad", 2, "2026-11-20", "100.00", "USD")];
    runs[1].entitlements = vec![ent("E-1", "cad", 2, "2027-11-20", "110.00", "USD"), ent("E-2", "sub", 4, "2026-11-10", "", "")];
    let (s, p) = chain(&runs);
    let ev = events(&slices(&s), &p[1], &Policy::default_policy(), None, Some("actor-1")).unwrap();
    let text: Vec<String> = ev.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    let types: Vec<&str> = ev.iter().map(Event::event_type).collect();
    assert_eq!(types, ["it_license_compliance_alert", "it_license_created", "it_license_expiring", "it_license_renewed"], "{text:#?}");
    let org = "\"organization_id\":\"".to_string() + &license_uuid("org-test", None) + "\"";
    assert!(text.iter().all(|t| t.contains(&org)));
    assert!(text[0].contains(r#""threshold_breached":"critical""#) && text[0].contains(r#""compliance_status":"over_deployed""#));
    let created: Value = serde_json::from_str(&text[1]).unwrap();
    assert_eq!(created["license_id"], json!("3c3e8e02-a34d-5ef9-b0bb-aafd0f7e0bb6"));
    assert_eq!(created["license_type"], "subscription");
    assert_eq!(created["software_vendor"], "Acme Soft");
    assert!(text[1].contains(r#""cost_per_license":10.00"#) && text[1].contains(r#""total_cost":40.00"#), "{}", text[1]);
    assert_eq!(created["purchase_date"], "2026-01-01");
    assert!(text[2].contains(r#""renewal_cost":40.00"#) && text[2].contains(r#""days_remaining":8"#), "{}", text[2]);
    assert!(text[3].contains(r#""old_expiration_date":"2026-11-20","#) && text[3].contains(r#""renewal_cost":220.00"#), "{}", text[3]);
    assert!(text[3].contains(r#""renewed_by":"actor-1""#) && text[3].contains(r#""renewal_date":"2026-11-02""#));
    assert!(text.iter().all(|t| !t.contains("license_key") && !t.contains("vendor_id")));
    // Without a previous pack (a single run), nothing is created or renewed.
    let single = events(&[&s[0]], &p[0], &Policy::default_policy(), None, None).unwrap();
    assert!(single.iter().all(|e| !matches!(e, Event::Created(_) | Event::Renewed(_))));
}
