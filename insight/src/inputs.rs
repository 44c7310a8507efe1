//! Reading the inputs (DESIGN C1, C6): the history's chain check, the
//! latest pack opened (A7 integrity, no replay) and matched to the latest
//! snapshot, and the few fields the rules read from snapshots and pack
//! members. The only module that looks inside a snapshot's JSON, so a typed
//! snapshot API replaces it here alone.

use crate::error::{InsightCode, InsightError, Result};
use crate::rational::Rat;
use eucora_license_core::{open_pack, Date, Instant, Ruleset, Snapshot};
use serde_json::Value;
use std::collections::BTreeMap;

/// One pool record of a SKU (`pools[]` with a `pool` id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PoolRec {
    pub(crate) pool: String,
    pub(crate) entitled: i64,
    pub(crate) consumed: i64,
    pub(crate) remaining: i64,
    pub(crate) available: i64,
}

/// A SKU's counters in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SkuRec {
    pub(crate) model: String,
    pub(crate) entitled: i64,
    pub(crate) consumed: i64,
    pub(crate) remaining: i64,
    pub(crate) reserved: i64,
    pub(crate) compliance_status: String,
    pub(crate) variance: i64,
    pub(crate) variance_percent: Option<String>,
    pub(crate) pools: Vec<PoolRec>,
}

/// A source's coverage entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Coverage {
    pub(crate) status: String,
    pub(crate) signals: Option<i64>,
    pub(crate) last_observed_at: Option<Instant>,
    pub(crate) last_observed_text: Option<String>,
}

/// What the rules read from one verified snapshot.
#[derive(Debug, Clone)]
pub(crate) struct SnapView {
    pub(crate) hash: String,
    pub(crate) reconciled_at: Instant,
    pub(crate) reconciled_text: String,
    pub(crate) organization_id: String,
    pub(crate) skus: BTreeMap<String, SkuRec>,
    pub(crate) coverage: BTreeMap<String, Coverage>,
    pub(crate) exceptions: BTreeMap<String, i64>,
}

fn int(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(0)
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// A cost or currency field: `""` and `null` mean none (C6).
fn nonempty(v: &Value, k: &str) -> Option<String> {
    text(v, k).filter(|s| !s.is_empty())
}

impl SnapView {
    /// Read the typed snapshot document (parsed fully by the core, unknown
    /// fields refused) into what the rules use.
    fn read(s: &Snapshot) -> std::result::Result<SnapView, String> {
        let d = s.doc();
        let reconciled_text = d.reconciled_at.clone();
        let reconciled_at = Instant::parse(&reconciled_text).map_err(|_| "`reconciled_at` is not an instant".to_string())?;
        let skus = d
            .skus
            .iter()
            .map(|r| {
                let pools = r
                    .pools
                    .iter()
                    .filter_map(|p| {
                        Some(PoolRec {
                            pool: p.pool.clone()?,
                            entitled: p.entitled,
                            consumed: p.consumed,
                            remaining: p.remaining,
                            available: p.available,
                        })
                    })
                    .collect();
                let rec = SkuRec {
                    model: r.model.name().to_string(),
                    entitled: r.entitled,
                    consumed: r.consumed,
                    remaining: r.remaining,
                    reserved: r.reserved,
                    compliance_status: r.compliance_status.name().to_string(),
                    variance: r.variance,
                    variance_percent: r.variance_percent.clone(),
                    pools,
                };
                (r.sku.clone(), rec)
            })
            .collect();
        let coverage = d
            .coverage
            .iter()
            .map(|(src, c)| {
                let cov = Coverage {
                    status: c.status.name().to_string(),
                    signals: Some(c.signals),
                    last_observed_at: c.last_observed_at.as_deref().and_then(|t| Instant::parse(t).ok()),
                    last_observed_text: c.last_observed_at.clone(),
                };
                (src.clone(), cov)
            })
            .collect();
        let exceptions = d.exceptions_summary.iter().map(|(k, n)| (k.name().to_string(), *n)).collect();
        Ok(SnapView {
            hash: s.hash().to_prefixed(),
            reconciled_at,
            reconciled_text,
            organization_id: d.organization_id.clone(),
            skus,
            coverage,
            exceptions,
        })
    }
}

/// Check the chain of `history` (C6 order: own hash, link, sequence,
/// organisation) and read each snapshot; `chain_broken` names the first bad
/// link by its 1-based position.
pub(crate) fn read_history(history: &[&[u8]]) -> Result<Vec<SnapView>> {
    if history.is_empty() {
        return Err(InsightError::new(InsightCode::InvalidInput, "the history holds no snapshot", None));
    }
    let mut out: Vec<SnapView> = Vec::with_capacity(history.len());
    let mut prev: Option<Snapshot> = None;
    for (i, bytes) in history.iter().enumerate() {
        let broken = |m: String| InsightError::new(InsightCode::ChainBroken, m, Some(i + 1));
        let s = Snapshot::parse_verified(bytes).map_err(|e| broken(format!("the snapshot does not verify: {}", e.message())))?;
        if let Some(p) = &prev {
            let link = s.doc().previous_hash.as_deref();
            if link != Some(p.hash().to_prefixed().as_str()) {
                return Err(broken(format!("previous_hash does not name the snapshot before it ({})", p.hash())));
            }
            if p.sequence().checked_add(1) != Some(s.sequence()) {
                return Err(broken(format!("sequence {} does not follow {}", s.sequence(), p.sequence())));
            }
            if p.organization_id() != s.organization_id() {
                return Err(broken("the snapshot belongs to another organisation than the one before it".to_string()));
            }
        }
        out.push(SnapView::read(&s).map_err(broken)?);
        prev = Some(s);
    }
    Ok(out)
}

/// A catalog SKU: the fields the advisor and the IT-04 payloads need.
#[derive(Debug, Clone, Default)]
pub(crate) struct CatalogSku {
    pub(crate) name: Option<String>,
    pub(crate) model: String,
    pub(crate) vendor: Option<String>,
    pub(crate) unit_cost: Option<Rat>,
    pub(crate) currency: Option<String>,
    pub(crate) cost_period: Option<String>,
}

/// An entitlement row of `entitlements.json`.
#[derive(Debug, Clone)]
pub(crate) struct Entitlement {
    pub(crate) id: String,
    pub(crate) sku: String,
    pub(crate) quantity: i64,
    pub(crate) starts_on: Option<Date>,
    pub(crate) ends_on: Option<Date>,
    pub(crate) unit_cost: Option<Rat>,
    pub(crate) currency: Option<String>,
}

/// A directory row of `directory.json` (status and last activity may be
/// unknown in packs written before they were carried).
#[derive(Debug, Clone)]
pub(crate) struct DirRow {
    pub(crate) alias: String,
    pub(crate) canonical_id: String,
    pub(crate) principal_type: String,
    pub(crate) status: Option<String>,
    pub(crate) last_active_at: Option<Instant>,
}

/// A counted unit of `units.jsonl`.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    pub(crate) sku: String,
    pub(crate) key: String,
    pub(crate) signals: Vec<(String, String)>,
}

/// A normalised signal's activity fields.
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    pub(crate) kind: String,
    pub(crate) observed_at: Option<Instant>,
    pub(crate) last_used_at: Option<Instant>,
}

/// The verified inputs of one call.
#[derive(Debug)]
pub(crate) struct Inputs<'a> {
    pub(crate) history: Vec<SnapView>,
    pub(crate) catalog: BTreeMap<String, CatalogSku>,
    pub(crate) vendors: BTreeMap<String, String>,
    pub(crate) entitlements: Vec<Entitlement>,
    pub(crate) previous_entitlements: Option<Vec<Entitlement>>,
    pub(crate) directory: Vec<DirRow>,
    pub(crate) units: Vec<Unit>,
    pub(crate) inactivity_days: i64,
    pub(crate) expiry_notice_days: Vec<i64>,
    signals_bytes: &'a [u8],
}

impl Inputs<'_> {
    /// The latest snapshot.
    pub(crate) fn latest(&self) -> &SnapView {
        // `read_history` refuses an empty history.
        &self.history[self.history.len() - 1]
    }

    /// The activity of the pack's signals, by (`source`, `raw_id`). Each
    /// line is read into the four fields needed (borrowed where it can),
    /// not into a whole JSON value: a pack may hold millions of signals.
    pub(crate) fn activity(&self) -> Result<BTreeMap<(String, String), Activity>> {
        #[derive(serde::Deserialize)]
        struct Line<'a> {
            #[serde(borrow)]
            source: std::borrow::Cow<'a, str>,
            #[serde(borrow)]
            raw_id: std::borrow::Cow<'a, str>,
            #[serde(borrow, default)]
            kind: Option<std::borrow::Cow<'a, str>>,
            #[serde(borrow, default)]
            observed_at: Option<std::borrow::Cow<'a, str>>,
            #[serde(borrow, default)]
            last_used_at: Option<std::borrow::Cow<'a, str>>,
        }
        let mut out = BTreeMap::new();
        for (n, line) in self.signals_bytes.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let v: Line<'_> = serde_json::from_slice(line).map_err(|_| bad(&format!("signals.jsonl line {} is not a signal", n + 1)))?;
            let t = |x: &Option<std::borrow::Cow<'_, str>>| x.as_deref().and_then(|s| Instant::parse(s).ok());
            out.insert(
                (v.source.into_owned(), v.raw_id.into_owned()),
                Activity {
                    kind: v.kind.as_deref().unwrap_or_default().to_string(),
                    observed_at: t(&v.observed_at),
                    last_used_at: t(&v.last_used_at),
                },
            );
        }
        Ok(out)
    }
}

fn bad(m: &str) -> InsightError {
    InsightError::new(InsightCode::PackInvalid, m.to_string(), None)
}

fn json_member(pack: &eucora_license_core::OpenPack<'_>, name: &str) -> Result<Option<Value>> {
    match pack.member(name) {
        None => Ok(None),
        Some(b) => serde_json::from_slice(b).map(Some).map_err(|_| bad(&format!("{name} is not JSON"))),
    }
}

fn entitlements(v: &Value) -> Vec<Entitlement> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|e| Entitlement {
            id: text(e, "entitlement_id").unwrap_or_default(),
            sku: text(e, "sku").unwrap_or_default(),
            quantity: int(e, "quantity"),
            starts_on: text(e, "starts_on").and_then(|d| Date::parse(&d)),
            ends_on: text(e, "ends_on").and_then(|d| Date::parse(&d)),
            unit_cost: nonempty(e, "unit_cost").and_then(|c| Rat::from_decimal(&c)),
            currency: nonempty(e, "currency"),
        })
        .collect()
}

/// The tar of the latest pack: a compressed pack (the CLI's) is one zstd
/// frame around it (decompressed under bounds; see `pack_archive`), a plain
/// pack is its own tar. A frame that does not
/// decompress is `pack_invalid`, after the chain is checked (C6's order).
pub(crate) fn archive<'p>(history: &[&[u8]], pack: &'p [u8]) -> Result<std::borrow::Cow<'p, [u8]>> {
    eucora_license_core::pack_archive(pack).or_else(|e| {
        let n = read_history(history)?.len();
        Err(InsightError { index: Some(n), ..bad(&format!("the evidence pack does not verify: archive: {e}")) })
    })
}

/// Check the chain, open the latest pack (A7 integrity), match it to the
/// latest snapshot and read its members. Errors in C6's order after the
/// policy: `chain_broken`, `pack_invalid`, `pack_mismatch`, each with the
/// 1-based index of the offending run.
pub(crate) fn open<'a>(history: &[&[u8]], pack: &'a [u8]) -> Result<Inputs<'a>> {
    let history = read_history(history)?;
    let n = history.len();
    let with_index = |mut e: InsightError| {
        e.index = Some(n);
        e
    };
    let p = open_pack(pack).map_err(|e| with_index(bad(&format!("the evidence pack does not verify: {}", e.message()))))?;
    if p.snapshot().hash().to_prefixed() != history[n - 1].hash {
        return Err(InsightError::new(
            InsightCode::PackMismatch,
            format!("the evidence pack holds snapshot {}, not the latest snapshot {}", p.snapshot().hash(), history[n - 1].hash),
            Some(n),
        ));
    }
    read_members(history, &p).map_err(with_index)
}

fn read_members<'a>(history: Vec<SnapView>, p: &eucora_license_core::OpenPack<'a>) -> Result<Inputs<'a>> {
    let catalog_doc = json_member(p, "catalog.json")?.unwrap_or(Value::Null);
    let mut catalog = BTreeMap::new();
    for s in catalog_doc.get("skus").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
        let Some(id) = text(s, "id") else { continue };
        catalog.insert(
            id,
            CatalogSku {
                name: text(s, "name"),
                model: text(s, "model").unwrap_or_default(),
                vendor: text(s, "vendor"),
                unit_cost: nonempty(s, "unit_cost").and_then(|c| Rat::from_decimal(&c)),
                currency: nonempty(s, "currency"),
                cost_period: nonempty(s, "cost_period"),
            },
        );
    }
    let vendors = catalog_doc
        .get("vendors")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| Some((text(v, "id")?, text(v, "name")?)))
        .collect();
    let entitlements_now = entitlements(&json_member(p, "entitlements.json")?.unwrap_or(Value::Null));
    let previous_entitlements = json_member(p, "previous_entitlements.json")?.map(|v| entitlements(&v));
    let directory = json_member(p, "directory.json")?
        .unwrap_or(Value::Null)
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|r| DirRow {
            alias: text(r, "alias").unwrap_or_default(),
            canonical_id: text(r, "canonical_id").unwrap_or_default(),
            principal_type: text(r, "principal_type").unwrap_or_default(),
            status: nonempty(r, "status"),
            last_active_at: text(r, "last_active_at").and_then(|t| Instant::parse(&t).ok()),
        })
        .collect();
    let mut units = Vec::new();
    for (n, line) in p.member("units.jsonl").unwrap_or(&[]).split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let v: Value = serde_json::from_slice(line).map_err(|_| bad(&format!("units.jsonl line {} is not JSON", n + 1)))?;
        let u = &v["unit"];
        let signals = u
            .get("signals")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|s| (text(s, "source").unwrap_or_default(), text(s, "raw_id").unwrap_or_default()))
            .collect();
        units.push(Unit { sku: text(&v, "sku").unwrap_or_default(), key: text(u, "key").unwrap_or_default(), signals });
    }
    let ruleset_doc = json_member(p, "ruleset.json")?.unwrap_or(Value::Null);
    let ruleset: Ruleset =
        eucora_license_core::validate_ruleset(&ruleset_doc, None).map_err(|_| bad("ruleset.json is not a valid ruleset"))?;
    Ok(Inputs {
        history,
        catalog,
        vendors,
        entitlements: entitlements_now,
        previous_entitlements,
        directory,
        units,
        inactivity_days: ruleset.inactivity_days,
        expiry_notice_days: ruleset.expiry_notice_days.clone(),
        signals_bytes: p.member("signals.jsonl").unwrap_or(&[]),
    })
}

/// Open one run's pack for `compliance`: its snapshot (verified) and its
/// catalog, the pack checked against the snapshot.
pub(crate) fn open_one<'a>(snapshot: &[u8], pack: &'a [u8]) -> Result<Inputs<'a>> {
    open(&[snapshot], pack)
}
