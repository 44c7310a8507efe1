//! `compliance <run> [--license-id U] [--organization-uuid U] [--policy F]
//! [--json]` (DESIGN C4, C5): `it_check_license_compliance` over one run,
//! its names from the run's evidence pack (checked against the snapshot).
//! Reports the policy's identity (the default unless `--policy`).
//!
//! Exit codes: 0 printed; 2 a contract error as JSON on stdout; 1 usage or
//! I/O error.

use super::intel;
use std::process::ExitCode;

/// Run `compliance` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let l = match intel::load("compliance", args, &["--organization-uuid", "--license-id"], true) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let snapshot = l.latest();
    if l.args.json {
        // The document every binding returns too (built once, in the crate).
        let (lid, org) = (l.args.license_id.as_deref(), l.args.organization_uuid.as_deref());
        return intel::print_document(eucora_license_insight::api::compliance_document(snapshot, &l.pack, &l.policy, lid, org));
    }
    let rows = match eucora_license_insight::compliance_check(
        snapshot,
        &l.pack,
        l.args.organization_uuid.as_deref(),
        l.args.license_id.as_deref(),
    ) {
        Ok(x) => x,
        Err(e) => return intel::contract_error(e),
    };
    let as_of = match intel::as_of(snapshot) {
        Ok(t) => t,
        Err(c) => return c,
    };
    intel::header(&l.policy, &as_of);
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
