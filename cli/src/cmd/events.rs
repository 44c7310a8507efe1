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
    let l = match intel::load("events", args, &["--organization-uuid"], false) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let org = l.args.organization_uuid.as_deref();
    if l.args.json {
        // The document every binding returns too (built once, in the crate);
        // the payloads' money numbers are written as they stand.
        return intel::print_document(eucora_license_insight::api::events_document(&l.history(), &l.pack, &l.policy, org, None));
    }
    let events = match eucora_license_insight::events(&l.history(), &l.pack, &l.policy, org, None) {
        Ok(x) => x,
        Err(e) => return intel::contract_error(e),
    };
    let as_of = match intel::as_of(l.latest()) {
        Ok(t) => t,
        Err(c) => return c,
    };
    intel::header(&l.policy, &as_of);
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
