//! `reconcile` end to end: its outputs, the table, `--json`, `--previous`,
//! failing closed; and the binary's exit codes for usage and I/O errors.

use crate::common::{bin, copy_dir, demo, demo_canonical, tmp};
use std::path::PathBuf;

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
fn a_closed_stdout_is_an_io_error_not_a_panic() {
    let mut child = bin().arg("adapters").stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take()); // the reader is gone before the first line
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "{:?}", out.status);
}

/// `--threads` changes how the run is carried out, never its bytes: the
/// demo's snapshot, pack, report and exceptions are identical with 1, 2 and 3
/// threads and with the default (every core).
#[test]
fn every_thread_count_writes_the_same_bytes() {
    let run = |name: &str, threads: Option<&str>| -> PathBuf {
        let out = tmp(name);
        let mut c = bin();
        c.arg("reconcile").arg(demo()).arg("--out").arg(&out);
        if let Some(t) = threads {
            c.arg("--threads").arg(t);
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let one = run("threads-1", Some("1"));
    for (name, t) in [("threads-2", Some("2")), ("threads-3", Some("3")), ("threads-default", None)] {
        let other = run(name, t);
        for f in ["snapshot.json", "evidence.tar", "run_report.json", "exceptions.jsonl"] {
            assert_eq!(std::fs::read(one.join(f)).unwrap(), std::fs::read(other.join(f)).unwrap(), "{f} differs with --threads {t:?}");
        }
    }
}

#[test]
fn threads_must_be_a_whole_number_of_at_least_one() {
    for bad in ["0", "-1", "two", "1.5"] {
        let o = bin().arg("reconcile").arg(demo()).arg("--out").arg(tmp("threads-bad")).arg("--threads").arg(bad).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "--threads {bad}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--threads") && err.contains("at least 1"), "--threads {bad}: {err}");
    }
    let o = bin().arg("reconcile").arg(demo()).arg("--out").arg(tmp("threads-missing")).arg("--threads").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--threads needs"));
}
