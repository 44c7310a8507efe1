//! `agent run <agent> --actor A.json --at T [--correlation-id ID]
//! [--responses R.json] [--model-id ID] [--policy F] [NAME=PATH]...` and
//! `agent replay <run.json> [NAME=PATH]...` (DESIGN D4; docs/agents.md).
//!
//! Inputs are named: `NAME=PATH` gives the file's bytes as input `NAME`,
//! or, for a directory, every file under it as `NAME/<relative path>`.
//! `--policy F` is the input `policy`. `--responses` is a scripted model's
//! JSON map `{agent: {purpose: reply | [replies]}}` (never a network);
//! without it the agent runs with no model, deterministically.
//!
//! `run` prints `{"run", "audit_entry"}` (exit 0 when the run is ok, 2 when
//! it failed: a refusal or a failed reconcile); `replay` prints `{"ok":
//! true, "run_id", "outputs"}` when the recorded outputs are reproduced byte
//! for byte, else `{"ok": false, "error": {"code", "message"}}` with exit 2.
//! Contract errors (bad actor, unknown agent) are `{"error"}` with exit 2.

use super::gov::{bytes, json, print_json, Args};
use crate::{io_error, usage_error};
use eucora_license_agents::{replay, run as run_machine, AgentMachine, Inputs, Model, ScriptedModel};
use eucora_license_core::AgentName;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

/// Run `agent` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    match args.first().map(String::as_str) {
        Some("run") => run_cmd(&args[1..]).unwrap_or_else(|c| c),
        Some("replay") => replay_cmd(&args[1..]).unwrap_or_else(|c| c),
        _ => usage_error("agent needs `run` or `replay`"),
    }
}

fn agent_error(e: eucora_license_agents::Error) -> ExitCode {
    print_json(&e.to_json());
    ExitCode::from(2)
}

/// `NAME=PATH` arguments into named inputs.
fn inputs(named: &[String], into: &mut Inputs) -> Result<(), ExitCode> {
    for n in named {
        let Some((name, path)) = n.split_once('=') else { return Err(usage_error(&format!("expected NAME=PATH, got `{n}`"))) };
        let p = Path::new(path);
        if p.is_dir() {
            walk(name, p, p, into)?;
        } else {
            into.insert(name.to_string(), bytes(path)?);
        }
    }
    Ok(())
}

fn walk(name: &str, base: &Path, dir: &Path, into: &mut Inputs) -> Result<(), ExitCode> {
    let rd = std::fs::read_dir(dir).map_err(|e| io_error(format!("{}: {e}", dir.display())))?;
    let mut paths: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(name, base, &p, into)?;
        } else {
            let rel = p.strip_prefix(base).map_err(|_| io_error("path outside its directory"))?;
            let rel = rel.to_string_lossy().replace('\\', "/");
            into.insert(format!("{name}/{rel}"), bytes(&p.to_string_lossy())?);
        }
    }
    Ok(())
}

fn run_cmd(args: &[String]) -> Result<ExitCode, ExitCode> {
    let a = Args::parse(args, &["--actor", "--at", "--correlation-id", "--responses", "--model-id", "--policy"])?;
    let Some((name, named)) = a.positional.split_first() else { return Err(usage_error("agent run needs an agent name")) };
    let Some(agent) = AgentName::from_name(name) else {
        print_json(&json!({"error": {"code": "unknown_agent", "message": format!("no agent `{name}`")}}));
        return Ok(ExitCode::from(2));
    };
    let actor = json(a.need("--actor", "agent run")?)?;
    let at = a.need("--at", "agent run")?;
    let mut ins = Inputs::new();
    inputs(named, &mut ins)?;
    if let Some(p) = a.get("--policy") {
        ins.insert("policy".into(), bytes(p)?);
    }
    let mut model = match a.get("--responses") {
        Some(p) => Some(ScriptedModel::from_map(a.get("--model-id").unwrap_or("scripted"), &json(p)?).map_err(agent_error)?),
        None => None,
    };
    let model_id = model.as_ref().map(Model::id);
    let mut m = AgentMachine::new(agent, &actor, at, a.get("--correlation-id"), ins, model_id.as_deref()).map_err(agent_error)?;
    let r = run_machine(&mut m, model.as_mut().map(|m| m as &mut dyn Model));
    print_json(&json!({"run": r.to_value(), "audit_entry": r.audit_entry()}));
    Ok(if r.status == "ok" { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn replay_cmd(args: &[String]) -> Result<ExitCode, ExitCode> {
    let a = Args::parse(args, &[])?;
    let Some((path, named)) = a.positional.split_first() else { return Err(usage_error("agent replay needs a run file")) };
    let doc = json(path)?;
    let rec = if doc.get("run").is_some() { doc["run"].clone() } else { doc };
    let mut ins = Inputs::new();
    inputs(named, &mut ins)?;
    match replay(&rec, &ins) {
        Ok(r) => {
            print_json(&json!({"ok": true, "run_id": r.run_id, "outputs": r.outputs}));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            print_json(&json!({"ok": false, "error": {"code": e.code, "message": e.message}}));
            Ok(ExitCode::from(2))
        }
    }
}
