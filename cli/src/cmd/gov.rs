//! What the governance subcommands share: the policy (`--policy F`, else
//! the shipped default, built in), JSON documents from a file or stdin (`-`), canonical
//! JSON out, and contract errors as `{"error": {"code", "message",
//! "path"}}` on stdout with exit status 2 (usage and I/O errors stay 1).

use crate::{io_error, read, usage_error};
use eucora_license_governance::{Error, Policy};
use serde_json::Value;
use std::io::Read as _;
use std::process::ExitCode;

/// Options as `--name value` pairs plus positional arguments.
pub(crate) struct Args {
    pub(crate) options: Vec<(String, String)>,
    pub(crate) positional: Vec<String>,
}

impl Args {
    /// Split `args`; every `--x` in `known` takes one value.
    pub(crate) fn parse(args: &[String], known: &[&str]) -> Result<Args, ExitCode> {
        let (mut options, mut positional) = (Vec::new(), Vec::new());
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a.starts_with("--") {
                if !known.contains(&a.as_str()) {
                    return Err(usage_error(&format!("unknown option `{a}`")));
                }
                let Some(v) = it.next() else { return Err(usage_error(&format!("{a} needs a value"))) };
                if options.iter().any(|(k, _): &(String, String)| k == a) {
                    return Err(usage_error(&format!("{a} given twice")));
                }
                options.push((a.clone(), v.clone()));
            } else {
                positional.push(a.clone());
            }
        }
        Ok(Args { options, positional })
    }

    /// The value of `--name`, if given.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value of `--name`, required.
    pub(crate) fn need(&self, name: &str, command: &str) -> Result<&str, ExitCode> {
        self.get(name).ok_or_else(|| usage_error(&format!("{command} needs {name}")))
    }
}

/// Bytes of a file, or of stdin when the path is `-`.
pub(crate) fn bytes(path: &str) -> Result<Vec<u8>, ExitCode> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(|e| io_error(format!("stdin: {e}")))?;
        return Ok(buf);
    }
    read::document(path)
}

/// A JSON document (strict: a repeated key is refused) from a file or stdin.
pub(crate) fn json(path: &str) -> Result<Value, ExitCode> {
    let b = bytes(path)?;
    let text = std::str::from_utf8(&b).map_err(|_| io_error(format!("{path}: not UTF-8")))?;
    eucora_license_core::internal::canonical::parse_strict(text).map_err(|e| io_error(format!("{path}: not JSON: {e}")))
}

/// The policy of `--policy`, else the shipped default
/// (`rulesets/default/policy-v1.json`, built in); an invalid policy is the
/// contract error `invalid_policy` (exit 2).
pub(crate) fn policy(args: &Args) -> Result<Policy, ExitCode> {
    match args.get("--policy") {
        Some(path) => Policy::from_slice(&bytes(path)?).map_err(contract_error),
        None => Ok(Policy::default_policy()),
    }
}

/// Print a value as canonical JSON on one line.
pub(crate) fn print_json(v: &Value) {
    match eucora_license_core::canonical_bytes(v) {
        Ok(b) => println!("{}", String::from_utf8_lossy(&b)),
        Err(_) => println!("{v}"),
    }
}

/// A contract error: `{"error": {...}}` on stdout, exit 2.
pub(crate) fn contract_error(e: Error) -> ExitCode {
    print_json(&e.to_json());
    ExitCode::from(2)
}
