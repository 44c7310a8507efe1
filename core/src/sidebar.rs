//! The sidebar's state (DESIGN A8): the latest reconciled truth, and how far
//! to trust it right now.
//!
//! Counters always come from the latest *successful* snapshot, never from an
//! estimate. The state is, by precedence: `failed` (the last run after the
//! latest success failed) › `stale` (older than `stale_factor ×
//! schedule_interval`) › `degraded` (the latest success is degraded) › `ok`.
//! `now` is a parameter: the engine never reads a clock.

use crate::time::Instant;
use serde_json::{json, Value};

/// Inputs of [`sidebar`].
#[derive(Debug, Clone, Copy)]
pub struct SidebarInput<'a> {
    /// The latest successful snapshot (its JSON), if any.
    pub latest_success: Option<&'a Value>,
    /// The last run's report (`run_report.json`), if known.
    pub last_run: Option<&'a Value>,
    /// The instant the sidebar describes.
    pub now: Instant,
    /// Reconciliation schedule, seconds (the default schedule is daily).
    pub schedule_interval_secs: i64,
    /// Staleness factor (the ruleset's `stale_factor`, 2 by default).
    pub stale_factor: i64,
}

fn instant_of(v: Option<&Value>, key: &str) -> Option<Instant> {
    v?.get(key)?.as_str().and_then(|s| Instant::parse(s).ok())
}

/// Compute the sidebar state.
///
/// ```
/// use eucora_license_core::sidebar::{sidebar, SidebarInput};
/// use eucora_license_core::time::Instant;
/// let snap = serde_json::json!({"reconciled_at": "2026-11-22T06:00:00Z", "health": "ok",
///     "health_reasons": [], "totals": {"consumed": 5}, "snapshot_hash": "sha256:00"});
/// let s = sidebar(&SidebarInput { latest_success: Some(&snap), last_run: None,
///     now: Instant::parse("2026-11-25T06:00:00Z").unwrap(), schedule_interval_secs: 86_400, stale_factor: 2 });
/// assert_eq!(s["state"], "stale");
/// assert_eq!(s["stale_seconds"], 3 * 86_400);
/// assert_eq!(s["counters"]["consumed"], 5);
/// ```
pub fn sidebar(input: &SidebarInput<'_>) -> Value {
    let success = input.latest_success;
    let last_success_at = instant_of(success, "reconciled_at");
    let counters = success.and_then(|s| s.get("totals")).cloned().unwrap_or(Value::Null);
    // The last run counts as "after the latest success" when it is at least as
    // recent; a run report without a time is taken as the most recent.
    let failed_run = input.last_run.filter(|r| r.get("status").and_then(Value::as_str) == Some("failed")).filter(|r| {
        match (instant_of(Some(r), "reconciled_at"), last_success_at) {
            (Some(run_at), Some(ok_at)) => run_at >= ok_at,
            _ => true,
        }
    });
    let stale_limit = (input.stale_factor as i128) * (input.schedule_interval_secs as i128);
    let age = last_success_at.map(|t| input.now.secs_since(t));
    let (state, reason) = if let Some(run) = failed_run {
        let reasons = run.get("reasons").cloned().unwrap_or(json!([]));
        ("failed", json!({"code": "reconciliation_failed", "reasons": reasons}))
    } else if success.is_none() {
        ("stale", json!({"code": "never_reconciled"}))
    } else if age.is_some_and(|a| (a as i128) > stale_limit) {
        ("stale", json!({"code": "stale", "limit_seconds": stale_limit as i64}))
    } else if success.and_then(|s| s.get("health")).and_then(Value::as_str) == Some("degraded") {
        let gaps = success.and_then(|s| s.get("health_reasons")).cloned().unwrap_or(json!([]));
        ("degraded", json!({"code": "source_degraded", "coverage_gaps": gaps}))
    } else {
        ("ok", Value::Null)
    };
    json!({
        "state": state,
        "reason": reason,
        "counters": counters,
        "last_reconciled_at": last_success_at.map(|t| t.to_string()),
        "last_success_at": last_success_at.map(|t| t.to_string()),
        "stale_seconds": age.filter(|_| state == "stale"),
        "snapshot_hash": success.and_then(|s| s.get("snapshot_hash")).cloned().unwrap_or(Value::Null),
        "now": input.now.to_string(),
    })
}

/// [`sidebar`] over documents as the bindings receive them: the latest
/// successful snapshot's bytes (its hash is verified first), the last run
/// report's bytes, `now` as RFC 3339 text.
///
/// Errors: `previous_snapshot_invalid` when the snapshot does not verify,
/// `invalid_input` for a report that is not a JSON object, a malformed `now`,
/// a schedule interval that is not positive or a negative stale factor.
///
/// ```
/// use eucora_license_core::sidebar::from_documents;
/// let s = from_documents(None, None, "2026-11-22T06:00:00Z", 86_400, 2).unwrap();
/// assert_eq!(s["state"], "stale");
/// assert_eq!(s["reason"]["code"], "never_reconciled");
/// let e = from_documents(None, None, "yesterday", 86_400, 2).unwrap_err();
/// assert_eq!(e.code().name(), "invalid_input");
/// ```
pub fn from_documents(
    snapshot: Option<&[u8]>,
    last_run: Option<&[u8]>,
    now: &str,
    schedule_interval_secs: i64,
    stale_factor: i64,
) -> crate::Result<Value> {
    use crate::error::{Error, ErrorCode};
    let invalid = |m: String| Error::new(ErrorCode::InvalidInput, m);
    let now = Instant::parse(now).map_err(|e| invalid(format!("`now` must be an RFC 3339 instant with offset ({})", e.code())))?;
    if schedule_interval_secs <= 0 {
        return Err(invalid("the schedule interval must be a positive number of seconds".into()));
    }
    if stale_factor < 0 {
        return Err(invalid("the stale factor must not be negative".into()));
    }
    let snapshot = snapshot.map(crate::Snapshot::parse_verified).transpose()?;
    let run: Option<Value> = match last_run {
        None => None,
        Some(b) => match serde_json::from_slice::<Value>(b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)) {
            Ok(v @ Value::Object(_)) => Some(v),
            Ok(_) => return Err(invalid("the last run report must be a JSON object".into())),
            Err(e) => return Err(invalid(format!("the last run report is not JSON: {}", crate::table::strip_position(&e)))),
        },
    };
    Ok(sidebar(&SidebarInput {
        latest_success: snapshot.as_ref().map(|s| s.value()),
        last_run: run.as_ref(),
        now,
        schedule_interval_secs,
        stale_factor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn snap(at: &str, health: &str) -> Value {
        json!({"reconciled_at": at, "health": health, "health_reasons": if health == "ok" { json!([]) } else { json!(["source_missing:jamf"]) },
               "totals": {"entitled": 10, "consumed": 7, "remaining": 3}, "snapshot_hash": "sha256:ab"})
    }

    fn run(status: &str, at: Option<&str>) -> Value {
        json!({"status": status, "reconciled_at": at, "reasons": if status == "failed" { json!(["catalog_integrity"]) } else { json!([]) }})
    }

    fn state(success: Option<&Value>, last: Option<&Value>, now: &str) -> Value {
        sidebar(&SidebarInput {
            latest_success: success,
            last_run: last,
            now: Instant::parse(now).unwrap(),
            schedule_interval_secs: DAY,
            stale_factor: 2,
        })
    }

    /// Every transition of A8, table-driven: (success, last run, now) → state.
    #[test]
    fn transitions() {
        let ok = snap("2026-11-22T06:00:00Z", "ok");
        let degraded = snap("2026-11-22T06:00:00Z", "degraded");
        let failed_after = run("failed", Some("2026-11-23T06:00:00Z"));
        let failed_before = run("failed", Some("2026-11-21T06:00:00Z"));
        let failed_untimed = run("failed", None);
        let ok_run = run("ok", Some("2026-11-22T06:00:00Z"));
        let cases: Vec<(Option<&Value>, Option<&Value>, &str, &str)> = vec![
            (Some(&ok), None, "2026-11-22T07:00:00Z", "ok"),
            (Some(&ok), Some(&ok_run), "2026-11-23T07:00:00Z", "ok"),
            (Some(&ok), None, "2026-11-24T06:00:00Z", "ok"), // exactly 2 × 24 h: not stale
            (Some(&ok), None, "2026-11-24T06:00:01Z", "stale"),
            (Some(&degraded), None, "2026-11-22T07:00:00Z", "degraded"),
            (Some(&degraded), None, "2026-11-25T06:00:00Z", "stale"), // stale beats degraded
            (Some(&ok), Some(&failed_after), "2026-11-23T07:00:00Z", "failed"),
            (Some(&degraded), Some(&failed_after), "2026-11-23T07:00:00Z", "failed"), // failure after a degraded success
            (Some(&ok), Some(&failed_after), "2026-11-30T07:00:00Z", "failed"), // a stale failure is still failed
            (Some(&ok), Some(&failed_before), "2026-11-22T07:00:00Z", "ok"), // an older failure is history
            (Some(&ok), Some(&failed_untimed), "2026-11-22T07:00:00Z", "failed"),
            (None, None, "2026-11-22T07:00:00Z", "stale"), // never reconciled
            (None, Some(&failed_after), "2026-11-23T07:00:00Z", "failed"),
        ];
        for (i, (s, l, now, want)) in cases.into_iter().enumerate() {
            assert_eq!(state(s, l, now)["state"], want, "case {i}");
        }
    }

    #[test]
    fn counters_come_from_the_latest_success_and_failure_keeps_them() {
        let ok = snap("2026-11-22T06:00:00Z", "ok");
        let failed = run("failed", Some("2026-11-23T06:00:00Z"));
        let s = state(Some(&ok), Some(&failed), "2026-11-23T07:00:00Z");
        assert_eq!(s["counters"], ok["totals"]);
        assert_eq!(s["last_success_at"], "2026-11-22T06:00:00Z");
        assert_eq!(s["reason"]["reasons"], json!(["catalog_integrity"]));
        let never = state(None, None, "2026-11-22T07:00:00Z");
        assert_eq!(never["counters"], Value::Null);
        assert_eq!(never["reason"]["code"], "never_reconciled");
        let stale = state(Some(&ok), None, "2026-11-25T06:00:00Z");
        assert_eq!(stale["stale_seconds"], 3 * DAY);
        let degraded = snap("2026-11-22T06:00:00Z", "degraded");
        assert_eq!(state(Some(&degraded), None, "2026-11-22T07:00:00Z")["reason"]["coverage_gaps"], json!(["source_missing:jamf"]));
    }
}
