//! Reading and checking a bundle: the run's inputs, each stage as one
//! function, in the order [`super::reconcile`] calls them.

use crate::canon::hash::Digest32;
use crate::document::snapshot::{self, Snapshot};
use crate::engine::collapse_duplicates;
use crate::error::{Error, ErrorCode, Location};
use crate::history::diff::PreviousRun;
use crate::input::adapters::{self, EntitlementObservation, InputFile};
use crate::input::bundle::{parse_params, BundleSource, RunParams};
use crate::input::catalog::{self, MasterData};
use crate::input::ruleset::{self, Ruleset};
use crate::input::signals::{ImportJob, ReadParallelism, SignalStore};
use crate::input::table::{read_json, HashingReader};
use std::collections::BTreeMap;
use std::io::Read;

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

fn io_err(path: &str, e: std::io::Error) -> Vec<Error> {
    vec![Error::new(ErrorCode::InvalidInput, format!("cannot read: {e}")).at(Location::file(path))]
}

/// The bundle's paths; `bundle.json`, `catalog.json` and `entitlements.csv`
/// must be among them.
pub(super) fn bundle_paths(bundle: &dyn BundleSource) -> Result<Vec<String>, Vec<Error>> {
    let paths = bundle.paths().map_err(|e| vec![Error::new(ErrorCode::InvalidInput, format!("cannot list the bundle: {e}"))])?;
    for required in ["bundle.json", "catalog.json", "entitlements.csv"] {
        if !paths.iter().any(|x| x == required) {
            return Err(vec![
                Error::new(ErrorCode::InvalidInput, format!("required file `{required}` is missing")).at(Location::file(required))
            ]);
        }
    }
    Ok(paths)
}

fn has(paths: &[String], p: &str) -> bool {
    paths.iter().any(|x| x == p)
}

/// `bundle.json`.
pub(super) fn params(bundle: &dyn BundleSource) -> Result<RunParams, Vec<Error>> {
    let (params_doc, _) = read_json("bundle.json", open(bundle, "bundle.json")?).map_err(|e| vec![e])?;
    parse_params("bundle.json", &params_doc).map_err(|e| vec![e])
}

/// `catalog.json`, with its import job.
pub(super) fn catalog(bundle: &dyn BundleSource, errors: &mut Vec<Error>) -> Result<(MasterData, ImportJob), Vec<Error>> {
    let mut catalog_reader = open(bundle, "catalog.json")?;
    let mut catalog_bytes = Vec::new();
    catalog_reader.read_to_end(&mut catalog_bytes).map_err(|e| io_err("catalog.json", e))?;
    let (catalog_hash, catalog_len) = finish("catalog.json", catalog_reader)?;
    let (catalog_doc, _) = read_json("catalog.json", catalog_bytes.as_slice()).map_err(|e| vec![e])?;
    let md = catalog::parse_catalog("catalog.json", &catalog_doc, errors).map_err(|e| vec![e])?;
    let job = master_job("catalog", "catalog.json", catalog_hash, catalog_len, md.skus.len());
    Ok((md, job))
}

/// The ruleset: named by bundle.json, else ruleset.json; no implicit
/// default. `None` (with the reasons in `errors`) when it is missing or invalid.
pub(super) fn ruleset(
    bundle: &dyn BundleSource,
    paths: &[String],
    params: &RunParams,
    md: &MasterData,
    errors: &mut Vec<Error>,
) -> Result<Option<Ruleset>, Vec<Error>> {
    let ruleset_path = params.ruleset.clone().unwrap_or_else(|| "ruleset.json".to_string());
    if !has(paths, &ruleset_path) {
        errors.push(
            Error::new(ErrorCode::InvalidRuleset, format!("ruleset file `{ruleset_path}` is not in the bundle"))
                .at(Location::file(&ruleset_path)),
        );
        return Ok(None);
    }
    let mut rs_bytes = Vec::new();
    bundle.open(&ruleset_path).and_then(|mut r| r.read_to_end(&mut rs_bytes)).map_err(|e| io_err(&ruleset_path, e))?;
    let sku_exists = |id: &str| md.declared_sku_ids.contains(id);
    match ruleset::parse(&rs_bytes, Some(&sku_exists)) {
        Ok(rs) => Ok(Some(rs)),
        Err(issues) => {
            errors.extend(issues.iter().map(|i| {
                Error::new(ErrorCode::InvalidRuleset, format!("{} [{}]", i.message, i.code))
                    .at(Location::file(&ruleset_path).with_field(i.path.clone()))
            }));
            Ok(None)
        }
    }
}

/// Entitlements, pools and directory, after the catalog: the master-data
/// import jobs (the catalog's first).
pub(super) fn master_tables(
    bundle: &dyn BundleSource,
    paths: &[String],
    md: &mut MasterData,
    catalog_job: ImportJob,
    errors: &mut Vec<Error>,
) -> Result<Vec<ImportJob>, Vec<Error>> {
    let mut jobs = vec![catalog_job];
    let before = md.entitlements.len();
    let r = catalog::read_entitlements("entitlements.csv", open(bundle, "entitlements.csv")?, md, errors).map_err(|e| vec![e])?;
    let (h, n) = finish("entitlements.csv", r)?;
    jobs.push(master_job("entitlements", "entitlements.csv", h, n, md.entitlements.len() - before));
    for (path, role) in [("pools.csv", "pools"), ("directory.csv", "directory")] {
        if !has(paths, path) {
            continue;
        }
        let r = open(bundle, path)?;
        let (r, rows) = if role == "pools" {
            let b = md.pools.len();
            let r = catalog::read_pools(path, r, md, errors).map_err(|e| vec![e])?;
            (r, md.pools.len() - b)
        } else {
            let b = md.directory.len();
            let r = catalog::read_directory(path, r, md, errors).map_err(|e| vec![e])?;
            (r, md.directory.len() - b)
        };
        let (h, n) = finish(path, r)?;
        jobs.push(master_job(role, path, h, n, rows));
    }
    Ok(jobs)
}

/// The previous run: a snapshot, or the previous evidence pack (which also
/// gives its units, for a unit-level diff). Must verify and belong to this
/// organization; otherwise the reason goes to `errors`.
pub(super) fn previous(
    previous: Option<super::PreviousInput<'_>>,
    params: &RunParams,
    errors: &mut Vec<Error>,
) -> (Option<Snapshot>, Option<PreviousRun>) {
    let parsed = previous.map(|input| match input {
        // A pack as written (a zstd frame) or as written before compression (a tar).
        super::PreviousInput::Bytes(bytes) if crate::canon::zst::looks_like_pack(bytes) => {
            PreviousRun::from_pack(bytes).map(|run| (run.snapshot.clone(), Some(run)))
        }
        super::PreviousInput::Bytes(bytes) => Snapshot::parse_verified(bytes).map(|s| (s, None)),
        // Streamed: only the snapshot, units and entitlements are kept.
        super::PreviousInput::Pack(reader) => PreviousRun::from_reader(reader).map(|run| (run.snapshot.clone(), Some(run))),
    });
    match parsed {
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
    }
}

/// Canonical signal files, `signals/*.csv` and `signals/*.jsonl`, in path
/// order; other files under `signals/` are named in `warnings`. `par` sets
/// the parsing threads of each CSV file (the store is the same for all).
pub(super) fn signals(
    bundle: &dyn BundleSource,
    paths: &[String],
    rs: &Ruleset,
    warnings: &mut Vec<String>,
    par: ReadParallelism,
) -> Result<SignalStore, Vec<Error>> {
    let mut store = SignalStore::default();
    let mut signal_paths: Vec<&String> =
        paths.iter().filter(|p| p.starts_with("signals/") && (p.ends_with(".csv") || p.ends_with(".jsonl"))).collect();
    signal_paths.sort();
    for p in paths.iter().filter(|p| p.starts_with("signals/") && !(p.ends_with(".csv") || p.ends_with(".jsonl"))) {
        warnings.push(format!("{p}: not a .csv or .jsonl file; ignored"));
    }
    for p in signal_paths {
        let reader = bundle.open(p).map_err(|e| io_err(p, e))?;
        store.add_file_with(p, reader, rs, par).map_err(|e| vec![e])?;
    }
    Ok(store)
}

/// Raw exports: each folder `imports/<adapter>/` goes through its adapter;
/// the signals join `store`, the identity facts the directory (by the
/// directory's own row rule, [`catalog::check_directory_row`]), and the
/// vendor-portal observations are returned.
#[allow(clippy::too_many_arguments)]
pub(super) fn imports(
    bundle: &dyn BundleSource,
    paths: &[String],
    params: &RunParams,
    rs: &Ruleset,
    store: &mut SignalStore,
    md: &mut MasterData,
    warnings: &mut Vec<String>,
    errors: &mut Vec<Error>,
) -> Result<Vec<EntitlementObservation>, Vec<Error>> {
    let mut observations = Vec::new();
    let mut folders: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for p in paths {
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
            inputs.push(InputFile { path: p.clone(), bytes });
        }
        let options = params.adapter_options.get(name).cloned().unwrap_or_default();
        match adapters::run(name, &inputs, &options) {
            Ok((adapter, out)) => {
                store.add_adapter_output(adapter, &meta, &out, rs);
                for d in &out.directory {
                    // The same rule as directory.csv rows, so that a replay of the
                    // evidence pack (where these rows live in directory.json) agrees.
                    let Ok(is_device) = catalog::check_directory_row(&d.principal_type, &d.canonical_id, &d.alias) else {
                        warnings.push(format!("imports/{name}/: an identity fact the directory rules reject was ignored"));
                        continue;
                    };
                    // An adapter writes `status` and `last_active_at` in the
                    // directory's own vocabulary; a value the directory would
                    // refuse is dropped with the fact, as above.
                    let status = d.status.trim();
                    let last_active_at = catalog::normalize_last_active_at(&d.last_active_at);
                    let (true, Ok(last_active_at)) = (matches!(status, "" | "active" | "disabled"), last_active_at) else {
                        warnings.push(format!(
                            "imports/{name}/: an identity fact with a status or last activity the directory rules reject was ignored"
                        ));
                        continue;
                    };
                    md.directory.push(catalog::DirectoryRow {
                        line: 0,
                        is_device,
                        canonical_id: d.canonical_id.trim().to_string(),
                        alias: d.alias.trim().to_string(),
                        status: status.to_string(),
                        region: String::new(),
                        bu: String::new(),
                        last_active_at,
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
    Ok(observations)
}

/// The checks over everything read: no import rejects more rows than
/// `max_reject_percent`, no (source, raw_id) with two contents. Returns one
/// row per (source, raw_id) (empty when duplicates conflict).
pub(super) fn recheck(store: &SignalStore, rs: &Ruleset, errors: &mut Vec<Error>) -> Vec<u32> {
    errors.extend(store.jobs.iter().filter(|j| j.exceeds_reject_threshold(rs.max_reject_percent)).map(|j| {
        Error::new(
            ErrorCode::RejectThresholdExceeded,
            format!("{} of {} rows rejected, more than max_reject_percent {}%", j.rows_rejected, j.rows_total, rs.max_reject_percent),
        )
        .at(Location::file(&j.path))
    }));
    match collapse_duplicates(store) {
        Ok(u) => u,
        Err(conflicts) => {
            errors.extend(conflicts);
            Vec::new()
        }
    }
}
