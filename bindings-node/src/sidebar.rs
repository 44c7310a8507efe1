//! The sidebar state.

use crate::boundary::{guard, Failure};
use crate::convert::{option, optional_i64, optional_json_arg, string_arg, type_name};
use eucora_license_core as core_;
use napi::bindgen_prelude::*;
use napi::{Env, ValueType};
use napi_derive::napi;
use serde_json::Value;

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
    #[napi(ts_type = "StateReason | null")]
    pub reason: Value,
    /// The latest successful snapshot's totals, or null when there is none.
    #[napi(ts_type = "Counts | null")]
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
