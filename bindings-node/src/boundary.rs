//! Errors on their way to JavaScript (`Error` objects with a stable `.code`)
//! and the panic boundary every export runs its body under.

use eucora_license_core::{self as core_, Error as CoreError};
use napi::bindgen_prelude::*;
use napi::{Env, Status};
use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// An error on its way to JavaScript.
pub struct Failure {
    code: String,
    message: String,
    extra: Vec<(&'static str, Value)>,
}

impl Failure {
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Self {
        Failure { code: code.to_string(), message: message.into(), extra: Vec::new() }
    }

    pub(crate) fn arg(message: impl Into<String>) -> Self {
        Failure::new("invalid_argument", message)
    }

    fn with(mut self, key: &'static str, value: Value) -> Self {
        self.extra.push((key, value));
        self
    }

    fn from_core(e: &CoreError) -> Self {
        let mut f = Failure::new(e.code().name(), e.to_string()).with("number", json!(e.code().number()));
        if let Some(loc) = e.location() {
            if !loc.file.is_empty() {
                f = f.with("file", json!(loc.file));
            }
            if let Some(line) = loc.line {
                f = f.with("line", json!(line));
            }
            if let Some(field) = &loc.field {
                f = f.with("field", json!(field));
            }
        }
        f
    }

    /// A run that failed closed: the first error's code, every error, the
    /// reasons and the run report.
    pub(crate) fn from_failed_run(out: &core_::Outcome) -> Self {
        let Some(first) = out.errors.first() else {
            return Failure::new("internal", "the run failed without an error");
        };
        let more = out.errors.len() - 1;
        let mut f = Failure::from_core(first);
        f.message = format!(
            "reconciliation failed closed: {}{}",
            first,
            if more > 0 { format!(" (and {more} more error{})", if more == 1 { "" } else { "s" }) } else { String::new() }
        );
        let report = out.report.to_json();
        f.with("reasons", report["reasons"].clone()).with("errors", report["errors"].clone()).with("report", report)
    }

    pub(crate) fn invalid_ruleset(what: &str, issues: &[core_::RulesetIssue]) -> Self {
        let e = core_::ruleset_issues_to_error(what, issues);
        Failure::new("invalid_ruleset", e.to_string())
            .with("number", json!(e.code().number()))
            .with("errors", serde_json::to_value(issues).unwrap_or(Value::Null))
    }
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::from_core(&e)
    }
}

/// A contract error of the intelligence layer (DESIGN C6): its code
/// (`invalid_policy`, `chain_broken`, `pack_invalid`, `pack_mismatch`,
/// `invalid_input`), message and `.index` (the 1-based position of the
/// offending snapshot, `null` for a policy error).
impl From<eucora_license_insight::InsightError> for Failure {
    fn from(e: eucora_license_insight::InsightError) -> Self {
        Failure::new(e.code.name(), e.message).with("index", json!(e.index))
    }
}

/// A governance contract error (DESIGN D1–D3, D6): its stable code
/// (`invalid_policy`, `unknown_action`, `policy_mismatch`, a refusal reason
/// such as `role_lacks_action`, a proposal state such as `pending`, ...),
/// message and `.path`, the JSON path of the offending value when known.
impl From<eucora_license_governance::Error> for Failure {
    fn from(e: eucora_license_governance::Error) -> Self {
        let f = Failure::new(e.code, e.message);
        match e.path {
            Some(p) => f.with("path", json!(p)),
            None => f,
        }
    }
}

/// An error of the agents' API (DESIGN D4): `invalid_actor`,
/// `invalid_instant`, `unknown_agent`, ...
impl From<eucora_license_agents::Error> for Failure {
    fn from(e: eucora_license_agents::Error) -> Self {
        Failure::new(e.code, e.message)
    }
}

impl From<napi::Error> for Failure {
    fn from(e: napi::Error) -> Self {
        Failure::arg(e.reason.clone())
    }
}

pub(crate) type NResult<T> = std::result::Result<T, Failure>;

/// The `Error` object JavaScript sees.
pub(crate) fn js_error(env: &Env, f: Failure) -> napi::Error {
    let build = || -> napi::Result<napi::Error> {
        let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, f.message.clone()))?;
        obj.set_named_property("code", f.code.as_str())?;
        for (key, value) in &f.extra {
            obj.set_named_property(key, env.to_js_value(value)?)?;
        }
        Ok(napi::Error::from(obj.to_unknown()))
    };
    build().unwrap_or_else(|_| napi::Error::new(Status::GenericFailure, format!("{}: {}", f.code, f.message)))
}

pub(crate) fn panic_failure() -> Failure {
    Failure::new("internal", "internal error in the engine (a bug; please report it)")
}

/// Run one export's body: its `Failure` becomes a coded `Error`, a panic an
/// `Error` with code `internal`.
pub(crate) fn guard<T>(env: &Env, body: impl FnOnce() -> NResult<T>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(f)) => Err(js_error(env, f)),
        Err(_) => Err(js_error(env, panic_failure())),
    }
}
