//! Property tests: the truth does not depend on the order rows arrive in, on
//! how they are split into files, on how often the run is repeated, or on
//! how many threads carry it out.
//!
//! The snapshot records each input file's exact bytes (`imports[].input_hash`),
//! so reordering rows inside a file changes that metadata — and with it the
//! snapshot hash — by design. Everything derived from the rows (per-SKU
//! records, `skus_root`, totals, coverage, exceptions, units) must not change:
//! these tests compare the snapshot with `imports` removed, plus the units and
//! exceptions, byte for byte.

use crate::common::*;
use eucora_license_core::{reconcile, reconcile_with, Outcome, RunOptions};
use proptest::prelude::*;
use serde_json::{json, Value};

const SOURCES: [&str; 5] = ["intune", "jamf", "sccm", "entra", "flexlm"];
const USERS: [&str; 7] = ["alice@acme.com", "Alice.Smith@acme.com", "ACME\\bob", "bob@acme.com", " carol@acme.com", "dave@acme.com", ""];
const SERIALS: [&str; 6] = ["PF3ABC12", "pf3 abc12", "C02XYZ", "To Be Filled By O.E.M.", "0", ""];
const DEVICE_IDS: [&str; 4] = ["AAA-1", "aaa-1", "bbb-2", ""];
const HOSTS: [&str; 5] = ["LT-0042.corp.acme.com", "lt-0042", "LT-0043", "10.0.0.7", ""];
const SKUS: [&str; 7] = ["dev", "usr", "sub", "feat", "conc", "nosuch", ""];
const PRODUCTS: [&str; 3] = ["Adobe Acrobat DC", "Unknown Thing", ""];
const KINDS: [&str; 4] = ["assignment", "installation", "usage", "session"];
const STATUSES: [&str; 4] = ["", "active", "revoked", "suspended"];
const CONFIDENCES: [&str; 5] = ["", "0.3", "0.6", "0.9", "1"];

/// One generated signal row as (column, value) pairs; raw ids are unique.
fn row_strategy() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    (
        (0..SOURCES.len(), 0..USERS.len(), 0..SERIALS.len(), 0..DEVICE_IDS.len(), 0..HOSTS.len()),
        (0..SKUS.len(), 0..PRODUCTS.len(), 0..KINDS.len(), 0..STATUSES.len(), 0..CONFIDENCES.len()),
        (-100i64 * 24..49, -40i64 * 24..0, 1i64..72, any::<bool>(), 1u32..4),
    )
        .prop_map(|((so, u, se, di, h), (sk, p, k, st, c), (obs_h, start_h, dur_h, open, q))| {
            let at = |hours: i64| {
                let base = eucora_license_core::internal::time::Instant::parse("2026-11-22T06:00:00Z").unwrap();
                base.plus_secs(hours * 3600 + 17).to_string()
            };
            let mut sku = SKUS[sk];
            if sku.is_empty() && PRODUCTS[p].is_empty() {
                sku = "dev";
            }
            let mut r = vec![
                ("source", SOURCES[so].to_string()),
                ("observed_at", at(obs_h)),
                ("sku", sku.to_string()),
                ("product", PRODUCTS[p].to_string()),
                ("kind", KINDS[k].to_string()),
                ("status", STATUSES[st].to_string()),
                ("user", USERS[u].to_string()),
                ("device_serial", SERIALS[se].to_string()),
                ("device_id", DEVICE_IDS[di].to_string()),
                ("device_name", HOSTS[h].to_string()),
                ("confidence", CONFIDENCES[c].to_string()),
            ];
            if KINDS[k] == "session" {
                r.push(("session_start", at(start_h)));
                if !open {
                    r.push(("session_end", at(start_h + dur_h)));
                }
                r.push(("quantity", q.to_string()));
            }
            r
        })
}

fn base() -> Bundle {
    Bundle::new()
        .param("expected_sources", json!(["intune", "jamf", "sccm", "entra", "flexlm"]))
        .sku("dev", "device")
        .sku("usr", "user")
        .sku("sub", "subscription")
        .feature("feat", "sub")
        .sku("conc", "concurrent")
        .entitle("dev", 3)
        .entitle("usr", 2)
        .entitle("sub", 2)
        .entitle("feat", 1)
        .entitle("conc", 4)
        .pool("p-emea,dev,region:emea,1,1")
        .pool("p-glob,dev,global,1,0")
        .dir("user,alice@acme.com,alice.smith@acme.com,active,emea,,")
        .dir("device,serial:PF3ABC12,name:LT-0042,active,emea,,")
        .rule(&["sku_mappings"], json!([{"match": "prefix", "field": "product", "value": "adobe acrobat", "sku": "dev"}]))
}

/// Build a bundle from rows: row i gets raw id `r{i}`, file assignment by `file_of`.
fn bundle_of(rows: &[(usize, Vec<(&'static str, String)>)], file_of: impl Fn(usize, &str) -> String) -> Bundle {
    let mut b = base();
    for (pos, (id, r)) in rows.iter().enumerate() {
        let raw = format!("r{id}");
        let mut fields: Vec<(&str, &str)> = r.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fields.push(("raw_id", &raw));
        let source = r[0].1.clone();
        b = b.signal_in(&file_of(pos, &source), &fields);
    }
    b
}

/// Everything derived from the rows: the snapshot without `imports` (and so
/// without its hash), the units and the exceptions.
fn derived(out: &Outcome) -> (Value, Vec<u8>, Vec<u8>) {
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let snap = out.snapshot.as_ref().unwrap();
    let mut v = snap.value().clone();
    let m = v.as_object_mut().unwrap();
    m.remove("imports");
    m.remove("snapshot_hash");
    let units: Vec<u8> = out.units.values().flatten().flatten().copied().collect();
    (v, units, out.exceptions_jsonl())
}

fn permutation(n: usize) -> impl Strategy<Value = Vec<usize>> {
    Just((0..n).collect::<Vec<_>>()).prop_shuffle()
}

/// Numbered rows (index, fields), as the generator makes them.
type NumberedRows = Vec<(usize, Vec<(&'static str, String)>)>;

fn rows_and_perm() -> impl Strategy<Value = (NumberedRows, Vec<usize>, usize)> {
    prop::collection::vec(row_strategy(), 1..60).prop_flat_map(|rows| {
        let n = rows.len();
        let rows: Vec<_> = rows.into_iter().enumerate().collect();
        (Just(rows), permutation(n), 0..=n)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn permuting_rows_changes_nothing_derived((rows, perm, _) in rows_and_perm()) {
        let a = reconcile(&bundle_of(&rows, |_, _| "all.csv".into()).build(), None);
        let shuffled: Vec<_> = perm.iter().map(|&i| rows[i].clone()).collect();
        let b = reconcile(&bundle_of(&shuffled, |_, _| "all.csv".into()).build(), None);
        prop_assert_eq!(derived(&a), derived(&b));
    }

    #[test]
    fn splitting_a_file_changes_only_import_metadata((rows, _, split) in rows_and_perm()) {
        let one = reconcile(&bundle_of(&rows, |_, _| "all.csv".into()).build(), None);
        let two = reconcile(&bundle_of(&rows, |pos, _| if pos < split { "a.csv".into() } else { "b.csv".into() }).build(), None);
        prop_assert_eq!(derived(&one), derived(&two));
        let rows_of = |o: &Outcome| -> u64 {
            o.snapshot.as_ref().unwrap().value()["imports"].as_array().unwrap().iter()
                .filter(|j| j["path"].as_str().unwrap().starts_with("signals/"))
                .map(|j| j["rows_total"].as_u64().unwrap()).sum()
        };
        prop_assert_eq!(rows_of(&one), rows_of(&two));
    }

    #[test]
    fn files_per_source_and_source_listing_order_do_not_matter((rows, _, _) in rows_and_perm()) {
        let by_source = reconcile(&bundle_of(&rows, |_, s| format!("{s}.csv")).build(), None);
        let reversed_names = reconcile(
            &bundle_of(&rows, |_, s| format!("{}-{s}.csv", 9 - SOURCES.iter().position(|x| *x == s).unwrap()))
                .param("expected_sources", json!(["flexlm", "entra", "sccm", "jamf", "intune"]))
                .build(),
            None,
        );
        prop_assert_eq!(derived(&by_source), derived(&reversed_names));
    }

    #[test]
    fn running_twice_is_byte_identical((rows, _, _) in rows_and_perm()) {
        let b = bundle_of(&rows, |_, s| format!("{s}.csv")).build();
        let (x, y) = (reconcile(&b, None), reconcile(&b, None));
        let (sx, sy) = (x.snapshot.unwrap(), y.snapshot.unwrap());
        prop_assert_eq!(sx.canonical_bytes(), sy.canonical_bytes());
        prop_assert_eq!(x.report.to_json(), y.report.to_json());
        prop_assert_eq!(x.exceptions, y.exceptions);
    }

    /// DESIGN Part B: data parallelism merges in a fixed order, so 1, 2 and
    /// 3 threads give the same snapshot, report, exceptions, units and pack,
    /// byte for byte — chained to a previous run too (the unit-level diff).
    /// Not keeping the units changes nothing but `units`.
    #[test]
    fn every_thread_count_gives_the_same_bytes((rows, _, split) in rows_and_perm()) {
        let b = bundle_of(&rows, |_, s| format!("{s}.csv")).build();
        let with = |threads: usize, previous: Option<&[u8]>| {
            reconcile_with(&b, previous, &RunOptions::with_threads(threads).unwrap())
        };
        let one = with(1, None);
        prop_assert!(one.errors.is_empty(), "{:?}", one.errors);
        let (pack_one, _) = eucora_license_core::internal::evidence::write_pack(&one, Vec::new()).unwrap();
        // A second run chained to the first one's pack, on the first `split` rows.
        let b2 = bundle_of(&rows[..split], |_, s| format!("{s}.csv")).build();
        let chained = |threads: usize| reconcile_with(&b2, Some(&pack_one), &RunOptions::with_threads(threads).unwrap());
        let chained_one = chained(1);
        for threads in [2, 3] {
            let other = with(threads, None);
            prop_assert_eq!(one.snapshot.as_ref().unwrap().canonical_bytes(), other.snapshot.as_ref().unwrap().canonical_bytes());
            prop_assert_eq!(one.report.to_json(), other.report.to_json());
            prop_assert_eq!(one.exceptions_jsonl(), other.exceptions_jsonl());
            prop_assert_eq!(&one.units, &other.units);
            let (pack, _) = eucora_license_core::internal::evidence::write_pack(&other, Vec::new()).unwrap();
            prop_assert!(pack == pack_one, "the evidence pack differs with {} threads", threads);
            let c = chained(threads);
            prop_assert_eq!(chained_one.snapshot.as_ref().map(|s| s.canonical_bytes()), c.snapshot.as_ref().map(|s| s.canonical_bytes()));
            prop_assert_eq!(chained_one.report.to_json(), c.report.to_json());
            prop_assert_eq!(&chained_one.units, &c.units);
            prop_assert_eq!(chained_one.exceptions_jsonl(), c.exceptions_jsonl());
        }
        // Without keeping the units: the same snapshot, report and
        // exceptions (chained too: the unit-level diff still sees them), no
        // units, and no pack.
        for (full, b, previous) in [(&one, &b, None), (&chained_one, &b2, Some(pack_one.as_slice()))] {
            let lean = reconcile_with(b, previous, &RunOptions::with_threads(2).unwrap().without_units());
            prop_assert_eq!(full.snapshot.as_ref().unwrap().canonical_bytes(), lean.snapshot.as_ref().unwrap().canonical_bytes());
            prop_assert_eq!(full.report.to_json(), lean.report.to_json());
            prop_assert_eq!(full.exceptions_jsonl(), lean.exceptions_jsonl());
            prop_assert!(full.has_units() && !lean.has_units() && lean.units.is_empty());
            prop_assert!(eucora_license_core::internal::evidence::write_pack(&lean, Vec::new()).is_err());
        }
    }

    #[test]
    fn every_pack_verifies_by_replay((rows, _, _) in rows_and_perm()) {
        let out = reconcile(&bundle_of(&rows, |_, s| format!("{s}.csv")).build(), None);
        let (pack, _) = eucora_license_core::internal::evidence::write_pack(&out, Vec::new()).unwrap();
        let report = eucora_license_core::internal::evidence::verify(&pack, None);
        prop_assert!(report.ok, "{:?}", report.checks.iter().filter(|c| c.status == "failed").collect::<Vec<_>>());
    }

    #[test]
    fn identical_duplicates_collapse((rows, _, _) in rows_and_perm()) {
        let once = reconcile(&bundle_of(&rows, |_, _| "a.csv".into()).build(), None);
        let mut twice_rows = rows.clone();
        twice_rows.extend(rows.iter().cloned());
        let twice = reconcile(&bundle_of(&twice_rows, |pos, _| if pos < rows.len() { "a.csv".into() } else { "b.csv".into() }).build(), None);
        let (mut d1, u1, e1) = derived(&once);
        let (mut d2, u2, e2) = derived(&twice);
        // Coverage counts accepted rows, collapsed duplicates included: compare the rest.
        d1.as_object_mut().unwrap().remove("coverage");
        d2.as_object_mut().unwrap().remove("coverage");
        d1.as_object_mut().unwrap().remove("health");
        d2.as_object_mut().unwrap().remove("health");
        d1.as_object_mut().unwrap().remove("health_reasons");
        d2.as_object_mut().unwrap().remove("health_reasons");
        prop_assert_eq!((d1, u1, e1), (d2, u2, e2));
    }
}

#[test]
fn snapshot_hash_is_stable_across_listing_order_of_files() {
    // The same files given in any listing order give the same bytes.
    let rows: Vec<(usize, Vec<(&'static str, String)>)> = vec![];
    let b = bundle_of(&rows, |_, _| "x.csv".into())
        .signal_in(
            "b.csv",
            &[
                ("source", "jamf"),
                ("raw_id", "1"),
                ("observed_at", "2026-11-21T00:00:00Z"),
                ("sku", "dev"),
                ("kind", "installation"),
                ("device_serial", "X1"),
            ],
        )
        .signal_in(
            "a.csv",
            &[
                ("source", "intune"),
                ("raw_id", "1"),
                ("observed_at", "2026-11-21T00:00:00Z"),
                ("sku", "dev"),
                ("kind", "installation"),
                ("device_serial", "x1"),
            ],
        );
    let out = b.run();
    let snap = out.snapshot.unwrap();
    assert_eq!(snap.sku_json("dev").unwrap()["consumed"], 1);
    let again = b.run().snapshot.unwrap();
    assert_eq!(snap.canonical_bytes(), again.canonical_bytes());
}
