//! `decide --proposal P.json --approvals L.json --now T [--policy F]`:
//! `{"state", "counted", "refused"}` (DESIGN D5, D6); `policy_mismatch`
//! and malformed input are contract errors (exit 2).

use super::gov::{contract_error, json, policy, print_json, Args};
use crate::usage_error;
use std::process::ExitCode;

/// Run `decide` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let go = || -> Result<ExitCode, ExitCode> {
        let a = Args::parse(args, &["--proposal", "--approvals", "--now", "--policy"])?;
        if !a.positional.is_empty() {
            return Err(usage_error("decide takes only options"));
        }
        let proposal = json(a.need("--proposal", "decide")?)?;
        let approvals = json(a.need("--approvals", "decide")?)?;
        let now = a.need("--now", "decide")?;
        let policy = policy(&a)?;
        let d = eucora_license_governance::decide_json(&proposal, &approvals, now, &policy).map_err(contract_error)?;
        print_json(&d.to_value());
        Ok(ExitCode::SUCCESS)
    };
    go().unwrap_or_else(|code| code)
}
