//! The snapshot (DESIGN A5, A6): the reconciled truth as canonical JSON,
//! hash-chained to the previous snapshot of the same organization.
//!
//! `snapshot_hash` is the `eucora.snapshot.v1` hash of the canonical snapshot
//! without that field. Per-SKU records are the leaves of `skus_root`, and each
//! SKU's units are the leaves of its `units_root` (RFC 9162), so one SKU can be
//! proven without the rest.

use crate::canon::canonical;
use crate::canon::hash::{tagged, Digest32, Domain};
use crate::error::{Error, ErrorCode, Result};
use crate::vocab::{ComplianceStatus, CoverageStatus, Health};
use serde_json::{Map, Value};

/// The snapshot schema identifier.
pub const SCHEMA: &str = "eucora.license.snapshot/v1";

/// A snapshot: its JSON value (with `snapshot_hash`), canonical bytes and hash.
#[derive(Debug, Clone)]
pub struct Snapshot {
    value: Value,
    canonical: Vec<u8>,
    hash: Digest32,
}

impl Snapshot {
    /// Seal a snapshot body (without `snapshot_hash`): hash it, add the hash.
    pub fn seal(mut body: Map<String, Value>) -> Result<Snapshot> {
        body.remove("snapshot_hash");
        let body = Value::Object(body);
        let hash = tagged(Domain::Snapshot, &canonical::to_vec(&body)?);
        let Value::Object(mut full) = body else { unreachable!("built as an object") };
        full.insert("snapshot_hash".into(), Value::String(hash.to_prefixed()));
        let value = Value::Object(full);
        let canonical = canonical::to_vec(&value)?;
        Ok(Snapshot { value, canonical, hash })
    }

    /// Parse snapshot bytes and verify `snapshot_hash` against the content.
    ///
    /// Fails with `previous_snapshot_invalid` when the bytes are not a
    /// snapshot or the hash does not match.
    pub fn parse_verified(bytes: &[u8]) -> Result<Snapshot> {
        let invalid = |m: String| Error::new(ErrorCode::PreviousSnapshotInvalid, m);
        let value: Value = canonical::parse_strict_slice(bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let Value::Object(mut obj) = value else { return Err(invalid("not a JSON object".into())) };
        if obj.get("schema").and_then(Value::as_str) != Some(SCHEMA) {
            return Err(invalid(format!("`schema` is not {SCHEMA}")));
        }
        let claimed = obj
            .remove("snapshot_hash")
            .and_then(|v| v.as_str().and_then(Digest32::parse_prefixed))
            .ok_or_else(|| invalid("`snapshot_hash` is missing or malformed".into()))?;
        let sealed = Snapshot::seal(obj).map_err(|e| invalid(e.message().to_string()))?;
        if sealed.hash != claimed {
            return Err(invalid(format!("snapshot_hash {} does not match the content ({})", claimed, sealed.hash)));
        }
        Ok(sealed)
    }

    /// The JSON value, `snapshot_hash` included.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Canonical (RFC 8785) bytes, as written to `snapshot.json`.
    pub fn canonical_bytes(&self) -> &[u8] {
        &self.canonical
    }

    /// The snapshot hash.
    pub fn hash(&self) -> Digest32 {
        self.hash
    }

    /// `organization_id`.
    pub fn organization_id(&self) -> &str {
        self.value.get("organization_id").and_then(Value::as_str).unwrap_or("")
    }

    /// `sequence`.
    pub fn sequence(&self) -> i64 {
        self.value.get("sequence").and_then(Value::as_i64).unwrap_or(0)
    }

    /// The per-SKU record of `sku`, if present.
    pub fn sku(&self, sku: &str) -> Option<&Value> {
        self.value.get("skus")?.as_array()?.iter().find(|r| r.get("sku").and_then(Value::as_str) == Some(sku))
    }
}

/// `skus_root`: RFC 9162 root over the canonical per-SKU records, in SKU-id order.
pub fn skus_root(records: &[Value]) -> Result<Digest32> {
    let mut leaves = Vec::with_capacity(records.len());
    for r in records {
        leaves.push(crate::canon::merkle::leaf_hash(&canonical::to_vec(r)?));
    }
    Ok(crate::canon::merkle::root_of_leaves(leaves))
}

/// Check every field of a snapshot read back (a previous snapshot): the
/// types, ranges and forms DESIGN A6 gives them, so a resealed snapshot with,
/// say, `sequence` −5 or `"7"` is refused (`previous_snapshot_invalid`, the
/// field named as a JSON path) instead of being read as something else.
///
/// ```
/// use eucora_license_core::internal::snapshot::validate;
/// let e = validate(&serde_json::json!({"schema": "eucora.license.snapshot/v1", "sequence": -5})).unwrap_err();
/// assert_eq!(e.code().name(), "previous_snapshot_invalid");
/// ```
pub fn validate(v: &Value) -> Result<()> {
    let mut c = Check { errors: Vec::new() };
    c.run(v);
    match c.errors.into_iter().next() {
        None => Ok(()),
        Some((path, what)) => Err(Error::new(ErrorCode::PreviousSnapshotInvalid, format!("previous snapshot: `{path}` {what}"))
            .at(crate::error::Location::file("previous snapshot").with_field(path))),
    }
}

struct Check {
    errors: Vec<(String, String)>,
}

const MAX: i64 = canonical::MAX_SAFE_INTEGER;

impl Check {
    fn bad(&mut self, path: &str, what: &str) {
        self.errors.push((path.to_string(), what.to_string()));
    }

    fn get<'v>(&mut self, obj: &'v Value, path: &str, key: &str) -> Option<&'v Value> {
        let x = obj.get(key);
        if x.is_none() {
            self.bad(&format!("{path}.{key}"), "is missing");
        }
        x
    }

    fn object<'v>(&mut self, v: Option<&'v Value>, path: &str) -> Option<&'v Map<String, Value>> {
        let o = v?.as_object();
        if o.is_none() {
            self.bad(path, "must be an object");
        }
        o
    }

    fn array<'v>(&mut self, v: Option<&'v Value>, path: &str) -> &'v [Value] {
        match v {
            None => &[],
            Some(Value::Array(a)) => a,
            Some(_) => {
                self.bad(path, "must be an array");
                &[]
            }
        }
    }

    fn string(&mut self, v: Option<&Value>, path: &str, non_empty: bool) -> Option<String> {
        match v? {
            Value::String(s) if !non_empty || !s.is_empty() => Some(s.clone()),
            _ => {
                self.bad(path, if non_empty { "must be a non-empty string" } else { "must be a string" });
                None
            }
        }
    }

    fn int(&mut self, v: Option<&Value>, path: &str, min: i64) {
        let Some(v) = v else { return };
        if !v.as_i64().is_some_and(|i| (min..=MAX).contains(&i)) {
            self.bad(path, &format!("must be an integer from {min} to {MAX}"));
        }
    }

    fn hash(&mut self, v: Option<&Value>, path: &str, nullable: bool) {
        match v {
            None => {}
            Some(Value::Null) if nullable => {}
            Some(Value::String(s)) if Digest32::parse_prefixed(s).is_some() && s.len() == 71 => {}
            Some(_) => self.bad(path, if nullable { "must be null or sha256:<64 hex>" } else { "must be sha256:<64 hex>" }),
        }
    }

    fn instant(&mut self, v: Option<&Value>, path: &str, nullable: bool) {
        match v {
            None => {}
            Some(Value::Null) if nullable => {}
            Some(Value::String(s)) if crate::canon::time::Instant::parse(s).is_ok() => {}
            Some(_) => self.bad(path, "must be an RFC 3339 instant"),
        }
    }

    fn one_of(&mut self, v: Option<&Value>, path: &str, allowed: &[&str]) {
        let Some(v) = v else { return };
        if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
            self.bad(path, &format!("must be one of {}", allowed.join(", ")));
        }
    }

    fn counters(&mut self, v: Option<&Value>, path: &str, per_sku: bool) {
        let Some(o) = self.object(v, path) else { return };
        let o = &Value::Object(o.clone());
        for (k, min) in [
            ("entitled", 0),
            ("reserved", 0),
            ("reserved_effective", 0),
            ("consumed", 0),
            ("remaining", -MAX),
            ("available", 0),
            ("variance", -MAX),
        ] {
            let x = self.get(o, path, k);
            self.int(x, &format!("{path}.{k}"), min);
        }
        if per_sku {
            let x = self.get(o, path, "compliance_status");
            self.one_of(x, &format!("{path}.compliance_status"), &ComplianceStatus::names());
            match self.get(o, path, "variance_percent") {
                None | Some(Value::Null) => {}
                Some(Value::String(p)) if crate::canon::numbers::Fixed9::parse(p).is_some() => {}
                Some(_) => self.bad(&format!("{path}.variance_percent"), "must be null or a decimal string"),
            }
        }
    }

    fn run(&mut self, v: &Value) {
        if !v.is_object() {
            self.bad("$", "must be an object");
            return;
        }
        let x = self.get(v, "$", "schema");
        self.one_of(x, "$.schema", &[SCHEMA]);
        let x = self.get(v, "$", "organization_id");
        self.string(x, "$.organization_id", true);
        let x = self.get(v, "$", "sequence");
        self.int(x, "$.sequence", 1);
        let x = self.get(v, "$", "previous_hash");
        self.hash(x, "$.previous_hash", true);
        let x = self.get(v, "$", "reconciled_at");
        self.instant(x, "$.reconciled_at", false);
        let x = self.get(v, "$", "run_id");
        self.string(x, "$.run_id", false);
        let x = self.get(v, "$", "ruleset");
        if let Some(r) = self.object(x, "$.ruleset") {
            let r = &Value::Object(r.clone());
            let x = self.get(r, "$.ruleset", "id");
            self.string(x, "$.ruleset.id", false);
            let x = self.get(r, "$.ruleset", "version");
            self.int(x, "$.ruleset.version", 1);
            let x = self.get(r, "$.ruleset", "hash");
            self.hash(x, "$.ruleset.hash", false);
        }
        let x = self.get(v, "$", "imports");
        for (i, j) in self.array(x, "$.imports").iter().enumerate() {
            let path = format!("$.imports[{i}]");
            if self.object(Some(j), &path).is_none() {
                continue;
            }
            for k in ["job_id", "source", "adapter", "path"] {
                let x = self.get(j, &path, k);
                self.string(x, &format!("{path}.{k}"), false);
            }
            let x = self.get(j, &path, "input_hash");
            self.hash(x, &format!("{path}.input_hash"), false);
            for k in ["rows_total", "rows_accepted", "rows_rejected"] {
                let x = self.get(j, &path, k);
                self.int(x, &format!("{path}.{k}"), 0);
            }
        }
        let x = self.get(v, "$", "coverage");
        if let Some(cov) = self.object(x, "$.coverage") {
            for (name, c) in cov {
                let path = format!("$.coverage.{name}");
                if self.object(Some(c), &path).is_none() {
                    continue;
                }
                let x = self.get(c, &path, "status");
                self.one_of(x, &format!("{path}.status"), &CoverageStatus::names());
                let x = self.get(c, &path, "signals");
                self.int(x, &format!("{path}.signals"), 0);
                let x = self.get(c, &path, "last_observed_at");
                self.instant(x, &format!("{path}.last_observed_at"), true);
            }
        }
        let x = self.get(v, "$", "health");
        self.one_of(x, "$.health", &Health::names());
        let x = self.get(v, "$", "health_reasons");
        for (i, r) in self.array(x, "$.health_reasons").iter().enumerate() {
            self.string(Some(r), &format!("$.health_reasons[{i}]"), false);
        }
        let x = self.get(v, "$", "totals");
        self.counters(x, "$.totals", false);
        let x = self.get(v, "$", "by_model");
        if let Some(bm) = self.object(x, "$.by_model") {
            for (m, c) in bm {
                self.counters(Some(c), &format!("$.by_model.{m}"), false);
            }
        }
        let x = self.get(v, "$", "skus");
        for (i, r) in self.array(x, "$.skus").iter().enumerate() {
            let path = format!("$.skus[{i}]");
            if self.object(Some(r), &path).is_none() {
                continue;
            }
            let x = self.get(r, &path, "sku");
            self.string(x, &format!("{path}.sku"), true);
            let x = self.get(r, &path, "model");
            self.one_of(x, &format!("{path}.model"), &["device", "user", "concurrent", "subscription", "feature"]);
            self.counters(Some(r), &path, true);
            let x = self.get(r, &path, "units");
            self.int(x, &format!("{path}.units"), 0);
            let x = self.get(r, &path, "units_root");
            self.hash(x, &format!("{path}.units_root"), false);
            let x = self.get(r, &path, "pools");
            for (j, p) in self.array(x, &format!("{path}.pools")).iter().enumerate() {
                let ppath = format!("{path}.pools[{j}]");
                if self.object(Some(p), &ppath).is_none() {
                    continue;
                }
                self.counters(Some(p), &ppath, true);
                for k in ["pool", "scope"] {
                    match p.get(k) {
                        None | Some(Value::Null) | Some(Value::String(_)) => {}
                        Some(_) => self.bad(&format!("{ppath}.{k}"), "must be null or a string"),
                    }
                }
            }
        }
        let x = self.get(v, "$", "skus_root");
        self.hash(x, "$.skus_root", false);
        match v.get("diff") {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => self.bad("$.diff", "must be null or an object"),
        }
        let x = self.get(v, "$", "exceptions_summary");
        if let Some(es) = self.object(x, "$.exceptions_summary") {
            for (k, n) in es {
                self.int(Some(n), &format!("$.exceptions_summary.{k}"), 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seal_then_verify_and_detect_tampering() {
        let body = json!({"schema": SCHEMA, "organization_id": "o", "sequence": 1, "skus": []});
        let s = Snapshot::seal(body.as_object().unwrap().clone()).unwrap();
        let again = Snapshot::parse_verified(s.canonical_bytes()).unwrap();
        assert_eq!(again.hash(), s.hash());
        let tampered = String::from_utf8(s.canonical_bytes().to_vec()).unwrap().replace("\"sequence\":1", "\"sequence\":2");
        let e = Snapshot::parse_verified(tampered.as_bytes()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::PreviousSnapshotInvalid);
    }
}
