//! Offline verification of an evidence pack, on the main thread or the libuv
//! thread pool.

use crate::boundary::{guard, js_error, panic_failure, Failure, NResult};
use crate::convert::{binary, previous_option, type_name};
use eucora_license_core as core_;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};

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

/// The plain tar of an evidence pack of either form: a compressed pack (what
/// the CLI and `evidencePack` write) decompressed under the verifier's
/// bounds, a plain tar (packs written before the compression) as it is; for
/// tar readers without zstd. A damaged frame throws `invalid_input`.
#[napi(catch_unwind, ts_args_type = "pack: Uint8Array")]
pub fn pack_archive(env: Env, pack: Unknown<'_>) -> napi::Result<Buffer> {
    guard(&env, || {
        let pack = pack_arg(&pack)?;
        let tar = core_::pack_archive(&pack).map_err(|e| Failure::new("invalid_input", format!("evidence pack: {e}")))?;
        Ok(Buffer::from(tar.into_owned()))
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
