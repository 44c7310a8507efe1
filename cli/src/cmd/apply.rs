//! `apply --proposal P.json --approvals L.json --now T [--policy F]
//! [--applied IDS.json]`: `{"change": {"kind", "proposal_id", "payload"}}`
//! when approved; otherwise exit 2 with the state (`pending`, `rejected`,
//! `expired`), `already_applied` or `policy_mismatch` as the code.

use super::gov::{contract_error, json, policy, print_json, Args};
use crate::usage_error;
use std::process::ExitCode;

/// Run `apply` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let go = || -> Result<ExitCode, ExitCode> {
        let a = Args::parse(args, &["--proposal", "--approvals", "--now", "--policy", "--applied"])?;
        if !a.positional.is_empty() {
            return Err(usage_error("apply takes only options"));
        }
        let proposal = json(a.need("--proposal", "apply")?)?;
        let approvals = json(a.need("--approvals", "apply")?)?;
        let now = a.need("--now", "apply")?;
        let applied = match a.get("--applied") {
            Some(p) => json(p)?,
            None => serde_json::json!([]),
        };
        let policy = policy(&a)?;
        let c = eucora_license_governance::apply_json(&proposal, &approvals, now, &policy, &applied).map_err(contract_error)?;
        print_json(&c.to_value());
        Ok(ExitCode::SUCCESS)
    };
    go().unwrap_or_else(|code| code)
}
