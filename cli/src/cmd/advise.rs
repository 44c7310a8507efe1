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
    let a = match intel::parse("advise", args, &[]) {
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
        return match eucora_license_insight::api::advise_document(&intel::slices(&snaps), &pack, &policy) {
            Ok(doc) => {
                println!("{doc}");
                ExitCode::SUCCESS
            }
            Err(e) => intel::contract_error(e),
        };
    }
    let recs = match eucora_license_insight::advise(&intel::slices(&snaps), &pack, &policy) {
        Ok(x) => x,
        Err(e) => return intel::contract_error(e),
    };
    let as_of = match intel::as_of(snaps.last().map(Vec::as_slice).unwrap_or(&[])) {
        Ok(t) => t,
        Err(c) => return c,
    };
    intel::header(&policy, &as_of);
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
