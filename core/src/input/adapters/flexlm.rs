//! FlexNet Publisher (FlexLM) adapters: `lmutil lmstat -a` captures and
//! vendor-daemon debug logs, turned into concurrent `session` signals.
//!
//! FlexNet writes local wall-clock times without a zone and, in both formats,
//! without a year on most lines, so every instant here is rebuilt from context:
//! the capture header of an lmstat run, the `TIMESTAMP` and start-up lines of a
//! debug log, and the option `utc_offset` (the server's offset from UTC; one
//! fixed offset, daylight-saving changes are not followed). The feature name
//! goes into `product` unmapped: the ruleset's `sku_mappings` decide the SKU.
//!
//! Neither format carries serials or directory device ids (only a user login
//! and a client hostname), so these adapters emit no identity facts: a
//! hostname alone pairs with nothing.

use super::{decode_text, parse_utc_offset, Adapter, AdapterOutput, InputFile, Options, Origin, SignalRow};
use crate::canon::time::{Date, Instant, DAY_SECS};
use crate::error::{Error, ErrorCode, Location, Result};
use crate::vocab::RowErrorCode;
use std::collections::BTreeMap;

/// The `source` of every row: both adapters read the same license server.
const SOURCE: &str = "flexlm";

/// A backward step of the clock of at most this many seconds between two log
/// lines is lines written slightly out of order (several daemons share one
/// log) or a daylight-saving fall-back, not a new day: only a larger step is
/// the midnight roll-over.
const ROLLOVER_SLACK_SECS: u32 = 3600;

// ------------------------------------------------------------------------------------------
// Shared text and time helpers.

/// The lines of a text file with their 1-based numbers, `\r` dropped, so CRLF
/// exports (Windows servers) read like LF ones.
fn numbered_lines(text: &str) -> impl Iterator<Item = (u64, &str)> {
    text.split('\n').enumerate().map(|(i, l)| (i as u64 + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// Seconds east of UTC of a validated `±HH:MM`.
fn offset_secs(offset: &str) -> i64 {
    let b = offset.as_bytes();
    let num = |i: usize| b.get(i).map_or(0, |c| c.wrapping_sub(b'0') as i64);
    let v = (num(1) * 10 + num(2)) * 3600 + (num(4) * 10 + num(5)) * 60;
    if b.first() == Some(&b'-') {
        -v
    } else {
        v
    }
}

/// Year, month and day of a date (years 0..=9999, which is all FlexLM writes).
fn ymd(d: Date) -> Option<(i64, u32, u32)> {
    let s = d.to_string();
    if s.len() != 10 {
        return None;
    }
    Some((s.get(..4)?.parse().ok()?, s.get(5..7)?.parse().ok()?, s.get(8..10)?.parse().ok()?))
}

/// A calendar date from its parts; `None` for 2/30, a 29 February outside a
/// leap year, and the like.
fn date_of(y: i64, m: u32, d: u32) -> Option<Date> {
    if !(0..=9999).contains(&y) || m > 12 || d > 31 {
        return None;
    }
    Date::parse(&format!("{y:04}-{m:02}-{d:02}"))
}

/// `M/D/YYYY`, the date format of FlexLM (`TIMESTAMP 11/20/2026`).
fn parse_mdy(s: &str) -> Option<Date> {
    let mut it = s.trim().split('/');
    let (m, d, y) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || !all_digits(m) || !all_digits(d) || !all_digits(y) {
        return None;
    }
    date_of(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `H:MM` or `H:MM:SS` (hours 0–23) as seconds of the day.
fn parse_clock(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) || !parts.iter().all(|p| all_digits(p) && p.len() <= 2) {
        return None;
    }
    if parts.iter().skip(1).any(|p| p.len() != 2) {
        return None;
    }
    let n: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    let (h, m, s) = (*n.first()?, *n.get(1)?, n.get(2).copied().unwrap_or(0));
    (h <= 23 && m <= 59 && s <= 59).then_some(h * 3600 + m * 60 + s)
}

/// Day of the week, 0 = Sunday (1970-01-01 was a Thursday).
fn weekday(d: Date) -> i64 {
    (d.0 + 4).rem_euclid(7)
}

/// The weekday abbreviations lmstat prints, Sunday first.
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn weekday_index(s: &str) -> Option<i64> {
    let l = s.to_ascii_lowercase();
    WEEKDAYS.iter().position(|w| l.len() >= 3 && l.starts_with(w)).map(|i| i as i64)
}

/// A local wall-clock time written as RFC 3339 with the server's offset.
fn local_text(date: Date, secs_of_day: u32, offset: &str) -> String {
    format!("{date}T{:02}:{:02}:{:02}{offset}", secs_of_day / 3600, (secs_of_day / 60) % 60, secs_of_day % 60)
}

/// A point in time as written in the output (local, with offset) and as an
/// instant for comparisons.
#[derive(Debug, Clone)]
struct Stamp {
    text: String,
    at: Instant,
}

impl Stamp {
    fn local(date: Date, secs_of_day: u32, offset: &str) -> Option<Stamp> {
        let text = local_text(date, secs_of_day, offset);
        let at = Instant::parse(&text).ok()?;
        Some(Stamp { text, at })
    }
}

/// The local date and seconds of day of an instant at `offset`.
fn local_parts(at: Instant, offset: &str) -> (Date, u32) {
    let local = at.plus_secs(offset_secs(offset));
    let day = local.date();
    let sod = local.secs_since(Instant::from_unix(day.0 * DAY_SECS));
    (day, sod.clamp(0, DAY_SECS - 1) as u32)
}

fn invalid(path: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidInput, message.into()).at(Location::file(path))
}

/// Per-feature counts reported in notes (`DENIED`, queued requests, skipped
/// uncounted checkouts), in feature order so notes are deterministic.
type FeatureCounts = BTreeMap<String, u64>;

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

// ------------------------------------------------------------------------------------------
// flexlm-lmstat

/// `lmutil lmstat -a` text captures: every license a checkout line shows in use
/// is an open `session` (the capture cannot know when it will end).
///
/// The start times (`start Fri 11/20 9:15`) have no year and no zone: the
/// year comes from the capture instant (a start day later in the year than
/// the capture day was last year's), the zone from `utc_offset`. The capture
/// instant is the file's own header line `Flexible License Manager status on
/// Fri 11/20/2026 10:05` (one per file, so several captures can be imported
/// together); the option `observed_at` stands in for files without it, and a
/// file with neither is an `invalid_input` error, never a guessed clock.
pub(super) struct FlexlmLmstat;

/// What kind of feature a `Users of` section describes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Section {
    /// `(Total of N licenses issued; ...)`: checkouts hold counted tokens.
    Counted,
    /// `(Uncounted, node-locked)`: unlimited use on a host, nothing to count.
    Uncounted,
    /// `(Error: ...)`: lmstat could not report the feature.
    Failed,
}

/// One parsed checkout line of `lmstat -a`.
#[derive(Debug)]
struct Checkout {
    user: String,
    host: String,
    server: String,
    month: u32,
    day: u32,
    weekday: Option<i64>,
    secs: u32,
    quantity: u64,
}

/// The capture header `Flexible License Manager status on Fri 11/20/2026 10:05`.
fn lmstat_header(line: &str) -> Option<std::result::Result<(Date, u32), ()>> {
    let at = line.find("License Manager status on ")?;
    let rest = line.get(at + "License Manager status on ".len()..)?;
    let mut toks: Vec<&str> = rest.split_whitespace().collect();
    if toks.first().is_some_and(|t| t.bytes().all(|b| b.is_ascii_alphabetic())) {
        let dow = toks.remove(0);
        let parsed = (|| {
            let date = parse_mdy(toks.first()?)?;
            let secs = parse_clock(toks.get(1)?)?;
            (weekday_index(dow)? == weekday(date)).then_some((date, secs))
        })();
        return Some(parsed.ok_or(()));
    }
    let parsed = (|| Some((parse_mdy(toks.first()?)?, parse_clock(toks.get(1)?)?)))();
    Some(parsed.ok_or(()))
}

/// `Users of FEATURE:  (...)`: the feature name and its section kind.
fn users_of(line: &str) -> Option<(String, Section)> {
    let t = line.trim();
    if !t.get(..9).is_some_and(|p| p.eq_ignore_ascii_case("users of ")) {
        return None;
    }
    let rest = t.get(9..)?;
    let colon = rest.find(':')?;
    let feature = rest.get(..colon)?.trim();
    if feature.is_empty() {
        return None;
    }
    let tail = rest.get(colon + 1..)?.trim();
    let inner = tail.strip_prefix('(').map(|s| s.strip_suffix(')').unwrap_or(s)).unwrap_or(tail).trim().to_ascii_lowercase();
    let section = if inner.starts_with("total of") {
        Section::Counted
    } else if inner.contains("uncounted") {
        Section::Uncounted
    } else if inner.starts_with("error") {
        Section::Failed
    } else {
        Section::Counted
    };
    Some((feature.to_string(), section))
}

/// Remove every parenthesised group (`(linger: 3600)`, `(v2023.0)`) from a text.
fn without_parens(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// `N licenses` / `1 license` (lmstat's quantity suffix).
fn licenses_count(s: &str) -> Option<u64> {
    let mut it = s.split_whitespace();
    let (n, word) = (it.next()?, it.next()?);
    if it.next().is_some() || !all_digits(n) || !(word == "license" || word == "licenses") {
        return None;
    }
    n.parse().ok()
}

type LineError = (&'static str, RowErrorCode, String);

/// Parse `user host display (vVER) (server/port handle), start Www M/D H:MM[, N licenses][ (linger: S)]`.
///
/// Read from the right: the server group and the optional version group are
/// the last parenthesised groups before `, start`; of the words before them
/// the last is the display, the one before it the host, and the rest the user
/// (so a user name with a space survives).
fn parse_checkout(line: &str) -> std::result::Result<Checkout, LineError> {
    let shape = || {
        (
            "line",
            RowErrorCode::MalformedCheckout,
            "expected `user host display (vVERSION) (server/port handle), start Www M/D H:MM`".to_string(),
        )
    };
    let body = line.trim();
    let at = body.find(", start ").ok_or_else(shape)?;
    let (head, tail) = (body.get(..at).ok_or_else(shape)?.trim_end(), body.get(at + ", start ".len()..).ok_or_else(shape)?);
    let head = head.strip_suffix(')').ok_or_else(shape)?;
    let open = head.rfind('(').ok_or_else(shape)?;
    let server: String = head.get(open + 1..).ok_or_else(shape)?.split_whitespace().collect::<Vec<_>>().join(" ");
    if !server.contains('/') {
        return Err(shape());
    }
    let mut who = head.get(..open).ok_or_else(shape)?.trim_end();
    if let Some(v) = who.strip_suffix(')') {
        if let Some(p) = v.rfind('(') {
            if v.get(p + 1..).is_some_and(|g| g.starts_with('v') || g.starts_with('V')) {
                who = v.get(..p).ok_or_else(shape)?.trim_end();
            }
        }
    }
    let words: Vec<&str> = who.split_whitespace().collect();
    if words.len() < 3 {
        return Err(shape());
    }
    let user = words[..words.len() - 2].join(" ");
    let host = words[words.len() - 2].to_string();

    let tail = without_parens(tail);
    let mut parts = tail.split(',');
    let when: Vec<&str> = parts.next().unwrap_or("").split_whitespace().collect();
    let bad_start = || ("session_start", RowErrorCode::MalformedStart, "the start is not `Www M/D H:MM`".to_string());
    let (dow, md, clock) = match when.as_slice() {
        [dow, md, clock] => (Some(*dow), *md, *clock),
        [md, clock] => (None, *md, *clock),
        _ => return Err(bad_start()),
    };
    let weekday = match dow {
        Some(d) => Some(weekday_index(d).ok_or_else(bad_start)?),
        None => None,
    };
    let mut mdp = md.split('/');
    let (m, d) = (mdp.next().unwrap_or(""), mdp.next().unwrap_or(""));
    if mdp.next().is_some() || !all_digits(m) || !all_digits(d) {
        return Err(bad_start());
    }
    let (month, day) = (m.parse().map_err(|_| bad_start())?, d.parse().map_err(|_| bad_start())?);
    let secs = parse_clock(clock).ok_or_else(bad_start)?;
    let mut quantity = 1;
    for p in parts {
        if let Some(n) = licenses_count(p) {
            if n == 0 {
                return Err(("quantity", RowErrorCode::InvalidQuantity, "a checkout holds at least one license".to_string()));
            }
            quantity = n;
        }
    }
    Ok(Checkout { user, host, server, month, day, weekday, secs, quantity })
}

/// Per-file state of an lmstat capture.
struct LmstatFile<'a> {
    offset: &'a str,
    capture: Stamp,
    capture_date: Date,
    capture_utc: String,
}

impl LmstatFile<'_> {
    /// The start instant of a checkout: this year's date unless that is after
    /// the capture day, then last year's; the printed weekday must agree.
    fn start(&self, c: &Checkout) -> std::result::Result<Stamp, LineError> {
        let (cy, cm, cd) =
            ymd(self.capture_date).ok_or(("session_start", RowErrorCode::MalformedStart, "capture date out of range".to_string()))?;
        let year = if (c.month, c.day) > (cm, cd) { cy - 1 } else { cy };
        let date = date_of(year, c.month, c.day).ok_or((
            "session_start",
            RowErrorCode::MalformedStart,
            format!("the start day is not a date in {year}"),
        ))?;
        if c.weekday.is_some_and(|w| w != weekday(date)) {
            return Err((
                "session_start",
                RowErrorCode::WeekdayMismatch,
                format!("the start weekday does not match {date}: the checkout is older than a year or the capture date is wrong"),
            ));
        }
        let stamp = Stamp::local(date, c.secs, self.offset).ok_or((
            "session_start",
            RowErrorCode::MalformedStart,
            "the start is not a valid instant".to_string(),
        ))?;
        if stamp.at > self.capture.at {
            return Err(("session_start", RowErrorCode::StartAfterCapture, "the checkout starts after the capture instant".to_string()));
        }
        Ok(stamp)
    }
}

impl Adapter for FlexlmLmstat {
    fn name(&self) -> &'static str {
        "flexlm-lmstat"
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
        let fallback = match options.get("observed_at").map(|v| v.trim()) {
            None => None,
            Some(v) => match Instant::parse(v) {
                Ok(at) => Some(Stamp { text: v.to_string(), at }),
                Err(_) => {
                    return Err(Error::new(
                        ErrorCode::InvalidInput,
                        "option `observed_at` must be an RFC 3339 instant with offset, e.g. 2026-11-20T10:05:00+01:00",
                    ))
                }
            },
        };
        let mut out = AdapterOutput::for_files(files.len());
        for (index, file) in files.iter().enumerate() {
            let text = decode_text(&file.path, &file.bytes)?;
            lmstat_file(index, file, &text, &offset, fallback.as_ref(), &mut out)?;
        }
        Ok(out)
    }
}

/// Read one file of captures into `out`. A file may hold several captures
/// one after the other (a polling script appending to one file): each
/// capture header starts a new capture. A file that is not lmstat output, or
/// whose usage cannot be dated, is an error (nothing of it is used).
fn lmstat_file(index: usize, file: &InputFile, text: &str, offset: &str, fallback: Option<&Stamp>, out: &mut AdapterOutput) -> Result<()> {
    let path = file.path.as_str();
    let recognised = numbered_lines(text).any(|(_, line)| {
        users_of(line).is_some() || line.trim_start().starts_with("License server status:") || lmstat_header(line).is_some()
    });
    if !recognised {
        return Err(invalid(
            path,
            "not `lmutil lmstat -a` output: no `Flexible License Manager status on` header, `License server status:` or `Users of` line",
        ));
    }
    let mut ctx: Option<LmstatFile<'_>> = None;
    let mut fallback_used = false;
    let mut headers = 0u64;
    let mut feature: Option<(String, Section)> = None;
    let mut uncounted = FeatureCounts::new();
    let mut queued = FeatureCounts::new();
    let mut failed = FeatureCounts::new();
    let mut any_feature = false;
    let at_capture = |capture: Stamp| {
        let (capture_date, _) = local_parts(capture.at, offset);
        LmstatFile { offset, capture_utc: capture.at.to_string(), capture, capture_date }
    };
    for (n, line) in numbered_lines(text) {
        match lmstat_header(line) {
            Some(Ok((date, secs))) => {
                let capture = Stamp::local(date, secs, offset).ok_or_else(|| invalid(path, "capture header is not a valid instant"))?;
                ctx = Some(at_capture(capture));
                headers += 1;
                feature = None;
                continue;
            }
            Some(Err(())) => {
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    "capture header is not `Flexible License Manager status on Www M/D/YYYY H:MM`",
                )
                .at(Location::line(path, n)))
            }
            None => {}
        }
        if let Some((name, section)) = users_of(line) {
            if ctx.is_none() {
                let Some(fb) = fallback else {
                    return Err(Error::new(
                        ErrorCode::InvalidInput,
                        "usage without a `Flexible License Manager status on ...` capture header: give option `observed_at` (RFC 3339 instant of the capture)",
                    )
                    .at(Location::line(path, n)));
                };
                ctx = Some(at_capture(fb.clone()));
                fallback_used = true;
            }
            any_feature = true;
            if section == Section::Failed {
                failed.entry(name.clone()).or_default();
            }
            feature = Some((name, section));
            continue;
        }
        let t = line.trim_start();
        if t.starts_with("License server status:") || t.starts_with("Feature usage info:") {
            feature = None; // a new server's block: its lines are not checkouts of the last feature
            continue;
        }
        let (Some((name, section)), Some(ctx)) = (&feature, &ctx) else { continue };
        let origin = Origin { file: index, line: n };
        let is_checkout = t.contains(", start ");
        let is_queued = !is_checkout && t.contains(" queued for ");
        if !is_checkout && !is_queued {
            continue; // feature details, `floating license`, RESERVATION lines
        }
        out.records[index] += 1;
        if is_queued {
            *queued.entry(name.clone()).or_default() += 1;
            continue;
        }
        match section {
            Section::Counted => {}
            Section::Uncounted => {
                *uncounted.entry(name.clone()).or_default() += 1;
                continue;
            }
            Section::Failed => {
                *failed.entry(name.clone()).or_default() += 1;
                continue;
            }
        }
        let parsed = parse_checkout(t).and_then(|c| ctx.start(&c).map(|s| (c, s)));
        match parsed {
            Err((column, code, message)) => out.reject(origin, column, code, message),
            Ok((c, start)) => {
                let start_key = start.text.get(..16).unwrap_or(&start.text).to_string();
                let raw_id = format!("lmstat|{}|{}|{}|{}|{}|{}", ctx.capture_utc, c.server, name, c.user, c.host, start_key);
                out.signals.push((
                    origin,
                    SignalRow {
                        source: SOURCE.to_string(),
                        raw_id,
                        observed_at: ctx.capture.text.clone(),
                        product: name.clone(),
                        kind: "session".to_string(),
                        user: c.user,
                        device_name: c.host,
                        session_start: start.text,
                        quantity: c.quantity.to_string(),
                        ..Default::default()
                    },
                ));
            }
        }
    }
    if fallback_used {
        out.notes.push((index, "usage before the first capture header dated by option `observed_at`".to_string()));
    } else if fallback.is_some() && headers > 0 {
        out.notes.push((index, "option `observed_at` not used: the file has its own capture header".to_string()));
    }
    if !any_feature {
        out.notes.push((index, "no `Users of` line: the capture shows no feature usage".to_string()));
    }
    for (name, n) in uncounted {
        out.notes.push((index, format!("feature `{name}` is uncounted (node-locked): {} not counted", plural(n, "checkout", "checkouts"))));
    }
    for (name, n) in failed {
        let skipped = if n > 0 { format!(" ({} skipped)", plural(n, "checkout line", "checkout lines")) } else { String::new() };
        out.notes.push((index, format!("feature `{name}`: lmstat reports an error instead of its usage{skipped}")));
    }
    for (name, n) in queued {
        out.notes.push((index, format!("unmet demand: {} for feature `{name}`", plural(n, "queued request", "queued requests"))));
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// flexlm-log

/// Vendor-daemon debug logs (`lmgrd.log`, `DEBUGLOG` files): each `OUT:`
/// matched with the next `IN:` of the same feature, user and host is a closed
/// `session`; an `OUT:` still open at the end of the log is an open one.
///
/// Lines carry only `H:MM:SS`: the date comes from `TIMESTAMP M/D/YYYY` lines,
/// the `... started on HOST (...) (M/D/YYYY)` start-up line and `Server's
/// System Date and Time:`, and moves to the next day when the clock steps
/// back by more than an hour (midnight). Lines written with `-datestamp`
/// (`2026-11-20T09:15:02+01:00 (daemon) ...`) carry their own date. Files are
/// read as one log in path order (name rotated logs so that path order is
/// chronological); a checkout open at the end of one file may be checked in
/// in the next.
pub(super) struct FlexlmLog;

/// A line's time of day as written.
#[derive(Debug, Clone)]
enum Clock {
    /// `H:MM:SS`, seconds of the day.
    Classic(u32),
    /// `YYYY-MM-DDTHH:MM:SS[offset]` (`-datestamp`): a full stamp.
    Dated(Date, u32, Stamp),
    /// Time-shaped but out of range (`25:00:00`).
    Invalid,
}

/// Split `H:MM:SS (daemon) message` into its parts.
fn envelope<'l>(line: &'l str, offset: &str) -> Option<(Clock, &'l str, &'l str)> {
    let t = line.trim_start();
    let sp = t.find(' ')?;
    let (ts, rest) = (t.get(..sp)?, t.get(sp + 1..)?.trim_start());
    let rest = rest.strip_prefix('(')?;
    let close = rest.find(')')?;
    let daemon = rest.get(..close)?;
    if daemon.is_empty() || daemon.contains(char::is_whitespace) {
        return None;
    }
    let message = rest.get(close + 1..)?.trim();
    let clock = if ts.bytes().all(|b| b.is_ascii_digit() || b == b':') && ts.bytes().filter(|b| *b == b':').count() == 2 {
        parse_clock(ts).map_or(Clock::Invalid, Clock::Classic)
    } else if ts.len() >= 19 && ts.as_bytes().get(10) == Some(&b'T') && ts.as_bytes().get(4) == Some(&b'-') {
        dated_clock(ts, offset).unwrap_or(Clock::Invalid)
    } else {
        return None;
    };
    Some((clock, daemon, message))
}

/// A `-datestamp` time: `YYYY-MM-DDTHH:MM:SS` with `Z`, `±HH:MM`, `±HHMM` or
/// no offset (then `utc_offset`).
fn dated_clock(ts: &str, offset: &str) -> Option<Clock> {
    let date = Date::parse(ts.get(..10)?)?;
    let secs = parse_clock(ts.get(11..19)?)?;
    let zone = ts.get(19..)?;
    let zone = match zone.len() {
        0 => offset.to_string(),
        1 if zone.eq_ignore_ascii_case("z") => "Z".to_string(),
        5 => format!("{}:{}", zone.get(..3)?, zone.get(3..)?),
        _ => zone.to_string(),
    };
    let text = format!("{}{zone}", ts.get(..19)?);
    let at = Instant::parse(&text).ok()?;
    Some(Clock::Dated(date, secs, Stamp { text, at }))
}

/// `OUT:`/`IN:`/`DENIED:`/`QUEUED:` details.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Usage {
    feature: String,
    user: String,
    host: String,
    quantity: Option<u64>,
}

/// `(N licenses)` / `(1 license)` anywhere in the text, or the verbose
/// form's `(N)` right after `@host`.
fn quantity_in(s: &str) -> Option<u64> {
    let mut rest = s;
    while let Some(p) = rest.find('(') {
        let after = rest.get(p + 1..)?;
        let close = after.find(')')?;
        let inner = after.get(..close)?.trim();
        if let Some(n) = licenses_count(inner) {
            return Some(n);
        }
        rest = after;
    }
    None
}

/// Parse the part after `OUT: ` (and `IN: `, `DENIED: `, `QUEUED: `):
/// `"FEATURE" user@host [cd] (N licenses) (reason)`, the unquoted
/// `FEATURE user@host`, the legacy `"FEATURE" user (N licenses)` and the
/// verbose `"FEATURE" @host (N) ^^^ ver user ip ... ^^^`. The user is
/// everything before the last `@` (a login with a space survives).
fn parse_usage(body: &str) -> Option<Usage> {
    let body = body.trim();
    let quotes = ['"', '\u{201C}', '\u{201D}'];
    let (feature, rest) = if body.starts_with(quotes) {
        let first = body.chars().next()?;
        let inner = body.get(first.len_utf8()..)?;
        let close = inner.find(quotes)?;
        let closing = inner.get(close..)?.chars().next()?;
        (inner.get(..close)?, inner.get(close + closing.len_utf8()..)?)
    } else {
        let sp = body.find(char::is_whitespace)?;
        (body.get(..sp)?, body.get(sp..)?)
    };
    let feature = feature.trim();
    if feature.is_empty() {
        return None;
    }
    let rest = rest.trim_start();
    if let Some(v) = rest.find("^^^") {
        let who = rest.get(..v)?.trim();
        let host = who.strip_prefix('@')?.split(|c: char| c.is_whitespace() || c == '(').next()?.trim();
        let verbose = rest.get(v + 3..)?;
        let user = verbose.split_whitespace().nth(1)?;
        let quantity = who.rfind('(').and_then(|p| who.get(p + 1..)).and_then(|g| g.strip_suffix(')')).and_then(|g| {
            if all_digits(g.trim()) {
                g.trim().parse().ok()
            } else {
                licenses_count(g)
            }
        });
        return Some(Usage { feature: feature.to_string(), user: user.to_string(), host: host.to_string(), quantity });
    }
    let cut = rest.find(['(', '[']).unwrap_or(rest.len());
    let who = rest.get(..cut)?.trim();
    let (user, host) = match who.rfind('@') {
        Some(p) => (who.get(..p)?.trim(), who.get(p + 1..)?.trim()),
        None => (who, ""),
    };
    if user.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    Some(Usage { feature: feature.to_string(), user: user.to_string(), host: host.to_string(), quantity: quantity_in(rest) })
}

/// The feature of a `DENIED:` line: the usual `"FEATURE" user@host (reason)`
/// or the legacy `DENIED: N FEATURE to user`.
fn denied_feature(body: &str) -> Option<String> {
    let toks: Vec<&str> = body.split_whitespace().collect();
    if toks.len() >= 3 && all_digits(toks[0]) && toks.get(2) == Some(&"to") {
        return Some(toks[1].to_string());
    }
    parse_usage(body).map(|u| u.feature).or_else(|| toks.first().map(|t| t.trim_matches('"').to_string()))
}

/// A date named by the message itself: `TIMESTAMP 11/20/2026`, the lmgrd
/// start-up line `... started on HOST (linux) (11/20/2026)`, or `Server's
/// System Date and Time: Fri Nov 20 2026 09:00:00 CET`.
fn message_date(message: &str) -> Option<Date> {
    if let Some(rest) = message.strip_prefix("TIMESTAMP ") {
        return parse_mdy(rest);
    }
    if is_server_start(message) {
        let p = message.rfind('(')?;
        return parse_mdy(message.get(p + 1..)?.strip_suffix(')')?);
    }
    if let Some(p) = message.find("System Date and Time:") {
        let toks: Vec<&str> = message.get(p + "System Date and Time:".len()..)?.split_whitespace().collect();
        const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
        let month = toks.get(1)?.to_ascii_lowercase();
        let m = MONTHS.iter().position(|x| month.starts_with(x))? as u32 + 1;
        let (d, y) = (toks.get(2)?, toks.get(3)?);
        if !all_digits(d) || !all_digits(y) {
            return None;
        }
        return date_of(y.parse().ok()?, m, d.parse().ok()?);
    }
    None
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// lmgrd's start-up banner: `FlexNet Licensing (v11.19.6.0 build ...) started on HOST ...`.
fn is_server_start(message: &str) -> bool {
    (starts_with_ci(message, "FlexNet Licensing") || starts_with_ci(message, "FLEXlm")) && message.contains(" started on ")
}

/// Which checkouts a start-up or shutdown line ends.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ends {
    /// lmgrd started, stopped or exited: every vendor daemon went with it.
    All,
    /// One vendor daemon (re)started or exited: its checkouts are gone.
    Daemon(String),
}

/// A vendor daemon's name without the `_N` suffix of a forked copy.
fn base_daemon(d: &str) -> &str {
    match d.rfind('_') {
        Some(p) if d.get(p + 1..).is_some_and(all_digits) => d.get(..p).unwrap_or(d),
        _ => d,
    }
}

fn is_manager(daemon: &str) -> bool {
    daemon.eq_ignore_ascii_case("lmgrd") || daemon.eq_ignore_ascii_case("lmadmin")
}

/// Server start, restart, shutdown and exit lines, and what they end.
fn server_event(daemon: &str, message: &str) -> Option<Ends> {
    let stop = starts_with_ci(message, "Shutting down")
        || starts_with_ci(message, "SHUTDOWN")
        || starts_with_ci(message, "EXITING DUE TO SIGNAL")
        || message.contains("will now shut down all the vendor daemons");
    if is_manager(daemon) {
        if is_server_start(message) || stop {
            return Some(Ends::All);
        }
        // lmgrd (re)starting one vendor daemon: `Started vendord (internet tcp_port ...)`.
        for prefix in ["Started ", "REStarted "] {
            if let Some(rest) = message.strip_prefix(prefix) {
                let name = rest.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
                if !name.is_empty() {
                    return Some(Ends::Daemon(base_daemon(name).to_string()));
                }
            }
        }
        return None;
    }
    if stop || starts_with_ci(message, "Server started on") {
        return Some(Ends::Daemon(base_daemon(daemon).to_string()));
    }
    None
}

/// An `OUT:` not yet matched with its `IN:`.
#[derive(Debug)]
struct OpenCheckout {
    usage: Usage,
    quantity: u64,
    daemon: String,
    start: Stamp,
    origin: Origin,
    raw_id: String,
}

/// Counts per file, turned into notes at the end.
#[derive(Debug, Default)]
struct LogNotes {
    denied: FeatureCounts,
    queued: FeatureCounts,
    undated_out: u64,
    unmatched_in: u64,
    instant: u64,
    events: Vec<String>,
}

/// The running state of a log read across its files.
struct LogReader<'a> {
    offset: &'a str,
    date: Option<Date>,
    prev_secs: Option<u32>,
    latest: Option<Stamp>,
    /// Open checkouts by (feature, user), each list in checkout order: an
    /// `IN:` looks only at its own feature and user.
    open: BTreeMap<(String, String), Vec<OpenCheckout>>,
    notes: Vec<LogNotes>,
    out: AdapterOutput,
}

impl LogReader<'_> {
    /// Date a line: a date named by the line wins, else the running date,
    /// moved to the next day when the clock steps back past the slack.
    fn stamp(&mut self, clock: &Clock, named: Option<Date>) -> Option<Stamp> {
        match clock {
            Clock::Invalid => None,
            Clock::Dated(date, secs, stamp) => {
                self.date = Some(*date);
                self.prev_secs = Some(*secs);
                Some(stamp.clone())
            }
            Clock::Classic(secs) => {
                if let Some(d) = named {
                    self.date = Some(d);
                } else if let (Some(d), Some(prev)) = (self.date, self.prev_secs) {
                    if secs + ROLLOVER_SLACK_SECS < prev {
                        self.date = Some(Date(d.0 + 1));
                    }
                }
                self.prev_secs = Some(*secs);
                Stamp::local(self.date?, *secs, self.offset)
            }
        }
    }

    /// Close `c` at `end`: a session, unless it has no duration (checked in
    /// within the second it was checked out, or a line written out of order
    /// before it), which has no interval to count.
    fn close(&mut self, c: OpenCheckout, end: &Stamp) {
        if end.at <= c.start.at {
            if let Some(n) = self.notes.get_mut(c.origin.file) {
                n.instant += 1;
            }
            return;
        }
        let row = session_row(c.raw_id, &c.usage, c.quantity, &c.start, Some(end), end);
        self.out.signals.push((c.origin, row));
    }

    fn end_checkouts(&mut self, ends: &Ends, at: &Stamp, file: usize, line: u64) {
        let mut gone = Vec::new();
        for list in self.open.values_mut() {
            let (out, kept): (Vec<_>, Vec<_>) = std::mem::take(list).into_iter().partition(|c| match ends {
                Ends::All => true,
                Ends::Daemon(d) => &c.daemon == d,
            });
            *list = kept;
            gone.extend(out);
        }
        self.open.retain(|_, list| !list.is_empty());
        gone.sort_by_key(|c| c.origin);
        let n = gone.len() as u64;
        for c in gone {
            self.close(c, at);
        }
        if n > 0 {
            if let Some(notes) = self.notes.get_mut(file) {
                let what = match ends {
                    Ends::All => "license server start or shutdown".to_string(),
                    Ends::Daemon(d) => format!("vendor daemon `{d}` start or exit"),
                };
                notes.events.push(format!("line {line}: {what} ended {}", plural(n, "open checkout", "open checkouts")));
            }
        }
    }

    /// The checkout an `IN:` returns: same feature and user, same host (any
    /// host for the legacy `IN:` without one); of those the oldest holding
    /// the same number of licenses, else the oldest.
    fn take_match(&mut self, u: &Usage) -> Option<OpenCheckout> {
        let list = self.open.get_mut(&(u.feature.clone(), u.user.clone()))?;
        let fits = |c: &OpenCheckout| u.host.is_empty() || c.usage.host == u.host;
        let want = u.quantity.unwrap_or(1);
        let pos = list.iter().position(|c| fits(c) && c.quantity == want).or_else(|| list.iter().position(fits))?;
        let taken = list.remove(pos);
        if list.is_empty() {
            self.open.remove(&(u.feature.clone(), u.user.clone()));
        }
        Some(taken)
    }
}

fn session_row(raw_id: String, u: &Usage, quantity: u64, start: &Stamp, end: Option<&Stamp>, observed: &Stamp) -> SignalRow {
    SignalRow {
        source: SOURCE.to_string(),
        raw_id,
        observed_at: observed.text.clone(),
        product: u.feature.clone(),
        kind: "session".to_string(),
        user: u.user.clone(),
        device_name: u.host.clone(),
        session_start: start.text.clone(),
        session_end: end.map(|e| e.text.clone()).unwrap_or_default(),
        quantity: quantity.to_string(),
        ..Default::default()
    }
}

/// The name a file's raw ids carry: its base name, or its whole path when two
/// input files share a base name. Base names keep raw ids equal whether a log
/// is imported from a bundle folder or from the command line.
fn file_keys(files: &[InputFile]) -> Vec<String> {
    let base = |p: &str| p.rsplit(['/', '\\']).next().unwrap_or(p).to_string();
    let bases: Vec<String> = files.iter().map(|f| base(&f.path)).collect();
    files.iter().zip(&bases).map(|(f, b)| if bases.iter().filter(|x| *x == b).count() > 1 { f.path.clone() } else { b.clone() }).collect()
}

impl Adapter for FlexlmLog {
    fn name(&self) -> &'static str {
        "flexlm-log"
    }
    fn version(&self) -> &'static str {
        "1.0.0"
    }
    fn source(&self) -> &'static str {
        SOURCE
    }
    fn option_keys(&self) -> &'static [&'static str] {
        &["start_date", "utc_offset"]
    }

    fn run(&self, files: &[InputFile], options: &Options) -> Result<AdapterOutput> {
        let offset = parse_utc_offset("utc_offset", options.get("utc_offset"))?;
        let start_date = match options.get("start_date").map(|v| v.trim()) {
            None => None,
            Some(v) => Some(Date::parse(v).ok_or_else(|| {
                Error::new(ErrorCode::InvalidInput, "option `start_date` must be a date YYYY-MM-DD (the date of the log's first line)")
            })?),
        };
        let keys = file_keys(files);
        let mut r = LogReader {
            offset: &offset,
            date: start_date,
            prev_secs: None,
            latest: None,
            open: BTreeMap::new(),
            notes: (0..files.len()).map(|_| LogNotes::default()).collect(),
            out: AdapterOutput::for_files(files.len()),
        };
        for (index, file) in files.iter().enumerate() {
            let text = decode_text(&file.path, &file.bytes)?;
            log_file(&mut r, index, file, &keys[index], &text)?;
        }
        // Checkouts never checked in: open sessions, observed at the log's last time.
        let mut open: Vec<OpenCheckout> = std::mem::take(&mut r.open).into_values().flatten().collect();
        open.sort_by_key(|c| c.origin);
        if let (Some(last), false) = (r.latest.clone(), open.is_empty()) {
            let n = open.len() as u64;
            for c in open {
                let observed = if c.start.at > last.at { c.start.clone() } else { last.clone() };
                let row = session_row(c.raw_id, &c.usage, c.quantity, &c.start, None, &observed);
                r.out.signals.push((c.origin, row));
            }
            if let Some(notes) = r.notes.last_mut() {
                notes.events.push(format!("{} still open at the end of the log", plural(n, "checkout", "checkouts")));
            }
        }
        let mut out = r.out;
        for (index, n) in r.notes.into_iter().enumerate() {
            let mut push = |s: String| out.notes.push((index, s));
            for e in n.events {
                push(e);
            }
            if n.undated_out > 0 {
                push(format!(
                    "{} before the first date of the log (no TIMESTAMP yet) rejected: give option `start_date`",
                    plural(n.undated_out, "checkout line", "checkout lines")
                ));
            }
            if n.unmatched_in > 0 {
                push(format!(
                    "{} without a matching checkout ignored (checked out before the log starts)",
                    plural(n.unmatched_in, "check-in line", "check-in lines")
                ));
            }
            if n.instant > 0 {
                push(format!(
                    "{} with no duration (checked in within the same second) skipped",
                    plural(n.instant, "checkout", "checkouts")
                ));
            }
            for (feature, k) in n.denied {
                push(format!("unmet demand: {} for feature `{feature}`", plural(k, "DENIED request", "DENIED requests")));
            }
            for (feature, k) in n.queued {
                push(format!("unmet demand: {} for feature `{feature}`", plural(k, "QUEUED request", "QUEUED requests")));
            }
        }
        out.signals.sort_by_key(|s| s.0);
        Ok(out)
    }
}

/// Read one file of the log into the running state.
fn log_file(r: &mut LogReader<'_>, index: usize, file: &InputFile, key: &str, text: &str) -> Result<()> {
    let path = file.path.as_str();
    if text.trim().is_empty() {
        r.out.notes.push((index, "empty log file".to_string()));
        return Ok(());
    }
    let before = r.latest.as_ref().map(|s| s.at);
    let mut order_checked = index == 0 || before.is_none();
    let mut recognised = false;
    for (n, line) in numbered_lines(text) {
        let Some((clock, daemon, message)) = envelope(line, r.offset) else { continue };
        recognised = true;
        let named = message_date(message);
        let stamp = r.stamp(&clock, named);
        if let Some(s) = &stamp {
            if !order_checked && (named.is_some() || matches!(clock, Clock::Dated(..))) {
                order_checked = true;
                if let Some(b) = before {
                    if s.at.plus_secs(i64::from(ROLLOVER_SLACK_SECS)) < b {
                        return Err(Error::new(
                            ErrorCode::InvalidInput,
                            "log files are not in chronological path order: this date is before the end of the previous file",
                        )
                        .at(Location::line(path, n)));
                    }
                }
            }
            if !matches!(&r.latest, Some(l) if l.at >= s.at) {
                r.latest = Some(s.clone());
            }
        }
        let origin = Origin { file: index, line: n };
        let (verb, body) = match message.split_once(": ") {
            Some((v, b)) if matches!(v, "OUT" | "IN" | "DENIED" | "QUEUED" | "DEQUEUED") => (v, b),
            _ => {
                if let (Some(ends), Some(s)) = (server_event(daemon, message), &stamp) {
                    r.end_checkouts(&ends, s, index, n);
                }
                continue;
            }
        };
        r.out.records[index] += 1;
        let notes = &mut r.notes[index];
        match verb {
            "DENIED" => {
                let f = denied_feature(body).unwrap_or_default();
                *notes.denied.entry(f).or_default() += 1;
            }
            "QUEUED" => {
                let f = parse_usage(body).map(|u| u.feature).unwrap_or_default();
                *notes.queued.entry(f).or_default() += 1;
            }
            "DEQUEUED" => {}
            "OUT" => {
                let Some(usage) = parse_usage(body) else {
                    r.out.reject(origin, "line", RowErrorCode::MalformedCheckout, "an OUT line needs `\"FEATURE\" user@host`");
                    continue;
                };
                let quantity = usage.quantity.unwrap_or(1);
                if quantity == 0 {
                    r.out.reject(origin, "quantity", RowErrorCode::InvalidQuantity, "a checkout holds at least one license");
                    continue;
                }
                let Some(start) = stamp else {
                    if matches!(clock, Clock::Invalid) {
                        r.out.reject(origin, "session_start", RowErrorCode::MalformedTime, "the time is not H:MM:SS");
                    } else {
                        notes.undated_out += 1;
                        r.out.reject(
                            origin,
                            "session_start",
                            RowErrorCode::UndatedLine,
                            "checkout before the first date of the log (no TIMESTAMP yet): give option `start_date`",
                        );
                    }
                    continue;
                };
                r.open.entry((usage.feature.clone(), usage.user.clone())).or_default().push(OpenCheckout {
                    usage,
                    quantity,
                    daemon: base_daemon(daemon).to_string(),
                    start,
                    origin,
                    raw_id: format!("{key}:{n}"),
                });
            }
            _ => {
                // IN
                let Some(usage) = parse_usage(body) else {
                    r.out.reject(origin, "line", RowErrorCode::MalformedCheckin, "an IN line needs `\"FEATURE\" user@host`");
                    continue;
                };
                let Some(end) = stamp else {
                    if matches!(clock, Clock::Invalid) {
                        r.out.reject(origin, "session_end", RowErrorCode::MalformedTime, "the time is not H:MM:SS");
                    } else {
                        notes.unmatched_in += 1;
                    }
                    continue;
                };
                match r.take_match(&usage) {
                    Some(c) => r.close(c, &end),
                    None => r.notes[index].unmatched_in += 1,
                }
            }
        }
    }
    if !recognised {
        return Err(invalid(path, "not a FlexNet debug log: no line of the form `H:MM:SS (daemon) message`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_dates() {
        assert_eq!(parse_clock("9:15"), Some(9 * 3600 + 15 * 60));
        assert_eq!(parse_clock(" 9:15"), None);
        assert_eq!(parse_clock("23:59:59"), Some(86_399));
        assert_eq!(parse_clock("24:00:00"), None);
        assert_eq!(parse_clock("9:5:00"), None);
        assert_eq!(parse_mdy("11/20/2026").map(|d| d.to_string()).as_deref(), Some("2026-11-20"));
        assert_eq!(parse_mdy("2/29/2026"), None);
        assert_eq!(weekday(Date::parse("2026-11-20").unwrap_or(Date(0))), 5);
        assert_eq!(offset_secs("-05:30"), -(5 * 3600 + 30 * 60));
    }

    #[test]
    fn usage_shapes() {
        let u = |f: &str, user: &str, host: &str, q: Option<u64>| Usage {
            feature: f.into(),
            user: user.into(),
            host: host.into(),
            quantity: q,
        };
        assert_eq!(parse_usage("\"f1\" alice@pc [job-42] (3 licenses)"), Some(u("f1", "alice", "pc", Some(3))));
        assert_eq!(parse_usage("f3 carol@host"), Some(u("f3", "carol", "host", None)));
        assert_eq!(parse_usage("\"f2\" bob (2 licenses)"), Some(u("f2", "bob", "", Some(2))));
        assert_eq!(parse_usage("\"f\" jq@gbpc  (INACTIVE)"), Some(u("f", "jq", "gbpc", None)));
        assert_eq!(
            parse_usage("\"f1\" @host (2) ^^^ 1.0 alice 127.0.0.1 29865 0x12CE 1 3 proj 11 19 8-8-2023 8:41:56 YES ^^^"),
            Some(u("f1", "alice", "host", Some(2)))
        );
        assert_eq!(parse_usage("\u{201C}f\u{201D} John Smith@ws-1 (1 license)"), Some(u("f", "John Smith", "ws-1", Some(1))));
        assert_eq!(parse_usage("\"\" a@b"), None);
        assert_eq!(denied_feature("2 f4 to dave"), Some("f4".into()));
    }

    #[test]
    fn server_events() {
        assert_eq!(
            server_event("lmgrd", "FlexNet Licensing (v11.19.6.0 build 1 x64_lsb) started on lmhost (linux) (11/20/2026)"),
            Some(Ends::All)
        );
        assert_eq!(server_event("lmgrd", "Shutting down cadvend pid=4321 because of signal 15"), Some(Ends::All));
        assert_eq!(server_event("lmgrd", "REStarted cadvend (internet tcp_port 41234 pid 5544)"), Some(Ends::Daemon("cadvend".into())));
        assert_eq!(server_event("cadvend_2", "EXITING DUE TO SIGNAL 15 Exit reason 2"), Some(Ends::Daemon("cadvend".into())));
        assert_eq!(server_event("cadvend", "Server started on lmhost for: A B"), Some(Ends::Daemon("cadvend".into())));
        assert_eq!(server_event("cadvend", "FlexNet Licensing version v11.19.6.0 build 1 x64_lsb"), None);
        assert_eq!(server_event("lmgrd", "Starting vendor daemons ..."), None);
    }
}
