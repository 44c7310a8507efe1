//! Configuration Manager (SCCM / MECM) adapters: CSV exports of the site
//! database's SQL views.
//!
//! Customers export views from SQL Server Management Studio ("Save Results
//! As…", literal `NULL` for nulls, UTF-8 or UTF-16 LE with a BOM, datetimes
//! such as `2026-11-20 14:03:11.000`) or from PowerShell (`Invoke-Sqlcmd |
//! Export-Csv`: every field quoted, a `#TYPE System.Data.DataRow` first line
//! unless `-NoTypeInformation`, datetimes in the session culture such as
//! `11/20/2026 2:03:11 PM`). Both adapters read such files whatever their
//! column order, matching column names case-insensitively (SQL identifiers
//! are), and never read a clock: SQL datetimes carry no offset, so they are
//! read at the `utc_offset` option.
//!
//! - `sccm-installed`: discovery (`v_R_System`, with the BIOS serial of
//!   `v_GS_PC_BIOS`), and software inventory (`v_GS_INSTALLED_SOFTWARE`,
//!   `v_Add_Remove_Programs`), as separate files joined by `ResourceID` (or by
//!   machine name) or as one pre-joined file → `installation` signals and
//!   device identity facts.
//! - `sccm-metering`: software metering monthly summaries
//!   (`v_MonthlyUsageSummary` joined with `v_MeteredUser` and the metered
//!   product name) → `usage` signals.
//!
//! See `docs/adapters/sccm-installed.md` and `docs/adapters/sccm-metering.md`.

use super::{decode_text, is_null_guid, is_placeholder_serial, parse_utc_offset};
use super::{Adapter, AdapterOutput, DirectoryEntry, InputFile, Options, Origin, SignalRow};
use crate::canon::time::Instant;
use crate::error::{Error, ErrorCode, Location, Result};
use crate::input::normalize::normalize_hostname;
use crate::input::table::CsvTable;
use crate::vocab::DeviceKeyPrefix;
use crate::vocab::RowErrorCode;
use std::collections::{BTreeMap, BTreeSet};

/// The source name both adapters write.
const SOURCE: &str = "sccm";

/// At most this many ResourceIDs are listed in a note (the count is always exact).
const NOTE_IDS: usize = 10;

// ------------------------------------------------------------------------------------------
// Reading an export.

/// One decoded CSV export, held in memory (view exports are small), with the
/// exact line of every record.
struct Export<'a> {
    path: &'a str,
    /// 1-based line of the header row.
    header_line: u64,
    /// Lower-cased column name → first index (a `SELECT *` over a join repeats
    /// `ResourceID`; the copies hold the same value, the first is used).
    index: BTreeMap<String, usize>,
    /// (line, trimmed fields).
    rows: Vec<(u64, Vec<String>)>,
}

impl<'a> Export<'a> {
    /// Decode (UTF-8, UTF-8 with BOM, UTF-16 LE/BE with BOM) and parse. A file
    /// that cannot be read as a whole is an `invalid_input` error naming it.
    fn read(file: &'a InputFile) -> Result<Self> {
        let path = file.path.as_str();
        let mut text = decode_text(path, &file.bytes)?;
        // PowerShell's Export-Csv writes `#TYPE <type name>` above the header
        // unless told not to. Blank it (keeping its line break) so that the
        // reported line numbers stay those of the file.
        if text.starts_with("#TYPE") {
            let end = text.find('\n').unwrap_or(text.len());
            text.replace_range(..end, "");
        }
        let header_line = 1 + text.lines().take_while(|l| l.trim().is_empty()).count() as u64;
        let mut table = CsvTable::new(path, text.as_bytes())?;
        if table.is_empty_input() {
            return Err(Error::new(ErrorCode::InvalidInput, "empty file: expected a CSV header row").at(Location::file(path)));
        }
        let header: Vec<String> = table.header().to_vec();
        let mut index = BTreeMap::new();
        for (i, h) in header.iter().enumerate() {
            index.entry(h.to_ascii_lowercase()).or_insert(i);
        }
        let mut rows = Vec::new();
        while let Some((line, record)) = table.next_record()? {
            let mut fields = Vec::with_capacity(header.len());
            for i in 0..header.len() {
                fields.push(crate::input::table::field(path, line, &header, record, i)?.to_string());
            }
            rows.push((line, fields));
        }
        Ok(Export { path, header_line, index, rows })
    }

    /// Index of the first of `names` present (case-insensitive).
    fn col(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.index.get(&n.to_ascii_lowercase()).copied())
    }

    /// A wrong-header error at the header row.
    fn header_error(&self, message: String) -> Error {
        Error::new(ErrorCode::InvalidInput, message).at(Location::line(self.path, self.header_line))
    }
}

/// Field `c` of a row, trimmed, with SQL's literal `NULL` (SSMS) read as empty.
fn val(row: &[String], c: Option<usize>) -> &str {
    match c.and_then(|c| row.get(c)) {
        Some(v) if v != "NULL" => v.as_str(),
        _ => "",
    }
}

/// Why one record was rejected: (column, code, message). Messages never echo
/// the value (it may be personal data).
type RowFail = (&'static str, RowErrorCode, String);

/// A `ResourceID` (UInt32 in the views); leading zeros are ignored so that
/// the same resource always yields the same raw id.
fn parse_resource_id(s: &str, column: &'static str) -> std::result::Result<Option<u64>, RowFail> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err((column, RowErrorCode::MalformedValue, format!("`{column}` must be a decimal resource id")));
    }
    s.parse::<u64>().map(Some).map_err(|_| (column, RowErrorCode::MalformedValue, format!("`{column}` is out of range")))
}

/// A bit column (`Obsolete0`, `Active0`): `1`/`0`, or `True`/`False` as
/// PowerShell writes a SQL `bit`; empty (`NULL`) is unknown.
fn parse_flag(s: &str, column: &'static str) -> std::result::Result<Option<bool>, RowFail> {
    match s.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "1" | "true" => Ok(Some(true)),
        "0" | "false" => Ok(Some(false)),
        _ => Err((column, RowErrorCode::MalformedValue, format!("`{column}` must be 0 or 1"))),
    }
}

// ------------------------------------------------------------------------------------------
// Timestamps.

/// A SQL datetime as exported, normalised to an RFC 3339 UTC instant. Accepted:
///
/// - RFC 3339 with `Z` or an offset (kept as that instant);
/// - `YYYY-MM-DD HH:MM:SS[.f]` (SSMS) and `YYYY-MM-DDTHH:MM:SS[.f]`
///   (PowerShell `-Format s`, ISO 8601 without offset), read at `utc_offset`;
/// - `M/D/YYYY h:mm[:ss] AM|PM` (PowerShell's default rendering of a
///   `DateTime` in the en-US culture), read at `utc_offset`.
///
/// Day-first cultures (`20/11/2026 14:03`, `20.11.2026`) are refused: `03/04`
/// cannot be told from April 3rd, and a guess would move usage by months.
fn parse_datetime(s: &str, utc_offset: &str) -> Option<String> {
    let s = s.trim();
    if let Some(t) = super::normalize_timestamp(s, utc_offset) {
        return Instant::parse(&t).ok().map(|i| i.to_string());
    }
    let mut parts = s.split_whitespace();
    let (date, time, meridiem) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (y, m, d) = us_date(date)?;
    let mut t = time.split(':');
    let h = small_number(t.next()?, 1, 2)?;
    let mi = small_number(t.next()?, 2, 2)?;
    let sec = match t.next() {
        Some(x) => small_number(x, 2, 2)?,
        None => 0,
    };
    if t.next().is_some() || !(1..=12).contains(&h) {
        return None;
    }
    let h = match meridiem.to_ascii_uppercase().as_str() {
        "AM" => h % 12,
        "PM" => h % 12 + 12,
        _ => return None,
    };
    let text = format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{sec:02}{utc_offset}");
    Instant::parse(&text).ok().map(|i| i.to_string())
}

/// An install date: any datetime of [`parse_datetime`], or a bare date read
/// as midnight at `utc_offset`: `YYYYMMDD` (the registry string that
/// `v_Add_Remove_Programs.InstallDate0` carries), `YYYY-MM-DD`, `M/D/YYYY`.
fn parse_install_date(s: &str, utc_offset: &str) -> Option<String> {
    if let Some(t) = parse_datetime(s, utc_offset) {
        return Some(t);
    }
    let s = s.trim();
    let (y, m, d) = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        (s.get(..4)?.parse().ok()?, s.get(4..6)?.parse().ok()?, s.get(6..)?.parse().ok()?)
    } else if s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') {
        let mut p = s.split('-');
        (small_number(p.next()?, 4, 4)?, small_number(p.next()?, 2, 2)?, small_number(p.next()?, 2, 2)?)
    } else {
        us_date(s)?
    };
    let text = format!("{y:04}-{m:02}-{d:02}T00:00:00{utc_offset}");
    Instant::parse(&text).ok().map(|i| i.to_string())
}

/// `M/D/YYYY` (one or two digits for month and day).
fn us_date(s: &str) -> Option<(u32, u32, u32)> {
    let mut p = s.split('/');
    let m = small_number(p.next()?, 1, 2)?;
    let d = small_number(p.next()?, 1, 2)?;
    let y = small_number(p.next()?, 4, 4)?;
    if p.next().is_some() {
        return None;
    }
    Some((y, m, d))
}

/// A run of `min..=max` ASCII digits.
fn small_number(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The `observed_at` option: the export's instant, RFC 3339 with an offset.
/// Written in UTC, as every instant this adapter emits.
fn parse_observed_at_option(options: &Options) -> Result<Option<String>> {
    let v = super::observed_at_option("sccm-installed", options, false)?;
    Ok(v.and_then(|v| Instant::parse(&v).ok()).map(|i| i.to_string()))
}

/// `DOMAIN\user` from `v_R_System`'s `User_Domain0` and `User_Name0`; a name
/// that already carries a domain or is a UPN is kept as it is.
fn domain_user(domain: &str, name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else if domain.is_empty() || name.contains('\\') || name.contains('@') {
        name.to_string()
    } else {
        format!("{domain}\\{name}")
    }
}

/// A note listing resource ids (at most [`NOTE_IDS`]).
fn id_list(ids: &BTreeSet<u64>) -> String {
    let mut s: Vec<String> = ids.iter().take(NOTE_IDS).map(u64::to_string).collect();
    if ids.len() > NOTE_IDS {
        s.push(format!("… ({} in all)", ids.len()));
    }
    s.join(", ")
}

/// `n row(s)`.
fn rows(n: u64) -> String {
    plural(n, "row")
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Collapse signals sharing a raw id. Exact duplicates (SSMS exports repeat
/// rows; a folder may hold the same view twice) and rows that differ only in
/// their timestamp (a product listed by both the 32- and 64-bit uninstall
/// keys, a metered product with several files) are one record: the newest
/// `observed_at` wins, the first row on a tie. The core would otherwise fail
/// the run closed on a conflicting duplicate.
struct Collapser {
    /// What a raw id is made of, for the note.
    key: &'static str,
    by_raw_id: BTreeMap<String, usize>,
    signals: Vec<(Origin, SignalRow)>,
    /// Rows collapsed, per file.
    collapsed: BTreeMap<usize, u64>,
}

impl Collapser {
    fn new(key: &'static str) -> Self {
        Collapser { key, by_raw_id: BTreeMap::new(), signals: Vec::new(), collapsed: BTreeMap::new() }
    }

    fn push(&mut self, origin: Origin, row: SignalRow) {
        match self.by_raw_id.get(&row.raw_id).copied() {
            None => {
                self.by_raw_id.insert(row.raw_id.clone(), self.signals.len());
                self.signals.push((origin, row));
            }
            Some(i) => {
                let Some(kept) = self.signals.get_mut(i) else { return };
                let newer = match (Instant::parse(&row.observed_at), Instant::parse(&kept.1.observed_at)) {
                    (Ok(a), Ok(b)) => a > b,
                    _ => false,
                };
                if newer {
                    *self.collapsed.entry(kept.0.file).or_default() += 1;
                    *kept = (origin, row);
                } else {
                    *self.collapsed.entry(origin.file).or_default() += 1;
                }
            }
        }
    }

    fn finish(mut self, out: &mut AdapterOutput) {
        self.signals.sort_by_key(|a| a.0);
        out.signals = self.signals;
        for (file, n) in self.collapsed {
            out.notes.push((file, format!("collapsed: {} with the raw id of another ({}); the newest kept", rows(n), self.key)));
        }
    }
}

// ------------------------------------------------------------------------------------------
// sccm-installed

/// `sccm-installed`: software inventory of Configuration Manager clients,
/// joined with discovery data, as `installation` signals.
pub(super) struct SccmInstalled;

/// Column names of the system attributes (`v_R_System` + BIOS serial).
const RESOURCE_ID: &[&str] = &["ResourceID"];
const NAME: &[&str] = &["Name0"];
const NETBIOS: &[&str] = &["Netbios_Name0"];
const USER_NAME: &[&str] = &["User_Name0"];
const USER_DOMAIN: &[&str] = &["User_Domain0"];
const SERIAL: &[&str] = &["SerialNumber0", "SerialNumber"];
const AAD: &[&str] = &["AADDeviceID", "AADDeviceID0", "AzureADDeviceID"];
const OBSOLETE: &[&str] = &["Obsolete0"];
const ACTIVE: &[&str] = &["Active0"];
/// Software columns: `v_GS_INSTALLED_SOFTWARE` first, then `v_Add_Remove_Programs`.
const PRODUCT: &[&str] = &["ProductName0", "DisplayName0"];
const VERSION_INSTALLED: &[&str] = &["ProductVersion0"];
const VERSION_ARP: &[&str] = &["Version0"];
const TIMESTAMP: &[&str] = &["TimeStamp"];
const INSTALL_DATE: &[&str] = &["InstallDate0"];

/// Where a file's system attributes are.
#[derive(Default, Clone, Copy)]
struct SysCols {
    rid: Option<usize>,
    name: Option<usize>,
    netbios: Option<usize>,
    user_name: Option<usize>,
    user_domain: Option<usize>,
    serial: Option<usize>,
    aad: Option<usize>,
    obsolete: Option<usize>,
    active: Option<usize>,
}

impl SysCols {
    fn of(e: &Export<'_>) -> Self {
        SysCols {
            rid: e.col(RESOURCE_ID),
            name: e.col(NAME),
            netbios: e.col(NETBIOS),
            user_name: e.col(USER_NAME),
            user_domain: e.col(USER_DOMAIN),
            serial: e.col(SERIAL),
            aad: e.col(AAD),
            obsolete: e.col(OBSOLETE),
            active: e.col(ACTIVE),
        }
    }

    fn has_name(&self) -> bool {
        self.name.is_some() || self.netbios.is_some()
    }

    /// The system attributes of one row.
    fn read(&self, row: &[String]) -> std::result::Result<SysFields, RowFail> {
        let name = match val(row, self.name) {
            "" => val(row, self.netbios),
            n => n,
        };
        Ok(SysFields {
            name: name.to_string(),
            user: domain_user(val(row, self.user_domain), val(row, self.user_name)),
            serial: val(row, self.serial).to_string(),
            aad: val(row, self.aad).to_string(),
            obsolete: parse_flag(val(row, self.obsolete), "Obsolete0")?,
            active: parse_flag(val(row, self.active), "Active0")?,
        })
    }
}

/// What the adapter knows of one system (`v_R_System` row, or the system
/// columns of a pre-joined software row). Empty = unknown.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct SysFields {
    name: String,
    user: String,
    serial: String,
    aad: String,
    obsolete: Option<bool>,
    active: Option<bool>,
}

impl SysFields {
    /// `self`'s known values, the rest from `base`.
    fn over(&self, base: &SysFields) -> SysFields {
        let pick = |a: &String, b: &String| if a.is_empty() { b.clone() } else { a.clone() };
        SysFields {
            name: pick(&self.name, &base.name),
            user: pick(&self.user, &base.user),
            serial: pick(&self.serial, &base.serial),
            aad: pick(&self.aad, &base.aad),
            obsolete: self.obsolete.or(base.obsolete),
            active: self.active.or(base.active),
        }
    }

    /// Obsolete (`Obsolete0 = 1`) or inactive (`Active0 = 0`) records are
    /// stale: a re-imaged or retired machine whose new record (if any) is
    /// another row. Their software is not counted.
    fn excluded(&self) -> bool {
        self.obsolete == Some(true) || self.active == Some(false)
    }

    /// Whether the row names a device at all.
    fn identifies(&self) -> bool {
        !(self.name.is_empty() && self.serial.is_empty() && self.aad.is_empty())
    }

    /// The serial, unless it is a placeholder (`To Be Filled By O.E.M.`,
    /// `System Serial Number`, `0`, one repeated character…).
    fn clean_serial(&self) -> &str {
        if is_placeholder_serial(&self.serial) {
            ""
        } else {
            &self.serial
        }
    }

    /// The Entra (Azure AD) device id, unless it is the all-zero GUID.
    fn clean_aad(&self) -> &str {
        if is_null_guid(&self.aad) {
            ""
        } else {
            &self.aad
        }
    }
}

/// What a file of the `sccm-installed` folder holds, recognised by its header.
enum FileKind {
    /// `v_R_System` (with or without the BIOS serial joined in).
    Systems(SysCols),
    /// `v_GS_PC_BIOS`: `ResourceID`, `SerialNumber0`.
    Bios { rid: usize, serial: usize },
    /// `v_GS_INSTALLED_SOFTWARE` / `v_Add_Remove_Programs`, alone or joined
    /// with system columns.
    Software(SoftCols),
}

#[derive(Clone, Copy)]
struct SoftCols {
    sys: SysCols,
    product: usize,
    version: Option<usize>,
    timestamp: Option<usize>,
    install_date: Option<usize>,
}

const RECOGNISED: &str = "expected one of: v_R_System (ResourceID, Name0 or Netbios_Name0, and one of User_Name0, SerialNumber0, \
     AADDeviceID, Obsolete0, Active0, Client0, Resource_Domain_OR_Workgr0), \
     v_GS_PC_BIOS (ResourceID, SerialNumber0), v_GS_INSTALLED_SOFTWARE (ResourceID or Name0/Netbios_Name0, ProductName0), \
     v_Add_Remove_Programs (ResourceID or Name0/Netbios_Name0, DisplayName0)";

fn classify(e: &Export<'_>) -> Result<FileKind> {
    let sys = SysCols::of(e);
    if e.col(M_TIME_KEY).is_some() || e.col(M_LAST_USAGE).is_some() {
        return Err(e.header_error(
            "header is a software metering export (TimeKey, LastUsage): it belongs under imports/sccm-metering/".to_string(),
        ));
    }
    if let Some(product) = e.col(PRODUCT) {
        if sys.rid.is_none() && !sys.has_name() {
            return Err(e.header_error(format!(
                "software export without `ResourceID`, `Name0` or `Netbios_Name0` cannot be joined to a system; {RECOGNISED}"
            )));
        }
        // The version that goes with the product column found.
        let version = if e.col(&["ProductName0"]).is_some() { e.col(VERSION_INSTALLED) } else { e.col(VERSION_ARP) };
        return Ok(FileKind::Software(SoftCols { sys, product, version, timestamp: e.col(TIMESTAMP), install_date: e.col(INSTALL_DATE) }));
    }
    // A systems file must carry at least one attribute beyond the keys, so
    // that an unrelated export with a ResourceID and a name is not taken for one.
    let attributes = [sys.user_name, sys.serial, sys.aad, sys.obsolete, sys.active].iter().any(Option::is_some)
        || e.col(&["Client0", "Resource_Domain_OR_Workgr0"]).is_some();
    match (sys.rid, sys.has_name() && attributes, sys.serial) {
        (Some(_), true, _) => Ok(FileKind::Systems(sys)),
        (Some(rid), false, Some(serial)) => Ok(FileKind::Bios { rid, serial }),
        _ => Err(e.header_error(format!("header is not a Configuration Manager view export this adapter reads; {RECOGNISED}"))),
    }
}

/// One `v_R_System` record.
struct System {
    fields: SysFields,
    origin: Origin,
}

impl Adapter for SccmInstalled {
    fn name(&self) -> &'static str {
        "sccm-installed"
    }
    fn version(&self) -> &'static str {
        "1.0.0"
    }
    fn source(&self) -> &'static str {
        SOURCE
    }
    fn option_keys(&self) -> &'static [&'static str] {
        &["observed_at", "utc_offset"]
    }

    fn run(&self, files: &[InputFile], options: &Options) -> Result<AdapterOutput> {
        let offset = parse_utc_offset("utc_offset", options.get("utc_offset"))?;
        let export_at = parse_observed_at_option(options)?;
        let exports: Vec<Export<'_>> = files.iter().map(Export::read).collect::<Result<_>>()?;
        let kinds: Vec<FileKind> = exports.iter().map(classify).collect::<Result<_>>()?;
        check_software_times(&exports, &kinds, export_at.as_deref())?;
        let mut out = AdapterOutput::for_files(files.len());
        let systems = read_systems(&exports, &kinds, &mut out);
        note_excluded_systems(&systems, &mut out);
        let by_name = systems_by_name(&systems);
        let mut pass = SoftwarePass {
            systems: &systems,
            by_name: &by_name,
            offset: &offset,
            export_at: export_at.as_deref(),
            collapser: Collapser::new("same ResourceID, product and version"),
            facts: BTreeMap::new(),
        };
        for s in systems.values() {
            if !s.fields.excluded() {
                add_fact(&mut pass.facts, &s.fields, s.origin);
            }
        }
        for (fi, (e, k)) in exports.iter().zip(&kinds).enumerate() {
            if let FileKind::Software(c) = k {
                pass.read_file(fi, e, c, &mut out);
            }
        }
        pass.collapser.finish(&mut out);
        directory(&pass.facts, &mut out);
        out.notes.sort_by_key(|(file, _)| *file);
        Ok(out)
    }
}

/// Refuse, before reading any row, a software export that gives no instant
/// at all (no `TimeStamp`, no `InstallDate0`, no option `observed_at`): every
/// one of its rows would be rejected, which is a setup mistake, not bad data.
fn check_software_times(exports: &[Export<'_>], kinds: &[FileKind], export_at: Option<&str>) -> Result<()> {
    for (e, k) in exports.iter().zip(kinds) {
        if let FileKind::Software(c) = k {
            if c.timestamp.is_none() && c.install_date.is_none() && export_at.is_none() {
                return Err(e.header_error(
                    "software export has no `TimeStamp` or `InstallDate0` column: set option `observed_at` (the export's instant)"
                        .to_string(),
                ));
            }
        }
    }
    Ok(())
}

/// Pass 1: systems and BIOS serials, by ResourceID. These rows carry no
/// signal of their own, so a bad one is skipped with a note naming its line
/// rather than rejected: the per-file reject threshold counts signal rows,
/// and one bad row out of none would fail the run. The software rows that
/// needed it are rejected in their own file. A system without a serial takes
/// the BIOS serial of its ResourceID.
fn read_systems(exports: &[Export<'_>], kinds: &[FileKind], out: &mut AdapterOutput) -> BTreeMap<u64, System> {
    let mut table = SystemTable { exports, ..Default::default() };
    for (fi, (e, k)) in exports.iter().zip(kinds).enumerate() {
        let (rid_c, serial_c, sys_c) = match k {
            FileKind::Systems(c) => (c.rid, c.serial, Some(c)),
            FileKind::Bios { rid, serial } => (Some(*rid), Some(*serial), None),
            FileKind::Software(_) => continue,
        };
        for (line, row) in &e.rows {
            let origin = Origin { file: fi, line: *line };
            bump(&mut out.records, fi);
            table.add_row(row, origin, rid_c, serial_c, sys_c);
        }
    }
    table.note(out);
    let SystemTable { mut systems, bios, .. } = table;
    for (rid, s) in systems.iter_mut() {
        if s.fields.serial.is_empty() {
            if let Some((serial, _)) = bios.get(rid) {
                s.fields.serial = serial.clone();
            }
        }
    }
    systems
}

/// What pass 1 has read so far: the first system and BIOS row of each
/// ResourceID, and per file the identical repeats and the rows skipped.
#[derive(Default)]
struct SystemTable<'e, 'a> {
    exports: &'e [Export<'a>],
    systems: BTreeMap<u64, System>,
    bios: BTreeMap<u64, (String, Origin)>,
    same_system: BTreeMap<usize, u64>,
    skipped: BTreeMap<usize, Vec<String>>,
}

impl SystemTable<'_, '_> {
    /// Record a row that cannot be used, for the file's `skipped` note.
    fn skip(&mut self, origin: Origin, (col, code, msg): RowFail) {
        self.skipped.entry(origin.file).or_default().push(format!("line {} ({col}, {code}: {msg})", origin.line));
    }

    /// `path:line` of an earlier row, for a conflict's message.
    fn place(&self, o: &Origin) -> String {
        format!("{}:{}", self.exports.get(o.file).map_or("", |e| e.path), o.line)
    }

    /// One `v_R_System` row (`sys_c` given) or `v_GS_PC_BIOS` row: the first
    /// of a ResourceID is kept, an identical repeat is counted, a differing
    /// one is skipped.
    fn add_row(&mut self, row: &[String], origin: Origin, rid_c: Option<usize>, serial_c: Option<usize>, sys_c: Option<&SysCols>) {
        let rid = match parse_resource_id(val(row, rid_c), "ResourceID") {
            Ok(Some(r)) => r,
            Ok(None) => return self.skip(origin, ("ResourceID", RowErrorCode::MissingField, "`ResourceID` is empty".to_string())),
            Err(f) => return self.skip(origin, f),
        };
        let Some(c) = sys_c else {
            // v_GS_PC_BIOS.
            let serial = val(row, serial_c).to_string();
            match self.bios.get(&rid) {
                None => {
                    self.bios.insert(rid, (serial, origin));
                }
                Some((prev, _)) if *prev == serial => *self.same_system.entry(origin.file).or_default() += 1,
                Some((_, first)) => {
                    let msg = format!("{} has another serial for this ResourceID; the first is kept", self.place(first));
                    self.skip(origin, ("SerialNumber0", RowErrorCode::ConflictingDuplicate, msg));
                }
            }
            return;
        };
        let fields = match c.read(row) {
            Ok(f) => f,
            Err(f) => return self.skip(origin, f),
        };
        match self.systems.get(&rid) {
            None => {
                self.systems.insert(rid, System { fields, origin });
            }
            Some(s) if s.fields == fields => *self.same_system.entry(origin.file).or_default() += 1,
            Some(s) => {
                let msg = format!("{} has other values for this ResourceID; the first is kept", self.place(&s.origin));
                self.skip(origin, ("ResourceID", RowErrorCode::ConflictingDuplicate, msg));
            }
        }
    }

    /// The `collapsed` and `skipped` notes, per file.
    fn note(&self, out: &mut AdapterOutput) {
        for (fi, n) in &self.same_system {
            out.notes.push((*fi, format!("collapsed: {} identical to an earlier system row", rows(*n))));
        }
        for (fi, lines) in &self.skipped {
            let shown: Vec<&str> = lines.iter().take(NOTE_IDS).map(String::as_str).collect();
            let more = if lines.len() > NOTE_IDS { format!("; … ({} in all)", lines.len()) } else { String::new() };
            out.notes.push((
                *fi,
                format!("skipped: {} that cannot be used: {}{more}", plural(lines.len() as u64, "system row"), shown.join("; ")),
            ));
        }
    }
}

/// Excluded systems, reported once in the file that lists them.
fn note_excluded_systems(systems: &BTreeMap<u64, System>, out: &mut AdapterOutput) {
    let mut excluded_systems: BTreeMap<usize, BTreeSet<u64>> = BTreeMap::new();
    for (rid, s) in systems {
        if s.fields.excluded() {
            excluded_systems.entry(s.origin.file).or_default().insert(*rid);
        }
    }
    for (fi, ids) in &excluded_systems {
        out.notes.push((
            *fi,
            format!(
                "excluded: {} obsolete or inactive (Obsolete0 = 1 or Active0 = 0), no signals or identity facts from them: ResourceID {}",
                plural(ids.len() as u64, "system"),
                id_list(ids)
            ),
        ));
    }
}

/// ResourceIDs by normalised machine name, for software rows that carry a
/// name but no ResourceID.
fn systems_by_name(systems: &BTreeMap<u64, System>) -> BTreeMap<String, Vec<u64>> {
    let mut by_name: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (rid, s) in systems {
        if let Some(n) = normalize_hostname(&s.fields.name) {
            by_name.entry(n).or_default().push(*rid);
        }
    }
    by_name
}

/// Pass 2: software rows, joined to the systems of pass 1.
struct SoftwarePass<'s> {
    systems: &'s BTreeMap<u64, System>,
    by_name: &'s BTreeMap<String, Vec<u64>>,
    offset: &'s str,
    export_at: Option<&'s str>,
    collapser: Collapser,
    facts: BTreeMap<(String, String, String), Origin>,
}

/// Software rows of one file that yield no signal on purpose.
#[derive(Default)]
struct SoftwareSkips {
    excluded: BTreeSet<u64>,
    excluded_rows: u64,
    unnamed: u64,
}

impl SoftwarePass<'_> {
    /// Every row of one software file, then the file's `excluded` and
    /// `skipped` notes.
    fn read_file(&mut self, fi: usize, e: &Export<'_>, c: &SoftCols, out: &mut AdapterOutput) {
        let mut skips = SoftwareSkips::default();
        for (line, row) in &e.rows {
            let origin = Origin { file: fi, line: *line };
            bump(&mut out.records, fi);
            self.read_row(row, origin, c, &mut skips, out);
        }
        if skips.excluded_rows > 0 {
            out.notes.push((
                fi,
                format!(
                    "excluded: {} of obsolete or inactive systems (Obsolete0 = 1 or Active0 = 0): ResourceID {}",
                    rows(skips.excluded_rows),
                    if skips.excluded.is_empty() {
                        "not exported (rows carry only a machine name)".to_string()
                    } else {
                        id_list(&skips.excluded)
                    }
                ),
            ));
        }
        if skips.unnamed > 0 {
            out.notes.push((fi, format!("skipped: {} without a product name", rows(skips.unnamed))));
        }
    }

    /// One software row: skipped (no product name, excluded system),
    /// rejected (no system, no instant) or an installation signal.
    fn read_row(&mut self, row: &[String], origin: Origin, c: &SoftCols, skips: &mut SoftwareSkips, out: &mut AdapterOutput) {
        let product = val(row, Some(c.product));
        if product.is_empty() {
            // Inventory lists updates and components without a display
            // name: nothing to map, not an error.
            skips.unnamed += 1;
            return;
        }
        let (rid, sys) = match resolve(row, c, self.systems, self.by_name) {
            Ok(v) => v,
            Err((col, code, msg)) => return out.reject(origin, col, code, msg),
        };
        if sys.excluded() {
            skips.excluded_rows += 1;
            if let Some(r) = rid {
                skips.excluded.insert(r);
            }
            return;
        }
        let observed_at = match observed(row, c, self.offset, self.export_at) {
            Ok(t) => t,
            Err((col, code, msg)) => return out.reject(origin, col, code, msg),
        };
        let version = c.version.map_or("", |v| val(row, Some(v)));
        let raw_id = match rid {
            Some(r) => format!("{r}:{product}:{version}"),
            None => format!("host:{}:{product}:{version}", normalize_hostname(&sys.name).unwrap_or_default()),
        };
        add_fact(&mut self.facts, &sys, origin);
        self.collapser.push(
            origin,
            SignalRow {
                source: SOURCE.to_string(),
                raw_id,
                observed_at,
                product: product.to_string(),
                kind: "installation".to_string(),
                user: sys.user.clone(),
                device_serial: sys.clean_serial().to_string(),
                device_id: sys.clean_aad().to_string(),
                device_name: sys.name.clone(),
                ..Default::default()
            },
        );
    }
}

fn bump(records: &mut [u64], file: usize) {
    if let Some(n) = records.get_mut(file) {
        *n += 1;
    }
}

/// The ResourceID (when known) and the system attributes of a software row:
/// its own system columns first, the rest from the `v_R_System` row it joins
/// (by ResourceID, else by normalised machine name).
fn resolve(
    row: &[String],
    c: &SoftCols,
    systems: &BTreeMap<u64, System>,
    by_name: &BTreeMap<String, Vec<u64>>,
) -> std::result::Result<(Option<u64>, SysFields), RowFail> {
    let own = c.sys.read(row)?;
    let rid = parse_resource_id(val(row, c.sys.rid), "ResourceID")?;
    if let Some(r) = rid {
        return match systems.get(&r) {
            Some(s) => Ok((rid, own.over(&s.fields))),
            None if own.identifies() || own.excluded() => Ok((rid, own)),
            None => Err((
                "ResourceID",
                RowErrorCode::UnknownResource,
                "no v_R_System row for this ResourceID in the folder, and the row names no machine".to_string(),
            )),
        };
    }
    let Some(name) = normalize_hostname(&own.name) else {
        return Err(("ResourceID", RowErrorCode::MissingField, "neither `ResourceID` nor a machine name is given".to_string()));
    };
    let candidates = by_name.get(&name).map(Vec::as_slice).unwrap_or(&[]);
    let found: Vec<(u64, &System)> = candidates.iter().filter_map(|r| systems.get(r).map(|s| (*r, s))).collect();
    let current: Vec<&(u64, &System)> = found.iter().filter(|(_, s)| !s.fields.excluded()).collect();
    match (found.as_slice(), current.as_slice()) {
        ([], _) => Ok((None, own)),
        (_, [(r, s)]) => Ok((Some(*r), own.over(&s.fields))),
        ([(r, s), ..], []) => Ok((Some(*r), own.over(&s.fields))),
        _ => Err((
            "Name0",
            RowErrorCode::AmbiguousSystem,
            "several current v_R_System rows carry this machine name: export ResourceID to join".to_string(),
        )),
    }
}

/// `observed_at` of a software row: the inventory `TimeStamp` (when the
/// client last reported the row), else the export's instant (option
/// `observed_at`), else `InstallDate0`.
fn observed(row: &[String], c: &SoftCols, offset: &str, export_at: Option<&str>) -> std::result::Result<String, RowFail> {
    let ts = val(row, c.timestamp);
    if !ts.is_empty() {
        return parse_datetime(ts, offset).ok_or((
            "TimeStamp",
            RowErrorCode::MalformedInstant,
            "`TimeStamp` is not a date-time this adapter reads (YYYY-MM-DD HH:MM:SS[.fff], ISO 8601, M/D/YYYY h:mm:ss AM|PM)".to_string(),
        ));
    }
    if let Some(t) = export_at {
        return Ok(t.to_string());
    }
    let d = val(row, c.install_date);
    if d.is_empty() {
        return Err((
            "TimeStamp",
            RowErrorCode::MissingField,
            "no `TimeStamp` or `InstallDate0` on this row and no option `observed_at`".to_string(),
        ));
    }
    parse_install_date(d, offset).ok_or((
        "InstallDate0",
        RowErrorCode::MalformedInstant,
        "`InstallDate0` is not a date this adapter reads (YYYYMMDD, YYYY-MM-DD, M/D/YYYY or a date-time)".to_string(),
    ))
}

/// Remember a device's (serial, device id, name), placeholders removed.
fn add_fact(facts: &mut BTreeMap<(String, String, String), Origin>, s: &SysFields, origin: Origin) {
    let key = (s.clean_serial().trim().to_string(), s.clean_aad().trim().to_string(), s.name.trim().to_string());
    if key.0.is_empty() && key.1.is_empty() {
        return;
    }
    facts.entry(key).or_insert(origin);
}

/// Identity facts: serial ↔ device id, and the machine name beside the
/// device's strong key. A name carried by systems with different serials or
/// device ids (a name reused after a rebuild, two live records) is not
/// emitted: as a directory alias it would merge distinct devices.
fn directory(facts: &BTreeMap<(String, String, String), Origin>, out: &mut AdapterOutput) {
    let norm_serial = |s: &str| s.to_uppercase().chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let mut per_name: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, Origin)> = BTreeMap::new();
    for ((serial, id, name), origin) in facts {
        if let Some(n) = normalize_hostname(name) {
            let e = per_name.entry(n).or_insert_with(|| (BTreeSet::new(), BTreeSet::new(), *origin));
            if !serial.is_empty() {
                e.0.insert(norm_serial(serial));
            }
            if !id.is_empty() {
                e.1.insert(id.to_lowercase());
            }
            e.2 = e.2.min(*origin);
        }
    }
    let mut entries = BTreeSet::new();
    // One name alias per (device, normalised name): `LT-0042` and
    // `lt-0042.contoso.com` are the same fact; the first spelling is written.
    let mut named: BTreeSet<(String, String)> = BTreeSet::new();
    for (serial, id, name) in facts.keys() {
        let canonical = if serial.is_empty() { DeviceKeyPrefix::Id.key(id) } else { DeviceKeyPrefix::Serial.key(serial) };
        if !serial.is_empty() && !id.is_empty() {
            entries.insert((canonical.clone(), DeviceKeyPrefix::Id.key(id)));
        }
        if let Some(n) = normalize_hostname(name) {
            let unique = per_name.get(&n).is_some_and(|(s, i, _)| s.len() <= 1 && i.len() <= 1);
            if unique && named.insert((canonical.clone(), n)) {
                entries.insert((canonical, DeviceKeyPrefix::Name.key(name)));
            }
        }
    }
    for (n, (s, i, origin)) in &per_name {
        if s.len() > 1 || i.len() > 1 {
            out.notes.push((
                origin.file,
                format!("machine name `{n}` is carried by systems with different serials or device ids: not emitted as an identity fact"),
            ));
        }
    }
    out.directory = entries
        .into_iter()
        .map(|(canonical_id, alias)| DirectoryEntry { principal_type: "device".to_string(), canonical_id, alias, ..Default::default() })
        .collect();
}

// ------------------------------------------------------------------------------------------
// sccm-metering

/// `sccm-metering`: software metering monthly usage summaries as `usage`
/// signals.
pub(super) struct SccmMetering;

const M_PRODUCT: &[&str] = &["ProductName", "MeteredProductName"];
const M_FULL_NAME: &[&str] = &["FullName", "MeteredUserName"];
const M_DOMAIN: &[&str] = &["Domain"];
const M_USER_NAME: &[&str] = &["UserName"];
const M_LAST_USAGE: &[&str] = &["LastUsage"];
const M_TIME_KEY: &[&str] = &["TimeKey"];
const M_USAGE_COUNT: &[&str] = &["UsageCount"];
const M_TS_USAGE_COUNT: &[&str] = &["TSUsageCount"];

impl Adapter for SccmMetering {
    fn name(&self) -> &'static str {
        "sccm-metering"
    }
    fn version(&self) -> &'static str {
        "1.0.0"
    }
    fn source(&self) -> &'static str {
        SOURCE
    }
    fn option_keys(&self) -> &'static [&'static str] {
        &["utc_offset"]
    }

    fn run(&self, files: &[InputFile], options: &Options) -> Result<AdapterOutput> {
        let offset = parse_utc_offset("utc_offset", options.get("utc_offset"))?;
        let exports: Vec<Export<'_>> = files.iter().map(Export::read).collect::<Result<_>>()?;
        let mut out = AdapterOutput::for_files(files.len());
        let mut collapser = Collapser::new("same ResourceID, month, user and product");
        for (fi, e) in exports.iter().enumerate() {
            let need = |names: &[&str], shown: &str| {
                e.col(names).ok_or_else(|| {
                    e.header_error(format!(
                        "required column `{shown}` is missing from the header (a v_MonthlyUsageSummary export needs ResourceID, ProductName or MeteredProductName, LastUsage, TimeKey)"
                    ))
                })
            };
            let rid_c = need(RESOURCE_ID, "ResourceID")?;
            let product_c = need(M_PRODUCT, "ProductName")?;
            let last_c = need(M_LAST_USAGE, "LastUsage")?;
            let key_c = need(M_TIME_KEY, "TimeKey")?;
            let full_c = e.col(M_FULL_NAME);
            let (domain_c, user_c) = (e.col(M_DOMAIN), e.col(M_USER_NAME));
            let (name_c, netbios_c) = (e.col(NAME), e.col(NETBIOS));
            let (count_c, ts_count_c) = (e.col(M_USAGE_COUNT), e.col(M_TS_USAGE_COUNT));
            let mut unused = 0u64;
            for (line, row) in &e.rows {
                let origin = Origin { file: fi, line: *line };
                bump(&mut out.records, fi);
                let parsed = (|| -> std::result::Result<Option<SignalRow>, RowFail> {
                    let rid = parse_resource_id(val(row, Some(rid_c)), "ResourceID")?.ok_or((
                        "ResourceID",
                        RowErrorCode::MissingField,
                        "`ResourceID` is empty".to_string(),
                    ))?;
                    let product = val(row, Some(product_c));
                    if product.is_empty() {
                        return Err(("ProductName", RowErrorCode::MissingField, "the metered product name is empty".to_string()));
                    }
                    let key = val(row, Some(key_c));
                    let month_ok = small_number(key, 6, 6).is_some_and(|k| (1..=12).contains(&(k % 100)));
                    if !month_ok {
                        return Err(("TimeKey", RowErrorCode::MalformedValue, "`TimeKey` must be 100 × year + month (YYYYMM)".to_string()));
                    }
                    let count = |c: Option<usize>, col: &'static str| -> std::result::Result<Option<u64>, RowFail> {
                        match val(row, c) {
                            "" => Ok(None),
                            s => s
                                .parse::<u64>()
                                .map(Some)
                                .map_err(|_| (col, RowErrorCode::MalformedValue, format!("`{col}` must be a whole number"))),
                        }
                    };
                    let uses = count(count_c, "UsageCount")?;
                    let ts_uses = count(ts_count_c, "TSUsageCount")?;
                    if uses == Some(0) && ts_uses.unwrap_or(0) == 0 {
                        return Ok(None);
                    }
                    let last = val(row, Some(last_c));
                    if last.is_empty() {
                        return Err(("LastUsage", RowErrorCode::MissingField, "`LastUsage` is empty".to_string()));
                    }
                    let at = parse_datetime(last, &offset).ok_or((
                        "LastUsage",
                        RowErrorCode::MalformedInstant,
                        "`LastUsage` is not a date-time this adapter reads (YYYY-MM-DD HH:MM:SS[.fff], ISO 8601, M/D/YYYY h:mm:ss AM|PM)"
                            .to_string(),
                    ))?;
                    let user = match val(row, full_c) {
                        "" => domain_user(val(row, domain_c), val(row, user_c)),
                        u => u.to_string(),
                    };
                    let machine = match val(row, name_c) {
                        "" => val(row, netbios_c),
                        n => n,
                    };
                    Ok(Some(SignalRow {
                        source: SOURCE.to_string(),
                        raw_id: format!("usage:{rid}:{key}:{user}:{product}"),
                        observed_at: at.clone(),
                        product: product.to_string(),
                        kind: "usage".to_string(),
                        user,
                        device_name: machine.to_string(),
                        last_used_at: at,
                        ..Default::default()
                    }))
                })();
                match parsed {
                    Ok(Some(row)) => collapser.push(origin, row),
                    Ok(None) => unused += 1,
                    Err((col, code, msg)) => out.reject(origin, col, code, msg),
                }
            }
            if unused > 0 {
                out.notes.push((fi, format!("skipped: {} with UsageCount 0 (no use in the month)", rows(unused))));
            }
        }
        collapser.finish(&mut out);
        out.notes.sort_by_key(|(file, _)| *file);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        let p = |s: &str| parse_datetime(s, "+00:00");
        assert_eq!(p("2026-11-20 14:03:11.000").as_deref(), Some("2026-11-20T14:03:11Z"));
        assert_eq!(p("2026-11-20T14:03:11").as_deref(), Some("2026-11-20T14:03:11Z"));
        assert_eq!(p("2026-11-20T14:03:11.1234567").as_deref(), Some("2026-11-20T14:03:11.1234567Z"));
        assert_eq!(p("11/20/2026 2:03:11 PM").as_deref(), Some("2026-11-20T14:03:11Z"));
        assert_eq!(p("1/2/2026 12:00:00 AM").as_deref(), Some("2026-01-02T00:00:00Z"));
        assert_eq!(p("1/2/2026 12:30 pm").as_deref(), Some("2026-01-02T12:30:00Z"));
        assert_eq!(p("2026-11-20T14:03:11+01:00").as_deref(), Some("2026-11-20T13:03:11Z"));
        assert_eq!(parse_datetime("2026-11-20 14:03:11", "+01:00").as_deref(), Some("2026-11-20T13:03:11Z"));
        for bad in [
            "20/11/2026 14:03:11",
            "20.11.2026 14:03:11",
            "2/30/2026 1:00:00 AM",
            "11/20/2026 13:00:00 PM",
            "",
            "x",
            "11/20/2026 2:03:11",
            "2026-11-20 24:00:00",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
        assert_eq!(parse_install_date("20261120", "+00:00").as_deref(), Some("2026-11-20T00:00:00Z"));
        assert_eq!(parse_install_date("2026-11-20", "+00:00").as_deref(), Some("2026-11-20T00:00:00Z"));
        assert_eq!(parse_install_date("11/20/2026", "-05:00").as_deref(), Some("2026-11-20T05:00:00Z"));
        assert_eq!(parse_install_date("20261320", "+00:00"), None);
    }

    #[test]
    fn flags_users_ids() {
        assert_eq!(parse_flag("True", "Active0"), Ok(Some(true)));
        assert_eq!(parse_flag("", "Active0"), Ok(None));
        assert!(parse_flag("2", "Active0").is_err());
        assert_eq!(domain_user("CONTOSO", "jdoe"), "CONTOSO\\jdoe");
        assert_eq!(domain_user("CONTOSO", "jdoe@contoso.com"), "jdoe@contoso.com");
        assert_eq!(domain_user("", "jdoe"), "jdoe");
        assert_eq!(domain_user("CONTOSO", ""), "");
        assert_eq!(parse_resource_id("0016777220", "ResourceID"), Ok(Some(16777220)));
        assert!(parse_resource_id("16777220x", "ResourceID").is_err());
        assert!(parse_resource_id("99999999999999999999", "ResourceID").is_err());
    }
}
