//! Active Directory users through PowerShell (`ad-users`).
//!
//! The export is what an administrator runs on a domain-joined machine:
//!
//! ```text
//! Get-ADUser -Filter * -Properties mail,LastLogonDate |
//!     Export-Csv users.csv
//! ```
//!
//! Windows PowerShell 5.1 writes a first line `#TYPE
//! Microsoft.ActiveDirectory.Management.ADUser` (PowerShell 6 and later only
//! with `-IncludeTypeInformation`), quotes every value, and writes ASCII by
//! default, UTF-8 with a BOM or UTF-16 LE with `-Encoding`. `-UseCulture`
//! separates with the culture's list separator (`;` in `de-DE`, `fr-FR`).
//! Dates are written with the exporting machine's culture and in its local
//! time: `LastLogonDate` reads `11/21/2026 5:42:00 PM` on an `en-US` machine
//! and `21.11.2026 17:42:00` on a `de-DE` one, so option `culture` names the
//! format and option `utc_offset` the machine's offset.
//!
//! Each user becomes identity facts only (no signal): the UPN is the
//! canonical id, `mail` and `SamAccountName` (and `DOMAIN\SamAccountName`
//! with option `netbios_domain`) are its aliases, and every row carries the
//! account's `status` (`Enabled`) and `last_active_at` (`LastLogonDate`).
//! See `docs/adapters/ad-users.md`.

use super::{decode_text, parse_utc_offset, Adapter, AdapterOutput, DirectoryEntry, InputFile, Options, Origin};
use crate::canon::time::Instant;
use crate::error::{Error, ErrorCode, Location, Result};
use crate::input::table::{field, CsvTable};
use crate::vocab::RowErrorCode;
use std::collections::{BTreeMap, BTreeSet};

/// Source name of the adapter.
const SOURCE: &str = "ad";

/// The columns read; the first two are required (both are default
/// properties of `Get-ADUser`, present in every unfiltered export).
const UPN: &str = "UserPrincipalName";
const SAM: &str = "SamAccountName";
const ENABLED: &str = "Enabled";
const LAST_LOGON: &str = "LastLogonDate";
/// `mail` is the LDAP attribute; `EmailAddress` the AD module's name for it.
const MAIL: [&str; 2] = ["mail", "EmailAddress"];

/// How `LastLogonDate` is written (option `culture`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Culture {
    /// `M/d/yyyy h:mm:ss tt` (`11/21/2026 5:42:00 PM`).
    EnUs,
    /// `dd/MM/yyyy HH:mm:ss` (`en-GB`, `fr-FR`).
    DayMonthSlash,
    /// `dd.MM.yyyy HH:mm:ss` (`de-DE`).
    DayMonthDot,
    /// `yyyy-MM-dd HH:mm:ss` or RFC 3339 only.
    Iso,
}

impl Culture {
    fn parse(v: Option<&String>) -> Result<Culture> {
        match v.map(|s| s.trim()) {
            None | Some("") | Some("iso") => Ok(Culture::Iso),
            Some(c) if c.eq_ignore_ascii_case("en-US") => Ok(Culture::EnUs),
            Some(c) if c.eq_ignore_ascii_case("en-GB") || c.eq_ignore_ascii_case("fr-FR") => Ok(Culture::DayMonthSlash),
            Some(c) if c.eq_ignore_ascii_case("de-DE") => Ok(Culture::DayMonthDot),
            Some(_) => Err(Error::new(
                ErrorCode::InvalidInput,
                "option `culture` of adapter `ad-users` must be en-US, en-GB, fr-FR, de-DE or iso (the value given is not shown)",
            )),
        }
    }

    /// The format, as PowerShell's documentation writes it, for messages.
    fn pattern(self) -> &'static str {
        match self {
            Culture::EnUs => "M/d/yyyy h:mm:ss tt (en-US)",
            Culture::DayMonthSlash => "dd/MM/yyyy HH:mm:ss (en-GB, fr-FR)",
            Culture::DayMonthDot => "dd.MM.yyyy HH:mm:ss (de-DE)",
            Culture::Iso => "yyyy-MM-dd HH:mm:ss or RFC 3339 (option culture=iso, the default)",
        }
    }
}

/// Parsed options.
struct AdOptions {
    culture: Culture,
    utc_offset: String,
    /// Upper-cased NetBIOS domain name, when `DOMAIN\sam` aliases are wanted.
    netbios: Option<String>,
}

impl AdOptions {
    fn parse(options: &Options) -> Result<Self> {
        let culture = Culture::parse(options.get("culture"))?;
        let utc_offset = parse_utc_offset("utc_offset", options.get("utc_offset"))?;
        let netbios = match options.get("netbios_domain").map(|s| s.trim()) {
            None | Some("") => None,
            // NetBIOS domain names: up to 15 letters, digits, `-` or `_` (deliberately narrower than what NetBIOS allows).
            Some(d) if d.len() <= 15 && d.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) => {
                Some(d.to_ascii_uppercase())
            }
            Some(_) => {
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    "option `netbios_domain` must be a NetBIOS domain name such as ACME (the value given is not shown)",
                ))
            }
        };
        Ok(AdOptions { culture, utc_offset, netbios })
    }
}

/// A date-time of the exporting machine's culture as RFC 3339 at
/// `utc_offset`; an RFC 3339 value with its own offset is taken as written
/// in every culture (it is unambiguous). `None` when it is neither.
///
/// ```text
/// en-US  11/21/2026 5:42:00 PM  → 2026-11-21T17:42:00+01:00
/// de-DE  21.11.2026 17:42:00    → 2026-11-21T17:42:00+01:00
/// ```
fn culture_instant(s: &str, culture: Culture, utc_offset: &str) -> Option<String> {
    let s = s.trim();
    if Instant::parse(s).is_ok() {
        return Some(s.to_string());
    }
    // .NET on ICU (PowerShell 7 on current Windows and on Linux) writes a
    // narrow no-break space before AM/PM (`5:42:07\u{202F}PM`); some cultures
    // a no-break space between date and time. Both are read as a space.
    let spaced = s.replace(['\u{202F}', '\u{00A0}'], " ");
    let s = spaced.as_str();
    let (y, mo, d, h, mi, sec) = match culture {
        Culture::Iso => return super::normalize_timestamp(s, utc_offset),
        Culture::EnUs => {
            let (date, rest) = s.split_once(' ')?;
            let (time, tt) = rest.trim_start().split_once(' ')?;
            let [mo, d, y] = numbers::<3>(date, '/')?;
            let [h, mi, sec] = numbers::<3>(time, ':')?;
            let h = match (tt.trim(), h) {
                (_, 0) | (_, 13..) => return None,
                (t, 12) if t.eq_ignore_ascii_case("AM") => 0,
                (t, h) if t.eq_ignore_ascii_case("AM") => h,
                (t, 12) if t.eq_ignore_ascii_case("PM") => 12,
                (t, h) if t.eq_ignore_ascii_case("PM") => h + 12,
                _ => return None,
            };
            (y, mo, d, h, mi, sec)
        }
        Culture::DayMonthSlash | Culture::DayMonthDot => {
            let sep = if culture == Culture::DayMonthDot { '.' } else { '/' };
            let (date, time) = s.split_once(' ')?;
            let [d, mo, y] = numbers::<3>(date, sep)?;
            let [h, mi, sec] = numbers::<3>(time.trim_start(), ':')?;
            (y, mo, d, h, mi, sec)
        }
    };
    if !(1000..=9999).contains(&y) {
        return None;
    }
    let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}{utc_offset}");
    Instant::parse(&text).ok().map(|_| text)
}

/// `N` unsigned numbers of one or more digits (at most four) separated by `sep`.
fn numbers<const N: usize>(s: &str, sep: char) -> Option<[u32; N]> {
    let mut out = [0u32; N];
    let mut parts = s.split(sep);
    for slot in out.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = p.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// The text of a PowerShell CSV export ready for the core's RFC 4180 reader:
/// the `#TYPE` line blanked (so that line numbers stay physical; the reader
/// skips blank lines before the header), and a `-UseCulture` export
/// separated by `;` turned into commas. A semicolon file with a comma outside
/// quotes cannot be turned into commas safely and is refused, naming the
/// line (PowerShell quotes every value, so it is not its output).
fn prepare(path: &str, text: &str) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split_inclusive('\n');
    let mut line_no = 0u64;
    // Blank lines, then an optional #TYPE line, then the header.
    let mut header: Option<&str> = None;
    for l in lines.by_ref() {
        line_no += 1;
        let t = l.trim();
        if t.is_empty() {
            out.push_str(l);
            continue;
        }
        if t.starts_with("#TYPE") || t.starts_with("#type") {
            out.push('\n');
            continue;
        }
        header = Some(l);
        break;
    }
    let Some(header) = header else { return Ok(out) };
    // The separator is the character after the header's first quoted name
    // (`"DistinguishedName";"Enabled"`), else whichever of `,` and `;` the
    // header holds.
    let semicolon = match header.trim_start().strip_prefix('"').and_then(|h| h.find('"').map(|i| &h[i + 1..])) {
        Some(after) => after.starts_with(';'),
        None => !header.contains(',') && header.contains(';'),
    };
    if !semicolon {
        out.push_str(header);
        for l in lines {
            out.push_str(l);
        }
        return Ok(out);
    }
    let mut in_quotes = false;
    for l in std::iter::once(header).chain(lines) {
        for c in l.chars() {
            match c {
                '"' => {
                    in_quotes = !in_quotes;
                    out.push(c);
                }
                ';' if !in_quotes => out.push(','),
                ',' if !in_quotes => {
                    return Err(Error::new(
                        ErrorCode::InvalidInput,
                        "a semicolon-separated export (Export-Csv -UseCulture) with a comma outside quotes: re-export without -UseCulture",
                    )
                    .at(Location::line(path, line_no)))
                }
                _ => out.push(c),
            }
        }
        line_no += 1;
    }
    Ok(out)
}

/// One user row, read.
struct UserRow {
    origin: Origin,
    upn: String,
    sam: String,
    mail: String,
    enabled: String,
    last_logon: String,
}

/// `ad-users`: `Get-ADUser | Export-Csv` → user identity facts with status
/// and last logon.
pub(super) struct AdUsers;

impl Adapter for AdUsers {
    fn name(&self) -> &'static str {
        "ad-users"
    }
    fn version(&self) -> &'static str {
        "1.0.0"
    }
    fn source(&self) -> &'static str {
        SOURCE
    }
    fn option_keys(&self) -> &'static [&'static str] {
        &["culture", "netbios_domain", "utc_offset"]
    }

    fn run(&self, files: &[InputFile], options: &Options) -> Result<AdapterOutput> {
        let opts = AdOptions::parse(options)?;
        let mut out = AdapterOutput::for_files(files.len());
        // Read every file first: one that is not this export fails the folder.
        let mut rows: Vec<UserRow> = Vec::new();
        for (fi, file) in files.iter().enumerate() {
            let read = read_file(fi, file)?;
            if let Some(n) = out.records.get_mut(fi) {
                *n = read.len() as u64;
            }
            rows.extend(read);
        }
        // Canonical id (lower case) → the first row read for it.
        let mut seen: BTreeMap<String, (String, String, String, String, String)> = BTreeMap::new();
        let mut repeated: BTreeMap<usize, u64> = BTreeMap::new();
        let mut directory: BTreeSet<DirectoryEntry> = BTreeSet::new();
        for row in rows {
            let origin = row.origin;
            // No UPN (allowed in AD: service and legacy accounts): the
            // account is known by its sAMAccountName, as SCCM and Windows
            // sign-ins name it.
            let canonical = if row.upn.is_empty() { row.sam.clone() } else { row.upn.clone() };
            if canonical.is_empty() {
                out.reject(origin, UPN, RowErrorCode::MissingField, "the user has neither a UserPrincipalName nor a SamAccountName");
                continue;
            }
            let status = match row.enabled.as_str() {
                "" => "",
                e if e.eq_ignore_ascii_case("True") => "active",
                e if e.eq_ignore_ascii_case("False") => "disabled",
                _ => {
                    out.reject(origin, ENABLED, RowErrorCode::InvalidField, "`Enabled` must be True, False or empty");
                    continue;
                }
            };
            let last_active_at = if row.last_logon.is_empty() {
                String::new()
            } else {
                match culture_instant(&row.last_logon, opts.culture, &opts.utc_offset) {
                    Some(t) => t,
                    None => {
                        out.reject(
                            origin,
                            LAST_LOGON,
                            RowErrorCode::MalformedInstant,
                            format!(
                                "`LastLogonDate` is not a date-time of the format {}; set option `culture` to the exporting machine's",
                                opts.culture.pattern()
                            ),
                        );
                        continue;
                    }
                }
            };
            let key = canonical.to_lowercase();
            let content = (row.upn.clone(), row.sam.clone(), row.mail.clone(), status.to_string(), last_active_at.clone());
            if let Some(first) = seen.get(&key) {
                if *first == content {
                    *repeated.entry(origin.file).or_default() += 1;
                } else {
                    out.reject(
                        origin,
                        if row.upn.is_empty() { SAM } else { UPN },
                        RowErrorCode::DuplicateRecord,
                        "the same account already read with different content; the first row is kept",
                    );
                }
                continue;
            }
            seen.insert(key, content);
            let mut aliases: Vec<String> = Vec::new();
            let mut add = |a: &str| {
                if !a.is_empty() && !a.eq_ignore_ascii_case(&canonical) && !aliases.iter().any(|x| x.eq_ignore_ascii_case(a)) {
                    aliases.push(a.to_string());
                }
            };
            add(&row.mail);
            add(&row.sam);
            if let (Some(domain), false) = (&opts.netbios, row.sam.is_empty()) {
                add(&format!("{domain}\\{}", row.sam));
            }
            if aliases.is_empty() {
                // Still one row: the account's status and last logon are facts.
                aliases.push(String::new());
            }
            for alias in aliases {
                directory.insert(DirectoryEntry {
                    principal_type: "user".into(),
                    canonical_id: canonical.clone(),
                    alias,
                    status: status.to_string(),
                    last_active_at: last_active_at.clone(),
                });
            }
        }
        for (fi, n) in repeated {
            out.notes.push((fi, format!("{n} user row(s) repeated identically were skipped")));
        }
        out.directory = directory.into_iter().collect();
        Ok(out)
    }
}

/// The rows of one export file, fields trimmed. A file without the required
/// columns is not this export: an error naming the file, the header line and
/// the column.
fn read_file(fi: usize, file: &InputFile) -> Result<Vec<UserRow>> {
    let text = prepare(&file.path, &decode_text(&file.path, &file.bytes)?)?;
    let mut table = CsvTable::new(&file.path, text.as_bytes())?;
    if table.is_empty_input() {
        return Ok(Vec::new());
    }
    let header = table.header().to_vec();
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let mut required = [0usize; 2];
    for (slot, name) in required.iter_mut().zip([UPN, SAM]) {
        *slot = col(name).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidInput,
                format!("not a Get-ADUser | Export-Csv export: column `{name}` is missing (the export needs UserPrincipalName and SamAccountName; Enabled, LastLogonDate and mail are read when present)"),
            )
            .at(Location::line(&file.path, 1).with_field(name))
        })?;
    }
    let (enabled, last_logon) = (col(ENABLED), col(LAST_LOGON));
    let mail = MAIL.iter().find_map(|m| col(m));
    let mut rows = Vec::new();
    while let Some((line, rec)) = table.next_record()? {
        let get = |i: Option<usize>| -> Result<String> {
            Ok(match i {
                Some(i) => field(&file.path, line, &header, rec, i)?.trim().to_string(),
                None => String::new(),
            })
        };
        rows.push(UserRow {
            origin: Origin { file: fi, line },
            upn: get(Some(required[0]))?,
            sam: get(Some(required[1]))?,
            mail: get(mail)?,
            enabled: get(enabled)?,
            last_logon: get(last_logon)?,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cultures_read_their_own_formats_only() {
        let at = |s: &str, c: Culture| culture_instant(s, c, "+01:00");
        assert_eq!(at("11/21/2026 5:42:07 PM", Culture::EnUs).as_deref(), Some("2026-11-21T17:42:07+01:00"));
        assert_eq!(at("1/2/2026 12:05:00 AM", Culture::EnUs).as_deref(), Some("2026-01-02T00:05:00+01:00"));
        assert_eq!(at("1/2/2026 12:05:00 PM", Culture::EnUs).as_deref(), Some("2026-01-02T12:05:00+01:00"));
        assert_eq!(at("1/2/2026 13:05:00 PM", Culture::EnUs), None);
        assert_eq!(at("11/21/2026 5:42:07\u{202F}PM", Culture::EnUs).as_deref(), Some("2026-11-21T17:42:07+01:00"));
        assert_eq!(at("21.11.2026\u{00A0}17:42:07", Culture::DayMonthDot).as_deref(), Some("2026-11-21T17:42:07+01:00"));
        assert_eq!(at("1/2/2026 0:05:00 AM", Culture::EnUs), None);
        assert_eq!(at("21/11/2026 17:42:07", Culture::DayMonthSlash).as_deref(), Some("2026-11-21T17:42:07+01:00"));
        assert_eq!(at("21.11.2026 17:42:07", Culture::DayMonthDot).as_deref(), Some("2026-11-21T17:42:07+01:00"));
        // The other culture's shape, or an impossible date, is refused: never guessed.
        assert_eq!(at("21/11/2026 17:42:07", Culture::EnUs), None);
        assert_eq!(at("11/21/2026 17:42:07", Culture::DayMonthSlash), None);
        assert_eq!(at("21.11.2026 17:42:07", Culture::DayMonthSlash), None);
        assert_eq!(at("31.02.2026 10:00:00", Culture::DayMonthDot), None);
        assert_eq!(at("21.11.26 17:42:07", Culture::DayMonthDot), None);
        // ISO: local date-times at the offset, RFC 3339 as written in every culture.
        assert_eq!(at("2026-11-21 17:42:07", Culture::Iso).as_deref(), Some("2026-11-21T17:42:07+01:00"));
        assert_eq!(at("2026-11-21T16:42:07.0000000Z", Culture::DayMonthDot).as_deref(), Some("2026-11-21T16:42:07.0000000Z"));
        assert_eq!(at("11/21/2026 5:42:07 PM", Culture::Iso), None);
    }

    #[test]
    fn type_line_is_blanked_and_semicolons_become_commas() {
        let t = prepare("a.csv", "#TYPE Microsoft.ActiveDirectory.Management.ADUser\r\n\"A\";\"B\"\r\n\"x;y\";\"z\"\r\n").unwrap();
        assert_eq!(t, "\n\"A\",\"B\"\r\n\"x;y\",\"z\"\r\n");
        let plain = "\"A\",\"B\"\n\"1\",\"2\"\n";
        assert_eq!(prepare("a.csv", plain).unwrap(), plain);
        let e = prepare("a.csv", "\"A\";\"B\"\n\"1\";2,3\n").unwrap_err();
        assert_eq!(e.location().and_then(|l| l.line), Some(2));
    }
}
