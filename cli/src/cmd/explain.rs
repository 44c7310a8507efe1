//! `explain <old-run> <new-run> --sku <id>`: in words, why one SKU's numbers
//! changed between two consecutive runs; every number comes from the diff.
//!
//! Exit codes: 0 the explanation was printed; 2 a run does not open, the
//! runs are not consecutive or the SKU is unknown; 1 usage or I/O error.

use super::pair;
use crate::{failed, read};
use std::process::ExitCode;

/// Run `explain` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let p = match pair::parse(args, true) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let ((prev, _), (cur, detail)) = match read::run_pair(&p.old, &p.new) {
        Ok(runs) => runs,
        Err(code) => return code,
    };
    match eucora_license_core::explain(&prev, &cur, detail.as_ref(), p.sku.as_deref().unwrap_or("")) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => failed(e),
    }
}
