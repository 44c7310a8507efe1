//! Pseudonymised evidence packs, for sharing outside the company.
//!
//! An auditor or a vendor may need to check the numbers without learning who
//! uses what. [`pseudonymise`] rebuilds a run with every principal replaced
//! by a keyed hash (HMAC-SHA-256 under a key only the host holds): users,
//! device serials, device ids, hostnames, and the records' `raw_id`s (which
//! often embed a user name). The same value always gets the same pseudonym, so
//! identity resolution, duplicate collapse and every counter come out exactly
//! as in the original run; the rebuilt run's evidence pack verifies and
//! replays on its own, and its manifest says it is pseudonymised and names
//! the original snapshot hash (and a fingerprint of the key, so the host can
//! show which key it used without revealing it).
//!
//! Values are hashed in their **normalised** form (as identity resolution
//! compares them) and pseudonyms are already normalised (`u…` lower-case hex
//! for users, `S…` upper-case for serials, `h…` for hostnames without dots,
//! `d…` for device ids), so replay, which normalises the directory again, sees
//! the same equalities. Some rules also break ties by *order* (the latest of
//! two assignments with one timestamp is the one whose `raw_id` sorts last; a
//! laptop listed under two people goes to the one that sorts first), so each
//! pseudonym starts with the value's rank among its kind in this run:
//! pseudonyms sort like the values they replace. That reveals the relative
//! order of names, nothing of the names themselves. What cannot be shared is left out: the unit-level diff
//! against the previous run (its units carry the real names), portal
//! observations, and the text of row errors (codes and lines stay).

use crate::canon::hash::{tagged, Domain};
use crate::error::{Error, ErrorCode, Result};
use crate::input::catalog::DirectoryRow;
use crate::input::normalize::{normalize_device_id, normalize_hostname, normalize_serial, normalize_user};
use crate::input::signals::SignalStore;
use crate::run::{compute, Outcome, RunInputs};
use crate::vocab::DeviceKeyPrefix;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A keyed pseudonym function (HMAC-SHA-256, RFC 2104).
pub(crate) struct Pseudonymiser {
    inner: [u8; 64],
    outer: [u8; 64],
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser { key: <withheld> }")
    }
}

/// Shortest key accepted: 16 bytes (128 bits).
pub(crate) const MIN_KEY_LEN: usize = 16;

impl Pseudonymiser {
    /// A pseudonymiser under `key` (at least [`MIN_KEY_LEN`] bytes; the host
    /// keeps it secret and stable to get stable pseudonyms).
    pub(crate) fn new(key: &[u8]) -> Result<Self> {
        if key.len() < MIN_KEY_LEN {
            return Err(Error::new(ErrorCode::InvalidInput, format!("the pseudonymisation key must have at least {MIN_KEY_LEN} bytes")));
        }
        let mut block = [0u8; 64];
        if key.len() > 64 {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        Ok(Pseudonymiser { inner: block.map(|b| b ^ 0x36), outer: block.map(|b| b ^ 0x5c) })
    }

    /// HMAC-SHA-256 of `kind` ‖ 0 ‖ `value`, first 16 bytes in hex.
    fn token(&self, kind: &str, value: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.inner);
        h.update(kind.as_bytes());
        h.update([0]);
        h.update(value.as_bytes());
        let inner = h.finalize();
        let mut h = Sha256::new();
        h.update(self.outer);
        h.update(inner);
        hex::encode(&h.finalize()[..16])
    }

    /// A fingerprint of the key (a tagged hash of an HMAC output): shows which
    /// key was used, reveals nothing of it.
    pub(crate) fn fingerprint(&self) -> String {
        tagged(Domain::Pack, self.token("fingerprint", "").as_bytes()).to_prefixed()
    }
}

/// The kinds of pseudonymised values.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    User,
    Serial,
    DeviceId,
    Hostname,
}

/// Order-preserving pseudonyms of one run: every value of a kind, ranked.
struct Table<'p> {
    p: &'p Pseudonymiser,
    values: std::collections::BTreeMap<(Kind, String), String>,
    raw_ids: std::collections::BTreeMap<(String, String), String>,
}

impl<'p> Table<'p> {
    fn new(p: &'p Pseudonymiser) -> Self {
        Table { p, values: Default::default(), raw_ids: Default::default() }
    }
    fn add(&mut self, kind: Kind, v: &str) {
        self.values.insert((kind, v.to_string()), String::new());
    }
    /// Assign pseudonyms: rank (zero-padded, so text order = rank order) + keyed hash.
    fn seal(&mut self) {
        let mut rank = 0usize;
        let mut last = None;
        for ((kind, v), out) in self.values.iter_mut() {
            if last != Some(*kind) {
                rank = 0;
                last = Some(*kind);
            }
            *out = match kind {
                Kind::User => format!("u{rank:09}{}", self.p.token("user", v)),
                Kind::Serial => format!("S{rank:09}{}", self.p.token("serial", v).to_uppercase()),
                Kind::DeviceId => format!("d{rank:09}{}", self.p.token("device_id", v)),
                Kind::Hostname => format!("h{rank:09}{}", self.p.token("hostname", v)),
            };
            rank += 1;
        }
        let mut rank = 0usize;
        let mut last: Option<String> = None;
        for ((source, raw), out) in self.raw_ids.iter_mut() {
            if last.as_deref() != Some(source.as_str()) {
                rank = 0;
                last = Some(source.clone());
            }
            *out = format!("r{rank:09}{}", self.p.token(&format!("raw_id:{source}"), raw));
            rank += 1;
        }
    }
    fn get(&self, kind: Kind, v: &str) -> String {
        self.values.get(&(kind, v.to_string())).cloned().unwrap_or_default()
    }
}

/// A directory value (`serial:…`, `id:…`, `name:…` for devices, a user
/// otherwise) in normalised form with its kind; `None` for values that
/// normalise to nothing (placeholders, IP addresses): they identify no one,
/// identity resolution ignores them, and they are kept as written.
fn directory_kind(v: &str, is_device: bool, inputs: &RunInputs) -> Option<(Kind, &'static str, String)> {
    let rs = &inputs.ruleset;
    if v.trim().is_empty() {
        return None;
    }
    if !is_device {
        return normalize_user(v, rs.strip_netbios_domain).map(|n| (Kind::User, "", n));
    }
    let (kind, rest) = v.split_once(':')?;
    let prefix = DeviceKeyPrefix::from_name(kind)?;
    match prefix {
        DeviceKeyPrefix::Serial => normalize_serial(rest, &rs.serial_placeholders).map(|n| (Kind::Serial, prefix.prefix(), n)),
        DeviceKeyPrefix::Id => normalize_device_id(rest).map(|n| (Kind::DeviceId, prefix.prefix(), n)),
        DeviceKeyPrefix::Name => normalize_hostname(rest).map(|n| (Kind::Hostname, prefix.prefix(), n)),
    }
}

/// The run of `outcome` rebuilt with every principal pseudonymised under
/// `key`. Its snapshot has the same counters (not the same hash: unit keys
/// differ), and its evidence pack verifies on its own.
///
/// ```
/// use eucora_license_core::{pseudonymise, reconcile, MemoryBundle};
/// let mut b = MemoryBundle::default();
/// b.insert("bundle.json", br#"{"organization_id":"o","as_of":"2026-11-22T06:00:00Z","run_id":"r","ruleset":"ruleset.json"}"#.to_vec());
/// b.insert("ruleset.json", include_bytes!("../../../rulesets/default/v1.json").to_vec());
/// b.insert("catalog.json", br#"{"vendors":[{"id":"v","name":"V"}],"skus":[{"id":"e3","vendor":"v","model":"user"}]}"#.to_vec());
/// b.insert("entitlements.csv", b"entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency\nE1,e3,C1,5,2026-01-01,,,\n".to_vec());
/// b.insert("signals/entra.csv", b"source,raw_id,observed_at,sku,kind,user\nentra,lic-alice,2026-11-21T00:00:00Z,e3,assignment,alice@acme.com\n".to_vec());
/// let out = reconcile(&b, None);
/// let shared = pseudonymise(&out, b"a key the host keeps secret").unwrap();
/// let sku = |o: &eucora_license_core::Outcome| o.snapshot.as_ref().unwrap().sku("e3").unwrap().consumed;
/// assert_eq!(sku(&shared), sku(&out));
/// let (pack, _) = eucora_license_core::internal::evidence::write_pack(&shared, Vec::new()).unwrap();
/// assert!(!pack.windows(5).any(|w| w == b"alice"));
/// assert!(eucora_license_core::internal::evidence::verify(&pack, None).ok);
/// ```
pub fn pseudonymise(outcome: &Outcome, key: &[u8]) -> Result<Outcome> {
    let p = Pseudonymiser::new(key)?;
    let (Some(inputs), Some(original)) = (&outcome.inputs, &outcome.snapshot) else {
        return Err(Error::new(ErrorCode::InvalidInput, "a failed run has nothing to pseudonymise"));
    };
    let src = &inputs.signals;
    const FIELDS: [(&str, Kind); 4] =
        [("user", Kind::User), ("device_serial", Kind::Serial), ("device_id", Kind::DeviceId), ("device_name", Kind::Hostname)];
    // Every value first (ranks need the whole set), then the rows.
    let mut table = Table::new(&p);
    let rows: Vec<Value> = src.rows.iter().map(|s| src.normalised_json(s)).collect();
    for v in &rows {
        for (field, kind) in FIELDS {
            if let Some(t) = v[field].as_str() {
                table.add(kind, t);
            }
        }
        if let (Some(source), Some(raw)) = (v["source"].as_str(), v["raw_id"].as_str()) {
            table.raw_ids.insert((source.to_string(), raw.to_string()), String::new());
        }
    }
    for d in &inputs.master.directory {
        for value in [&d.canonical_id, &d.alias] {
            if let Some((kind, _, n)) = directory_kind(value, d.is_device, inputs) {
                table.add(kind, &n);
            }
        }
    }
    table.seal();
    let mut store = SignalStore::default();
    for (s, mut v) in src.rows.iter().zip(rows) {
        for (field, kind) in FIELDS {
            if let Some(t) = v[field].as_str().map(|t| table.get(kind, t)) {
                v[field] = json!(t);
            }
        }
        let key = (v["source"].as_str().unwrap_or_default().to_string(), v["raw_id"].as_str().unwrap_or_default().to_string());
        v["raw_id"] = json!(table.raw_ids.get(&key).cloned().unwrap_or_default());
        store.push_normalised(&v, s.file).map_err(|e| Error::new(ErrorCode::Internal, format!("pseudonymised row: {e}")))?;
    }
    let mut jobs = inputs.jobs.clone();
    for job in &mut jobs {
        for e in &mut job.errors {
            e.message = format!("{} (text withheld in a pseudonymised pack)", e.code);
        }
        job.warnings.clear();
    }
    store.jobs = src.jobs.iter().map(|j| jobs.iter().find(|x| x.job_id == j.job_id).cloned().unwrap_or_else(|| j.clone())).collect();
    let mut master = inputs.master.clone();
    master.directory = inputs
        .master
        .directory
        .iter()
        .map(|d| DirectoryRow {
            canonical_id: directory_kind(&d.canonical_id, d.is_device, inputs)
                .map_or_else(|| d.canonical_id.clone(), |(kind, prefix, n)| format!("{prefix}{}", table.get(kind, &n))),
            alias: directory_kind(&d.alias, d.is_device, inputs)
                .map_or_else(|| d.alias.clone(), |(kind, prefix, n)| format!("{prefix}{}", table.get(kind, &n))),
            ..d.clone()
        })
        .collect();
    let unique = crate::engine::collapse_duplicates(&store).map_err(|e| {
        Error::new(ErrorCode::Internal, format!("pseudonyms collided: {}", e.first().map(|x| x.message().to_string()).unwrap_or_default()))
    })?;
    let rebuilt = RunInputs {
        params: inputs.params.clone(),
        ruleset: inputs.ruleset.clone(),
        master,
        signals: store,
        jobs,
        observations: Vec::new(),
        previous: inputs.previous.clone(),
        previous_run: None,
        warnings: Vec::new(),
        pseudonymised: Some(crate::document::manifest::PseudonymNote {
            scheme: "hmac-sha256".into(),
            fields: ["raw_id", "user", "device_serial", "device_id", "device_name", "directory"].map(String::from).to_vec(),
            key_fingerprint: p.fingerprint(),
            original_snapshot_hash: original.hash().to_prefixed(),
        }),
    };
    compute(rebuilt, &unique, &crate::run::RunOptions::default())
}
