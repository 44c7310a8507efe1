//! The shared row vocabulary: the closed sets of names that input parsing,
//! the ruleset and the adapters all speak (signal kinds, assignment
//! statuses, the canonical signal columns, row-level errors).
//!
//! A leaf: it imports nothing from the crate, so every layer may use it.
//! It exists to break the import cycles `signals` <-> `adapters` and
//! `signals` <-> `ruleset`: the items both sides need live here.

/// What a signal says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A license was assigned (seat, device license).
    Assignment,
    /// Software is installed.
    Installation,
    /// Software was used.
    Usage,
    /// A concurrent license checkout.
    Session,
}

impl Kind {
    pub(crate) fn parse(s: &str) -> Option<Kind> {
        match s {
            "assignment" => Some(Kind::Assignment),
            "installation" => Some(Kind::Installation),
            "usage" => Some(Kind::Usage),
            "session" => Some(Kind::Session),
            _ => None,
        }
    }

    /// The contract's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Assignment => "assignment",
            Kind::Installation => "installation",
            Kind::Usage => "usage",
            Kind::Session => "session",
        }
    }
}

/// Assignment status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// In force (the default).
    Active,
    /// Taken back.
    Revoked,
    /// Temporarily not in force.
    Suspended,
}

impl Status {
    pub(crate) fn parse(s: &str) -> Option<Status> {
        match s {
            "" | "active" => Some(Status::Active),
            "revoked" => Some(Status::Revoked),
            "suspended" => Some(Status::Suspended),
            _ => None,
        }
    }

    /// The contract's name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Revoked => "revoked",
            Status::Suspended => "suspended",
        }
    }
}

/// The canonical columns, in the contract's order.
pub(crate) const COLUMNS: [&str; 16] = [
    "source",
    "raw_id",
    "observed_at",
    "sku",
    "product",
    "kind",
    "status",
    "user",
    "device_serial",
    "device_id",
    "device_name",
    "last_used_at",
    "session_start",
    "session_end",
    "quantity",
    "confidence",
];
/// A row-level problem in an import.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct RowError {
    /// 1-based line.
    pub line: u64,
    /// Column (field) name.
    pub column: String,
    /// Stable code, e.g. `missing_field`, `malformed_instant`.
    pub code: &'static str,
    /// Human-readable message (never echoes the field's value).
    pub message: String,
}
