//! Building a run's documents from the engine's evaluation: the snapshot
//! (coverage, counters, the chain link, the diff) and the run report.

use super::{Outcome, RunInputs, RunStatus};
use crate::document::snapshot::{self, Snapshot};
use crate::engine::{Counters, Evaluation, SkuResult};
use crate::error::{Error, ErrorCode, Location};
use crate::input::adapters::EntitlementObservation;
use crate::input::catalog::{MasterData, Model};
use crate::input::ruleset::Ruleset;
use crate::vocab::{CoverageStatus, Health};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

fn counters_json(c: &Counters, under: i64, with_variance: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("entitled".into(), json!(c.entitled));
    m.insert("reserved".into(), json!(c.reserved));
    m.insert("reserved_effective".into(), json!(c.reserved_effective));
    m.insert("consumed".into(), json!(c.consumed));
    m.insert("remaining".into(), json!(c.remaining));
    m.insert("available".into(), json!(c.available));
    m.insert("variance".into(), json!(c.variance()));
    if with_variance {
        m.insert("compliance_status".into(), json!(c.compliance_status(under).name()));
        m.insert("variance_percent".into(), json!(c.variance_percent()));
    }
    m
}

fn totals_json(c: &Counters) -> Value {
    Value::Object(counters_json(c, 0, false))
}

fn sku_record(md: &MasterData, rs: &Ruleset, r: &SkuResult) -> crate::error::Result<Value> {
    let sku = &md.skus[r.sku];
    let mut m = counters_json(&r.counters, rs.under_utilized_percent, true);
    m.insert("sku".into(), json!(sku.id));
    m.insert("model".into(), json!(sku.model.name()));
    m.insert("units".into(), json!(r.units.len()));
    let pools: Vec<Value> = r
        .pools
        .iter()
        .map(|p| {
            let mut pm = counters_json(&p.counters, rs.under_utilized_percent, true);
            pm.insert("pool".into(), json!(p.pool));
            pm.insert("scope".into(), json!(p.scope));
            Value::Object(pm)
        })
        .collect();
    m.insert("pools".into(), Value::Array(pools));
    let root = r.units.root();
    m.insert("units_root".into(), json!(root.to_prefixed()));
    Ok(Value::Object(m))
}

/// The snapshot and run report of a computed run.
pub(super) fn assemble(inputs: &RunInputs, mut eval: Evaluation, unique: &[u32]) -> Result<Outcome, Error> {
    let (params, rs, md, jobs) = (&inputs.params, &inputs.ruleset, &inputs.master, &inputs.jobs);
    let (previous, warnings, observations) = (inputs.previous.as_ref(), &inputs.warnings, &inputs.observations);
    let (coverage, health_reasons) = coverage(inputs, &eval);
    let health = if health_reasons.is_empty() { Health::Ok } else { Health::Degraded };
    let (totals, by_model, records) = sku_records(md, rs, &eval)?;
    let skus_root = snapshot::skus_root(&records)?;
    let mut exceptions_summary: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &eval.exceptions {
        *exceptions_summary.entry(e.code).or_default() += 1;
    }
    let (sequence, previous_hash) = chain_link(previous)?;
    let (diff, diff_detail) = diff_against_previous(inputs, &eval, unique, &records, &coverage)?;
    // Hand the units over to the outcome (no copy: they are the largest output).
    let mut units = BTreeMap::new();
    for r in &mut eval.skus {
        units.insert(md.skus[r.sku].id.clone(), std::mem::take(&mut r.units));
    }
    let imports: Vec<Value> = jobs
        .iter()
        .map(|j| {
            json!({
                "job_id": j.job_id, "source": j.source, "adapter": j.adapter,
                "adapter_version": j.adapter_version, "path": j.path,
                "input_hash": j.input_hash, "rows_total": j.rows_total,
                "rows_accepted": j.rows_accepted, "rows_rejected": j.rows_rejected,
            })
        })
        .collect();
    let body = json!({
        "schema": snapshot::SCHEMA,
        "organization_id": params.organization_id,
        "sequence": sequence,
        "previous_hash": previous_hash,
        "reconciled_at": params.as_of.to_string(),
        "run_id": params.run_id,
        "ruleset": {"id": rs.id, "version": rs.version, "hash": rs.hash.to_prefixed()},
        "imports": imports,
        "coverage": coverage,
        "health": health.name(),
        "health_reasons": health_reasons,
        "totals": totals_json(&totals),
        "by_model": by_model.iter().map(|(k, v)| (k.to_string(), totals_json(v))).collect::<Map<_, _>>(),
        "skus": records,
        "skus_root": skus_root.to_prefixed(),
        "diff": diff,
        "exceptions_summary": exceptions_summary,
    });
    let Value::Object(body) = body else { unreachable!("json! object") };
    let snap = Snapshot::seal(body)?;
    let status = if health == Health::Ok { RunStatus::Ok } else { RunStatus::Degraded };
    let report = json!({
        "schema": "eucora.license.run_report/v1",
        "status": status.name(),
        "organization_id": params.organization_id,
        "run_id": params.run_id,
        "reconciled_at": params.as_of.to_string(),
        "ruleset": {"id": rs.id, "version": rs.version, "hash": rs.hash.to_prefixed()},
        "reasons": [],
        "errors": [],
        "health_reasons": snap.value()["health_reasons"],
        "imports": jobs,
        "exceptions": exceptions_summary,
        "warnings": warnings,
        "entitlement_observations": compare_observations(md, rs, &eval, observations),
        "sequence": sequence,
        "snapshot_hash": snap.hash().to_prefixed(),
    });
    Ok(Outcome {
        status,
        snapshot: Some(snap),
        report,
        exceptions: eval.exceptions,
        errors: Vec::new(),
        units,
        inputs: None,
        diff: diff_detail,
    })
}

/// Coverage: expected sources plus every source seen, each `ok`, `missing`
/// or `degraded`, with the health reasons.
fn coverage(inputs: &RunInputs, eval: &Evaluation) -> (Map<String, Value>, Vec<String>) {
    let (params, rs, previous) = (&inputs.params, &inputs.ruleset, inputs.previous.as_ref());
    let prev_cov = previous.and_then(|p| p.value().get("coverage").cloned());
    let mut names: Vec<String> = params.expected_sources.clone();
    names.extend(eval.sources.keys().cloned());
    names.sort();
    names.dedup();
    let mut coverage = Map::new();
    let mut health_reasons = Vec::new();
    for name in &names {
        let facts = eval.sources.get(name).cloned().unwrap_or_default();
        let expected = params.expected_sources.binary_search(name).is_ok();
        let prev_count = prev_cov.as_ref().and_then(|c| c.get(name)).and_then(|c| c.get("signals")).and_then(Value::as_u64);
        let status = if expected && facts.signals == 0 {
            health_reasons.push(format!("source_missing:{name}"));
            CoverageStatus::Missing
        } else if prev_count.is_some_and(|p| {
            (facts.signals as u128) * 100 < (p as u128) * (100u128.saturating_sub(rs.degraded_drop_percent.max(0) as u128))
        }) {
            health_reasons.push(format!("source_degraded:{name}"));
            CoverageStatus::Degraded
        } else {
            CoverageStatus::Ok
        };
        coverage.insert(
            name.clone(),
            json!({
                "status": status,
                "signals": facts.signals,
                "last_observed_at": facts.last_observed_at.map(|t| t.to_string()),
            }),
        );
    }
    (coverage, health_reasons)
}

/// Totals, totals per model and the per-SKU records.
type Summed<'m> = (Counters, BTreeMap<&'m str, Counters>, Vec<Value>);

fn sku_records<'m>(md: &MasterData, rs: &Ruleset, eval: &Evaluation) -> Result<Summed<'m>, Error> {
    let mut totals = Counters::default();
    let mut by_model: BTreeMap<&str, Counters> = Model::ALL.iter().map(|m| (m.name(), Counters::default())).collect();
    let mut records = Vec::with_capacity(eval.skus.len());
    for r in &eval.skus {
        let overflow = || {
            Error::new(
                ErrorCode::CatalogIntegrity,
                format!(
                    "the counters summed over SKUs (totals) pass {} (the largest exact JSON integer) at SKU `{}`",
                    crate::engine::MAX_COUNT,
                    md.skus[r.sku].id
                ),
            )
            .at(Location::file("entitlements.csv").with_field("quantity"))
        };
        totals = totals.checked_add(&r.counters).ok_or_else(overflow)?;
        if let Some(c) = by_model.get_mut(md.skus[r.sku].model.name()) {
            *c = c.checked_add(&r.counters).ok_or_else(overflow)?;
        }
        records.push(sku_record(md, rs, r)?);
    }
    Ok((totals, by_model, records))
}

/// `sequence` and `previous_hash` of the new snapshot.
fn chain_link(previous: Option<&Snapshot>) -> Result<(i64, Value), Error> {
    Ok(match previous {
        Some(p) => {
            // The previous snapshot was validated (sequence in 1..=2^53−1); the
            // next one must stay an exact JSON integer too.
            let next = p.sequence().checked_add(1).filter(|s| *s <= crate::canon::canonical::MAX_SAFE_INTEGER).ok_or_else(|| {
                Error::new(ErrorCode::PreviousSnapshotInvalid, "the previous snapshot's `sequence` has no successor")
                    .at(Location::file("previous snapshot").with_field("$.sequence"))
            })?;
            (next, Value::String(p.hash().to_prefixed()))
        }
        None => (1, Value::Null),
    })
}

/// The diff against the previous run: (the snapshot's `diff`, the pack's
/// `diff.json`). Unit-level with the previous pack, counters only with a bare
/// previous snapshot, none for a first run.
fn diff_against_previous(
    inputs: &RunInputs,
    eval: &Evaluation,
    unique: &[u32],
    records: &[Value],
    coverage: &Map<String, Value>,
) -> Result<(Option<Value>, Option<Value>), Error> {
    let (params, rs, md) = (&inputs.params, &inputs.ruleset, &inputs.master);
    Ok(match (&inputs.previous_run, inputs.previous.as_ref()) {
        (Some(prev), _) => {
            let current = crate::history::diff::Current {
                store: &inputs.signals,
                fates: &eval.fates,
                not_active: &eval.not_active,
                unique,
                exceptions: &eval.exceptions,
                master: md,
                skus: records.iter().zip(eval.skus.iter().map(|r| &r.units)).collect(),
                coverage: coverage.iter().map(|(k, v)| (k.clone(), v["status"].as_str().unwrap_or_default().to_string())).collect(),
                ruleset_hash: rs.hash,
                as_of: params.as_of,
            };
            let (summary, detail) = crate::history::diff::diff(prev, &current)?;
            (Some(summary), Some(detail))
        }
        (None, Some(p)) => {
            let d = crate::history::diff::counters_only(p, records);
            (Some(d.clone()), Some(d))
        }
        (None, None) => (None, None),
    })
}

/// Vendor-portal observations next to our own numbers, with the
/// discrepancies named (`entitled_mismatch`, `consumed_mismatch`,
/// `unmapped_product`). Reported, never applied.
fn compare_observations(md: &MasterData, rs: &Ruleset, eval: &Evaluation, observations: &[EntitlementObservation]) -> Vec<Value> {
    let mut out: Vec<Value> = observations
        .iter()
        .map(|o| {
            let sku = rs.map_product(&o.product.trim().to_lowercase()).and_then(|id| md.sku_index(id));
            let ours = sku.and_then(|k| eval.skus.iter().find(|r| r.sku == k)).map(|r| r.counters);
            let mut discrepancies = Vec::new();
            match ours {
                None => discrepancies.push("unmapped_product"),
                Some(c) => {
                    if c.entitled != o.enabled {
                        discrepancies.push("entitled_mismatch");
                    }
                    if c.consumed != o.consumed {
                        discrepancies.push("consumed_mismatch");
                    }
                }
            }
            json!({
                "source": o.source, "product": o.product, "external_id": o.external_id,
                "sku": sku.map(|k| md.skus[k].id.clone()),
                "portal": {"enabled": o.enabled, "warning": o.warning, "suspended": o.suspended,
                           "locked_out": o.locked_out, "consumed": o.consumed, "status": o.status},
                "ours": ours.map(|c| json!({"entitled": c.entitled, "consumed": c.consumed})),
                "discrepancies": discrepancies,
            })
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    out
}
