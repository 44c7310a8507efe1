//! Instants and dates, parsed strictly and without a clock.
//!
//! The core never asks what time it is: every "now" is a parameter. Instants
//! are RFC 3339 with a mandatory offset (`Z`, `z`, `±HH:MM`, `-00:00`),
//! normalised to UTC and kept to the nanosecond (more than nine fractional
//! digits are truncated, DESIGN A10). A leap second (`:60`), a missing offset
//! or a space in place of `T` is rejected. A day is 86 400 s.

use std::fmt;

use crate::vocab::RowErrorCode;

/// Nanoseconds in a second.
const NANOS: i128 = 1_000_000_000;
/// Nanoseconds in a second, as the sub-second field's type.
const NANOS_U32: u32 = 1_000_000_000;
/// Seconds in a day (no leap seconds, DESIGN A9).
pub(crate) const DAY_SECS: i64 = 86_400;

/// A UTC instant with nanosecond precision, ordered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    sub: u32,
}

/// Why an instant did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstantError {
    /// Not RFC 3339 (wrong shape, out-of-range field, leap second).
    Malformed,
    /// A well-formed date-time with no UTC offset.
    NoOffset,
}

impl InstantError {
    /// The stable row-error code for this failure.
    pub fn code(self) -> RowErrorCode {
        match self {
            InstantError::Malformed => RowErrorCode::MalformedInstant,
            InstantError::NoOffset => RowErrorCode::MissingOffset,
        }
    }
}

/// A calendar date (proleptic Gregorian), as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i64);

impl Instant {
    /// From whole seconds since the epoch.
    pub fn from_unix(secs: i64) -> Instant {
        Instant { secs, sub: 0 }
    }

    /// From nanoseconds since the epoch; `None` when the whole seconds do not
    /// fit an `i64` (never a wrapped value).
    fn from_nanos(nanos: i128) -> Option<Instant> {
        let secs = i64::try_from(nanos.div_euclid(NANOS)).ok()?;
        Some(Instant { secs, sub: nanos.rem_euclid(NANOS) as u32 })
    }

    /// The earliest representable instant.
    pub const MIN: Instant = Instant { secs: i64::MIN, sub: 0 };
    /// The latest representable instant.
    pub const MAX: Instant = Instant { secs: i64::MAX, sub: NANOS_U32 - 1 };

    /// Parse an RFC 3339 instant.
    ///
    /// ```
    /// use eucora_license_core::internal::time::{Instant, InstantError};
    /// let a = Instant::parse("2026-11-22T07:00:00+01:00").unwrap();
    /// assert_eq!(a.to_string(), "2026-11-22T06:00:00Z");
    /// assert_eq!(Instant::parse("2026-11-22t06:00:00.500z").unwrap().to_string(), "2026-11-22T06:00:00.5Z");
    /// assert_eq!(Instant::parse("2026-11-22T06:00:00"), Err(InstantError::NoOffset));
    /// assert_eq!(Instant::parse("2026-11-22 06:00:00Z"), Err(InstantError::Malformed));
    /// ```
    pub fn parse(s: &str) -> Result<Instant, InstantError> {
        let b = s.as_bytes();
        if b.len() < 19 {
            return Err(InstantError::Malformed);
        }
        let date = parse_date_bytes(&b[..10]).ok_or(InstantError::Malformed)?;
        if b[10] != b'T' && b[10] != b't' {
            return Err(InstantError::Malformed);
        }
        if b[13] != b':' || b[16] != b':' {
            return Err(InstantError::Malformed);
        }
        let hh = two(b[11], b[12]).ok_or(InstantError::Malformed)?;
        let mi = two(b[14], b[15]).ok_or(InstantError::Malformed)?;
        let ss = two(b[17], b[18]).ok_or(InstantError::Malformed)?;
        if hh > 23 || mi > 59 || ss > 59 {
            return Err(InstantError::Malformed);
        }
        let mut i = 19;
        let mut frac: u32 = 0;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let start = i;
            let mut digits = 0;
            while i < b.len() && b[i].is_ascii_digit() {
                if digits < 9 {
                    frac = frac * 10 + (b[i] - b'0') as u32;
                    digits += 1;
                }
                i += 1;
            }
            if i == start {
                return Err(InstantError::Malformed);
            }
            while digits < 9 {
                frac *= 10;
                digits += 1;
            }
        }
        let offset_secs: i64 = match b.get(i) {
            None => return Err(InstantError::NoOffset),
            Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
            Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                let oh = two(b[i + 1], b[i + 2]).ok_or(InstantError::Malformed)?;
                let om = two(b[i + 4], b[i + 5]).ok_or(InstantError::Malformed)?;
                if oh > 23 || om > 59 {
                    return Err(InstantError::Malformed);
                }
                let v = (oh * 3600 + om * 60) as i64;
                if sign == b'+' {
                    v
                } else {
                    -v
                }
            }
            _ => return Err(InstantError::Malformed),
        };
        let secs = date.0 * DAY_SECS + (hh * 3600 + mi * 60 + ss) as i64 - offset_secs;
        debug_assert!(frac < NANOS_U32);
        Ok(Instant { secs, sub: frac })
    }

    /// The UTC calendar date of this instant.
    pub fn date(self) -> Date {
        Date(self.secs.div_euclid(DAY_SECS))
    }

    /// This instant moved by whole days (negative = earlier), or `None` when
    /// the result is not representable. The arithmetic is exact (i128
    /// nanoseconds): `days × 86 400 × 10^9` cannot overflow for any `i64`.
    pub fn checked_plus_days(self, days: i64) -> Option<Instant> {
        let delta = (days as i128).checked_mul(DAY_SECS as i128 * NANOS)?;
        Instant::from_nanos(self.unix_nanos().checked_add(delta)?)
    }

    /// This instant moved by whole days, saturating at [`Instant::MIN`] /
    /// [`Instant::MAX`] (never wrapping). The engine itself uses
    /// [`Instant::checked_plus_days`].
    pub fn plus_days(self, days: i64) -> Instant {
        self.checked_plus_days(days).unwrap_or(if days < 0 { Instant::MIN } else { Instant::MAX })
    }

    /// This instant moved by whole seconds, or `None` when not representable.
    pub fn checked_plus_secs(self, secs: i64) -> Option<Instant> {
        Instant::from_nanos(self.unix_nanos().checked_add(secs as i128 * NANOS)?)
    }

    /// This instant moved by whole seconds, saturating at [`Instant::MIN`] /
    /// [`Instant::MAX`] (never wrapping).
    pub fn plus_secs(self, secs: i64) -> Instant {
        self.checked_plus_secs(secs).unwrap_or(if secs < 0 { Instant::MIN } else { Instant::MAX })
    }

    /// Whole seconds from `earlier` to `self` (rounded toward negative
    /// infinity), or `None` when that does not fit an `i64`.
    pub fn checked_secs_since(self, earlier: Instant) -> Option<i64> {
        i64::try_from((self.unix_nanos() - earlier.unix_nanos()).div_euclid(NANOS)).ok()
    }

    /// Whole seconds from `earlier` to `self` (rounded toward negative
    /// infinity), saturating at `i64::MIN` / `i64::MAX` (never wrapping).
    pub fn secs_since(self, earlier: Instant) -> i64 {
        let d = (self.unix_nanos() - earlier.unix_nanos()).div_euclid(NANOS);
        i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
    }

    /// Nanoseconds since the epoch.
    pub fn unix_nanos(self) -> i128 {
        self.secs as i128 * NANOS + self.sub as i128
    }
}

impl fmt::Display for Instant {
    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, fraction without trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (secs, frac) = (self.secs, self.sub);
        let day = Date(secs.div_euclid(DAY_SECS));
        let sod = secs.rem_euclid(DAY_SECS);
        write!(f, "{}T{:02}:{:02}:{:02}", day, sod / 3600, (sod / 60) % 60, sod % 60)?;
        if frac != 0 {
            let digits = format!("{frac:09}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl Instant {
    /// Append the instant as a JSON string (`"` + its [`fmt::Display`] form +
    /// `"`; nothing in it needs escaping) without the formatting machinery:
    /// the evidence pack writes four instants per signal line, and `write!`
    /// was ~9 % of a pack run (issue 15). Years outside 0..=9999 take the
    /// `Display` path; a property test pins the two to the same bytes.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        let (y, m, d) = civil_from_days(self.secs.div_euclid(DAY_SECS));
        if !(0..=9999).contains(&y) {
            out.push(b'"');
            out.extend_from_slice(self.to_string().as_bytes());
            out.push(b'"');
            return;
        }
        let sod = self.secs.rem_euclid(DAY_SECS);
        let digits = |n: i64, width: usize, out: &mut Vec<u8>| {
            for k in (0..width).rev() {
                out.push(b'0' + ((n / 10_i64.pow(k as u32)) % 10) as u8);
            }
        };
        out.push(b'"');
        digits(y, 4, out);
        out.push(b'-');
        digits(i64::from(m), 2, out);
        out.push(b'-');
        digits(i64::from(d), 2, out);
        out.push(b'T');
        digits(sod / 3600, 2, out);
        out.push(b':');
        digits((sod / 60) % 60, 2, out);
        out.push(b':');
        digits(sod % 60, 2, out);
        if self.sub != 0 {
            out.push(b'.');
            let mut frac = i64::from(self.sub);
            let mut width = 9;
            while frac % 10 == 0 {
                frac /= 10;
                width -= 1;
            }
            digits(frac, width, out);
        }
        out.extend_from_slice(b"Z\"");
    }
}

impl Date {
    /// Parse `YYYY-MM-DD`.
    ///
    /// ```
    /// use eucora_license_core::internal::time::Date;
    /// assert_eq!(Date::parse("1970-01-02"), Some(Date(1)));
    /// assert_eq!(Date::parse("2026-02-29"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Date> {
        if s.len() != 10 {
            return None;
        }
        parse_date_bytes(s.as_bytes())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        if (0..=9999).contains(&y) {
            write!(f, "{y:04}-{m:02}-{d:02}")
        } else {
            write!(f, "{y}-{m:02}-{d:02}")
        }
    }
}

fn two(a: u8, b: u8) -> Option<u32> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(((a - b'0') * 10 + (b - b'0')) as u32)
    } else {
        None
    }
}

fn parse_date_bytes(b: &[u8]) -> Option<Date> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = (two(b[0], b[1])? * 100 + two(b[2], b[3])?) as i64;
    let m = two(b[5], b[6])?;
    let d = two(b[8], b[9])?;
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(Date(days_from_civil(y, m, d)))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn p(s: &str) -> Instant {
        Instant::parse(s).unwrap()
    }

    proptest::proptest! {
        /// The fast JSON writer of the pack gives the `Display` form, quoted,
        /// for every instant (years 0..=9999 on the fast path, the rest on
        /// the fallback; with and without a fraction).
        #[test]
        fn write_json_is_the_display_form(secs in -70_000_000_000i64..260_000_000_000, sub in proptest::prop_oneof![0u32..1, 0u32..1_000_000_000, (0u32..1000).prop_map(|m| m * 1_000_000)]) {
            let at = Instant { secs, sub };
            let mut out = Vec::new();
            at.write_json(&mut out);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), format!("\"{at}\""));
        }
    }

    #[test]
    fn write_json_examples() {
        let json = |s: &str| {
            let mut out = Vec::new();
            p(s).write_json(&mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(json("2026-11-20T06:00:00Z"), "\"2026-11-20T06:00:00Z\"");
        assert_eq!(json("2026-11-20T06:00:00.120Z"), "\"2026-11-20T06:00:00.12Z\"");
        assert_eq!(json("0001-01-01T00:00:00.000000001Z"), "\"0001-01-01T00:00:00.000000001Z\"");
    }

    #[test]
    fn offsets_normalise_to_utc() {
        assert_eq!(p("2026-01-01T00:30:00+01:00").to_string(), "2025-12-31T23:30:00Z");
        assert_eq!(p("2026-01-01T00:00:00-00:00"), p("2026-01-01T00:00:00Z"));
        assert_eq!(p("2026-01-01T00:00:00-05:30").to_string(), "2026-01-01T05:30:00Z");
    }

    #[test]
    fn fractions_kept_to_nanosecond_and_truncated_beyond() {
        assert_eq!(p("2026-01-01T00:00:00.123456789123Z").to_string(), "2026-01-01T00:00:00.123456789Z");
        assert_eq!(p("2026-01-01T00:00:00.000Z").to_string(), "2026-01-01T00:00:00Z");
        assert_eq!(p("2026-01-01T00:00:00.10Z").to_string(), "2026-01-01T00:00:00.1Z");
        assert!(p("2026-01-01T00:00:00.000000001Z") > p("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn rejects_bad_shapes() {
        for s in [
            "2026-01-01T00:00:60Z",
            "2026-01-01 00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00ZZ",
            "26-01-01T00:00:00Z",
            "",
        ] {
            assert_eq!(Instant::parse(s), Err(InstantError::Malformed), "{s}");
        }
        assert_eq!(Instant::parse("2026-01-01T00:00:00"), Err(InstantError::NoOffset));
        assert_eq!(Instant::parse("2026-01-01T00:00:00.5"), Err(InstantError::NoOffset));
    }

    #[test]
    fn day_arithmetic_is_checked_never_wrapped() {
        let t = p("2026-11-22T06:00:00Z");
        assert_eq!(t.checked_plus_days(-30).unwrap().to_string(), "2026-10-23T06:00:00Z");
        assert_eq!(t.checked_plus_days(i64::MIN), None);
        assert_eq!(t.checked_plus_days(i64::MAX), None);
        assert_eq!(t.plus_days(-i64::MAX), Instant::MIN);
        assert_eq!(t.plus_days(i64::MAX), Instant::MAX);
        assert_eq!(Instant::MIN.checked_plus_secs(-1), None);
        assert!(t.checked_plus_secs(i64::MIN).is_some());
        assert_eq!(Instant::MAX.secs_since(Instant::MIN), i64::MAX);
        assert_eq!(Instant::MIN.secs_since(Instant::MAX), i64::MIN);
        assert_eq!(Instant::MAX.checked_secs_since(Instant::MIN), None);
    }

    #[test]
    fn dates_round_trip() {
        for s in ["1970-01-01", "2000-02-29", "2026-11-22", "1900-03-01", "0001-01-01", "9999-12-31"] {
            assert_eq!(Date::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(p("2026-11-22T23:59:59.999Z").date(), Date::parse("2026-11-22").unwrap());
        assert_eq!(p("2026-11-23T00:30:00+01:00").date(), Date::parse("2026-11-22").unwrap());
    }
}
