//! C3: recommendations — purchase, reassign, reclaim and right-size — with
//! the money they cost or save. Recommend only: each is data, never an
//! action (an approver acts on it, D2).

use crate::error::Result;
use crate::inputs::{self, Activity, DirRow, Entitlement, Inputs, SnapView};
use crate::model::{facts, item_id, subject, subject_bytes, Evidence, Recommendation, Subject};
use crate::policy::Policy;
use crate::rational::Rat;
use eucora_license_core::{Domain, Instant};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// The recommendations of C3 for `history`, the latest pack and `policy`,
/// ranked: purchases first (largest quantity first), then by `annualized`
/// descending (null last), type, subject.
pub fn advise(history: &[&[u8]], latest_pack: &[u8], policy: &Policy) -> Result<Vec<Recommendation>> {
    let archive = inputs::archive(history, latest_pack)?;
    let inp = inputs::open(history, &archive)?;
    compute(&inp, policy)
}

/// The unit cost that applies and its currency: the entitlement's when it
/// has one (its currency, else the SKU's), else the catalog SKU's.
pub(crate) fn cost_of(inp: &Inputs<'_>, sku: &str, ent: Option<&Entitlement>) -> (Option<Rat>, Option<String>) {
    let cat = inp.catalog.get(sku);
    let sku_currency = cat.and_then(|c| c.currency.clone());
    match ent.and_then(|e| e.unit_cost.map(|c| (c, e.currency.clone()))) {
        Some((c, cur)) => (Some(c), cur.or(sku_currency)),
        None => (cat.and_then(|c| c.unit_cost), sku_currency),
    }
}

struct Draft {
    kind: &'static str,
    subject: Subject,
    quantity: i64,
    amount: Option<Rat>,
    annual: Option<Rat>,
    facts: Map<String, Value>,
    evidence: Evidence,
    message: String,
}

/// `amount` and `annualized` for `quantity` seats (C3, C6): in the
/// advisor's currency only, `annualized` by the SKU's `cost_period`.
fn money(inp: &Inputs<'_>, policy: &Policy, sku: &str, ent: Option<&Entitlement>, quantity: i64) -> (Option<Rat>, Option<Rat>) {
    let (cost, currency) = cost_of(inp, sku, ent);
    let Some(cost) = cost.filter(|_| currency.as_deref() == Some(policy.advisor.currency.as_str())) else { return (None, None) };
    let amount = cost.checked_mul(Rat::int(quantity));
    let factor = match inp.catalog.get(sku).and_then(|c| c.cost_period.as_deref()) {
        Some("month") => Some(12),
        Some("year") => Some(1),
        _ => None,
    };
    let annual = amount.and_then(|a| factor.and_then(|f| a.checked_mul(Rat::int(f))));
    (amount, annual)
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "unknown".into(),
        other => other.to_string(),
    }
}

/// Every C3 rule over opened inputs, ranked.
pub(crate) fn compute(inp: &Inputs<'_>, policy: &Policy) -> Result<Vec<Recommendation>> {
    let latest = inp.latest();
    let mut drafts = Vec::new();
    let ev_latest = || Evidence { snapshots: vec![latest.hash.clone()], ..Evidence::default() };

    for (sku, r) in &latest.skus {
        if r.consumed > r.entitled {
            let q = r.consumed - r.entitled;
            let (amount, annual) = money(inp, policy, sku, None, q);
            drafts.push(Draft {
                kind: "purchase",
                subject: subject(&[("sku", sku)]),
                quantity: q,
                amount,
                annual,
                facts: facts(vec![("consumed", json!(r.consumed)), ("entitled", json!(r.entitled))]),
                evidence: ev_latest(),
                message: format!("Consumed {} exceeds entitled {}: buy the difference.", r.consumed, r.entitled),
            });
        }
        // reassign: short pools in pool order, each donor's seats spent once.
        let mut donors: Vec<(&str, i64)> = r.pools.iter().filter(|p| p.available > 0).map(|p| (p.pool.as_str(), p.available)).collect();
        donors.sort();
        let mut short: Vec<_> = r.pools.iter().filter(|p| p.remaining < 0).collect();
        short.sort_by(|a, b| a.pool.cmp(&b.pool));
        for s in short {
            let mut deficit = -s.remaining;
            for d in donors.iter_mut().filter(|d| d.0 != s.pool) {
                if deficit == 0 {
                    break;
                }
                let give = deficit.min(d.1);
                if give <= 0 {
                    continue;
                }
                drafts.push(Draft {
                    kind: "reassign",
                    subject: subject(&[("sku", sku), ("pool", &s.pool), ("from_pool", d.0)]),
                    quantity: give,
                    amount: Some(Rat::ZERO),
                    annual: Some(Rat::ZERO),
                    facts: facts(vec![("remaining", json!(s.remaining)), ("from_available", json!(d.1))]),
                    evidence: ev_latest(),
                    message: format!("The short pool (remaining {}) can take seats from a pool with {} available.", s.remaining, d.1),
                });
                d.1 -= give;
                deficit -= give;
            }
        }
    }

    reclaims(inp, policy, &mut drafts)?;
    right_size(inp, policy, &mut drafts);

    // Ranking (C3, C6); each draft's subject bytes and rounded annual value
    // are computed once.
    let mut keyed: Vec<(Vec<u8>, Option<Rat>, Draft)> = drafts
        .into_iter()
        .map(|d| (subject_bytes(&d.subject), d.annual.and_then(|a| a.round_str(2)).and_then(|s| Rat::from_decimal(&s)), d))
        .collect();
    keyed.sort_by(|(sa, ka, a), (sb, kb, b)| {
        let pa = a.kind == "purchase";
        let pb = b.kind == "purchase";
        match (pa, pb) {
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (true, true) => return b.quantity.cmp(&a.quantity).then_with(|| sa.cmp(sb)),
            _ => {}
        }
        let by_annual = match (ka, kb) {
            (Some(x), Some(y)) => y.cmp(x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_annual.then_with(|| a.kind.cmp(b.kind)).then_with(|| sa.cmp(sb))
    });
    Ok(keyed
        .into_iter()
        .enumerate()
        .map(|(i, (_, _, d))| Recommendation {
            recommendation_id: item_id(Domain::Recommendation, d.kind, &d.subject),
            kind: d.kind.to_string(),
            subject: d.subject,
            quantity: d.quantity,
            amount: d.amount.and_then(|a| a.round_str(2)),
            annualized: d.annual.and_then(|a| a.round_str(2)),
            currency: policy.advisor.currency.clone(),
            rank: i + 1,
            facts: d.facts,
            evidence: d.evidence,
            message: d.message,
        })
        .collect())
}

/// The directory indexed by value: each `alias` and `canonical_id` to the
/// rows (file positions) that carry it.
struct DirIndex<'a> {
    rows: &'a [DirRow],
    by_value: BTreeMap<&'a str, Vec<usize>>,
}

impl<'a> DirIndex<'a> {
    fn new(rows: &'a [DirRow]) -> DirIndex<'a> {
        let mut by_value: BTreeMap<&'a str, Vec<usize>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            by_value.entry(r.alias.as_str()).or_default().push(i);
            if r.canonical_id != r.alias {
                by_value.entry(r.canonical_id.as_str()).or_default().push(i);
            }
        }
        DirIndex { rows, by_value }
    }

    /// The rows of a principal: those whose `alias` or `canonical_id`
    /// equals the key, then, transitively, any row sharing a value with
    /// them; in file order.
    fn rows_of(&self, key: &str) -> Vec<&'a DirRow> {
        let mut seen_values: BTreeSet<&str> = BTreeSet::new();
        let mut taken: BTreeSet<usize> = BTreeSet::new();
        let mut todo: Vec<&str> = vec![key];
        while let Some(v) = todo.pop() {
            if !seen_values.insert(v) {
                continue;
            }
            for &i in self.by_value.get(v).map(Vec::as_slice).unwrap_or(&[]) {
                if taken.insert(i) {
                    let r = &self.rows[i];
                    todo.push(r.alias.as_str());
                    todo.push(r.canonical_id.as_str());
                }
            }
        }
        taken.into_iter().map(|i| &self.rows[i]).collect()
    }
}

/// reclaim_disabled and reclaim_inactive.
fn reclaims(inp: &Inputs<'_>, policy: &Policy, drafts: &mut Vec<Draft>) -> Result<()> {
    let latest = inp.latest();
    let as_of = latest.reconciled_at;
    let mut activity: Option<BTreeMap<(String, String), Activity>> = None;
    let limit = (inp.inactivity_days as i128) * 86_400 * 1_000_000_000;
    let directory = DirIndex::new(&inp.directory);
    for u in &inp.units {
        let Some(r) = latest.skus.get(&u.sku) else { continue };
        let user_like = matches!(r.model.as_str(), "user" | "subscription" | "feature");
        if !user_like && r.model != "device" {
            continue;
        }
        let rows = directory.rows_of(&u.key);
        let status = rows.first().and_then(|r| r.status.clone());
        let ev = || Evidence { snapshots: vec![latest.hash.clone()], units: Some(vec![u.key.clone()]), entitlements: None };
        if status.as_deref() == Some("disabled") {
            let (amount, annual) = money(inp, policy, &u.sku, None, 1);
            drafts.push(Draft {
                kind: "reclaim_disabled",
                subject: subject(&[("sku", &u.sku), ("principal", &u.key)]),
                quantity: 1,
                amount,
                annual,
                facts: facts(vec![("status", json!("disabled"))]),
                evidence: ev(),
                message: "The seat holder's directory status is disabled: reclaim the seat.".into(),
            });
            continue;
        }
        if !user_like {
            continue;
        }
        if activity.is_none() {
            activity = Some(inp.activity()?);
        }
        let acts = activity.as_ref().map(|a| {
            u.signals.iter().filter_map(|k| a.get(k)).fold(None::<Instant>, |best, s| {
                let mut best = best;
                for t in [s.last_used_at, if s.kind == "usage" { s.observed_at } else { None }].into_iter().flatten() {
                    best = Some(best.map_or(t, |b| b.max(t)));
                }
                best
            })
        });
        let dir_last = rows.iter().filter_map(|r| r.last_active_at).max();
        let last = [acts.flatten(), dir_last].into_iter().flatten().max();
        let inactive = match last {
            None => true,
            Some(t) => as_of.unix_nanos() - t.unix_nanos() > limit,
        };
        if !inactive {
            continue;
        }
        let (amount, annual) = money(inp, policy, &u.sku, None, 1);
        let last_text = last.map(|t| t.to_string());
        let message = match &last_text {
            Some(t) => format!("The seat's last activity was at {t}, more than {} days ago: reclaim it.", inp.inactivity_days),
            None => format!("No activity of the seat is known within {} days: reclaim it.", inp.inactivity_days),
        };
        drafts.push(Draft {
            kind: "reclaim_inactive",
            subject: subject(&[("sku", &u.sku), ("principal", &u.key)]),
            quantity: 1,
            amount,
            annual,
            facts: facts(vec![("last_activity", json!(last_text)), ("inactivity_days", json!(inp.inactivity_days))]),
            evidence: ev(),
            message,
        });
    }
    Ok(())
}

/// right_size: an entitlement ending within the largest notice while the
/// SKU's peak over the window leaves seats unused.
fn right_size(inp: &Inputs<'_>, policy: &Policy, drafts: &mut Vec<Draft>) {
    let latest = inp.latest();
    let Some(&max) = inp.expiry_notice_days.iter().max() else { return };
    let today = latest.reconciled_at.date();
    let window_nanos = (policy.advisor.right_size_window_days as i128) * 86_400 * 1_000_000_000;
    for e in &inp.entitlements {
        let Some(ends) = e.ends_on else { continue };
        let Some(r) = latest.skus.get(&e.sku) else { continue };
        if e.starts_on.is_some_and(|s| s > today) || ends < today || ends.0 - today.0 > max {
            continue;
        }
        let window: Vec<&SnapView> = inp
            .history
            .iter()
            .filter(|s| s.skus.contains_key(&e.sku))
            .filter(|s| {
                let d = latest.reconciled_at.unix_nanos() - s.reconciled_at.unix_nanos();
                (0..=window_nanos).contains(&d)
            })
            .collect();
        let peak = window.iter().filter_map(|s| s.skus.get(&e.sku)).map(|x| x.consumed).max().unwrap_or(0);
        let surplus = r.entitled - peak - r.reserved;
        let quantity = surplus.min(e.quantity);
        if surplus <= 0 || quantity <= 0 {
            continue;
        }
        let days_left = ends.0 - today.0;
        let (amount, annual) = money(inp, policy, &e.sku, Some(e), quantity);
        let f = facts(vec![
            ("entitled", json!(r.entitled)),
            ("peak", json!(peak)),
            ("reserved", json!(r.reserved)),
            ("surplus", json!(surplus)),
            ("ends_on", json!(ends.to_string())),
            ("days_left", json!(days_left)),
        ]);
        let message = format!(
            "Entitled {} against a peak of {} and {} reserved leaves {} spare; the entitlement ends on {} in {} days: renew fewer.",
            r.entitled,
            peak,
            r.reserved,
            surplus,
            shown(&f["ends_on"]),
            days_left
        );
        drafts.push(Draft {
            kind: "right_size",
            subject: subject(&[("sku", &e.sku), ("entitlement", &e.id)]),
            quantity,
            amount,
            annual,
            facts: f,
            evidence: Evidence {
                snapshots: window.iter().map(|s| s.hash.clone()).collect(),
                units: None,
                entitlements: Some(vec![e.id.clone()]),
            },
            message,
        });
    }
}
