//! Policies (DESIGN C1, D6): validate, hash. The rules are the intelligence
//! crate's (`eucora-license-insight`); `eucora-ruleset check` calls these.

use crate::boundary::guard;
use crate::convert::json_arg;
use crate::ruleset::{RulesetError, RulesetValidation};
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;

/// Validate a policy document (JSON text, Buffer or object). Never throws
/// for an invalid policy: the result lists every problem with its JSON path
/// (codes `invalid_json`, `missing_key`, `unknown_key`, `wrong_type`,
/// `out_of_range`, `unknown_name`, `duplicate`); `hash` is its
/// `eucora.policy.v1` hash.
#[napi(catch_unwind, ts_args_type = "policy: string | Uint8Array | object")]
pub fn validate_policy(env: Env, policy: Unknown<'_>) -> napi::Result<RulesetValidation> {
    guard(&env, || {
        let bytes = json_arg(&env, &policy, "policy")?;
        Ok(match eucora_license_insight::Policy::check(&bytes) {
            Ok(p) => RulesetValidation {
                ok: true,
                errors: Vec::new(),
                id: Some(p.id),
                version: Some(p.version),
                hash: Some(p.hash.to_prefixed()),
            },
            Err(issues) => RulesetValidation {
                ok: false,
                errors: issues.into_iter().map(|i| RulesetError { path: i.path, code: i.code.to_string(), message: i.message }).collect(),
                id: None,
                version: None,
                hash: None,
            },
        })
    })
}
