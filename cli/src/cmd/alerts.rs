//! `alerts <run>... [--policy F] [--json]` (DESIGN C2, C5): the alerts of a
//! history of runs, oldest first, the latest with its evidence pack.
//!
//! Exit codes: 0 printed; 2 a contract error (`invalid_policy`,
//! `chain_broken`, `pack_invalid`, `pack_mismatch`) as JSON on stdout;
//! 1 usage or I/O error.

use super::intel;
use std::process::ExitCode;

/// Run `alerts` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let a = match intel::parse("alerts", args, &[]) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let policy = match intel::policy(a.policy.as_deref()) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let (snaps, pack) = match intel::read_runs(&a.runs) {
        Ok(r) => r,
        Err(c) => return c,
    };
    if a.json {
        // The document every binding returns too (built once, in the crate).
        return match eucora_license_insight::api::alerts_document(&intel::slices(&snaps), &pack, &policy) {
            Ok(doc) => {
                println!("{doc}");
                ExitCode::SUCCESS
            }
            Err(e) => intel::contract_error(e),
        };
    }
    let alerts = match eucora_license_insight::alerts(&intel::slices(&snaps), &pack, &policy) {
        Ok(x) => x,
        Err(e) => return intel::contract_error(e),
    };
    let as_of = match intel::as_of(snaps.last().map(Vec::as_slice).unwrap_or(&[])) {
        Ok(t) => t,
        Err(c) => return c,
    };
    intel::header(&policy, &as_of);
    if alerts.is_empty() {
        println!("no alert");
    } else {
        println!("{:<9} {:<24} {:<40} MESSAGE", "SEVERITY", "TYPE", "SUBJECT");
    }
    for x in &alerts {
        let sev = serde_json::to_value(x.severity).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        println!("{:<9} {:<24} {:<40} {}", sev, x.kind, intel::subject_text(&x.subject), x.message);
    }
    ExitCode::SUCCESS
}
