//! `verify`, `sidebar`, `prove` and `verify-proof` through the binary, with
//! issue 10's cases: hostile packs, proofs bound to a snapshot hash, the
//! sidebar's schedule arithmetic and organizations that do not mix.

use crate::common::{bin, demo, reconcile_demo, text, tmp};
use serde_json::{json, Value};

#[test]
fn reconcile_writes_a_pack_that_verify_accepts_and_tampering_fails() {
    let out = tmp("pack-out");
    assert_eq!(bin().arg("reconcile").arg(demo()).arg("--out").arg(&out).output().unwrap().status.code(), Some(0));
    let pack = out.join("evidence.tar");
    let o = bin().arg("verify").arg(&pack).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("replay"));
    let mut bytes = std::fs::read(&pack).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    let bad = out.join("tampered.tar");
    std::fs::write(&bad, bytes).unwrap();
    let o = bin().arg("verify").arg(&bad).arg("--json").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert!(report["first_failure"].is_string());
    // --no-pack leaves no pack that would not match the new snapshot.
    assert_eq!(bin().arg("reconcile").arg(demo()).arg("--out").arg(&out).arg("--no-pack").output().unwrap().status.code(), Some(0));
    assert!(!pack.exists());
}

#[test]
fn sidebar_reports_state_from_snapshot_and_last_run() {
    let out = tmp("sidebar-out");
    assert_eq!(bin().arg("reconcile").arg(demo()).arg("--out").arg(&out).arg("--no-pack").output().unwrap().status.code(), Some(0));
    let run = |now: &str| -> serde_json::Value {
        let o = bin()
            .arg("sidebar")
            .arg("--snapshot")
            .arg(out.join("snapshot.json"))
            .arg("--last-run")
            .arg(out.join("run_report.json"))
            .args(["--now", now])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let fresh = run("2026-11-22T07:00:00Z");
    assert_eq!(fresh["state"], "ok");
    assert_eq!(fresh["counters"]["consumed"], 46);
    let late = run("2026-11-24T06:00:01Z");
    assert_eq!(late["state"], "stale");
    assert_eq!(late["stale_seconds"], 2 * 86_400 + 1);
    let o = bin().args(["sidebar", "--now", "yesterday"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn prove_and_verify_proof_round_trip() {
    let out = tmp("prove-out");
    assert_eq!(bin().arg("reconcile").arg(demo()).arg("--out").arg(&out).arg("--no-pack").output().unwrap().status.code(), Some(0));
    let o = bin().arg("prove").arg(out.join("snapshot.json")).args(["--sku", "m365-e3"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let proof_path = out.join("proof.json");
    std::fs::write(&proof_path, &o.stdout).unwrap();
    assert_eq!(bin().arg("verify-proof").arg(&proof_path).output().unwrap().status.code(), Some(0));
    let mut proof: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    proof["record"]["consumed"] = serde_json::json!(12);
    std::fs::write(&proof_path, serde_json::to_vec(&proof).unwrap()).unwrap();
    assert_eq!(bin().arg("verify-proof").arg(&proof_path).output().unwrap().status.code(), Some(2));
    assert_eq!(bin().arg("prove").arg(out.join("snapshot.json")).args(["--sku", "nope"]).output().unwrap().status.code(), Some(2));
}

#[test]
fn sidebar_with_an_absurd_schedule_is_an_error_not_stale() {
    let out = reconcile_demo("cli-sidebar-schedule");
    let o = bin()
        .arg("sidebar")
        .arg("--snapshot")
        .arg(out.join("snapshot.json"))
        .args(["--now", "2026-11-22T07:00:00Z", "--schedule-hours", "9223372036854775807"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("stale"), "{}", text(&o));
    // The largest schedule the engine counts is never stale an hour later.
    let o = bin()
        .arg("sidebar")
        .arg("--snapshot")
        .arg(out.join("snapshot.json"))
        .args(["--now", "2026-11-22T07:00:00Z", "--schedule-hours", &(i64::MAX / 7200).to_string()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["state"], "ok");
}

#[test]
fn sidebar_refuses_another_organizations_report_and_a_list() {
    let out = reconcile_demo("cli-sidebar-org");
    let mut report: Value = serde_json::from_slice(&std::fs::read(out.join("run_report.json")).unwrap()).unwrap();
    report["organization_id"] = json!("org-someone-else");
    report["status"] = json!("failed");
    let theirs = out.join("their_report.json");
    std::fs::write(&theirs, serde_json::to_vec(&report).unwrap()).unwrap();
    let list = out.join("list.json");
    std::fs::write(&list, b"[]").unwrap();
    for last in [&theirs, &list] {
        let o = bin()
            .arg("sidebar")
            .arg("--snapshot")
            .arg(out.join("snapshot.json"))
            .arg("--last-run")
            .arg(last)
            .args(["--now", "2026-11-22T07:00:00Z"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("invalid_input"), "{}", text(&o));
    }
    assert!(text(
        &bin()
            .arg("sidebar")
            .arg("--snapshot")
            .arg(out.join("snapshot.json"))
            .arg("--last-run")
            .arg(&theirs)
            .args(["--now", "2026-11-22T07:00:00Z"])
            .output()
            .unwrap()
    )
    .contains("organization_id"));
}

#[test]
fn verify_proof_binds_to_a_trusted_snapshot_hash() {
    let out = reconcile_demo("cli-proof-bound");
    let snap: Value = serde_json::from_slice(&std::fs::read(out.join("snapshot.json")).unwrap()).unwrap();
    let hash = snap["snapshot_hash"].as_str().unwrap().to_string();
    let o = bin().arg("prove").arg(out.join("snapshot.json")).args(["--sku", "m365-e3"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let proof_path = out.join("proof.json");
    std::fs::write(&proof_path, &o.stdout).unwrap();
    let verify = |extra: &[&str]| bin().arg("verify-proof").arg(&proof_path).args(extra).output().unwrap();
    assert_eq!(verify(&["--snapshot-hash", &hash]).status.code(), Some(0));
    assert_eq!(verify(&["--snapshot", out.join("snapshot.json").to_str().unwrap()]).status.code(), Some(0));
    let other = format!("sha256:{}", "0".repeat(64));
    let o = verify(&["--snapshot-hash", &other]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A proof stripped of its snapshot cannot be tied to a hash.
    let mut proof: Value = serde_json::from_slice(&std::fs::read(&proof_path).unwrap()).unwrap();
    proof.as_object_mut().unwrap().remove("snapshot");
    std::fs::write(&proof_path, serde_json::to_vec(&proof).unwrap()).unwrap();
    assert_eq!(verify(&["--snapshot-hash", &hash]).status.code(), Some(2));
    assert_eq!(verify(&["--snapshot", out.join("snapshot.json").to_str().unwrap()]).status.code(), Some(0));
}

#[test]
fn verify_refuses_a_member_the_contract_does_not_define() {
    let out = reconcile_demo("cli-verify-evil");
    let pack = std::fs::read(out.join("evidence.tar")).unwrap();
    // The pack is compressed (issue 15); the forger works on its tar.
    let pack = eucora_license_core::pack_archive(&pack).unwrap();
    let mut files: Vec<(String, Vec<u8>)> =
        eucora_license_core::internal::tar::read(&pack).unwrap().into_iter().map(|e| (e.name, e.data.to_vec())).collect();
    files.push(("../evil.txt".into(), b"owned".to_vec()));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    // Manifest and pack hash recomputed, as a forger would.
    let mi = files.iter().position(|f| f.0 == "manifest.json").unwrap();
    let mut m: Value = serde_json::from_slice(&files[mi].1).unwrap();
    m["artifacts"] = files
        .iter()
        .filter(|f| f.0 != "manifest.json")
        .map(|(n, d)| json!({"name": n, "size": d.len(), "sha256": eucora_license_core::internal::hash::sha256(d).to_prefixed()}))
        .collect();
    m.as_object_mut().unwrap().remove("pack_hash");
    let h = eucora_license_core::internal::hash::tagged(
        eucora_license_core::internal::hash::Domain::Pack,
        &eucora_license_core::internal::canonical::to_vec(&m).unwrap(),
    );
    m["pack_hash"] = json!(h.to_prefixed());
    files[mi].1 = eucora_license_core::internal::canonical::to_vec(&m).unwrap();
    let mut w = eucora_license_core::internal::tar::TarWriter::new(Vec::new());
    for (n, d) in &files {
        w.append(n, d).unwrap();
    }
    let forged = out.join("forged.tar");
    std::fs::write(&forged, w.finish().unwrap()).unwrap();
    let o = bin().arg("verify").arg(&forged).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("first failed check: archive"), "{}", text(&o));
}
