//! The governance commands end to end (DESIGN D5): JSON in, canonical JSON
//! out, contract errors as `{"error": {"code"}}` with exit status 2.

use crate::common::{bin, text, tmp};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p
}

fn out_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

fn setup(name: &str) -> (PathBuf, PathBuf) {
    let d = tmp(name);
    let policy = write(&d, "policy.json", &eucora_license_governance::policy::default_document());
    (d, policy)
}

fn user(id: &str, roles: &[&str]) -> Value {
    json!({"type": "user", "id": id, "roles": roles})
}

#[test]
fn authorize_prints_the_decision_and_errors_exit_2() {
    let (d, policy) = setup("gov-authorize");
    let admin = write(&d, "admin.json", &user("alice", &["license_admin"]));
    let run = |actor: &Path, action: &str| {
        bin().arg("authorize").arg("--actor").arg(actor).args(["--action", action]).arg("--policy").arg(&policy).output().unwrap()
    };
    let o = run(&admin, "catalog.write");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(out_json(&o), json!({"allowed": true, "action": "catalog.write", "reason": "allowed"}));
    let o = run(&admin, "policy.approve");
    assert_eq!((o.status.code(), out_json(&o)["reason"].clone()), (Some(0), json!("role_lacks_action")));
    let o = run(&admin, "policy.everything");
    assert_eq!((o.status.code(), out_json(&o)["error"]["code"].clone()), (Some(2), json!("unknown_action")));
    let agent =
        write(&d, "agent.json", &json!({"type": "agent", "agent": "truth_builder", "on_behalf_of": user("op", &["agent_operator"])}));
    assert_eq!(out_json(&run(&agent, "entitlement.approve"))["reason"], "approval_needs_human");
    // stdin
    let mut child = bin()
        .args(["authorize", "--actor", "-", "--action", "view.sidebar", "--policy"])
        .arg(&policy)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(br#"{"type":"user","id":"v","roles":["viewer"]}"#).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(out_json(&o)["allowed"], true);
    // A bad policy is a contract error.
    let bad = write(&d, "bad.json", &json!({"id": "x"}));
    let o = bin().arg("authorize").arg("--actor").arg(&admin).args(["--action", "view.sidebar", "--policy"]).arg(&bad).output().unwrap();
    assert_eq!((o.status.code(), out_json(&o)["error"]["code"].clone()), (Some(2), json!("invalid_policy")));
}

#[test]
fn without_policy_the_shipped_default_applies() {
    let d = tmp("gov-default-policy");
    let admin = write(&d, "admin.json", &user("alice", &["license_admin"]));
    let o = bin().arg("authorize").arg("--actor").arg(&admin).args(["--action", "catalog.write"]).output().unwrap();
    assert_eq!((o.status.code(), out_json(&o)["allowed"].clone()), (Some(0), json!(true)), "{}", text(&o));
    let payload = write(&d, "payload.json", &json!({"recommendation_id": "sha256:ab"}));
    let o = bin()
        .args(["propose", "--kind", "recommendation", "--at", "2026-11-01T00:00:00Z", "--payload"])
        .arg(&payload)
        .arg("--actor")
        .arg(&admin)
        .output()
        .unwrap();
    let shipped = eucora_license_governance::Policy::default_policy().hash_string();
    assert_eq!(out_json(&o)["policy_hash"], json!(shipped), "{}", text(&o));
}

#[test]
fn propose_decide_apply_round_trip() {
    let (d, policy) = setup("gov-proposals");
    let admin = write(&d, "admin.json", &user("alice", &["license_admin"]));
    let payload = write(&d, "payload.json", &json!({"recommendation_id": "sha256:ab"}));
    let propose = |actor: &Path| {
        bin()
            .arg("propose")
            .args(["--kind", "recommendation", "--payload"])
            .arg(&payload)
            .arg("--actor")
            .arg(actor)
            .args(["--at", "2026-11-01T10:00:00+01:00", "--correlation-id", "c-1", "--policy"])
            .arg(&policy)
            .output()
            .unwrap()
    };
    let o = propose(&admin);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let p = out_json(&o);
    assert_eq!(
        (p["created_at"].clone(), p["expires_at"].clone(), p["correlation_id"].clone()),
        (json!("2026-11-01T09:00:00Z"), json!("2026-11-08T09:00:00Z"), json!("c-1"))
    );
    let ops = write(&d, "ops.json", &user("bob", &["ops_manager"]));
    let o = propose(&ops);
    assert_eq!((o.status.code(), out_json(&o)["error"]["code"].clone()), (Some(2), json!("role_lacks_action")));

    let proposal = write(&d, "proposal.json", &p);
    let approval = |id: &str, roles: &[&str], decision: &str| json!({"proposal_id": p["proposal_id"], "payload_hash": p["payload_hash"], "approver": user(id, roles), "decision": decision, "at": "2026-11-01T12:00:00Z"});
    let approvals =
        write(&d, "approvals.json", &json!([approval("alice", &["ops_manager"], "approve"), approval("bob", &["ops_manager"], "approve")]));
    let decide = bin()
        .arg("decide")
        .arg("--proposal")
        .arg(&proposal)
        .arg("--approvals")
        .arg(&approvals)
        .args(["--now", "2026-11-02T00:00:00Z", "--policy"])
        .arg(&policy)
        .output()
        .unwrap();
    assert_eq!(decide.status.code(), Some(0), "{}", text(&decide));
    assert_eq!(
        out_json(&decide),
        json!({"state": "approved", "counted": ["bob"], "refused": [{"index": 0, "approver": "alice", "reason": "self_approval"}]})
    );

    let apply = |applied: Option<&Path>, approvals: &Path| {
        let mut c = bin();
        c.arg("apply")
            .arg("--proposal")
            .arg(&proposal)
            .arg("--approvals")
            .arg(approvals)
            .args(["--now", "2026-11-02T00:00:00Z", "--policy"])
            .arg(&policy);
        if let Some(a) = applied {
            c.arg("--applied").arg(a);
        }
        c.output().unwrap()
    };
    let o = apply(None, &approvals);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        out_json(&o),
        json!({"change": {"kind": "recommendation", "proposal_id": p["proposal_id"], "payload": {"recommendation_id": "sha256:ab"}}})
    );
    let ids = write(&d, "applied.json", &json!([p["proposal_id"]]));
    let o = apply(Some(&ids), &approvals);
    assert_eq!((o.status.code(), out_json(&o)["error"]["code"].clone()), (Some(2), json!("already_applied")));
    let none = write(&d, "none.json", &json!([]));
    let o = apply(None, &none);
    assert_eq!((o.status.code(), out_json(&o)["error"]["code"].clone()), (Some(2), json!("pending")));
    // Another policy: policy_mismatch.
    let mut other = eucora_license_governance::policy::default_document();
    other["approvals"]["recommendation"]["quorum"] = json!(2);
    let other = write(&d, "other.json", &other);
    let o = bin()
        .arg("decide")
        .arg("--proposal")
        .arg(&proposal)
        .arg("--approvals")
        .arg(&approvals)
        .args(["--now", "2026-11-02T00:00:00Z", "--policy"])
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!((o.status.code(), out_json(&o)["error"]["code"].clone()), (Some(2), json!("policy_mismatch")));
}

fn audit(args: &[&str], log: &Path, extra: &[&std::ffi::OsStr]) -> Output {
    bin().arg("audit").arg(args[0]).arg(log).args(&args[1..]).args(extra).output().unwrap()
}

#[test]
fn audit_append_verify_checkpoint_prove_and_verify_proof() {
    let d = tmp("gov-audit");
    let log = d.join("audit.jsonl");
    for i in 0..5 {
        let e = write(
            &d,
            &format!("e{i}.json"),
            &json!({"at": format!("2026-11-0{}T10:00:00+02:00", i + 1), "actor": user("alice", &["license_admin"]),
            "action": "import.upload", "entity": {"type": "import_job", "id": format!("job-{i}")}, "details": {"rows": i}}),
        );
        let o = audit(&["append", "--entry"], &log, &[e.as_os_str()]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(out_json(&o)["seq"], i + 1);
    }
    let o = audit(&["verify"], &log, &[]);
    assert_eq!((o.status.code(), out_json(&o)), (Some(0), json!({"ok": true, "size": 5, "failure": null})));
    let o = audit(&["checkpoint"], &log, &[]);
    let cp5 = write(&d, "cp5.json", &out_json(&o));

    let o = audit(&["prove", "--seq", "3"], &log, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let proof = write(&d, "proof.json", &out_json(&o));
    let o = bin().args(["audit", "verify-proof"]).arg(&proof).arg("--checkpoint").arg(&cp5).output().unwrap();
    assert_eq!((o.status.code(), out_json(&o)["ok"].clone()), (Some(0), json!(true)));
    let o = audit(&["prove", "--seq", "6"], &log, &[]);
    assert_eq!((o.status.code(), out_json(&o)["error"]["code"].clone()), (Some(2), json!("out_of_range")));

    // The log grows; the old checkpoint proves it only grew.
    let lines = std::fs::read_to_string(&log).unwrap();
    let head: Vec<&str> = lines.lines().take(2).collect();
    let short = d.join("short.jsonl");
    std::fs::write(&short, head.join("\n") + "\n").unwrap();
    let cp2 = write(&d, "cp2.json", &out_json(&audit(&["checkpoint"], &short, &[])));
    let o = audit(&["consistency", "--old-size", "2"], &log, &[]);
    let cons = write(&d, "cons.json", &out_json(&o));
    let o = bin().args(["audit", "verify-proof"]).arg(&cons).arg("--checkpoint").arg(&cp2).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let cp5v: Value = serde_json::from_slice(&std::fs::read(&cp5).unwrap()).unwrap();
    assert_eq!(out_json(&o)["new_root"], cp5v["root"]);
    // Against the wrong checkpoint: not ok, exit 2.
    let o = bin().args(["audit", "verify-proof"]).arg(&cons).arg("--checkpoint").arg(&cp5).output().unwrap();
    assert_eq!((o.status.code(), out_json(&o)), (Some(2), json!({"ok": false, "reason": "size_mismatch"})));
    let o = audit(&["consistency", "--old-size", "0"], &log, &[]);
    assert_eq!(o.status.code(), Some(2));

    // A cut tail shows only against the checkpoint.
    let o = audit(&["verify"], &short, &[]);
    assert_eq!(o.status.code(), Some(0));
    let o = audit(&["verify", "--checkpoint"], &short, &[cp5.as_os_str()]);
    assert_eq!(
        (o.status.code(), out_json(&o)),
        (Some(2), json!({"ok": false, "size": 2, "failure": {"code": "checkpoint_mismatch", "seq": 5}}))
    );

    // An edited entry is named, and append refuses to extend the broken chain.
    let edited = lines.replacen("job-3", "job-X", 1);
    std::fs::write(&log, edited).unwrap();
    let o = audit(&["verify"], &log, &[]);
    assert_eq!(
        (o.status.code(), out_json(&o)),
        (Some(2), json!({"ok": false, "size": 5, "failure": {"code": "entry_hash_mismatch", "seq": 4}}))
    );
    let e = d.join("e0.json");
    let o = audit(&["append", "--entry"], &log, &[e.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 5);
}
