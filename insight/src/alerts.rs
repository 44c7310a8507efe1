//! C2: alerts over a verified history, its latest pack and a policy. Every
//! alert carries the numbers that tripped it (`facts`), the snapshots (and
//! units, entitlements) it rests on, and a message built from its facts.

use crate::error::Result;
use crate::inputs::{self, Inputs, SnapView};
use crate::model::{facts, item_id, subject, subject_bytes, Alert, Evidence, Severity, Subject};
use crate::policy::{AlertPolicy, Policy};
use crate::rational::{mad, median, theil_sen, Rat};
use eucora_license_core::{Date, Domain};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Nanoseconds in a day (DESIGN A9: a day is 86 400 s).
const DAY_NANOS: i128 = 86_400 * 1_000_000_000;

/// The alerts of C2 for `history` (snapshot bytes, oldest first), the
/// latest snapshot's evidence pack and `policy`, in output order (severity
/// descending, then type, then the subject's canonical bytes).
///
/// Errors (C6 order, the policy being parsed already): `chain_broken`,
/// `pack_invalid`, `pack_mismatch`.
pub fn alerts(history: &[&[u8]], latest_pack: &[u8], policy: &Policy) -> Result<Vec<Alert>> {
    let archive = inputs::archive(history, latest_pack)?;
    let inp = inputs::open(history, &archive)?;
    Ok(compute(&inp, policy))
}

struct Builder<'a> {
    as_of: &'a str,
    out: Vec<Alert>,
}

impl Builder<'_> {
    fn push(&mut self, kind: &str, severity: Severity, subject: Subject, facts: Map<String, Value>, evidence: Evidence, message: String) {
        let alert_id = item_id(Domain::Alert, kind, &subject);
        self.out.push(Alert {
            alert_id,
            kind: kind.to_string(),
            severity,
            subject,
            as_of: self.as_of.to_string(),
            facts,
            evidence,
            message,
        });
    }
}

fn snaps(list: &[&SnapView]) -> Evidence {
    Evidence { snapshots: list.iter().map(|s| s.hash.clone()).collect(), ..Evidence::default() }
}

fn dec(r: Rat, places: u32) -> Value {
    r.round_str(places).map(Value::String).unwrap_or(Value::Null)
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "unknown".into(),
        other => other.to_string(),
    }
}

/// Every C2 rule over opened inputs, sorted.
pub(crate) fn compute(inp: &Inputs<'_>, policy: &Policy) -> Vec<Alert> {
    let latest = inp.latest();
    let mut b = Builder { as_of: &latest.reconciled_text, out: Vec::new() };
    let p = &policy.alerts;
    let only_latest = || snaps(&[latest]);

    for (sku, r) in &latest.skus {
        // over_deployed: the SKU, then each pool with an id.
        if r.consumed > r.entitled {
            let f = facts(vec![("entitled", json!(r.entitled)), ("consumed", json!(r.consumed)), ("remaining", json!(r.remaining))]);
            let m = format!("Consumed {} exceeds entitled {}: remaining {}.", r.consumed, r.entitled, r.remaining);
            b.push("over_deployed", Severity::Critical, subject(&[("sku", sku)]), f, only_latest(), m);
        }
        for pool in &r.pools {
            if pool.consumed > pool.entitled {
                let f = facts(vec![
                    ("entitled", json!(pool.entitled)),
                    ("consumed", json!(pool.consumed)),
                    ("remaining", json!(pool.remaining)),
                ]);
                let m = format!("Consumed {} exceeds the pool's entitled {}: remaining {}.", pool.consumed, pool.entitled, pool.remaining);
                b.push("over_deployed", Severity::Critical, subject(&[("sku", sku), ("pool", &pool.pool)]), f, only_latest(), m);
            }
        }
        // utilization_high (SKU level only).
        if r.entitled > 0
            && r.consumed <= r.entitled
            && (r.consumed as i128) * 100 >= (r.entitled as i128) * (p.utilization_warning_percent as i128)
        {
            let pct = Rat::new(r.consumed as i128 * 100, r.entitled as i128).map(|x| dec(x, 2)).unwrap_or(Value::Null);
            let m = format!("Utilization is {}% ({} consumed of {} entitled).", shown(&pct), r.consumed, r.entitled);
            let f = facts(vec![("entitled", json!(r.entitled)), ("consumed", json!(r.consumed)), ("utilization_percent", pct)]);
            b.push("utilization_high", Severity::Warning, subject(&[("sku", sku)]), f, only_latest(), m);
        }
        let series: Vec<&SnapView> = inp.history.iter().filter(|s| s.skus.contains_key(sku)).collect();
        spike_drop(&mut b, policy, sku, r.consumed, &series);
        oscillation(&mut b, policy, sku, &series);
        forecast(&mut b, policy, sku, &series);
    }

    sources(&mut b, inp, policy);

    for code in ["ambiguous_identity", "conflicting_alias"] {
        let count = latest.exceptions.get(code).copied().unwrap_or(0);
        if count > 0 {
            let m = format!("{count} exceptions of this kind wait for an identity decision.");
            b.push(
                "identity_conflict",
                Severity::Warning,
                subject(&[("exception", code)]),
                facts(vec![("count", json!(count))]),
                only_latest(),
                m,
            );
        }
    }

    duplicates(&mut b, inp);
    expiring(&mut b, inp);

    // Each subject's canonical bytes are computed once.
    let mut keyed: Vec<(Vec<u8>, Alert)> = b.out.into_iter().map(|a| (subject_bytes(&a.subject), a)).collect();
    keyed.sort_by(|(sx, x), (sy, y)| y.severity.cmp(&x.severity).then_with(|| x.kind.cmp(&y.kind)).then_with(|| sx.cmp(sy)));
    keyed.into_iter().map(|(_, a)| a).collect()
}

fn consumed(s: &SnapView, sku: &str) -> i64 {
    s.skus.get(sku).map(|r| r.consumed).unwrap_or(0)
}

/// The outcome of the spike/drop test on one series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Jump {
    pub(crate) kind: &'static str,
    pub(crate) baseline: Rat,
    pub(crate) mad: Rat,
    pub(crate) delta: Rat,
}

/// The spike/drop test (C2): `baseline` the consumed values of the
/// baseline snapshots (already cut to `spike_baseline_runs`), `now` the
/// latest. Exact: 0.6745 and `spike_mad_factor` are rationals, and a MAD of
/// 0 skips the z-score test instead of dividing by it.
pub(crate) fn jump(baseline: &[i64], now: i64, p: &AlertPolicy) -> Option<Jump> {
    if baseline.is_empty() || (baseline.len() as i64) < p.spike_min_runs {
        return None;
    }
    let values: Vec<Rat> = baseline.iter().map(|v| Rat::int(*v)).collect();
    let base = median(values.clone())?;
    let dev = mad(&values, base)?;
    let d = Rat::int(now).checked_sub(base)?;
    let k = Rat::new(6745, 10_000)?;
    let fires = |x: Rat| -> Option<bool> {
        let min_units = x >= Rat::int(p.spike_min_units);
        let pct = x.checked_mul(Rat::int(100))? >= base.checked_mul(Rat::int(p.spike_percent))?;
        let z = dev.is_zero() || k.checked_mul(x)? > p.spike_mad_factor.checked_mul(dev)?;
        Some(min_units && pct && z)
    };
    let kind = if fires(d)? {
        "spike"
    } else if fires(d.checked_neg()?)? {
        "drop"
    } else {
        return None;
    };
    Some(Jump { kind, baseline: base, mad: dev, delta: d })
}

/// spike / drop: the latest against the median of up to
/// `spike_baseline_runs` earlier snapshots holding the SKU.
fn spike_drop(b: &mut Builder<'_>, policy: &Policy, sku: &str, now: i64, series: &[&SnapView]) {
    let p = &policy.alerts;
    let Some((_, earlier)) = series.split_last() else { return };
    let take = (p.spike_baseline_runs.max(0) as usize).min(earlier.len());
    let baseline = &earlier[earlier.len() - take..];
    let values: Vec<i64> = baseline.iter().map(|s| consumed(s, sku)).collect();
    let Some(j) = jump(&values, now, p) else { return };
    let f = facts(vec![
        ("consumed", json!(now)),
        ("baseline", dec(j.baseline, 2)),
        ("mad", dec(j.mad, 2)),
        ("delta", dec(j.delta, 2)),
        ("runs", json!(baseline.len())),
    ]);
    let m = format!(
        "Consumed {now} moved {} from the baseline {} of the last {} runs (MAD {}).",
        shown(&f["delta"]),
        shown(&f["baseline"]),
        baseline.len(),
        shown(&f["mad"])
    );
    let mut ev: Vec<&SnapView> = baseline.to_vec();
    ev.extend(series.last());
    b.push(j.kind, Severity::Warning, subject(&[("sku", sku)]), f, snaps(&ev), m);
}

/// Sign changes of the consecutive differences of `values`, keeping only
/// those with `|diff| >= min_units` (a zero difference has no sign and is
/// never kept).
pub(crate) fn flips(values: &[i64], min_units: i64) -> i64 {
    let kept: Vec<i64> = values.windows(2).map(|w| w[1] - w[0]).filter(|d| *d != 0 && d.abs() >= min_units).collect();
    kept.windows(2).filter(|w| (w[0] > 0) != (w[1] > 0)).count() as i64
}

/// oscillation: sign changes of the kept consecutive differences over the
/// window (the latest included).
fn oscillation(b: &mut Builder<'_>, policy: &Policy, sku: &str, series: &[&SnapView]) {
    let p = &policy.alerts;
    let take = (p.oscillation_window_runs.max(0) as usize).min(series.len());
    let window = &series[series.len() - take..];
    if window.len() < 4 {
        return;
    }
    let values: Vec<i64> = window.iter().map(|s| consumed(s, sku)).collect();
    let flips = flips(&values, p.oscillation_min_units);
    if flips < p.oscillation_flips {
        return;
    }
    let list: Vec<String> = values.iter().map(i64::to_string).collect();
    let m = format!("Consumed changed direction {flips} times over the values {}.", list.join(", "));
    let f = facts(vec![("values", json!(values)), ("flips", json!(flips))]);
    b.push("oscillation", Severity::Warning, subject(&[("sku", sku)]), f, snaps(window), m);
}

/// exhaustion_forecast: a Theil–Sen line over the window reaches the
/// entitlement within the horizon.
fn forecast(b: &mut Builder<'_>, policy: &Policy, sku: &str, series: &[&SnapView]) {
    let p = &policy.alerts;
    let take = (p.forecast_window_runs.max(0) as usize).min(series.len());
    let window = &series[series.len() - take..];
    if window.is_empty() || (window.len() as i64) < p.forecast_min_runs {
        return;
    }
    let Some(latest) = window.last() else { return };
    let Some(r) = latest.skus.get(sku) else { return };
    let t0 = window[0].reconciled_at.unix_nanos();
    let points: Option<Vec<(Rat, Rat)>> =
        window.iter().map(|s| Some((Rat::new(s.reconciled_at.unix_nanos() - t0, DAY_NANOS)?, Rat::int(consumed(s, sku))))).collect();
    let Some(points) = points else { return };
    let Some((slope, intercept)) = theil_sen(&points) else { return };
    if !slope.is_positive() || r.entitled <= 0 || r.consumed > r.entitled {
        return;
    }
    let x_latest = points[points.len() - 1].0;
    let Some(ahead) = Rat::int(r.entitled).checked_sub(intercept).and_then(|n| n.checked_div(slope)).and_then(|x| x.checked_sub(x_latest))
    else {
        return;
    };
    if ahead > Rat::int(p.forecast_horizon_days) {
        return;
    }
    let days = if ahead.is_positive() { ahead.ceil() } else { 0 };
    let Ok(days) = i64::try_from(days) else { return };
    let projected = Date(latest.reconciled_at.date().0 + days).to_string();
    let f = facts(vec![
        ("slope_per_day", dec(slope, 4)),
        ("projected_date", json!(projected)),
        ("entitled", json!(r.entitled)),
        ("consumed", json!(r.consumed)),
    ]);
    let m = format!(
        "At {} more a day, consumed {} reaches the {} entitled by {projected}.",
        shown(&f["slope_per_day"]),
        r.consumed,
        r.entitled
    );
    b.push("exhaustion_forecast", Severity::Warning, subject(&[("sku", sku)]), f, snaps(window), m);
}

/// source_missing, source_degraded, source_stale.
fn sources(b: &mut Builder<'_>, inp: &Inputs<'_>, policy: &Policy) {
    let latest = inp.latest();
    let earlier = &inp.history[..inp.history.len() - 1];
    for (src, c) in &latest.coverage {
        if c.status == "missing" {
            let seen = earlier.iter().rev().find(|s| s.coverage.get(src).is_some_and(|c| c.status == "ok"));
            let last = seen.map(|s| json!(s.reconciled_text)).unwrap_or(Value::Null);
            let m = match seen {
                Some(s) => format!("The source sent nothing this run; it was last seen ok at {}.", s.reconciled_text),
                None => "The source sent nothing this run and was never seen ok in this history.".to_string(),
            };
            let ev: Vec<&SnapView> = seen.into_iter().chain([latest]).collect();
            b.push("source_missing", Severity::Critical, subject(&[("source", src)]), facts(vec![("last_seen_at", last)]), snaps(&ev), m);
        }
        if c.status == "degraded" {
            let prev = earlier.last();
            let previous = prev.and_then(|s| s.coverage.get(src)).and_then(|c| c.signals);
            let m = match previous {
                Some(n) => format!("The source sent {} signals against {n} the run before.", c.signals.unwrap_or(0)),
                None => format!("The source sent {} signals; the run before is not known.", c.signals.unwrap_or(0)),
            };
            let f = facts(vec![("signals", json!(c.signals)), ("previous_signals", json!(previous))]);
            let ev: Vec<&SnapView> = prev.into_iter().chain([latest]).collect();
            b.push("source_degraded", Severity::Warning, subject(&[("source", src)]), f, snaps(&ev), m);
        }
        if let (Some(n), Some(at), Some(text)) = (c.signals, c.last_observed_at, &c.last_observed_text) {
            let diff = latest.reconciled_at.unix_nanos() - at.unix_nanos();
            let limit = (policy.alerts.source_stale_hours as i128) * 3_600 * 1_000_000_000;
            if n > 0 && diff > limit {
                let hours = diff.div_euclid(3_600 * 1_000_000_000) as i64;
                let m = format!("The newest signal of the source is from {text}, {hours} hours before this run.");
                let f = facts(vec![("last_observed_at", json!(text)), ("hours", json!(hours))]);
                b.push("source_stale", Severity::Warning, subject(&[("source", src)]), f, snaps(&[latest]), m);
            }
        }
    }
}

/// possible_duplicate_user: counted user units of one SKU whose keys share
/// a local part, none a directory user's canonical id.
fn duplicates(b: &mut Builder<'_>, inp: &Inputs<'_>) {
    let latest = inp.latest();
    let canonical: std::collections::BTreeSet<String> = inp
        .directory
        .iter()
        .filter(|r| r.principal_type == "user")
        .filter_map(|r| eucora_license_core::internal::identity::normalize_user(&r.canonical_id, false))
        .collect();
    let mut groups: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for u in &inp.units {
        let Some(r) = latest.skus.get(&u.sku) else { continue };
        if !matches!(r.model.as_str(), "user" | "subscription" | "feature") || canonical.contains(&u.key) {
            continue;
        }
        let local = u.key.split('@').next().unwrap_or(&u.key);
        groups.entry((u.sku.as_str(), local)).or_default().push(&u.key);
    }
    for ((sku, local), mut keys) in groups {
        keys.sort();
        keys.dedup();
        if keys.len() < 2 {
            continue;
        }
        let m = format!("The keys {} share one local part and may be one person counted twice.", keys.join(", "));
        let ev = Evidence { units: Some(keys.iter().map(|k| k.to_string()).collect()), ..snaps(&[latest]) };
        b.push(
            "possible_duplicate_user",
            Severity::Warning,
            subject(&[("sku", sku), ("principal", local)]),
            facts(vec![("keys", json!(keys))]),
            ev,
            m,
        );
    }
}

/// entitlement_expiring: active entitlements ending within the largest
/// notice; critical within the smallest.
fn expiring(b: &mut Builder<'_>, inp: &Inputs<'_>) {
    let latest = inp.latest();
    let (Some(&max), Some(&min)) = (inp.expiry_notice_days.iter().max(), inp.expiry_notice_days.iter().min()) else { return };
    let today = latest.reconciled_at.date();
    for e in &inp.entitlements {
        let Some(ends) = e.ends_on else { continue };
        if !latest.skus.contains_key(&e.sku) || e.starts_on.is_some_and(|s| s > today) || ends < today {
            continue;
        }
        let days_left = ends.0 - today.0;
        if days_left > max {
            continue;
        }
        let notice = inp.expiry_notice_days.iter().copied().filter(|n| *n >= days_left).min().unwrap_or(max);
        let (cost, currency) = crate::advisor::cost_of(inp, &e.sku, Some(e));
        let renewal = cost.and_then(|c| c.checked_mul(Rat::int(e.quantity))).and_then(|c| c.round_str(2));
        let currency = renewal.as_ref().and(currency);
        let severity = if days_left <= min { Severity::Critical } else { Severity::Warning };
        let m = match (&renewal, &currency) {
            (Some(r), Some(c)) => {
                format!("{} seats end on {ends}, in {days_left} days (notice {notice} days); renewing costs {r} {c}.", e.quantity)
            }
            _ => format!("{} seats end on {ends}, in {days_left} days (notice {notice} days); the renewal cost is not known.", e.quantity),
        };
        let f = facts(vec![
            ("ends_on", json!(ends.to_string())),
            ("days_left", json!(days_left)),
            ("notice_days", json!(notice)),
            ("quantity", json!(e.quantity)),
            ("renewal_cost", json!(renewal)),
            ("currency", json!(currency)),
        ]);
        let ev = Evidence { entitlements: Some(vec![e.id.clone()]), ..snaps(&[latest]) };
        b.push("entitlement_expiring", severity, subject(&[("sku", &e.sku), ("entitlement", &e.id)]), f, ev, m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p() -> AlertPolicy {
        Policy::default_policy().alerts
    }

    #[test]
    fn a_flat_baseline_with_a_jump_is_a_spike_and_a_fall_a_drop() {
        let j = jump(&[10, 10, 10, 10, 10], 20, &p()).unwrap();
        assert_eq!((j.kind, j.baseline, j.mad, j.delta), ("spike", Rat::int(10), Rat::ZERO, Rat::int(10)));
        assert_eq!(jump(&[20, 20, 20, 20, 20], 10, &p()).unwrap().kind, "drop");
        // Too few runs, too few units, too small a share of the baseline.
        assert_eq!(jump(&[10, 10, 10, 10], 20, &p()), None);
        assert_eq!(jump(&[10, 10, 10, 10, 10], 14, &p()), None);
        assert_eq!(jump(&[100, 100, 100, 100, 100], 120, &p()), None);
        // b = 0: only the unit floor (and the MAD test) gate.
        assert_eq!(jump(&[0, 0, 0, 0, 0], 5, &p()).unwrap().kind, "spike");
    }

    #[test]
    fn a_series_that_always_swings_does_not_alarm() {
        // median 20, MAD 10: 0.6745 × 10 = 6.745 is not above 3.5 × 10.
        assert_eq!(jump(&[10, 30, 10, 30, 20], 30, &p()), None);
        // The same jump over a quiet baseline alarms.
        assert_eq!(jump(&[20, 20, 21, 20, 19], 30, &p()).unwrap().kind, "spike");
        // Even count: the exact mean of the two middle values.
        assert_eq!(jump(&[10, 10, 11, 11, 10, 11], 30, &p()).unwrap().baseline, Rat::new(21, 2).unwrap());
    }

    #[test]
    fn flips_count_sign_changes_of_kept_differences() {
        assert_eq!(flips(&[10, 14, 10, 14, 10, 14], 2), 4);
        assert_eq!(flips(&[10, 11, 10, 11, 10, 11], 2), 0); // too small: dropped
        assert_eq!(flips(&[10, 10, 12, 12, 10], 0), 1); // zero differences have no sign
    }

    proptest! {
        #[test]
        fn a_constant_series_raises_nothing(v in 0i64..100_000, n in 5usize..20) {
            let base = vec![v; n];
            prop_assert_eq!(jump(&base, v, &p()), None);
            prop_assert_eq!(flips(&vec![v; n + 1], 2), 0);
        }

        #[test]
        fn adding_a_constant_never_creates_a_spike_or_drop(base in proptest::collection::vec(0i64..200, 5..15), now in 0i64..300, k in 1i64..1_000) {
            let shifted: Vec<i64> = base.iter().map(|x| x + k).collect();
            if jump(&base, now, &p()).is_none() {
                prop_assert_eq!(jump(&shifted, now + k, &p()), None);
            }
        }

        #[test]
        fn one_spike_in_a_flat_series_is_one_spike(v in 0i64..1_000, n in 5usize..14, extra in 0i64..1_000) {
            let up = (v / 4 + 1).max(5) + extra; // ≥ spike_min_units and ≥ 25 % of v
            let j = jump(&vec![v; n], v + up, &p()).unwrap();
            prop_assert_eq!(j.kind, "spike");
            prop_assert_eq!(j.mad, Rat::ZERO);
        }

        #[test]
        fn mad_zero_never_divides(values in proptest::collection::vec(0i64..5, 5..10), now in 0i64..50) {
            // Always an answer, never a panic.
            let _ = jump(&values, now, &p());
        }
    }
}
