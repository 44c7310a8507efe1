//! Rulesets: validate, hash, diff.

use crate::boundary::{guard, Failure, NResult};
use crate::convert::{json_arg, option, string_arg, type_name};
use eucora_license_core as core_;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

/// One problem of a ruleset.
#[napi(object)]
pub struct RulesetError {
    /// JSON path, e.g. `$.concurrent.window_days`.
    pub path: String,
    /// `invalid_json`, `missing_key`, `unknown_key`, `wrong_type`, `out_of_range` or `unknown_sku`.
    pub code: String,
    /// For a human.
    pub message: String,
}

/// The result of `validateRuleset`.
#[napi(object)]
pub struct RulesetValidation {
    /// Whether the ruleset is valid.
    pub ok: bool,
    /// Every problem (empty when valid).
    pub errors: Vec<RulesetError>,
    /// Ruleset id (when valid).
    pub id: Option<String>,
    /// Ruleset version (when valid).
    pub version: Option<i64>,
    /// `eucora.ruleset.v1` hash, `sha256:<hex>` (when valid).
    pub hash: Option<String>,
}

/// Options of `validateRuleset`.
#[napi(object)]
pub struct ValidateOptions {
    /// The catalog's SKU ids: every `sku_mappings` rule must name one of them.
    pub sku_ids: Option<Vec<String>>,
}

fn sku_ids_option(options: Option<&Unknown<'_>>) -> NResult<Option<Vec<String>>> {
    let Some(v) = option(options, "skuIds")? else { return Ok(None) };
    if !v.is_array()? {
        return Err(Failure::arg(format!("`skuIds` must be an array of strings, got {}", type_name(&v))));
    }
    // SAFETY: the type was checked.
    let arr: Array = unsafe { v.cast() }?;
    let mut ids = Vec::new();
    for i in 0..arr.len() {
        let item: Unknown = arr.get(i)?.ok_or_else(|| Failure::arg("`skuIds` has a hole"))?;
        ids.push(string_arg(&item, "skuIds[]")?);
    }
    Ok(Some(ids))
}

/// Validate a ruleset (JSON text, Buffer or object). Never throws for an
/// invalid ruleset: the result lists every problem with its JSON path.
#[napi(catch_unwind, ts_args_type = "ruleset: string | Uint8Array | object, options?: ValidateOptions")]
pub fn validate_ruleset(env: Env, ruleset: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<RulesetValidation> {
    guard(&env, || {
        let bytes = json_arg(&env, &ruleset, "ruleset")?;
        let ids = sku_ids_option(options.as_ref())?;
        let exists = |id: &str| ids.as_ref().is_some_and(|ids| ids.iter().any(|x| x == id));
        let check: Option<&dyn Fn(&str) -> bool> = if ids.is_some() { Some(&exists) } else { None };
        Ok(match core_::parse_ruleset(&bytes, check) {
            Ok(rs) => RulesetValidation {
                ok: true,
                errors: Vec::new(),
                id: Some(rs.id),
                version: Some(rs.version),
                hash: Some(rs.hash.to_prefixed()),
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

fn parse_ruleset(bytes: &[u8], what: &str) -> NResult<core_::Ruleset> {
    core_::parse_ruleset(bytes, None).map_err(|issues| Failure::invalid_ruleset(what, &issues))
}

/// The `eucora.ruleset.v1` hash (`sha256:<hex>`) of a valid ruleset. Throws
/// `invalid_ruleset` (with `.errors`) when it does not validate.
#[napi(catch_unwind, ts_args_type = "ruleset: string | Uint8Array | object")]
pub fn hash_ruleset(env: Env, ruleset: Unknown<'_>) -> napi::Result<String> {
    guard(&env, || {
        let bytes = json_arg(&env, &ruleset, "ruleset")?;
        Ok(parse_ruleset(&bytes, "ruleset")?.hash.to_prefixed())
    })
}

/// `{id, version, hash}` of one side of a diff.
#[napi(object)]
pub struct RulesetHead {
    /// Ruleset id.
    pub id: String,
    /// Ruleset version.
    pub version: i64,
    /// `sha256:<hex>`.
    pub hash: String,
}

/// One change between two rulesets.
#[napi(object)]
pub struct RulesetChange {
    /// JSON path of the rule, e.g. `$.lookback_days.usage`, `$.sku_mappings[2]`.
    pub path: String,
    /// `added`, `removed`, `changed` or `moved`.
    #[napi(ts_type = "'added' | 'removed' | 'changed' | 'moved'")]
    pub kind: String,
    /// The value before (`null` when added).
    pub before: Value,
    /// The value after (`null` when removed).
    pub after: Value,
    /// One sentence for a reviewer.
    pub text: String,
}

/// The result of `diffRulesets`.
#[napi(object)]
pub struct RulesetDiff {
    /// Same hash: nothing changed.
    pub identical: bool,
    /// The first ruleset.
    pub before: RulesetHead,
    /// The second ruleset.
    pub after: RulesetHead,
    /// Every change, in document order.
    pub changes: Vec<RulesetChange>,
    /// The whole diff as text, one change per line.
    pub text: String,
}

fn head(v: &Value) -> RulesetHead {
    RulesetHead {
        id: v["id"].as_str().unwrap_or_default().to_string(),
        version: v["version"].as_i64().unwrap_or_default(),
        hash: v["hash"].as_str().unwrap_or_default().to_string(),
    }
}

/// Which rules changed between two valid rulesets, in words a reviewer can
/// read. Throws `invalid_ruleset` when either does not validate.
#[napi(catch_unwind, ts_args_type = "a: string | Uint8Array | object, b: string | Uint8Array | object")]
pub fn diff_rulesets(env: Env, a: Unknown<'_>, b: Unknown<'_>) -> napi::Result<RulesetDiff> {
    guard(&env, || {
        let a = parse_ruleset(&json_arg(&env, &a, "a")?, "a")?;
        let b = parse_ruleset(&json_arg(&env, &b, "b")?, "b")?;
        let d = core_::ruleset_changes(&a, &b);
        Ok(RulesetDiff {
            identical: d.identical,
            before: head(&d.before),
            after: head(&d.after),
            text: d.to_text(),
            changes: d
                .changes
                .into_iter()
                .map(|c| RulesetChange { path: c.path, kind: c.kind.to_string(), before: c.before, after: c.after, text: c.text })
                .collect(),
        })
    })
}
