//! `@eucora/license`: the Node.js binding (napi-rs) of `eucora-license-core`.
//!
//! A thin layer: it converts JavaScript values, maps errors and runs heavy
//! work off the main thread; every rule lives in the core.
//!
//! - Every export is `#[napi(catch_unwind)]` and runs its body under
//!   `guard`: a panic becomes an `Error` with `code: "internal"`, never an
//!   abort of the Node process.
//! - Errors are `Error` objects with a stable `.code` (the engine's code names,
//!   plus `invalid_argument` for JavaScript values of the wrong type) and, when
//!   they apply, `.number`, `.file`, `.line`, `.field`, `.errors`, `.reasons`
//!   and `.report`.
//! - Arguments are taken as `unknown` and checked here, so `undefined`, a
//!   number where a string is expected or a malformed document give a coded
//!   error rather than napi's generic one.

#![deny(clippy::unwrap_used)]

#[cfg(panic = "abort")]
compile_error!("the Node binding turns panics into errors: build with panic = \"unwind\"");

use eucora_license_core::MemoryBundle;
use eucora_license_core::{self as core_, Error as CoreError, RunStatus};
use eucora_license_dir::DirBundle;
use napi::bindgen_prelude::*;
use napi::{Env, JsValue, Status, ValueType};
use napi_derive::napi;
use serde_json::{json, Value};

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

// ---------------------------------------------------------------------------
// Errors

/// An error on its way to JavaScript.
pub struct Failure {
    code: String,
    message: String,
    extra: Vec<(&'static str, Value)>,
}

impl Failure {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Failure { code: code.to_string(), message: message.into(), extra: Vec::new() }
    }

    fn arg(message: impl Into<String>) -> Self {
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
    fn from_failed_run(out: &core_::Outcome) -> Self {
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
        f.with("reasons", out.report["reasons"].clone()).with("errors", out.report["errors"].clone()).with("report", out.report.clone())
    }

    fn invalid_ruleset(what: &str, issues: &[core_::RulesetIssue]) -> Self {
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

impl From<napi::Error> for Failure {
    fn from(e: napi::Error) -> Self {
        Failure::arg(e.reason.clone())
    }
}

type NResult<T> = std::result::Result<T, Failure>;

/// The `Error` object JavaScript sees.
fn js_error(env: &Env, f: Failure) -> napi::Error {
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

fn panic_failure() -> Failure {
    Failure::new("internal", "internal error in the engine (a bug; please report it)")
}

/// Run one export's body: its `Failure` becomes a coded `Error`, a panic an
/// `Error` with code `internal`.
fn guard<T>(env: &Env, body: impl FnOnce() -> NResult<T>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(f)) => Err(js_error(env, f)),
        Err(_) => Err(js_error(env, panic_failure())),
    }
}

// ---------------------------------------------------------------------------
// Arguments

fn type_name(v: &Unknown<'_>) -> &'static str {
    match v.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Object) if v.is_array().unwrap_or(false) => "an array",
        Ok(ValueType::Object) => "an object",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::BigInt) => "a bigint",
        _ => "an unknown value",
    }
}

fn is_absent(v: &Unknown<'_>) -> bool {
    matches!(v.get_type(), Ok(ValueType::Undefined | ValueType::Null))
}

/// Bytes of a Buffer or Uint8Array, if `v` is one.
fn binary(v: &Unknown<'_>) -> NResult<Option<Vec<u8>>> {
    if v.is_buffer()? {
        // SAFETY: `is_buffer` said it is one.
        let b: BufferSlice = unsafe { v.cast() }?;
        return Ok(Some(b.to_vec()));
    }
    if v.is_typedarray()? {
        let a = Uint8Array::from_unknown(*v).map_err(|_| Failure::arg("only Uint8Array and Buffer are accepted as bytes"))?;
        return Ok(Some(a.to_vec()));
    }
    Ok(None)
}

fn string_arg(v: &Unknown<'_>, what: &str) -> NResult<String> {
    if v.get_type()? != ValueType::String {
        return Err(Failure::arg(format!("`{what}` must be a string, got {}", type_name(v))));
    }
    // SAFETY: the type was checked.
    Ok(unsafe { v.cast::<String>() }?)
}

/// A JSON document given as text, bytes, or a plain object/array.
fn json_arg(env: &Env, v: &Unknown<'_>, what: &str) -> NResult<Vec<u8>> {
    match v.get_type()? {
        // SAFETY: the type was checked.
        ValueType::String => Ok(unsafe { v.cast::<String>() }?.into_bytes()),
        ValueType::Object => {
            if let Some(bytes) = binary(v)? {
                return Ok(bytes);
            }
            let value: Value = env.from_js_value(*v).map_err(|e| Failure::arg(format!("`{what}` cannot be read as JSON: {}", e.reason)))?;
            serde_json::to_vec(&value).map_err(|e| Failure::arg(format!("`{what}` cannot be written as JSON: {e}")))
        }
        _ => Err(Failure::arg(format!("`{what}` must be JSON text, a Buffer or an object, got {}", type_name(v)))),
    }
}

fn optional_json_arg(env: &Env, v: Option<&Unknown<'_>>, what: &str) -> NResult<Option<Vec<u8>>> {
    match v {
        Some(v) if !is_absent(v) => json_arg(env, v, what).map(Some),
        _ => Ok(None),
    }
}

/// A property of an options object (`undefined` when absent); the options
/// themselves may be `undefined` or `null`.
fn option<'env>(options: Option<&Unknown<'env>>, key: &str) -> NResult<Option<Unknown<'env>>> {
    let Some(o) = options.filter(|o| !is_absent(o)) else { return Ok(None) };
    if o.get_type()? != ValueType::Object || o.is_array()? {
        return Err(Failure::arg(format!("options must be an object, got {}", type_name(o))));
    }
    // SAFETY: the type was checked.
    let obj: Object = unsafe { o.cast() }?;
    let v: Unknown = obj.get_named_property(key)?;
    Ok((!is_absent(&v)).then_some(v))
}

fn optional_i64(options: Option<&Unknown<'_>>, key: &str) -> NResult<Option<i64>> {
    let Some(v) = option(options, key)? else { return Ok(None) };
    if v.get_type()? != ValueType::Number {
        return Err(Failure::arg(format!("`{key}` must be a number, got {}", type_name(&v))));
    }
    // SAFETY: the type was checked.
    let n: f64 = unsafe { v.cast() }?;
    if n.fract() != 0.0 || !n.is_finite() || n.abs() > 9_007_199_254_740_991.0 {
        return Err(Failure::arg(format!("`{key}` must be an integer")));
    }
    Ok(Some(n as i64))
}

/// A bundle given as an object: path → string | Buffer | string[] | object
/// (the JSON form of `MemoryBundle::from_json`, with Buffers for bytes).
fn files_arg(env: &Env, v: &Unknown<'_>) -> NResult<MemoryBundle> {
    if v.get_type()? != ValueType::Object || v.is_array()? || binary(v)?.is_some() {
        return Err(Failure::arg(format!("`files` must be an object mapping bundle paths to contents, got {}", type_name(v))));
    }
    // SAFETY: the type was checked.
    let obj: Object = unsafe { v.cast() }?;
    let mut bundle = MemoryBundle::default();
    for path in Object::keys(&obj)? {
        core_::check_bundle_path(&path)?;
        let value: Unknown = obj.get_named_property(&path)?;
        let bytes = match binary(&value)? {
            Some(b) => b,
            None => {
                let doc: Value = match value.get_type()? {
                    ValueType::String | ValueType::Object => {
                        env.from_js_value(value).map_err(|e| Failure::arg(format!("file `{path}` cannot be read: {}", e.reason)))?
                    }
                    _ => {
                        return Err(Failure::arg(format!(
                            "file `{path}` must be a string, a Buffer, an array of lines or an object, got {}",
                            type_name(&value)
                        )))
                    }
                };
                core_::file_bytes_from_json(&path, &doc)?
            }
        };
        bundle.insert(path, bytes);
    }
    Ok(bundle)
}

// ---------------------------------------------------------------------------
// Library, canonical JSON, rulesets

/// The library version, e.g. `"0.1.0"`.
#[napi(catch_unwind)]
pub fn version() -> String {
    core_::VERSION.to_string()
}

/// RFC 8785 canonical form of a JSON document (text, Buffer or object).
/// Throws `invalid_input` for malformed JSON and `non_canonical` for a float
/// or an integer beyond ±(2^53−1).
#[napi(catch_unwind, ts_args_type = "json: string | Uint8Array | object")]
pub fn canonicalize(env: Env, json: Unknown<'_>) -> napi::Result<String> {
    guard(&env, || {
        let bytes = json_arg(&env, &json, "json")?;
        let out = core_::canonicalize(&bytes)?;
        String::from_utf8(out).map_err(|_| Failure::new("internal", "canonical JSON is not UTF-8"))
    })
}

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

// ---------------------------------------------------------------------------
// Reconciliation

/// Options of `reconcile` and `reconcileFiles`.
#[napi(object)]
pub struct ReconcileOptions {
    /// The previous snapshot (`snapshot.json` bytes, text or object) to chain to.
    #[napi(ts_type = "string | Uint8Array | object")]
    pub previous: Option<Value>,
}

/// One exception of a run (`exceptions.jsonl`).
#[napi(object)]
pub struct ExceptionRecord {
    /// `future_signal`, `unmapped_product`, `low_confidence`, ...
    pub code: String,
    /// Source system (`directory` for alias conflicts).
    pub source: String,
    /// The record's id in that source.
    pub raw_id: String,
    /// What happened.
    pub detail: String,
}

/// A successful reconciliation (a run that failed closed throws instead).
#[napi]
pub struct Outcome {
    inner: Arc<core_::Outcome>,
    pack: OnceLock<std::result::Result<Vec<u8>, String>>,
}

impl Outcome {
    fn new(out: core_::Outcome) -> Self {
        Outcome { inner: Arc::new(out), pack: OnceLock::new() }
    }

    fn sealed(&self) -> NResult<&core_::Snapshot> {
        self.inner.snapshot.as_ref().ok_or_else(|| Failure::new("internal", "an outcome without a snapshot"))
    }
}

#[napi]
impl Outcome {
    /// `"ok"` or `"degraded"` (some expected source missing or collapsed).
    #[napi(getter, catch_unwind, ts_return_type = "'ok' | 'degraded'")]
    pub fn status(&self) -> String {
        self.inner.status.name().to_string()
    }

    /// The snapshot hash, `sha256:<hex>`.
    #[napi(getter, catch_unwind)]
    pub fn snapshot_hash(&self, env: Env) -> napi::Result<String> {
        guard(&env, || Ok(self.sealed()?.hash().to_prefixed()))
    }

    /// `snapshot.json`: the canonical JSON text, byte for byte.
    #[napi(getter, catch_unwind)]
    pub fn snapshot_json(&self, env: Env) -> napi::Result<String> {
        guard(&env, || Ok(String::from_utf8_lossy(self.sealed()?.canonical_bytes()).into_owned()))
    }

    /// The snapshot as an object (counts are numbers, money and percentages strings).
    #[napi(getter, catch_unwind)]
    pub fn snapshot(&self, env: Env) -> napi::Result<Value> {
        guard(&env, || Ok(self.sealed()?.value().clone()))
    }

    /// `run_report.json` as an object.
    #[napi(getter, catch_unwind)]
    pub fn report(&self) -> Value {
        self.inner.report.clone()
    }

    /// The run's exceptions, sorted.
    #[napi(getter, catch_unwind)]
    pub fn exceptions(&self) -> Vec<ExceptionRecord> {
        self.inner
            .exceptions
            .iter()
            .map(|e| ExceptionRecord {
                code: e.code.to_string(),
                source: e.source.clone(),
                raw_id: e.raw_id.clone(),
                detail: e.detail.clone(),
            })
            .collect()
    }

    /// `exceptions.jsonl`: one canonical JSON object per line.
    #[napi(catch_unwind)]
    pub fn exceptions_jsonl(&self) -> String {
        String::from_utf8_lossy(&self.inner.exceptions_jsonl()).into_owned()
    }

    /// The evidence pack (`evidence.tar`), built on the first call.
    #[napi(catch_unwind)]
    pub fn evidence_pack(&self, env: Env) -> napi::Result<Buffer> {
        guard(&env, || {
            let pack =
                self.pack.get_or_init(|| core_::write_pack(&self.inner, Vec::new()).map(|(bytes, _)| bytes).map_err(|e| e.to_string()));
            match pack {
                Ok(bytes) => Ok(Buffer::from(bytes.clone())),
                Err(e) => Err(Failure::new("internal", e.clone())),
            }
        })
    }
}

/// Where a bundle comes from.
enum Source {
    Dir(PathBuf),
    Files(MemoryBundle),
}

fn run(source: &Source, previous: Option<&[u8]>) -> core_::Outcome {
    match source {
        Source::Dir(root) => core_::reconcile(&DirBundle::new(root), previous),
        Source::Files(b) => core_::reconcile(b, previous),
    }
}

fn settle(out: core_::Outcome) -> NResult<Outcome> {
    if out.status == RunStatus::Failed {
        return Err(Failure::from_failed_run(&out));
    }
    Ok(Outcome::new(out))
}

fn dir_source(dir: &Unknown<'_>) -> NResult<Source> {
    let dir = string_arg(dir, "bundleDir")?;
    let root = PathBuf::from(&dir);
    if !root.is_dir() {
        return Err(Failure::new("invalid_input", format!("`{dir}` is not a bundle directory")));
    }
    Ok(Source::Dir(root))
}

fn previous_option(env: &Env, options: Option<&Unknown<'_>>) -> NResult<Option<Vec<u8>>> {
    let v = option(options, "previous")?;
    optional_json_arg(env, v.as_ref(), "previous")
}

/// Reconcile the bundle directory `bundleDir`. Throws (code = the first
/// reason, with `.reasons`, `.errors`, `.report`) when the run fails closed.
#[napi(catch_unwind, ts_args_type = "bundleDir: string, options?: ReconcileOptions")]
pub fn reconcile(env: Env, bundle_dir: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Outcome> {
    guard(&env, || {
        let source = dir_source(&bundle_dir)?;
        let previous = previous_option(&env, options.as_ref())?;
        settle(run(&source, previous.as_deref()))
    })
}

/// Reconcile a bundle given as an object: each key a path inside the bundle
/// (`"signals/intune.csv"`), each value a string, a Buffer, an array of lines
/// or an object (written as canonical JSON). As `reconcile`.
#[napi(catch_unwind, ts_args_type = "files: Record<string, string | Uint8Array | string[] | object>, options?: ReconcileOptions")]
pub fn reconcile_files(env: Env, files: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Outcome> {
    guard(&env, || {
        let bundle = files_arg(&env, &files)?;
        let previous = previous_option(&env, options.as_ref())?;
        settle(run(&Source::Files(bundle), previous.as_deref()))
    })
}

/// A reconciliation on the libuv thread pool.
pub struct ReconcileTask {
    source: Option<Source>,
    previous: Option<Vec<u8>>,
}

impl Task for ReconcileTask {
    type Output = std::result::Result<core_::Outcome, Failure>;
    type JsValue = Outcome;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let Some(source) = self.source.take() else { return Ok(Err(Failure::new("internal", "the task ran twice"))) };
        let previous = self.previous.take();
        Ok(catch_unwind(AssertUnwindSafe(|| run(&source, previous.as_deref()))).map_err(|_| panic_failure()))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Outcome> {
        match output.and_then(settle) {
            Ok(o) => Ok(o),
            Err(f) => Err(js_error(&env, f)),
        }
    }
}

// SAFETY-free: the task only holds owned data (paths, bytes).
fn spawn_reconcile(source: Source, previous: Option<Vec<u8>>) -> AsyncTask<ReconcileTask> {
    AsyncTask::new(ReconcileTask { source: Some(source), previous })
}

/// `reconcile` off the main thread: a Promise of the outcome.
#[napi(catch_unwind, ts_args_type = "bundleDir: string, options?: ReconcileOptions", ts_return_type = "Promise<Outcome>")]
pub fn reconcile_async(env: Env, bundle_dir: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<AsyncTask<ReconcileTask>> {
    guard(&env, || {
        let source = dir_source(&bundle_dir)?;
        let previous = previous_option(&env, options.as_ref())?;
        Ok(spawn_reconcile(source, previous))
    })
}

/// `reconcileFiles` off the main thread: a Promise of the outcome.
#[napi(
    catch_unwind,
    ts_args_type = "files: Record<string, string | Uint8Array | string[] | object>, options?: ReconcileOptions",
    ts_return_type = "Promise<Outcome>"
)]
pub fn reconcile_files_async(env: Env, files: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<AsyncTask<ReconcileTask>> {
    guard(&env, || {
        let bundle = files_arg(&env, &files)?;
        let previous = previous_option(&env, options.as_ref())?;
        Ok(spawn_reconcile(Source::Files(bundle), previous))
    })
}

// ---------------------------------------------------------------------------
// Verification and the sidebar

/// One verification check.
#[napi(object)]
pub struct VerifyCheck {
    /// e.g. `artifact:signals.jsonl`, `replay`.
    pub name: String,
    /// `passed`, `failed` or `skipped`.
    #[napi(ts_type = "'passed' | 'failed' | 'skipped'")]
    pub status: String,
    /// What was found.
    pub detail: String,
}

/// The result of `verifyPack`.
#[napi(object)]
pub struct VerifyReport {
    /// Whether every check passed.
    pub ok: bool,
    /// The first check that failed.
    pub first_failure: Option<String>,
    /// Every check, in the order run.
    pub checks: Vec<VerifyCheck>,
    /// The pack's snapshot hash, when readable.
    pub snapshot_hash: Option<String>,
}

impl From<core_::VerifyReport> for VerifyReport {
    fn from(r: core_::VerifyReport) -> Self {
        VerifyReport {
            ok: r.ok,
            first_failure: r.first_failure,
            checks: r.checks.into_iter().map(|c| VerifyCheck { name: c.name, status: c.status.to_string(), detail: c.detail }).collect(),
            snapshot_hash: r.snapshot_hash,
        }
    }
}

/// Options of `verifyPack`.
#[napi(object)]
pub struct VerifyOptions {
    /// The previous snapshot the pack must chain to.
    #[napi(ts_type = "string | Uint8Array | object")]
    pub previous: Option<Value>,
}

fn pack_arg(pack: &Unknown<'_>) -> NResult<Vec<u8>> {
    binary(pack)?.ok_or_else(|| Failure::arg(format!("`pack` must be a Buffer or Uint8Array, got {}", type_name(pack))))
}

/// Verify an evidence pack offline (artifact hashes, manifest, snapshot hash,
/// Merkle roots, chain link, replay). A pack that does not verify is not an
/// error: `ok` is false and `firstFailure` names the check.
#[napi(catch_unwind, ts_args_type = "pack: Uint8Array, options?: VerifyOptions")]
pub fn verify_pack(env: Env, pack: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<VerifyReport> {
    guard(&env, || {
        let pack = pack_arg(&pack)?;
        let previous = previous_option(&env, options.as_ref())?;
        Ok(core_::verify_pack(&pack, previous.as_deref()).into())
    })
}

/// Verification on the libuv thread pool.
pub struct VerifyTask {
    pack: Vec<u8>,
    previous: Option<Vec<u8>>,
}

impl Task for VerifyTask {
    type Output = std::result::Result<core_::VerifyReport, Failure>;
    type JsValue = VerifyReport;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(catch_unwind(AssertUnwindSafe(|| core_::verify_pack(&self.pack, self.previous.as_deref()))).map_err(|_| panic_failure()))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<VerifyReport> {
        output.map(Into::into).map_err(|f| js_error(&env, f))
    }
}

/// `verifyPack` off the main thread: a Promise of the report.
#[napi(catch_unwind, ts_args_type = "pack: Uint8Array, options?: VerifyOptions", ts_return_type = "Promise<VerifyReport>")]
pub fn verify_pack_async(env: Env, pack: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<AsyncTask<VerifyTask>> {
    guard(&env, || {
        let pack = pack_arg(&pack)?;
        let previous = previous_option(&env, options.as_ref())?;
        Ok(AsyncTask::new(VerifyTask { pack, previous }))
    })
}

/// Input of `sidebar`.
#[napi(object)]
pub struct SidebarInput {
    /// The latest successful snapshot (bytes, text or object); absent when none yet.
    #[napi(ts_type = "string | Uint8Array | object")]
    pub snapshot: Option<Value>,
    /// The last run's report (`run_report.json`), when known.
    #[napi(ts_type = "string | Uint8Array | object")]
    pub last_run: Option<Value>,
    /// The instant the sidebar describes (RFC 3339 with offset).
    pub now: String,
    /// Reconciliation schedule in seconds (default: daily).
    pub schedule_interval_secs: Option<i64>,
    /// Staleness factor (default 2, the ruleset's `stale_factor`).
    pub stale_factor: Option<i64>,
}

/// The sidebar state (DESIGN A8): the latest successful snapshot's counters
/// and one state, `failed` › `stale` › `degraded` › `ok`.
#[napi(catch_unwind, ts_args_type = "input: SidebarInput", ts_return_type = "SidebarState")]
pub fn sidebar(env: Env, input: Unknown<'_>) -> napi::Result<Value> {
    guard(&env, || {
        if input.get_type()? != ValueType::Object || input.is_array()? {
            return Err(Failure::arg(format!("`input` must be an object, got {}", type_name(&input))));
        }
        let snapshot = optional_json_arg(&env, option(Some(&input), "snapshot")?.as_ref(), "snapshot")?;
        let last_run = optional_json_arg(&env, option(Some(&input), "lastRun")?.as_ref(), "lastRun")?;
        let now = match option(Some(&input), "now")? {
            Some(v) => string_arg(&v, "now")?,
            None => return Err(Failure::arg("`now` is required (the engine never reads a clock)")),
        };
        let interval = optional_i64(Some(&input), "scheduleIntervalSecs")?.unwrap_or(86_400);
        let factor = optional_i64(Some(&input), "staleFactor")?.unwrap_or(2);
        Ok(core_::api::sidebar(snapshot.as_deref(), last_run.as_deref(), &now, interval, factor)?)
    })
}

/// The sidebar state returned by `sidebar`: the engine's JSON as it is (the
/// same as the CLI's and the C ABI's, so its keys are snake_case).
#[napi(object)]
pub struct SidebarState {
    /// `ok`, `degraded`, `stale` or `failed`.
    #[napi(ts_type = "'ok' | 'degraded' | 'stale' | 'failed'")]
    pub state: String,
    /// Why (null when ok): `{code: 'source_degraded' | 'stale' | 'never_reconciled' | 'reconciliation_failed', ...}`.
    pub reason: Value,
    /// The latest successful snapshot's totals, or null when there is none.
    pub counters: Value,
    /// When the latest successful snapshot was reconciled.
    #[napi(js_name = "last_reconciled_at", ts_type = "string | null")]
    pub last_reconciled_at: Option<String>,
    /// Same as `last_reconciled_at`.
    #[napi(js_name = "last_success_at", ts_type = "string | null")]
    pub last_success_at: Option<String>,
    /// Age of the truth in seconds, when stale.
    #[napi(js_name = "stale_seconds", ts_type = "number | null")]
    pub stale_seconds: Option<i64>,
    /// The latest successful snapshot's hash.
    #[napi(js_name = "snapshot_hash", ts_type = "string | null")]
    pub snapshot_hash: Option<String>,
    /// The instant asked about.
    pub now: String,
}
