//! Okta users (`okta-users`) from the Users API.
//!
//! `GET /api/v1/users` answers with a JSON array of user objects per page;
//! the next page is named in the HTTP `Link: <…>; rel="next"` header, not in
//! the body. Pages are saved one per file and read in path order; since a
//! page names neither itself nor the next one, the chain cannot be checked
//! from the files (unlike Graph's `@odata.nextLink`).
//!
//! A user (`id`, `status`, `lastLogin`, `profile.login`, `profile.email`, …)
//! becomes identity facts only: `profile.login` is the canonical id, the
//! e-mail and the Okta id its aliases, each row carrying the account's
//! `status` (active or disabled, from Okta's lifecycle status) and
//! `last_active_at` (`lastLogin`). See `docs/adapters/okta-users.md`.
//!
//! A JSON record (an element of the page's array) is the unit of rejection;
//! its [`Origin::line`] is its 1-based position in the array.

use super::{
    field, normalize_timestamp, parse_json, seen_before, Adapter, AdapterOutput, DirectoryEntry, Field, InputFile, Options, Origin,
};
use crate::error::{Error, ErrorCode, Location, Result};
use crate::vocab::RowErrorCode;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Source name of the adapter.
const SOURCE: &str = "okta";

/// Okta's lifecycle status in the directory's vocabulary. `SUSPENDED` (an
/// administrator blocked sign-in, reversibly) and `DEPROVISIONED`
/// (deactivated) are `disabled`. The others are accounts that exist for the
/// person: in use (`ACTIVE`), temporarily unable to sign in
/// (`LOCKED_OUT`, `PASSWORD_EXPIRED`, `RECOVERY`), or not yet signed in
/// (`STAGED`, `PROVISIONED`) — `active`, their use judged by `lastLogin`.
/// `None` for a status Okta does not document.
fn directory_status(okta: &str) -> Option<&'static str> {
    match okta {
        "ACTIVE" | "LOCKED_OUT" | "PASSWORD_EXPIRED" | "RECOVERY" | "STAGED" | "PROVISIONED" => Some("active"),
        "SUSPENDED" | "DEPROVISIONED" => Some("disabled"),
        _ => None,
    }
}

/// `okta-users`: Okta Users API pages → user identity facts with status and
/// last login.
pub(super) struct OktaUsers;

/// The facts of one user record, or why it is rejected: (column, code, message).
type UserFacts = std::result::Result<(String, Vec<String>, &'static str, String), (&'static str, RowErrorCode, &'static str)>;

/// Read one user record.
fn user_facts(obj: &Map<String, Value>, id: &str) -> UserFacts {
    let status = match field(obj, "status") {
        Field::Absent => "",
        Field::Text(s) => directory_status(s).ok_or((
            "status",
            RowErrorCode::UnknownState,
            "`status` is not an Okta user status (STAGED, PROVISIONED, ACTIVE, RECOVERY, LOCKED_OUT, PASSWORD_EXPIRED, SUSPENDED, DEPROVISIONED)",
        ))?,
        Field::Invalid => return Err(("status", RowErrorCode::InvalidField, "`status` must be a string")),
    };
    // Okta writes instants in UTC with milliseconds (`2026-11-21T08:14:55.000Z`).
    let last_login = match field(obj, "lastLogin") {
        Field::Absent => String::new(),
        Field::Text(s) => normalize_timestamp(s, "+00:00").ok_or((
            "lastLogin",
            RowErrorCode::MalformedInstant,
            "`lastLogin` is not an RFC 3339 date-time",
        ))?,
        Field::Invalid => return Err(("lastLogin", RowErrorCode::InvalidField, "`lastLogin` must be a string or null")),
    };
    let profile = match obj.get("profile") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => return Err(("profile.login", RowErrorCode::MissingField, "user record has no `profile`")),
        Some(_) => return Err(("profile", RowErrorCode::InvalidField, "`profile` must be an object")),
    };
    let login = match field(profile, "login") {
        Field::Text(l) => l.to_string(),
        Field::Absent => return Err(("profile.login", RowErrorCode::MissingField, "user record has no `profile.login`")),
        Field::Invalid => return Err(("profile.login", RowErrorCode::InvalidField, "`profile.login` must be a string")),
    };
    let mut aliases = vec![id.to_string()];
    match field(profile, "email") {
        Field::Text(e) if !e.eq_ignore_ascii_case(&login) => aliases.push(e.to_string()),
        Field::Text(_) | Field::Absent => {}
        Field::Invalid => return Err(("profile.email", RowErrorCode::InvalidField, "`profile.email` must be a string")),
    }
    Ok((login, aliases, status, last_login))
}

impl Adapter for OktaUsers {
    fn name(&self) -> &'static str {
        "okta-users"
    }
    fn version(&self) -> &'static str {
        "1.0.0"
    }
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn run(&self, files: &[InputFile], _options: &Options) -> Result<AdapterOutput> {
        let mut out = AdapterOutput::for_files(files.len());
        // Okta id → the record first read for it.
        let mut seen: BTreeMap<String, Value> = BTreeMap::new();
        let mut directory: BTreeSet<DirectoryEntry> = BTreeSet::new();
        for (fi, file) in files.iter().enumerate() {
            let Value::Array(records) = parse_json(&file.path, &file.bytes)? else {
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    "adapter `okta-users` expects a page of GET /api/v1/users: a JSON array of user objects",
                )
                .at(Location::file(&file.path).with_field("$")));
            };
            if let Some(n) = out.records.get_mut(fi) {
                *n = records.len() as u64;
            }
            let mut repeated = 0u64;
            for (ri, record) in records.iter().enumerate() {
                let origin = Origin { file: fi, line: ri as u64 + 1 };
                let Some(obj) = record.as_object() else {
                    out.reject(origin, "$", RowErrorCode::InvalidRecord, "an Okta user must be a JSON object");
                    continue;
                };
                let id = match field(obj, "id") {
                    Field::Text(id) => id.to_string(),
                    Field::Absent => {
                        out.reject(origin, "id", RowErrorCode::MissingField, "user record has no `id`");
                        continue;
                    }
                    Field::Invalid => {
                        out.reject(origin, "id", RowErrorCode::InvalidField, "`id` must be a string");
                        continue;
                    }
                };
                // Paging while users change can repeat a user on two pages.
                let duplicate = "user id already read with different content; the first record is kept";
                if seen_before(&mut seen, ("id", &id), record, &mut repeated, &mut out, origin, duplicate) {
                    continue;
                }
                match user_facts(obj, &id) {
                    Ok((login, aliases, status, last_active_at)) => {
                        for alias in aliases {
                            directory.insert(DirectoryEntry {
                                principal_type: "user".into(),
                                canonical_id: login.clone(),
                                alias,
                                status: status.to_string(),
                                last_active_at: last_active_at.clone(),
                            });
                        }
                    }
                    Err((column, code, message)) => out.reject(origin, column, code, message),
                }
            }
            if repeated > 0 {
                out.notes.push((fi, format!("{repeated} user record(s) repeated identically from an earlier page were skipped")));
            }
        }
        out.directory = directory.into_iter().collect();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::directory_status;

    #[test]
    fn every_documented_status_maps_and_nothing_else_does() {
        for s in ["ACTIVE", "LOCKED_OUT", "PASSWORD_EXPIRED", "RECOVERY", "STAGED", "PROVISIONED"] {
            assert_eq!(directory_status(s), Some("active"), "{s}");
        }
        for s in ["SUSPENDED", "DEPROVISIONED"] {
            assert_eq!(directory_status(s), Some("disabled"), "{s}");
        }
        for s in ["active", "DELETED", ""] {
            assert_eq!(directory_status(s), None, "{s}");
        }
    }
}
