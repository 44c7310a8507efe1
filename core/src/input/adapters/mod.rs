//! Source adapters: raw exports from source systems in, canonical signals out.
//!
//! No customer has canonical signal CSV; they have Microsoft Graph JSON pages,
//! Intune and Jamf inventories, SCCM view exports, FlexLM logs and admin-console
//! CSVs. An adapter is a pure function from the bytes of one folder
//! `imports/<adapter>/` (one or several files: pages, views) and a few options to
//!
//! - canonical signal rows ([`SignalRow`], the A1 columns as text; the core
//!   validates them with the same row rules as a canonical file, so a bad row
//!   is rejected and counted in its file's import job),
//! - identity facts ([`DirectoryEntry`]: serial ↔ device id ↔ hostname, UPN ↔
//!   e-mail ↔ account name, with the account's status and last activity from
//!   directory sources such as `entra-users`, `ad-users` and `okta-users`),
//!   which join identity resolution exactly like `directory.csv` rows,
//! - entitlement observations ([`EntitlementObservation`]) from vendor portals,
//!   compared with the bundle's entitlements in the run report, never applied.
//!
//! SKU resolution is not the adapter's job: it puts the raw product name
//! (skuPartNumber, application name, product configuration, FlexLM feature) in
//! `product`, and the ruleset's `sku_mappings` decide.
//!
//! A file that cannot be read as a whole (truncated JSON, wrong header for the
//! adapter, neither UTF-8 nor UTF-16) is an [`Error`] naming the file and the
//! position; the run then fails with `invalid_input` and no row of that folder
//! is used. A record that fails alone is a [`RowError`] in the output and is
//! counted as rejected.

use crate::error::{Error, ErrorCode, Location, Result};
use crate::vocab::{RowError, RowErrorCode};
use std::collections::BTreeMap;

mod ad;
mod entra;
mod flexlm;
mod intune;
mod jamf_adobe;
mod okta;
mod sccm;

/// One input file of an adapter: its path inside the bundle and its bytes.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path inside the bundle, e.g. `imports/entra-users/page-1.json`.
    pub path: String,
    /// The exact bytes.
    pub bytes: Vec<u8>,
}

/// Adapter options (`key=value`), e.g. `utc_offset=+01:00`.
pub type Options = BTreeMap<String, String>;

/// Where an output record came from: index into the input files, 1-based line
/// (or record number for JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Origin {
    /// Index of the file in the adapter's input.
    pub file: usize,
    /// 1-based line or record number in that file.
    pub line: u64,
}

/// A canonical signal as text, field names of DESIGN A1. Empty = absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct SignalRow {
    /// Source system name (`entra`, `intune`, ...).
    pub source: String,
    /// Record id in that source; (source, raw_id) must be unique and stable.
    pub raw_id: String,
    /// RFC 3339 instant with offset.
    pub observed_at: String,
    /// Catalog SKU id (adapters normally leave it empty and set `product`).
    pub sku: String,
    /// Raw product name, mapped by the ruleset.
    pub product: String,
    /// `assignment`, `installation`, `usage` or `session`.
    pub kind: String,
    /// For assignments: `active`, `revoked`, `suspended`.
    pub status: String,
    /// UPN, e-mail or `DOMAIN\name`.
    pub user: String,
    /// Serial number.
    pub device_serial: String,
    /// Directory device id.
    pub device_id: String,
    /// Hostname / FQDN.
    pub device_name: String,
    /// Instant of last use.
    pub last_used_at: String,
    /// Session start.
    pub session_start: String,
    /// Session end (empty = still open).
    pub session_end: String,
    /// Tokens held by a session.
    pub quantity: String,
    /// Confidence in [0, 1].
    pub confidence: String,
}

impl SignalRow {
    /// The fields in the order of the canonical signal columns (`COLUMNS`).
    pub fn fields(&self) -> [&str; 16] {
        [
            &self.source,
            &self.raw_id,
            &self.observed_at,
            &self.sku,
            &self.product,
            &self.kind,
            &self.status,
            &self.user,
            &self.device_serial,
            &self.device_id,
            &self.device_name,
            &self.last_used_at,
            &self.session_start,
            &self.session_end,
            &self.quantity,
            &self.confidence,
        ]
    }
}

/// An identity fact, in the form of a `directory.csv` row: device values are
/// written `serial:V`, `id:V` or `name:V`; user values plainly.
///
/// A directory source (`entra-users`, `ad-users`, `okta-users`) also says
/// whether the account is enabled and when it was last active; the run
/// carries both into its directory rows and so into the evidence pack, where
/// the advisor reads them (DESIGN C3 `reclaim_disabled`, `reclaim_inactive`).
/// Every row of one principal carries the same two facts, so that "the
/// principal's first row" and "any of its rows" read alike. Empty = unknown;
/// empty fields are left out of the serialised form, so the identity facts of
/// the inventory adapters read as before.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct DirectoryEntry {
    /// `user` or `device`.
    pub principal_type: String,
    /// The principal's main value.
    pub canonical_id: String,
    /// Another name of the same principal.
    pub alias: String,
    /// `active`, `disabled`, or empty when the source does not say.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Last activity, an RFC 3339 instant with offset, or empty when unknown
    /// (never signed in, or the source does not say).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_active_at: String,
}

/// What a vendor portal says about a subscription (never applied: compared).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct EntitlementObservation {
    /// Source system (`entra`, ...).
    pub source: String,
    /// Raw product name (e.g. skuPartNumber), mapped by the ruleset.
    pub product: String,
    /// The portal's own id of the subscription (e.g. skuId).
    pub external_id: String,
    /// Units in force (`prepaidUnits.enabled`).
    pub enabled: i64,
    /// Units in the warning (grace) state.
    pub warning: i64,
    /// Suspended units.
    pub suspended: i64,
    /// Locked-out units.
    pub locked_out: i64,
    /// Units the portal counts as consumed.
    pub consumed: i64,
    /// Portal status text (e.g. `Enabled`, `Warning`, `Suspended`).
    pub status: String,
}

/// Everything one adapter run produced.
#[derive(Debug, Clone, Default)]
pub struct AdapterOutput {
    /// Canonical signals with their origin.
    pub signals: Vec<(Origin, SignalRow)>,
    /// Identity facts.
    pub directory: Vec<DirectoryEntry>,
    /// Entitlement observations.
    pub observations: Vec<EntitlementObservation>,
    /// Records rejected by the adapter itself (file index, error).
    pub rejected: Vec<(usize, RowError)>,
    /// Records read per input file (accepted, rejected or skipped on purpose).
    pub records: Vec<u64>,
    /// Facts worth reporting that are not signals, per file (e.g. FlexLM
    /// `DENIED` counts, obsolete SCCM systems skipped): (file index, text).
    pub notes: Vec<(usize, String)>,
}

impl AdapterOutput {
    /// An empty output for `n` input files.
    pub fn for_files(n: usize) -> Self {
        AdapterOutput { records: vec![0; n], ..Default::default() }
    }

    /// Record a rejected record.
    pub fn reject(&mut self, origin: Origin, column: &str, code: RowErrorCode, message: impl Into<String>) {
        self.rejected.push((origin.file, RowError { line: origin.line, column: column.to_string(), code, message: message.into() }));
    }
}

/// A source adapter.
pub trait Adapter: Sync {
    /// The folder name under `imports/`, e.g. `entra-users`.
    fn name(&self) -> &'static str;
    /// The adapter's version, recorded in import jobs and snapshots.
    fn version(&self) -> &'static str;
    /// The source system name its rows carry (`entra`, `intune`, ...).
    fn source(&self) -> &'static str;
    /// Option keys it accepts (others are an error).
    fn option_keys(&self) -> &'static [&'static str] {
        &[]
    }
    /// Turn the files into signals, identity facts and observations. Files
    /// come sorted by path.
    fn run(&self, files: &[InputFile], options: &Options) -> Result<AdapterOutput>;
}

/// Every adapter, by name order.
pub fn all() -> &'static [&'static dyn Adapter] {
    ADAPTERS
}

static ADAPTERS: &[&dyn Adapter] = &[
    &ad::AdUsers,
    &jamf_adobe::AdobeUsers,
    &entra::EntraSubscribedSkus,
    &entra::EntraUsers,
    &flexlm::FlexlmLmstat,
    &flexlm::FlexlmLog,
    &intune::IntuneApps,
    &intune::IntuneDevices,
    &jamf_adobe::JamfInventory,
    &okta::OktaUsers,
    &sccm::SccmInstalled,
    &sccm::SccmMetering,
];

/// The adapter called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Adapter> {
    ADAPTERS.iter().copied().find(|a| a.name() == name)
}

/// Check `options` against the adapter's keys.
pub(crate) fn check_options(adapter: &dyn Adapter, options: &Options) -> Result<()> {
    for k in options.keys() {
        if !adapter.option_keys().contains(&k.as_str()) {
            // The key is named when it looks like a name; a value is never shown.
            let shown = if crate::error::is_displayable_name(k) { format!("`{k}`") } else { "(key not shown)".to_string() };
            return Err(Error::new(
                ErrorCode::InvalidInput,
                format!(
                    "adapter `{}` has no option {shown} (options: {})",
                    adapter.name(),
                    if adapter.option_keys().is_empty() { "none".to_string() } else { adapter.option_keys().join(", ") }
                ),
            ));
        }
    }
    Ok(())
}

/// Run adapter `name` over `files` after checking its options.
///
/// ```
/// use eucora_license_core::internal::adapters::{run, Options};
/// let e = run("no-such-adapter", &[], &Options::new()).err().unwrap();
/// assert_eq!(e.code().name(), "invalid_input");
/// ```
pub fn run(name: &str, files: &[InputFile], options: &Options) -> Result<(&'static dyn Adapter, AdapterOutput)> {
    let adapter = by_name(name).ok_or_else(|| {
        let names: Vec<&str> = ADAPTERS.iter().map(|a| a.name()).collect();
        Error::new(ErrorCode::InvalidInput, format!("unknown adapter `{name}` (known: {})", names.join(", ")))
    })?;
    check_options(adapter, options)?;
    let mut out = adapter.run(files, options)?;
    out.records.resize(files.len(), 0);
    Ok((adapter, out))
}

// ------------------------------------------------------------------------------------------
// Helpers shared by adapters.

/// Decode a text export: UTF-8 (a BOM is dropped), or UTF-16 LE/BE with a
/// BOM (SCCM and PowerShell exports). Anything else is an `invalid_input`
/// error naming the file and the byte offset.
///
/// ```
/// use eucora_license_core::internal::adapters::decode_text;
/// assert_eq!(decode_text("a.csv", b"\xEF\xBB\xBFx,y").unwrap(), "x,y");
/// assert_eq!(decode_text("a.csv", b"\xFF\xFEx\x00,\x00y\x00").unwrap(), "x,y");
/// assert!(decode_text("a.csv", b"\xFFx").is_err());
/// ```
pub fn decode_text(path: &str, bytes: &[u8]) -> Result<String> {
    let bad = |offset: usize, what: &str| Error::new(ErrorCode::InvalidInput, format!("{what} at byte {offset}")).at(Location::file(path));
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return decode_utf16(rest, u16::from_le_bytes).map_err(|o| bad(o + 2, "not valid UTF-16 LE"));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return decode_utf16(rest, u16::from_be_bytes).map_err(|o| bad(o + 2, "not valid UTF-16 BE"));
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let skipped = bytes.len() - body.len();
    std::str::from_utf8(body).map(str::to_string).map_err(|e| bad(e.valid_up_to() + skipped, "not valid UTF-8"))
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> std::result::Result<String, usize> {
    if bytes.len() % 2 != 0 {
        return Err(bytes.len() - 1);
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    for (i, ch) in char::decode_utf16(units).enumerate() {
        match ch {
            Ok(c) => out.push(c),
            Err(_) => return Err(i * 2),
        }
    }
    Ok(out)
}

/// Parse a JSON document of a file, failing with the file, line and column
/// of a syntax error (a truncated page, say).
pub(crate) fn parse_json(path: &str, bytes: &[u8]) -> Result<serde_json::Value> {
    let text = decode_text(path, bytes)?;
    crate::canon::canonical::parse_strict(&text).map_err(|e| {
        Error::new(ErrorCode::InvalidInput, format!("malformed JSON at column {}: {}", e.column(), crate::input::table::strip_position(&e)))
            .at(Location::line(path, e.line() as u64))
    })
}

/// Normalise a vendor timestamp to RFC 3339 with an offset: accepts RFC 3339
/// (0–9 fractional digits, `Z` or an offset) as is, and a date-time without
/// offset (`YYYY-MM-DD HH:MM:SS[.f]`, `YYYY-MM-DDTHH:MM:SS[.f]`) read at
/// `utc_offset` (`±HH:MM`). Returns `None` for anything else.
///
/// ```
/// use eucora_license_core::internal::adapters::normalize_timestamp;
/// assert_eq!(normalize_timestamp("2026-11-20T10:00:00.1234567Z", "+00:00").as_deref(), Some("2026-11-20T10:00:00.1234567Z"));
/// assert_eq!(normalize_timestamp("2026-11-20 10:00:00.000", "+01:00").as_deref(), Some("2026-11-20T10:00:00.000+01:00"));
/// assert_eq!(normalize_timestamp("20/11/2026", "+00:00"), None);
/// ```
pub fn normalize_timestamp(s: &str, utc_offset: &str) -> Option<String> {
    let s = s.trim();
    if crate::canon::time::Instant::parse(s).is_ok() {
        return Some(s.to_string());
    }
    if s.len() >= 19 && (s.as_bytes()[10] == b' ' || s.as_bytes()[10] == b'T') {
        let candidate = format!("{}T{}{}", &s[..10], &s[11..], utc_offset);
        if crate::canon::time::Instant::parse(&candidate).is_ok() {
            return Some(candidate);
        }
    }
    None
}

/// Read option `observed_at` (an RFC 3339 instant with offset). `required`
/// adapters fail without it, because the core has no clock to fall back on.
pub(crate) fn observed_at_option(adapter: &str, options: &Options, required: bool) -> Result<Option<String>> {
    match options.get("observed_at").map(|s| s.trim()) {
        None | Some("") if required => Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "adapter `{adapter}` needs option `observed_at` (the RFC 3339 instant of the export, e.g. 2026-11-21T08:00:00Z): the export carries no timestamps"
            ),
        )),
        None | Some("") => Ok(None),
        Some(v) => match crate::canon::time::Instant::parse(v) {
            Ok(_) => Ok(Some(v.to_string())),
            Err(e) => Err(Error::new(
                ErrorCode::InvalidInput,
                format!("option `observed_at` of adapter `{adapter}` must be an RFC 3339 instant with offset ({})", e.code()),
            )),
        },
    }
}

/// Parse a `±HH:MM` option value.
pub(crate) fn parse_utc_offset(name: &str, value: Option<&String>) -> Result<String> {
    let v = value.map(String::as_str).unwrap_or("+00:00");
    let ok = v.len() == 6
        && matches!(v.as_bytes()[0], b'+' | b'-')
        && v.as_bytes()[3] == b':'
        && crate::canon::time::Instant::parse(&format!("2000-01-01T00:00:00{v}")).is_ok();
    if ok {
        Ok(v.to_string())
    } else {
        // The option's value is never echoed (it could be anything a caller
        // pasted): the key is named instead.
        Err(Error::new(ErrorCode::InvalidInput, format!("option `{name}` must be ±HH:MM (the value given is not shown)")))
    }
}

/// Whether a device id is all zeros (`00000000-0000-0000-0000-000000000000`):
/// Graph's "none", which must never merge devices.
pub(crate) fn is_null_guid(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.chars().all(|c| c == '0' || c == '-')
}

/// Whether a serial is a vendor placeholder beyond the ruleset's list: empty,
/// one character repeated (`0000000`, `AAAAAAAA`), or a well-known filler.
/// Adapters drop such serials so identity facts never merge devices on them.
pub(crate) fn is_placeholder_serial(s: &str) -> bool {
    let t: String = s.trim().to_uppercase().chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty() {
        return true;
    }
    let first = t.chars().next().unwrap_or(' ');
    if t.chars().count() > 1 && t.chars().all(|c| c == first) {
        return true;
    }
    matches!(
        t.as_str(),
        "0" | "TOBEFILLEDBYO.E.M."
            | "DEFAULTSTRING"
            | "SYSTEMSERIALNUMBER"
            | "NONE"
            | "N/A"
            | "NULL"
            | "CHASSISSERIALNUMBER"
            | "123456789"
            | "INVALID"
            | "NOTAPPLICABLE"
            | "NOTSPECIFIED"
    )
}

/// A JSON field of an exported record, read as text.
pub(super) enum Field<'a> {
    /// Missing, `null` or blank: the exporting API's "no value".
    Absent,
    /// A string, trimmed.
    Text(&'a str),
    /// Present with another type.
    Invalid,
}

/// Read `key` of a JSON record as text ([`Field`]).
pub(super) fn field<'a>(obj: &'a serde_json::Map<String, serde_json::Value>, key: &str) -> Field<'a> {
    match obj.get(key) {
        None | Some(serde_json::Value::Null) => Field::Absent,
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Field::Absent,
        Some(serde_json::Value::String(s)) => Field::Text(s.trim()),
        Some(_) => Field::Invalid,
    }
}

/// Paged APIs read while their data changes can return a record twice.
/// Returns whether `record` (of `id`, read from `column`) was read before:
/// an identical repeat is counted in `repeated`, a different one rejected
/// (`duplicate` explains it) — either way the first record is kept.
pub(super) fn seen_before(
    seen: &mut BTreeMap<String, serde_json::Value>,
    (column, id): (&str, &str),
    record: &serde_json::Value,
    repeated: &mut u64,
    out: &mut AdapterOutput,
    origin: Origin,
    duplicate: &str,
) -> bool {
    match seen.get(id) {
        Some(first) if first == record => *repeated += 1,
        Some(_) => out.reject(origin, column, RowErrorCode::DuplicateRecord, duplicate),
        None => {
            seen.insert(id.to_string(), record.clone());
            return false;
        }
    }
    true
}
