//! The sidebar's state (DESIGN A8): the latest reconciled truth, and how far
//! to trust it right now.
//!
//! Counters always come from the latest *successful* snapshot, never from an
//! estimate. The state is, by precedence: `failed` (the last run after the
//! latest success failed) › `stale` (older than `stale_factor ×
//! schedule_interval`) › `degraded` (the latest success is degraded) › `ok`.
//! `now` is a parameter: the engine never reads a clock.

use crate::canon::time::Instant;
use crate::document::snapshot::{Counts, Snapshot};
use crate::vocab::{Health, RunStatus, SidebarReason, SidebarState};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why the state is not `ok`: the reason's code and the facts it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateReason {
    /// `reconciliation_failed`, `never_reconciled`, `stale` or `source_degraded`.
    pub code: SidebarReason,
    /// The failed run's fail-closed reasons (`reconciliation_failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<String>>,
    /// The stale limit in seconds, null beyond what an `i64` holds (`stale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_seconds: Option<Option<i64>>,
    /// The snapshot's health reasons (`source_degraded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_gaps: Option<Vec<String>>,
}

impl StateReason {
    fn of(code: SidebarReason) -> StateReason {
        StateReason { code, reasons: None, limit_seconds: None, coverage_gaps: None }
    }
}

/// The sidebar state (DESIGN A8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sidebar {
    /// `ok`, `degraded`, `stale` or `failed`.
    pub state: SidebarState,
    /// Why, when the state is not `ok`.
    pub reason: Option<StateReason>,
    /// The latest successful snapshot's totals (null when never reconciled).
    pub counters: Option<Counts>,
    /// When the latest successful snapshot was reconciled.
    pub last_reconciled_at: Option<String>,
    /// The same instant (the contract names both).
    pub last_success_at: Option<String>,
    /// Seconds since the latest success, when stale.
    pub stale_seconds: Option<i64>,
    /// The latest successful snapshot's hash.
    pub snapshot_hash: Option<String>,
    /// The instant the state describes.
    pub now: String,
}

/// Inputs of [`sidebar`].
#[derive(Debug, Clone, Copy)]
pub struct SidebarInput<'a> {
    /// The latest successful snapshot (verified), if any.
    pub latest_success: Option<&'a Snapshot>,
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

/// The run report's fail-closed reasons: a list of text (checked by `check`).
fn reasons_of(run: &Value) -> Vec<String> {
    run.get("reasons")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
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
            if Instant::parse(&s.doc().reconciled_at).is_err() {
                return Err(invalid("latest_success", "reconciled_at", "the snapshot has no readable `reconciled_at`".into()));
            }
            Some(s.organization_id())
        }
    };
    let Some(run) = input.last_run else { return Ok(()) };
    let Some(report) = run.as_object() else {
        return Err(invalid("last_run", "", "the last run report must be a JSON object".into()));
    };
    if report.get("status").and_then(Value::as_str).and_then(RunStatus::from_name).is_none() {
        return Err(invalid("last_run", "status", "the last run report has no `status` ok, degraded or failed".into()));
    }
    match report.get("reasons") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {}
        Some(_) => return Err(invalid("last_run", "reasons", "the last run report's `reasons` is not a list of codes".into())),
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
/// use eucora_license_core::{Snapshot, SnapshotDoc};
/// let snap = Snapshot::seal(SnapshotDoc { organization_id: "org-a".into(),
///     reconciled_at: "2026-11-22T06:00:00Z".into(), ..SnapshotDoc::default() }).unwrap();
/// let theirs = serde_json::json!({"organization_id": "org-b", "status": "failed", "reasons": ["catalog_integrity"]});
/// let e = try_sidebar(&SidebarInput { latest_success: Some(&snap), last_run: Some(&theirs),
///     now: Instant::parse("2026-11-22T07:00:00Z").unwrap(), schedule_interval_secs: 86_400, stale_factor: 2 }).unwrap_err();
/// assert_eq!(e.code().name(), "invalid_input");
/// assert_eq!(e.location().unwrap().field.as_deref(), Some("organization_id"));
/// ```
pub fn try_sidebar(input: &SidebarInput<'_>) -> crate::error::Result<Sidebar> {
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
/// use eucora_license_core::{Counts, SidebarState, Snapshot, SnapshotDoc};
/// let totals = Counts { consumed: 5, ..Counts::default() };
/// let snap = Snapshot::seal(SnapshotDoc { reconciled_at: "2026-11-22T06:00:00Z".into(), totals, ..SnapshotDoc::default() }).unwrap();
/// let s = sidebar(&SidebarInput { latest_success: Some(&snap), last_run: None,
///     now: Instant::parse("2026-11-25T06:00:00Z").unwrap(), schedule_interval_secs: 86_400, stale_factor: 2 });
/// assert_eq!(s.state, SidebarState::Stale);
/// assert_eq!(s.stale_seconds, Some(3 * 86_400));
/// assert_eq!(s.counters.unwrap().consumed, 5);
/// ```
pub fn sidebar(input: &SidebarInput<'_>) -> Sidebar {
    let success = input.latest_success;
    let last_success_at = success.and_then(|s| Instant::parse(&s.doc().reconciled_at).ok());
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
        (SidebarState::Failed, Some(StateReason { reasons: Some(reasons_of(run)), ..StateReason::of(SidebarReason::ReconciliationFailed) }))
    } else if success.is_none() {
        (SidebarState::Stale, Some(StateReason::of(SidebarReason::NeverReconciled)))
    } else if age_nanos.is_some_and(|a| a > stale_limit.saturating_mul(NANOS)) {
        let limit = Some(i64::try_from(stale_limit).ok());
        (SidebarState::Stale, Some(StateReason { limit_seconds: limit, ..StateReason::of(SidebarReason::Stale) }))
    } else if success.is_some_and(|s| s.doc().health == Health::Degraded) {
        let gaps = success.map(|s| s.doc().health_reasons.clone());
        (SidebarState::Degraded, Some(StateReason { coverage_gaps: gaps, ..StateReason::of(SidebarReason::SourceDegraded) }))
    } else {
        (SidebarState::Ok, None)
    };
    Sidebar {
        state,
        reason,
        counters: success.map(|s| s.doc().totals),
        last_reconciled_at: last_success_at.map(|t| t.to_string()),
        last_success_at: last_success_at.map(|t| t.to_string()),
        stale_seconds: age.filter(|_| state == SidebarState::Stale),
        snapshot_hash: success.map(|s| s.hash().to_prefixed()),
        now: input.now.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::snapshot::SnapshotDoc;
    use serde_json::json;

    const DAY: i64 = 86_400;

    fn snap_of(at: &str, health: &str, org: Option<&str>) -> Snapshot {
        let degraded = health != "ok";
        Snapshot::seal(SnapshotDoc {
            organization_id: org.unwrap_or("org").to_string(),
            reconciled_at: at.to_string(),
            health: if degraded { Health::Degraded } else { Health::Ok },
            health_reasons: if degraded { vec!["source_missing:jamf".into()] } else { Vec::new() },
            totals: Counts { entitled: 10, consumed: 7, remaining: 3, ..Counts::default() },
            ..SnapshotDoc::default()
        })
        .unwrap()
    }

    fn snap(at: &str, health: &str) -> Snapshot {
        snap_of(at, health, None)
    }

    /// The state as JSON, as the bindings hand it over.
    fn json_of(s: &Sidebar) -> Value {
        serde_json::to_value(s).unwrap()
    }

    fn run(status: &str, at: Option<&str>) -> Value {
        json!({"status": status, "reconciled_at": at, "reasons": if status == "failed" { json!(["catalog_integrity"]) } else { json!([]) }})
    }

    fn state(success: Option<&Snapshot>, last: Option<&Value>, now: &str) -> Value {
        json_of(&sidebar(&SidebarInput {
            latest_success: success,
            last_run: last,
            now: Instant::parse(now).unwrap(),
            schedule_interval_secs: DAY,
            stale_factor: 2,
        }))
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
        let cases: Vec<(Option<&Snapshot>, Option<&Value>, &str, &str)> = vec![
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

    fn checked(success: Option<&Snapshot>, last: Option<&Value>, now: &str, interval: i64, factor: i64) -> crate::error::Result<Value> {
        try_sidebar(&SidebarInput {
            latest_success: success,
            last_run: last,
            now: Instant::parse(now).unwrap(),
            schedule_interval_secs: interval,
            stale_factor: factor,
        })
        .map(|s| json_of(&s))
    }

    /// Issue 10, defect 11: another organization's failed run report (or a
    /// document that is no run report) flipped our state to failed.
    #[test]
    fn another_organizations_report_is_refused() {
        let ok = snap_of("2026-11-22T06:00:00Z", "ok", Some("org-acme"));
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

    fn state_with(success: &Snapshot, now: &str, interval: i64, factor: i64) -> Value {
        json_of(&sidebar(&SidebarInput {
            latest_success: Some(success),
            last_run: None,
            now: Instant::parse(now).unwrap(),
            schedule_interval_secs: interval,
            stale_factor: factor,
        }))
    }

    #[test]
    fn counters_come_from_the_latest_success_and_failure_keeps_them() {
        let ok = snap("2026-11-22T06:00:00Z", "ok");
        let failed = run("failed", Some("2026-11-23T06:00:00Z"));
        let s = state(Some(&ok), Some(&failed), "2026-11-23T07:00:00Z");
        assert_eq!(s["counters"], ok.value()["totals"]);
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
