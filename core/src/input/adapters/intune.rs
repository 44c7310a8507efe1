//! Microsoft Intune adapters (Microsoft Graph v1.0, `deviceManagement`).
//!
//! - `intune-devices` reads `GET /deviceManagement/managedDevices` pages and
//!   emits only identity facts: which serial, Entra device id
//!   (`azureADDeviceId`) and hostname (`deviceName`) belong to one machine, and
//!   which e-mail address belongs to which UPN. Intune is the one system that
//!   knows all three device names at once, so its facts let a Jamf serial, an
//!   Entra device id and an SCCM hostname land on the same device.
//! - `intune-apps` reads installed-software inventories, either per device
//!   (`GET /deviceManagement/managedDevices/{id}?$expand=detectedApps`, device
//!   objects carrying `detectedApps`) or per app
//!   (`GET /deviceManagement/detectedApps/{id}?$expand=managedDevices`, app
//!   objects carrying `managedDevices`), recognised by content, and emits one
//!   `installation` signal per (managed device, detected app) plus the same
//!   identity facts.
//!
//! Both accept collection pages (`{"value": [...], "@odata.nextLink": ...}`, one
//! file per page) and single-entity responses (a `GET` by id, the only way
//! Graph honours `$expand` on these navigation properties), in UTF-8 or
//! UTF-16 with a BOM (PowerShell `Out-File`).
//!
//! Why the re-enrolment and hostname rules below: an identity fact is a
//! directory alias, and directory aliases merge devices unconditionally. An
//! adapter must therefore only state facts that hold for one machine today;
//! a stale enrolment or a hostname shared by several machines would silently
//! merge different devices and under-count consumption.

use super::{
    is_null_guid, is_placeholder_serial, normalize_timestamp, parse_json, Adapter, AdapterOutput, DirectoryEntry, InputFile, Options,
    Origin, SignalRow,
};
use crate::canon::time::Instant;
use crate::error::{Error, ErrorCode, Location, Result};
use crate::input::normalize::{normalize_hostname, normalize_serial};
use crate::vocab::DeviceKeyPrefix;
use crate::vocab::RowErrorCode;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Version of both Intune adapters (recorded in import jobs and snapshots).
const VERSION: &str = "1.0.0";
/// Source name of every Intune signal.
const SOURCE: &str = "intune";

/// Fields that only a `managedDevice` object carries; one of them marks a
/// record as a device (how a page of another endpoint is told apart).
const DEVICE_KEYS: &[&str] = &[
    "deviceName",
    "serialNumber",
    "azureADDeviceId",
    "lastSyncDateTime",
    "enrolledDateTime",
    "managedDeviceOwnerType",
    "operatingSystem",
    "detectedApps",
];

/// `intune-devices`: managed devices → identity facts only.
pub(super) struct IntuneDevices;

/// `intune-apps`: detected apps joined to managed devices → installations.
pub(super) struct IntuneApps;

impl Adapter for IntuneDevices {
    fn name(&self) -> &'static str {
        "intune-devices"
    }
    fn version(&self) -> &'static str {
        VERSION
    }
    fn source(&self) -> &'static str {
        SOURCE
    }
    fn run(&self, files: &[InputFile], _options: &Options) -> Result<AdapterOutput> {
        let mut out = AdapterOutput::for_files(files.len());
        let mut inv = Inventory::default();
        let mut paging = Vec::new();
        for (fi, file) in files.iter().enumerate() {
            let page = read_page(file, self.name(), &["managedDevices"])?;
            if !page.records.is_empty() && !page.records.iter().any(is_device_like) {
                let hint = if page.records.iter().any(|r| r.get("managedDevices").is_some()) {
                    " (detected apps with managedDevices belong to intune-apps)"
                } else {
                    ""
                };
                return Err(wrong_shape(&file.path, format!("no record is a managedDevice (none has {}){hint}", DEVICE_KEYS.join(", "))));
            }
            if let Some(next) = page.next_link {
                paging.push((fi, next));
            }
            count_records(&mut out, fi, page.records.len());
            for (i, rec) in page.records.iter().enumerate() {
                let origin = Origin { file: fi, line: i as u64 + 1 };
                match device_of(rec, "") {
                    Ok(d) => inv.add_device(d, origin),
                    Err(r) => r.record(&mut out, origin),
                }
            }
        }
        paging_notes(&paging, &mut out);
        let kept = inv.keep_newest_per_serial(&mut out);
        identity_facts(&kept, &mut out);
        Ok(out)
    }
}

impl Adapter for IntuneApps {
    fn name(&self) -> &'static str {
        "intune-apps"
    }
    fn version(&self) -> &'static str {
        VERSION
    }
    fn source(&self) -> &'static str {
        SOURCE
    }
    fn option_keys(&self) -> &'static [&'static str] {
        &["observed_at"]
    }
    fn run(&self, files: &[InputFile], options: &Options) -> Result<AdapterOutput> {
        let fallback = match options.get("observed_at") {
            None => None,
            Some(v) => Some(option_instant(v)?),
        };
        let mut out = AdapterOutput::for_files(files.len());
        let mut inv = Inventory::default();
        let mut paging = Vec::new();
        for (fi, file) in files.iter().enumerate() {
            let page = read_page(file, self.name(), &["managedDevices", "detectedApps"])?;
            let has = |key: &str| page.records.iter().any(|r| r.get(key).is_some());
            let shape = match (has("detectedApps"), has("managedDevices")) {
                (true, false) => Shape::DevicesWithApps,
                (false, true) => Shape::AppsWithDevices,
                (true, true) => {
                    return Err(wrong_shape(
                        &file.path,
                        "the page mixes device objects (detectedApps) and app objects (managedDevices)".to_string(),
                    ))
                }
                (false, false) if page.records.is_empty() => Shape::DevicesWithApps,
                (false, false) => {
                    return Err(wrong_shape(
                        &file.path,
                        "no record carries `detectedApps` or `managedDevices`: export \
                         managedDevices/{id}?$expand=detectedApps or detectedApps/{id}?$expand=managedDevices \
                         (a list without $expand has no installations)"
                            .to_string(),
                    ))
                }
            };
            if let Some(next) = page.next_link {
                paging.push((fi, next));
            }
            count_records(&mut out, fi, page.records.len());
            for (i, rec) in page.records.iter().enumerate() {
                let origin = Origin { file: fi, line: i as u64 + 1 };
                match shape {
                    Shape::DevicesWithApps => read_device_with_apps(rec, origin, &mut inv, &mut out),
                    Shape::AppsWithDevices => read_app_with_devices(rec, origin, &mut inv, &mut out),
                }
            }
        }
        paging_notes(&paging, &mut out);
        let kept = inv.keep_newest_per_serial(&mut out);
        identity_facts(&kept, &mut out);

        let mut rows = Vec::new();
        for ((device_id, app_id), inst) in &inv.installs {
            // Installs of a superseded enrolment (or of a device that was
            // rejected everywhere) have no kept device: dropped.
            let Some(d) = kept.get(device_id) else { continue };
            let observed_at = match (&d.last_sync, &fallback) {
                (Some(s), _) => s.text.clone(),
                (None, Some(f)) => f.clone(),
                (None, None) => {
                    let path = files.get(d.origin.file).map_or("", |f| f.path.as_str());
                    return Err(Error::new(
                        ErrorCode::InvalidInput,
                        format!(
                            "managed device `{device_id}` has no lastSyncDateTime; set the adapter option \
                             `observed_at` (the RFC 3339 instant of the export)"
                        ),
                    )
                    .at(Location::line(path, d.origin.line).with_field("lastSyncDateTime")));
                }
            };
            rows.push((
                inst.origin,
                SignalRow {
                    source: SOURCE.to_string(),
                    raw_id: format!("{device_id}:{app_id}"),
                    observed_at,
                    product: inst.product.clone(),
                    kind: "installation".to_string(),
                    user: d.upn.clone(),
                    device_serial: d.serial.clone(),
                    device_id: d.aad_id.clone(),
                    device_name: d.name.clone(),
                    ..SignalRow::default()
                },
            ));
        }
        rows.sort();
        out.signals = rows;
        Ok(out)
    }
}

/// Which of the two documented `$expand` shapes a page has.
#[derive(Clone, Copy)]
enum Shape {
    /// `managedDevices/{id}?$expand=detectedApps`: devices carrying their apps.
    DevicesWithApps,
    /// `detectedApps/{id}?$expand=managedDevices`: apps carrying their devices.
    AppsWithDevices,
}

// ------------------------------------------------------------------------------------------
// Pages

/// The records of one Graph response file.
struct Page {
    records: Vec<Value>,
    /// `Some(has @odata.nextLink)` for a collection page, `None` for a single
    /// entity (which has no paging).
    next_link: Option<bool>,
}

/// Read one Graph response: a collection page (`value` array) or one entity.
/// Anything else (not JSON, not an object, a Graph `error` body, an
/// `@odata.context` of another entity set) fails the whole file.
fn read_page(file: &InputFile, adapter: &str, entity_sets: &[&str]) -> Result<Page> {
    let doc = parse_json(&file.path, &file.bytes)?;
    let Value::Object(mut obj) = doc else {
        return Err(wrong_shape(
            &file.path,
            format!("expected a Microsoft Graph response object (a page with `value`, or one entity), found {}", kind_of(&doc)),
        ));
    };
    if !obj.contains_key("value") {
        if let Some(err) = obj.get("error").and_then(Value::as_object) {
            // Only the error code: the message may quote request details.
            let code = err.get("code").and_then(Value::as_str).unwrap_or("unknown");
            return Err(wrong_shape(&file.path, format!("the file is a Graph error response (code `{code}`), not an {adapter} export")));
        }
    }
    if let Some(ctx) = obj.get("@odata.context") {
        let Some(ctx) = ctx.as_str() else {
            return Err(wrong_shape(&file.path, "`@odata.context` is not a string".to_string()));
        };
        let set = ctx.rsplit_once('#').map_or(ctx, |(_, t)| t);
        if !entity_sets.iter().any(|s| set.contains(s)) {
            return Err(wrong_shape(&file.path, format!("`@odata.context` names `{set}`, not {}", entity_sets.join(" or "))));
        }
    }
    match obj.remove("value") {
        Some(Value::Array(records)) => {
            let next_link = match obj.get("@odata.nextLink") {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) => !s.trim().is_empty(),
                Some(_) => return Err(wrong_shape(&file.path, "`@odata.nextLink` is not a string".to_string())),
            };
            Ok(Page { records, next_link: Some(next_link) })
        }
        Some(other) => Err(Error::new(ErrorCode::InvalidInput, format!("`value` is {}, not an array", kind_of(&other)))
            .at(Location::file(&file.path).with_field("value"))),
        None => Ok(Page { records: vec![Value::Object(obj)], next_link: None }),
    }
}

/// The error for a file that is JSON but not the export this adapter reads
/// (the JSON counterpart of a CSV with the wrong header).
fn wrong_shape(path: &str, message: String) -> Error {
    Error::new(ErrorCode::InvalidInput, message).at(Location::file(path))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn is_device_like(v: &Value) -> bool {
    v.as_object().is_some_and(|o| DEVICE_KEYS.iter().any(|k| o.contains_key(*k)))
}

fn count_records(out: &mut AdapterOutput, file: usize, n: usize) {
    if let Some(r) = out.records.get_mut(file) {
        *r += n as u64;
    }
}

/// Paging check. Graph pages do not name themselves, so the order of the
/// chain cannot be verified; what can: one export has exactly one page
/// without `@odata.nextLink` (its last). None means a page is missing, several
/// mean several exports share the folder. Both are worth a warning, not a
/// failure (every page is still read, duplicates collapse).
fn paging_notes(pages: &[(usize, bool)], out: &mut AdapterOutput) {
    let last_pages: Vec<usize> = pages.iter().filter(|(_, next)| !next).map(|(f, _)| *f).collect();
    match (last_pages.len(), pages.last()) {
        (0, Some((f, _))) => out
            .notes
            .push((*f, "every page has @odata.nextLink: the last page of the export is missing, devices may be missing".to_string())),
        (n, _) if n > 1 => {
            for f in last_pages {
                out.notes.push((f, format!("{n} pages have no @odata.nextLink: several exports share the folder (duplicates collapse)")));
            }
        }
        _ => {}
    }
}

// ------------------------------------------------------------------------------------------
// Records

/// A record (or one field of it) that cannot be used: becomes a rejection.
struct Reject {
    column: String,
    code: RowErrorCode,
    message: String,
}

impl Reject {
    fn new(column: String, code: RowErrorCode, message: String) -> Self {
        Reject { column, code, message }
    }

    fn record(self, out: &mut AdapterOutput, origin: Origin) {
        out.reject(origin, &self.column, self.code, self.message);
    }
}

/// A Graph `DateTimeOffset` as written and as an instant.
#[derive(Debug, Clone)]
struct Stamp {
    text: String,
    at: Instant,
}

/// One managed device, its fields trimmed; placeholder serials and all-zero
/// Entra device ids already blanked.
#[derive(Debug, Clone, Default)]
struct Device {
    /// Intune managed device id (`id`).
    id: String,
    /// `deviceName` as given (short name or FQDN).
    name: String,
    /// `serialNumber`, empty when a placeholder.
    serial: String,
    /// The serial normalised like the core does (upper case, no white
    /// space): what re-enrolment duplicates are grouped by.
    serial_key: String,
    /// `azureADDeviceId`, empty when all zeros.
    aad_id: String,
    /// `userPrincipalName` (the primary user).
    upn: String,
    /// `emailAddress`.
    email: String,
    /// `lastSyncDateTime`, absent when null or Graph's `0001-01-01` "never".
    last_sync: Option<Stamp>,
    /// `enrolledDateTime`, a tie-breaker only.
    enrolled: Option<Instant>,
    /// The first place the device was read.
    origin: Origin,
}

impl Device {
    /// What "newest" means for two records of one machine: the later sync,
    /// then the later enrolment. (Missing sorts oldest.)
    fn recency(&self) -> (Option<Instant>, Option<Instant>) {
        (self.last_sync.as_ref().map(|s| s.at), self.enrolled)
    }

    /// Strong identity values, written as directory values.
    fn strong_values(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.aad_id.is_empty() {
            v.push(DeviceKeyPrefix::Id.key(&self.aad_id));
        }
        if !self.serial.is_empty() {
            v.push(DeviceKeyPrefix::Serial.key(&self.serial));
        }
        v
    }
}

/// A string field: missing and `null` are empty; numbers are taken as
/// written; anything else rejects the record.
fn text_of(obj: &Map<String, Value>, key: &str, at: &str) -> std::result::Result<String, Reject> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => {
            Err(Reject::new(format!("{at}{key}"), RowErrorCode::WrongType, format!("`{key}` is {}, not a string", kind_of(other))))
        }
    }
}

/// A Graph `DateTimeOffset`. Graph writes `0001-01-01T00:00:00Z` for a date
/// that was never set: absent. A value without offset is read as UTC (Graph
/// instants are UTC). `Err` for text that is not a date-time.
fn stamp(raw: &str) -> std::result::Result<Option<Stamp>, ()> {
    if raw.is_empty() || raw.starts_with("0001-01-01") {
        return Ok(None);
    }
    let text = normalize_timestamp(raw, "+00:00").ok_or(())?;
    let at = Instant::parse(&text).map_err(|_| ())?;
    Ok(Some(Stamp { text, at }))
}

/// Read a managed device object; `at` prefixes column names (`managedDevices[2].`).
fn device_of(v: &Value, at: &str) -> std::result::Result<Device, Reject> {
    let Some(obj) = v.as_object() else {
        let column = if at.is_empty() { "value".to_string() } else { at.trim_end_matches('.').to_string() };
        return Err(Reject::new(column, RowErrorCode::WrongType, format!("a managed device must be an object, not {}", kind_of(v))));
    };
    let id = text_of(obj, "id", at)?;
    if id.is_empty() {
        return Err(Reject::new(format!("{at}id"), RowErrorCode::MissingId, "the managed device has no `id`".to_string()));
    }
    let serial_raw = text_of(obj, "serialNumber", at)?;
    let serial = if is_placeholder_serial(&serial_raw) { String::new() } else { serial_raw };
    let serial_key = if serial.is_empty() { String::new() } else { normalize_serial(&serial, &[]).unwrap_or_default() };
    let aad_raw = text_of(obj, "azureADDeviceId", at)?;
    let aad_id = if is_null_guid(&aad_raw) { String::new() } else { aad_raw };
    let sync_raw = text_of(obj, "lastSyncDateTime", at)?;
    let last_sync = stamp(&sync_raw).map_err(|()| {
        Reject::new(
            format!("{at}lastSyncDateTime"),
            RowErrorCode::MalformedInstant,
            format!("`lastSyncDateTime` `{sync_raw}` is not an ISO 8601 date-time"),
        )
    })?;
    // enrolledDateTime only breaks ties: a malformed one counts as absent.
    let enrolled = stamp(&text_of(obj, "enrolledDateTime", at)?).ok().flatten().map(|s| s.at);
    Ok(Device {
        id,
        name: text_of(obj, "deviceName", at)?,
        serial,
        serial_key,
        aad_id,
        upn: text_of(obj, "userPrincipalName", at)?,
        email: text_of(obj, "emailAddress", at)?,
        last_sync,
        enrolled,
        origin: Origin::default(),
    })
}

/// A detected app's id and product name (`displayName`, trimmed); a missing
/// id or name rejects it (no raw_id / nothing to map).
fn app_of(v: &Value, at: &str) -> std::result::Result<(String, String), Reject> {
    let Some(obj) = v.as_object() else {
        let column = if at.is_empty() { "value".to_string() } else { at.trim_end_matches('.').to_string() };
        return Err(Reject::new(column, RowErrorCode::WrongType, format!("a detected app must be an object, not {}", kind_of(v))));
    };
    let id = text_of(obj, "id", at)?;
    if id.is_empty() {
        return Err(Reject::new(format!("{at}id"), RowErrorCode::MissingId, "the detected app has no `id`".to_string()));
    }
    let name = text_of(obj, "displayName", at)?;
    if name.is_empty() {
        return Err(Reject::new(
            format!("{at}displayName"),
            RowErrorCode::MissingProduct,
            format!("detected app `{id}` has no displayName"),
        ));
    }
    Ok((id, name))
}

/// An array-valued navigation property: `null` or missing is empty (Graph
/// writes `null` when nothing was detected); another type rejects the record.
fn nav_array<'a>(obj: &'a Map<String, Value>, key: &str) -> std::result::Result<&'a [Value], Reject> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(Reject::new(key.to_string(), RowErrorCode::WrongType, format!("`{key}` is {}, not an array", kind_of(other)))),
    }
}

/// Shape (a): a device and its `detectedApps`.
fn read_device_with_apps(rec: &Value, origin: Origin, inv: &mut Inventory, out: &mut AdapterOutput) {
    let device = match device_of(rec, "") {
        Ok(d) => d,
        Err(r) => return r.record(out, origin),
    };
    let apps = match rec.as_object().map(|o| nav_array(o, "detectedApps")) {
        Some(Ok(a)) => a,
        Some(Err(r)) => return r.record(out, origin),
        None => &[],
    };
    let device_id = device.id.clone();
    inv.add_device(device, origin);
    for (j, app) in apps.iter().enumerate() {
        match app_of(app, &format!("detectedApps[{j}].")) {
            Ok((app_id, product)) => inv.add_install(&device_id, app_id, product, origin),
            Err(r) => r.record(out, origin),
        }
    }
}

/// Shape (b): an app and its `managedDevices` (possibly partial objects).
fn read_app_with_devices(rec: &Value, origin: Origin, inv: &mut Inventory, out: &mut AdapterOutput) {
    let (app_id, product) = match app_of(rec, "") {
        Ok(a) => a,
        Err(r) => return r.record(out, origin),
    };
    let devices = match rec.as_object().map(|o| nav_array(o, "managedDevices")) {
        Some(Ok(d)) => d,
        Some(Err(r)) => return r.record(out, origin),
        None => &[],
    };
    for (j, dv) in devices.iter().enumerate() {
        match device_of(dv, &format!("managedDevices[{j}].")) {
            Ok(d) => {
                let device_id = d.id.clone();
                inv.add_device(d, origin);
                inv.add_install(&device_id, app_id.clone(), product.clone(), origin);
            }
            Err(r) => r.record(out, origin),
        }
    }
}

/// An installation before it is joined to its kept device.
struct Install {
    /// First place the (device, app) pair was read.
    origin: Origin,
    product: String,
}

/// Everything read from the files, keyed by Graph ids.
#[derive(Default)]
struct Inventory {
    /// Managed devices by Intune id, records of the same id merged.
    devices: BTreeMap<String, Device>,
    /// (managed device id, detected app id) → installation. Both shapes and
    /// every page add to one set, so a pair read twice is one signal.
    installs: BTreeMap<(String, String), Install>,
}

impl Inventory {
    /// Add a device record. The same managed device read twice (pages that
    /// shifted during the export, both shapes, an app listing it again) is
    /// one device: the newest record wins and empty fields are filled from
    /// the other (partial device objects under detectedApps).
    fn add_device(&mut self, mut d: Device, origin: Origin) {
        d.origin = origin;
        let merged = match self.devices.remove(&d.id) {
            None => d,
            Some(cur) => {
                let (mut p, o) = if d.recency() > cur.recency() { (d, cur) } else { (cur, d) };
                for (field, other) in [
                    (&mut p.name, o.name),
                    (&mut p.serial, o.serial),
                    (&mut p.serial_key, o.serial_key),
                    (&mut p.aad_id, o.aad_id),
                    (&mut p.upn, o.upn),
                    (&mut p.email, o.email),
                ] {
                    if field.is_empty() {
                        *field = other;
                    }
                }
                if p.enrolled.is_none() {
                    p.enrolled = o.enrolled;
                }
                p.origin = p.origin.min(o.origin);
                p
            }
        };
        self.devices.insert(merged.id.clone(), merged);
    }

    fn add_install(&mut self, device_id: &str, app_id: String, product: String, origin: Origin) {
        self.installs.entry((device_id.to_string(), app_id)).or_insert(Install { origin, product });
    }

    /// Re-enrolment duplicates: several managed devices with one (real)
    /// serial are one machine enrolled several times; only the newest
    /// (latest sync, then latest enrolment, then greatest id) is kept. The
    /// older records' Entra device ids and names are *not* linked: after a
    /// re-image the old name is often reassigned to another machine, and the
    /// old device id only ever appears on stale records, so leaving it alone
    /// costs nothing while a wrong link would merge two machines.
    /// Placeholder serials were blanked before: they never group.
    fn keep_newest_per_serial(&self, out: &mut AdapterOutput) -> BTreeMap<String, Device> {
        let mut by_serial: BTreeMap<&str, Vec<&Device>> = BTreeMap::new();
        for d in self.devices.values() {
            if !d.serial_key.is_empty() {
                by_serial.entry(&d.serial_key).or_default().push(d);
            }
        }
        let mut dropped = BTreeSet::new();
        for group in by_serial.values().filter(|g| g.len() > 1) {
            let Some(newest) = group.iter().max_by(|a, b| (a.recency(), &a.id).cmp(&(b.recency(), &b.id))) else { continue };
            for old in group.iter().filter(|d| d.id != newest.id) {
                out.notes.push((
                    old.origin.file,
                    format!(
                        "managed device `{}` (serial `{}`, last sync {}) is an older enrolment of managed device `{}` \
                         (last sync {}): its device id, name and apps are not used",
                        old.id,
                        old.serial,
                        sync_text(old),
                        newest.id,
                        sync_text(newest)
                    ),
                ));
                dropped.insert(old.id.clone());
            }
        }
        self.devices.iter().filter(|(id, _)| !dropped.contains(*id)).map(|(id, d)| (id.clone(), d.clone())).collect()
    }
}

fn sync_text(d: &Device) -> &str {
    d.last_sync.as_ref().map_or("never", |s| s.text.as_str())
}

/// Validate the `observed_at` option: an RFC 3339 instant with offset.
fn option_instant(v: &str) -> Result<String> {
    let t = v.trim();
    match Instant::parse(t) {
        Ok(_) => Ok(t.to_string()),
        Err(_) => Err(Error::new(
            ErrorCode::InvalidInput,
            "option `observed_at` must be an RFC 3339 instant with offset (the value is not shown)".to_string(),
        )),
    }
}

// ------------------------------------------------------------------------------------------
// Identity facts

/// Emit the identity facts of the kept devices.
///
/// Devices: the strong values (`id:<azureADDeviceId>`, `serial:<serialNumber>`)
/// and the hostname (`name:<deviceName>`, as given: the core normalises FQDN
/// and case) of each device, as rows from the byte-smallest strong value to
/// each other value. A device with no strong value states nothing (a name
/// alone links nothing). A hostname reported for several devices (`iPhone`,
/// a reused kiosk name, `PC01` next to `pc01.corp.example.com`), compared as
/// the core compares hostnames, is not linked for any of them.
///
/// Users: `userPrincipalName` ↔ `emailAddress` when they differ, the address is
/// a single address, and no other UPN claims it.
fn identity_facts(kept: &BTreeMap<String, Device>, out: &mut AdapterOutput) {
    let mut by_host: BTreeMap<String, Vec<&Device>> = BTreeMap::new();
    for d in kept.values() {
        if d.strong_values().is_empty() {
            continue;
        }
        if let Some(h) = normalize_hostname(&d.name) {
            by_host.entry(h).or_default().push(d);
        }
    }
    let mut shared = BTreeSet::new();
    for (host, ds) in &by_host {
        if ds.len() > 1 {
            let ids: Vec<String> = ds.iter().map(|d| format!("`{}`", d.id)).collect();
            let first = ds.iter().map(|d| d.origin).min().unwrap_or_default();
            out.notes.push((
                first.file,
                format!("hostname `{host}` is reported for {} managed devices ({}): not linked to any of them", ds.len(), ids.join(", ")),
            ));
            shared.insert(host.clone());
        }
    }
    let mut entries = BTreeSet::new();
    for d in kept.values() {
        let mut values = d.strong_values();
        let Some(canonical) = values.iter().min().cloned() else { continue };
        if let Some(h) = normalize_hostname(&d.name) {
            if !shared.contains(&h) {
                values.push(DeviceKeyPrefix::Name.key(&d.name));
            }
        }
        for v in values {
            if v != canonical {
                entries.insert(DirectoryEntry {
                    principal_type: "device".to_string(),
                    canonical_id: canonical.clone(),
                    alias: v,
                    ..Default::default()
                });
            }
        }
    }

    let mut by_email: BTreeMap<String, Vec<&Device>> = BTreeMap::new();
    for d in kept.values() {
        let single = d.email.matches('@').count() == 1 && !d.email.contains(|c: char| c.is_whitespace() || c == ',' || c == ';');
        if !d.upn.is_empty() && single && d.email.to_lowercase() != d.upn.to_lowercase() {
            by_email.entry(d.email.to_lowercase()).or_default().push(d);
        }
    }
    for (email, ds) in by_email {
        let upns: BTreeSet<String> = ds.iter().map(|d| d.upn.to_lowercase()).collect();
        if upns.len() > 1 {
            let first = ds.iter().map(|d| d.origin).min().unwrap_or_default();
            let list: Vec<String> = upns.iter().map(|u| format!("`{u}`")).collect();
            out.notes.push((first.file, format!("e-mail `{email}` is reported for several users ({}): not linked", list.join(", "))));
            continue;
        }
        if let Some(d) = ds.first() {
            entries.insert(DirectoryEntry {
                principal_type: "user".to_string(),
                canonical_id: d.upn.clone(),
                alias: d.email.clone(),
                ..Default::default()
            });
        }
    }
    out.directory.extend(entries);
}
