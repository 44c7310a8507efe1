//! The output directory's guarantees with real processes of the binary
//! (issue 10, defects 1, 3, 4, 9, 10, 11): a failed run keeps the last good
//! outputs, a run's outputs appear all together or not at all even under
//! `kill -9`, two runs into one directory never mix, planted links are not
//! written through, links in a bundle are reported, endless inputs are
//! refused, and `--out` inside the bundle is refused.

use crate::common::{bin, copy_dir, demo, reconcile, stderr};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `tmp`, under `reliability/`.
fn tmp(name: &str) -> PathBuf {
    crate::common::tmp(&format!("reliability/{name}"))
}

/// A directory's entries, name → bytes.
type Set = BTreeMap<String, Vec<u8>>;

/// Every entry of a directory, name → bytes (folders and links marked).
fn contents(dir: &Path) -> Set {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let ft = e.file_type().unwrap();
        let bytes = if ft.is_file() { std::fs::read(e.path()).unwrap() } else { format!("<{ft:?}>").into_bytes() };
        m.insert(name, bytes);
    }
    m
}

fn names(set: &Set) -> Vec<&str> {
    set.keys().map(String::as_str).collect()
}

fn report(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("run_report.json")).unwrap()).unwrap()
}

/// A deterministic generator for the test's "random" choices.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// The demo plus 60 000 generated usage rows: a run long enough (seconds,
/// much of it writing a ~27 MB pack) to be killed at many points.
fn big_bundle() -> &'static Path {
    static BIG: OnceLock<PathBuf> = OnceLock::new();
    BIG.get_or_init(|| {
        let d = tmp("big-bundle");
        copy_dir(&demo(), &d);
        let mut csv = String::from("source,raw_id,observed_at,sku,product,kind,status,user,device_serial,device_id,device_name,last_used_at,session_start,session_end,quantity,confidence\n");
        for i in 0..60_000 {
            csv.push_str(&format!(
                "intune,gen-{i},2026-11-20T03:00:00Z,,Microsoft 365 Apps for enterprise,usage,,u{}@acme.com,SER{i},,,2026-11-19T16:05:00Z,,,,\n",
                i % 25_000
            ));
        }
        // One more exception than the demo, so exceptions.jsonl differs too.
        csv.push_str("intune,gen-unmapped,2026-11-20T03:00:00Z,,Unheard Of Suite,usage,,u1@acme.com,SERX,,,,,,,\n");
        std::fs::write(d.join("signals/generated.csv"), csv).unwrap();
        d
    })
}

/// Reference outputs: the demo's run ("old") and the big bundle's ("new"),
/// each made alone in a fresh directory.
fn references() -> &'static (Set, Set) {
    &reference_runs().0
}

/// The references, and how long the big run took here in milliseconds
/// (used only to spread delays over a run, never asserted).
fn reference_runs() -> &'static ((Set, Set), u64) {
    static REFS: OnceLock<((Set, Set), u64)> = OnceLock::new();
    REFS.get_or_init(|| {
        let a = tmp("ref-old");
        assert_eq!(reconcile(&demo(), &a, &[]).status.code(), Some(0));
        let b = tmp("ref-new");
        let started = Instant::now();
        let o = reconcile(big_bundle(), &b, &[]);
        let took = started.elapsed().as_millis() as u64 + 50;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        ((contents(&a), contents(&b)), took)
    })
}

fn spawn_big(out: &Path) -> std::process::Child {
    bin().arg("reconcile").arg(big_bundle()).arg("--out").arg(out).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
}

/// Wait until a temporary (a name starting with `.`) appears in `out`: the
/// run has started writing. `None` when the process ended first.
fn wait_for_temporary(child: &mut std::process::Child, out: &Path) -> Option<Instant> {
    loop {
        let seen = std::fs::read_dir(out).map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with('.'))).unwrap_or(false);
        if seen {
            return Some(Instant::now());
        }
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Put exactly the old set into `out`.
fn reset_to(out: &Path, set: &Set) {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).unwrap();
    for (name, bytes) in set {
        std::fs::write(out.join(name), bytes).unwrap();
    }
}

#[test]
fn a_failed_run_keeps_the_last_good_outputs_and_previous_still_chains() {
    let dir = tmp("fail-closed");
    let bundle = dir.join("bundle");
    copy_dir(&demo(), &bundle);
    let out = dir.join("out");
    let key = dir.join("share.key");
    std::fs::write(&key, b"0123456789abcdef0123456789abcdef").unwrap();
    let key_arg = key.to_str().unwrap();
    let o = reconcile(&bundle, &out, &["--share-key", key_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let good = contents(&out);
    assert_eq!(names(&good), ["evidence.shared.tar", "evidence.tar", "exceptions.jsonl", "run_report.json", "snapshot.json"]);
    let good_snapshot: serde_json::Value = serde_json::from_slice(&good["snapshot.json"]).unwrap();

    // The catalog gets a duplicate SKU id: the run fails closed.
    let catalog = bundle.join("catalog.json");
    let original = std::fs::read(&catalog).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&original).unwrap();
    let first = v["skus"][0].clone();
    v["skus"].as_array_mut().unwrap().push(first);
    std::fs::write(&catalog, serde_json::to_vec(&v).unwrap()).unwrap();
    let o = reconcile(&bundle, &out, &["--share-key", key_arg]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let after = contents(&out);
    assert_eq!(names(&after), names(&good), "no file added or removed");
    for name in ["snapshot.json", "evidence.tar", "evidence.shared.tar", "exceptions.jsonl"] {
        assert!(after[name] == good[name], "{name} changed on a failed run");
    }
    let failed = report(&out);
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["reasons"], serde_json::json!(["catalog_integrity"]));
    // The sidebar keeps the last snapshot's counters and says the last run failed.
    let o = bin()
        .arg("sidebar")
        .arg("--snapshot")
        .arg(out.join("snapshot.json"))
        .arg("--last-run")
        .arg(out.join("run_report.json"))
        .args(["--now", "2026-11-22T07:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sidebar: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sidebar["state"], "failed");
    assert_eq!(sidebar["snapshot_hash"], good_snapshot["snapshot_hash"]);
    assert_eq!(sidebar["counters"], good_snapshot["totals"]);

    // `--previous <out>` still chains to the last good snapshot, both from
    // another directory and into the same one.
    std::fs::write(&catalog, &original).unwrap();
    let elsewhere = dir.join("elsewhere");
    let o = reconcile(&bundle, &elsewhere, &["--previous", out.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let chained: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(chained["sequence"], 2);
    assert_eq!(chained["previous_hash"], good_snapshot["snapshot_hash"]);
    assert_eq!(chained["diff"]["basis"], "units", "chained to the pack, unit by unit");
    let o = reconcile(&bundle, &out, &["--previous", out.to_str().unwrap(), "--json", "--no-pack"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let same: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(same["previous_hash"], good_snapshot["snapshot_hash"]);
    // A successful run without packs leaves no older pack that would not match.
    assert_eq!(names(&contents(&out)), ["exceptions.jsonl", "run_report.json", "snapshot.json"]);
    assert_eq!(report(&out)["snapshot_hash"], same["snapshot_hash"]);
}

#[test]
fn kill_9_at_random_points_leaves_the_old_set_or_the_new_set() {
    let (old, new) = references();
    let out = tmp("kill").join("out");
    // Scale the kill points to this machine from one undisturbed run: how
    // long it computes before its first temporary appears, and how long it
    // then writes (used to spread the kills, never asserted).
    reset_to(&out, old);
    let started = Instant::now();
    let mut child = spawn_big(&out);
    let staged = wait_for_temporary(&mut child, &out).unwrap_or_else(Instant::now);
    assert!(child.wait().unwrap().success());
    let compute = (staged - started).as_millis() as u64 + 1;
    let write = staged.elapsed().as_millis() as u64 + 1;
    assert!(contents(&out) == *new, "an undisturbed run gives the reference set");
    for name in new.keys() {
        assert!(old[name] != new[name], "{name} must differ between the two sets");
    }
    let mut rng = Lcg(0x5eed_0010);
    let (mut saw_old, mut saw_new, mut saw_pending) = (0, 0, 0);
    for i in 0..16 {
        reset_to(&out, old);
        let mut child = spawn_big(&out);
        // Every other kill lands while the run computes; the others once it
        // has started writing: staging, the switch, or after it ended.
        let delay = if i % 2 == 0 {
            rng.next() % compute
        } else {
            wait_for_temporary(&mut child, &out);
            rng.next() % (write + write / 3 + 1)
        };
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if out.join(".commit").exists() {
            // Killed after the commit point: the next reader finishes the switch.
            saw_pending += 1;
            let o = bin().arg("diff").arg(&out).arg(&out).output().unwrap();
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        }
        let visible: Set = contents(&out).into_iter().filter(|(n, _)| !n.starts_with('.')).collect();
        if visible == *old {
            saw_old += 1;
        } else if visible == *new {
            saw_new += 1;
        } else {
            let mixed: Vec<String> = visible
                .iter()
                .map(|(n, b)| {
                    format!(
                        "{n}:{}",
                        if old.get(n) == Some(b) {
                            "old"
                        } else if new.get(n) == Some(b) {
                            "new"
                        } else {
                            "other"
                        }
                    )
                })
                .collect();
            panic!("iteration {i} (kill after {delay} ms) left a mixed set: {mixed:?}");
        }
        // The next run cleans every temporary the killed one left.
        let o = reconcile(&demo(), &out, &["--no-pack"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let left: Vec<String> = contents(&out).into_keys().filter(|n| n.starts_with('.')).collect();
        assert!(left.is_empty(), "iteration {i}: stale temporaries {left:?}");
    }
    eprintln!("kill -9: {saw_old} old sets, {saw_new} new sets ({saw_pending} finished by the next reader)");
}

#[test]
fn a_switch_stopped_after_its_commit_point_is_finished_by_the_next_reader() {
    let dir = tmp("crash-points");
    // Two quick runs: the demo ("old") and the demo with one more signal.
    let variant = dir.join("variant");
    copy_dir(&demo(), &variant);
    std::fs::write(
        variant.join("signals/extra.csv"),
        "source,raw_id,observed_at,product,kind,user\nintune,x-1,2026-11-20T03:00:00Z,Unheard Of Suite,usage,u1@acme.com\n",
    )
    .unwrap();
    let old = &references().0;
    let reference = dir.join("reference");
    assert_eq!(reconcile(&variant, &reference, &[]).status.code(), Some(0));
    let new = &contents(&reference);
    let out = dir.join("out");
    for (point, reader) in [("committed", "diff"), ("mid-switch", "diff"), ("mid-switch", "previous"), ("committed", "reconcile")] {
        reset_to(&out, old);
        let o = bin().arg("reconcile").arg(&variant).arg("--out").arg(&out).env("EUCORA_LICENSE_CRASH_AT", point).output().unwrap();
        assert_ne!(o.status.code(), Some(0), "{point}: the process must have stopped");
        assert!(out.join(".commit").exists(), "{point}: the journal is there");
        let o = match reader {
            "diff" => bin().arg("diff").arg(&out).arg(&out).output().unwrap(),
            "previous" => reconcile(&demo(), &dir.join("next"), &["--previous", out.to_str().unwrap(), "--json", "--no-pack"]),
            _ => reconcile(&demo(), &out, &["--no-pack"]),
        };
        assert_eq!(o.status.code(), Some(0), "{point}/{reader}: {}", stderr(&o));
        if reader == "previous" {
            let next: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let new_snapshot: serde_json::Value = serde_json::from_slice(&new["snapshot.json"]).unwrap();
            assert_eq!(next["previous_hash"], new_snapshot["snapshot_hash"], "chained to the finished switch");
        }
        let now = contents(&out);
        if reader == "reconcile" {
            assert_eq!(names(&now), ["exceptions.jsonl", "run_report.json", "snapshot.json"]);
        } else {
            assert!(now == *new, "{point}/{reader}: the switch was finished: {:?}", names(&now));
        }
    }
}

#[test]
fn two_runs_at_once_into_one_out_never_mix() {
    let ((old, new), full) = reference_runs();
    let out = tmp("concurrent").join("out");
    for trial in 0..5u64 {
        let _ = std::fs::remove_dir_all(&out);
        // The long run first, then the short one at a point of the long one
        // (computing, writing its pack, switching in).
        let long =
            bin().arg("reconcile").arg(big_bundle()).arg("--out").arg(&out).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(full * [10, 40, 60, 75, 90][trial as usize] / 100));
        let short = bin().arg("reconcile").arg(demo()).arg("--out").arg(&out).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let (long, short) = (long.wait_with_output().unwrap(), short.wait_with_output().unwrap());
        assert_eq!(long.status.code(), Some(0), "{}", stderr(&long));
        assert_eq!(short.status.code(), Some(0), "{}", stderr(&short));
        let now = contents(&out);
        assert!(now == *old || now == *new, "trial {trial}: a mixed set {:?}", names(&now));
        if stderr(&short).contains("waiting for lock on") {
            // It waited for the long run, so it switched in last.
            assert!(now == *old, "trial {trial}: the run that waited must be the one left");
        }
        if stderr(&long).contains("waiting for lock on") {
            assert!(now == *new, "trial {trial}: the run that waited must be the one left");
        }
    }
}

#[cfg(unix)]
#[test]
fn planted_links_at_temporary_and_output_names_are_not_written_through() {
    let dir = tmp("planted");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let victim_dir = dir.join("victim-dir");
    std::fs::create_dir_all(&victim_dir).unwrap();
    let victim = dir.join("victim");
    std::fs::write(&victim, b"do not touch").unwrap();
    let link = |target: &Path, name: &str| std::os::unix::fs::symlink(target, out.join(name)).unwrap();
    for pid in [1, 2, 4242] {
        link(&victim_dir, &format!(".staging-{pid}-0"));
        link(&victim, &format!(".commit.tmp-{pid}-0"));
        link(&victim, &format!(".evidence.tar.tmp-{pid}"));
        link(&victim, &format!(".snapshot.json.tmp-{pid}"));
    }
    link(&victim, "snapshot.json");
    link(&victim, "run_report.json");
    link(&dir.join("dangling"), "evidence.tar");
    let o = reconcile(&demo(), &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read(&victim).unwrap(), b"do not touch");
    assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0);
    assert!(!dir.join("dangling").exists());
    let (old, _) = references();
    assert!(contents(&out) == *old, "exactly the run's files, as regular files: {:?}", names(&contents(&out)));
}

#[cfg(unix)]
#[test]
fn linked_signal_files_folders_and_bundle_json_are_reported_not_skipped() {
    let dir = tmp("links-in-bundle");
    let outside = dir.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(demo().join("signals/intune-usage.csv"), outside.join("more.csv")).unwrap();
    let out = dir.join("out");
    let (old, _) = references();
    reset_to(&out, old);
    type Plant = fn(&Path, &Path);
    let cases: [(&str, Plant); 4] = [
        ("signals/more.csv", |b, o| std::os::unix::fs::symlink(o.join("more.csv"), b.join("signals/more.csv")).unwrap()),
        ("signals/extra", |b, o| std::os::unix::fs::symlink(o, b.join("signals/extra")).unwrap()),
        ("imports/intune-apps/page-3.json", |b, _| {
            std::os::unix::fs::symlink(b.join("imports/intune-apps/managedDevices-page-2.json"), b.join("imports/intune-apps/page-3.json"))
                .unwrap()
        }),
        ("bundle.json", |b, _| {
            std::fs::rename(b.join("bundle.json"), b.join("params.json")).unwrap();
            std::os::unix::fs::symlink("params.json", b.join("bundle.json")).unwrap();
        }),
    ];
    for (path, plant) in cases {
        let bundle = dir.join("bundle");
        let _ = std::fs::remove_dir_all(&bundle);
        copy_dir(&demo(), &bundle);
        plant(&bundle, &outside);
        let o = reconcile(&bundle, &out, &[]);
        assert_eq!(o.status.code(), Some(2), "{path}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("{path}: a symbolic link")), "{path}: {err}");
        let r = report(&out);
        assert_eq!(r["status"], "failed");
        assert_eq!(r["reasons"], serde_json::json!(["invalid_input"]));
        let message = r["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(path) && !message.contains("missing"), "{path}: {message}");
        // The last good outputs are still there.
        assert!(contents(&out)["snapshot.json"] == old["snapshot.json"]);
    }
    // A pipe in the bundle is refused by name, without waiting on it.
    let bundle = dir.join("bundle");
    let _ = std::fs::remove_dir_all(&bundle);
    copy_dir(&demo(), &bundle);
    let fifo = bundle.join("signals/pipe.csv");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let o = run_bounded(bin().arg("reconcile").arg(&bundle).arg("--out").arg(&out));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("signals/pipe.csv: not a regular file"), "{}", stderr(&o));
}

/// Run a command that must end by itself; a watchdog kills it (and fails
/// the test) rather than let the suite hang.
fn run_bounded(cmd: &mut Command) -> std::process::Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{cmd:?} did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
#[test]
fn endless_and_special_files_are_refused_with_a_clear_error() {
    let dir = tmp("endless");
    let out = dir.join("out");
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let fifo = fifo.to_str().unwrap().to_string();
    let pack = dir.join("pack.tar");
    std::fs::write(&pack, &references().0["evidence.tar"]).unwrap();
    let pack = pack.to_str().unwrap();
    let demo = demo();
    let demo = demo.to_str().unwrap();
    let out = out.to_str().unwrap();
    for input in ["/dev/zero", fifo.as_str()] {
        let cases: Vec<Vec<&str>> = vec![
            vec!["verify", input],
            vec!["verify", pack, "--previous", input],
            vec!["diff", input, input],
            vec!["explain", input, input, "--sku", "x"],
            vec!["sidebar", "--snapshot", input, "--now", "2026-11-23T00:00:00Z"],
            vec!["prove", input, "--sku", "x"],
            vec!["verify-proof", input],
            vec!["import", "--adapter", "jamf-inventory", input],
            vec!["reconcile", demo, "--out", out, "--previous", input],
            vec!["reconcile", demo, "--out", out, "--share-key", input],
        ];
        for args in cases {
            let o = run_bounded(bin().args(&args));
            assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(err.contains(&format!("{input}: not a regular file")), "{args:?}: {err}");
        }
    }
}

#[test]
fn out_inside_the_bundle_is_refused() {
    let dir = tmp("out-inside");
    let bundle = dir.join("bundle");
    copy_dir(&demo(), &bundle);
    let before = contents(&bundle);
    let mut outs =
        vec![bundle.clone(), bundle.join("out"), bundle.join("signals/deeper/out"), bundle.join("x/../y"), dir.join("bundle/./z")];
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&bundle, dir.join("alias")).unwrap();
        outs.push(dir.join("alias/out"));
    }
    for out in outs {
        let o = reconcile(&bundle, &out, &[]);
        assert_eq!(o.status.code(), Some(1), "{}: {}", out.display(), stderr(&o));
        assert!(stderr(&o).contains("is inside the bundle"), "{}", stderr(&o));
        assert!(contents(&bundle) == before, "nothing was written into the bundle");
    }
    // Beside the bundle is fine.
    assert_eq!(reconcile(&bundle, &dir.join("bundle-out"), &["--no-pack"]).status.code(), Some(0));
}
