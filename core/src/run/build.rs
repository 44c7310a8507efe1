//! Building a run's documents from the engine's evaluation: the snapshot
//! (coverage, counters, the chain link, the diff) and the run report.

use super::{Outcome, RunInputs, RunStatus};
use crate::document::diff::{DiffDetail, DiffSummary};
use crate::document::report::{ObservationCheck, OurFigures, PortalFigures, RunReport, RUN_REPORT_SCHEMA};
use crate::document::snapshot::{self, Counts, ImportSummary, PoolRecord, RulesetRef, SkuRecord, Snapshot, SnapshotDoc, SourceCoverage};
use crate::engine::{Counters, Evaluation, SkuResult};
use crate::error::{Error, ErrorCode, Location};
use crate::input::adapters::EntitlementObservation;
use crate::input::catalog::{MasterData, Model};
use crate::input::ruleset::Ruleset;
use crate::vocab::{CoverageStatus, Discrepancy, ExceptionCode, Health, HealthReasonKind};
use std::collections::BTreeMap;

fn counts(c: &Counters) -> Counts {
    Counts {
        entitled: c.entitled,
        reserved: c.reserved,
        reserved_effective: c.reserved_effective,
        consumed: c.consumed,
        remaining: c.remaining,
        available: c.available,
        variance: c.variance(),
    }
}

fn pool_record(p: &crate::engine::PoolResult, under: i64) -> PoolRecord {
    let c = &p.counters;
    PoolRecord {
        pool: p.pool.clone(),
        scope: p.scope.clone(),
        entitled: c.entitled,
        reserved: c.reserved,
        reserved_effective: c.reserved_effective,
        consumed: c.consumed,
        remaining: c.remaining,
        available: c.available,
        variance: c.variance(),
        variance_percent: c.variance_percent(),
        compliance_status: c.compliance_status(under),
    }
}

fn sku_record(md: &MasterData, rs: &Ruleset, r: &SkuResult) -> SkuRecord {
    let sku = &md.skus[r.sku];
    let (c, under) = (&r.counters, rs.under_utilized_percent);
    SkuRecord {
        sku: sku.id.clone(),
        model: sku.model,
        entitled: c.entitled,
        reserved: c.reserved,
        reserved_effective: c.reserved_effective,
        consumed: c.consumed,
        remaining: c.remaining,
        available: c.available,
        variance: c.variance(),
        variance_percent: c.variance_percent(),
        compliance_status: c.compliance_status(under),
        units: r.unit_count as i64,
        units_root: r.units_root.to_prefixed(),
        pools: r.pools.iter().map(|p| pool_record(p, under)).collect(),
    }
}

/// The snapshot and run report of a computed run.
/// With `keep_units` false the outcome's `units` stay empty (the run was
/// asked not to keep them: `RunOptions::keep_units`).
pub(super) fn assemble(inputs: &RunInputs, mut eval: Evaluation, unique: &[u32], keep_units: bool) -> Result<Outcome, Error> {
    let (params, rs, md, jobs) = (&inputs.params, &inputs.ruleset, &inputs.master, &inputs.jobs);
    let (previous, warnings, observations) = (inputs.previous.as_ref(), &inputs.warnings, &inputs.observations);
    let (coverage, health_reasons) = coverage(inputs, &eval);
    let health = if health_reasons.is_empty() { Health::Ok } else { Health::Degraded };
    let (totals, by_model, records) = sku_records(md, rs, &eval)?;
    let skus_root = snapshot::skus_root(&records)?;
    let mut exceptions_summary: BTreeMap<ExceptionCode, i64> = BTreeMap::new();
    for e in &eval.exceptions {
        let code = ExceptionCode::from_name(e.code)
            .ok_or_else(|| Error::new(ErrorCode::Internal, format!("exception code `{}` is not in the vocabulary", e.code)))?;
        *exceptions_summary.entry(code).or_default() += 1;
    }
    let (sequence, previous_hash) = chain_link(previous)?;
    let (diff, diff_detail) = diff_against_previous(inputs, &eval, unique, &records, &coverage)?;
    // Hand the units over to the outcome (no copy: they are the largest output).
    let mut units = BTreeMap::new();
    for r in eval.skus.iter_mut().filter(|_| keep_units) {
        units.insert(md.skus[r.sku].id.clone(), std::mem::take(&mut r.units));
    }
    let imports: Vec<ImportSummary> = jobs
        .iter()
        .map(|j| ImportSummary {
            job_id: j.job_id.clone(),
            source: j.source.clone(),
            adapter: j.adapter.clone(),
            adapter_version: j.adapter_version.clone(),
            path: j.path.clone(),
            input_hash: j.input_hash.clone(),
            rows_total: j.rows_total as i64,
            rows_accepted: j.rows_accepted as i64,
            rows_rejected: j.rows_rejected as i64,
        })
        .collect();
    let ruleset = RulesetRef { id: rs.id.clone(), version: rs.version, hash: rs.hash.to_prefixed() };
    let body = SnapshotDoc {
        schema: snapshot::SCHEMA.to_string(),
        organization_id: params.organization_id.clone(),
        sequence,
        previous_hash,
        reconciled_at: params.as_of.to_string(),
        run_id: params.run_id.clone(),
        ruleset,
        imports,
        coverage,
        health,
        health_reasons,
        totals: counts(&totals),
        by_model: by_model.iter().map(|(k, v)| (*k, counts(v))).collect(),
        skus: records,
        skus_root: skus_root.to_prefixed(),
        diff,
        exceptions_summary,
    };
    let snap = Snapshot::seal(body)?;
    let status = if health == Health::Ok { RunStatus::Ok } else { RunStatus::Degraded };
    let report = RunReport {
        schema: RUN_REPORT_SCHEMA.to_string(),
        status,
        organization_id: Some(params.organization_id.clone()),
        run_id: Some(params.run_id.clone()),
        reconciled_at: Some(params.as_of.to_string()),
        ruleset: Some(snap.doc().ruleset.clone()),
        reasons: Vec::new(),
        errors: Vec::new(),
        imports: jobs.clone(),
        warnings: warnings.clone(),
        snapshot_hash: Some(snap.hash().to_prefixed()),
        health_reasons: Some(snap.doc().health_reasons.clone()),
        exceptions: Some(snap.doc().exceptions_summary.clone()),
        entitlement_observations: Some(compare_observations(md, rs, &eval, observations)),
        sequence: Some(sequence),
    };
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
fn coverage(inputs: &RunInputs, eval: &Evaluation) -> (BTreeMap<String, SourceCoverage>, Vec<String>) {
    let (params, rs, previous) = (&inputs.params, &inputs.ruleset, inputs.previous.as_ref());
    let prev_cov = previous.map(|p| &p.doc().coverage);
    let mut names: Vec<String> = params.expected_sources.clone();
    names.extend(eval.sources.keys().cloned());
    names.sort();
    names.dedup();
    let mut coverage = BTreeMap::new();
    let mut health_reasons = Vec::new();
    for name in &names {
        let facts = eval.sources.get(name).cloned().unwrap_or_default();
        let expected = params.expected_sources.binary_search(name).is_ok();
        let prev_count = prev_cov.and_then(|c| c.get(name)).map(|c| c.signals.max(0) as u64);
        let status = if expected && facts.signals == 0 {
            health_reasons.push(format!("{}:{name}", HealthReasonKind::SourceMissing));
            CoverageStatus::Missing
        } else if prev_count.is_some_and(|p| {
            (facts.signals as u128) * 100 < (p as u128) * (100u128.saturating_sub(rs.degraded_drop_percent.max(0) as u128))
        }) {
            health_reasons.push(format!("{}:{name}", HealthReasonKind::SourceDegraded));
            CoverageStatus::Degraded
        } else {
            CoverageStatus::Ok
        };
        let signals = i64::try_from(facts.signals).unwrap_or(i64::MAX);
        coverage.insert(name.clone(), SourceCoverage { status, signals, last_observed_at: facts.last_observed_at.map(|t| t.to_string()) });
    }
    (coverage, health_reasons)
}

/// Totals, totals per model and the per-SKU records.
type Summed = (Counters, BTreeMap<Model, Counters>, Vec<SkuRecord>);

fn sku_records(md: &MasterData, rs: &Ruleset, eval: &Evaluation) -> Result<Summed, Error> {
    let mut totals = Counters::default();
    let mut by_model: BTreeMap<Model, Counters> = Model::ALL.iter().map(|m| (*m, Counters::default())).collect();
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
        if let Some(c) = by_model.get_mut(&md.skus[r.sku].model) {
            *c = c.checked_add(&r.counters).ok_or_else(overflow)?;
        }
        records.push(sku_record(md, rs, r));
    }
    Ok((totals, by_model, records))
}

/// `sequence` and `previous_hash` of the new snapshot.
fn chain_link(previous: Option<&Snapshot>) -> Result<(i64, Option<String>), Error> {
    Ok(match previous {
        Some(p) => {
            // The previous snapshot was validated (sequence in 1..=2^53−1); the
            // next one must stay an exact JSON integer too.
            let next = p.sequence().checked_add(1).filter(|s| *s <= crate::canon::canonical::MAX_SAFE_INTEGER).ok_or_else(|| {
                Error::new(ErrorCode::PreviousSnapshotInvalid, "the previous snapshot's `sequence` has no successor")
                    .at(Location::file("previous snapshot").with_field("$.sequence"))
            })?;
            (next, Some(p.hash().to_prefixed()))
        }
        None => (1, None),
    })
}

/// The diff against the previous run: (the snapshot's `diff`, the pack's
/// `diff.json`). Unit-level with the previous pack, counters only with a bare
/// previous snapshot, none for a first run.
fn diff_against_previous(
    inputs: &RunInputs,
    eval: &Evaluation,
    unique: &[u32],
    records: &[SkuRecord],
    coverage: &BTreeMap<String, SourceCoverage>,
) -> Result<(Option<DiffSummary>, Option<DiffDetail>), Error> {
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
                coverage: coverage.iter().map(|(k, v)| (k.clone(), v.status)).collect(),
                ruleset_hash: rs.hash,
                as_of: params.as_of,
            };
            let (summary, detail) = crate::history::diff::diff(prev, &current)?;
            (Some(summary), Some(DiffDetail::Units(detail)))
        }
        (None, Some(p)) => {
            let d = crate::history::diff::counters_only(p, records);
            (Some(d.clone()), Some(DiffDetail::Counters(d)))
        }
        (None, None) => (None, None),
    })
}

/// Vendor-portal observations next to our own numbers, with the
/// discrepancies named (`entitled_mismatch`, `consumed_mismatch`,
/// `unmapped_product`). Reported, never applied.
fn compare_observations(
    md: &MasterData,
    rs: &Ruleset,
    eval: &Evaluation,
    observations: &[EntitlementObservation],
) -> Vec<ObservationCheck> {
    let mut out: Vec<ObservationCheck> = observations
        .iter()
        .map(|o| {
            let sku = rs.map_product(&o.product.trim().to_lowercase()).and_then(|id| md.sku_index(id));
            let ours = sku.and_then(|k| eval.skus.iter().find(|r| r.sku == k)).map(|r| r.counters);
            let mut discrepancies = Vec::new();
            match ours {
                None => discrepancies.push(Discrepancy::UnmappedProduct),
                Some(c) => {
                    if c.entitled != o.enabled {
                        discrepancies.push(Discrepancy::EntitledMismatch);
                    }
                    if c.consumed != o.consumed {
                        discrepancies.push(Discrepancy::ConsumedMismatch);
                    }
                }
            }
            ObservationCheck {
                source: o.source.clone(),
                product: o.product.clone(),
                external_id: o.external_id.clone(),
                sku: sku.map(|k| md.skus[k].id.clone()),
                portal: PortalFigures {
                    enabled: o.enabled,
                    warning: o.warning,
                    suspended: o.suspended,
                    locked_out: o.locked_out,
                    consumed: o.consumed,
                    status: o.status.clone(),
                },
                ours: ours.map(|c| OurFigures { entitled: c.entitled, consumed: c.consumed }),
                discrepancies,
            }
        })
        .collect();
    // In the order of their JSON text (as the report has always listed them).
    out.sort_by_cached_key(|o| serde_json::to_value(o).map(|v| v.to_string()).unwrap_or_default());
    out
}
