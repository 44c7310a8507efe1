//! Small chained histories built in memory with the core's `reconcile`:
//! one organisation, a three-SKU catalog, one source `src`.
#![allow(dead_code)]

use eucora_license_core::{reconcile, write_pack, Instant, MemoryBundle, RunStatus};

/// One run's inputs.
#[derive(Clone, Default)]
pub struct Run {
    /// `as_of`.
    pub as_of: String,
    /// `entitlements.csv` rows (no header).
    pub entitlements: Vec<String>,
    /// `signals/src.csv` rows (no header), see [`seat`].
    pub signals: Vec<String>,
    /// `directory.csv` rows (no header): principal_type,canonical_id,alias,status,region,bu
    pub directory: Vec<String>,
    /// `pools.csv` rows (no header): pool_id,sku,scope,quantity,reserved
    pub pools: Vec<String>,
    /// Expected sources besides `src`.
    pub also_expected: Vec<String>,
    /// The organisation.
    pub organization: Option<String>,
}

pub const CATALOG: &str = r#"{"vendors":[{"id":"acme","name":"Acme Soft"}],
 "skus":[{"id":"cad","vendor":"acme","model":"user","name":"CAD Pro","unit_cost":"100.00","currency":"USD","cost_period":"year"},
         {"id":"sub","vendor":"acme","model":"subscription","name":"Suite","unit_cost":"10.00","currency":"USD","cost_period":"month"},
         {"id":"dev","vendor":"acme","model":"device","name":"Dev Tool","unit_cost":"50.00","currency":"EUR","cost_period":"year"}]}"#;

/// Day `n` after 2026-11-01 at 06:00 UTC.
pub fn day(n: i64) -> String {
    Instant::parse("2026-11-01T06:00:00Z").unwrap().plus_days(n).to_string()
}

/// An assignment of `sku` to `user`, observed an hour before `as_of`.
pub fn seat(sku: &str, user: &str, as_of: &str) -> String {
    let at = Instant::parse(as_of).unwrap().plus_secs(-3600).to_string();
    format!("src,{sku}-{user},{at},{sku},,assignment,active,{user},,,,,,,,")
}

/// A usage of `sku` by `user` at `at`.
pub fn usage(sku: &str, user: &str, at: &str) -> String {
    format!("src,use-{sku}-{user}-{at},{at},{sku},,usage,,{user},,,,{at},,,,")
}

/// `n` seats of `sku` (users `u1@x.com`…).
pub fn seats(sku: &str, n: usize, as_of: &str) -> Vec<String> {
    (1..=n).map(|i| seat(sku, &format!("u{i}@x.com"), as_of)).collect()
}

/// An entitlement row.
pub fn ent(id: &str, sku: &str, qty: i64, ends_on: &str, cost: &str, currency: &str) -> String {
    format!("{id},{sku},C-1,{qty},2026-01-01,{ends_on},{cost},{currency}")
}

/// The bundle of one run.
pub fn bundle(r: &Run, seq: usize) -> MemoryBundle {
    let mut b = MemoryBundle::default();
    let mut expected = vec!["src".to_string()];
    expected.extend(r.also_expected.iter().cloned());
    let org = r.organization.clone().unwrap_or_else(|| "org-test".into());
    b.insert(
        "bundle.json",
        serde_json::to_vec(&serde_json::json!({"organization_id": org, "as_of": r.as_of, "run_id": format!("r{seq}"),
            "expected_sources": expected}))
        .unwrap(),
    );
    b.insert("catalog.json", CATALOG.as_bytes().to_vec());
    let mut e = String::from("entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency\n");
    for row in &r.entitlements {
        e.push_str(row);
        e.push('\n');
    }
    b.insert("entitlements.csv", e.into_bytes());
    let mut rs: serde_json::Value = serde_json::from_str(include_str!("../../../rulesets/default/v1.json")).unwrap();
    rs["sku_mappings"] = serde_json::json!([]);
    // Usage counts for a year, so a counted seat can be inactive (90 days).
    rs["lookback_days"]["usage"] = serde_json::json!(365);
    b.insert("ruleset.json", serde_json::to_vec(&rs).unwrap());
    let mut s = String::from("source,raw_id,observed_at,sku,product,kind,status,user,device_serial,device_id,device_name,last_used_at,session_start,session_end,quantity,confidence\n");
    for row in &r.signals {
        s.push_str(row);
        s.push('\n');
    }
    b.insert("signals/src.csv", s.into_bytes());
    if !r.directory.is_empty() {
        let mut d = String::from("principal_type,canonical_id,alias,status,region,bu\n");
        for row in &r.directory {
            d.push_str(row);
            d.push('\n');
        }
        b.insert("directory.csv", d.into_bytes());
    }
    if !r.pools.is_empty() {
        let mut p = String::from("pool_id,sku,scope,quantity,reserved\n");
        for row in &r.pools {
            p.push_str(row);
            p.push('\n');
        }
        b.insert("pools.csv", p.into_bytes());
    }
    b
}

/// A chained history: the snapshots' bytes (oldest first) and every pack.
pub fn chain(runs: &[Run]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut snaps, mut packs) = (Vec::new(), Vec::<Vec<u8>>::new());
    for (i, r) in runs.iter().enumerate() {
        let out = reconcile(&bundle(r, i + 1), packs.last().map(Vec::as_slice));
        assert!(out.status != RunStatus::Failed, "run {}: {:?}", i + 1, out.errors);
        snaps.push(out.snapshot.as_ref().unwrap().canonical_bytes().to_vec());
        let (pack, _) = write_pack(&out, Vec::new()).unwrap();
        packs.push(pack);
    }
    (snaps, packs)
}

/// Runs on consecutive days with `values[i]` seats of `sku` and `entitled`
/// seats entitled (ending far away).
pub fn series(sku: &str, values: &[usize], entitled: i64) -> Vec<Run> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let as_of = day(i as i64);
            Run {
                signals: seats(sku, *v, &as_of),
                entitlements: vec![ent("E-1", sku, entitled, "2030-12-31", "", "")],
                as_of,
                ..Run::default()
            }
        })
        .collect()
}

/// The slices of a history.
pub fn slices(snaps: &[Vec<u8>]) -> Vec<&[u8]> {
    snaps.iter().map(Vec::as_slice).collect()
}
