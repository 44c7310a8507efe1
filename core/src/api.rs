//! The bytes/JSON entry points the CLI and every binding call.
//!
//! Bindings are thin: type conversion and the error/panic boundary. A check
//! of an argument that arrives as bytes or text (an instant, a schedule, a
//! document that must be JSON) lives here, once, so Python, Node and C refuse
//! the same inputs with the same error.
//!
//! The top layer: it may import from every layer below it.

use crate::canon::canonical::strip_position;
use crate::canon::time::Instant;
use crate::document::sidebar::{try_sidebar, SidebarInput};
use crate::document::snapshot::Snapshot;
use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

/// The sidebar state (DESIGN A8) over documents as the bindings receive
/// them: the latest successful snapshot's bytes (its hash is verified
/// first), the last run report's bytes, `now` as RFC 3339 text, the schedule
/// interval in seconds and the stale factor. The state is JSON (a host
/// renders it with canonical JSON: `canonicalize`).
///
/// Errors: `previous_snapshot_invalid` when the snapshot does not verify,
/// `invalid_input` for a report that is not a JSON object, a malformed `now`,
/// a schedule interval that is not positive or a negative stale factor, and
/// everything [`try_sidebar`] refuses (a report of
/// another organization, a schedule whose stale limit overflows).
///
/// ```
/// use eucora_license_core::api;
/// let s = api::sidebar(None, None, "2026-11-22T06:00:00Z", 86_400, 2).unwrap();
/// assert_eq!(s["state"], "stale");
/// assert_eq!(s["reason"]["code"], "never_reconciled");
/// let e = api::sidebar(None, None, "yesterday", 86_400, 2).unwrap_err();
/// assert_eq!(e.code().name(), "invalid_input");
/// ```
pub fn sidebar(
    snapshot: Option<&[u8]>,
    last_run: Option<&[u8]>,
    now: &str,
    schedule_interval_secs: i64,
    stale_factor: i64,
) -> Result<Value> {
    let invalid = |m: String| Error::new(ErrorCode::InvalidInput, m);
    let now = Instant::parse(now).map_err(|e| invalid(format!("`now` must be an RFC 3339 instant with offset ({})", e.code())))?;
    if schedule_interval_secs <= 0 {
        return Err(invalid("the schedule interval must be a positive number of seconds".into()));
    }
    if stale_factor < 0 {
        return Err(invalid("the stale factor must not be negative".into()));
    }
    let snapshot = snapshot.map(Snapshot::parse_verified).transpose()?;
    let run: Option<Value> = match last_run {
        None => None,
        Some(b) => match serde_json::from_slice::<Value>(b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)) {
            Ok(v @ Value::Object(_)) => Some(v),
            Ok(_) => return Err(invalid("the last run report must be a JSON object".into())),
            Err(e) => return Err(invalid(format!("the last run report is not JSON: {}", strip_position(&e)))),
        },
    };
    let state = try_sidebar(&SidebarInput {
        latest_success: snapshot.as_ref(),
        last_run: run.as_ref(),
        now,
        schedule_interval_secs,
        stale_factor,
    })?;
    serde_json::to_value(state).map_err(|e| Error::new(ErrorCode::Internal, format!("sidebar state: {e}")))
}

/// The run options of a `threads` argument as the bindings receive it (a
/// Python `int`, a JavaScript number, a C integer, a CLI flag): at least 1,
/// else `invalid_input`. The one check of that argument; every binding and
/// the CLI call it.
///
/// ```
/// use eucora_license_core::api;
/// assert_eq!(api::run_options(3).unwrap().threads, 3);
/// assert_eq!(api::run_options(0).unwrap_err().code().name(), "invalid_input");
/// assert_eq!(api::run_options(-2).unwrap_err().code().name(), "invalid_input");
/// ```
pub fn run_options(threads: i64) -> Result<crate::run::RunOptions> {
    let n = usize::try_from(threads)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| Error::new(ErrorCode::InvalidInput, format!("`threads` must be a whole number of at least 1, not {threads}")))?;
    crate::run::RunOptions::with_threads(n)
}

/// What changed between two runs, each given as a snapshot's or an
/// evidence pack's bytes: `{"summary": <the diff>, "units": <the unit lists
/// of diff.json> | null}`. Unit lists come when the current run is a pack
/// that directly follows the previous one.
///
/// ```
/// use eucora_license_core::{api, reconcile, MemoryBundle};
/// let e = api::diff(b"{}", b"{}").unwrap_err();
/// assert_eq!(e.code().name(), "previous_snapshot_invalid");
/// ```
pub fn diff(previous: &[u8], current: &[u8]) -> Result<Value> {
    let (prev, _) = crate::history::diff::open_run(previous)?;
    let (cur, detail) = crate::history::diff::open_run(current)?;
    let (summary, units) = crate::history::diff::with_units(&prev, &cur, detail)?;
    Ok(serde_json::json!({"summary": summary, "units": units}))
}

/// Every document type the engine writes — the snapshot and its parts, the
/// diff, the run report, the sidebar state, the pack manifest — as
/// `{"<Type>": {"schema": <id or null>, "fields": [names, sorted]}}`, read
/// off the serde types themselves. The bindings test their own types
/// against it (through `fixtures/documents.json`).
///
/// ```
/// let d = eucora_license_core::api::documents();
/// assert_eq!(d["Snapshot"]["schema"], "eucora.license.snapshot/v1");
/// assert!(d["SkuRecord"]["fields"].as_array().unwrap().contains(&"units_root".into()));
/// ```
pub fn documents() -> Value {
    let types = crate::document::schema::document_types();
    Value::Object(
        types
            .into_iter()
            .map(|(name, schema, fields)| {
                let schema = if schema.is_empty() { Value::Null } else { Value::from(schema) };
                (name.to_string(), serde_json::json!({"schema": schema, "fields": fields}))
            })
            .collect(),
    )
}

/// Every closed vocabulary as one JSON object, table name → its snake_case
/// names in declaration order (`exception_codes`, `diff_reasons`,
/// `compliance_statuses`, `health_states`, `sidebar_states`,
/// `sidebar_reasons`, `coverage_statuses`, `run_statuses`,
/// `device_key_prefixes`): what every binding exports.
///
/// ```
/// let v = eucora_license_core::api::vocabulary();
/// assert_eq!(v["diff_reasons"][0], "merged_identity");
/// assert_eq!(v["device_key_prefixes"], serde_json::json!(["serial:", "id:", "name:"]));
/// ```
pub fn vocabulary() -> Value {
    Value::Object(crate::vocab::vocabularies().into_iter().map(|(table, names)| (table.to_string(), Value::from(names))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moved from `document::sidebar::tests::another_organizations_report_is_refused`
    /// (issue 10, defect 11): the document form every binding uses refuses a
    /// last run report that is no run report.
    #[test]
    fn a_report_that_is_no_object_is_refused() {
        let e = sidebar(None, Some(b"[]"), "2026-11-23T07:00:00Z", 86_400, 2).unwrap_err();
        assert_eq!(e.code().name(), "invalid_input");
    }

    /// `fixtures/documents.json` is what every binding's document types are
    /// checked against; it must be the core's, byte for byte.
    #[test]
    fn the_documents_fixture_is_the_cores() {
        let bytes = crate::canon::canonical::to_vec(&documents()).unwrap();
        let fixture = include_str!("../../fixtures/documents.json");
        assert_eq!(std::str::from_utf8(&bytes).unwrap(), fixture.trim_end(), "regenerate fixtures/documents.json");
    }

    /// `fixtures/vocabulary.json` is the vocabulary every binding's test
    /// compares its export with; it must be the core's, byte for byte.
    #[test]
    fn the_vocabulary_fixture_is_the_cores() {
        let bytes = crate::canon::canonical::to_vec(&vocabulary()).unwrap();
        let fixture = include_str!("../../fixtures/vocabulary.json");
        assert_eq!(std::str::from_utf8(&bytes).unwrap(), fixture.trim_end(), "regenerate fixtures/vocabulary.json");
    }
}
