//! `propose --kind K --payload P.json --actor A.json --at T [--policy F]
//! [--correlation-id ID] [--evidence F.json]`: the proposal (DESIGN D5,
//! D6); a proposer without the kind's `*.propose` action is refused with
//! the D1 reason as the error code (exit 2).

use super::gov::{contract_error, json, policy, print_json, Args};
use crate::usage_error;
use std::process::ExitCode;

/// Run `propose` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let go = || -> Result<ExitCode, ExitCode> {
        let a = Args::parse(args, &["--kind", "--payload", "--actor", "--at", "--policy", "--correlation-id", "--evidence"])?;
        if !a.positional.is_empty() {
            return Err(usage_error("propose takes only options"));
        }
        let kind = a.need("--kind", "propose")?;
        let payload = json(a.need("--payload", "propose")?)?;
        let actor = json(a.need("--actor", "propose")?)?;
        let at = a.need("--at", "propose")?;
        let evidence = match a.get("--evidence") {
            Some(p) => json(p)?,
            None => serde_json::json!([]),
        };
        let policy = policy(&a)?;
        let p = eucora_license_governance::propose_json(kind, &payload, &actor, at, &policy, a.get("--correlation-id"), &evidence)
            .map_err(contract_error)?;
        print_json(&p.to_value());
        Ok(ExitCode::SUCCESS)
    };
    go().unwrap_or_else(|code| code)
}
