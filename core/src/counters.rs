//! From accepted signals to consumption units and counters (DESIGN A2–A4,
//! A9, A10).
//!
//! The stages run in the contract's order: collapse duplicates, decide each
//! signal's fate (the order of exclusion), resolve identity once across all
//! SKUs, form units per license model, attribute units to pools, and compute
//! the counters. Everything here works on interned ids; the only string
//! comparisons are the tie-breaks the contract defines in byte order, so the
//! result never depends on the order rows arrived in.

use crate::catalog::{MasterData, Model, Scope};
use crate::error::{Error, ErrorCode, Location};
use crate::identity::{normalize_device_id, normalize_hostname, normalize_serial, normalize_user, UnionFind};
use crate::intern::NONE;
use crate::numbers::percent_2dp;
use crate::ruleset::{DupGroup, Ruleset};
use crate::signals::{Kind, Signal, SignalStore, Status};
use crate::time::Instant;
use rustc_hash::{FxHashMap, FxHashSet};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// An exception: a signal (or directory alias) the engine set aside or
/// flagged, with the contract's code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct ExceptionRecord {
    /// `future_signal`, `unknown_sku`, `unmapped_product`, `low_confidence`,
    /// `invalid_interval`, `ambiguous_identity`, `unattributable`,
    /// `conflicting_alias`, `feature_without_base`, `needs_review`.
    pub code: &'static str,
    /// Source system (`directory` for alias conflicts).
    pub source: String,
    /// Raw id in that source (the alias for alias conflicts).
    pub raw_id: String,
    /// What happened, for a human (product names, SKU ids; never secrets).
    pub detail: String,
}

/// Counters of one SKU or pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Entitled units.
    pub entitled: i64,
    /// Reserved units.
    pub reserved: i64,
    /// Reservation actually held: `min(reserved, max(0, entitled − consumed))`.
    pub reserved_effective: i64,
    /// Consumed units.
    pub consumed: i64,
    /// `entitled − consumed − reserved_effective` (negative when over-deployed).
    pub remaining: i64,
    /// `max(0, remaining)`.
    pub available: i64,
}

impl Counters {
    /// Derive the counters from entitled, reserved and consumed (DESIGN A4).
    ///
    /// ```
    /// use eucora_license_core::counters::Counters;
    /// let c = Counters::derive(100, 30, 80);
    /// assert_eq!((c.reserved_effective, c.remaining, c.available), (20, 0, 0));
    /// let over = Counters::derive(10, 5, 12);
    /// assert_eq!((over.reserved_effective, over.remaining, over.available), (0, -2, 0));
    /// ```
    ///
    /// The engine passes non-negative values of at most 2^53 − 1, for which
    /// every result is exact; for other operands the arithmetic saturates
    /// rather than wrap.
    pub fn derive(entitled: i64, reserved: i64, consumed: i64) -> Counters {
        let reserved_effective = reserved.min(entitled.saturating_sub(consumed).max(0));
        let remaining = entitled.saturating_sub(consumed).saturating_sub(reserved_effective);
        Counters { entitled, reserved, reserved_effective, consumed, remaining, available: remaining.max(0) }
    }

    /// `over_deployed`, `under_utilized` or `compliant`.
    pub fn compliance_status(&self, under_utilized_percent: i64) -> &'static str {
        if self.consumed > self.entitled {
            "over_deployed"
        } else if self.entitled > 0 && (self.consumed as i128) * 100 < (self.entitled as i128) * (under_utilized_percent as i128) {
            "under_utilized"
        } else {
            "compliant"
        }
    }

    /// `entitled − consumed`.
    pub fn variance(&self) -> i64 {
        self.entitled.saturating_sub(self.consumed)
    }

    /// `variance × 100 / entitled`, two places, half-even; `None` when nothing is entitled.
    pub fn variance_percent(&self) -> Option<String> {
        let variance = self.entitled as i128 - self.consumed as i128;
        (self.entitled != 0).then(|| percent_2dp(variance * 100, self.entitled as i128))
    }

    /// Add another set of counters field by field (totals); `None` when a
    /// sum leaves ±(2^53 − 1), the integers canonical JSON holds exactly
    /// (never a wrapped value).
    pub fn checked_add(&self, o: &Counters) -> Option<Counters> {
        let add = |a: i64, b: i64| a.checked_add(b).filter(|v| v.abs() <= MAX_COUNT);
        Some(Counters {
            entitled: add(self.entitled, o.entitled)?,
            reserved: add(self.reserved, o.reserved)?,
            reserved_effective: add(self.reserved_effective, o.reserved_effective)?,
            consumed: add(self.consumed, o.consumed)?,
            remaining: add(self.remaining, o.remaining)?,
            available: add(self.available, o.available)?,
        })
    }
}

/// The largest counter: 2^53 − 1, the largest integer canonical JSON holds
/// exactly (DESIGN A5). Quantities, their sums and peaks beyond it are
/// refused with an error, never wrapped or rounded.
pub const MAX_COUNT: i64 = crate::canonical::MAX_SAFE_INTEGER;

/// One consumption unit of a SKU, ready for hashing.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The unit's key: device key, user key, or the merged session interval.
    pub key: String,
    /// Canonical JSON bytes of the unit (its Merkle leaf).
    pub canonical: Vec<u8>,
}

/// A SKU's units packed in one buffer, in key order: each unit's canonical
/// JSON bytes (its Merkle leaf), back to back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitList {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl UnitList {
    fn from_sorted(units: Vec<Unit>) -> UnitList {
        let total = units.iter().map(|u| u.canonical.len()).sum();
        let mut list = UnitList { bytes: Vec::with_capacity(total), ends: Vec::with_capacity(units.len()) };
        for u in units {
            list.bytes.extend_from_slice(&u.canonical);
            list.ends.push(list.bytes.len());
        }
        list
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no unit.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Unit `i`'s canonical JSON bytes.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.bytes[start..end])
    }

    /// The units' canonical JSON bytes, in key order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }

    /// RFC 9162 root over the units (`units_root`).
    pub fn root(&self) -> crate::hash::Digest32 {
        crate::merkle::root_of_leaves(self.iter().map(crate::merkle::leaf_hash).collect())
    }
}

impl<'a> IntoIterator for &'a UnitList {
    type Item = &'a [u8];
    type IntoIter = Box<dyn Iterator<Item = &'a [u8]> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// A pool's result.
#[derive(Debug, Clone)]
pub struct PoolResult {
    /// Pool id; `None` for the unpooled remainder.
    pub pool: Option<String>,
    /// Scope text; `None` for the unpooled remainder.
    pub scope: Option<String>,
    /// Counters.
    pub counters: Counters,
}

/// The result for one SKU.
#[derive(Debug, Clone)]
pub struct SkuResult {
    /// SKU index in the master data.
    pub sku: usize,
    /// Counters.
    pub counters: Counters,
    /// Pools (empty when the SKU has none, or is concurrent).
    pub pools: Vec<PoolResult>,
    /// Units in key order.
    pub units: UnitList,
}

/// Per-source coverage facts gathered from accepted rows.
#[derive(Debug, Clone, Default)]
pub struct SourceFacts {
    /// Accepted rows (collapsed duplicates included).
    pub signals: u64,
    /// Latest `observed_at` not after `as_of`.
    pub last_observed_at: Option<Instant>,
}

/// Everything the counting stage produces.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// One result per catalog SKU, in SKU-id order.
    pub skus: Vec<SkuResult>,
    /// Exceptions, sorted.
    pub exceptions: Vec<ExceptionRecord>,
    /// Coverage facts by source name.
    pub sources: BTreeMap<String, SourceFacts>,
    /// Each row's fate (what the diff reads to say why a unit left).
    pub(crate) fates: Vec<Fate>,
    /// Per SKU index, the unit keys of principals whose latest assignment
    /// is not active (revoked or suspended): why their unit left.
    pub(crate) not_active: BTreeMap<usize, BTreeSet<String>>,
}

/// Why a signal does not qualify (the order of exclusion, DESIGN A9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Passed every exclusion; resolved to this SKU index.
    Qualified(u32),
    /// A session of this SKU that lies outside the window on its own. It does
    /// not qualify (nor feed identity), but an identical session (same user,
    /// host and start) that reaches into the window takes its end and
    /// quantity: identical sessions collapse before clipping (DESIGN A9).
    ClippedSession(u32),
    /// Set aside (with or without an exception).
    Excluded,
}

/// A device as resolved: the root of its component in the identity
/// union-find (serials, device ids and hostnames are its nodes).
type DeviceId = u32;

struct Identity {
    /// Node layout: serials `[0, n_serial)`, device ids `[n_serial, names)`,
    /// hostnames `[names, ..)`.
    n_serial: u32,
    names: u32,
    uf: UnionFind,
    /// Per root: the node naming the device — its byte-smallest strong hint
    /// (`id:` before `serial:`), else its smallest hostname.
    root_name: FxHashMap<u32, u32>,
    /// Resolved user id per interned user id (one alias step).
    user_resolved: Vec<u32>,
}

impl Identity {
    /// (class, text) of a node: class 0 device id, 1 serial, 2 hostname, so
    /// that tuple order is the canonical-key order.
    fn rank<'s>(&self, store: &'s SignalStore, node: u32) -> (u8, &'s str) {
        if node < self.n_serial {
            (1, store.serials.resolve(node))
        } else if node < self.names {
            (0, store.device_ids.resolve(node - self.n_serial))
        } else {
            (2, store.hostnames.resolve(node - self.names))
        }
    }

    /// The canonical key of a device (`id:V`, `serial:V`, or `name:V`).
    fn device_key(&self, store: &SignalStore, d: DeviceId) -> String {
        let node = self.root_name.get(&d).copied().unwrap_or(d);
        let (class, text) = self.rank(store, node);
        format!("{}{text}", ["id:", "serial:", "name:"][class as usize])
    }

    /// Whether a device has a strong hint.
    fn is_strong(&self, d: DeviceId) -> bool {
        self.root_name.get(&d).is_some_and(|&n| n < self.names)
    }

    fn node_of(&self, v: DirValue) -> Option<u32> {
        match v {
            DirValue::Serial(s) => Some(s),
            DirValue::DeviceId(d) => Some(self.n_serial + d),
            DirValue::Name(h) => Some(self.names + h),
            _ => None,
        }
    }
}

/// Run the counting stage over the rows `unique` (one per (source, raw_id),
/// from [`collapse_duplicates`]).
///
/// Fails (never wraps) when a sum leaves the exact integer range
/// ([`MAX_COUNT`]): entitlement quantities active on one day or pool
/// quantities or reservations of one SKU (`catalog_integrity`, located at
/// the row that crossed it), or the tokens of a concurrent peak
/// (`invalid_input`, located at a session of the peak).
pub fn evaluate(store: &mut SignalStore, md: &MasterData, rs: &Ruleset, as_of: Instant, unique: &[u32]) -> Result<Evaluation, Error> {
    let mut exceptions: Vec<ExceptionRecord> = Vec::new();

    // Coverage counts every accepted row, duplicates included.
    let mut by_source: FxHashMap<u32, SourceFacts> = FxHashMap::default();
    for s in &store.rows {
        let f = by_source.entry(s.source).or_default();
        f.signals += 1;
        if s.observed_at <= as_of && f.last_observed_at.is_none_or(|l| s.observed_at > l) {
            f.last_observed_at = Some(s.observed_at);
        }
    }
    let sources: BTreeMap<String, SourceFacts> = by_source.into_iter().map(|(k, v)| (store.sources.resolve(k).to_string(), v)).collect();

    // 2. The order of exclusion.
    let fates = qualify(store, md, rs, as_of, unique, &mut exceptions);

    // 3. Identity, once per run, from qualifying signals and the directory.
    let dir = intern_directory(store, md, rs);
    let identity = build_identity(store, md, unique, &fates, &dir, &mut exceptions);
    let (devices, ambiguous) = resolve_devices(store, rs, &identity, unique, &fates);
    for &i in &ambiguous {
        let s = &store.rows[i as usize];
        exceptions.push(ExceptionRecord {
            code: "ambiguous_identity",
            source: store.source_of(s).to_string(),
            raw_id: store.raw_id_of(s).to_string(),
            detail: format!("hostname `{}` belongs to several devices; counted as its own device", store.hostnames.resolve(s.hostname)),
        });
    }
    let device_user = device_users(store, &identity, unique, &fates, &devices);

    // 4. Units per model.
    let ctx = Ctx { store, md, rs, as_of, identity: &identity, devices: &devices, device_user: &device_user, unique, fates: &fates };
    let formed = ctx.form_units(&mut exceptions);

    let mut not_active: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for &(k, principal) in &formed.not_active {
        let key = if md.skus[k as usize].model == Model::Device {
            identity.device_key(store, principal)
        } else {
            store.users.resolve(principal).to_string()
        };
        not_active.entry(k as usize).or_default().insert(key);
    }

    // 5. Pools, counters, canonical units.
    let attrs = principal_attributes(md, &identity, &dir);
    let mut skus = Vec::with_capacity(md.skus.len());
    let day = as_of.date();
    let pools_of = crate::catalog::pools_by_sku(md);
    let mut counted_sessions: Vec<u32> = Vec::new();
    for (k, sku) in md.skus.iter().enumerate() {
        let mut entitled: i64 = 0;
        for e in md.entitlements.iter().filter(|e| e.sku == k && e.active_on(day)) {
            entitled = bounded_add(entitled, e.quantity).ok_or_else(|| {
                Error::new(
                    ErrorCode::CatalogIntegrity,
                    format!("the entitlements of SKU `{}` in force on {day} sum past {MAX_COUNT} (the largest exact JSON integer)", sku.id),
                )
                .at(e.location.clone())
            })?;
        }
        let pool_ids: &[usize] = pools_of.get(&k).map(Vec::as_slice).unwrap_or(&[]);
        let mut reserved: i64 = 0;
        for &p in pool_ids {
            let pool = &md.pools[p];
            reserved = bounded_add(reserved, pool.reserved).ok_or_else(|| {
                Error::new(
                    ErrorCode::CatalogIntegrity,
                    format!("the pools of SKU `{}` reserve more than {MAX_COUNT} units in all (the largest exact JSON integer)", sku.id),
                )
                .at(pool.location.clone().with_field("reserved"))
            })?;
        }
        if sku.model == Model::Concurrent {
            let intervals = formed.sessions.get(&(k as u32)).cloned().unwrap_or_default();
            let (peak, units) = ctx.concurrent_units(&sku.id, intervals, &mut counted_sessions)?;
            skus.push(SkuResult {
                sku: k,
                counters: Counters::derive(entitled, reserved, peak),
                pools: Vec::new(),
                units: UnitList::from_sorted(units),
            });
            continue;
        }
        let members = formed.units.get(&(k as u32)).map(Vec::as_slice).unwrap_or(&[]);
        let mut pool_consumed = vec![0i64; pool_ids.len() + 1];
        let mut units = Vec::with_capacity(members.len());
        for m in members {
            let (region, bu) = attrs.of(sku.model, m.principal);
            let slot = pick_pool(md, pool_ids, region, bu);
            pool_consumed[slot] += 1;
            let pool_name = if pool_ids.is_empty() {
                None
            } else if slot < pool_ids.len() {
                Some(md.pools[pool_ids[slot]].id.as_str())
            } else {
                Some("")
            };
            units.push(ctx.principal_unit(sku.model, m, pool_name));
        }
        units.sort_by(|a, b| a.key.cmp(&b.key));
        let consumed = members.len() as i64;
        let mut pools = Vec::new();
        if !pool_ids.is_empty() {
            let mut pooled_qty = 0i64;
            for (slot, &p) in pool_ids.iter().enumerate() {
                let pool = &md.pools[p];
                pooled_qty = bounded_add(pooled_qty, pool.quantity).ok_or_else(|| {
                    Error::new(
                        ErrorCode::CatalogIntegrity,
                        format!("the pool quantities of SKU `{}` sum past {MAX_COUNT} (the largest exact JSON integer)", sku.id),
                    )
                    .at(pool.location.clone().with_field("quantity"))
                })?;
                pools.push(PoolResult {
                    pool: Some(pool.id.clone()),
                    scope: Some(pool.scope.to_text()),
                    counters: Counters::derive(pool.quantity, pool.reserved, pool_consumed[slot]),
                });
            }
            pools.push(PoolResult {
                pool: None,
                scope: None,
                counters: Counters::derive((entitled - pooled_qty).max(0), 0, pool_consumed[pool_ids.len()]),
            });
        }
        skus.push(SkuResult {
            sku: k,
            counters: Counters::derive(entitled, reserved, consumed),
            pools,
            units: UnitList::from_sorted(units),
        });
    }

    // needs_review: signals a counted unit rests on, below review_confidence.
    for &i in formed.counted_signals.iter().chain(&counted_sessions) {
        let s = &store.rows[i as usize];
        if (s.confidence as i128) < rs.review_confidence.0 {
            exceptions.push(ExceptionRecord {
                code: "needs_review",
                source: store.source_of(s).to_string(),
                raw_id: store.raw_id_of(s).to_string(),
                detail: format!(
                    "confidence {} is below review_confidence",
                    crate::numbers::Fixed9(s.confidence as i128).to_canonical_string()
                ),
            });
        }
    }
    exceptions.sort();
    exceptions.dedup();
    Ok(Evaluation { skus, exceptions, sources, fates, not_active })
}

/// `a + b` when it stays within `0..=MAX_COUNT` (both are non-negative).
fn bounded_add(a: i64, b: i64) -> Option<i64> {
    a.checked_add(b).filter(|v| (0..=MAX_COUNT).contains(v))
}

/// Keep one row per (source, raw_id), the first in input order. Identical content collapses; different
/// content is `conflicting_duplicate` (every conflict reported, sorted).
pub fn collapse_duplicates(store: &SignalStore) -> Result<Vec<u32>, Vec<Error>> {
    // (hash, first row) of each (source, raw_id); strings compared on a hash match.
    let mut first: hashbrown::HashTable<(u64, u32)> = hashbrown::HashTable::with_capacity(store.rows.len());
    let mut unique = Vec::with_capacity(store.rows.len());
    let mut conflicts: Vec<Error> = Vec::new();
    for (i, s) in store.rows.iter().enumerate() {
        let raw = store.raw_id_of(s);
        let hash = crate::intern::hash_of(raw) ^ (s.source as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let same_key = |&(h, j): &(u64, u32)| {
            h == hash && {
                let o = &store.rows[j as usize];
                o.source == s.source && store.raw_id_of(o) == raw
            }
        };
        match first.find(hash, same_key) {
            None => {
                first.insert_unique(hash, (hash, i as u32), |&(h, _)| h);
                unique.push(i as u32);
            }
            Some(&(_, j)) => {
                let other = &store.rows[j as usize];
                if !other.same_content(s, store) {
                    // Report at the later of the two locations, naming both, so
                    // the message does not depend on input order.
                    let (a, b) = order_locations(store, other, s);
                    conflicts.push(
                        Error::new(
                            ErrorCode::ConflictingDuplicate,
                            format!(
                                "source `{}` raw_id `{}` appears with different content (also at {}:{})",
                                store.source_of(s),
                                raw,
                                job_path(store, a),
                                a.line
                            ),
                        )
                        .at(Location::line(job_path(store, b), b.line as u64)),
                    );
                }
            }
        }
    }
    if conflicts.is_empty() {
        Ok(unique)
    } else {
        conflicts.sort_by_key(|a| a.to_string());
        conflicts.dedup();
        Err(conflicts)
    }
}

/// The path of the file a row came from. A row always names a job of its
/// store, except in a crafted evidence pack (rows naming a job that
/// `imports.json` lacks): then the text says so instead of indexing past the
/// list.
fn job_path(store: &SignalStore, s: &Signal) -> String {
    store.jobs.get(s.file as usize).map_or_else(|| format!("<unknown import #{}>", s.file), |j| j.path.clone())
}

fn order_locations<'a>(store: &SignalStore, x: &'a Signal, y: &'a Signal) -> (&'a Signal, &'a Signal) {
    let kx = (job_path(store, x), x.line);
    let ky = (job_path(store, y), y.line);
    if kx <= ky {
        (x, y)
    } else {
        (y, x)
    }
}

/// Decide each unique signal's fate; record exceptions for the reasons that
/// have one (`future_signal`, `unknown_sku`, `unmapped_product`,
/// `low_confidence`, `invalid_interval`).
fn qualify(
    store: &SignalStore,
    md: &MasterData,
    rs: &Ruleset,
    as_of: Instant,
    unique: &[u32],
    exceptions: &mut Vec<ExceptionRecord>,
) -> Vec<Fate> {
    let mut fates = vec![Fate::Excluded; store.rows.len()];
    let sku_cache: Vec<Option<u32>> =
        (0..store.sku_texts.len() as u32).map(|t| md.sku_index(store.sku_texts.resolve(t)).map(|k| k as u32)).collect();
    let product_cache: Vec<Option<u32>> = (0..store.products.len() as u32)
        .map(|p| rs.map_product(store.products.resolve(p)).and_then(|id| md.sku_index(id)).map(|k| k as u32))
        .collect();
    // A lookback reaching before the first representable instant excludes
    // nothing: the start is then "none" (exact, not saturated).
    let lookback_start = |kind: Kind| rs.lookback_days(kind).and_then(|d| as_of.checked_plus_days(d.checked_neg()?));
    let starts = [Kind::Assignment, Kind::Installation, Kind::Usage, Kind::Session].map(lookback_start);
    let window_start = window_start(as_of, rs.window_days);
    let min_conf = rs.min_confidence.0;
    for &i in unique {
        let s = &store.rows[i as usize];
        let mut exc = |code: &'static str, detail: String| {
            exceptions.push(ExceptionRecord {
                code,
                source: store.source_of(s).to_string(),
                raw_id: store.raw_id_of(s).to_string(),
                detail,
            })
        };
        if s.observed_at > as_of {
            exc("future_signal", format!("observed_at {} is after as_of {}", s.observed_at, as_of));
            continue;
        }
        if let Some(start) = starts[s.kind as usize] {
            if s.observed_at <= start {
                continue; // outside its kind's lookback: silent
            }
        }
        let sku = if s.sku_text != NONE {
            match sku_cache[s.sku_text as usize] {
                Some(k) => k,
                None => {
                    exc("unknown_sku", format!("SKU `{}` is not in the catalog", store.sku_texts.resolve(s.sku_text)));
                    continue;
                }
            }
        } else {
            match product_cache[s.product as usize] {
                Some(k) => k,
                None => {
                    exc("unmapped_product", format!("product `{}` matches no sku_mappings rule", store.products.resolve(s.product)));
                    continue;
                }
            }
        };
        if (s.confidence as i128) < min_conf {
            exc("low_confidence", "confidence is below min_confidence".to_string());
            continue;
        }
        if s.kind == Kind::Session {
            let Some(d) = s.session_data(store) else { continue };
            let start = d.start;
            if let Some(end) = d.end {
                if end <= start {
                    exc("invalid_interval", format!("session_end {end} is not after session_start {start}"));
                    continue;
                }
            }
            let end = d.end.map_or(as_of, |e| e.min(as_of));
            if window_start.map_or(start, |w| start.max(w)) >= end {
                fates[i as usize] = Fate::ClippedSession(sku); // clipped away: silent
                continue;
            }
        }
        fates[i as usize] = Fate::Qualified(sku);
    }
    fates
}

/// `as_of − window_days`, or `None` when that lies before the first
/// representable instant (no lower bound: exact, not saturated).
fn window_start(as_of: Instant, window_days: i64) -> Option<Instant> {
    as_of.checked_plus_days(window_days.checked_neg()?)
}

/// A directory value, typed and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DirValue {
    Serial(u32),
    DeviceId(u32),
    Name(u32),
    User(u32),
    Absent,
}

/// Directory rows with their values interned into the signal tables.
struct DirectoryIds {
    rows: Vec<(DirValue, DirValue)>,
}

fn intern_directory(store: &mut SignalStore, md: &MasterData, rs: &Ruleset) -> DirectoryIds {
    let mut rows = Vec::with_capacity(md.directory.len());
    for r in &md.directory {
        let mut conv = |v: &str| -> DirValue {
            if v.is_empty() {
                return DirValue::Absent;
            }
            if !r.is_device {
                return normalize_user(v, rs.strip_netbios_domain).map_or(DirValue::Absent, |u| DirValue::User(store.users.intern(&u)));
            }
            if let Some(x) = v.strip_prefix("serial:") {
                normalize_serial(x, &rs.serial_placeholders).map_or(DirValue::Absent, |x| DirValue::Serial(store.serials.intern(&x)))
            } else if let Some(x) = v.strip_prefix("id:") {
                normalize_device_id(x).map_or(DirValue::Absent, |x| DirValue::DeviceId(store.device_ids.intern(&x)))
            } else if let Some(x) = v.strip_prefix("name:") {
                normalize_hostname(x).map_or(DirValue::Absent, |x| DirValue::Name(store.hostnames.intern(&x)))
            } else {
                DirValue::Absent
            }
        };
        let c = conv(&r.canonical_id);
        let a = conv(&r.alias);
        rows.push((c, a));
    }
    DirectoryIds { rows }
}

/// The identity union-find: strong hints on one qualifying signal are one
/// device, and every directory device row is an alias of one device (names
/// included: a directory hostname alias binds that hostname to its device).
fn build_identity(
    store: &SignalStore,
    md: &MasterData,
    unique: &[u32],
    fates: &[Fate],
    dir: &DirectoryIds,
    exceptions: &mut Vec<ExceptionRecord>,
) -> Identity {
    let n_serial = store.serials.len() as u32;
    let names = n_serial + store.device_ids.len() as u32;
    let total = names + store.hostnames.len() as u32;
    let mut id =
        Identity { n_serial, names, uf: UnionFind::new(total as usize), root_name: FxHashMap::default(), user_resolved: Vec::new() };
    for &i in unique {
        let s = &store.rows[i as usize];
        if matches!(fates[i as usize], Fate::Qualified(_)) && s.serial != NONE && s.device_id != NONE {
            id.uf.union(s.serial, n_serial + s.device_id);
        }
    }
    for &(c, a) in &dir.rows {
        if let (Some(x), Some(y)) = (id.node_of(c), id.node_of(a)) {
            id.uf.union(x, y);
        }
    }
    // The node naming each device: the byte-smallest strong hint (`id:` sorts
    // before `serial:`), else the smallest hostname.
    let mut best: FxHashMap<u32, u32> = FxHashMap::default();
    for node in 0..total {
        let root = id.uf.find(node);
        match best.get_mut(&root) {
            Some(cur) => {
                if id.rank(store, node) < id.rank(store, *cur) {
                    *cur = node;
                }
            }
            None => {
                best.insert(root, node);
            }
        }
    }
    id.root_name = best;

    // Users: one alias step; an alias under several canonical ids maps to the smallest.
    let mut alias_to: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (r, &(c, a)) in md.directory.iter().zip(&dir.rows) {
        if r.is_device {
            continue;
        }
        if let (DirValue::User(c), DirValue::User(a)) = (c, a) {
            alias_to.entry(a).or_default().push(c);
        }
    }
    id.user_resolved = (0..store.users.len() as u32).collect();
    for (alias, mut canon) in alias_to {
        canon.sort_by(|x, y| store.users.resolve(*x).cmp(store.users.resolve(*y)));
        canon.dedup();
        id.user_resolved[alias as usize] = canon[0];
        if canon.len() > 1 {
            exceptions.push(ExceptionRecord {
                code: "conflicting_alias",
                source: "directory".to_string(),
                raw_id: store.users.resolve(alias).to_string(),
                detail: format!(
                    "alias listed under {}; using `{}`",
                    canon.iter().map(|c| format!("`{}`", store.users.resolve(*c))).collect::<Vec<_>>().join(", "),
                    store.users.resolve(canon[0])
                ),
            });
        }
    }
    id
}

/// One root or "several".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidates {
    None,
    One(u32),
    Several,
}

impl Candidates {
    fn add(&mut self, root: u32) {
        *self = match *self {
            Candidates::None => Candidates::One(root),
            Candidates::One(r) if r == root => Candidates::One(r),
            _ => Candidates::Several,
        }
    }
}

/// The device of every signal that counts or could (qualifying signals and
/// sessions clipped by the window); NONE when it has no device hint. Also the
/// signals whose hostname fallback was ambiguous.
fn resolve_devices(store: &SignalStore, rs: &Ruleset, id: &Identity, unique: &[u32], fates: &[Fate]) -> (Vec<DeviceId>, Vec<u32>) {
    let mut uf = id.uf.clone();
    let n_serial = id.n_serial;
    let strong_of = |uf: &mut UnionFind, s: &Signal| -> Option<u32> {
        if s.serial != NONE {
            Some(uf.find(s.serial))
        } else if s.device_id != NONE {
            Some(uf.find(n_serial + s.device_id))
        } else {
            None
        }
    };
    // Hostname fallback candidates: strong devices whose qualifying signals
    // carry the hostname beside a strong hint.
    let mut from_signals = vec![Candidates::None; store.hostnames.len()];
    if rs.hostname_fallback {
        for &i in unique {
            let s = &store.rows[i as usize];
            if matches!(fates[i as usize], Fate::Qualified(_)) && s.hostname != NONE {
                if let Some(r) = strong_of(&mut uf, s) {
                    from_signals[s.hostname as usize].add(r);
                }
            }
        }
    }
    let mut devices = vec![NONE; store.rows.len()];
    let mut ambiguous = Vec::new();
    for &i in unique {
        if !matches!(fates[i as usize], Fate::Qualified(_) | Fate::ClippedSession(_)) {
            continue;
        }
        let s = &store.rows[i as usize];
        devices[i as usize] = match strong_of(&mut uf, s) {
            Some(r) => r,
            None if s.hostname == NONE => NONE,
            None => {
                // Known by hostname alone: a directory alias binding it to a
                // strong device wins; else the hostname fallback.
                let own = uf.find(id.names + s.hostname);
                if id.is_strong(own) {
                    own
                } else {
                    match from_signals[s.hostname as usize] {
                        Candidates::One(r) => r,
                        Candidates::Several => {
                            if matches!(fates[i as usize], Fate::Qualified(_)) {
                                ambiguous.push(i);
                            }
                            own
                        }
                        Candidates::None => own,
                    }
                }
            }
        };
    }
    (devices, ambiguous)
}

/// Each device's user: the smallest resolved user key among qualifying
/// signals of that device that carry a user.
fn device_users(store: &SignalStore, id: &Identity, unique: &[u32], fates: &[Fate], devices: &[DeviceId]) -> FxHashMap<DeviceId, u32> {
    let mut out: FxHashMap<DeviceId, u32> = FxHashMap::default();
    for &i in unique {
        let s = &store.rows[i as usize];
        let d = devices[i as usize];
        if !matches!(fates[i as usize], Fate::Qualified(_)) || d == NONE || s.user == NONE {
            continue;
        }
        let u = id.user_resolved[s.user as usize];
        out.entry(d)
            .and_modify(|cur| {
                if store.users.resolve(u) < store.users.resolve(*cur) {
                    *cur = u;
                }
            })
            .or_insert(u);
    }
    out
}

/// A unit under formation: a principal of a SKU and the signals it rests on.
#[derive(Debug, Clone)]
struct Member {
    principal: u32,
    signals: Vec<u32>,
}

/// A session interval after identity resolution.
#[derive(Debug, Clone)]
struct Session {
    user: u32,
    host: DeviceId,
    start: Instant,
    end: Instant,
    quantity: u64,
    signals: Vec<u32>,
}

struct Formed {
    units: FxHashMap<u32, Vec<Member>>,
    sessions: FxHashMap<u32, Vec<Session>>,
    counted_signals: Vec<u32>,
    /// (SKU, principal) whose latest assignment is not active.
    not_active: Vec<(u32, u32)>,
}

struct Ctx<'a> {
    store: &'a SignalStore,
    md: &'a MasterData,
    rs: &'a Ruleset,
    as_of: Instant,
    identity: &'a Identity,
    devices: &'a [DeviceId],
    device_user: &'a FxHashMap<DeviceId, u32>,
    unique: &'a [u32],
    fates: &'a [Fate],
}

impl Ctx<'_> {
    /// Order of assignments: latest last by (observed_at, source, raw_id), bytes.
    fn assignment_order(&self, a: u32, b: u32) -> Ordering {
        let (x, y) = (&self.store.rows[a as usize], &self.store.rows[b as usize]);
        x.observed_at
            .cmp(&y.observed_at)
            .then_with(|| self.store.source_of(x).cmp(self.store.source_of(y)))
            .then_with(|| self.store.raw_id_of(x).cmp(self.store.raw_id_of(y)))
    }

    fn exception(&self, ex: &mut Vec<ExceptionRecord>, code: &'static str, i: u32, detail: String) {
        let s = &self.store.rows[i as usize];
        ex.push(ExceptionRecord { code, source: self.store.source_of(s).to_string(), raw_id: self.store.raw_id_of(s).to_string(), detail });
    }

    /// The user a user-model signal counts for: its own (resolved), else its
    /// device's user.
    fn user_of(&self, i: u32) -> u32 {
        let s = &self.store.rows[i as usize];
        if s.user != NONE {
            return self.identity.user_resolved[s.user as usize];
        }
        let d = self.devices[i as usize];
        if d == NONE {
            return NONE;
        }
        self.device_user.get(&d).copied().unwrap_or(NONE)
    }

    fn form_units(&self, ex: &mut Vec<ExceptionRecord>) -> Formed {
        // (sku, principal, signal) for usage/installation contributions.
        let mut direct: Vec<(u32, u32, u32)> = Vec::new();
        let mut assignments: Vec<(u32, u32, u32)> = Vec::new();
        let mut sessions: FxHashMap<u32, Vec<Session>> = FxHashMap::default();
        for &i in self.unique {
            let (k, clipped) = match self.fates[i as usize] {
                Fate::Qualified(k) => (k, false),
                Fate::ClippedSession(k) => (k, true),
                Fate::Excluded => continue,
            };
            let s = &self.store.rows[i as usize];
            let model = self.md.skus[k as usize].model;
            if clipped && model != Model::Concurrent {
                continue;
            }
            let counts = match (model, s.kind) {
                (Model::Concurrent, Kind::Session) => {
                    let Some(d) = s.session_data(self.store) else { continue };
                    let (start, end) = (d.start, d.end.unwrap_or(self.as_of));
                    let user = if s.user != NONE { self.identity.user_resolved[s.user as usize] } else { NONE };
                    sessions.entry(k).or_default().push(Session {
                        user,
                        host: self.devices[i as usize],
                        start,
                        end,
                        quantity: d.quantity,
                        signals: vec![i],
                    });
                    continue;
                }
                (Model::Device | Model::User, Kind::Installation | Kind::Usage) => false,
                (_, Kind::Assignment) if model != Model::Concurrent => true,
                _ => continue,
            };
            let principal = match model {
                Model::Device => self.devices[i as usize],
                _ => self.user_of(i),
            };
            if principal == NONE {
                let what = if model == Model::Device { "device" } else { "user" };
                self.exception(ex, "unattributable", i, format!("no {what} could be determined for a {} SKU", model.name()));
                continue;
            }
            if counts {
                assignments.push((k, principal, i));
            } else {
                direct.push((k, principal, i));
            }
        }
        // Latest assignment per (sku, principal).
        assignments.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| self.assignment_order(a.2, b.2)));
        let mut active_latest: FxHashSet<(u32, u32)> = FxHashSet::default();
        let mut latest_active: Vec<(u32, u32, u32)> = Vec::new();
        let mut not_active = Vec::new();
        for group in assignments.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let last = group[group.len() - 1];
            if self.store.rows[last.2 as usize].status == Status::Active {
                active_latest.insert((last.0, last.1));
                latest_active.push(last);
            } else {
                not_active.push((last.0, last.1));
            }
        }
        // Feature SKUs: a user without an active base assignment is flagged, still counted.
        for &(k, u, i) in &latest_active {
            let sku = &self.md.skus[k as usize];
            if let (Model::Feature, Some(base)) = (sku.model, sku.base) {
                if !active_latest.contains(&(base as u32, u)) {
                    self.exception(
                        ex,
                        "feature_without_base",
                        i,
                        format!(
                            "user `{}` has `{}` but no active `{}` assignment",
                            self.store.users.resolve(u),
                            sku.id,
                            self.md.skus[base].id
                        ),
                    );
                }
            }
        }
        let mut all = direct;
        all.extend(latest_active);
        all.sort_unstable();
        let mut units: FxHashMap<u32, Vec<Member>> = FxHashMap::default();
        let mut counted_signals = Vec::with_capacity(all.len());
        for group in all.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let signals: Vec<u32> = group.iter().map(|g| g.2).collect();
            counted_signals.extend_from_slice(&signals);
            units.entry(group[0].0).or_default().push(Member { principal: group[0].1, signals });
        }
        Formed { units, sessions, counted_signals, not_active }
    }

    /// Concurrent peak over the window, and the merged intervals as units.
    fn concurrent_units(&self, sku: &str, mut list: Vec<Session>, counted: &mut Vec<u32>) -> Result<(i64, Vec<Unit>), Error> {
        let key_of = |s: &Session| (s.user, s.host, s.start);
        // Identical (user, host, start) sessions are one: latest end, largest quantity.
        list.sort_by_key(|a| key_of(a));
        let mut collapsed: Vec<Session> = Vec::with_capacity(list.len());
        for s in list {
            match collapsed.last_mut() {
                Some(last) if key_of(last) == key_of(&s) => {
                    last.end = last.end.max(s.end);
                    last.quantity = last.quantity.max(s.quantity);
                    last.signals.extend(s.signals);
                }
                _ => collapsed.push(s),
            }
        }
        // Clip to the window [as_of − window_days, as_of).
        let ws = window_start(self.as_of, self.rs.window_days);
        let mut clipped: Vec<Session> = collapsed
            .into_iter()
            .filter_map(|mut s| {
                if let Some(ws) = ws {
                    s.start = s.start.max(ws);
                }
                s.end = s.end.min(self.as_of);
                (s.start < s.end).then_some(s)
            })
            .collect();
        // Merge overlapping sessions of one group (after clipping).
        let group_of = |s: &Session| -> Option<(u32, u32)> {
            if s.user == NONE {
                return None;
            }
            match self.rs.dup_group {
                DupGroup::None => None,
                DupGroup::User => Some((s.user, NONE)),
                DupGroup::UserHost => Some((s.user, s.host)),
            }
        };
        let mut merged: Vec<Session> = Vec::with_capacity(clipped.len());
        if self.rs.dup_group == DupGroup::None {
            merged = clipped;
        } else {
            clipped.sort_by(|a, b| group_of(a).cmp(&group_of(b)).then(a.start.cmp(&b.start)).then(a.end.cmp(&b.end)));
            for s in clipped {
                let g = group_of(&s);
                match merged.last_mut() {
                    Some(last) if g.is_some() && group_of(last) == g && s.start < last.end => {
                        last.end = last.end.max(s.end);
                        last.quantity = last.quantity.max(s.quantity);
                        last.signals.extend(s.signals);
                    }
                    _ => merged.push(s),
                }
            }
        }
        // Peak of the sum of quantities; at one instant ends come before starts (half-open).
        // Sums in i128: exact for any number of sessions of at most 2^64 − 1
        // tokens each; a peak beyond MAX_COUNT is an error, never saturated.
        let mut events: Vec<(Instant, i8, i128, usize)> = Vec::with_capacity(merged.len() * 2);
        for (n, s) in merged.iter().enumerate() {
            events.push((s.start, 1, s.quantity as i128, n));
            events.push((s.end, 0, -(s.quantity as i128), n));
        }
        events.sort_unstable();
        let (mut cur, mut peak) = (0i128, 0i128);
        for &(_, _, q, n) in &events {
            cur += q;
            peak = peak.max(cur);
            if peak > MAX_COUNT as i128 {
                let mut loc = Location::file("signals");
                if let Some(&i) = merged[n].signals.first() {
                    let s = &self.store.rows[i as usize];
                    loc = Location::line(job_path(self.store, s), s.line as u64);
                }
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "concurrent SKU `{sku}`: the quantities of the sessions open at one instant sum past {MAX_COUNT} (the largest exact JSON integer)"
                    ),
                )
                .at(loc.with_field("quantity")));
            }
        }
        let peak = i64::try_from(peak).unwrap_or(MAX_COUNT);
        for s in &merged {
            counted.extend_from_slice(&s.signals);
        }
        let mut units: Vec<Unit> = merged.into_iter().map(|s| self.session_unit(s)).collect();
        units.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.canonical.cmp(&b.canonical)));
        Ok((peak, units))
    }

    fn signal_refs(&self, out: &mut Vec<u8>, signals: &[u32]) {
        let mut refs: Vec<(&str, &str)> = signals
            .iter()
            .map(|&i| {
                let s = &self.store.rows[i as usize];
                (self.store.source_of(s), self.store.raw_id_of(s))
            })
            .collect();
        refs.sort_unstable();
        refs.dedup();
        out.push(b'[');
        for (n, (src, raw)) in refs.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"raw_id\":");
            crate::canonical::write_str(out, raw);
            out.extend_from_slice(b",\"source\":");
            crate::canonical::write_str(out, src);
            out.push(b'}');
        }
        out.push(b']');
    }

    /// Canonical unit `{"key","pool","principal_type","signals"}` (keys in JCS order).
    fn principal_unit(&self, model: Model, m: &Member, pool: Option<&str>) -> Unit {
        let key = if model == Model::Device {
            self.identity.device_key(self.store, m.principal)
        } else {
            self.store.users.resolve(m.principal).to_string()
        };
        let mut out = Vec::with_capacity(64 + key.len());
        out.extend_from_slice(b"{\"key\":");
        crate::canonical::write_str(&mut out, &key);
        out.extend_from_slice(b",\"pool\":");
        match pool {
            None | Some("") => out.extend_from_slice(b"null"),
            Some(p) => crate::canonical::write_str(&mut out, p),
        }
        out.extend_from_slice(b",\"principal_type\":");
        out.extend_from_slice(if model == Model::Device { b"\"device\"" } else { b"\"user\"" });
        out.extend_from_slice(b",\"signals\":");
        self.signal_refs(&mut out, &m.signals);
        out.push(b'}');
        Unit { key, canonical: out }
    }

    /// Canonical merged session `{"end","host","key","quantity","signals","start","user"}`.
    fn session_unit(&self, s: Session) -> Unit {
        let user = (s.user != NONE).then(|| self.store.users.resolve(s.user).to_string());
        let host = (s.host != NONE).then(|| self.identity.device_key(self.store, s.host));
        let key = format!("{}|{}|{}", s.start, user.as_deref().unwrap_or(""), host.as_deref().unwrap_or(""));
        let mut out = Vec::with_capacity(128);
        let opt = |out: &mut Vec<u8>, v: &Option<String>| match v {
            Some(v) => crate::canonical::write_str(out, v),
            None => out.extend_from_slice(b"null"),
        };
        out.extend_from_slice(b"{\"end\":");
        crate::canonical::write_str(&mut out, &s.end.to_string());
        out.extend_from_slice(b",\"host\":");
        opt(&mut out, &host);
        out.extend_from_slice(b",\"key\":");
        crate::canonical::write_str(&mut out, &key);
        out.extend_from_slice(b",\"quantity\":");
        out.extend_from_slice(s.quantity.to_string().as_bytes());
        out.extend_from_slice(b",\"signals\":");
        self.signal_refs(&mut out, &s.signals);
        out.extend_from_slice(b",\"start\":");
        crate::canonical::write_str(&mut out, &s.start.to_string());
        out.extend_from_slice(b",\"user\":");
        opt(&mut out, &user);
        out.push(b'}');
        Unit { key, canonical: out }
    }
}

/// Region and BU of principals, from the first directory row (file order)
/// that sets each attribute.
struct Attributes {
    users: FxHashMap<u32, (String, String)>,
    devices: FxHashMap<DeviceId, (String, String)>,
}

impl Attributes {
    fn of(&self, model: Model, principal: u32) -> (&str, &str) {
        let map = if model == Model::Device { &self.devices } else { &self.users };
        map.get(&principal).map_or(("", ""), |(r, b)| (r.as_str(), b.as_str()))
    }
}

fn principal_attributes(md: &MasterData, id: &Identity, dir: &DirectoryIds) -> Attributes {
    let mut uf = id.uf.clone();
    let mut users: FxHashMap<u32, (String, String)> = FxHashMap::default();
    let mut devices: FxHashMap<DeviceId, (String, String)> = FxHashMap::default();
    for (r, &(c, a)) in md.directory.iter().zip(&dir.rows) {
        // A user row describes its canonical id as written; a device row the
        // device its values name (the alias when the canonical value is void).
        let (map, principal) = match (c, a) {
            (DirValue::User(u), _) => (&mut users, u),
            _ => match id.node_of(c).or_else(|| id.node_of(a)) {
                Some(node) => (&mut devices, uf.find(node)),
                None => continue,
            },
        };
        let e = map.entry(principal).or_default();
        if e.0.is_empty() && !r.region.is_empty() {
            e.0 = r.region.clone();
        }
        if e.1.is_empty() && !r.bu.is_empty() {
            e.1 = r.bu.clone();
        }
    }
    Attributes { users, devices }
}

/// Slot of the pool a unit goes to: the first region/BU pool (pool-id order)
/// whose scope matches, else the SKU's first global pool, else unpooled
/// (`pool_ids.len()`).
fn pick_pool(md: &MasterData, pool_ids: &[usize], region: &str, bu: &str) -> usize {
    let matches = |p: usize| match &md.pools[p].scope {
        Scope::Region(r) => !region.is_empty() && r == region,
        Scope::Bu(b) => !bu.is_empty() && b == bu,
        Scope::Global => false,
    };
    pool_ids
        .iter()
        .position(|&p| matches(p))
        .or_else(|| pool_ids.iter().position(|&p| md.pools[p].scope == Scope::Global))
        .unwrap_or(pool_ids.len())
}
