//! `advise <run>... [--policy F] [--json]` (DESIGN C3, C5): the ranked
//! recommendations of a history of runs, the latest with its evidence pack.
//! Recommend only: nothing is changed.
//!
//! Exit codes: 0 printed; 2 a contract error as JSON on stdout; 1 usage or
//! I/O error.

use super::intel;
use std::process::ExitCode;

/// Run `advise` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let l = match intel::load("advise", args, &[], false) {
        Ok(l) => l,
        Err(c) => return c,
    };
    if l.args.json {
        // The document every binding returns too (built once, in the crate).
        return intel::print_document(eucora_license_insight::api::advise_document(&l.history(), &l.pack, &l.policy));
    }
    let recs = match eucora_license_insight::advise(&l.history(), &l.pack, &l.policy) {
        Ok(x) => x,
        Err(e) => return intel::contract_error(e),
    };
    let as_of = match intel::as_of(l.latest()) {
        Ok(t) => t,
        Err(c) => return c,
    };
    intel::header(&l.policy, &as_of);
    if recs.is_empty() {
        println!("no recommendation");
    } else {
        println!("{:>4} {:<17} {:<44} {:>4} {:>12} {:>12} MESSAGE", "RANK", "TYPE", "SUBJECT", "QTY", "AMOUNT", "ANNUALIZED");
    }
    for r in &recs {
        println!(
            "{:>4} {:<17} {:<44} {:>4} {:>12} {:>12} {}",
            r.rank,
            r.kind,
            intel::subject_text(&r.subject),
            r.quantity,
            r.amount.as_deref().unwrap_or("-"),
            r.annualized.as_deref().map(|x| format!("{x} {}", r.currency)).unwrap_or_else(|| "-".into()),
            r.message
        );
    }
    ExitCode::SUCCESS
}
