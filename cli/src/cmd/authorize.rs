//! `authorize --actor A.json --action X [--policy F]`: the D1 decision as
//! `{"allowed", "action", "reason"}` (DESIGN D5). A "no" exits 0; an
//! unknown role, action or agent is a contract error (exit 2).

use super::gov::{contract_error, json, policy, print_json, Args};
use crate::usage_error;
use std::process::ExitCode;

/// Run `authorize` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let go = || -> Result<ExitCode, ExitCode> {
        let a = Args::parse(args, &["--actor", "--action", "--policy"])?;
        if !a.positional.is_empty() {
            return Err(usage_error("authorize takes only options"));
        }
        let actor = json(a.need("--actor", "authorize")?)?;
        let action = a.need("--action", "authorize")?;
        let policy = policy(&a)?;
        let d = eucora_license_governance::authorize_json(&actor, action, &policy).map_err(contract_error)?;
        print_json(&serde_json::json!({"allowed": d.allowed, "action": d.action, "reason": d.reason}));
        Ok(ExitCode::SUCCESS)
    };
    go().unwrap_or_else(|code| code)
}
