//! The setup every area shares: the binary, the fixtures, emptied
//! temporary directories, a bundle copied, a run of `reconcile`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_eucora-license"))
}

/// The demo organisation as raw exports (`imports/<adapter>/`) plus a few canonical rows.
pub fn demo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo"))
}

/// The same organisation as canonical signal files only.
pub fn demo_canonical() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo-canonical"))
}

/// Step `n` of the demo's history (a bundle per run).
pub fn history_step(n: usize) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo-history")).join(format!("step-{n}"))
}

/// An empty directory `name` (a relative path) under the target's
/// temporary directory; whatever an earlier run left there is removed.
pub fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Copy a directory tree (a bundle to modify).
pub fn copy_dir(from: &Path, to: &Path) {
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

/// `reconcile <bundle> --out <out> <extra>...`, run to its end.
pub fn reconcile(bundle: &Path, out: &Path, extra: &[&str]) -> Output {
    bin().arg("reconcile").arg(bundle).arg("--out").arg(out).args(extra).output().unwrap()
}

/// The demo reconciled into a fresh directory `name`; it must succeed.
pub fn reconcile_demo(name: &str) -> PathBuf {
    let out = tmp(name);
    let o = bin().arg("reconcile").arg(demo()).arg("--out").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// stdout then stderr, for assertion messages.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}
