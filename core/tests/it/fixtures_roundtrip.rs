//! Every bundle under `fixtures/` (any folder with a `bundle.json`)
//! reconciles, and its evidence pack verifies with replay.

use eucora_license_core::internal::evidence::{verify, write_pack};
use eucora_license_core::reconcile;
use std::path::{Path, PathBuf};

fn bundles(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("bundle.json").is_file() {
        out.push(dir.to_path_buf());
        return;
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    entries.sort();
    for e in entries {
        bundles(&e, out);
    }
}

#[test]
fn every_fixture_bundle_round_trips_through_its_pack() {
    let root = crate::common::fixtures();
    let mut found = Vec::new();
    bundles(&root, &mut found);
    assert!(found.len() >= 4, "{found:?}");
    for dir in &found {
        let out = reconcile(&crate::common::load_dir(dir), None);
        assert!(out.errors.is_empty(), "{}: {:?}", dir.display(), out.errors);
        let (pack, _) = write_pack(&out, Vec::new()).unwrap();
        let report = verify(&pack, None);
        assert!(report.ok, "{}: {:?}", dir.display(), report.first_failure);
        assert_eq!(report.snapshot_hash.as_deref(), Some(out.snapshot.as_ref().unwrap().hash().to_prefixed().as_str()));
    }
}
