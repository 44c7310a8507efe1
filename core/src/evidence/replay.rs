//! Replay of a run from an evidence pack's own inputs (DESIGN A7): every
//! input checked as hostile, the run recomputed, every derived artifact
//! compared byte for byte with what the pack holds.

use super::pack::{artifacts, canon, streamed_names, write_streamed};
use super::stream::{Pass, Segments, SEGMENTED};
use crate::canon::hash::Digest32;
use crate::document::manifest::quoted;
use crate::document::manifest::REQUIRED;
use crate::document::snapshot::Snapshot;
use crate::error::Error;
use crate::input::catalog;
use crate::input::signals::{ImportJob, SignalStore};
use crate::run::{compute, Outcome, RunInputs};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;

/// Replay the reconciliation from a pack's own inputs: the snapshot hash it
/// gives, once every artifact the run derives has come out byte for byte as
/// the pack holds it. The last step of [`verify`](super::verify::verify), on its own so that a host
/// can run it beside the other checks (see [`verify_using`](super::verify::verify_using)).
///
/// Reads the pack as hostile: only the members a pack holds, every signal's
/// import job listed in `imports.json`, job ids derived from their adapter,
/// path and input hash, each signal file's accepted rows equal to its signals
/// in the pack. Then it recomputes and compares, in this order, naming the
/// first that differs: `snapshot.json`, `units.jsonl`, `exceptions.jsonl`,
/// `diff.json`, `run_report.json`, and the canonical rendering of the inputs
/// (`signals.jsonl`, `bundle.json`, `ruleset.json`, `catalog.json`,
/// `entitlements.json`, `pools.json`, `directory.json`, the `previous_*`
/// members). Never panics.
/// `pack` is compressed or a plain archive, as [`verify`](super::verify::verify) takes it.
/// A thin wrapper over [`replay_reader`].
pub fn replay_pack(pack: &[u8]) -> std::result::Result<Digest32, String> {
    replay_reader(std::io::Cursor::new(pack))
}

/// [`replay_pack`] reading the pack as a stream (a file, a socket): the
/// pack is never held; `signals.jsonl` and `previous_units.jsonl` feed the
/// replay's inputs line by line as they pass, and each artifact the replay
/// derives is compared with the pack's by its SHA-256 (the members that are
/// not kept) or byte for byte (the small ones). Memory: the engine's, as a
/// run of the same bundle, plus the decoder's window and the small members.
pub fn replay_reader<R: std::io::Read>(pack: R) -> std::result::Result<Digest32, String> {
    let mut st = Streamed::default();
    let pass = super::stream::pass(pack, Some(&mut st));
    pass.archive.as_ref().map_err(String::clone)?;
    replay_streamed(&pass, st)
}

/// The replay's inputs as they stream past: the parsed head of the run
/// (computed when `signals.jsonl` starts, by when every member it reads has
/// arrived: A7's name order), the signals, the previous run's units.
#[derive(Default)]
pub(super) struct Streamed {
    prelude: Option<std::result::Result<Prelude, String>>,
    signals: Option<SignalState>,
    signal_lines: crate::canon::lines::Lines,
    previous_units: Option<crate::history::diff::UnitsCollector>,
    previous_units_read: Option<std::result::Result<UnitsBySku, String>>,
}

/// Units per SKU, held compressed.
type UnitsBySku = BTreeMap<String, crate::history::diff::SkuUnits>;

impl Streamed {
    /// A member starts; `kept` holds the small members so far.
    pub(super) fn start(&mut self, name: &str, kept: &BTreeMap<&'static str, Vec<u8>>) {
        match name {
            "signals.jsonl" => {
                let p = prelude(kept);
                if let Ok(p) = &p {
                    self.signals = Some(SignalState::new(&p.jobs));
                }
                self.prelude = Some(p);
            }
            "previous_units.jsonl" => self.previous_units = Some(Default::default()),
            _ => {}
        }
    }

    /// The next bytes of member `name`.
    pub(super) fn feed(&mut self, name: &str, chunk: &[u8]) {
        match name {
            "signals.jsonl" => {
                if let Some(s) = self.signals.as_mut() {
                    self.signal_lines.feed(chunk, &mut |i, l| s.line(i, l));
                }
            }
            "previous_units.jsonl" => {
                if let Some(u) = self.previous_units.as_mut() {
                    u.feed(chunk);
                }
            }
            _ => {}
        }
    }

    /// Member `name` ended.
    pub(super) fn end(&mut self, name: &str) {
        match name {
            "signals.jsonl" => {
                if let Some(s) = self.signals.as_mut() {
                    self.signal_lines.finish(&mut |i, l| s.line(i, l));
                }
            }
            "previous_units.jsonl" => self.previous_units_read = self.previous_units.take().map(|u| u.finish()),
            _ => {}
        }
    }
}

/// The head of the run read from the small members: parameters, master
/// data, ruleset and import jobs.
pub(super) struct Prelude {
    params: crate::input::bundle::RunParams,
    master: catalog::MasterData,
    ruleset: crate::input::ruleset::Ruleset,
    jobs: Vec<ImportJob>,
    jobs_json: Value,
}

fn prelude(kept: &BTreeMap<&'static str, Vec<u8>>) -> std::result::Result<Prelude, String> {
    let get = |n: &str| kept.get(n).map(Vec::as_slice).ok_or_else(|| format!("{n} is missing"));
    // Every JSON input as the run writes it: canonical (RFC 8785), so no
    // duplicate key, no float and no integer beyond 2^53 − 1 reaches the engine.
    let json = |n: &str| -> std::result::Result<Value, String> { canonical_document(n, get(n)?) };
    let msg = |e: Error| e.to_string();
    let params = crate::input::bundle::parse_params("bundle.json", &json("bundle.json")?).map_err(msg)?;
    let mut errors = Vec::new();
    let mut master = catalog::parse_catalog("catalog.json", &json("catalog.json")?, &mut errors).map_err(msg)?;
    let ruleset = crate::input::ruleset::parse(get("ruleset.json")?, Some(&|id: &str| master.declared_sku_ids.contains(id)))
        .map_err(|issues| format!("ruleset.json: {}", issues.first().map(|i| i.message.clone()).unwrap_or_default()))?;
    catalog::tables_from_json("", &json("entitlements.json")?, &json("pools.json")?, &json("directory.json")?, &mut master, &mut errors);
    if let Some(e) = errors.first() {
        return Err(e.to_string());
    }
    let (jobs, jobs_json) = recorded_jobs(get("imports.json")?)?;
    Ok(Prelude { params, master, ruleset, jobs, jobs_json })
}

/// The order in which the replay compares the pack's members with what it
/// produces: the artifacts the run derives, then the canonical rendering of
/// every input (`imports.json` is recorded, and checked on reading).
const REPLAY_ORDER: [&str; 15] = [
    "snapshot.json",
    "units.jsonl",
    "exceptions.jsonl",
    "diff.json",
    "run_report.json",
    "signals.jsonl",
    "bundle.json",
    "ruleset.json",
    "catalog.json",
    "entitlements.json",
    "pools.json",
    "directory.json",
    "previous_snapshot.json",
    "previous_units.jsonl",
    "previous_entitlements.json",
];

/// Rebuild the run's inputs from a pass over a pack (checking every
/// cross-reference first), recompute the run and compare every artifact.
pub(super) fn replay_streamed(pass: &Pass, st: Streamed) -> std::result::Result<Digest32, String> {
    if let Some(missing) = REQUIRED.iter().find(|n| !pass.has(n)) {
        return Err(format!("{missing} is missing"));
    }
    let msg = |e: Error| e.to_string();
    let Prelude { params, master, ruleset, jobs, jobs_json } = st.prelude.ok_or("signals.jsonl is missing")??;
    let signals = st.signals.ok_or("signals.jsonl is missing")?.finish(&jobs, ruleset.max_reject_percent)?;
    let kept = |n: &str| pass.kept.get(n).map(Vec::as_slice);
    let previous = match kept("previous_snapshot.json") {
        Some(b) => Some(Snapshot::parse_verified(b).map_err(|e| format!("previous_snapshot.json: {}", e.message()))?),
        None => None,
    };
    if previous.as_ref().is_some_and(|p| p.organization_id() != params.organization_id) {
        return Err("previous_snapshot.json belongs to another organization: the run would have failed closed".into());
    }
    let previous_run = match (kept("previous_snapshot.json"), pass.has("previous_units.jsonl"), kept("previous_entitlements.json")) {
        (Some(s), true, Some(e)) => {
            canonical_document("previous_entitlements.json", e)?;
            let units = st.previous_units_read.unwrap_or_else(|| Err("not read".into()));
            Some(crate::history::diff::PreviousRun::from_collected(s, units, e).map_err(msg)?)
        }
        (_, false, None) => None,
        _ => return Err("previous_units.jsonl and previous_entitlements.json come together, with previous_snapshot.json".into()),
    };
    let report = kept("run_report.json").ok_or("run_report.json is missing")?;
    let (warnings, observations) = recorded_report(&canonical_document("run_report.json", report)?)?;
    let unique = crate::engine::collapse_duplicates(&signals).map_err(|e| e.first().map(|x| x.to_string()).unwrap_or_default())?;
    let inputs = RunInputs { params, ruleset, master, signals, jobs, observations, previous, previous_run, warnings, pseudonymised: None };
    let mut out = compute(inputs, &unique, &crate::run::RunOptions::default()).map_err(msg)?;
    let hash = out.snapshot.as_ref().map(|s| s.hash()).ok_or("replay produced no snapshot")?;
    // The jobs' row errors and warnings are recorded facts: the report lists
    // the jobs as `imports.json` has them.
    out.report.imports = serde_json::from_value(jobs_json).map_err(|e| format!("imports.json: {e}"))?;
    compare_replay(&out, pass, hash)?;
    Ok(hash)
}

/// A JSON member of a pack, which must be in canonical form (as the run
/// writes every JSON document): parsed.
fn canonical_document(name: &str, bytes: &[u8]) -> std::result::Result<Value, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?;
    match canon(&v) {
        Ok(c) if c == bytes => Ok(v),
        Ok(_) => Err(format!("`{name}` is not in canonical form (RFC 8785), as the run writes it")),
        Err(e) => Err(format!("`{name}`: {}", e.message())),
    }
}

/// `imports.json`, read as hostile: canonical, a list of jobs with exactly an
/// import job's fields, each id derived from (adapter, path, input hash),
/// ids distinct, in path order. The jobs (summaries) and the document.
fn recorded_jobs(bytes: &[u8]) -> std::result::Result<(Vec<ImportJob>, Value), String> {
    let v = canonical_document("imports.json", bytes)?;
    let list = v.as_array().ok_or("imports.json is not a list")?;
    // The fields of a job as the run writes it.
    let fields: Vec<String> = match serde_json::to_value(ImportJob::new("canonical", "", Digest32([0; 32]), 0)) {
        Ok(Value::Object(m)) => m.into_iter().map(|(k, _)| k).collect(),
        _ => return Err("internal: an import job is not an object".into()),
    };
    let mut jobs: Vec<ImportJob> = Vec::with_capacity(list.len());
    let mut ids = std::collections::BTreeSet::new();
    for (i, j) in list.iter().enumerate() {
        let at = |what: &str| format!("imports.json job {}: {what}", i + 1);
        let obj = j.as_object().ok_or_else(|| at("not an object"))?;
        if obj.len() != fields.len() || !fields.iter().all(|k| obj.contains_key(k)) {
            return Err(at("its fields are not those of an import job"));
        }
        let job = ImportJob::from_summary(j).filter(|_| obj["bytes"].is_u64()).ok_or_else(|| at("a field has the wrong type"))?;
        let errors_ok = obj["errors"].as_array().is_some_and(|a| {
            a.iter().all(|e| {
                e.get("line").is_some_and(Value::is_u64)
                    && ["column", "code", "message"].iter().all(|k| e.get(*k).is_some_and(Value::is_string))
            })
        });
        let warnings_ok = obj["warnings"].as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !errors_ok || !warnings_ok {
            return Err(at("`errors` or `warnings` is not as the run writes them"));
        }
        let hash = Digest32::parse_prefixed(&job.input_hash).ok_or_else(|| at("`input_hash` is not a sha256 digest"))?;
        if ImportJob::new(&job.adapter, &job.path, hash, 0).job_id != job.job_id {
            return Err(at("`job_id` does not derive from its adapter, path and input hash"));
        }
        if !ids.insert(job.job_id.clone()) {
            return Err(at("its `job_id` appears twice"));
        }
        if jobs.last().is_some_and(|p| p.path > job.path) {
            return Err(at("the jobs are not in path order"));
        }
        jobs.push(job);
    }
    Ok((jobs, v))
}

/// Whether a job is one of the run's own master-data files (it holds no
/// signals; its row count is the table's).
fn is_master_job(j: &ImportJob) -> bool {
    j.adapter == "canonical"
        && matches!(
            (j.path.as_str(), j.source.as_str()),
            ("catalog.json", "catalog") | ("entitlements.csv", "entitlements") | ("pools.csv", "pools") | ("directory.csv", "directory")
        )
}

/// `signals.jsonl` into a signal store, line by line as it streams, each
/// line naming an import job of `jobs`; at the end ([`SignalState::finish`])
/// every signal file's recorded counts must agree with its signals: accepted
/// rows = its lines, its source = theirs, and its rejected rows within
/// `max_reject_percent` (else the run would have failed closed). The first
/// bad line stops the reading (the rest only passes through the hashes).
pub(super) struct SignalState {
    signals: SignalStore,
    job_index: BTreeMap<String, u32>,
    /// Per job: its signals and their sources.
    per_job: Vec<(u64, std::collections::BTreeSet<u32>)>,
    error: Option<String>,
}

impl SignalState {
    fn new(jobs: &[ImportJob]) -> Self {
        SignalState {
            signals: SignalStore::default(),
            job_index: jobs.iter().enumerate().map(|(i, j)| (j.job_id.clone(), i as u32)).collect(),
            per_job: vec![(0, Default::default()); jobs.len()],
            error: None,
        }
    }

    fn line(&mut self, i: usize, line: std::result::Result<&[u8], ()>) {
        if self.error.is_none() {
            if let Err(e) = self.push(i, line) {
                self.error = Some(e);
            }
        }
    }

    fn push(&mut self, i: usize, line: std::result::Result<&[u8], ()>) -> std::result::Result<(), String> {
        let line = line.map_err(|_| format!("signals.jsonl line {i}: longer than {} bytes", crate::canon::lines::MAX_LINE))?;
        let named: std::cell::Cell<Option<Option<u32>>> = std::cell::Cell::new(None);
        let job_index = &self.job_index;
        self.signals
            .push_normalised_line(line, |job| {
                let k = job_index.get(job).copied();
                named.set(Some(k));
                k.unwrap_or(u32::MAX)
            })
            .map_err(|e| format!("signals.jsonl line {i}: {e}"))?;
        let k = match named.get() {
            None => return Err(format!("signals.jsonl line {i}: the signal names no import job")),
            Some(None) => return Err(format!("signals.jsonl line {i}: its import job is not in imports.json")),
            Some(Some(k)) => k as usize,
        };
        let Some(row) = self.signals.rows.last() else { return Err(format!("signals.jsonl line {i}: not read")) };
        // A session's tokens are a count: an exact JSON integer (A5).
        if row.session_data(&self.signals).is_some_and(|d| d.quantity > crate::canon::canonical::MAX_SAFE_INTEGER as u64) {
            return Err(format!("signals.jsonl line {i}: `quantity` is beyond 2^53 − 1"));
        }
        let source = row.source;
        if let Some(slot) = self.per_job.get_mut(k) {
            slot.0 += 1;
            slot.1.insert(source);
        }
        Ok(())
    }

    fn finish(self, jobs: &[ImportJob], max_reject_percent: i64) -> std::result::Result<SignalStore, String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut signals = self.signals;
        for (j, (lines, sources)) in jobs.iter().zip(&self.per_job) {
            let id = quoted(&j.job_id);
            if is_master_job(j) {
                if *lines > 0 {
                    return Err(format!("signals.jsonl: a signal names the master-data job `{id}`"));
                }
                continue;
            }
            if *lines != j.rows_accepted {
                return Err(format!(
                    "imports.json: job `{id}` accepted {} rows, signals.jsonl holds {lines} of its signals",
                    j.rows_accepted
                ));
            }
            let source = match sources.len() {
                0 => None,
                1 => sources.first().map(|s| signals.sources.resolve(*s)),
                _ => Some("mixed"),
            };
            if source.is_some_and(|s| s != j.source) {
                return Err(format!("imports.json: job `{id}` names source `{}`, its signals another", quoted(&j.source)));
            }
            if j.exceeds_reject_threshold(max_reject_percent) {
                return Err(format!(
                    "imports.json: job `{id}` rejected more rows than max_reject_percent allows: the run would have failed closed"
                ));
            }
        }
        signals.jobs = jobs.to_vec();
        Ok(signals)
    }
}

/// What the run report records of the raw input, which the pack does not
/// carry: its warnings and the portal side of its entitlement observations.
fn recorded_report(report: &Value) -> std::result::Result<(Vec<String>, Vec<crate::input::adapters::EntitlementObservation>), String> {
    let warnings = report
        .get("warnings")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(|w| w.as_str().map(str::to_string)).collect::<Option<Vec<_>>>())
        .ok_or("run_report.json: `warnings` is not a list of text")?;
    let observation = |v: &Value| -> Option<crate::input::adapters::EntitlementObservation> {
        let text = |o: &Value, k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
        let portal = v.get("portal")?;
        let n = |k: &str| portal.get(k).and_then(Value::as_i64);
        Some(crate::input::adapters::EntitlementObservation {
            source: text(v, "source")?,
            product: text(v, "product")?,
            external_id: text(v, "external_id")?,
            enabled: n("enabled")?,
            warning: n("warning")?,
            suspended: n("suspended")?,
            locked_out: n("locked_out")?,
            consumed: n("consumed")?,
            status: text(portal, "status")?,
        })
    };
    let observations = report
        .get("entitlement_observations")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(observation).collect::<Option<Vec<_>>>())
        .ok_or("run_report.json: `entitlement_observations` is not a list of portal observations")?;
    Ok((warnings, observations))
}

/// Compares what a writer writes with the bytes a pack holds, as it is
/// written; stops the writer at the first difference.
struct Comparing<'a> {
    held: &'a [u8],
    pos: usize,
    differs_at: Option<usize>,
}

impl Comparing<'_> {
    /// The offset of the first difference, if any (a short write differs
    /// where it ends).
    fn first_difference(&self) -> Option<usize> {
        self.differs_at.or((self.pos != self.held.len()).then_some(self.pos))
    }
}

impl Write for Comparing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let stop = || std::io::Error::other("differs from the pack");
        if self.differs_at.is_some() {
            return Err(stop());
        }
        let rest = self.held.get(self.pos..).unwrap_or(&[]);
        if let Some(i) = buf.iter().zip(rest).position(|(a, b)| a != b) {
            self.differs_at = Some(self.pos + i);
            return Err(stop());
        }
        if buf.len() > rest.len() {
            self.differs_at = Some(self.held.len());
            return Err(stop());
        }
        self.pos += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `units.jsonl` from units already in canonical form: each line is
/// `{"sku":<sku>,"unit":<unit>}` (keys in canonical order), which is what
/// [`write_streamed`] writes after re-encoding each unit.
fn units_as_written(out: &Outcome, sink: &mut dyn Write) -> std::io::Result<()> {
    let mut line = Vec::with_capacity(512);
    for (sku, list) in &out.units {
        let key = canon(&Value::String(sku.clone())).map_err(|e| std::io::Error::other(e.message().to_string()))?;
        for u in list.iter() {
            line.clear();
            line.extend_from_slice(b"{\"sku\":");
            line.extend_from_slice(&key);
            line.extend_from_slice(b",\"unit\":");
            line.extend_from_slice(u);
            line.extend_from_slice(b"}\n");
            sink.write_all(&line)?;
        }
    }
    Ok(())
}

/// A rendering measured: length, SHA-256, segment fingerprints.
type Measured = (u64, Digest32, Vec<(u64, u32)>);

/// A rendering of a member by the replay, measured as it is written: its
/// length, SHA-256 and segment fingerprints (never held).
struct Rendering {
    hasher: sha2::Sha256,
    segments: Segments,
    len: u64,
}

impl Rendering {
    fn new() -> Self {
        Rendering { hasher: <sha2::Sha256 as sha2::Digest>::new(), segments: Segments::default(), len: 0 }
    }

    fn finish(self) -> Measured {
        (self.len, Digest32(sha2::Digest::finalize(self.hasher).into()), self.segments.finish())
    }
}

impl Write for Rendering {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(&mut self.hasher, buf);
        self.segments.feed(buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every member the replayed run writes must be in the pack byte for byte,
/// and the pack may hold no other; the first that differs is named. A
/// member kept whole is compared byte for byte; one that was not kept (it
/// streamed past, [`SEGMENTED`]) by its size and SHA-256, and a difference
/// is located to the first differing segment.
fn compare_replay(out: &Outcome, pass: &Pass, hash: Digest32) -> std::result::Result<(), String> {
    let produced = artifacts(out).map_err(|e| format!("replay: {}", e.message()))?;
    let streamed = streamed_names(out);
    for name in REPLAY_ORDER {
        let is_streamed = streamed.contains(&name);
        if SEGMENTED.contains(&name) {
            let (Some(&(size, digest)), Some(held_segments)) = (pass.digests.get(name), pass.segments.get(name)) else {
                if name == "signals.jsonl" || name == "units.jsonl" {
                    return Err(format!("{name} is missing"));
                }
                if is_streamed || produced.contains_key(name) {
                    return Err(format!("`{name}` is missing, though the run writes it"));
                }
                continue;
            };
            if !is_streamed && !produced.contains_key(name) {
                return Err(format!("`{name}` is in the pack, though the run does not write it"));
            }
            let render = |fast: bool| -> std::result::Result<Measured, String> {
                let mut r = Rendering::new();
                if fast {
                    units_as_written(out, &mut r).map_err(|e| format!("replay: {e}"))?;
                } else if is_streamed {
                    write_streamed(out, name, &mut r).map_err(|e| format!("replay: {}", e.message()))?;
                } else if let Some(p) = produced.get(name) {
                    let _ = r.write_all(p);
                }
                Ok(r.finish())
            };
            // Units are held as canonical bytes: their lines are rendered as
            // they stand (what write_pack writes, without re-encoding each
            // unit); only a difference is confirmed the writer's way.
            if name == "units.jsonl" {
                let (n, d, _) = render(true)?;
                if (n, d) == (size, digest) {
                    continue;
                }
            }
            let (n, d, segments) = render(false)?;
            if (n, d) == (size, digest) {
                continue;
            }
            let (from, to, line) = crate::evidence::stream::locate(held_segments, &segments);
            return Err(format!(
                "`{name}` is not what the replay produces: first difference in bytes {from}–{} (a segment from line {line})",
                to.min(size.max(n).saturating_sub(1))
            ));
        }
        let held = pass.kept.get(name).map(Vec::as_slice);
        let differs_at = match (produced.get(name), held) {
            (None, None) => continue,
            (Some(_), None) => return Err(format!("`{name}` is missing, though the run writes it")),
            (None, Some(_)) => return Err(format!("`{name}` is in the pack, though the run does not write it")),
            (Some(p), Some(h)) => {
                let mut sink = Comparing { held: h, pos: 0, differs_at: None };
                let _ = sink.write_all(p);
                sink.first_difference()
            }
        };
        if let Some(at) = differs_at {
            let held = held.unwrap_or(&[]);
            let line = held.get(..at).unwrap_or(held).iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(if name == "snapshot.json" {
                format!("replay gives snapshot {hash}; the pack's snapshot.json differs (byte {at})")
            } else {
                format!("`{name}` is not what the replay produces: first difference at line {line} (byte {at})")
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::pack::write_streamed;
    use crate::input::bundle::MemoryBundle;

    /// The replay's fast rendering of `units.jsonl` is the writer's, byte for byte.
    #[test]
    fn units_as_written_is_the_writers_rendering() {
        let mut b = MemoryBundle::default();
        b.insert(
            "bundle.json",
            br#"{"organization_id":"o","as_of":"2026-11-22T06:00:00Z","run_id":"r","ruleset":"ruleset.json"}"#.to_vec(),
        );
        b.insert("ruleset.json", include_bytes!("../../../rulesets/default/v1.json").to_vec());
        b.insert(
            "catalog.json",
            br#"{"vendors":[{"id":"v","name":"V"}],"skus":[{"id":"app","vendor":"v","model":"device"},{"id":"s\u00e9at \"x\"","vendor":"v","model":"user"}]}"#.to_vec(),
        );
        b.insert(
            "entitlements.csv",
            b"entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency\nE1,app,C1,5,2026-01-01,,,\n".to_vec(),
        );
        b.insert(
            "signals/s.csv",
            "source,raw_id,observed_at,sku,kind,device_serial,user\nintune,i1,2026-11-21T00:00:00Z,app,installation,SER1,\nintune,i2,2026-11-21T00:00:00Z,app,installation,SER2,\nentra,u1,2026-11-21T00:00:00Z,s\u{e9}at \"x\",assignment,,z\u{fc}rich@x.example\n"
                .as_bytes()
                .to_vec(),
        );
        let out = crate::run::reconcile(&b, None);
        assert!(out.snapshot.is_some(), "{:?}", out.errors);
        assert!(out.units.values().map(|l| l.len()).sum::<usize>() >= 3);
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        units_as_written(&out, &mut fast).unwrap();
        write_streamed(&out, "units.jsonl", &mut slow).unwrap();
        assert_eq!(String::from_utf8(fast).unwrap(), String::from_utf8(slow).unwrap());
    }
}
