//! `verify <pack.tar> [--previous <snapshot.json>] [--json]`: check an
//! evidence pack offline (artifact hashes, manifest, snapshot hash, Merkle
//! roots, chain link to `--previous`) and replay the reconciliation from it;
//! print every check with its status (or the report as JSON).
//!
//! Exit codes: 0 every check passed; 2 a check failed; 1 usage or I/O error.

use crate::{read, usage_error};
use eucora_license_core::VerifyReport;
use eucora_license_dir::files;
use std::path::Path;
use std::process::ExitCode;

struct VerifyArgs {
    pack: String,
    previous: Option<String>,
    json: bool,
}

/// Run `verify` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let a = match parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let pack = match read::stream(Path::new(&a.pack), files::BULK_LIMIT) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let prev = match a.previous.as_deref().map(read::document).transpose() {
        Ok(p) => p,
        Err(code) => return code,
    };
    // One pass over the file, never held (issue 15): each member hashed as it
    // passes, the signals fed to the replay line by line, the replay run once
    // every other check has passed. (Before, the pack was read whole and a
    // second thread replayed it while this one hashed: faster on two cores,
    // but the pack and the replay's inputs were both in memory.)
    let report = eucora_license_core::verify_pack_reader(pack, prev.as_deref());
    print_report(&report, a.json);
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn parse(args: &[String]) -> Result<VerifyArgs, ExitCode> {
    let (mut pack, mut previous, mut json) = (None, None, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--previous" => match it.next() {
                Some(p) => previous = Some(p.clone()),
                None => return Err(usage_error("--previous needs a snapshot file")),
            },
            "--json" => json = true,
            s if s.starts_with("--") => return Err(usage_error(&format!("unknown option `{s}`"))),
            s => pack = Some(s.to_string()),
        }
    }
    let Some(pack) = pack else {
        return Err(usage_error("verify needs a pack file"));
    };
    Ok(VerifyArgs { pack, previous, json })
}

/// The report as JSON, or one line per check and the verdict.
fn print_report(report: &VerifyReport, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(report).unwrap_or_default());
        return;
    }
    for c in &report.checks {
        println!("{:<8} {:<32} {}", c.status, c.name, c.detail);
    }
    match &report.first_failure {
        None => println!("\nverified: every check passed; snapshot {}", report.snapshot_hash.as_deref().unwrap_or("")),
        Some(f) => println!("\nNOT verified: first failed check: {f}"),
    }
}
