//! `sidebar --snapshot <snapshot.json> [--last-run <run_report.json>] --now
//! <instant> [--schedule-hours <h>] [--stale-factor <n>]`: print the sidebar
//! state (ok, degraded, stale, failed) of the latest truth at `--now`, as
//! JSON.
//!
//! Exit codes: 0 the state was printed; 2 the snapshot does not verify or
//! the run report is refused (another organisation's, not a report); 1
//! usage or I/O error, a schedule longer than the engine counts included.

use crate::{failed, read, usage_error};
use eucora_license_core::Instant;
use std::process::ExitCode;

struct SidebarArgs {
    snapshot: Option<String>,
    last_run: Option<String>,
    now: Instant,
    hours: i64,
    factor: i64,
}

/// Run `sidebar` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let a = match parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let (snap, run) = match (load(a.snapshot), load(a.last_run)) {
        (Ok(s), Ok(r)) => (s, r),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    let Ok(schedule_interval_secs) = eucora_license_core::schedule_secs_from_hours(a.hours) else {
        return usage_error("--schedule-hours is more hours than the engine counts");
    };
    // The entry point every binding calls: one set of argument checks.
    let state =
        match eucora_license_core::api::sidebar(snap.as_deref(), run.as_deref(), &a.now.to_string(), schedule_interval_secs, a.factor) {
            Ok(s) => s,
            Err(e) if e.code() == eucora_license_core::ErrorCode::PreviousSnapshotInvalid => {
                return failed(format!("the snapshot does not verify: {e}"))
            }
            Err(e) => return failed(e),
        };
    println!("{}", serde_json::to_string_pretty(&state).unwrap_or_default());
    ExitCode::SUCCESS
}

fn parse(args: &[String]) -> Result<SidebarArgs, ExitCode> {
    let (mut snapshot, mut last_run, mut now, mut hours, mut factor) = (None, None, None, 24i64, 2i64);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned();
        match a.as_str() {
            "--snapshot" => snapshot = value(),
            "--last-run" => last_run = value(),
            "--now" => now = value(),
            "--schedule-hours" => match value().and_then(|v| v.parse().ok()) {
                Some(h) if h > 0 => hours = h,
                _ => return Err(usage_error("--schedule-hours needs a positive integer")),
            },
            "--stale-factor" => match value().and_then(|v| v.parse().ok()) {
                Some(f) if f >= 0 => factor = f,
                _ => return Err(usage_error("--stale-factor needs a non-negative integer")),
            },
            s => return Err(usage_error(&format!("unexpected argument `{s}`"))),
        }
    }
    let Some(now) = now.and_then(|n| Instant::parse(&n).ok()) else {
        return Err(usage_error("--now needs an RFC 3339 instant with offset"));
    };
    Ok(SidebarArgs { snapshot, last_run, now, hours, factor })
}

/// An optional JSON document's bytes (bounded read; checked by the core).
fn load(path: Option<String>) -> Result<Option<Vec<u8>>, ExitCode> {
    path.map(|p| read::document(&p)).transpose()
}
