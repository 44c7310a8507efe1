//! Evidence packs as an attacker writes them (issue 10, defects 5 and 6):
//! every byte hostile, every hash recomputed so that the forgery reaches the
//! replay. Verification must never panic, must refuse members the contract
//! does not define (with bounded work), and must recompute every derived
//! artifact, naming the first that differs.

use crate::common::*;
use eucora_license_core::internal::evidence::{replay_pack, verify, verify_using, VerifyReport};
use eucora_license_core::internal::hash::{sha256, tagged, Domain};
use eucora_license_core::internal::tar::{self, TarWriter};
use eucora_license_core::{internal::canonical, reconcile};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The demo pack, written once for every test of this file.
pub(crate) fn demo_pack() -> &'static [u8] {
    static PACK: OnceLock<Vec<u8>> = OnceLock::new();
    PACK.get_or_init(|| eucora_license_core::internal::evidence::write_pack(&demo(), Vec::new()).unwrap().0)
}

/// The members of a pack, in order.
pub(crate) fn members(pack: &[u8]) -> Vec<(String, Vec<u8>)> {
    tar::read(pack).unwrap().into_iter().map(|e| (e.name, e.data.to_vec())).collect()
}

/// Re-archive `files` the way `write_pack` does: every artifact's size and
/// SHA-256 recomputed into the manifest (which lists every member but
/// itself), the pack hash recomputed, names in byte order.
pub(crate) fn repack(mut files: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut manifest: Value = files
        .iter()
        .find(|f| f.0 == "manifest.json")
        .map(|f| serde_json::from_slice(&f.1).unwrap())
        .unwrap_or_else(|| json!({"schema": "eucora.license.pack/v1", "snapshot_hash": ""}));
    manifest["artifacts"] = files
        .iter()
        .filter(|f| f.0 != "manifest.json")
        .map(|(n, d)| json!({"name": n, "size": d.len(), "sha256": sha256(d).to_prefixed()}))
        .collect();
    let mut body = manifest.clone();
    body.as_object_mut().unwrap().remove("pack_hash");
    manifest["pack_hash"] = json!(tagged(Domain::Pack, &canonical::to_vec(&body).unwrap()).to_prefixed());
    let manifest = canonical::to_vec(&manifest).unwrap();
    match files.iter_mut().find(|f| f.0 == "manifest.json") {
        Some(f) => f.1 = manifest,
        None => files.push(("manifest.json".into(), manifest)),
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut w = TarWriter::new(Vec::new());
    for (n, d) in &files {
        w.append(n, d).unwrap();
    }
    w.finish().unwrap()
}

/// The demo pack with one member rewritten and every hash recomputed.
fn forge(name: &str, edit: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut files = members(demo_pack());
    let f = files.iter_mut().find(|f| f.0 == name).unwrap_or_else(|| panic!("no member {name}"));
    f.1 = edit(&f.1);
    repack(files)
}

/// Verify without the safety net of `verify` (which catches a panicking
/// replay): the replay is called as a host calls it, and a panic anywhere
/// fails the test.
fn verify_bare(pack: &[u8]) -> VerifyReport {
    std::panic::catch_unwind(|| verify_using(pack, None, || replay_pack(pack))).expect("verification panicked")
}

fn failed_check(r: &VerifyReport, name: &str) -> String {
    assert!(!r.ok, "verified: {:#?}", r.checks);
    assert_eq!(r.first_failure.as_deref(), Some(name), "{:#?}", r.checks.iter().filter(|c| c.status == "failed").collect::<Vec<_>>());
    r.checks.iter().find(|c| c.status == "failed").unwrap().detail.clone()
}

fn jsonl(lines: &[Value]) -> Vec<u8> {
    lines.iter().flat_map(|v| canonical::to_vec(v).unwrap().into_iter().chain([b'\n'])).collect()
}

fn parse_lines(b: &[u8]) -> Vec<Value> {
    b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect()
}

#[test]
fn the_untouched_demo_pack_verifies_through_the_repacker() {
    // The forgery helper itself writes what write_pack writes.
    assert_eq!(repack(members(demo_pack())), demo_pack());
    assert!(verify_bare(demo_pack()).ok);
}

// ---------------------------------------------------------------------------------------------
// Defect 5: a crafted pack panicked the core.

/// `imports.json` emptied, plus two different signals with one (source,
/// raw_id): the replay used to index past the empty job list while
/// reporting the conflict (counters.rs, `order_locations`). Now the replay
/// refuses a signal whose import job is not listed, before the engine runs.
#[test]
fn empty_imports_and_a_conflicting_duplicate_fail_verification_without_a_panic() {
    let mut files = members(demo_pack());
    for f in files.iter_mut() {
        if f.0 == "imports.json" {
            f.1 = b"[]".to_vec();
        }
        if f.0 == "signals.jsonl" {
            let mut lines = parse_lines(&f.1);
            let mut twin = lines[0].clone();
            twin["observed_at"] = json!("2026-01-02T03:04:05Z");
            twin["line"] = json!(999_999);
            lines.insert(1, twin);
            f.1 = jsonl(&lines);
        }
    }
    let pack = repack(files);
    let detail = failed_check(&verify_bare(&pack), "replay");
    assert!(detail.contains("import job"), "{detail}");
    // The public entry points neither panic nor pass.
    assert!(std::panic::catch_unwind(|| replay_pack(&pack)).expect("replay_pack panicked").is_err());
    assert!(!verify(&pack, None).ok);
}

/// The same conflicting duplicate with the jobs intact is a conflict the run
/// would have failed closed on: a failed report, no panic.
#[test]
fn a_conflicting_duplicate_with_its_jobs_fails_verification() {
    let pack = forge("signals.jsonl", |b| {
        let mut lines = parse_lines(b);
        let mut twin = lines[0].clone();
        twin["observed_at"] = json!("2026-01-02T03:04:05Z");
        lines.insert(1, twin);
        jsonl(&lines)
    });
    failed_check(&verify_bare(&pack), "replay");
}

#[test]
fn a_signal_without_a_job_or_with_an_unknown_one_is_refused() {
    for job in [Value::Null, json!("job-0000000000000000")] {
        let pack = forge("signals.jsonl", |b| {
            let mut lines = parse_lines(b);
            match &job {
                Value::Null => {
                    lines[0].as_object_mut().unwrap().remove("job");
                }
                j => lines[0]["job"] = j.clone(),
            }
            jsonl(&lines)
        });
        let detail = failed_check(&verify_bare(&pack), "replay");
        assert!(detail.contains("signals.jsonl line 1"), "{detail}");
    }
}

// ---------------------------------------------------------------------------------------------
// Defect 6: derived artifacts rewritten with their hashes recomputed.

#[test]
fn rewritten_exceptions_are_caught_by_the_replay() {
    let pack = forge("exceptions.jsonl", |b| {
        let lines = parse_lines(b);
        assert!(lines.len() > 1, "the demo has exceptions");
        jsonl(&lines[1..])
    });
    let detail = failed_check(&verify_bare(&pack), "replay");
    assert!(detail.contains("`exceptions.jsonl`"), "{detail}");
    // An emptied list too.
    let detail = failed_check(&verify_bare(&forge("exceptions.jsonl", |_| Vec::new())), "replay");
    assert!(detail.contains("`exceptions.jsonl`"), "{detail}");
}

#[test]
fn a_rewritten_run_report_is_caught_by_the_replay() {
    for edit in ["status", "exceptions", "health_reasons", "run_id", "extra"] {
        let pack = forge("run_report.json", |b| {
            let mut r: Value = serde_json::from_slice(b).unwrap();
            match edit {
                "status" => r["status"] = json!("failed"),
                "exceptions" => r["exceptions"] = json!({}),
                "health_reasons" => r["health_reasons"] = json!(["source_missing:jamf"]),
                "run_id" => r["run_id"] = json!("another-run"),
                _ => r["note"] = json!("all good"),
            }
            canonical::to_vec(&r).unwrap()
        });
        let detail = failed_check(&verify_bare(&pack), "replay");
        assert!(detail.contains("`run_report.json`"), "{edit}: {detail}");
    }
}

#[test]
fn a_rewritten_diff_is_caught_by_the_replay() {
    // A first run has no diff (`null`); a chained run's diff is checked the same way.
    let pack = forge("diff.json", |_| br#"{"basis":"units","skus":[]}"#.to_vec());
    let detail = failed_check(&verify_bare(&pack), "replay");
    assert!(detail.contains("`diff.json`"), "{detail}");

    let dir = fixtures().join("demo-history");
    let first = reconcile(&load_dir(&dir.join("step-1")), None);
    let first_pack = eucora_license_core::internal::evidence::write_pack(&first, Vec::new()).unwrap().0;
    let second = reconcile(&load_dir(&dir.join("step-2")), Some(&first_pack));
    let pack = eucora_license_core::internal::evidence::write_pack(&second, Vec::new()).unwrap().0;
    assert!(verify_bare(&pack).ok);
    let mut files = members(&pack);
    let diff = files.iter_mut().find(|f| f.0 == "diff.json").unwrap();
    let mut d: Value = serde_json::from_slice(&diff.1).unwrap();
    let skus = d["skus"].as_array_mut().unwrap();
    let changed = skus.iter_mut().find(|s| s["added"].as_array().is_some_and(|a| !a.is_empty())).expect("a SKU with added units");
    changed["added"][0]["reason"] = json!("merged_identity");
    diff.1 = canonical::to_vec(&d).unwrap();
    let detail = failed_check(&verify_bare(&repack(files)), "replay");
    assert!(detail.contains("`diff.json`"), "{detail}");
}

#[test]
fn inputs_must_be_in_the_form_the_run_writes() {
    // A signal line carrying a field the normalised form does not have.
    let pack = forge("signals.jsonl", |b| {
        let mut lines = parse_lines(b);
        lines[0]["license_key"] = json!("LK-SMUGGLED");
        jsonl(&lines)
    });
    let detail = failed_check(&verify_bare(&pack), "replay");
    assert!(detail.contains("`signals.jsonl`"), "{detail}");
    // Master data re-rendered differently (not canonical).
    let pack = forge("pools.json", |b| {
        let mut v = b.to_vec();
        v.push(b' ');
        v
    });
    let detail = failed_check(&verify_bare(&pack), "replay");
    assert!(detail.contains("`pools.json`"), "{detail}");
}

#[test]
fn import_jobs_are_checked_against_the_signals() {
    let edit = |f: fn(&mut Value)| {
        forge("imports.json", move |b| {
            let mut v: Value = serde_json::from_slice(b).unwrap();
            let job = v.as_array_mut().unwrap().iter_mut().find(|j| j["path"].as_str().unwrap().starts_with("signals/")).unwrap();
            f(job);
            canonical::to_vec(&v).unwrap()
        })
    };
    type Edit = fn(&mut Value);
    let cases: [(Edit, &str); 4] = [
        (|j| j["rows_accepted"] = json!(j["rows_accepted"].as_u64().unwrap() + 1), "accepted"),
        (|j| j["job_id"] = json!("job-0123456789abcdef"), "job_id"),
        (|j| j["input_hash"] = json!(format!("sha256:{}", "0".repeat(64))), "job_id"),
        (|j| j["secret"] = json!("x"), "fields"),
    ];
    for (f, want) in cases {
        let detail = failed_check(&verify_bare(&edit(f)), "replay");
        assert!(detail.contains("imports.json") && detail.contains(want), "{detail}");
    }
}

#[test]
fn members_the_contract_does_not_define_are_refused() {
    for name in ["../evil.txt", "/etc/cron.d/evil", "notes.txt", "signals/extra.jsonl", "manifest.json.bak", "Snapshot.json"] {
        let mut files = members(demo_pack());
        files.push((name.to_string(), b"hello".to_vec()));
        let pack = repack(files);
        let detail = failed_check(&verify_bare(&pack), "archive");
        assert!(detail.contains("not one an evidence pack holds"), "{name}: {detail}");
        assert!(replay_pack(&pack).is_err(), "{name}");
    }
}

#[test]
fn a_manifest_with_fields_the_contract_does_not_define_is_refused() {
    let mut files = members(demo_pack());
    let m = files.iter_mut().find(|f| f.0 == "manifest.json").unwrap();
    let mut v: Value = serde_json::from_slice(&m.1).unwrap();
    v["signed_by"] = json!("the auditor");
    m.1 = canonical::to_vec(&v).unwrap();
    failed_check(&verify_bare(&repack(files)), "manifest");
}

/// 100 000 junk members, all listed in a recomputed manifest: refused at the
/// first, without reading the rest.
#[test]
fn a_hundred_thousand_junk_members_are_refused_quickly() {
    let mut files = members(demo_pack());
    files.extend((0..100_000).map(|i| (format!("zz-junk-{i:06}"), Vec::new())));
    let pack = repack(files);
    assert!(pack.len() > 100_000 * 512);
    let started = std::time::Instant::now();
    let r = verify_bare(&pack);
    let elapsed = started.elapsed();
    let detail = failed_check(&r, "archive");
    assert!(detail.contains("zz-junk-000000"), "{detail}");
    assert!(replay_pack(&pack).is_err());
    assert!(elapsed < std::time::Duration::from_secs(2), "took {elapsed:?}");
    // Entries with known names, repeated: refused at the second.
    let mut w = TarWriter::new(Vec::new());
    for name in ["bundle.json", "catalog.json"] {
        w.append(name, b"{}").unwrap();
    }
    let mut bytes = w.finish().unwrap();
    let one = bytes[..1024].to_vec();
    bytes.truncate(1024);
    for _ in 0..1000 {
        bytes.extend_from_slice(&one[..1024]);
    }
    bytes.extend_from_slice(&[0u8; 1024]);
    let r = verify_bare(&bytes);
    assert_eq!(r.first_failure.as_deref(), Some("archive"));
}

// ---------------------------------------------------------------------------------------------
// Random mutations, manifest recomputed: never a panic.

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    DuplicateLine(usize),
    DropLine(usize),
    SwapLines(usize, usize),
    Truncate(usize),
    ReplaceNumber(usize, i64),
    Empty,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(p, x)| Mutation::Flip(p, x)),
        (any::<usize>(), 1usize..40).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (
            any::<usize>(),
            proptest::collection::vec(
                prop_oneof![Just(b'"'), Just(b','), Just(b'{'), Just(b'}'), Just(b'\n'), Just(b'0'), any::<u8>()],
                1..12
            )
        )
            .prop_map(|(p, b)| Mutation::Insert(p, b)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        any::<usize>().prop_map(Mutation::DropLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop_oneof![Just(-1i64), Just(0), Just(i64::MAX), Just(i64::MIN), Just(9_007_199_254_740_993), any::<i64>()])
            .prop_map(|(p, n)| Mutation::ReplaceNumber(p, n)),
        Just(Mutation::Empty),
    ]
}

fn apply(m: &Mutation, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    let at = |p: usize, len: usize| if len == 0 { 0 } else { p % len };
    let lines = |d: &[u8]| -> Vec<Vec<u8>> { d.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect() };
    let join = |l: Vec<Vec<u8>>| l.join(&b'\n');
    match m {
        Mutation::Flip(p, x) if !d.is_empty() => {
            let i = at(*p, d.len());
            d[i] ^= x;
        }
        Mutation::Delete(p, n) if !d.is_empty() => {
            let i = at(*p, d.len());
            d.drain(i..(i + n).min(d.len()));
        }
        Mutation::Insert(p, b) => {
            let i = at(*p, d.len() + 1);
            d.splice(i..i, b.iter().copied());
        }
        Mutation::DuplicateLine(p) => {
            let mut l = lines(&d);
            let i = at(*p, l.len());
            let line = l[i].clone();
            l.insert(i, line);
            d = join(l);
        }
        Mutation::DropLine(p) => {
            let mut l = lines(&d);
            let i = at(*p, l.len());
            l.remove(i);
            d = join(l);
        }
        Mutation::SwapLines(a, b) => {
            let mut l = lines(&d);
            let (i, j) = (at(*a, l.len()), at(*b, l.len()));
            l.swap(i, j);
            d = join(l);
        }
        Mutation::Truncate(p) => d.truncate(at(*p, d.len() + 1)),
        Mutation::ReplaceNumber(p, n) => {
            // Replace the k-th run of digits with another integer.
            let runs: Vec<(usize, usize)> = {
                let mut v = Vec::new();
                let mut i = 0;
                while i < d.len() {
                    if d[i].is_ascii_digit() {
                        let s = i;
                        while i < d.len() && d[i].is_ascii_digit() {
                            i += 1;
                        }
                        v.push((s, i));
                    } else {
                        i += 1;
                    }
                }
                v
            };
            if !runs.is_empty() {
                let (s, e) = runs[at(*p, runs.len())];
                d.splice(s..e, n.to_string().into_bytes());
            }
        }
        Mutation::Empty => d.clear(),
        _ => {}
    }
    d
}

proptest! {
    // A fixed seed: the same 512 forgeries on every run (a failure reproduces).
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(10),
        ..ProptestConfig::default()
    })]

    /// Any member, mutated at random, every hash recomputed so that the
    /// forgery reaches the replay: verification never panics, and never
    /// accepts a changed derived artifact.
    #[test]
    fn mutated_members_never_panic_the_verifier(member in 0usize..64, m in mutation()) {
        let files = members(demo_pack());
        let names: Vec<String> = files.iter().map(|f| f.0.clone()).filter(|n| n != "manifest.json").collect();
        let name = names[member % names.len()].clone();
        let mut changed = false;
        let mutated: Vec<(String, Vec<u8>)> = files
            .into_iter()
            .map(|(n, d)| {
                if n == name {
                    let new = apply(&m, &d);
                    changed = new != d;
                    (n, new)
                } else {
                    (n, d)
                }
            })
            .collect();
        let pack = repack(mutated);
        let report = verify_bare(&pack);
        // Inputs may change without changing any output (an adapter option no
        // file needs, say): the replay then reproduces every derived artifact,
        // and the pack is a consistent record of those inputs. A derived
        // artifact changed never verifies.
        let derived = ["diff.json", "exceptions.jsonl", "imports.json", "snapshot.json", "units.jsonl"];
        prop_assert!(!report.ok || !changed || !derived.contains(&name.as_str()), "{name} {m:?} verified: {:?}", report.checks.last());
    }
}

/// The other readers of a pack (chaining to a previous pack, `diff` /
/// `explain` on a pack) read it as strictly as `verify`.
#[test]
fn chaining_and_diff_refuse_a_pack_with_a_foreign_member() {
    let mut files = members(demo_pack());
    files.push(("../evil.txt".into(), b"x".to_vec()));
    let pack = repack(files);
    let bundle = load_fixture("demo");
    let out = reconcile(&bundle, Some(&pack));
    assert!(out.snapshot.is_none());
    assert_eq!(reasons(&out), vec!["previous_snapshot_invalid"]);
    let e = eucora_license_core::open_run(&pack).unwrap_err();
    assert_eq!(e.code().name(), "invalid_input");
    // The untouched pack still chains and opens.
    assert!(eucora_license_core::open_run(demo_pack()).is_ok());
}
