//! The `Outcome` class: a successful reconciliation.

use crate::boundary::{guard, Failure, NResult};
use eucora_license_core as core_;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;
use std::sync::{Arc, OnceLock};

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
    pub(crate) fn new(out: core_::Outcome) -> Self {
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
    #[napi(getter, catch_unwind, ts_return_type = "Snapshot")]
    pub fn snapshot(&self, env: Env) -> napi::Result<Value> {
        guard(&env, || Ok(self.sealed()?.value().clone()))
    }

    /// `run_report.json` as an object.
    #[napi(getter, catch_unwind, ts_return_type = "RunReport")]
    pub fn report(&self) -> Value {
        self.inner.report.to_json()
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

    /// The evidence pack (`evidence.tar`), built on the first call: the tar
    /// in one pinned zstd frame, byte for byte the CLI's (docs/audit-guide.md,
    /// section 9); `packArchive` gives back the tar. The bytes do not depend
    /// on the number of compressor threads, so the cache holds for any.
    #[napi(catch_unwind)]
    pub fn evidence_pack(&self, env: Env, threads: Option<u32>) -> napi::Result<Buffer> {
        guard(&env, || {
            let threads = threads.unwrap_or(1) as usize;
            let pack = self.pack.get_or_init(|| {
                core_::write_compressed_pack_threads(&self.inner, Vec::new(), threads).map(|(bytes, _)| bytes).map_err(|e| e.to_string())
            });
            match pack {
                Ok(bytes) => Ok(Buffer::from(bytes.clone())),
                Err(e) => Err(Failure::new("internal", e.clone())),
            }
        })
    }
}
