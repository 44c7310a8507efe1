//! `verify-proof <proof.json> [--snapshot-hash <sha256:…> | --snapshot
//! <snapshot.json>]`: check an inclusion proof made by `prove`. With a
//! trusted snapshot hash (or the snapshot itself) the proof is bound to
//! that snapshot; without, only to the skus_root it carries, and the output
//! says so.
//!
//! Exit codes: 0 the proof holds; 2 it does not (`NOT verified: …` on
//! stdout); 1 usage or I/O error, a proof that is not JSON included.

use crate::{read, usage_error};
use serde_json::Value;
use std::process::ExitCode;

/// The proof file and what it is checked against (at most one of the two).
struct ProofArgs {
    path: String,
    trusted_hash: Option<String>,
    trusted_snapshot: Option<String>,
}

/// Run `verify-proof` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let a = match parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let proof = match read::json(&a.path) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let snapshot = match a.trusted_snapshot.as_deref().map(read::document).transpose() {
        Ok(s) => s,
        Err(code) => return code,
    };
    let result = match (&a.trusted_hash, &snapshot) {
        (Some(h), _) => eucora_license_core::verify_proof_against(&proof, h),
        (None, Some(s)) => eucora_license_core::verify_proof_with_snapshot(&proof, s),
        (None, None) => eucora_license_core::verify_proof(&proof),
    };
    match result {
        Ok(()) => {
            print_verified(&proof, a.trusted_hash.is_some() || snapshot.is_some());
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("NOT verified: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: &[String]) -> Result<ProofArgs, ExitCode> {
    let (mut path, mut trusted_hash, mut trusted_snapshot) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--snapshot-hash" => match it.next() {
                Some(h) => trusted_hash = Some(h.clone()),
                None => return Err(usage_error("--snapshot-hash needs sha256:<64 hex>")),
            },
            "--snapshot" => match it.next() {
                Some(p) => trusted_snapshot = Some(p.clone()),
                None => return Err(usage_error("--snapshot needs a snapshot file")),
            },
            s if s.starts_with("--") => return Err(usage_error(&format!("unknown option `{s}`"))),
            s if path.is_none() => path = Some(s.to_string()),
            _ => return Err(usage_error("verify-proof needs one proof file")),
        }
    }
    let Some(path) = path else { return Err(usage_error("verify-proof needs one proof file")) };
    if trusted_hash.is_some() && trusted_snapshot.is_some() {
        return Err(usage_error("verify-proof takes --snapshot-hash or --snapshot, not both"));
    }
    Ok(ProofArgs { path, trusted_hash, trusted_snapshot })
}

/// What a proof that holds was bound to: the trusted snapshot, or only the
/// skus_root it carries.
fn print_verified(proof: &Value, bound: bool) {
    let sku = proof["sku"].as_str().unwrap_or("");
    if bound {
        println!("verified: `{sku}` is in snapshot {}", proof["snapshot_hash"].as_str().unwrap_or(""));
        return;
    }
    println!("verified: `{}` is in skus_root {}", sku, proof["skus_root"].as_str().unwrap_or(""));
    println!(
        "(bound to snapshot {} as the proof claims: pass --snapshot-hash with a hash you trust to bind it)",
        proof["snapshot_hash"].as_str().unwrap_or("?")
    );
}
