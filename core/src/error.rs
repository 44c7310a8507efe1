//! The one error type of the engine, with stable machine-readable codes.
//!
//! Every failure the engine can report is an [`Error`]: a stable [`ErrorCode`]
//! (a number and a snake_case name that are never reused), an optional
//! [`Location`] (file, line, column) and a message meant for a human.
//! Bindings map the code to their own error classes, so the numbers and names
//! below are part of the public contract: add new codes at the end, never
//! renumber or rename.

use std::fmt;

/// Stable error codes. The numeric value and the name never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// Bad input outside the five fail-closed reasons: a missing required file,
    /// malformed JSON/CSV, a table without a required column, a wrong field count,
    /// a file that is not UTF-8.
    InvalidInput = 1,
    /// The ruleset is missing, malformed, has unknown keys, wrong types or
    /// out-of-range values, or maps to a SKU that is not in the catalog.
    InvalidRuleset = 2,
    /// Catalog, entitlement, pool or directory data contradict each other.
    CatalogIntegrity = 3,
    /// Two signals share (`source`, `raw_id`) but differ in content.
    ConflictingDuplicate = 4,
    /// The previous snapshot does not verify (hash mismatch, wrong organization).
    PreviousSnapshotInvalid = 5,
    /// An import rejected more rows than `max_reject_percent` allows.
    RejectThresholdExceeded = 6,
    /// Data that must be hashed is not representable canonically (e.g. a float).
    NonCanonical = 7,
    /// A bug inside the engine surfaced as an error instead of a crash.
    Internal = 99,
}

impl ErrorCode {
    /// The stable snake_case name used in run reports and by the bindings.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::InvalidRuleset => "invalid_ruleset",
            ErrorCode::CatalogIntegrity => "catalog_integrity",
            ErrorCode::ConflictingDuplicate => "conflicting_duplicate",
            ErrorCode::PreviousSnapshotInvalid => "previous_snapshot_invalid",
            ErrorCode::RejectThresholdExceeded => "reject_threshold_exceeded",
            ErrorCode::NonCanonical => "non_canonical",
            ErrorCode::Internal => "internal",
        }
    }

    /// The stable number of this code.
    pub fn number(self) -> u32 {
        self as u32
    }

    /// Every code, in number order (for documentation and binding tables).
    pub const ALL: [ErrorCode; 8] = [
        ErrorCode::InvalidInput,
        ErrorCode::InvalidRuleset,
        ErrorCode::CatalogIntegrity,
        ErrorCode::ConflictingDuplicate,
        ErrorCode::PreviousSnapshotInvalid,
        ErrorCode::RejectThresholdExceeded,
        ErrorCode::NonCanonical,
        ErrorCode::Internal,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where in the input a problem was found. Lines and columns are 1-based;
/// `field` names the column or JSON path when one applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct Location {
    /// Path of the file inside the bundle, e.g. `signals/intune.csv`.
    pub file: String,
    /// 1-based line number, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Column (CSV header name) or JSON path, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Location {
    /// A location naming only a file.
    pub fn file(file: impl Into<String>) -> Self {
        Location { file: file.into(), line: None, field: None }
    }

    /// A location naming a file and a line.
    pub fn line(file: impl Into<String>, line: u64) -> Self {
        Location { file: file.into(), line: Some(line), field: None }
    }

    /// The same location with a field (column or JSON path) attached.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, " [{field}]")?;
        }
        Ok(())
    }
}

/// An engine error: a stable code, an optional location and a message.
///
/// ```
/// use eucora_license_core::{Error, ErrorCode, Location};
/// let e = Error::new(ErrorCode::CatalogIntegrity, "duplicate SKU id `m365-e3`")
///     .at(Location::file("catalog.json").with_field("skus[3].id"));
/// assert_eq!(e.code().name(), "catalog_integrity");
/// assert_eq!(e.to_string(), "catalog_integrity: catalog.json [skus[3].id]: duplicate SKU id `m365-e3`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    code: ErrorCode,
    location: Option<Location>,
    message: String,
}

impl Error {
    /// A new error without a location.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, location: None, message: message.into() }
    }

    /// The same error with a location attached.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// Where the problem was found, if known.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }

    /// The human-readable message (never contains secrets from the input).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code)?;
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Whether an input-supplied *name* (an unknown column or JSON key, an
/// option key) may be echoed in a report or message (docs/semantics.md,
/// "What is never echoed").
///
/// Values are never echoed; names only when they look like names: they match
/// `^[A-Za-z_][A-Za-z0-9_ .-]{0,63}$`, carry at most four digits, and no word
/// (split at `_`, `.`, `-`, space) is longer than 24 characters. A license
/// key, token or hash that landed where a name was expected (a CSV without a
/// header, say) fails at least one of these.
///
/// ```
/// use eucora_license_core::internal::error::is_displayable_name;
/// assert!(is_displayable_name("cost_center"));
/// assert!(is_displayable_name("lastSyncDateTime"));
/// assert!(!is_displayable_name("ABCD-1234-EFGH-5678"));
/// assert!(!is_displayable_name("ghp_aZ3kQ9xR7tY2mW8nB4vC6dF1hJ5lP0sE"));
/// assert!(!is_displayable_name("user@example.com"));
/// ```
pub fn is_displayable_name(s: &str) -> bool {
    let b = s.as_bytes();
    let shape = !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b' ' | b'.' | b'-'));
    shape && b.iter().filter(|c| c.is_ascii_digit()).count() <= 4 && s.split(['_', '.', '-', ' ']).all(|w| w.len() <= 24)
}

/// Input-supplied names for a message: the displayable ones, in the order
/// given, and a count of the others (which are never shown).
///
/// ```
/// use eucora_license_core::internal::error::names_for_display;
/// assert_eq!(names_for_display(["cost_center", "ABCD-1234-EFGH-5678"]), "cost_center (and 1 more not shown)");
/// ```
pub fn names_for_display<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut shown = Vec::new();
    let mut hidden = 0usize;
    for n in names {
        if is_displayable_name(n) {
            shown.push(n);
        } else {
            hidden += 1;
        }
    }
    match (shown.is_empty(), hidden) {
        (_, 0) => shown.join(", "),
        (true, n) => format!("{n} not shown"),
        (false, n) => format!("{} (and {n} more not shown)", shown.join(", ")),
    }
}

/// Shorthand for results of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let table: Vec<(u32, &str)> = ErrorCode::ALL.iter().map(|c| (c.number(), c.name())).collect();
        assert_eq!(
            table,
            vec![
                (1, "invalid_input"),
                (2, "invalid_ruleset"),
                (3, "catalog_integrity"),
                (4, "conflicting_duplicate"),
                (5, "previous_snapshot_invalid"),
                (6, "reject_threshold_exceeded"),
                (7, "non_canonical"),
                (99, "internal"),
            ]
        );
    }

    #[test]
    fn display_names_file_line_and_field() {
        let e = Error::new(ErrorCode::InvalidInput, "bad").at(Location::line("a.csv", 4).with_field("quantity"));
        assert_eq!(e.to_string(), "invalid_input: a.csv:4 [quantity]: bad");
    }
}
