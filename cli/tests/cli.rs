//! The `eucora-license` binary end to end: exit codes, outputs, atomic writes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_eucora-license"))
}

/// The demo organisation as raw exports (`imports/<adapter>/`) plus a few canonical rows.
fn demo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo"))
}

/// The same organisation as canonical signal files only.
fn demo_canonical() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo-canonical"))
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

#[test]
fn reconcile_demo_writes_outputs_and_prints_table() {
    let out = tmp("demo-out");
    let o = bin().args(["reconcile"]).arg(demo()).arg("--out").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains("m365-e3"), "{stdout}");
    assert!(stdout.contains("TOTAL"), "{stdout}");
    let snap = std::fs::read(out.join("snapshot.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&snap).unwrap();
    assert!(stdout.contains(v["snapshot_hash"].as_str().unwrap()));
    // snapshot.json is the canonical form: re-canonicalising changes nothing.
    assert_eq!(eucora_license_core::canonical_bytes(&v).unwrap(), snap);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("run_report.json")).unwrap()).unwrap();
    assert_eq!(report["status"], "ok");
    assert_eq!(report["snapshot_hash"], v["snapshot_hash"]);
    let exc = std::fs::read_to_string(out.join("exceptions.jsonl")).unwrap();
    assert_eq!(exc.lines().count(), 3);
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}

#[test]
fn raw_and_canonical_demos_print_the_same_counters() {
    let table = |bundle: PathBuf, out: &str| -> String {
        let o = bin().arg("reconcile").arg(bundle).arg("--out").arg(tmp(out)).arg("--no-pack").output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        // Everything but the snapshot hash line (the inputs differ, so does the hash).
        String::from_utf8(o.stdout).unwrap().lines().filter(|l| !l.starts_with("snapshot:")).collect::<Vec<_>>().join("\n")
    };
    let raw = table(demo(), "same-raw");
    assert!(raw.contains("TOTAL                                    54         4        46          4          5"), "{raw}");
    assert_eq!(raw, table(demo_canonical(), "same-canonical"));
}

#[test]
fn json_flag_prints_the_snapshot_and_previous_chains() {
    let out1 = tmp("chain-1");
    let o = bin().arg("reconcile").arg(demo()).arg("--out").arg(&out1).arg("--json").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(printed["sequence"], 1);
    let out2 = tmp("chain-2");
    let o = bin()
        .arg("reconcile")
        .arg(demo())
        .arg("--out")
        .arg(&out2)
        .arg("--previous")
        .arg(out1.join("snapshot.json"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let second: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(second["sequence"], 2);
    assert_eq!(second["previous_hash"], printed["snapshot_hash"]);
}

#[test]
fn failed_run_exits_2_writes_report_and_keeps_the_last_good_snapshot() {
    let bundle = tmp("broken-bundle");
    copy_dir(&demo(), &bundle);
    let out = tmp("broken-out");
    // A first, good run leaves a snapshot in the output directory.
    assert_eq!(bin().arg("reconcile").arg(&bundle).arg("--out").arg(&out).output().unwrap().status.code(), Some(0));
    assert!(out.join("snapshot.json").exists());
    // Then the catalog gets a duplicate SKU id: the run fails closed.
    let cat = std::fs::read_to_string(bundle.join("catalog.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&cat).unwrap();
    let first = v["skus"][0].clone();
    v["skus"].as_array_mut().unwrap().push(first);
    std::fs::write(bundle.join("catalog.json"), serde_json::to_vec(&v).unwrap()).unwrap();
    let o = bin().arg("reconcile").arg(&bundle).arg("--out").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("catalog_integrity"));
    // The last good snapshot stays (the sidebar and `--previous` need it);
    // the report beside it says the latest run failed.
    assert!(out.join("snapshot.json").exists(), "a failed run must keep the last good snapshot");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("run_report.json")).unwrap()).unwrap();
    assert_eq!(report["status"], "failed");
    assert_eq!(report["reasons"], serde_json::json!(["catalog_integrity"]));
    assert_eq!(report["errors"][0]["file"], "catalog.json");
}

#[test]
fn usage_and_io_errors_exit_1() {
    assert_eq!(bin().output().unwrap().status.code(), Some(1));
    assert_eq!(bin().arg("frobnicate").output().unwrap().status.code(), Some(1));
    assert_eq!(bin().arg("reconcile").arg(demo()).output().unwrap().status.code(), Some(1), "--out is required");
    let o = bin().args(["reconcile", "/nonexistent/bundle", "--out"]).arg(tmp("x")).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let o = bin().arg("reconcile").arg(demo()).arg("--out").arg(tmp("y")).args(["--previous", "/nonexistent.json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn tampered_previous_snapshot_fails_closed() {
    let out1 = tmp("tamper-1");
    assert_eq!(bin().arg("reconcile").arg(demo()).arg("--out").arg(&out1).output().unwrap().status.code(), Some(0));
    let snap = std::fs::read_to_string(out1.join("snapshot.json")).unwrap();
    let tampered = snap.replacen("\"consumed\":13", "\"consumed\":12", 1);
    assert_ne!(snap, tampered);
    let prev = out1.join("tampered.json");
    std::fs::write(&prev, tampered).unwrap();
    let out2 = tmp("tamper-2");
    let o = bin().arg("reconcile").arg(demo()).arg("--out").arg(&out2).arg("--previous").arg(&prev).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out2.join("run_report.json")).unwrap()).unwrap();
    assert_eq!(report["reasons"], serde_json::json!(["previous_snapshot_invalid"]));
}

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

fn history_step(n: usize) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo-history")).join(format!("step-{n}"))
}

#[test]
fn a_chained_history_diffs_explains_and_shares() {
    let root = tmp("history");
    let key = root.join("share.key");
    std::fs::write(&key, b"0123456789abcdef0123456789abcdef").unwrap();
    for n in 1..=3 {
        let mut cmd = bin();
        cmd.arg("reconcile").arg(history_step(n)).arg("--out").arg(root.join(n.to_string()));
        if n > 1 {
            cmd.arg("--previous").arg(root.join((n - 1).to_string()));
        }
        if n == 3 {
            cmd.arg("--share-key").arg(&key);
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "step {n}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let o = bin().arg("diff").arg(root.join("1")).arg(root.join("2")).output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(text.contains("diff sequence 1 -> 2 (basis: units)"), "{text}");
    assert!(text.contains("m365-copilot") && text.contains("removed: revoked 1"), "{text}");
    let o = bin().arg("explain").arg(root.join("2")).arg(root.join("3")).args(["--sku", "matlab-concurrent"]).output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("−5 tokens at the peak: 5 source flexlm sent nothing this run."), "{text}");
    // Not consecutive: explain refuses, diff falls back to counter deltas.
    let o = bin().arg("explain").arg(root.join("1")).arg(root.join("3")).args(["--sku", "acrobat-pro"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = bin().arg("diff").arg(root.join("1/snapshot.json")).arg(root.join("3/evidence.tar")).output().unwrap();
    assert!(String::from_utf8(o.stdout).unwrap().contains("(basis: counters)"));
    // The shared pack verifies on its own and names no one.
    let shared = root.join("3/evidence.shared.tar");
    let o = bin().arg("verify").arg(&shared).arg("--previous").arg(root.join("2/snapshot.json")).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    let bytes = std::fs::read(&shared).unwrap();
    for name in ["alice@acme.com", "PF3ABC12", "lt-0042", "lic-alice-spe_e3"] {
        assert!(!bytes.windows(name.len()).any(|w| w == name.as_bytes()), "{name}");
    }
}

#[test]
fn a_closed_stdout_is_an_io_error_not_a_panic() {
    let mut child = bin().arg("adapters").stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take()); // the reader is gone before the first line
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "{:?}", out.status);
}
