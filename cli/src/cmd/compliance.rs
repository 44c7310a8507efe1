//! `compliance <run> [--license-id U] [--organization-uuid U] [--policy F]
//! [--json]` (DESIGN C4, C5): `it_check_license_compliance` over one run,
//! its names from the run's evidence pack (checked against the snapshot).
//! Reports the policy's identity (the default unless `--policy`).
//!
//! Exit codes: 0 printed; 2 a contract error as JSON on stdout; 1 usage or
//! I/O error.

use super::intel;
use crate::usage_error;
use std::process::ExitCode;

/// Run `compliance` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let a = match intel::parse("compliance", args, &["--organization-uuid", "--license-id"]) {
        Ok(a) => a,
        Err(c) => return c,
    };
    if a.runs.len() != 1 {
        return usage_error("compliance takes one run");
    }
    let policy = match intel::policy(a.policy.as_deref()) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let (snaps, pack) = match intel::read_runs(&a.runs) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let snapshot = snaps.last().map(Vec::as_slice).unwrap_or(&[]);
    if a.json {
        // The document every binding returns too (built once, in the crate).
        let (lid, org) = (a.license_id.as_deref(), a.organization_uuid.as_deref());
        return match eucora_license_insight::api::compliance_document(snapshot, &pack, &policy, lid, org) {
            Ok(doc) => {
                println!("{doc}");
                ExitCode::SUCCESS
            }
            Err(e) => intel::contract_error(e),
        };
    }
    let rows = match eucora_license_insight::compliance_check(snapshot, &pack, a.organization_uuid.as_deref(), a.license_id.as_deref()) {
        Ok(x) => x,
        Err(e) => return intel::contract_error(e),
    };
    let as_of = match intel::as_of(snapshot) {
        Ok(t) => t,
        Err(c) => return c,
    };
    intel::header(&policy, &as_of);
    println!("{:<36} {:<44} {:>8} {:>8} {:>8} {:>9} STATUS", "LICENSE", "SOFTWARE", "LICENSES", "USAGE", "VARIANCE", "VARIANCE%");
    for r in &rows {
        println!(
            "{:<36} {:<44} {:>8} {:>8} {:>8} {:>9} {}",
            r.license_id,
            r.software_name.as_deref().unwrap_or("-"),
            r.license_count,
            r.usage_count,
            r.variance,
            r.variance_percent.as_ref().map(|m| m.as_str()).unwrap_or("-"),
            r.compliance_status
        );
    }
    ExitCode::SUCCESS
}
