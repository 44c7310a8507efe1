//! A chained history of three runs: `diff`, `explain` and the shared pack.

use crate::common::{bin, history_step, tmp};

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
