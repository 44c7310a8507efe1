//! One reconciliation run: bundle in, snapshot (or a failed run report) out.
//!
//! The run fails closed (no snapshot) on the contract's five integrity
//! reasons and on unusable input (`invalid_input`); everything else — a
//! missing source, unmapped products, rejected rows under the threshold — is
//! reported and the snapshot is still computed, marked `degraded` when a
//! source is missing or collapsed.
//!
//! The stages live in [`read`] (bytes to checked inputs, and the re-checks
//! over everything read) and [`build`] (the snapshot and run report from the
//! engine's evaluation); this module holds the outcome types and the order.
//!
//! Layer: above `history` (the diff against the previous run) and below
//! `evidence` (replay runs [`compute`] on a pack's inputs).

mod build;
mod read;

use crate::canon::hash::Digest32;
use crate::document::report::{ReportError, RunReport, RUN_REPORT_SCHEMA};
use crate::document::snapshot::Snapshot;
use crate::engine::{evaluate, ExceptionRecord, UnitList};
use crate::error::Error;
use crate::history::diff::PreviousRun;
use crate::input::bundle::{BundleSource, RunParams};
use crate::input::catalog::MasterData;
use crate::input::ruleset::Ruleset;
use crate::input::signals::{ImportJob, ReadParallelism, SignalStore};
use serde_json::Value;
use std::collections::BTreeMap;

pub use crate::vocab::RunStatus;

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Run status.
    pub status: RunStatus,
    /// The snapshot, unless the run failed.
    pub snapshot: Option<Snapshot>,
    /// The run report (`run_report.json`).
    pub report: RunReport,
    /// Exceptions, sorted.
    pub exceptions: Vec<ExceptionRecord>,
    /// Errors that failed the run (empty on success).
    pub errors: Vec<Error>,
    /// Units per SKU id (canonical JSON bytes, key order), for the evidence
    /// pack. Empty when the run was asked not to keep them
    /// ([`RunOptions::keep_units`]); then no pack can be written from it.
    pub units: BTreeMap<String, UnitList>,
    /// What the run read (for the evidence pack); `None` when it failed.
    pub inputs: Option<std::sync::Arc<RunInputs>>,
    /// The diff against the previous run with its unit lists (the pack's
    /// `diff.json`; the snapshot's `diff` has the counts). `None` for a
    /// first run or a failed one.
    pub diff: Option<crate::document::diff::DiffDetail>,
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
    /// ([`crate::pseudonymise`]): the manifest's note.
    pub pseudonymised: Option<crate::document::manifest::PseudonymNote>,
}

impl Outcome {
    /// Whether the outcome holds the units of every SKU of its snapshot
    /// (false for a failed run, or one run without keeping its units:
    /// [`RunOptions::keep_units`]).
    pub fn has_units(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|s| s.doc().skus.len() == self.units.len())
    }

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

/// How a run is carried out — never what it computes: every option leaves
/// the outcome byte-identical.
///
/// `threads` is the data parallelism of DESIGN Part B: the per-SKU work
/// (units, their Merkle roots, pools, counters) is spread over that many
/// scoped threads and merged in SKU order, so the snapshot, report,
/// exceptions and units are the same bytes for every value. The default is
/// one thread (the library never starts threads unless asked); the CLI asks
/// for every core. Build it with [`RunOptions::with_threads`] (the struct is
/// `#[non_exhaustive]`, so options can be added without breaking callers).
///
/// ```
/// use eucora_license_core::{reconcile, reconcile_with, MemoryBundle, RunOptions};
/// assert_eq!(RunOptions::default().threads, 1);
/// let opts = RunOptions::with_threads(4).unwrap();
/// let b = MemoryBundle::default(); // empty: the run fails, the same way with any thread count
/// assert_eq!(reconcile_with(&b, None, &opts).report, reconcile(&b, None).report);
/// assert_eq!(RunOptions::with_threads(0).unwrap_err().code().name(), "invalid_input");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOptions {
    /// Worker threads for the data-parallel stages, at least 1.
    pub threads: usize,
    /// Whether the outcome keeps every unit's canonical bytes
    /// ([`Outcome::units`], what the evidence pack is written from). Default
    /// `true`. A caller that writes no pack (the CLI's `--no-pack`) turns it
    /// off with [`RunOptions::without_units`]: each SKU's units are then
    /// hashed into its `units_root` as they are rendered and dropped at once
    /// (about 1 GB less at 10 M signals). The snapshot, report and exceptions
    /// are the same bytes either way; only `units` is left empty, and
    /// [`crate::write_pack`] refuses such an outcome.
    pub keep_units: bool,
    /// Target size in bytes of the blocks a signal file is cut into when it
    /// is parsed on several threads (a block always ends at a record end).
    /// Default 4 MiB; any value of 1 or more gives the same outcome (the
    /// property tests cut files into blocks of a few bytes).
    pub read_block_bytes: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { threads: 1, keep_units: true, read_block_bytes: 4 << 20 }
    }
}

impl RunOptions {
    /// Options with `threads` worker threads; `invalid_input` unless
    /// `threads >= 1` (the one check of this argument, for every binding:
    /// [`crate::api::run_options`]).
    pub fn with_threads(threads: usize) -> crate::error::Result<RunOptions> {
        if threads == 0 {
            return Err(Error::new(crate::error::ErrorCode::InvalidInput, "`threads` must be at least 1"));
        }
        Ok(RunOptions { threads, ..RunOptions::default() })
    }

    /// The same options without keeping the units' bytes (`keep_units`
    /// false): for a run whose evidence pack is not written.
    ///
    /// ```
    /// use eucora_license_core::RunOptions;
    /// let o = RunOptions::default().without_units();
    /// assert!(!o.keep_units && o.threads == 1);
    /// ```
    pub fn without_units(self) -> RunOptions {
        RunOptions { keep_units: false, ..self }
    }
}

/// Reconcile a bundle, optionally chained to the previous snapshot's bytes,
/// on one thread: [`reconcile_with`] and the default [`RunOptions`].
///
/// Never panics on bad input: every problem ends in the outcome, as row
/// errors in the report or as the errors of a failed run.
///
/// ```
/// use eucora_license_core::{reconcile, MemoryBundle, RunStatus};
/// let mut b = MemoryBundle::default();
/// b.insert("bundle.json", br#"{"organization_id":"o","as_of":"2026-01-01T00:00:00Z","run_id":"r"}"#.to_vec());
/// let out = reconcile(&b, None);
/// assert_eq!(out.status, RunStatus::Failed); // catalog.json and the rest are missing
/// assert_eq!(out.errors[0].code().name(), "invalid_input");
/// ```
pub fn reconcile(bundle: &dyn BundleSource, previous: Option<&[u8]>) -> Outcome {
    reconcile_from(bundle, previous.map(PreviousInput::Bytes), &RunOptions::default())
}

/// [`reconcile`] with options: the same outcome, byte for byte, carried out
/// as `options` say (`threads`: how many threads the data-parallel stages
/// use; a value of 0 is treated as 1 here, [`RunOptions::with_threads`]
/// refuses it).
///
/// ```
/// use eucora_license_core::{reconcile_with, MemoryBundle, RunOptions, RunStatus};
/// let mut b = MemoryBundle::default();
/// b.insert("bundle.json", br#"{"organization_id":"o","as_of":"2026-01-01T00:00:00Z","run_id":"r"}"#.to_vec());
/// let out = reconcile_with(&b, None, &RunOptions::with_threads(2).unwrap());
/// assert_eq!(out.status, RunStatus::Failed); // catalog.json and the rest are missing
/// ```
pub fn reconcile_with(bundle: &dyn BundleSource, previous: Option<&[u8]>, options: &RunOptions) -> Outcome {
    reconcile_from(bundle, previous.map(PreviousInput::Bytes), options)
}

/// [`reconcile`] chained to the previous run's evidence pack read as a
/// stream (a file): the pack is read once and never held; only what the
/// diff needs is kept (its snapshot, units and entitlements), so a chained
/// run takes no more memory than an unchained one plus the previous units
/// (issue 15). The same outcome as `reconcile(bundle, Some(&pack_bytes))`.
pub fn reconcile_after_pack(bundle: &dyn BundleSource, previous_pack: &mut dyn std::io::Read) -> Outcome {
    reconcile_after_pack_with(bundle, previous_pack, &RunOptions::default())
}

/// [`reconcile_after_pack`] with options (see [`reconcile_with`]): the same
/// outcome for every value.
pub fn reconcile_after_pack_with(bundle: &dyn BundleSource, previous_pack: &mut dyn std::io::Read, options: &RunOptions) -> Outcome {
    reconcile_from(bundle, Some(PreviousInput::Pack(previous_pack)), options)
}

/// The previous run as a caller holds it.
pub(crate) enum PreviousInput<'a> {
    /// A snapshot or a pack, in memory.
    Bytes(&'a [u8]),
    /// A pack, to be read as a stream.
    Pack(&'a mut dyn std::io::Read),
}

fn reconcile_from(bundle: &dyn BundleSource, previous: Option<PreviousInput<'_>>, options: &RunOptions) -> Outcome {
    let mut ctx = RunCtx::default();
    match run(bundle, previous, options, &mut ctx) {
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
        let report = RunReport {
            schema: RUN_REPORT_SCHEMA.to_string(),
            status: RunStatus::Failed,
            organization_id: self.params.as_ref().map(|p| p.organization_id.clone()),
            run_id: self.params.as_ref().map(|p| p.run_id.clone()),
            reconciled_at: self.params.as_ref().map(|p| p.as_of.to_string()),
            ruleset: self.ruleset.as_ref().map(|(id, v, h)| crate::document::snapshot::RulesetRef {
                id: id.clone(),
                version: *v,
                hash: h.to_prefixed(),
            }),
            reasons: reasons.into_iter().map(str::to_string).collect(),
            errors: errors.iter().map(ReportError::of).collect(),
            imports: self.jobs,
            warnings: self.warnings,
            snapshot_hash: None,
            health_reasons: None,
            exceptions: None,
            entitlement_observations: None,
            sequence: None,
        };
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
    serde_json::to_value(ReportError::of(e)).unwrap_or(Value::Null)
}

/// Run the stages: read, validate, re-check, build. Unusable input
/// (`invalid_input`) stops at once; the fail-closed reasons are collected
/// across stages, so a report names every reason that could be established
/// (a ruleset that does not parse leaves the signals unread, since they are
/// normalised with it).
fn run(
    bundle: &dyn BundleSource,
    previous: Option<PreviousInput<'_>>,
    options: &RunOptions,
    ctx: &mut RunCtx,
) -> Result<Outcome, Vec<Error>> {
    let paths = read::bundle_paths(bundle)?;
    let params = read::params(bundle)?;
    ctx.params = Some(params.clone());

    // Catalog first: the ruleset's mappings are checked against it.
    let mut errors = Vec::new();
    let (mut md, catalog_job) = read::catalog(bundle, &mut errors)?;
    let rs = read::ruleset(bundle, &paths, &params, &md, &mut errors)?;
    if let Some(rs) = &rs {
        ctx.ruleset = Some((rs.id.clone(), rs.version, rs.hash));
    }
    let mut jobs = read::master_tables(bundle, &paths, &mut md, catalog_job, &mut errors)?;
    ctx.jobs = jobs.clone();
    let (previous, previous_run) = read::previous(previous, &params, &mut errors);

    // Signals (they are normalised with the ruleset's identity options).
    let Some(rs) = rs else { return Err(errors) };
    let par = ReadParallelism { threads: options.threads, block_bytes: options.read_block_bytes };
    let mut store = read::signals(bundle, &paths, &rs, &mut ctx.warnings, par)?;
    let observations = read::imports(bundle, &paths, &params, &rs, &mut store, &mut md, &mut ctx.warnings, &mut errors)?;
    jobs.extend(store.jobs.iter().cloned());
    jobs.sort_by(|a, b| a.path.cmp(&b.path));
    ctx.jobs = jobs.clone();
    let unique = read::recheck(&store, &rs, &mut errors);
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
    compute(inputs, &unique, options).map_err(|e| vec![e])
}

/// The computation proper, from checked inputs: identity, counters, snapshot.
/// `unique` lists one row per (source, raw_id); `options` say how (threads,
/// whether the units are kept), never what.
pub(crate) fn compute(mut inputs: RunInputs, unique: &[u32], options: &RunOptions) -> Result<Outcome, Error> {
    // The unit-level diff against a previous pack reads this run's units.
    let render_units = options.keep_units || inputs.previous_run.is_some();
    let (as_of, threads) = (inputs.params.as_of, options.threads.max(1));
    let eval = evaluate(&mut inputs.signals, &inputs.master, &inputs.ruleset, as_of, unique, threads, render_units)?;
    let mut out = build::assemble(&inputs, eval, unique, options.keep_units)?;
    out.inputs = Some(std::sync::Arc::new(inputs));
    Ok(out)
}
