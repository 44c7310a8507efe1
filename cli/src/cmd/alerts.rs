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
    let l = match intel::load("alerts", args, &[], false) {
        Ok(l) => l,
        Err(c) => return c,
    };
    if l.args.json {
        // The document every binding returns too (built once, in the crate).
        return intel::print_document(eucora_license_insight::api::alerts_document(&l.history(), &l.pack, &l.policy));
    }
    let alerts = match eucora_license_insight::alerts(&l.history(), &l.pack, &l.policy) {
        Ok(x) => x,
        Err(e) => return intel::contract_error(e),
    };
    let as_of = match intel::as_of(l.latest()) {
        Ok(t) => t,
        Err(c) => return c,
    };
    intel::header(&l.policy, &as_of);
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
