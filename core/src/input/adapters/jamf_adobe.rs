//! Jamf Pro computer inventory (`jamf-inventory`) and Adobe Admin Console user
//! export (`adobe-users`).
//!
//! Both adapters are pure functions of the page / export bytes and their
//! options; see `docs/adapters/jamf-inventory.md` and
//! `docs/adapters/adobe-users.md` for the field mapping and every quirk.
//!
//! Rejections are counted per signal that could not be produced (at least one
//! for a record that cannot be read at all), so that the reject percentage of
//! a file measures lost consumption, not lost lines: a Mac with 80
//! applications and no report date weighs 80 rows, like the 80 signals it
//! would have given.

use super::{
    decode_text, is_placeholder_serial, normalize_timestamp, parse_json, Adapter, AdapterOutput, DirectoryEntry, InputFile, Options,
    Origin, SignalRow,
};
use crate::canon::time::Instant;
use crate::error::{Error, ErrorCode, Location, Result};
use crate::vocab::DeviceKeyPrefix;
use crate::vocab::RowErrorCode;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

// ==========================================================================================
// jamf-inventory

/// `jamf-inventory`: pages of Jamf Pro API `GET /api/v1/computers-inventory`
/// (sections GENERAL, HARDWARE, APPLICATIONS, USER_AND_LOCATION), one
/// `installation` signal per (computer, application).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct JamfInventory;

/// Why a computer record could not be used: (column / JSON path, code, message).
type RecordError = (String, RowErrorCode, String);

/// One application of a computer, after de-duplication.
#[derive(Debug, Clone)]
struct JamfApp {
    /// `bundleId`, else `name`: the raw_id suffix.
    key: String,
    /// `name`, else `bundleId`: the product.
    product: String,
}

/// One computer record of a page, parsed.
#[derive(Debug, Clone)]
struct JamfComputer {
    origin: Origin,
    id: String,
    name: String,
    /// The instant its signals carry (report date, else last contact, else the option).
    observed_at: Option<String>,
    /// Recency for re-enrolment and duplicate resolution.
    report: Option<Instant>,
    contact: Option<Instant>,
    /// Serial as written (trimmed), empty when absent or a placeholder.
    serial: String,
    /// Serial normalised for comparison (upper-case, no white space).
    serial_key: String,
    user: String,
    apps: Vec<JamfApp>,
    /// Applications rejected on their own.
    app_errors: Vec<RecordError>,
}

impl JamfComputer {
    /// Newest first is the max of this key: report date, then last contact,
    /// then the larger computer id (ids are numeric strings; the newer
    /// enrolment has the larger one), then the text.
    fn recency(&self) -> (Option<Instant>, Option<Instant>, Option<u64>, &str) {
        (self.report, self.contact, self.id.parse::<u64>().ok(), &self.id)
    }
}

/// A JSON scalar as text: strings trimmed, numbers as written, `null` or
/// absent as empty. Anything else is a type error.
fn json_text(obj: &Map<String, Value>, key: &str, path: &str) -> std::result::Result<String, RecordError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err((path.to_string(), RowErrorCode::WrongType, format!("`{path}` must be a string"))),
    }
}

/// A section object; `null` or absent (sections Jamf did not return) is empty.
fn json_section<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    empty: &'a Map<String, Value>,
) -> std::result::Result<&'a Map<String, Value>, RecordError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(empty),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err((key.to_string(), RowErrorCode::WrongType, format!("section `{key}` must be an object or null"))),
    }
}

/// A Jamf instant: RFC 3339 as sent (0–9 fractional digits); one without an
/// offset is read as UTC, the Jamf Pro API's zone. Empty = `Ok(None)`.
fn jamf_instant(text: &str, path: &str) -> std::result::Result<Option<(String, Instant)>, RecordError> {
    if text.is_empty() {
        return Ok(None);
    }
    normalize_timestamp(text, "+00:00")
        .and_then(|t| Instant::parse(&t).ok().map(|i| (t, i)))
        .map(Some)
        .ok_or_else(|| (path.to_string(), RowErrorCode::MalformedInstant, format!("`{path}` is not an RFC 3339 instant")))
}

/// How many signals a computer record would have produced (for rejections):
/// its application entries, at least one.
fn app_count(v: &Value) -> usize {
    v.get("applications").and_then(Value::as_array).map_or(0, Vec::len).max(1)
}

fn parse_computer(v: &Value, origin: Origin, fallback: Option<&str>) -> std::result::Result<JamfComputer, RecordError> {
    let obj =
        v.as_object().ok_or_else(|| ("results".to_string(), RowErrorCode::WrongType, "a computer must be a JSON object".to_string()))?;
    let id = json_text(obj, "id", "id")?;
    if id.is_empty() {
        return Err(("id".to_string(), RowErrorCode::MissingField, "computer without `id`".to_string()));
    }
    let empty = Map::new();
    let general = json_section(obj, "general", &empty)?;
    let hardware = json_section(obj, "hardware", &empty)?;
    let user_loc = json_section(obj, "userAndLocation", &empty)?;
    let name = json_text(general, "name", "general.name")?;
    let report = jamf_instant(&json_text(general, "reportDate", "general.reportDate")?, "general.reportDate")?;
    let contact = jamf_instant(&json_text(general, "lastContactTime", "general.lastContactTime")?, "general.lastContactTime")?;
    let raw_serial = json_text(hardware, "serialNumber", "hardware.serialNumber")?;
    let (serial, serial_key) = if is_placeholder_serial(&raw_serial) {
        (String::new(), String::new())
    } else {
        (raw_serial.clone(), crate::input::normalize::normalize_serial_text(&raw_serial))
    };
    let email = json_text(user_loc, "email", "userAndLocation.email")?;
    let user = if email.is_empty() { json_text(user_loc, "username", "userAndLocation.username")? } else { email };
    let observed_at = report.as_ref().or(contact.as_ref()).map(|(t, _)| t.clone()).or_else(|| fallback.map(str::to_string));

    // Applications: `null` (section not collected) is none; duplicates of one
    // key (the same app in two folders) keep the byte-smallest (name, path)
    // so the choice does not depend on the order Jamf lists them in.
    let mut by_key: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut app_errors = Vec::new();
    let apps_value = match obj.get("applications") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => &a[..],
        Some(_) => {
            return Err(("applications".to_string(), RowErrorCode::WrongType, "`applications` must be an array or null".to_string()))
        }
    };
    for (k, app) in apps_value.iter().enumerate() {
        let path = format!("applications[{k}]");
        let Some(a) = app.as_object() else {
            app_errors.push((path, RowErrorCode::WrongType, "an application must be a JSON object".to_string()));
            continue;
        };
        let fields = json_text(a, "name", &format!("{path}.name"))
            .and_then(|n| json_text(a, "bundleId", &format!("{path}.bundleId")).map(|b| (n, b)))
            .and_then(|(n, b)| json_text(a, "path", &format!("{path}.path")).map(|p| (n, b, p)));
        let (app_name, bundle, app_path) = match fields {
            Ok(f) => f,
            Err(e) => {
                app_errors.push(e);
                continue;
            }
        };
        // `version` is deliberately not read: it may be empty, null or
        // missing, and no A1 column carries it.
        let key = if bundle.is_empty() { app_name.clone() } else { bundle.clone() };
        if key.is_empty() {
            app_errors.push((format!("{path}.name"), RowErrorCode::MissingField, "application without `name` or `bundleId`".to_string()));
            continue;
        }
        let product = if app_name.is_empty() { bundle } else { app_name };
        let cand = (product, app_path);
        match by_key.get_mut(&key) {
            Some(cur) if cand < *cur => *cur = cand,
            Some(_) => {}
            None => {
                by_key.insert(key, cand);
            }
        }
    }
    let apps = by_key.into_iter().map(|(key, (product, _))| JamfApp { key, product }).collect();
    Ok(JamfComputer {
        origin,
        id,
        name,
        observed_at,
        report: report.map(|(_, i)| i),
        contact: contact.map(|(_, i)| i),
        serial,
        serial_key,
        user,
        apps,
        app_errors,
    })
}

/// One page: its `totalCount` and its computer records.
fn read_jamf_page(file: &InputFile) -> Result<(Option<u64>, Vec<Value>)> {
    let doc = parse_json(&file.path, &file.bytes)?;
    let shape = |field: &str, msg: &str| {
        Error::new(ErrorCode::InvalidInput, format!("not a Jamf Pro computers-inventory page: {msg}"))
            .at(Location::file(&file.path).with_field(field))
    };
    let Value::Object(mut obj) = doc else { return Err(shape("$", "expected a JSON object")) };
    let total = match obj.get("totalCount") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| shape("$.totalCount", "`totalCount` must be a non-negative integer"))?),
    };
    match obj.remove("results") {
        Some(Value::Array(a)) => Ok((total, a)),
        _ => Err(shape("$.results", "`results` must be an array")),
    }
}

impl Adapter for JamfInventory {
    fn name(&self) -> &'static str {
        "jamf-inventory"
    }
    fn version(&self) -> &'static str {
        "1.0.0"
    }
    fn source(&self) -> &'static str {
        "jamf"
    }
    fn option_keys(&self) -> &'static [&'static str] {
        &["observed_at"]
    }

    fn run(&self, files: &[InputFile], options: &Options) -> Result<AdapterOutput> {
        let fallback = super::observed_at_option(self.name(), options, false)?;
        let mut out = AdapterOutput::for_files(files.len());

        // 1. Read every page first: one that fails as a whole fails the folder
        //    before any signal is produced.
        let mut pages = Vec::with_capacity(files.len());
        for file in files {
            pages.push(read_jamf_page(file)?);
        }
        let parsed = parse_pages(&pages, fallback.as_deref(), &mut out);
        note_total_count(&parsed.totals, parsed.seen, files.len().saturating_sub(1), &mut out);
        let computers = parsed.computers;
        let keep = keep_newest(&computers, &mut out);
        out.directory = device_aliases(&computers, &keep, &mut out);
        emit_jamf_signals(&computers, &keep, &mut out);
        Ok(out)
    }
}

/// The computers of every page, with what step 3 needs to check the pages'
/// `totalCount`.
struct ParsedPages {
    computers: Vec<JamfComputer>,
    /// totalCount value -> the files that state it.
    totals: BTreeMap<u64, Vec<usize>>,
    /// Computers seen: distinct ids, plus records without one.
    seen: u64,
}

/// Step 2: Parse the records; the ones that fail alone are rejected, once per
/// application they list.
fn parse_pages(pages: &[(Option<u64>, Vec<Value>)], fallback: Option<&str>, out: &mut AdapterOutput) -> ParsedPages {
    let mut computers: Vec<JamfComputer> = Vec::new();
    let mut totals: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    let mut seen_ids: BTreeSet<String> = BTreeSet::new();
    let mut seen_without_id = 0u64;
    for (fi, (total, results)) in pages.iter().enumerate() {
        if let Some(t) = total {
            totals.entry(*t).or_default().push(fi);
        }
        if let Some(r) = out.records.get_mut(fi) {
            *r = results.len() as u64;
        }
        for (j, v) in results.iter().enumerate() {
            let origin = Origin { file: fi, line: j as u64 + 1 };
            match parse_computer(v, origin, fallback) {
                Ok(c) => {
                    seen_ids.insert(c.id.clone());
                    for (col, code, msg) in &c.app_errors {
                        out.reject(origin, col, *code, format!("computer `{}`: {msg}", c.id));
                    }
                    computers.push(c);
                }
                Err((col, code, msg)) => {
                    let id = v.get("id").and_then(|i| i.as_str().map(str::to_string).or_else(|| i.as_u64().map(|n| n.to_string())));
                    match &id {
                        Some(id) if !id.is_empty() => {
                            seen_ids.insert(id.clone());
                        }
                        _ => seen_without_id += 1,
                    }
                    let who = id.map_or_else(|| format!("record {}", j + 1), |id| format!("computer `{id}`"));
                    for _ in 0..app_count(v) {
                        out.reject(origin, &col, code, format!("{who}: {msg}"));
                    }
                }
            }
        }
    }
    ParsedPages { computers, totals, seen: seen_ids.len() as u64 + seen_without_id }
}

/// Step 3: totalCount against the records seen (a missing page, or the
/// inventory changing while it was paged through), noted on the last file.
fn note_total_count(totals: &BTreeMap<u64, Vec<usize>>, seen: u64, last: usize, out: &mut AdapterOutput) {
    if totals.len() > 1 {
        let values: Vec<String> = totals.keys().map(u64::to_string).collect();
        out.notes.push((
            last,
            format!("pages disagree on totalCount ({}): the inventory changed while it was paged through", values.join(", ")),
        ));
    } else if let Some((&t, _)) = totals.iter().next() {
        if t != seen {
            out.notes.push((
                last,
                format!("totalCount is {t} but the pages hold {seen} computers: a page is missing or the inventory changed while it was paged through"),
            ));
        }
    }
}

/// Step 4: The same computer id on two pages (paging over a changing
/// inventory), then re-enrolment duplicates (one serial, two ids): keep the
/// newest report. Returns, per computer, whether it is kept.
fn keep_newest(computers: &[JamfComputer], out: &mut AdapterOutput) -> Vec<bool> {
    let mut keep = vec![true; computers.len()];
    let by_id: Vec<(String, usize)> = computers.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
    newest_by(computers, by_id, &mut keep, out, "id");
    let by_serial: Vec<(String, usize)> = computers
        .iter()
        .enumerate()
        .filter(|(i, c)| keep[*i] && !c.serial_key.is_empty())
        .map(|(i, c)| (c.serial_key.clone(), i))
        .collect();
    newest_by(computers, by_serial, &mut keep, out, "serial");
    keep
}

/// Among computers sharing a key (`what` is `id` or `serial`), keep the one
/// with the newest report (ties: the later origin) and note each dropped one.
fn newest_by(computers: &[JamfComputer], keys: Vec<(String, usize)>, keep: &mut [bool], out: &mut AdapterOutput, what: &str) {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (k, i) in keys {
        groups.entry(k).or_default().push(i);
    }
    for (k, idx) in groups {
        if idx.len() < 2 {
            continue;
        }
        let Some(&winner) = idx
            .iter()
            .max_by(|&&a, &&b| computers[a].recency().cmp(&computers[b].recency()).then(computers[a].origin.cmp(&computers[b].origin)))
        else {
            continue;
        };
        for &i in &idx {
            if i != winner {
                keep[i] = false;
                let c = &computers[i];
                let w = &computers[winner];
                let msg = if what == "id" {
                    format!("computer `{}` appears more than once (record {} here): kept the record with the newest report (file {}, record {})", c.id, c.origin.line, w.origin.file + 1, w.origin.line)
                } else {
                    format!(
                        "computer `{}` (serial {k}) skipped: computer `{}` has the same serial and a newer report (re-enrolment)",
                        c.id, w.id
                    )
                };
                out.notes.push((c.origin.file, msg));
            }
        }
    }
}

/// Step 5: Identity facts: serial ↔ computer name, only when that name belongs
/// to one serial. Directory aliases merge devices outright, and Macs often
/// share names ("MacBook Pro"): such names stay on the signals, where
/// identity resolution weighs them as hostnames.
fn device_aliases(computers: &[JamfComputer], keep: &[bool], out: &mut AdapterOutput) -> Vec<DirectoryEntry> {
    let mut names: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (i, c) in computers.iter().enumerate() {
        if keep[i] && !c.serial_key.is_empty() {
            if let Some(n) = crate::input::normalize::normalize_hostname(&c.name) {
                names.entry(n).or_default().insert(&c.serial_key);
            }
        }
    }
    let mut directory = BTreeSet::new();
    let mut shared_noted = BTreeSet::new();
    for (i, c) in computers.iter().enumerate() {
        if !keep[i] || c.serial_key.is_empty() {
            continue;
        }
        let Some(n) = crate::input::normalize::normalize_hostname(&c.name) else { continue };
        match names.get(&n) {
            Some(s) if s.len() == 1 => {
                directory.insert(DirectoryEntry {
                    principal_type: "device".to_string(),
                    canonical_id: DeviceKeyPrefix::Serial.key(&c.serial),
                    alias: DeviceKeyPrefix::Name.key(&c.name),
                    ..Default::default()
                });
            }
            Some(s) if shared_noted.insert(n.clone()) => {
                out.notes.push((
                    c.origin.file,
                    format!(
                        "computer name `{}` is shared by {} serial numbers: no serial ↔ name identity fact emitted for it",
                        c.name,
                        s.len()
                    ),
                ));
            }
            _ => {}
        }
    }
    directory.into_iter().collect()
}

/// Step 6: Signals: one installation per kept computer and application; a
/// computer with no instant at all rejects each of its applications.
fn emit_jamf_signals(computers: &[JamfComputer], keep: &[bool], out: &mut AdapterOutput) {
    for (i, c) in computers.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        for app in &c.apps {
            let Some(observed_at) = &c.observed_at else {
                out.reject(
                    c.origin,
                    "general.reportDate",
                    RowErrorCode::MissingField,
                    format!("computer `{}`: no general.reportDate or general.lastContactTime, and no `observed_at` option", c.id),
                );
                continue;
            };
            out.signals.push((
                c.origin,
                SignalRow {
                    source: "jamf".to_string(),
                    raw_id: format!("{}:{}", c.id, app.key),
                    observed_at: observed_at.clone(),
                    product: app.product.clone(),
                    kind: "installation".to_string(),
                    user: c.user.clone(),
                    device_serial: c.serial.clone(),
                    device_name: c.name.clone(),
                    ..Default::default()
                },
            ));
        }
    }
}

// ==========================================================================================
// adobe-users

/// `adobe-users`: the Adobe Admin Console user list (Users > Users > ⋯ >
/// Export users list to CSV), one active `assignment` per (account, product
/// configuration).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct AdobeUsers;

/// The columns of the export, in Adobe's order (`ID` and `Auto Assigned
/// Products` appear only in some console versions). Only the first three
/// listed in [`ADOBE_REQUIRED`] are read.
const ADOBE_COLUMNS: &[&str] = &[
    "Identity Type",
    "Username",
    "Domain",
    "Email",
    "First Name",
    "Last Name",
    "Country Code",
    "Product Configurations",
    "Admin Roles",
    "Product Configurations Administered",
    "User Groups",
    "User Groups Administered",
    "Products Administered",
    "Developer Access",
    "Auto Assigned Products",
];

/// Columns the adapter needs; a file without them is not this export.
const ADOBE_REQUIRED: [&str; 3] = ["Identity Type", "Email", "Product Configurations"];

/// `Federated ID` → `federated-id`: a raw_id token without spaces.
fn identity_token(s: &str) -> String {
    s.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join("-")
}

impl Adapter for AdobeUsers {
    fn name(&self) -> &'static str {
        "adobe-users"
    }
    fn version(&self) -> &'static str {
        "1.0.0"
    }
    fn source(&self) -> &'static str {
        "adobe"
    }
    fn option_keys(&self) -> &'static [&'static str] {
        &["observed_at"]
    }

    fn run(&self, files: &[InputFile], options: &Options) -> Result<AdapterOutput> {
        let observed_at = super::observed_at_option(self.name(), options, true)?.unwrap_or_default();
        let mut out = AdapterOutput::for_files(files.len());
        // raw_id -> signal; the same account and configuration twice (a row
        // repeated, or e-mails differing only in case) is one assignment.
        let mut rows: BTreeMap<String, (Origin, SignalRow)> = BTreeMap::new();
        // (e-mail lower-case) -> identity types -> configurations
        let mut accounts: BTreeMap<String, (Origin, BTreeMap<String, BTreeSet<String>>)> = BTreeMap::new();
        let mut repeated = 0u64;

        // Read every file before producing anything: one with a wrong header
        // or a broken record fails the folder as a whole.
        let mut parsed: Vec<Vec<(u64, String, String, String)>> = Vec::with_capacity(files.len());
        for file in files {
            let text = decode_text(&file.path, &file.bytes)?;
            let mut table = crate::input::table::CsvTable::new(&file.path, text.as_bytes())?;
            let header = table.header().to_vec();
            let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
            let mut idx = [0usize; 3];
            for (k, name) in ADOBE_REQUIRED.iter().enumerate() {
                idx[k] = col(name).ok_or_else(|| {
                    let hint = if header.len() == 1 && header.first().is_some_and(|h| h.contains(';')) {
                        " (the header is separated by semicolons; the console exports commas)"
                    } else {
                        ""
                    };
                    Error::new(
                        ErrorCode::InvalidInput,
                        format!(
                            "not an Adobe Admin Console user export: column `{name}` is missing{hint} (expected the columns {})",
                            ADOBE_COLUMNS.join(", ")
                        ),
                    )
                    .at(Location::line(&file.path, 1).with_field(*name))
                })?;
            }
            let mut recs = Vec::new();
            while let Some((line, rec)) = table.next_record()? {
                let f = |i: usize| crate::input::table::field(&file.path, line, &header, rec, i).map(str::to_string);
                recs.push((line, f(idx[0])?, f(idx[1])?, f(idx[2])?));
            }
            parsed.push(recs);
        }

        for (fi, recs) in parsed.into_iter().enumerate() {
            if let Some(r) = out.records.get_mut(fi) {
                *r = recs.len() as u64;
            }
            for (line, id_type, email, cell) in recs {
                let origin = Origin { file: fi, line };
                // A multi-value cell: "A, B" (quoted in the CSV) is two
                // configurations; empty items and repeats are dropped.
                let mut configs: Vec<&str> = Vec::new();
                for c in cell.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    if !configs.contains(&c) {
                        configs.push(c);
                    }
                }
                if configs.is_empty() {
                    continue; // no product: an admin-only or unlicensed account
                }
                let missing = if id_type.is_empty() {
                    Some("Identity Type")
                } else if email.is_empty() {
                    Some("Email")
                } else {
                    None
                };
                if let Some(column) = missing {
                    for _ in &configs {
                        out.reject(origin, column, RowErrorCode::MissingField, format!("`{column}` is empty"));
                    }
                    continue;
                }
                let token = identity_token(&id_type);
                let email_key = email.to_lowercase();
                let acct = accounts.entry(email_key.clone()).or_insert_with(|| (origin, BTreeMap::new()));
                let held = acct.1.entry(token.clone()).or_default();
                for c in configs {
                    held.insert(c.to_string());
                    let raw_id = format!("{token}:{email_key}:{c}");
                    let row = SignalRow {
                        source: "adobe".to_string(),
                        raw_id: raw_id.clone(),
                        observed_at: observed_at.clone(),
                        product: c.to_string(),
                        kind: "assignment".to_string(),
                        status: "active".to_string(),
                        user: email.clone(),
                        ..Default::default()
                    };
                    match rows.get_mut(&raw_id) {
                        // Keep the byte-smallest e-mail spelling, whatever the row order.
                        Some(cur) => {
                            repeated += 1;
                            if (&row.user, origin) < (&cur.1.user, cur.0) {
                                *cur = (origin, row);
                            }
                        }
                        None => {
                            rows.insert(raw_id, (origin, row));
                        }
                    }
                }
            }
        }
        if repeated > 0 {
            out.notes
                .push((files.len().saturating_sub(1), format!("{repeated} repeated (account, product configuration) pairs counted once")));
        }
        // The same e-mail under several identity types: Adobe bills each
        // account, identity resolution sees one user. Worth a note.
        for (email, (origin, types)) in &accounts {
            if types.len() > 1 {
                let list: Vec<String> =
                    types.iter().map(|(t, cs)| format!("{t} [{}]", cs.iter().cloned().collect::<Vec<_>>().join(", "))).collect();
                out.notes.push((
                    origin.file,
                    format!(
                        "{email} has accounts under {} identity types ({}): Adobe counts a seat per account, reconciliation counts one user",
                        types.len(),
                        list.join("; ")
                    ),
                ));
            }
        }
        let mut signals: Vec<(Origin, SignalRow)> = rows.into_values().collect();
        signals.sort();
        out.signals = signals;
        Ok(out)
    }
}
