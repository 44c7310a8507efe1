//! The snapshot (DESIGN A5, A6): the reconciled truth as canonical JSON,
//! hash-chained to the previous snapshot of the same organization.
//!
//! `snapshot_hash` is the `eucora.snapshot.v1` hash of the canonical snapshot
//! without that field. Per-SKU records are the leaves of `skus_root`, and each
//! SKU's units are the leaves of its `units_root` (RFC 9162), so one SKU can be
//! proven without the rest.

use crate::canon::canonical;
use crate::canon::hash::{tagged, Digest32, Domain};
use crate::document::diff::DiffSummary;
use crate::error::{Error, ErrorCode, Result};
use crate::input::catalog::Model;
use crate::vocab::{ComplianceStatus, CoverageStatus, ExceptionCode, Health};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The snapshot schema identifier.
pub const SCHEMA: &str = "eucora.license.snapshot/v1";

/// The five counters of DESIGN A4 plus `variance`: a snapshot's `totals`
/// and each `by_model` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Entitled units.
    pub entitled: i64,
    /// Reserved units.
    pub reserved: i64,
    /// The reservation actually held.
    pub reserved_effective: i64,
    /// Consumed units.
    pub consumed: i64,
    /// `entitled − consumed − reserved_effective` (negative when over-deployed).
    pub remaining: i64,
    /// `max(0, remaining)`.
    pub available: i64,
    /// `entitled − consumed`.
    pub variance: i64,
}

/// One SKU's record (`skus[]`), a leaf of `skus_root`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuRecord {
    /// The SKU id.
    pub sku: String,
    /// Its license model.
    pub model: Model,
    /// Entitled units.
    pub entitled: i64,
    /// Reserved units.
    pub reserved: i64,
    /// The reservation actually held.
    pub reserved_effective: i64,
    /// Consumed units.
    pub consumed: i64,
    /// Remaining (negative when over-deployed).
    pub remaining: i64,
    /// `max(0, remaining)`.
    pub available: i64,
    /// `entitled − consumed`.
    pub variance: i64,
    /// `variance × 100 / entitled`, two places; null when nothing is entitled.
    pub variance_percent: Option<String>,
    /// `over_deployed`, `under_utilized` or `compliant`.
    pub compliance_status: ComplianceStatus,
    /// The number of units.
    pub units: i64,
    /// RFC 9162 root over the SKU's canonical units.
    pub units_root: String,
    /// The SKU's pools (the unpooled remainder has `pool: null`).
    pub pools: Vec<PoolRecord>,
}

impl SkuRecord {
    /// A record with every counter 0 and no units: a starting point for
    /// examples and tests (a run derives records from its evaluation).
    pub fn empty(sku: &str, model: Model) -> SkuRecord {
        SkuRecord {
            sku: sku.to_string(),
            model,
            entitled: 0,
            reserved: 0,
            reserved_effective: 0,
            consumed: 0,
            remaining: 0,
            available: 0,
            variance: 0,
            variance_percent: None,
            compliance_status: ComplianceStatus::Compliant,
            units: 0,
            units_root: crate::canon::merkle::root_of_leaves(Vec::new()).to_prefixed(),
            pools: Vec::new(),
        }
    }
}

/// One pool of a SKU (`skus[].pools[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolRecord {
    /// The pool id; null for the unpooled remainder.
    pub pool: Option<String>,
    /// `global`, `region:<v>`, `bu:<v>`; null for the remainder.
    pub scope: Option<String>,
    /// Entitled units.
    pub entitled: i64,
    /// Reserved units.
    pub reserved: i64,
    /// The reservation actually held.
    pub reserved_effective: i64,
    /// Consumed units.
    pub consumed: i64,
    /// Remaining (negative when over-deployed).
    pub remaining: i64,
    /// `max(0, remaining)`.
    pub available: i64,
    /// `entitled − consumed`.
    pub variance: i64,
    /// `variance × 100 / entitled`, two places; null when nothing is entitled.
    pub variance_percent: Option<String>,
    /// `over_deployed`, `under_utilized` or `compliant`.
    pub compliance_status: ComplianceStatus,
}

/// The ruleset a snapshot was computed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesetRef {
    /// Ruleset id.
    pub id: String,
    /// Ruleset version (≥ 1).
    pub version: i64,
    /// `eucora.ruleset.v1` hash, `sha256:<hex>`.
    pub hash: String,
}

/// One import job as the snapshot records it (`imports[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSummary {
    /// The job id (derived from adapter, path and input hash).
    pub job_id: String,
    /// The source system.
    pub source: String,
    /// The adapter that read the file.
    pub adapter: String,
    /// The adapter's version.
    pub adapter_version: String,
    /// The file's path in the bundle.
    pub path: String,
    /// SHA-256 of the raw input bytes.
    pub input_hash: String,
    /// Rows read.
    pub rows_total: i64,
    /// Rows accepted.
    pub rows_accepted: i64,
    /// Rows rejected.
    pub rows_rejected: i64,
}

/// A source's coverage (`coverage.<source>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceCoverage {
    /// `ok`, `missing` or `degraded`.
    pub status: CoverageStatus,
    /// Signals accepted from the source this run.
    pub signals: i64,
    /// The latest `observed_at` of those signals.
    pub last_observed_at: Option<String>,
}

/// The snapshot's content (DESIGN A6), every field typed; `snapshot_hash`
/// is not part of it (it is the hash of this body). Parsed fully, with
/// unknown fields refused, before anything reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotDoc {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The organization.
    pub organization_id: String,
    /// 1 for the first snapshot of a chain, then +1.
    pub sequence: i64,
    /// The previous snapshot's hash (null for the first).
    pub previous_hash: Option<String>,
    /// The run's `as_of`.
    pub reconciled_at: String,
    /// The host's run id.
    pub run_id: String,
    /// The ruleset used.
    pub ruleset: RulesetRef,
    /// Every import job, input file by input file.
    pub imports: Vec<ImportSummary>,
    /// Coverage per source.
    pub coverage: BTreeMap<String, SourceCoverage>,
    /// `ok` or `degraded`.
    pub health: Health,
    /// `source_missing:<s>`, `source_degraded:<s>`.
    pub health_reasons: Vec<String>,
    /// The counters summed over every SKU.
    pub totals: Counts,
    /// The counters summed per license model (every model present).
    pub by_model: BTreeMap<Model, Counts>,
    /// One record per catalog SKU, in SKU-id order.
    pub skus: Vec<SkuRecord>,
    /// RFC 9162 root over the canonical SKU records.
    pub skus_root: String,
    /// What changed since the previous snapshot (null for the first).
    pub diff: Option<DiffSummary>,
    /// Exception records per code.
    pub exceptions_summary: BTreeMap<ExceptionCode, i64>,
}

impl Default for SnapshotDoc {
    /// An empty first snapshot of organization `org` (no SKU, no source):
    /// a starting point for examples and tests, never what a run writes.
    fn default() -> SnapshotDoc {
        SnapshotDoc {
            schema: SCHEMA.to_string(),
            organization_id: "org".to_string(),
            sequence: 1,
            previous_hash: None,
            reconciled_at: "1970-01-01T00:00:00Z".to_string(),
            run_id: String::new(),
            ruleset: RulesetRef { id: String::new(), version: 1, hash: Digest32([0; 32]).to_prefixed() },
            imports: Vec::new(),
            coverage: BTreeMap::new(),
            health: Health::Ok,
            health_reasons: Vec::new(),
            totals: Counts::default(),
            by_model: Model::ALL.iter().map(|m| (*m, Counts::default())).collect(),
            skus: Vec::new(),
            skus_root: crate::canon::merkle::root_of_leaves(Vec::new()).to_prefixed(),
            diff: None,
            exceptions_summary: BTreeMap::new(),
        }
    }
}

/// A sealed snapshot: its typed content, its canonical bytes and its hash.
#[derive(Debug, Clone)]
pub struct Snapshot {
    doc: SnapshotDoc,
    value: Value,
    canonical: Vec<u8>,
    hash: Digest32,
}

/// The `eucora.snapshot.v1` hash and canonical bytes of a JSON snapshot
/// body (its `snapshot_hash` is ignored): `(hash, canonical bytes with the
/// hash)`. Sealing typed documents goes through this; tests use it to build
/// hostile snapshots that are hash-consistent.
pub fn seal_json(mut body: Map<String, Value>) -> Result<(Digest32, Value, Vec<u8>)> {
    body.remove("snapshot_hash");
    let body = Value::Object(body);
    let hash = tagged(Domain::Snapshot, &canonical::to_vec(&body)?);
    let Value::Object(mut full) = body else { unreachable!("built as an object") };
    full.insert("snapshot_hash".into(), Value::String(hash.to_prefixed()));
    let value = Value::Object(full);
    let canonical = canonical::to_vec(&value)?;
    Ok((hash, value, canonical))
}

impl Snapshot {
    /// Seal a snapshot's content: hash it and add the hash.
    pub fn seal(doc: SnapshotDoc) -> Result<Snapshot> {
        let Value::Object(body) =
            serde_json::to_value(&doc).map_err(|e| Error::new(ErrorCode::Internal, format!("snapshot: cannot serialize: {e}")))?
        else {
            return Err(Error::new(ErrorCode::Internal, "snapshot: not an object"));
        };
        let (hash, value, canonical) = seal_json(body)?;
        Ok(Snapshot { doc, value, canonical, hash })
    }

    /// Parse snapshot bytes, verify `snapshot_hash` against the content and
    /// read every field ([`validate`], then the typed document).
    ///
    /// Fails with `previous_snapshot_invalid` when the bytes are not a
    /// snapshot, the hash does not match, or a field is missing, unknown or
    /// out of its range.
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
        let (hash, value, canonical) = seal_json(obj).map_err(|e| invalid(e.message().to_string()))?;
        if hash != claimed {
            return Err(invalid(format!("snapshot_hash {claimed} does not match the content ({hash})")));
        }
        validate(&value)?;
        let mut body = value.clone();
        if let Some(o) = body.as_object_mut() {
            o.remove("snapshot_hash");
        }
        let doc: SnapshotDoc = serde_json::from_value(body).map_err(|e| invalid(format!("previous snapshot: {e}")))?;
        Ok(Snapshot { doc, value, canonical, hash })
    }

    /// The typed content.
    pub fn doc(&self) -> &SnapshotDoc {
        &self.doc
    }

    /// The JSON form, `snapshot_hash` included (what hosts store and show).
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
        &self.doc.organization_id
    }

    /// `sequence`.
    pub fn sequence(&self) -> i64 {
        self.doc.sequence
    }

    /// The per-SKU record of `sku`, if present.
    pub fn sku(&self, sku: &str) -> Option<&SkuRecord> {
        self.doc.skus.iter().find(|r| r.sku == sku)
    }
}

/// `skus_root`: RFC 9162 root over the canonical per-SKU records, in SKU-id order.
pub fn skus_root(records: &[SkuRecord]) -> Result<Digest32> {
    let leaves = records.iter().map(canonical::to_vec_of).collect::<Result<Vec<_>>>()?;
    Ok(crate::canon::merkle::root(leaves.iter().map(Vec::as_slice)))
}

/// `skus_root` over SKU records given as JSON (tests build hostile
/// snapshots with it).
pub fn skus_root_json(records: &[Value]) -> Result<Digest32> {
    let leaves = records.iter().map(canonical::to_vec).collect::<Result<Vec<_>>>()?;
    Ok(crate::canon::merkle::root(leaves.iter().map(Vec::as_slice)))
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
        let (_, _, bytes) = seal_json(body.as_object().unwrap().clone()).unwrap();
        // A hash-consistent body that is not a whole snapshot is refused by field.
        let e = Snapshot::parse_verified(&bytes).unwrap_err();
        assert_eq!(e.code(), ErrorCode::PreviousSnapshotInvalid);
        assert!(e.message().contains("is missing"), "{}", e.message());
        let tampered = String::from_utf8(bytes).unwrap().replace("\"sequence\":1", "\"sequence\":2");
        let e = Snapshot::parse_verified(tampered.as_bytes()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::PreviousSnapshotInvalid);
        assert!(e.message().contains("does not match"), "{}", e.message());
    }
}
