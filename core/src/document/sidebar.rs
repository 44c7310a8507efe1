//! The sidebar's state (DESIGN A8): the latest reconciled truth, and how far
//! to trust it right now.
//!
//! Counters always come from the latest *successful* snapshot, never from an
//! estimate. The state is, by precedence: `failed` (the last run after the
//! latest success failed) › `stale` (older than `stale_factor ×
//! schedule_interval`) › `degraded` (the latest success is degraded) › `ok`.
//! `now` is a parameter: the engine never reads a clock.

use crate::canon::time::Instant;
use crate::vocab::{Health, RunStatus, SidebarReason, SidebarState};
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

/// Nanoseconds in a second.
const NANOS: i128 = 1_000_000_000;

/// `stale_factor × schedule_interval` in seconds, when it is a number of
/// seconds an `i64` holds (checked: never a wrapped value).
fn stale_limit_secs(input: &SidebarInput<'_>) -> Option<i64> {
    input.stale_factor.checked_mul(input.schedule_interval_secs)
}

/// The seconds of a schedule given in hours (the CLI's `--schedule-hours`):
/// a positive number of hours whose seconds an `i64` holds. Anything else is
/// an `invalid_input` error, never a wrapped value.
///
/// ```
/// use eucora_license_core::internal::sidebar::schedule_secs_from_hours;
/// assert_eq!(schedule_secs_from_hours(24).unwrap(), 86_400);
/// assert_eq!(schedule_secs_from_hours(i64::MAX).unwrap_err().code().name(), "invalid_input");
/// assert!(schedule_secs_from_hours(0).is_err());
/// ```
pub fn schedule_secs_from_hours(hours: i64) -> crate::error::Result<i64> {
    use crate::error::{Error, ErrorCode, Location};
    let invalid = |m: String| Error::new(ErrorCode::InvalidInput, m).at(Location::file("schedule").with_field("schedule_interval"));
    if hours <= 0 {
        return Err(invalid("the schedule must be a positive number of hours".into()));
    }
    hours.checked_mul(3600).ok_or_else(|| invalid(format!("a schedule of {hours} hours is more seconds than the engine counts")))
}

/// Check the inputs of [`sidebar`]: a positive schedule and a non-negative
/// stale factor whose product (the stale limit, in seconds) does not
/// overflow; a snapshot with its `reconciled_at`; a last run report that is
/// an object with a known `status`, a readable `reconciled_at` (or none) and
/// the snapshot's `organization_id` (a report that names no organization —
/// a run that failed before it read `bundle.json` — is taken as ours).
fn check(input: &SidebarInput<'_>) -> crate::error::Result<()> {
    use crate::error::{Error, ErrorCode, Location};
    let invalid = |file: &str, field: &str, m: String| {
        let at = Location::file(file);
        Error::new(ErrorCode::InvalidInput, m).at(if field.is_empty() { at } else { at.with_field(field) })
    };
    if input.schedule_interval_secs <= 0 {
        return Err(invalid("schedule", "schedule_interval", "the schedule interval must be a positive number of seconds".into()));
    }
    if input.stale_factor < 0 {
        return Err(invalid("schedule", "stale_factor", "the stale factor must not be negative".into()));
    }
    if stale_limit_secs(input).is_none() {
        return Err(invalid(
            "schedule",
            "schedule_interval",
            format!(
                "stale_factor {} × schedule interval {} s overflows the seconds the engine counts: not a schedule",
                input.stale_factor, input.schedule_interval_secs
            ),
        ));
    }
    let snapshot_org = match input.latest_success {
        None => None,
        Some(s) => {
            if !s.is_object() {
                return Err(invalid("latest_success", "", "the latest successful snapshot must be a JSON object".into()));
            }
            if instant_of(Some(s), "reconciled_at").is_none() {
                return Err(invalid("latest_success", "reconciled_at", "the snapshot has no readable `reconciled_at`".into()));
            }
            s.get("organization_id").and_then(Value::as_str)
        }
    };
    let Some(run) = input.last_run else { return Ok(()) };
    let Some(report) = run.as_object() else {
        return Err(invalid("last_run", "", "the last run report must be a JSON object".into()));
    };
    if report.get("status").and_then(Value::as_str).and_then(RunStatus::from_name).is_none() {
        return Err(invalid("last_run", "status", "the last run report has no `status` ok, degraded or failed".into()));
    }
    match report.get("reconciled_at") {
        None | Some(Value::Null) => {}
        Some(t) if t.as_str().is_some_and(|t| Instant::parse(t).is_ok()) => {}
        Some(_) => {
            return Err(invalid("last_run", "reconciled_at", "the last run report's `reconciled_at` is not an RFC 3339 instant".into()))
        }
    }
    match (report.get("organization_id"), snapshot_org) {
        (None | Some(Value::Null), _) => Ok(()),
        (Some(Value::String(run_org)), Some(ours)) if run_org != ours => Err(invalid(
            "last_run",
            "organization_id",
            format!("the last run report is of organization `{run_org}`, the snapshot of `{ours}`: not one organization's state"),
        )),
        (Some(Value::String(_)), _) => Ok(()),
        (Some(_), _) => Err(invalid("last_run", "organization_id", "the last run report's `organization_id` is not text".into())),
    }
}

/// [`sidebar`], with its inputs checked first (the form every host should
/// call; `api::sidebar` does): a report of another organization than the
/// snapshot's, a report that is not a run report, or a schedule whose stale
/// limit overflows is an `invalid_input` error naming the field
/// (`organization_id`, `status`, `schedule_interval`, ...), never a state.
///
/// ```
/// use eucora_license_core::internal::sidebar::{try_sidebar, SidebarInput};
/// use eucora_license_core::internal::time::Instant;
/// let snap = serde_json::json!({"organization_id": "org-a", "reconciled_at": "2026-11-22T06:00:00Z", "health": "ok",
///     "health_reasons": [], "totals": {"consumed": 5}, "snapshot_hash": "sha256:00"});
/// let theirs = serde_json::json!({"organization_id": "org-b", "status": "failed", "reasons": ["catalog_integrity"]});
/// let e = try_sidebar(&SidebarInput { latest_success: Some(&snap), last_run: Some(&theirs),
///     now: Instant::parse("2026-11-22T07:00:00Z").unwrap(), schedule_interval_secs: 86_400, stale_factor: 2 }).unwrap_err();
/// assert_eq!(e.code().name(), "invalid_input");
/// assert_eq!(e.location().unwrap().field.as_deref(), Some("organization_id"));
/// ```
pub fn try_sidebar(input: &SidebarInput<'_>) -> crate::error::Result<Value> {
    check(input)?;
    Ok(sidebar(input))
}

/// Compute the sidebar state from inputs the caller has checked (hosts call
/// [`try_sidebar`] or `api::sidebar`, which refuse another
/// organization's report and an overflowing schedule). Never panics: a stale
/// limit beyond what an `i64` holds is never exceeded.
///
/// ```
/// use eucora_license_core::internal::sidebar::{sidebar, SidebarInput};
/// use eucora_license_core::internal::time::Instant;
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
    let failed_run =
        input.last_run.filter(|r| r.get("status").and_then(Value::as_str) == Some(RunStatus::Failed.name())).filter(|r| {
            match (instant_of(Some(r), "reconciled_at"), last_success_at) {
                (Some(run_at), Some(ok_at)) => run_at >= ok_at,
                _ => true,
            }
        });
    // Exact, in nanoseconds (i128: neither product can overflow).
    let stale_limit = (input.stale_factor as i128) * (input.schedule_interval_secs as i128);
    let age_nanos = last_success_at.map(|t| input.now.unix_nanos() - t.unix_nanos());
    let age = last_success_at.map(|t| input.now.secs_since(t));
    let (state, reason) = if let Some(run) = failed_run {
        let reasons = run.get("reasons").cloned().unwrap_or(json!([]));
        (SidebarState::Failed, json!({"code": SidebarReason::ReconciliationFailed.name(), "reasons": reasons}))
    } else if success.is_none() {
        (SidebarState::Stale, json!({"code": SidebarReason::NeverReconciled.name()}))
    } else if age_nanos.is_some_and(|a| a > stale_limit.saturating_mul(NANOS)) {
        (SidebarState::Stale, json!({"code": SidebarReason::Stale.name(), "limit_seconds": i64::try_from(stale_limit).ok()}))
    } else if success.and_then(|s| s.get("health")).and_then(Value::as_str) == Some(Health::Degraded.name()) {
        let gaps = success.and_then(|s| s.get("health_reasons")).cloned().unwrap_or(json!([]));
        (SidebarState::Degraded, json!({"code": SidebarReason::SourceDegraded.name(), "coverage_gaps": gaps}))
    } else {
        (SidebarState::Ok, Value::Null)
    };
    json!({
        "state": state.name(),
        "reason": reason,
        "counters": counters,
        "last_reconciled_at": last_success_at.map(|t| t.to_string()),
        "last_success_at": last_success_at.map(|t| t.to_string()),
        "stale_seconds": age.filter(|_| state == SidebarState::Stale),
        "snapshot_hash": success.and_then(|s| s.get("snapshot_hash")).cloned().unwrap_or(Value::Null),
        "now": input.now.to_string(),
    })
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
            (Some(&ok), Some(&failed_after), "2026-11-30T07:00:00Z", "failed"),       // a stale failure is still failed
            (Some(&ok), Some(&failed_before), "2026-11-22T07:00:00Z", "ok"),          // an older failure is history
            (Some(&ok), Some(&failed_untimed), "2026-11-22T07:00:00Z", "failed"),
            (None, None, "2026-11-22T07:00:00Z", "stale"), // never reconciled
            (None, Some(&failed_after), "2026-11-23T07:00:00Z", "failed"),
        ];
        for (i, (s, l, now, want)) in cases.into_iter().enumerate() {
            assert_eq!(state(s, l, now)["state"], want, "case {i}");
        }
    }

    fn checked(success: Option<&Value>, last: Option<&Value>, now: &str, interval: i64, factor: i64) -> crate::error::Result<Value> {
        try_sidebar(&SidebarInput {
            latest_success: success,
            last_run: last,
            now: Instant::parse(now).unwrap(),
            schedule_interval_secs: interval,
            stale_factor: factor,
        })
    }

    /// Issue 10, defect 11: another organization's failed run report (or a
    /// document that is no run report) flipped our state to failed.
    #[test]
    fn another_organizations_report_is_refused() {
        let mut ok = snap("2026-11-22T06:00:00Z", "ok");
        ok["organization_id"] = json!("org-acme");
        let mut theirs = run("failed", Some("2026-11-23T06:00:00Z"));
        theirs["organization_id"] = json!("org-other");
        let e = checked(Some(&ok), Some(&theirs), "2026-11-23T07:00:00Z", DAY, 2).unwrap_err();
        assert_eq!(e.code().name(), "invalid_input");
        assert_eq!(e.location().and_then(|l| l.field.as_deref()), Some("organization_id"));
        assert!(e.message().contains("org-other") && e.message().contains("org-acme"), "{e}");
        for bad in [
            json!([]),
            json!("failed"),
            json!({}),
            json!({"status": "broken"}),
            json!({"status": "failed", "organization_id": 7}),
            json!({"status": "failed", "reconciled_at": "yesterday"}),
        ] {
            let e = checked(Some(&ok), Some(&bad), "2026-11-23T07:00:00Z", DAY, 2).unwrap_err();
            assert_eq!(e.code().name(), "invalid_input", "{bad}");
        }
        // Ours, and a report that names no organization, still count.
        let mut ours = theirs.clone();
        ours["organization_id"] = json!("org-acme");
        assert_eq!(checked(Some(&ok), Some(&ours), "2026-11-23T07:00:00Z", DAY, 2).unwrap()["state"], "failed");
        let unnamed = run("failed", Some("2026-11-23T06:00:00Z"));
        assert_eq!(checked(Some(&ok), Some(&unnamed), "2026-11-23T07:00:00Z", DAY, 2).unwrap()["state"], "failed");
        assert_eq!(checked(None, Some(&theirs), "2026-11-23T07:00:00Z", DAY, 2).unwrap()["state"], "failed");
        // The same through the document form every binding uses: see
        // `api::tests::a_report_that_is_no_object_is_refused`.
    }

    /// Issue 10, defect 2 (sidebar): a schedule whose stale limit overflows is
    /// an error, never a wrapped limit that makes the state stale at once.
    #[test]
    fn an_overflowing_schedule_is_an_error_not_a_wrapped_limit() {
        let ok = snap("2026-11-22T06:00:00Z", "ok");
        assert!(schedule_secs_from_hours(i64::MAX).is_err());
        assert!(schedule_secs_from_hours(i64::MAX / 3600 + 1).is_err());
        assert_eq!(schedule_secs_from_hours(i64::MAX / 3600).unwrap(), i64::MAX / 3600 * 3600);
        for (interval, factor) in [(i64::MAX, 2), (i64::MAX / 2 + 1, 2), (3600, i64::MAX)] {
            let e = checked(Some(&ok), None, "2026-11-22T07:00:00Z", interval, factor).unwrap_err();
            assert_eq!(e.code().name(), "invalid_input");
            assert_eq!(e.location().and_then(|l| l.field.as_deref()), Some("schedule_interval"));
        }
        assert!(checked(Some(&ok), None, "2026-11-22T07:00:00Z", 0, 2).is_err());
        assert!(checked(Some(&ok), None, "2026-11-22T07:00:00Z", DAY, -1).is_err());
        // The largest schedule that fits is never stale an hour later.
        let big = schedule_secs_from_hours(i64::MAX / 3600).unwrap();
        assert_eq!(checked(Some(&ok), None, "2026-11-22T07:00:00Z", big, 1).unwrap()["state"], "ok");
        // Unchecked, the pure function still does not wrap.
        assert_eq!(state_with(&ok, "2026-11-22T07:00:00Z", i64::MAX, i64::MAX)["state"], "ok");
        // Staleness is exact: half a second past the limit is stale.
        assert_eq!(state(Some(&ok), None, "2026-11-24T06:00:00Z")["state"], "ok");
        assert_eq!(state(Some(&ok), None, "2026-11-24T06:00:00.5Z")["state"], "stale");
    }

    fn state_with(success: &Value, now: &str, interval: i64, factor: i64) -> Value {
        sidebar(&SidebarInput {
            latest_success: Some(success),
            last_run: None,
            now: Instant::parse(now).unwrap(),
            schedule_interval_secs: interval,
            stale_factor: factor,
        })
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
