//! The audit log (DESIGN D3, D6): a hash chain of entries, each
//! `entry_hash` = hash(`eucora.audit.v1`, the entry without `entry_hash`)
//! and each `prev_hash` the entry before's hash; a checkpoint
//! `{size, root, head_hash}` with `root` the RFC 9162 tree head over the
//! entry hashes (leaves: the 32 digest bytes of each `entry_hash`); and
//! inclusion and consistency proofs whose verifiers need nothing but the
//! proof and a checkpoint. Only a checkpoint kept outside the log reveals a
//! cut tail: hosts store one outside their database.

use crate::actor::Actor;
use crate::error::{codes, Error, Result};
use eucora_license_core::internal::hash::sha256;
use eucora_license_core::internal::merkle::{
    consistency_path, inclusion_path, leaf_hash, root_of_leaves, verify_consistency, verify_inclusion,
};
use eucora_license_core::{canonical_bytes, tagged_hash, AuditFailure, Digest32, Domain, Instant};
use serde_json::{json, Map, Value};

/// The twelve keys of an entry, every one always present (nulls included).
pub const ENTRY_KEYS: [&str; 12] = [
    "seq",
    "prev_hash",
    "at",
    "actor",
    "action",
    "entity",
    "before_hash",
    "after_hash",
    "correlation_id",
    "evidence",
    "details",
    "entry_hash",
];

/// Key names in `details` refused as secrets (A7), compared lower-case
/// after removing `-` and `_`: a cheap guard, not a scanner.
const SECRET_KEYS: [&str; 10] =
    ["password", "passwd", "secret", "token", "accesstoken", "apikey", "licensekey", "privatekey", "clientsecret", "authorization"];

/// A checkpoint: `{size, root, head_hash}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Entries covered.
    pub size: u64,
    /// RFC 9162 root over their hashes (`SHA-256("")` when empty).
    pub root: Digest32,
    /// The last covered entry's hash (`None` when empty).
    pub head_hash: Option<Digest32>,
}

impl Checkpoint {
    /// `{"size", "root", "head_hash"}`.
    pub fn to_value(&self) -> Value {
        json!({"size": self.size, "root": self.root.to_prefixed(), "head_hash": self.head_hash.map(|h| h.to_prefixed())})
    }

    /// Parse a checkpoint document (`invalid_checkpoint`).
    pub fn from_value(v: &Value) -> Result<Checkpoint> {
        let bad = |p: &str, m: &str| Error::at(codes::INVALID_CHECKPOINT, p, m);
        let o = exact_keys(v, &["size", "root", "head_hash"]).ok_or_else(|| bad("$", "expected {size, root, head_hash}"))?;
        let size = o["size"].as_u64().ok_or_else(|| bad("$.size", "expected an integer ≥ 0"))?;
        let root = digest(&o["root"]).ok_or_else(|| bad("$.root", "expected sha256:<64 hex>"))?;
        let head_hash = match &o["head_hash"] {
            Value::Null if size == 0 => None,
            h if size > 0 => Some(digest(h).ok_or_else(|| bad("$.head_hash", "expected sha256:<64 hex>"))?),
            _ => return Err(bad("$.head_hash", "null exactly when size is 0")),
        };
        Ok(Checkpoint { size, root, head_hash })
    }
}

/// The first failure of a log: its code and the 1-based position (for
/// `checkpoint_mismatch`, the checkpoint's `size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogFailure {
    /// What failed.
    pub code: AuditFailure,
    /// Where.
    pub seq: u64,
}

/// `verify_log`'s answer: `{"ok", "size", "failure": null | {"code", "seq"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReport {
    /// True when the chain (and the checkpoint, if given) holds.
    pub ok: bool,
    /// Entries in the log.
    pub size: u64,
    /// The first failure.
    pub failure: Option<LogFailure>,
}

impl LogReport {
    /// As JSON.
    pub fn to_value(&self) -> Value {
        json!({"ok": self.ok, "size": self.size, "failure": self.failure.map(|f| json!({"code": f.code, "seq": f.seq}))})
    }
}

fn digest(v: &Value) -> Option<Digest32> {
    v.as_str().and_then(Digest32::parse_prefixed)
}

fn exact_keys<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Map<String, Value>> {
    let o = v.as_object()?;
    (o.len() == keys.len() && keys.iter().all(|k| o.contains_key(*k))).then_some(o)
}

/// hash(`eucora.audit.v1`, the entry without `entry_hash`).
pub fn entry_hash(entry: &Map<String, Value>) -> Result<Digest32> {
    let mut body = entry.clone();
    body.remove("entry_hash");
    let bytes = canonical_bytes(&Value::Object(body)).map_err(|e| Error::new(codes::INVALID_ENTRY, e.message().to_string()))?;
    Ok(tagged_hash(Domain::Audit, &bytes))
}

/// Append `entry` after `head` (the log's last entry, `None` for an empty
/// log): `seq`, `prev_hash` and `entry_hash` are filled in (any given are
/// replaced), `at` normalised to UTC, absent `before_hash`, `after_hash`,
/// `correlation_id` written null, absent `evidence` `[]` and `details` `{}`.
/// The entry must name an instant, a D1 actor, an action and an entity
/// `{type, id}`; `details` whose keys look like secrets are refused.
pub fn append(head: Option<&Value>, entry: &Value) -> Result<Value> {
    let bad = |p: &str, m: &str| Error::at(codes::INVALID_ENTRY, p, m);
    let Some(o) = entry.as_object() else { return Err(bad("$", "an entry is a JSON object")) };
    if let Some(k) = o.keys().find(|k| !ENTRY_KEYS.contains(&k.as_str())) {
        let shown = if eucora_license_core::internal::error::is_displayable_name(k) { format!(" `{k}`") } else { String::new() };
        return Err(bad("$", &format!("unknown key{shown}")));
    }
    let at = o
        .get("at")
        .and_then(Value::as_str)
        .and_then(|s| Instant::parse(s).ok())
        .ok_or_else(|| bad("$.at", "expected an RFC 3339 instant"))?;
    let actor = Actor::from_value(o.get("actor").unwrap_or(&Value::Null)).map_err(|e| bad("$.actor", &e.to_string()))?;
    let action = match o.get("action") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(bad("$.action", "expected a non-empty string")),
    };
    let entity = o.get("entity").cloned().unwrap_or(Value::Null);
    match exact_keys(&entity, &["type", "id"]) {
        Some(e) if e["type"].is_string() && e["id"].is_string() => {}
        _ => return Err(bad("$.entity", "expected {\"type\": string, \"id\": string}")),
    }
    let nullable_string = |k: &str| -> Result<Value> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(Value::Null),
            Some(Value::String(s)) => Ok(Value::String(s.clone())),
            Some(_) => Err(bad(&format!("$.{k}"), "expected a string or null")),
        }
    };
    let evidence = match o.get("evidence") {
        None => json!([]),
        Some(v @ Value::Array(_)) => v.clone(),
        Some(_) => return Err(bad("$.evidence", "expected an array")),
    };
    let details = match o.get("details") {
        None => json!({}),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(bad("$.details", "expected an object")),
    };
    if let Some(p) = secret_key(&details, "$.details") {
        return Err(bad(&p, "looks like a secret; details never hold one (A7)"));
    }
    let (seq, prev_hash) = match head {
        None => (1u64, Value::Null),
        Some(h) => {
            let seq = h.get("seq").and_then(Value::as_u64).ok_or_else(|| bad("$", "the head entry has no seq"))?;
            let prev =
                h.get("entry_hash").filter(|v| digest(v).is_some()).cloned().ok_or_else(|| bad("$", "the head entry has no entry_hash"))?;
            (seq + 1, prev)
        }
    };
    let mut out = Map::new();
    out.insert("seq".into(), json!(seq));
    out.insert("prev_hash".into(), prev_hash);
    out.insert("at".into(), json!(at.to_string()));
    out.insert("actor".into(), actor.to_value());
    out.insert("action".into(), json!(action));
    out.insert("entity".into(), entity);
    out.insert("before_hash".into(), nullable_string("before_hash")?);
    out.insert("after_hash".into(), nullable_string("after_hash")?);
    out.insert("correlation_id".into(), nullable_string("correlation_id")?);
    out.insert("evidence".into(), evidence);
    out.insert("details".into(), details);
    let h = entry_hash(&out)?;
    out.insert("entry_hash".into(), json!(h.to_prefixed()));
    Ok(Value::Object(out))
}

fn secret_key(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::Object(o) => o.iter().find_map(|(k, v)| {
            let norm: String = k.to_lowercase().chars().filter(|c| *c != '_' && *c != '-').collect();
            if SECRET_KEYS.contains(&norm.as_str()) {
                Some(format!("{path}.{k}"))
            } else {
                secret_key(v, &format!("{path}.{k}"))
            }
        }),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, v)| secret_key(v, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// The entries of a `LOG.jsonl` (D6): one JSON object per line, lines split
/// on `\n` only, blank lines ignored. A line that is not UTF-8 JSON stays in
/// place as `null`, so [`verify_log`] names it by its position
/// (`entry_hash_mismatch`) instead of the whole log being refused: an
/// auditor wants the first bad entry, not "unreadable".
pub fn parse_log(bytes: &[u8]) -> Vec<Value> {
    bytes
        .split(|b| *b == b'\n')
        .map(std::str::from_utf8)
        .filter(|l| !l.is_ok_and(|t| t.trim().is_empty()))
        .map(|l| l.ok().and_then(|t| eucora_license_core::internal::canonical::parse_strict(t).ok()).unwrap_or(Value::Null))
        .collect()
}

/// The entry's hash when it is a well-formed entry whose `entry_hash` is
/// the hash of its content.
fn checked_hash(entry: &Value) -> Option<Digest32> {
    let o = exact_keys(entry, &ENTRY_KEYS)?;
    let stored = digest(&o["entry_hash"])?;
    (entry_hash(o).ok()? == stored).then_some(stored)
}

/// Check the chain, entry by entry (D6): `entry_hash_mismatch`; `seq_gap`
/// when `seq` is ahead of the position; `prev_hash_mismatch`; `seq_gap` for
/// any other wrong `seq`. Then, when given, the checkpoint against the
/// log's first `size` entries (root and head hash): `checkpoint_mismatch`
/// at the checkpoint's `size` (a log shorter than the checkpoint was cut).
pub fn verify_log(entries: &[Value], checkpoint: Option<&Checkpoint>) -> LogReport {
    let size = entries.len() as u64;
    let fail = |code, seq| LogReport { ok: false, size, failure: Some(LogFailure { code, seq }) };
    let mut hashes = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let pos = i as u64 + 1;
        let Some(h) = checked_hash(e) else { return fail(AuditFailure::EntryHashMismatch, pos) };
        let seq = e["seq"].as_u64();
        if seq.is_some_and(|s| s > pos) {
            return fail(AuditFailure::SeqGap, pos);
        }
        let expected_prev = hashes.last().map(|d: &Digest32| Value::String(d.to_prefixed())).unwrap_or(Value::Null);
        if e["prev_hash"] != expected_prev {
            return fail(AuditFailure::PrevHashMismatch, pos);
        }
        if seq != Some(pos) {
            return fail(AuditFailure::SeqGap, pos);
        }
        hashes.push(h);
    }
    if let Some(c) = checkpoint {
        let holds = c.size <= size && {
            let n = c.size as usize;
            root_of_leaves(hashes[..n].iter().map(|h| leaf_hash(&h.0)).collect()) == c.root && hashes[..n].last().copied() == c.head_hash
        };
        if !holds {
            return fail(AuditFailure::CheckpointMismatch, c.size);
        }
    }
    LogReport { ok: true, size, failure: None }
}

/// The entry hashes of a log that verifies; the failure as an error (its
/// code is the failure's).
fn verified_hashes(entries: &[Value]) -> Result<Vec<Digest32>> {
    let r = verify_log(entries, None);
    if let Some(f) = r.failure {
        return Err(Error::new(f.code.name(), format!("the log does not verify at entry {}", f.seq)));
    }
    Ok(entries.iter().filter_map(|e| digest(&e["entry_hash"])).collect())
}

fn leaves(hashes: &[Digest32]) -> Vec<Digest32> {
    hashes.iter().map(|h| leaf_hash(&h.0)).collect()
}

/// `{size, root, head_hash}` of a log that verifies (its failure otherwise).
pub fn checkpoint(entries: &[Value]) -> Result<Checkpoint> {
    let hashes = verified_hashes(entries)?;
    Ok(Checkpoint { size: hashes.len() as u64, root: root_of_leaves(leaves(&hashes)), head_hash: hashes.last().copied() })
}

fn path_json(path: &[Digest32]) -> Value {
    Value::Array(path.iter().map(|d| json!(d.to_prefixed())).collect())
}

/// RFC 9162 inclusion proof of entry `seq` (1-based):
/// `{"kind": "inclusion", "seq", "tree_size", "entry_hash", "path"}`.
/// A `seq` outside `1..=size` is `out_of_range`.
pub fn prove_entry(entries: &[Value], seq: u64) -> Result<Value> {
    let hashes = verified_hashes(entries)?;
    if seq == 0 || seq > hashes.len() as u64 {
        return Err(Error::new(codes::OUT_OF_RANGE, format!("seq must be in 1..={}", hashes.len())));
    }
    let i = (seq - 1) as usize;
    let path = inclusion_path(&leaves(&hashes), i);
    Ok(json!({"kind": "inclusion", "seq": seq, "tree_size": hashes.len(), "entry_hash": hashes[i].to_prefixed(), "path": path_json(&path)}))
}

/// RFC 9162 consistency proof from the first `old_size` entries to the
/// whole log: `{"kind": "consistency", "old_size", "new_size", "new_root",
/// "path"}`. From size 0, or past the log's size, is `out_of_range`; from
/// `n` to `n` the path is empty.
pub fn prove_consistency(entries: &[Value], old_size: u64) -> Result<Value> {
    let hashes = verified_hashes(entries)?;
    if old_size == 0 || old_size > hashes.len() as u64 {
        return Err(Error::new(codes::OUT_OF_RANGE, format!("old size must be in 1..={}", hashes.len())));
    }
    let l = leaves(&hashes);
    let path = consistency_path(&l, old_size as usize);
    Ok(
        json!({"kind": "consistency", "old_size": old_size, "new_size": hashes.len(), "new_root": root_of_leaves(l).to_prefixed(), "path": path_json(&path)}),
    )
}

/// Why a proof does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofFailure {
    /// Not a proof document of either kind.
    MalformedProof,
    /// Not a checkpoint document.
    MalformedCheckpoint,
    /// The proof's size is not the checkpoint's (`tree_size` for inclusion,
    /// `old_size` for consistency).
    SizeMismatch,
    /// The `seq` or sizes are out of range (`seq` outside `1..=size`, a
    /// consistency from 0 or to a smaller size).
    OutOfRange,
    /// The path does not lead from the entry hash to the checkpoint's root.
    RootMismatch,
    /// The path does not show the old tree to be a prefix of the new one.
    Inconsistent,
}

impl ProofFailure {
    /// The stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            ProofFailure::MalformedProof => "malformed_proof",
            ProofFailure::MalformedCheckpoint => "malformed_checkpoint",
            ProofFailure::SizeMismatch => "size_mismatch",
            ProofFailure::OutOfRange => "out_of_range",
            ProofFailure::RootMismatch => "root_mismatch",
            ProofFailure::Inconsistent => "inconsistent",
        }
    }
}

/// A verified proof's facts, or why it does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofVerdict {
    /// `{"ok": true, "kind": "inclusion", "seq", "entry_hash", "tree_size", "root"}`.
    Inclusion {
        /// The entry proven.
        seq: u64,
        /// Its hash.
        entry_hash: Digest32,
        /// The checkpoint's size.
        tree_size: u64,
        /// The checkpoint's root.
        root: Digest32,
    },
    /// `{"ok": true, "kind": "consistency", "old_size", "old_root", "new_size", "new_root"}`.
    Consistency {
        /// The checkpoint's size.
        old_size: u64,
        /// The checkpoint's root.
        old_root: Digest32,
        /// The grown log's size.
        new_size: u64,
        /// The grown log's root, vouched for.
        new_root: Digest32,
    },
    /// `{"ok": false, "reason"}`.
    Failed(ProofFailure),
}

impl ProofVerdict {
    /// True when the proof holds.
    pub fn ok(&self) -> bool {
        !matches!(self, ProofVerdict::Failed(_))
    }

    /// As JSON.
    pub fn to_value(&self) -> Value {
        match self {
            ProofVerdict::Inclusion { seq, entry_hash, tree_size, root } => json!({"ok": true, "kind": "inclusion", "seq": seq,
                "entry_hash": entry_hash.to_prefixed(), "tree_size": tree_size, "root": root.to_prefixed()}),
            ProofVerdict::Consistency { old_size, old_root, new_size, new_root } => json!({"ok": true, "kind": "consistency",
                "old_size": old_size, "old_root": old_root.to_prefixed(), "new_size": new_size, "new_root": new_root.to_prefixed()}),
            ProofVerdict::Failed(f) => json!({"ok": false, "reason": f.name()}),
        }
    }
}

fn path_of(v: &Value) -> Option<Vec<Digest32>> {
    v.as_array()?.iter().map(digest).collect()
}

/// Verify an inclusion or consistency proof against a checkpoint: for
/// inclusion, the checkpoint of the tree the proof is for (its `size` must
/// equal `tree_size`); for consistency, the *old* checkpoint the auditor
/// holds (its `size` must equal `old_size`), and the proof then vouches for
/// `new_root`. Sizes come from the checkpoint, never from the proof alone.
pub fn verify_proof(proof: &Value, checkpoint: &Value) -> ProofVerdict {
    let Ok(cp) = Checkpoint::from_value(checkpoint) else { return ProofVerdict::Failed(ProofFailure::MalformedCheckpoint) };
    let kind = proof.get("kind").and_then(Value::as_str);
    match kind {
        Some("inclusion") => {
            let Some(o) = exact_keys(proof, &["kind", "seq", "tree_size", "entry_hash", "path"]) else {
                return ProofVerdict::Failed(ProofFailure::MalformedProof);
            };
            let (Some(seq), Some(tree_size), Some(entry_hash), Some(path)) =
                (o["seq"].as_u64(), o["tree_size"].as_u64(), digest(&o["entry_hash"]), path_of(&o["path"]))
            else {
                return ProofVerdict::Failed(ProofFailure::MalformedProof);
            };
            if tree_size != cp.size {
                return ProofVerdict::Failed(ProofFailure::SizeMismatch);
            }
            if seq == 0 || seq > cp.size {
                return ProofVerdict::Failed(ProofFailure::OutOfRange);
            }
            if !verify_inclusion(&leaf_hash(&entry_hash.0), seq - 1, cp.size, &path, &cp.root) {
                return ProofVerdict::Failed(ProofFailure::RootMismatch);
            }
            ProofVerdict::Inclusion { seq, entry_hash, tree_size: cp.size, root: cp.root }
        }
        Some("consistency") => {
            let Some(o) = exact_keys(proof, &["kind", "old_size", "new_size", "new_root", "path"]) else {
                return ProofVerdict::Failed(ProofFailure::MalformedProof);
            };
            let (Some(old_size), Some(new_size), Some(new_root), Some(path)) =
                (o["old_size"].as_u64(), o["new_size"].as_u64(), digest(&o["new_root"]), path_of(&o["path"]))
            else {
                return ProofVerdict::Failed(ProofFailure::MalformedProof);
            };
            if old_size != cp.size {
                return ProofVerdict::Failed(ProofFailure::SizeMismatch);
            }
            if cp.size == 0 || new_size < cp.size {
                return ProofVerdict::Failed(ProofFailure::OutOfRange);
            }
            if !verify_consistency(cp.size, new_size, &cp.root, &new_root, &path) {
                return ProofVerdict::Failed(ProofFailure::Inconsistent);
            }
            ProofVerdict::Consistency { old_size: cp.size, old_root: cp.root, new_size, new_root }
        }
        _ => ProofVerdict::Failed(ProofFailure::MalformedProof),
    }
}

/// The empty log's root, `SHA-256("")` (D6).
pub fn empty_root() -> Digest32 {
    sha256(b"")
}
