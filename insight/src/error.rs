//! The contract errors of Part C (DESIGN C5, C6): a stable code, a message
//! and the 1-based position of the offending argument (`null` for
//! `invalid_policy`). Checks run in the order `invalid_policy`,
//! `chain_broken`, `pack_invalid`, `pack_mismatch`; the first failure wins.

use serde::Serialize;
use std::fmt;

/// The stable codes of the intelligence layer's contract errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InsightCode {
    /// The policy document is malformed, has unknown or missing keys, wrong
    /// types or out-of-range values.
    InvalidPolicy,
    /// A snapshot of `history` does not verify, does not link to the one
    /// before, skips a sequence number or belongs to another organisation.
    ChainBroken,
    /// The latest evidence pack fails A7's integrity checks.
    PackInvalid,
    /// The evidence pack belongs to another snapshot than the latest.
    PackMismatch,
    /// An argument that is neither history, pack nor policy is malformed
    /// (an empty history, an organisation UUID that is not a UUID).
    InvalidInput,
}

impl InsightCode {
    /// The snake_case name written in `{"error": {"code"}}`.
    pub fn name(self) -> &'static str {
        match self {
            InsightCode::InvalidPolicy => "invalid_policy",
            InsightCode::ChainBroken => "chain_broken",
            InsightCode::PackInvalid => "pack_invalid",
            InsightCode::PackMismatch => "pack_mismatch",
            InsightCode::InvalidInput => "invalid_input",
        }
    }
}

impl Serialize for InsightCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A contract error: `{"code", "message", "index"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsightError {
    /// The stable code.
    pub code: InsightCode,
    /// What went wrong, for a person; never a secret, never a whole value.
    pub message: String,
    /// The 1-based position of the offending argument among the runs, or
    /// `None` (`null`) when the error is not about one of them.
    pub index: Option<usize>,
}

impl InsightError {
    /// A new error.
    pub fn new(code: InsightCode, message: impl Into<String>, index: Option<usize>) -> Self {
        InsightError { code, message: message.into(), index }
    }

    /// The `{"error": {...}}` document the CLI prints on stdout.
    pub fn to_json(&self) -> String {
        serde_json::json!({"error": self}).to_string()
    }
}

impl fmt::Display for InsightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "{} (argument {i}): {}", self.code.name(), self.message),
            None => write!(f, "{}: {}", self.code.name(), self.message),
        }
    }
}

impl std::error::Error for InsightError {}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, InsightError>;
