//! Shared harness of the adapter fuzz targets.
//!
//! Each target feeds arbitrary bytes to one adapter. The bytes are cut into
//! up to four input files on the ASCII record separator `0x1E` (so a seed can
//! be several pages or several SCCM views), and the first byte picks one of a
//! few option sets (none, the fixture's options, a non-UTC offset), so both
//! the defaulted and the explicit paths are explored.
//!
//! Beyond "no panic", the harness checks what callers rely on:
//! - the adapter is a pure function: a second run gives the same output;
//! - every row, rejection and identity fact points at an input file that exists;
//! - identity facts have a canonical id, a status of the directory's
//!   vocabulary and an RFC 3339 last activity (or none);
//! - a file that fails as a whole yields an error, never partial output.

use eucora_license_core::internal::adapters::{run, InputFile, Options};
use eucora_license_core::internal::hash::Digest32;
use eucora_license_core::internal::ruleset::{self, Ruleset};
use eucora_license_core::internal::signals::SignalStore;
use eucora_license_core::internal::time::Instant;
use std::sync::OnceLock;

/// The demo ruleset: adapter rows then go through the core's row rules too,
/// as they do in a real run.
fn demo_ruleset() -> &'static Ruleset {
    static RULESET: OnceLock<Ruleset> = OnceLock::new();
    RULESET.get_or_init(|| {
        ruleset::parse(include_bytes!("../../fixtures/demo/ruleset.json"), None).expect("demo ruleset is valid")
    })
}

/// The file separator of a fuzz input.
pub const SEPARATOR: u8 = 0x1e;

/// Run adapter `name` over `data` with one of `option_sets` (picked by the
/// first byte) and assert its invariants. Panics (= a finding) on violation.
pub fn fuzz_adapter(name: &str, extension: &str, option_sets: &[&[(&str, &str)]], data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let set = option_sets[usize::from(selector) % option_sets.len()];
    let options: Options = set.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let files: Vec<InputFile> = rest
        .split(|b| *b == SEPARATOR)
        .take(4)
        .enumerate()
        .map(|(i, bytes)| InputFile { path: format!("imports/{name}/f{i}.{extension}"), bytes: bytes.to_vec() })
        .collect();

    let first = run(name, &files, &options);
    let second = run(name, &files, &options);
    match (&first, &second) {
        (Ok((_, a)), Ok((_, b))) => {
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "adapter output is not deterministic");
            for (origin, _) in &a.signals {
                assert!(origin.file < files.len(), "row points at file {} of {}", origin.file, files.len());
            }
            for (file, _) in &a.rejected {
                assert!(*file < files.len(), "rejection points at a missing file");
            }
            assert_eq!(a.records.len(), files.len(), "one record count per file");
            // Identity facts in the directory's vocabulary (the run drops, with a
            // warning, any it would refuse; an adapter should emit none).
            for d in &a.directory {
                assert!(!d.canonical_id.trim().is_empty(), "identity fact without a canonical id");
                assert!(matches!(d.status.as_str(), "" | "active" | "disabled"), "status outside the directory's vocabulary");
                assert!(
                    d.last_active_at.is_empty() || Instant::parse(&d.last_active_at).is_ok(),
                    "last_active_at is not an RFC 3339 instant with offset"
                );
            }
            // The core validates adapter rows like canonical ones: must not panic,
            // and accepted + rejected rows never exceed the rows offered.
            let (adapter, _) = first.as_ref().map_err(|_| ()).expect("checked above");
            let described: Vec<(String, Digest32, u64)> =
                files.iter().map(|f| (f.path.clone(), Digest32([0; 32]), f.bytes.len() as u64)).collect();
            let mut store = SignalStore::default();
            let range = store.add_adapter_output(*adapter, &described, a, demo_ruleset());
            let accepted: u64 = store.jobs[range].iter().map(|j| j.rows_accepted).sum();
            assert!(accepted <= a.signals.len() as u64, "more rows accepted than produced");
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string(), "adapter error is not deterministic");
            assert!(!a.to_string().is_empty(), "empty error message");
        }
        _ => panic!("adapter succeeded once and failed once on the same input"),
    }
}
