//! One reconciliation run: bundle in, snapshot (or a failed run report) out.
//!
//! The run fails closed (no snapshot) on the contract's five integrity
//! reasons and on unusable input (`invalid_input`); everything else — a
//! missing source, unmapped products, rejected rows under the threshold — is
//! reported and the snapshot is still computed, marked `degraded` when a
//! source is missing or collapsed.

use crate::canon::hash::Digest32;
use crate::document::snapshot::{self, Snapshot};
use crate::engine::{collapse_duplicates, evaluate, Counters, Evaluation, ExceptionRecord, SkuResult, UnitList};
use crate::error::{Error, ErrorCode, Location};
use crate::history::diff::PreviousRun;
use crate::input::bundle::{parse_params, BundleSource, RunParams};
use crate::input::catalog::{self, MasterData, Model};
use crate::input::ruleset::{self, Ruleset};
use crate::input::signals::{ImportJob, SignalStore};
use crate::input::table::{read_json, HashingReader};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Read;

/// Status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Snapshot written, every expected source reported.
    Ok,
    /// Snapshot written, some source missing or collapsed.
    Degraded,
    /// No snapshot: the run failed closed.
    Failed,
}

impl RunStatus {
    /// `ok`, `degraded` or `failed`.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Degraded => "degraded",
            RunStatus::Failed => "failed",
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Run status.
    pub status: RunStatus,
    /// The snapshot, unless the run failed.
    pub snapshot: Option<Snapshot>,
    /// The run report (`run_report.json`).
    pub report: Value,
    /// Exceptions, sorted.
    pub exceptions: Vec<ExceptionRecord>,
    /// Errors that failed the run (empty on success).
    pub errors: Vec<Error>,
    /// Units per SKU id (canonical JSON bytes, key order), for the evidence pack.
    pub units: BTreeMap<String, UnitList>,
    /// What the run read (for the evidence pack); `None` when it failed.
    pub inputs: Option<std::sync::Arc<RunInputs>>,
    /// The diff against the previous run with its unit lists (the pack's
    /// `diff.json`; the snapshot's `diff` has the counts). `None` for a
    /// first run or a failed one.
    pub diff: Option<Value>,
}

/// Everything a run read and checked: the inputs of the computation. The
/// evidence pack records them, and replay rebuilds them from a pack.
#[derive(Debug)]
pub struct RunInputs {
    /// `bundle.json`.
    pub params: RunParams,
    /// The validated ruleset.
    pub ruleset: Ruleset,
    /// Catalog, entitlements, pools, directory (adapter identity facts included).
    pub master: MasterData,
    /// Accepted signals (collapsed duplicates included).
    pub signals: SignalStore,
    /// Import jobs, by path.
    pub jobs: Vec<ImportJob>,
    /// Vendor-portal observations from adapters.
    pub observations: Vec<crate::input::adapters::EntitlementObservation>,
    /// The verified previous snapshot.
    pub previous: Option<Snapshot>,
    /// The previous run's units and entitlements, when its evidence pack was
    /// given (a unit-level diff with reasons); `None` with a bare snapshot.
    pub previous_run: Option<PreviousRun>,
    /// Non-fatal remarks.
    pub warnings: Vec<String>,
    /// Set when principals were replaced by keyed hashes
    /// ([`crate::evidence::pseudonym`]): the manifest's note.
    pub pseudonymised: Option<Value>,
}

impl Outcome {
    /// `exceptions.jsonl`: one canonical JSON object per line.
    pub fn exceptions_jsonl(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.exceptions {
            // ExceptionRecord holds only strings: canonicalisation cannot fail.
            if let Ok(b) = crate::canon::canonical::to_vec_of(e) {
                out.extend_from_slice(&b);
                out.push(b'\n');
            }
        }
        out
    }
}

/// Reconcile a bundle, optionally chained to the previous snapshot's bytes.
///
/// Never panics on bad input: every problem ends in the outcome, as row
/// errors in the report or as the errors of a failed run.
///
/// ```
/// use eucora_license_core::{reconcile, bundle::MemoryBundle, RunStatus};
/// let mut b = MemoryBundle::default();
/// b.insert("bundle.json", br#"{"organization_id":"o","as_of":"2026-01-01T00:00:00Z","run_id":"r"}"#.to_vec());
/// let out = reconcile(&b, None);
/// assert_eq!(out.status, RunStatus::Failed); // catalog.json and the rest are missing
/// assert_eq!(out.errors[0].code().name(), "invalid_input");
/// ```
pub fn reconcile(bundle: &dyn BundleSource, previous: Option<&[u8]>) -> Outcome {
    let mut ctx = RunCtx::default();
    match run(bundle, previous, &mut ctx) {
        Ok(done) => done,
        Err(errors) => ctx.failed(errors),
    }
}

/// What is known of a run while it proceeds (for the failed report).
#[derive(Default)]
struct RunCtx {
    params: Option<RunParams>,
    ruleset: Option<(String, i64, Digest32)>,
    jobs: Vec<ImportJob>,
    warnings: Vec<String>,
}

impl RunCtx {
    fn failed(self, mut errors: Vec<Error>) -> Outcome {
        errors.sort_by_key(|a| (a.code(), a.to_string()));
        errors.dedup();
        let mut reasons: Vec<&str> = errors.iter().map(|e| e.code().name()).collect();
        reasons.dedup();
        let report = json!({
            "schema": "eucora.license.run_report/v1",
            "status": "failed",
            "organization_id": self.params.as_ref().map(|p| p.organization_id.clone()),
            "run_id": self.params.as_ref().map(|p| p.run_id.clone()),
            "reconciled_at": self.params.as_ref().map(|p| p.as_of.to_string()),
            "ruleset": self.ruleset.as_ref().map(|(id, v, h)| json!({"id": id, "version": v, "hash": h.to_prefixed()})),
            "reasons": reasons,
            "errors": errors.iter().map(error_json).collect::<Vec<_>>(),
            "imports": self.jobs,
            "warnings": self.warnings,
            "snapshot_hash": null,
        });
        Outcome {
            status: RunStatus::Failed,
            snapshot: None,
            report,
            exceptions: Vec::new(),
            errors,
            units: BTreeMap::new(),
            inputs: None,
            diff: None,
        }
    }
}

/// An error as report JSON: code, number, message, location.
pub fn error_json(e: &Error) -> Value {
    let mut v = json!({"code": e.code().name(), "number": e.code().number(), "message": e.message()});
    if let Some(loc) = e.location() {
        v["file"] = json!(loc.file);
        if let Some(l) = loc.line {
            v["line"] = json!(l);
        }
        if let Some(f) = &loc.field {
            v["field"] = json!(f);
        }
    }
    v
}

fn open<'b>(bundle: &'b dyn BundleSource, path: &str) -> Result<HashingReader<Box<dyn Read + 'b>>, Vec<Error>> {
    bundle
        .open(path)
        .map(HashingReader::new)
        .map_err(|e| vec![Error::new(ErrorCode::InvalidInput, format!("cannot open: {e}")).at(Location::file(path))])
}

fn finish<R: Read>(path: &str, r: HashingReader<R>) -> Result<(Digest32, u64), Vec<Error>> {
    r.finish().map_err(|e| vec![Error::new(ErrorCode::InvalidInput, format!("cannot read: {e}")).at(Location::file(path))])
}

fn master_job(role: &str, path: &str, hash: Digest32, bytes: u64, rows: usize) -> ImportJob {
    let mut job = ImportJob::new("canonical", path, hash, bytes);
    job.source = role.to_string();
    job.rows_total = rows as u64;
    job.rows_accepted = rows as u64;
    job
}

/// Run the stages. Unusable input (`invalid_input`) stops at once; the
/// fail-closed reasons are collected across stages, so a report names every
/// reason that could be established (a ruleset that does not parse leaves the
/// signals unread, since they are normalised with it).
fn run(bundle: &dyn BundleSource, previous: Option<&[u8]>, ctx: &mut RunCtx) -> Result<Outcome, Vec<Error>> {
    let paths = bundle.paths().map_err(|e| vec![Error::new(ErrorCode::InvalidInput, format!("cannot list the bundle: {e}"))])?;
    let has = |p: &str| paths.iter().any(|x| x == p);
    for required in ["bundle.json", "catalog.json", "entitlements.csv"] {
        if !has(required) {
            return Err(vec![
                Error::new(ErrorCode::InvalidInput, format!("required file `{required}` is missing")).at(Location::file(required))
            ]);
        }
    }
    let (params_doc, _) = read_json("bundle.json", open(bundle, "bundle.json")?).map_err(|e| vec![e])?;
    let params = parse_params("bundle.json", &params_doc).map_err(|e| vec![e])?;
    ctx.params = Some(params.clone());

    // Catalog first: the ruleset's mappings are checked against it.
    let mut errors = Vec::new();
    let mut catalog_reader = open(bundle, "catalog.json")?;
    let mut catalog_bytes = Vec::new();
    catalog_reader.read_to_end(&mut catalog_bytes).map_err(|e| io_err("catalog.json", e))?;
    let (catalog_hash, catalog_len) = finish("catalog.json", catalog_reader)?;
    let (catalog_doc, _) = read_json("catalog.json", catalog_bytes.as_slice()).map_err(|e| vec![e])?;
    let mut md = catalog::parse_catalog("catalog.json", &catalog_doc, &mut errors).map_err(|e| vec![e])?;

    // Ruleset: named by bundle.json, else ruleset.json; no implicit default.
    let ruleset_path = params.ruleset.clone().unwrap_or_else(|| "ruleset.json".to_string());
    let rs: Option<Ruleset> = if !has(&ruleset_path) {
        errors.push(
            Error::new(ErrorCode::InvalidRuleset, format!("ruleset file `{ruleset_path}` is not in the bundle"))
                .at(Location::file(&ruleset_path)),
        );
        None
    } else {
        let mut rs_bytes = Vec::new();
        bundle.open(&ruleset_path).and_then(|mut r| r.read_to_end(&mut rs_bytes)).map_err(|e| io_err(&ruleset_path, e))?;
        let sku_exists = |id: &str| md.declared_sku_ids.contains(id);
        match ruleset::parse(&rs_bytes, Some(&sku_exists)) {
            Ok(rs) => Some(rs),
            Err(issues) => {
                errors.extend(issues.iter().map(|i| {
                    Error::new(ErrorCode::InvalidRuleset, format!("{} [{}]", i.message, i.code))
                        .at(Location::file(&ruleset_path).with_field(i.path.clone()))
                }));
                None
            }
        }
    };
    if let Some(rs) = &rs {
        ctx.ruleset = Some((rs.id.clone(), rs.version, rs.hash));
    }

    // Master data tables.
    let mut jobs = vec![master_job("catalog", "catalog.json", catalog_hash, catalog_len, md.skus.len())];
    let before = md.entitlements.len();
    let r = catalog::read_entitlements("entitlements.csv", open(bundle, "entitlements.csv")?, &mut md, &mut errors).map_err(|e| vec![e])?;
    let (h, n) = finish("entitlements.csv", r)?;
    jobs.push(master_job("entitlements", "entitlements.csv", h, n, md.entitlements.len() - before));
    for (path, role) in [("pools.csv", "pools"), ("directory.csv", "directory")] {
        if !has(path) {
            continue;
        }
        let r = open(bundle, path)?;
        let (r, rows) = if role == "pools" {
            let b = md.pools.len();
            let r = catalog::read_pools(path, r, &mut md, &mut errors).map_err(|e| vec![e])?;
            (r, md.pools.len() - b)
        } else {
            let b = md.directory.len();
            let r = catalog::read_directory(path, r, &mut md, &mut errors).map_err(|e| vec![e])?;
            (r, md.directory.len() - b)
        };
        let (h, n) = finish(path, r)?;
        jobs.push(master_job(role, path, h, n, rows));
    }
    ctx.jobs = jobs.clone();

    // Previous run: a snapshot, or the previous evidence pack (which also
    // gives its units, for a unit-level diff). Must verify and belong to
    // this organization.
    let parsed = previous.map(|bytes| {
        if crate::canon::tar::looks_like_archive(bytes) {
            PreviousRun::from_pack(bytes).map(|run| (run.snapshot.clone(), Some(run)))
        } else {
            Snapshot::parse_verified(bytes).map(|s| (s, None))
        }
    });
    let (previous, previous_run) = match parsed {
        None => (None, None),
        Some(Err(e)) => {
            errors.push(e);
            (None, None)
        }
        Some(Ok((p, _))) if snapshot::validate(p.value()).is_err() => {
            errors.extend(snapshot::validate(p.value()).err());
            (None, None)
        }
        Some(Ok((p, _))) if p.organization_id() != params.organization_id => {
            errors.push(Error::new(
                ErrorCode::PreviousSnapshotInvalid,
                format!("previous snapshot belongs to `{}`, not `{}`", p.organization_id(), params.organization_id),
            ));
            (None, None)
        }
        Some(Ok((p, run))) => (Some(p), run),
    };

    // Signals (they are normalised with the ruleset's identity options).
    let Some(rs) = rs else { return Err(errors) };
    let mut store = SignalStore::default();
    let mut signal_paths: Vec<&String> =
        paths.iter().filter(|p| p.starts_with("signals/") && (p.ends_with(".csv") || p.ends_with(".jsonl"))).collect();
    signal_paths.sort();
    for p in paths.iter().filter(|p| p.starts_with("signals/") && !(p.ends_with(".csv") || p.ends_with(".jsonl"))) {
        ctx.warnings.push(format!("{p}: not a .csv or .jsonl file; ignored"));
    }
    for p in signal_paths {
        let reader = bundle.open(p).map_err(|e| io_err(p, e))?;
        store.add_file(p, reader, &rs).map_err(|e| vec![e])?;
    }
    // Raw exports: each folder imports/<adapter>/ goes through its adapter.
    let mut observations = Vec::new();
    let mut folders: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for p in &paths {
        if let Some(rest) = p.strip_prefix("imports/") {
            if let Some((adapter, file)) = rest.split_once('/') {
                if !file.is_empty() {
                    folders.entry(adapter).or_default().push(p);
                }
            }
        }
    }
    for (name, mut files) in folders {
        files.sort();
        let mut inputs = Vec::with_capacity(files.len());
        let mut meta = Vec::with_capacity(files.len());
        for p in files {
            let mut bytes = Vec::new();
            bundle.open(p).and_then(|mut r| r.read_to_end(&mut bytes)).map_err(|e| io_err(p, e))?;
            meta.push((p.clone(), crate::canon::hash::tagged(crate::canon::hash::Domain::Import, &bytes), bytes.len() as u64));
            inputs.push(crate::input::adapters::InputFile { path: p.clone(), bytes });
        }
        let options = params.adapter_options.get(name).cloned().unwrap_or_default();
        match crate::input::adapters::run(name, &inputs, &options) {
            Ok((adapter, out)) => {
                store.add_adapter_output(adapter, &meta, &out, &rs);
                for d in &out.directory {
                    // The same rules as directory.csv rows, so that a replay of the
                    // evidence pack (where these rows live in directory.json) agrees.
                    let is_device = d.principal_type == "device";
                    let typed = |v: &str| v.is_empty() || ["serial:", "id:", "name:"].iter().any(|p| v.starts_with(p));
                    let valid = (is_device || d.principal_type == "user")
                        && !d.canonical_id.trim().is_empty()
                        && (!is_device || (typed(&d.canonical_id) && typed(&d.alias)));
                    if !valid {
                        ctx.warnings.push(format!("imports/{name}/: an identity fact the directory rules reject was ignored"));
                        continue;
                    }
                    md.directory.push(catalog::DirectoryRow {
                        line: 0,
                        is_device: d.principal_type == "device",
                        canonical_id: d.canonical_id.trim().to_string(),
                        alias: d.alias.trim().to_string(),
                        status: String::new(),
                        region: String::new(),
                        bu: String::new(),
                    });
                }
                observations.extend(out.observations);
            }
            Err(e) => {
                let e = if e.location().is_some() { e } else { e.at(Location::file(format!("imports/{name}/"))) };
                errors.push(e);
            }
        }
    }
    jobs.extend(store.jobs.iter().cloned());
    jobs.sort_by(|a, b| a.path.cmp(&b.path));
    ctx.jobs = jobs.clone();
    errors.extend(store.jobs.iter().filter(|j| j.exceeds_reject_threshold(rs.max_reject_percent)).map(|j| {
        Error::new(
            ErrorCode::RejectThresholdExceeded,
            format!("{} of {} rows rejected, more than max_reject_percent {}%", j.rows_rejected, j.rows_total, rs.max_reject_percent),
        )
        .at(Location::file(&j.path))
    }));
    let unique = match collapse_duplicates(&store) {
        Ok(u) => u,
        Err(conflicts) => {
            errors.extend(conflicts);
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }

    let warnings = std::mem::take(&mut ctx.warnings);
    let inputs = RunInputs {
        params,
        ruleset: rs,
        master: md,
        signals: store,
        jobs,
        observations,
        previous,
        previous_run,
        warnings,
        pseudonymised: None,
    };
    compute(inputs, &unique).map_err(|e| vec![e])
}

/// The computation proper, from checked inputs: identity, counters, snapshot.
/// `unique` lists one row per (source, raw_id).
pub(crate) fn compute(mut inputs: RunInputs, unique: &[u32]) -> Result<Outcome, Error> {
    let eval = evaluate(&mut inputs.signals, &inputs.master, &inputs.ruleset, inputs.params.as_of, unique)?;
    let mut out = assemble(&inputs, eval, unique)?;
    out.inputs = Some(std::sync::Arc::new(inputs));
    Ok(out)
}

fn io_err(path: &str, e: std::io::Error) -> Vec<Error> {
    vec![Error::new(ErrorCode::InvalidInput, format!("cannot read: {e}")).at(Location::file(path))]
}

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
        m.insert("compliance_status".into(), json!(c.compliance_status(under)));
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

fn assemble(inputs: &RunInputs, mut eval: Evaluation, unique: &[u32]) -> Result<Outcome, Error> {
    let (params, rs, md, jobs) = (&inputs.params, &inputs.ruleset, &inputs.master, &inputs.jobs);
    let (previous, warnings, observations) = (inputs.previous.as_ref(), &inputs.warnings, &inputs.observations);
    // Coverage: expected sources plus every source seen.
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
            "missing"
        } else if prev_count.is_some_and(|p| {
            (facts.signals as u128) * 100 < (p as u128) * (100u128.saturating_sub(rs.degraded_drop_percent.max(0) as u128))
        }) {
            health_reasons.push(format!("source_degraded:{name}"));
            "degraded"
        } else {
            "ok"
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
    let health = if health_reasons.is_empty() { "ok" } else { "degraded" };

    let mut totals = Counters::default();
    let mut by_model: BTreeMap<&str, Counters> = Model::ALL.iter().map(|m| (m.name(), Counters::default())).collect();
    let mut records = Vec::with_capacity(eval.skus.len());
    let mut units = BTreeMap::new();
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
    let skus_root = snapshot::skus_root(&records)?;
    let mut exceptions_summary: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &eval.exceptions {
        *exceptions_summary.entry(e.code).or_default() += 1;
    }

    let (sequence, previous_hash) = match previous {
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
    };
    let (diff, diff_detail) = match (&inputs.previous_run, previous) {
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
            let d = crate::history::diff::counters_only(p, &records);
            (Some(d.clone()), Some(d))
        }
        (None, None) => (None, None),
    };
    // Hand the units over to the outcome (no copy: they are the largest output).
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
        "health": health,
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
    let status = if health == "ok" { RunStatus::Ok } else { RunStatus::Degraded };
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

/// Vendor-portal observations next to our own numbers, with the
/// discrepancies named (`entitled_mismatch`, `consumed_mismatch`,
/// `unmapped_product`). Reported, never applied.
fn compare_observations(
    md: &MasterData,
    rs: &Ruleset,
    eval: &Evaluation,
    observations: &[crate::input::adapters::EntitlementObservation],
) -> Vec<Value> {
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
