//! The engine (DESIGN A2–A4, A9, A10): from accepted signals to consumption
//! units and counters.
//!
//! The stages run in the contract's order: collapse duplicates ([`dedup`]),
//! decide each signal's fate, the order of exclusion ([`qualify`]), resolve
//! identity once across all SKUs ([`identity`]), form units per license model
//! ([`units`], [`concurrent`] for concurrent peaks), attribute units to pools
//! ([`pools`]), and compute the counters ([`counters`]). Everything here works
//! on interned ids; the only string comparisons are the tie-breaks the
//! contract defines in byte order, so the result never depends on the order
//! rows arrived in.
//!
//! Imports: `vocab`, `error`, `canon`, `input`.

pub(crate) mod concurrent;
pub(crate) mod counters;
pub(crate) mod dedup;
pub(crate) mod identity;
pub(crate) mod pools;
pub(crate) mod qualify;
pub(crate) mod units;

pub use counters::{Counters, MAX_COUNT};
pub use dedup::collapse_duplicates;
pub(crate) use qualify::Fate;
pub(crate) use units::UnitList;

use crate::canon::time::Instant;
use crate::error::Error;
use crate::input::catalog::{MasterData, Model};
use crate::input::ruleset::Ruleset;
use crate::input::signals::SignalStore;
use crate::vocab::ExceptionCode;
use identity::{build_identity, device_users, intern_directory, resolve_devices, Identity};
use pools::{pick_pool, pool_results, principal_attributes, Attributes};
use qualify::qualify;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};
use units::{Ctx, Formed};

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

/// A pool's result.
#[derive(Debug, Clone)]
pub(crate) struct PoolResult {
    /// Pool id; `None` for the unpooled remainder.
    pub pool: Option<String>,
    /// Scope text; `None` for the unpooled remainder.
    pub scope: Option<String>,
    /// Counters.
    pub counters: Counters,
}

/// The result for one SKU.
#[derive(Debug, Clone)]
pub(crate) struct SkuResult {
    /// SKU index in the master data.
    pub sku: usize,
    /// Counters.
    pub counters: Counters,
    /// Pools (empty when the SKU has none, or is concurrent).
    pub pools: Vec<PoolResult>,
    /// Units in key order.
    pub units: UnitList,
    /// RFC 9162 root over the units (`units_root`), hashed as they were rendered.
    pub units_root: crate::canon::hash::Digest32,
    /// Number of units (kept even when their bytes are not).
    pub unit_count: usize,
}

/// Per-source coverage facts gathered from accepted rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceFacts {
    /// Accepted rows (collapsed duplicates included).
    pub signals: u64,
    /// Latest `observed_at` not after `as_of`.
    pub last_observed_at: Option<Instant>,
}

/// Everything the counting stage produces.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
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

/// Run the counting stage over the rows `unique` (one per (source, raw_id),
/// from [`collapse_duplicates`]).
///
/// `threads` (1 = on the caller's thread) splits the per-SKU work — units
/// rendered and hashed, pools and counters — over scoped workers; the SKUs'
/// results are merged in SKU order, so the evaluation is identical for every
/// thread count (DESIGN Part B). With `keep_units` false each SKU's units
/// are hashed into its `units_root` as they are rendered and their bytes
/// dropped at once (`SkuResult::units` empty): a run that writes no evidence
/// pack and diffs against no previous pack needs only the roots.
///
/// Fails (never wraps) when a sum leaves the exact integer range
/// ([`MAX_COUNT`]): entitlement quantities active on one day or pool
/// quantities or reservations of one SKU (`catalog_integrity`, located at
/// the row that crossed it), or the tokens of a concurrent peak
/// (`invalid_input`, located at a session of the peak).
pub(crate) fn evaluate(
    store: &mut SignalStore,
    md: &MasterData,
    rs: &Ruleset,
    as_of: Instant,
    unique: &[u32],
    threads: usize,
    keep_units: bool,
) -> Result<Evaluation, Error> {
    let mut exceptions: Vec<ExceptionRecord> = Vec::new();
    let sources = source_facts(store, as_of);

    // 2. The order of exclusion.
    let fates = qualify(store, md, rs, as_of, unique, &mut exceptions);

    // 3. Identity, once per run, from qualifying signals and the directory.
    let dir = intern_directory(store, md, rs);
    let identity = build_identity(store, md, unique, &fates, &dir, &mut exceptions);
    let (devices, ambiguous) = resolve_devices(store, rs, &identity, unique, &fates);
    for &i in &ambiguous {
        let s = &store.rows[i as usize];
        exceptions.push(ExceptionRecord {
            code: ExceptionCode::AmbiguousIdentity.name(),
            source: store.source_of(s).to_string(),
            raw_id: store.raw_id_of(s).to_string(),
            detail: format!("hostname `{}` belongs to several devices; counted as its own device", store.hostnames.resolve(s.hostname)),
        });
    }
    let device_user = device_users(store, &identity, unique, &fates, &devices);

    // 4. Units per model.
    let ctx = Ctx { store, md, rs, as_of, identity: &identity, devices: &devices, device_user: &device_user, unique, fates: &fates };
    let formed = ctx.form_units(&mut exceptions);
    let not_active = not_active_keys(&ctx, &formed);

    // 5. Pools, counters, canonical units: per SKU, independent of one
    // another, so on `threads` workers; merged in SKU order.
    let attrs = principal_attributes(md, &identity, &dir);
    let pools_of = crate::input::catalog::pools_by_sku(md);
    let mut formed = formed;
    let work: Vec<SkuWork> = (0..md.skus.len())
        .map(|k| SkuWork { k, members: formed.range_of(k as u32), sessions: formed.sessions.remove(&(k as u32)).unwrap_or_default() })
        .collect();
    let results = crate::canon::parallel::map_ordered(
        threads,
        work,
        |w| w.members.len() + w.sessions.len(),
        |w| {
            let pool_ids: &[usize] = pools_of.get(&w.k).map(Vec::as_slice).unwrap_or(&[]);
            sku_result(&ctx, &formed.contributions, &attrs, w, pool_ids, keep_units)
        },
    );
    let mut skus = Vec::with_capacity(md.skus.len());
    let mut counted_sessions: Vec<u32> = Vec::new();
    for r in results {
        let (result, sessions) = r?;
        skus.push(result);
        counted_sessions.extend(sessions);
    }

    // needs_review: signals a counted unit rests on, below review_confidence.
    for i in formed.contributions.iter().map(|c| c.2).chain(counted_sessions) {
        let s = &store.rows[i as usize];
        if (s.confidence as i128) < rs.review_confidence.0 {
            exceptions.push(ExceptionRecord {
                code: ExceptionCode::NeedsReview.name(),
                source: store.source_of(s).to_string(),
                raw_id: store.raw_id_of(s).to_string(),
                detail: format!(
                    "confidence {} is below review_confidence",
                    crate::canon::numbers::Fixed9(s.confidence as i128).to_canonical_string()
                ),
            });
        }
    }
    exceptions.sort();
    exceptions.dedup();
    Ok(Evaluation { skus, exceptions, sources, fates, not_active })
}

/// Coverage facts: every accepted row counts, duplicates included.
fn source_facts(store: &SignalStore, as_of: Instant) -> BTreeMap<String, SourceFacts> {
    let mut by_source: FxHashMap<u32, SourceFacts> = FxHashMap::default();
    for s in &store.rows {
        let f = by_source.entry(s.source).or_default();
        f.signals += 1;
        if s.observed_at <= as_of && f.last_observed_at.is_none_or(|l| s.observed_at > l) {
            f.last_observed_at = Some(s.observed_at);
        }
    }
    by_source.into_iter().map(|(k, v)| (store.sources.resolve(k).to_string(), v)).collect()
}

/// Per SKU index, the unit keys of principals whose latest assignment is not active.
fn not_active_keys(ctx: &Ctx<'_>, formed: &Formed) -> BTreeMap<usize, BTreeSet<String>> {
    let (store, md, identity): (&SignalStore, &MasterData, &Identity) = (ctx.store, ctx.md, ctx.identity);
    let mut not_active: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for &(k, principal) in &formed.not_active {
        let key = if md.skus[k as usize].model == Model::Device {
            identity.device_key(store, principal)
        } else {
            store.users.resolve(principal).to_string()
        };
        not_active.entry(k as usize).or_default().insert(key);
    }
    not_active
}

/// A unit's sort key (see `Ctx::principal_sort_key`).
type SortKey<'a> = (u8, &'a str);

/// One (SKU, principal, signal) of `Formed::contributions`.
type Contribution = (u32, u32, u32);

/// One SKU's share of the counting stage.
struct SkuWork {
    /// SKU index.
    k: usize,
    /// Its units' run in `Formed::contributions`.
    members: std::ops::Range<usize>,
    /// Its sessions (concurrent SKUs).
    sessions: Vec<concurrent::Session>,
}

/// One SKU's counters, pools and units, and the sessions its concurrent
/// units rest on.
fn sku_result(
    ctx: &Ctx<'_>,
    contributions: &[Contribution],
    attrs: &Attributes,
    w: SkuWork,
    pool_ids: &[usize],
    keep_units: bool,
) -> Result<(SkuResult, Vec<u32>), Error> {
    let (md, k) = (ctx.md, w.k);
    let sku = &md.skus[k];
    let entitled = counters::entitled_on(md, k, sku, ctx.as_of.date())?;
    let reserved = counters::reserved_of(md, sku, pool_ids)?;
    if sku.model == Model::Concurrent {
        let mut counted = Vec::new();
        let (peak, units) = ctx.concurrent_units(&sku.id, w.sessions, &mut counted)?;
        let (units, units_root) = UnitList::from_sorted(units);
        let (unit_count, units) = (units.len(), if keep_units { units } else { UnitList::default() });
        let counters = Counters::derive(entitled, reserved, peak);
        let result = SkuResult { sku: k, counters, pools: Vec::new(), units, units_root, unit_count };
        return Ok((result, counted));
    }
    let mine = &contributions[w.members];
    // Every reference's (source, raw id), gathered first in one tight loop:
    // the reads are random (rows, raw-id arena), and independent iterations
    // keep many cache misses in flight, which rendering interleaved with
    // them would not.
    let refs: Vec<units::SignalRef<'_>> = mine.iter().map(|c| ctx.signal_ref(c.2)).collect();
    // One entry per unit (principal): its sort key and its run of signals.
    let mut at = 0;
    let mut members: Vec<(SortKey<'_>, u32, std::ops::Range<usize>)> = mine
        .chunk_by(|a, b| a.1 == b.1)
        .map(|run| {
            at += run.len();
            (ctx.principal_sort_key(sku.model, run[0].1), run[0].1, at - run.len()..at)
        })
        .collect();
    // Units in key order (keys are distinct; stable as the sort always was).
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let mut pool_consumed = vec![0i64; pool_ids.len() + 1];
    // About 60 bytes of frame per unit and 40 per signal reference.
    let mut list = units::UnitListBuilder::with_capacity(members.len(), members.len() * 60 + mine.len() * 40);
    let mut scratch = Vec::new();
    for (_, principal, run) in &members {
        let principal = *principal;
        let (region, bu) = attrs.of(sku.model, principal);
        let slot = pick_pool(md, pool_ids, region, bu);
        pool_consumed[slot] += 1;
        let pool_name = if pool_ids.is_empty() {
            None
        } else if slot < pool_ids.len() {
            Some(md.pools[pool_ids[slot]].id.as_str())
        } else {
            Some("")
        };
        ctx.write_principal_unit(list.bytes(), sku.model, principal, &refs[run.clone()], pool_name, &mut scratch);
        list.end_unit();
    }
    let (units, units_root) = list.finish();
    let (unit_count, units) = (units.len(), if keep_units { units } else { UnitList::default() });
    let consumed = members.len() as i64;
    let pools = if pool_ids.is_empty() { Vec::new() } else { pool_results(md, sku, pool_ids, entitled, &pool_consumed)? };
    let counters = Counters::derive(entitled, reserved, consumed);
    Ok((SkuResult { sku: k, counters, pools, units, units_root, unit_count }, Vec::new()))
}
