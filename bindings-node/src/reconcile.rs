//! Reconciliation of a bundle directory or a bundle given as an object, on
//! the main thread or the libuv thread pool.

use crate::boundary::{guard, js_error, panic_failure, Failure, NResult};
use crate::convert::{files_arg, optional_bool, optional_i64, previous_option, string_arg};
use crate::outcome::Outcome;
use eucora_license_core::MemoryBundle;
use eucora_license_core::{self as core_, RunStatus};
use eucora_license_dir::DirBundle;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// Options of `reconcile` and `reconcileFiles`.
#[napi(object)]
pub struct ReconcileOptions {
    /// The previous snapshot (`snapshot.json` bytes, text or object) to chain to.
    #[napi(ts_type = "string | Uint8Array | object")]
    pub previous: Option<Value>,
    /// Threads for the data-parallel stages, an integer of at least 1
    /// (default 1); the outcome is byte-identical for every value.
    pub threads: Option<i64>,
    /// Whether the outcome keeps the units' bytes (default `true`). `false`
    /// is for a run whose evidence pack is never written (the CLI's
    /// `--no-pack`): the units are hashed into their roots and dropped
    /// (about 1 GB less at 10 M signals); `evidencePack()` then throws.
    pub keep_units: Option<bool>,
}

/// Where a bundle comes from.
enum Source {
    Dir(PathBuf),
    Files(MemoryBundle),
}

fn run(source: &Source, previous: Option<&[u8]>, run: &core_::RunOptions) -> core_::Outcome {
    match source {
        Source::Dir(root) => core_::reconcile_with(&DirBundle::new(root), previous, run),
        Source::Files(b) => core_::reconcile_with(b, previous, run),
    }
}

/// The `threads` option: a number, then the core's one check
/// (`api::run_options`: at least 1, else `invalid_input`); and `keepUnits`.
fn run_options(options: Option<&Unknown<'_>>) -> NResult<core_::RunOptions> {
    let threads = optional_i64(options, "threads")?.unwrap_or(1);
    let run = core_::api::run_options(threads)?;
    Ok(if optional_bool(options, "keepUnits")?.unwrap_or(true) { run } else { run.without_units() })
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

/// Reconcile the bundle directory `bundleDir`. Throws (code = the first
/// reason, with `.reasons`, `.errors`, `.report`) when the run fails closed.
#[napi(catch_unwind, ts_args_type = "bundleDir: string, options?: ReconcileOptions")]
pub fn reconcile(env: Env, bundle_dir: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Outcome> {
    guard(&env, || {
        let source = dir_source(&bundle_dir)?;
        let previous = previous_option(&env, options.as_ref())?;
        let opts = run_options(options.as_ref())?;
        settle(run(&source, previous.as_deref(), &opts))
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
        let opts = run_options(options.as_ref())?;
        settle(run(&Source::Files(bundle), previous.as_deref(), &opts))
    })
}

/// A reconciliation on the libuv thread pool.
pub struct ReconcileTask {
    source: Option<Source>,
    previous: Option<Vec<u8>>,
    options: core_::RunOptions,
}

impl Task for ReconcileTask {
    type Output = std::result::Result<core_::Outcome, Failure>;
    type JsValue = Outcome;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let Some(source) = self.source.take() else { return Ok(Err(Failure::new("internal", "the task ran twice"))) };
        let previous = self.previous.take();
        Ok(catch_unwind(AssertUnwindSafe(|| run(&source, previous.as_deref(), &self.options))).map_err(|_| panic_failure()))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Outcome> {
        match output.and_then(settle) {
            Ok(o) => Ok(o),
            Err(f) => Err(js_error(&env, f)),
        }
    }
}

// SAFETY-free: the task only holds owned data (paths, bytes).
fn spawn_reconcile(source: Source, previous: Option<Vec<u8>>, options: core_::RunOptions) -> AsyncTask<ReconcileTask> {
    AsyncTask::new(ReconcileTask { source: Some(source), previous, options })
}

/// `reconcile` off the main thread: a Promise of the outcome.
#[napi(catch_unwind, ts_args_type = "bundleDir: string, options?: ReconcileOptions", ts_return_type = "Promise<Outcome>")]
pub fn reconcile_async(env: Env, bundle_dir: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<AsyncTask<ReconcileTask>> {
    guard(&env, || {
        let source = dir_source(&bundle_dir)?;
        let previous = previous_option(&env, options.as_ref())?;
        let opts = run_options(options.as_ref())?;
        Ok(spawn_reconcile(source, previous, opts))
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
        let opts = run_options(options.as_ref())?;
        Ok(spawn_reconcile(Source::Files(bundle), previous, opts))
    })
}
