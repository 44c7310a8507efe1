//! Pools (DESIGN A4): each unit goes to the pool whose scope matches its
//! principal's region or BU, else the SKU's global pool, else unpooled.

use super::counters::{bounded_add, Counters, MAX_COUNT};
use super::identity::{DeviceId, DirValue, DirectoryIds, Identity};
use super::PoolResult;
use crate::error::{Error, ErrorCode};
use crate::input::catalog::{MasterData, Model, Scope, Sku};
use rustc_hash::FxHashMap;

/// Region and BU of principals, from the first directory row (file order)
/// that sets each attribute.
pub(crate) struct Attributes {
    pub(crate) users: FxHashMap<u32, (String, String)>,
    pub(crate) devices: FxHashMap<DeviceId, (String, String)>,
}

impl Attributes {
    pub(crate) fn of(&self, model: Model, principal: u32) -> (&str, &str) {
        let map = if model == Model::Device { &self.devices } else { &self.users };
        map.get(&principal).map_or(("", ""), |(r, b)| (r.as_str(), b.as_str()))
    }
}

pub(crate) fn principal_attributes(md: &MasterData, id: &Identity, dir: &DirectoryIds) -> Attributes {
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
pub(crate) fn pick_pool(md: &MasterData, pool_ids: &[usize], region: &str, bu: &str) -> usize {
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

/// The pool results of a SKU with pools: one per pool, then the unpooled
/// remainder. `pool_consumed[slot]` counts the units each slot got.
pub(crate) fn pool_results(
    md: &MasterData,
    sku: &Sku,
    pool_ids: &[usize],
    entitled: i64,
    pool_consumed: &[i64],
) -> Result<Vec<PoolResult>, Error> {
    let mut pools = Vec::new();
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
    Ok(pools)
}
