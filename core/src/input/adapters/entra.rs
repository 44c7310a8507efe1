//! Microsoft Entra ID adapters over Microsoft Graph v1.0 exports.
//!
//! - `entra-users`: pages of `GET /users?$select=id,userPrincipalName,mail,
//!   accountEnabled,assignedLicenses,licenseAssignmentStates,signInActivity`
//!   become one `assignment` signal per (user, SKU) and, for enabled accounts
//!   holding the SKU, one `usage` signal from the last successful sign-in.
//! - `entra-subscribed-skus`: pages of `GET /subscribedSkus` become entitlement
//!   observations (what the tenant says it bought and assigned), never signals.
//!
//! Both read Graph collection pages: a JSON object with a `value` array and,
//! on every page but the last, an `@odata.nextLink`. Pages are saved one per
//! file; the folder is read in path order and the chain is checked by count
//! (exactly one page without `@odata.nextLink`), because a page does not carry
//! its own URL and file names need not sort in page order.
//!
//! The folders stay independent: `entra-users` learns SKU part numbers from
//! its `sku_names` option, not from a subscribedSkus page next to it, so one
//! folder's result never depends on another folder's files.
//!
//! A JSON record (an element of `value`) is the unit of rejection; its
//! [`Origin::line`] is its 1-based position in the page's `value` array.

use super::{
    field, is_null_guid, normalize_timestamp, parse_json, seen_before, Adapter, AdapterOutput, DirectoryEntry, EntitlementObservation,
    Field, InputFile, Options, Origin, SignalRow,
};
use crate::canon::time::Instant;
use crate::error::{Error, ErrorCode, Location, Result};
use crate::vocab::RowErrorCode;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Source name carried by every row and observation of these adapters.
const SOURCE: &str = "entra";

/// Graph timestamps are documented as "always in UTC"; a value written
/// without an offset (some export tools drop the `Z`) is read at UTC.
const GRAPH_OFFSET: &str = "+00:00";

// ------------------------------------------------------------------------------------------
// Pages

/// One Graph collection page: its records and whether it points to a next page.
struct Page {
    records: Vec<Value>,
    has_next: bool,
}

/// Read a Graph collection page and check it is a page of `entity_set`.
///
/// A page that is not a JSON object with a `value` array, or whose
/// `@odata.context` names another entity set (a `/subscribedSkus` page in the
/// users folder, say), is the JSON counterpart of a CSV with the wrong header:
/// the whole file fails, naming the file, and the folder yields nothing.
fn read_page(file: &InputFile, entity_set: &str, adapter: &str) -> Result<Page> {
    let doc = parse_json(&file.path, &file.bytes)?;
    let Value::Object(mut obj) = doc else {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!("adapter `{adapter}` expects a Graph `/{entity_set}` page: a JSON object with a `value` array"),
        )
        .at(Location::file(&file.path).with_field("$")));
    };
    if let Some(Value::String(ctx)) = obj.get("@odata.context") {
        if let Some(found) = context_entity_set(ctx) {
            if !found.eq_ignore_ascii_case(entity_set) {
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    format!("this is a Graph `{found}` page; adapter `{adapter}` reads `/{entity_set}` pages"),
                )
                .at(Location::file(&file.path).with_field("@odata.context")));
            }
        }
    }
    let has_next = matches!(obj.get("@odata.nextLink"), Some(Value::String(s)) if !s.trim().is_empty());
    match obj.remove("value") {
        Some(Value::Array(records)) => Ok(Page { records, has_next }),
        _ => {
            Err(Error::new(ErrorCode::InvalidInput, format!("adapter `{adapter}` expects a Graph `/{entity_set}` page: no `value` array"))
                .at(Location::file(&file.path).with_field("value")))
        }
    }
}

/// The entity set an `@odata.context` URL names: `users` in
/// `https://graph.microsoft.com/v1.0/$metadata#users(id,mail)`.
fn context_entity_set(ctx: &str) -> Option<&str> {
    let (_, rest) = ctx.split_once("$metadata#")?;
    let end = rest.find(['(', '/', '$', '?']).unwrap_or(rest.len());
    let set = rest.get(..end)?.trim();
    (!set.is_empty()).then_some(set)
}

/// Notes on the page chain, order-free: a complete export has exactly one
/// page without `@odata.nextLink` (the last one). All pages pointing onwards
/// means the last page is missing; several final pages suggest two exports
/// mixed in one folder. Neither can be proven from the files alone (a page
/// does not carry its own URL), so they are reported, not fatal.
fn page_chain_notes(pages: &[bool], out: &mut AdapterOutput) {
    if pages.is_empty() {
        return;
    }
    let finals: Vec<usize> = pages.iter().enumerate().filter(|(_, next)| !**next).map(|(i, _)| i).collect();
    if finals.is_empty() {
        out.notes
            .push((pages.len() - 1, "every page has @odata.nextLink: the export looks incomplete (its last page is missing)".to_string()));
    } else if finals.len() > 1 {
        for &i in &finals {
            out.notes.push((i, format!("{} pages have no @odata.nextLink: the folder may hold more than one export", finals.len())));
        }
    }
}

// ------------------------------------------------------------------------------------------
// JSON field access

/// A Graph timestamp as an RFC 3339 instant with offset (0–9 fractional
/// digits kept as written), with its parsed value for comparisons.
fn graph_instant(s: &str) -> Option<(Instant, String)> {
    let text = normalize_timestamp(s, GRAPH_OFFSET)?;
    let at = Instant::parse(&text).ok()?;
    Some((at, text))
}

/// Whether a licenseAssignmentState `error` means "no error": Graph documents
/// `null`; exports also show the field absent or the text `None`.
fn is_no_error(e: &Field<'_>) -> bool {
    match e {
        Field::Absent => true,
        Field::Text(t) => t.eq_ignore_ascii_case("none"),
        Field::Invalid => false,
    }
}

// ------------------------------------------------------------------------------------------
// entra-users

/// `entra-users`: Graph `/users` pages → assignment and usage signals, user
/// aliases (mail and object id → UPN) carrying the account's status and last
/// sign-in.
pub(super) struct EntraUsers;

/// How assignment signals are dated (option `assignment_time`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum AssignmentTime {
    /// The licenseAssignmentState's `lastUpdatedDateTime` (latest of the
    /// SKU's states), else option `observed_at`.
    LastUpdated,
    /// Option `observed_at` (the export's instant) for every assignment.
    Export,
}

/// Parsed options of `entra-users`.
struct UserOptions {
    /// skuId (lower case) → skuPartNumber.
    sku_names: BTreeMap<String, String>,
    /// The export's instant, validated.
    observed_at: Option<String>,
    assignment_time: AssignmentTime,
}

impl UserOptions {
    fn parse(options: &Options) -> Result<Self> {
        let bad = |msg: String| Error::new(ErrorCode::InvalidInput, msg);
        let mut sku_names = BTreeMap::new();
        if let Some(list) = options.get("sku_names") {
            for (n, entry) in list.split(',').enumerate() {
                let entry = entry.trim();
                if entry.is_empty() {
                    continue;
                }
                let Some((id, name)) = entry.split_once('=') else {
                    return Err(bad(format!("option `sku_names`: entry {} is not `skuId=skuPartNumber`", n + 1)));
                };
                let (id, name) = (id.trim().to_lowercase(), name.trim());
                if id.is_empty() || name.is_empty() {
                    return Err(bad(format!("option `sku_names`: entry {} has an empty skuId or skuPartNumber", n + 1)));
                }
                if let Some(prev) = sku_names.insert(id.clone(), name.to_string()) {
                    if prev != name {
                        // Option values are never echoed: the entry number locates it.
                        return Err(bad(format!("option `sku_names`: entry {} names a skuId already named differently", n + 1)));
                    }
                }
            }
        }
        let observed_at = super::observed_at_option("entra-users", options, false)?;
        // Default: an assignment present in the export is held at the export's
        // instant, so date it there when that instant is known. Dating it by
        // lastUpdatedDateTime (when it last *changed*) would let a licence held
        // untouched for months age out of the lookback and go uncounted.
        let assignment_time = match options.get("assignment_time").map(|s| s.trim()) {
            None if observed_at.is_some() => AssignmentTime::Export,
            None | Some("last_updated") => AssignmentTime::LastUpdated,
            Some("export") => AssignmentTime::Export,
            Some(_) => return Err(bad("option `assignment_time` must be `last_updated` or `export`".to_string())),
        };
        if assignment_time == AssignmentTime::Export && observed_at.is_none() {
            return Err(bad("option `assignment_time=export` needs option `observed_at` (the export's instant)".to_string()));
        }
        Ok(UserOptions { sku_names, observed_at, assignment_time })
    }
}

/// One licenseAssignmentState entry, checked.
struct StateEntry {
    sku: String,
    /// `Some(true)` Active/ActiveWithError, `Some(false)` Error/Disabled,
    /// `None` a state Graph does not document (the pair is rejected).
    active: Option<bool>,
    /// `lastUpdatedDateTime`: absent, parsed, or malformed (`Err`).
    updated: std::result::Result<Option<(Instant, String)>, ()>,
}

/// What one user record yields before it is committed to the output.
#[derive(Default)]
struct UserYield {
    signals: Vec<SignalRow>,
    rejects: Vec<(&'static str, RowErrorCode, String)>,
}

impl Adapter for EntraUsers {
    fn name(&self) -> &'static str {
        "entra-users"
    }
    fn version(&self) -> &'static str {
        "1.1.0"
    }
    fn source(&self) -> &'static str {
        SOURCE
    }
    fn option_keys(&self) -> &'static [&'static str] {
        &["assignment_time", "observed_at", "sku_names"]
    }

    fn run(&self, files: &[InputFile], options: &Options) -> Result<AdapterOutput> {
        let opts = UserOptions::parse(options)?;
        let mut out = AdapterOutput::for_files(files.len());
        let mut chain = Vec::with_capacity(files.len());
        // User object id (lower case) → the record first read for it.
        let mut seen: BTreeMap<String, Value> = BTreeMap::new();
        let mut directory: BTreeSet<DirectoryEntry> = BTreeSet::new();
        for (fi, file) in files.iter().enumerate() {
            let page = read_page(file, "users", self.name())?;
            chain.push(page.has_next);
            if let Some(n) = out.records.get_mut(fi) {
                *n = page.records.len() as u64;
            }
            let mut repeated = 0u64;
            for (ri, record) in page.records.iter().enumerate() {
                let origin = Origin { file: fi, line: ri as u64 + 1 };
                let Some(obj) = record.as_object() else {
                    out.reject(origin, "$", RowErrorCode::InvalidRecord, "a /users record must be a JSON object");
                    continue;
                };
                let id = match field(obj, "id") {
                    Field::Text(id) if !is_null_guid(id) => id.to_lowercase(),
                    Field::Text(_) => {
                        out.reject(origin, "id", RowErrorCode::InvalidId, "user id is the all-zero GUID");
                        continue;
                    }
                    Field::Absent => {
                        out.reject(origin, "id", RowErrorCode::MissingField, "user record has no `id`");
                        continue;
                    }
                    Field::Invalid => {
                        out.reject(origin, "id", RowErrorCode::InvalidField, "`id` must be a string");
                        continue;
                    }
                };
                // Graph paging during directory changes can repeat a user.
                let duplicate = "user id already read on an earlier page with different content; the first record is kept";
                if seen_before(&mut seen, ("id", &id), record, &mut repeated, &mut out, origin, duplicate) {
                    continue;
                }
                let y = user_record(obj, &id, &opts, file, origin)?;
                for (column, code, message) in y.rejects {
                    out.reject(origin, column, code, message);
                }
                for s in y.signals {
                    out.signals.push((origin, s));
                }
                if let Field::Text(upn) = field(obj, "userPrincipalName") {
                    let (status, last_active_at) = account_facts(obj);
                    let entry = |alias: &str| DirectoryEntry {
                        principal_type: "user".into(),
                        canonical_id: upn.to_string(),
                        alias: alias.to_string(),
                        status: status.to_string(),
                        last_active_at: last_active_at.clone(),
                    };
                    directory.insert(entry(&id));
                    if let Field::Text(mail) = field(obj, "mail") {
                        if mail.to_lowercase() != upn.to_lowercase() {
                            directory.insert(entry(mail));
                        }
                    }
                }
            }
            if repeated > 0 {
                out.notes.push((fi, format!("{repeated} user record(s) repeated identically from an earlier page were skipped")));
            }
        }
        page_chain_notes(&chain, &mut out);
        out.directory = directory.into_iter().collect();
        Ok(out)
    }
}

/// A record-level rejection: (column, code, message).
type UserReject = (&'static str, RowErrorCode, String);

/// The signals of one user record. A structural problem rejects the whole
/// record (no signal from it); an undocumented state or a malformed
/// timestamp rejects only the affected (user, SKU) pair or the usage rows.
/// A pair with no timestamp at all and no `observed_at` option is an error:
/// the export cannot be dated and the core never reads a clock.
fn user_record(obj: &Map<String, Value>, id: &str, opts: &UserOptions, file: &InputFile, origin: Origin) -> Result<UserYield> {
    let mut y = UserYield::default();
    let parts = (user_principal_name(obj), assigned_skus(obj), assignment_states(obj));
    let (upn, assigned, states) = match parts {
        (Ok(u), Ok(a), Ok(s)) => (u, a, s),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => {
            y.rejects.push(r);
            return Ok(y);
        }
    };
    // `accountEnabled` is returned only on $select; absent = not known to be disabled.
    let enabled = !matches!(obj.get("accountEnabled"), Some(Value::Bool(false)));
    let (sign_in, sign_in_bad) = last_sign_in(obj);

    let skus: BTreeSet<&String> = assigned.iter().chain(states.iter().map(|s| &s.sku)).collect();
    let mut usage_wanted = false;
    for sku in skus {
        let mine: Vec<&StateEntry> = states.iter().filter(|s| &s.sku == sku).collect();
        if mine.iter().any(|s| s.active.is_none()) {
            y.rejects.push((
                "licenseAssignmentStates.state",
                RowErrorCode::UnknownState,
                format!("SKU {sku}: a state other than Active, ActiveWithError, Disabled or Error"),
            ));
            continue;
        }
        let status = seat_status(&mine, assigned.contains(sku));
        let observed_at = match assignment_observed_at(&mine, sku, opts, file, origin)? {
            Ok(t) => t,
            Err(r) => {
                y.rejects.push(r);
                continue;
            }
        };
        let product = opts.sku_names.get(sku.as_str()).cloned().unwrap_or_else(|| sku.clone());
        y.signals.push(SignalRow {
            source: SOURCE.into(),
            raw_id: format!("{id}:{sku}"),
            observed_at,
            product: product.clone(),
            kind: "assignment".into(),
            status: status.into(),
            user: upn.to_string(),
            ..Default::default()
        });
        if status == "active" && enabled {
            usage_wanted = true;
            if let Some(at) = &sign_in {
                y.signals.push(usage_signal(id, sku, upn, product, at));
            }
        }
    }
    if sign_in_bad && usage_wanted {
        y.rejects.push((
            "signInActivity",
            RowErrorCode::MalformedInstant,
            "signInActivity has no readable sign-in date-time; no usage signal from this record".into(),
        ));
    }
    Ok(y)
}

/// The account's directory facts: `status` from `accountEnabled` (`true` →
/// `active`, `false` → `disabled`; absent — Graph returns it only on
/// `$select` — or not a boolean → unknown) and `last_active_at` from the same
/// sign-in instant the usage signal uses (the last successful sign-in, else
/// the last interactive sign-in `lastSignInDateTime`; none or unreadable →
/// unknown).
fn account_facts(obj: &Map<String, Value>) -> (&'static str, String) {
    let status = match obj.get("accountEnabled") {
        Some(Value::Bool(true)) => "active",
        Some(Value::Bool(false)) => "disabled",
        _ => "",
    };
    (status, last_sign_in(obj).0.unwrap_or_default())
}

/// Direct and group assignments of one SKU hold one seat: active when any
/// path is (or none is recorded); else suspended while the SKU is still
/// assigned, revoked when it is not.
fn seat_status(mine: &[&StateEntry], still_assigned: bool) -> &'static str {
    if mine.is_empty() || mine.iter().any(|s| s.active == Some(true)) {
        "active"
    } else if still_assigned {
        "suspended"
    } else {
        "revoked"
    }
}

/// The usage signal of an active seat: the user's last sign-in.
fn usage_signal(id: &str, sku: &str, upn: &str, product: String, at: &str) -> SignalRow {
    SignalRow {
        source: SOURCE.into(),
        raw_id: format!("{id}:{sku}:signin"),
        observed_at: at.to_string(),
        product,
        kind: "usage".into(),
        user: upn.to_string(),
        last_used_at: at.to_string(),
        ..Default::default()
    }
}

/// `userPrincipalName`, the user every signal of the record names.
fn user_principal_name(obj: &Map<String, Value>) -> std::result::Result<&str, UserReject> {
    match field(obj, "userPrincipalName") {
        Field::Text(u) => Ok(u),
        Field::Absent => Err(("userPrincipalName", RowErrorCode::MissingField, "user record has no `userPrincipalName`".into())),
        Field::Invalid => Err(("userPrincipalName", RowErrorCode::InvalidField, "`userPrincipalName` must be a string".into())),
    }
}

/// assignedLicenses: the SKUs in effect (direct and inherited alike),
/// lowercased.
fn assigned_skus(obj: &Map<String, Value>) -> std::result::Result<BTreeSet<String>, UserReject> {
    let mut assigned: BTreeSet<String> = BTreeSet::new();
    match obj.get("assignedLicenses") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for l in list {
                match l.as_object().map(|o| field(o, "skuId")) {
                    Some(Field::Text(s)) if !is_null_guid(s) => {
                        assigned.insert(s.to_lowercase());
                    }
                    _ => {
                        return Err((
                            "assignedLicenses",
                            RowErrorCode::InvalidField,
                            "an assignedLicenses entry has no valid `skuId`".into(),
                        ))
                    }
                }
            }
        }
        Some(_) => return Err(("assignedLicenses", RowErrorCode::InvalidField, "`assignedLicenses` must be an array".into())),
    }
    Ok(assigned)
}

/// licenseAssignmentStates: one entry per assignment path (direct, each
/// group).
fn assignment_states(obj: &Map<String, Value>) -> std::result::Result<Vec<StateEntry>, UserReject> {
    let mut states: Vec<StateEntry> = Vec::new();
    match obj.get("licenseAssignmentStates") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for s in list {
                states.push(assignment_state(s)?);
            }
        }
        Some(_) => {
            return Err(("licenseAssignmentStates", RowErrorCode::InvalidField, "`licenseAssignmentStates` must be an array".into()))
        }
    }
    Ok(states)
}

/// One licenseAssignmentStates entry: its SKU, whether it is in force, and
/// when it last changed. An unknown state is kept (`active: None`) so that
/// only its SKU is rejected.
fn assignment_state(s: &Value) -> std::result::Result<StateEntry, UserReject> {
    let Some(so) = s.as_object() else {
        return Err(("licenseAssignmentStates", RowErrorCode::InvalidField, "a licenseAssignmentStates entry is not an object".into()));
    };
    let sku = match field(so, "skuId") {
        Field::Text(s) if !is_null_guid(s) => s.to_lowercase(),
        _ => {
            return Err((
                "licenseAssignmentStates",
                RowErrorCode::InvalidField,
                "a licenseAssignmentStates entry has no valid `skuId`".into(),
            ))
        }
    };
    let active = match field(so, "state") {
        Field::Text(t) if t.eq_ignore_ascii_case("Active") || t.eq_ignore_ascii_case("ActiveWithError") => Some(true),
        Field::Text(t) if t.eq_ignore_ascii_case("Error") || t.eq_ignore_ascii_case("Disabled") => Some(false),
        // No state: the error field decides (no error = in force).
        Field::Absent => Some(is_no_error(&field(so, "error"))),
        _ => None,
    };
    let updated = match field(so, "lastUpdatedDateTime") {
        Field::Absent => Ok(None),
        Field::Text(t) => graph_instant(t).map(Some).ok_or(()),
        Field::Invalid => Err(()),
    };
    Ok(StateEntry { sku, active, updated })
}

/// Last successful sign-in (else the last interactive attempt: the
/// successful-sign-in field exists since December 2023 and is not
/// backfilled), and whether one was given but unreadable (reported only when
/// a usage signal was wanted).
fn last_sign_in(obj: &Map<String, Value>) -> (Option<String>, bool) {
    let mut sign_in: Option<String> = None;
    let mut sign_in_bad = false;
    match obj.get("signInActivity") {
        None | Some(Value::Null) => {}
        Some(Value::Object(sa)) => {
            let pick = match field(sa, "lastSuccessfulSignInDateTime") {
                Field::Absent => field(sa, "lastSignInDateTime"),
                other => other,
            };
            match pick {
                Field::Absent => {}
                Field::Text(t) => match graph_instant(t) {
                    Some((_, text)) => sign_in = Some(text),
                    None => sign_in_bad = true,
                },
                Field::Invalid => sign_in_bad = true,
            }
        }
        Some(_) => sign_in_bad = true,
    }
    (sign_in, sign_in_bad)
}

/// The instant of one SKU's assignment signal: the export's (option
/// `assignment_time = export`) or its newest `lastUpdatedDateTime`, falling
/// back to option `observed_at`. A malformed date rejects the SKU (inner
/// `Err`); no instant at all fails the import (outer `Err`).
fn assignment_observed_at(
    mine: &[&StateEntry],
    sku: &str,
    opts: &UserOptions,
    file: &InputFile,
    origin: Origin,
) -> Result<std::result::Result<String, UserReject>> {
    if let AssignmentTime::Export = opts.assignment_time {
        return Ok(Ok(opts.observed_at.clone().unwrap_or_default()));
    }
    if mine.iter().any(|s| s.updated.is_err()) {
        return Ok(Err((
            "licenseAssignmentStates.lastUpdatedDateTime",
            RowErrorCode::MalformedInstant,
            format!("SKU {sku}: lastUpdatedDateTime is not an RFC 3339 date-time"),
        )));
    }
    let latest = mine.iter().filter_map(|s| s.updated.as_ref().ok().and_then(|u| u.as_ref())).max_by_key(|u| u.0);
    match (latest, &opts.observed_at) {
        (Some((_, text)), _) => Ok(Ok(text.clone())),
        (None, Some(at)) => Ok(Ok(at.clone())),
        (None, None) => Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "record {}: the assignment of SKU {sku} has no lastUpdatedDateTime; set option `observed_at` to the export's instant",
                origin.line
            ),
        )
        .at(Location::line(&file.path, origin.line).with_field("licenseAssignmentStates.lastUpdatedDateTime"))),
    }
}

// ------------------------------------------------------------------------------------------
// entra-subscribed-skus

/// `entra-subscribed-skus`: Graph `/subscribedSkus` pages → entitlement
/// observations (prepaid units by state, consumed units, capability status).
pub(super) struct EntraSubscribedSkus;

/// A non-negative Int32 count; absent or `null` is 0 (Graph's schema marks
/// the counts nullable, and a SKU without units has none).
fn count(obj: &Map<String, Value>, key: &str) -> std::result::Result<i64, ()> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n.as_i64().filter(|v| *v >= 0).ok_or(()),
        Some(_) => Err(()),
    }
}

impl Adapter for EntraSubscribedSkus {
    fn name(&self) -> &'static str {
        "entra-subscribed-skus"
    }
    fn version(&self) -> &'static str {
        "1.0.0"
    }
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn run(&self, files: &[InputFile], _options: &Options) -> Result<AdapterOutput> {
        let mut out = AdapterOutput::for_files(files.len());
        let mut seen: BTreeMap<String, Value> = BTreeMap::new();
        for (fi, file) in files.iter().enumerate() {
            let page = read_page(file, "subscribedSkus", self.name())?;
            if let Some(n) = out.records.get_mut(fi) {
                *n = page.records.len() as u64;
            }
            let mut repeated = 0u64;
            for (ri, record) in page.records.iter().enumerate() {
                let origin = Origin { file: fi, line: ri as u64 + 1 };
                let Some(obj) = record.as_object() else {
                    out.reject(origin, "$", RowErrorCode::InvalidRecord, "a /subscribedSkus record must be a JSON object");
                    continue;
                };
                let sku_id = match field(obj, "skuId") {
                    Field::Text(s) if !is_null_guid(s) => s.to_lowercase(),
                    _ => {
                        out.reject(origin, "skuId", RowErrorCode::MissingField, "subscribedSku has no valid `skuId`");
                        continue;
                    }
                };
                let Field::Text(part) = field(obj, "skuPartNumber") else {
                    out.reject(origin, "skuPartNumber", RowErrorCode::MissingField, "subscribedSku has no `skuPartNumber`");
                    continue;
                };
                let Ok(consumed) = count(obj, "consumedUnits") else {
                    out.reject(origin, "consumedUnits", RowErrorCode::InvalidNumber, "`consumedUnits` must be a non-negative integer");
                    continue;
                };
                let empty = Map::new();
                let prepaid = match obj.get("prepaidUnits") {
                    None | Some(Value::Null) => &empty,
                    Some(Value::Object(p)) => p,
                    Some(_) => {
                        out.reject(origin, "prepaidUnits", RowErrorCode::InvalidField, "`prepaidUnits` must be an object");
                        continue;
                    }
                };
                let (Ok(enabled), Ok(warning), Ok(suspended), Ok(locked_out)) =
                    (count(prepaid, "enabled"), count(prepaid, "warning"), count(prepaid, "suspended"), count(prepaid, "lockedOut"))
                else {
                    out.reject(origin, "prepaidUnits", RowErrorCode::InvalidNumber, "prepaidUnits counts must be non-negative integers");
                    continue;
                };
                let status = match field(obj, "capabilityStatus") {
                    Field::Text(s) => s.to_string(),
                    _ => String::new(),
                };
                let duplicate = "skuId already read on an earlier page with different content; the first record is kept";
                if seen_before(&mut seen, ("skuId", &sku_id), record, &mut repeated, &mut out, origin, duplicate) {
                    continue;
                }
                out.observations.push(EntitlementObservation {
                    source: SOURCE.into(),
                    product: part.to_string(),
                    external_id: sku_id,
                    enabled,
                    warning,
                    suspended,
                    locked_out,
                    consumed,
                    status,
                });
            }
            if repeated > 0 {
                out.notes.push((fi, format!("{repeated} SKU record(s) repeated identically from an earlier page were skipped")));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_names_the_entity_set() {
        assert_eq!(context_entity_set("https://graph.microsoft.com/v1.0/$metadata#users(id,mail)"), Some("users"));
        assert_eq!(context_entity_set("https://graph.microsoft.com/v1.0/$metadata#subscribedSkus"), Some("subscribedSkus"));
        assert_eq!(context_entity_set("https://graph.microsoft.com/v1.0/$metadata#users/$entity"), Some("users"));
        assert_eq!(context_entity_set("no metadata here"), None);
        assert_eq!(context_entity_set("$metadata#"), None);
    }

    #[test]
    fn graph_instants_keep_their_digits_and_read_utc_without_offset() {
        for s in ["2026-11-20T10:00:00Z", "2026-11-20T10:00:00.1Z", "2026-11-20T10:00:00.1234567Z"] {
            assert_eq!(graph_instant(s).map(|(_, t)| t).as_deref(), Some(s));
        }
        assert_eq!(graph_instant("2026-11-20T10:00:00").map(|(_, t)| t).as_deref(), Some("2026-11-20T10:00:00+00:00"));
        assert!(graph_instant("20/11/2026 10:00").is_none());
        assert!(graph_instant("2026-11-20T10:00:00éé").is_none());
    }
}
