//! `audit append|verify|checkpoint|prove|consistency|verify-proof` (DESIGN
//! D5, D6). `LOG.jsonl` holds one canonical JSON entry per line, split on
//! `\n` only, blank lines ignored. `verify` prints `{"ok", "size",
//! "failure"}` and exits 2 naming the first bad entry; `verify-proof`
//! prints `{"ok": true, ...}` or `{"ok": false, "reason"}` (exit 2).

use super::gov::{bytes, contract_error, json, print_json, Args};
use crate::{io_error, usage_error};
use eucora_license_governance::{audit, Checkpoint};
use serde_json::Value;
use std::io::Write as _;
use std::process::ExitCode;

/// Run `audit <sub>` with its arguments (after `audit`).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let rest = args.get(1..).unwrap_or_default();
    let r = match args.first().map(String::as_str) {
        Some("append") => append(rest),
        Some("verify") => verify(rest),
        Some("checkpoint") => checkpoint(rest),
        Some("prove") => prove(rest),
        Some("consistency") => consistency(rest),
        Some("verify-proof") => verify_proof(rest),
        Some(other) => Err(usage_error(&format!("unknown audit command `{other}`"))),
        None => Err(usage_error("audit needs append, verify, checkpoint, prove, consistency or verify-proof")),
    };
    r.unwrap_or_else(|code| code)
}

/// The one positional argument (the log or the proof).
fn one_file<'a>(a: &'a Args, what: &str) -> Result<&'a str, ExitCode> {
    match a.positional.as_slice() {
        [f] => Ok(f),
        _ => Err(usage_error(&format!("audit {what} needs one file"))),
    }
}

/// A log's entries; a line that is not JSON stays in place as `null`, so
/// `verify` names it (`entry_hash_mismatch`) by position.
fn entries(path: &str) -> Result<Vec<Value>, ExitCode> {
    parse_lines(path, &bytes(path)?)
}

/// The log `append` extends: a file that does not exist yet is the empty log.
fn entries_or_new(path: &str) -> Result<Vec<Value>, ExitCode> {
    if path != "-" && !std::path::Path::new(path).exists() {
        return Ok(Vec::new());
    }
    entries(path)
}

fn parse_lines(path: &str, b: &[u8]) -> Result<Vec<Value>, ExitCode> {
    let text = std::str::from_utf8(b).map_err(|_| io_error(format!("{path}: not UTF-8")))?;
    Ok(text
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .map(|l| eucora_license_core::internal::canonical::parse_strict(l).unwrap_or(Value::Null))
        .collect())
}

fn number(a: &Args, name: &str, what: &str) -> Result<u64, ExitCode> {
    a.need(name, what)?.parse::<u64>().map_err(|_| usage_error(&format!("{name} needs a non-negative integer")))
}

fn append(args: &[String]) -> Result<ExitCode, ExitCode> {
    let a = Args::parse(args, &["--entry"])?;
    let log = one_file(&a, "append")?;
    let entry = json(a.need("--entry", "audit append")?)?;
    if log == "-" {
        return Err(usage_error("audit append needs a log file, not stdin"));
    }
    let all = entries_or_new(log)?;
    let report = audit::verify_log(&all, None);
    if !report.ok {
        // Never extend a chain that does not verify: name its first bad entry.
        print_json(&report.to_value());
        return Ok(ExitCode::from(2));
    }
    let e = audit::append(all.last(), &entry).map_err(contract_error)?;
    let line = eucora_license_core::canonical_bytes(&e).map_err(io_error)?;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(log).map_err(|e| io_error(format!("{log}: {e}")))?;
    f.write_all(&line).and_then(|_| f.write_all(b"\n")).and_then(|_| f.sync_data()).map_err(|e| io_error(format!("{log}: {e}")))?;
    print_json(&e);
    Ok(ExitCode::SUCCESS)
}

fn verify(args: &[String]) -> Result<ExitCode, ExitCode> {
    let a = Args::parse(args, &["--checkpoint"])?;
    let log = one_file(&a, "verify")?;
    let cp = match a.get("--checkpoint") {
        Some(p) => Some(Checkpoint::from_value(&json(p)?).map_err(contract_error)?),
        None => None,
    };
    let r = audit::verify_log(&entries(log)?, cp.as_ref());
    print_json(&r.to_value());
    Ok(if r.ok { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn checkpoint(args: &[String]) -> Result<ExitCode, ExitCode> {
    let a = Args::parse(args, &[])?;
    let c = audit::checkpoint(&entries(one_file(&a, "checkpoint")?)?).map_err(contract_error)?;
    print_json(&c.to_value());
    Ok(ExitCode::SUCCESS)
}

fn prove(args: &[String]) -> Result<ExitCode, ExitCode> {
    let a = Args::parse(args, &["--seq"])?;
    let log = one_file(&a, "prove")?;
    let seq = number(&a, "--seq", "audit prove")?;
    print_json(&audit::prove_entry(&entries(log)?, seq).map_err(contract_error)?);
    Ok(ExitCode::SUCCESS)
}

fn consistency(args: &[String]) -> Result<ExitCode, ExitCode> {
    let a = Args::parse(args, &["--old-size"])?;
    let log = one_file(&a, "consistency")?;
    let old = number(&a, "--old-size", "audit consistency")?;
    print_json(&audit::prove_consistency(&entries(log)?, old).map_err(contract_error)?);
    Ok(ExitCode::SUCCESS)
}

fn verify_proof(args: &[String]) -> Result<ExitCode, ExitCode> {
    let a = Args::parse(args, &["--checkpoint"])?;
    let proof = json(one_file(&a, "verify-proof")?)?;
    let cp = json(a.need("--checkpoint", "audit verify-proof")?)?;
    let v = audit::verify_proof(&proof, &cp);
    print_json(&v.to_value());
    Ok(if v.ok() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}
