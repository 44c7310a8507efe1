//! `prove <snapshot.json> --sku <id>`: print one SKU's record with its
//! Merkle audit path to the snapshot's skus_root, as JSON (checked by
//! `verify-proof`).
//!
//! Exit codes: 0 the proof was printed; 2 the snapshot does not verify or
//! has no such SKU; 1 usage or I/O error.

use crate::{failed, read, usage_error};
use std::process::ExitCode;

/// Run `prove` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let (mut snapshot, mut sku) = (None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sku" => sku = it.next().cloned(),
            s if s.starts_with("--") => return usage_error(&format!("unknown option `{s}`")),
            s => snapshot = Some(s.to_string()),
        }
    }
    let (Some(snapshot), Some(sku)) = (snapshot, sku) else {
        return usage_error("prove needs <snapshot.json> --sku <id>");
    };
    let bytes = match read::document(&snapshot) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let snap = match eucora_license_core::Snapshot::parse_verified(&bytes) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    match eucora_license_core::prove(&snap, &sku) {
        Ok(p) => {
            println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => failed(e),
    }
}
