//! `events <run>... [--policy F] [--organization-uuid U] [--json]` (DESIGN
//! C4, C5): the IT-04 event payloads of seed 003 for the latest run.
//! Money fields are JSON numbers with two decimals; `renewed_by` is null.
//!
//! Exit codes: 0 printed; 2 a contract error as JSON on stdout; 1 usage or
//! I/O error.

use super::intel;
use std::process::ExitCode;

/// Run `events` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let a = match intel::parse("events", args, &["--organization-uuid"]) {
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
    let org = a.organization_uuid.as_deref();
    if a.json {
        // The document every binding returns too (built once, in the crate);
        // the payloads' money numbers are written as they stand.
        return match eucora_license_insight::api::events_document(&intel::slices(&snaps), &pack, &policy, org, None) {
            Ok(doc) => {
                println!("{doc}");
                ExitCode::SUCCESS
            }
            Err(e) => intel::contract_error(e),
        };
    }
    let events = match eucora_license_insight::events(&intel::slices(&snaps), &pack, &policy, org, None) {
        Ok(x) => x,
        Err(e) => return intel::contract_error(e),
    };
    let as_of = match intel::as_of(snaps.last().map(Vec::as_slice).unwrap_or(&[])) {
        Ok(t) => t,
        Err(c) => return c,
    };
    intel::header(&policy, &as_of);
    if events.is_empty() {
        println!("no event");
    } else {
        println!("{:<28} {:<36} PAYLOAD", "EVENT", "LICENSE");
    }
    for e in &events {
        println!("{:<28} {:<36} {}", e.event_type(), e.license_id(), serde_json::to_string(e).unwrap_or_default());
    }
    ExitCode::SUCCESS
}
