//! The one error type: a stable snake_case `code` (the contract's, e.g.
//! `invalid_policy`, `policy_mismatch`, `already_applied`, a refusal reason
//! such as `role_lacks_action`, or a proposal state such as `pending`), a
//! message for a person and, when the error is about a place in a JSON
//! document, its JSON path. Messages never echo a value that could be a
//! secret: they name keys and positions.

use std::fmt;

/// A governance error (exit status 2 in the CLI, `{"error": {"code"}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The stable code.
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// JSON path of the offending value (`$.access.roles.viewer[0]`), when known.
    pub path: Option<String>,
}

impl Error {
    /// An error with no location.
    pub fn new(code: &'static str, message: impl Into<String>) -> Error {
        Error { code, message: message.into(), path: None }
    }

    /// An error located at a JSON path.
    pub fn at(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Error {
        Error { code, message: message.into(), path: Some(path.into()) }
    }

    /// `{"error": {"code", "message", "path"}}`, as the CLI prints it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"error": {"code": self.code, "message": self.message, "path": self.path}})
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{} at {p}: {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for Error {}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// The stable codes this crate fails with besides the vocabularies' names
/// (refusal reasons, proposal states).
pub mod codes {
    /// The policy document is malformed (D6).
    pub const INVALID_POLICY: &str = "invalid_policy";
    /// An actor that is not one of D1's two shapes.
    pub const INVALID_ACTOR: &str = "invalid_actor";
    /// A role D1 does not define (D6).
    pub const UNKNOWN_ROLE: &str = "unknown_role";
    /// An action D1 does not define (D6).
    pub const UNKNOWN_ACTION: &str = "unknown_action";
    /// An agent D4 does not define (D6).
    pub const UNKNOWN_AGENT: &str = "unknown_agent";
    /// A proposal kind D2 does not define.
    pub const UNKNOWN_KIND: &str = "unknown_kind";
    /// A payload that is not a JSON object with canonical values.
    pub const INVALID_PAYLOAD: &str = "invalid_payload";
    /// A proposal document that is malformed.
    pub const INVALID_PROPOSAL: &str = "invalid_proposal";
    /// An approval that is malformed (D6).
    pub const INVALID_APPROVAL: &str = "invalid_approval";
    /// An instant that is not RFC 3339 (or out of range).
    pub const INVALID_INSTANT: &str = "invalid_instant";
    /// The policy given is not the one the proposal was made under (D2).
    pub const POLICY_MISMATCH: &str = "policy_mismatch";
    /// The proposal was applied before (D2).
    pub const ALREADY_APPLIED: &str = "already_applied";
    /// An audit entry that is malformed (or whose details look like a secret).
    pub const INVALID_ENTRY: &str = "invalid_entry";
    /// A checkpoint document that is malformed.
    pub const INVALID_CHECKPOINT: &str = "invalid_checkpoint";
    /// A `seq` or size outside the log (D6).
    pub const OUT_OF_RANGE: &str = "out_of_range";
}
