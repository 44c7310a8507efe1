//! Evidence packs (DESIGN A7): a deterministic tar of everything a snapshot
//! rests on, and offline verification that replays the reconciliation.
//!
//! The pack holds the snapshot, the run parameters, the ruleset, the catalog,
//! entitlements, pools and directory (known columns only), the normalised
//! signals, the units, exceptions, import jobs, the diff, the run report and
//! the previous snapshot when there is one, plus `manifest.json` listing every
//! artifact's name, size and SHA-256, the snapshot hash and the pack hash.
//! Any `tar` and `sha256sum` can check the artifacts; [`verify`] checks
//! everything, in order, and then replays the run from the pack's own inputs,
//! which must give the identical snapshot hash.
//!
//! Import jobs are taken as recorded: their input hashes are over the raw
//! input bytes, which the pack deliberately does not carry (they may hold
//! secrets the canonical columns leave out). Everything derived from the rows
//! is recomputed.

use crate::canonical;
use crate::catalog;
use crate::error::{Error, ErrorCode, Result};
use crate::hash::{sha256, tagged, Digest32, Domain};
use crate::reconcile::{compute, Outcome, RunInputs};
use crate::signals::{ImportJob, SignalStore};
use crate::snapshot::Snapshot;
use crate::tar::{self, TarWriter};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;

/// The manifest schema identifier.
pub const MANIFEST_SCHEMA: &str = "eucora.license.pack/v1";

/// Artifacts every pack holds (besides `manifest.json`).
pub const REQUIRED: [&str; 13] = [
    "bundle.json",
    "catalog.json",
    "diff.json",
    "directory.json",
    "entitlements.json",
    "exceptions.jsonl",
    "imports.json",
    "pools.json",
    "ruleset.json",
    "run_report.json",
    "signals.jsonl",
    "snapshot.json",
    "units.jsonl",
];

fn canon(v: &Value) -> Result<Vec<u8>> {
    canonical::to_vec(v)
}

/// The artifacts of a successful run, by name (sorted).
fn artifacts(outcome: &Outcome) -> Result<BTreeMap<&'static str, Vec<u8>>> {
    let (Some(snapshot), Some(inputs)) = (&outcome.snapshot, &outcome.inputs) else {
        return Err(Error::new(ErrorCode::InvalidInput, "a failed run has no evidence pack; its run report says why"));
    };
    let p = &inputs.params;
    let mut a: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
    a.insert(
        "bundle.json",
        canon(&json!({
            "organization_id": p.organization_id, "as_of": p.as_of.to_string(), "run_id": p.run_id,
            "ruleset": "ruleset.json", "expected_sources": p.expected_sources,
            "schedule_interval_hours": p.schedule_interval_hours, "adapter_options": p.adapter_options,
        }))?,
    );
    a.insert("catalog.json", canon(&catalog::catalog_json(&inputs.master))?);
    a.insert("diff.json", canon(outcome.diff.as_ref().unwrap_or(&Value::Null))?);
    a.insert("directory.json", canon(&catalog::directory_json(&inputs.master))?);
    a.insert("entitlements.json", canon(&catalog::entitlements_json(&inputs.master))?);
    a.insert("exceptions.jsonl", outcome.exceptions_jsonl());
    a.insert("imports.json", canonical::to_vec_of(&inputs.jobs)?);
    a.insert("pools.json", canon(&catalog::pools_json(&inputs.master))?);
    if let Some(prev) = &inputs.previous {
        a.insert("previous_snapshot.json", prev.canonical_bytes().to_vec());
    }
    // The previous run's units and entitlements: replay needs them to
    // re-derive the unit-level diff (checked against the previous snapshot).
    if let Some(run) = &inputs.previous_run {
        a.insert("previous_units.jsonl", run.units_jsonl()?);
        a.insert("previous_entitlements.json", canon(&run.entitlements)?);
    }
    a.insert("ruleset.json", canon(&inputs.ruleset.document)?);
    a.insert("run_report.json", canon(&outcome.report)?);
    a.insert("snapshot.json", snapshot.canonical_bytes().to_vec());
    Ok(a)
}

/// The two artifacts that grow with the estate are generated, not held: once
/// to hash and measure them for the manifest, once into the archive.
const STREAMED: [&str; 2] = ["signals.jsonl", "units.jsonl"];

fn write_streamed(outcome: &Outcome, name: &str, out: &mut dyn Write) -> Result<()> {
    let io = |e: std::io::Error| Error::new(ErrorCode::InvalidInput, format!("cannot write the pack: {e}"));
    let inputs = outcome.inputs.as_ref().ok_or_else(|| Error::new(ErrorCode::Internal, "no run inputs"))?;
    if name == "signals.jsonl" {
        let store = &inputs.signals;
        let mut line = Vec::with_capacity(512);
        for s in &store.rows {
            line.clear();
            store.write_normalised(s, &mut line);
            line.push(b'\n');
            out.write_all(&line).map_err(io)?;
        }
    } else {
        for (sku, list) in &outcome.units {
            for u in list.iter() {
                let unit: Value = serde_json::from_slice(u)
                    .map_err(|e| Error::new(ErrorCode::Internal, format!("unit is not JSON: {e}")))?;
                out.write_all(&canon(&json!({"sku": sku, "unit": unit}))?).map_err(io)?;
                out.write_all(b"\n").map_err(io)?;
            }
        }
    }
    Ok(())
}

/// A sink that only hashes and counts.
struct Digesting {
    hasher: sha2::Sha256,
    len: u64,
}

impl Write for Digesting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(&mut self.hasher, buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The manifest body (without `pack_hash`) and its `eucora.pack.v1` hash.
fn manifest_of(artifacts: &BTreeMap<&str, (u64, Digest32)>, snapshot_hash: &str, note: Option<&Value>) -> Result<(Value, Digest32)> {
    let list: Vec<Value> = artifacts
        .iter()
        .map(|(name, (size, digest))| json!({"name": name, "size": size, "sha256": digest.to_prefixed()}))
        .collect();
    let mut body = json!({"schema": MANIFEST_SCHEMA, "artifacts": list, "snapshot_hash": snapshot_hash});
    if let Some(note) = note {
        body["pseudonymised"] = note.clone();
    }
    let hash = tagged(Domain::Pack, &canon(&body)?);
    Ok((body, hash))
}

/// Write the evidence pack of a successful run into `sink` (a file, a socket,
/// a buffer); returns the sink and the pack hash.
///
/// ```
/// # use eucora_license_core::{reconcile, bundle::MemoryBundle};
/// # let out = reconcile(&MemoryBundle::default(), None);
/// // A failed run has no pack:
/// assert!(eucora_license_core::evidence::write_pack(&out, Vec::new()).is_err());
/// ```
pub fn write_pack<W: Write>(outcome: &Outcome, sink: W) -> Result<(W, Digest32)> {
    let a = artifacts(outcome)?;
    let snapshot_hash = outcome.snapshot.as_ref().map(|s| s.hash().to_prefixed()).unwrap_or_default();
    let mut digests: BTreeMap<&str, (u64, Digest32)> = a.iter().map(|(k, v)| (*k, (v.len() as u64, sha256(v)))).collect();
    for name in STREAMED {
        let mut d = Digesting { hasher: <sha2::Sha256 as sha2::Digest>::new(), len: 0 };
        write_streamed(outcome, name, &mut d)?;
        digests.insert(name, (d.len, Digest32(sha2::Digest::finalize(d.hasher).into())));
    }
    let note = outcome.inputs.as_ref().and_then(|i| i.pseudonymised.as_ref());
    let (mut manifest, pack_hash) = manifest_of(&digests, &snapshot_hash, note)?;
    manifest["pack_hash"] = json!(pack_hash.to_prefixed());
    let manifest_bytes = canon(&manifest)?;
    let mut names: Vec<&str> = digests.keys().copied().chain(["manifest.json"]).collect();
    names.sort_unstable();
    let mut w = TarWriter::new(sink);
    for name in names {
        if let Some(bytes) = a.get(name) {
            w.append(name, bytes)?;
        } else if name == "manifest.json" {
            w.append(name, &manifest_bytes)?;
        } else {
            let size = digests[name].0;
            w.append_with(name, size, |out| write_streamed(outcome, name, out))?;
        }
    }
    Ok((w.finish()?, pack_hash))
}

/// One named verification check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// Check name, e.g. `artifact:signals.jsonl`, `replay`.
    pub name: String,
    /// `passed`, `failed` or `skipped`.
    pub status: &'static str,
    /// What was found.
    pub detail: String,
}

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Whether every check passed.
    pub ok: bool,
    /// The first check that failed.
    pub first_failure: Option<String>,
    /// Every check, in the order run.
    pub checks: Vec<Check>,
    /// The pack's snapshot hash, when readable.
    pub snapshot_hash: Option<String>,
}

struct Verifier {
    checks: Vec<Check>,
    failed: bool,
}

impl Verifier {
    /// Run a check unless an earlier one failed (then it is recorded as skipped
    /// and not computed).
    fn check(&mut self, name: impl Into<String>, run: impl FnOnce() -> std::result::Result<String, String>) -> bool {
        let name = name.into();
        if self.failed {
            self.checks.push(Check { name, status: "skipped", detail: "an earlier check failed".into() });
            return false;
        }
        match run() {
            Ok(detail) => {
                self.checks.push(Check { name, status: "passed", detail });
                true
            }
            Err(detail) => {
                self.failed = true;
                self.checks.push(Check { name, status: "failed", detail });
                false
            }
        }
    }
}

/// Verify an evidence pack offline: the archive, the manifest, every
/// artifact's size and hash, the pack hash, the snapshot hash, `skus_root`,
/// each SKU's `units_root`, the chain link (to `previous`, or to the pack's
/// own previous snapshot), and finally a replay of the reconciliation from
/// the pack's inputs, which must give the identical snapshot hash.
/// Never panics; the report names each check and the first that failed.
pub fn verify(pack: &[u8], previous: Option<&[u8]>) -> VerifyReport {
    verify_using(pack, previous, || replay_pack(pack))
}

/// Replay the reconciliation from a pack's own inputs: the snapshot hash it
/// gives. The last step of [`verify`], on its own so that a host can run it
/// beside the other checks (see [`verify_using`]).
pub fn replay_pack(pack: &[u8]) -> std::result::Result<Digest32, String> {
    let entries = tar::read(pack).map_err(|e| e.message().to_string())?;
    let files: BTreeMap<String, &[u8]> = entries.iter().map(|e| (e.name.clone(), e.data)).collect();
    replay(&files)
}

/// [`verify`], with the replay's result supplied by `replayed` (called once,
/// at the replay check, only if every earlier check passed). The core runs
/// on one thread; a host with cores to spare starts [`replay_pack`] on
/// another and hands its result in here (joining that thread in
/// `replayed`), so the hashing and the replay overlap; the CLI does so.
///
/// ```
/// # use eucora_license_core::evidence::{replay_pack, verify_using};
/// let pack = b"not an archive";
/// let report = verify_using(pack, None, || replay_pack(pack));
/// assert_eq!(report.first_failure.as_deref(), Some("archive"));
/// ```
pub fn verify_using(pack: &[u8], previous: Option<&[u8]>, replayed: impl FnOnce() -> std::result::Result<Digest32, String>) -> VerifyReport {
    let mut v = Verifier { checks: Vec::new(), failed: false };
    let mut snapshot_hash = None;
    let entries = match tar::read(pack) {
        Ok(e) => e,
        Err(e) => {
            v.check("archive", || Err(e.message().to_string()));
            return finish(v, None);
        }
    };
    let mut files: BTreeMap<String, &[u8]> = BTreeMap::new();
    let mut dup = None;
    for e in &entries {
        if files.insert(e.name.clone(), e.data).is_some() {
            dup = Some(e.name.clone());
        }
    }
    let sorted = entries.windows(2).all(|w| w[0].name < w[1].name);
    v.check("archive", || {
        match (dup, sorted) {
            (Some(d), _) => Err(format!("entry `{d}` appears twice")),
            (None, false) => Err("entries are not in name order".into()),
            _ => Ok(format!("{} entries", entries.len())),
        }
    });
    let manifest: Option<Value> = files.get("manifest.json").and_then(|b| serde_json::from_slice(b).ok());
    v.check("manifest", || {
        match &manifest {
            None => Err("manifest.json is missing or not JSON".into()),
            Some(m) if m.get("schema").and_then(Value::as_str) != Some(MANIFEST_SCHEMA) => Err(format!("schema is not {MANIFEST_SCHEMA}")),
            Some(m) => {
                let listed: Vec<&str> = m["artifacts"].as_array().into_iter().flatten().filter_map(|a| a["name"].as_str()).collect();
                let present: Vec<&str> = files.keys().map(String::as_str).filter(|n| *n != "manifest.json").collect();
                let missing: Vec<&&str> = REQUIRED.iter().filter(|r| !present.contains(r)).collect();
                if listed != present {
                    Err(format!("manifest lists {listed:?}, archive holds {present:?}"))
                } else if !missing.is_empty() {
                    Err(format!("required artifacts missing: {missing:?}"))
                } else {
                    Ok(format!("{} artifacts listed", listed.len()))
                }
            }
        }
    });
    let manifest = manifest.unwrap_or(Value::Null);
    // Each artifact is hashed once; the checks and the pack hash share the digests.
    let view: BTreeMap<&str, (u64, Digest32)> = files
        .iter()
        .filter(|(k, _)| k.as_str() != "manifest.json")
        .map(|(k, b)| (k.as_str(), (b.len() as u64, sha256(b))))
        .collect();
    for a in manifest["artifacts"].as_array().cloned().unwrap_or_default() {
        let name = a["name"].as_str().unwrap_or("").to_string();
        let (size, digest) = view.get(name.as_str()).copied().unwrap_or((0, sha256(&[])));
        v.check(format!("artifact:{name}"), || {
            let got = digest.to_prefixed();
            if a["size"].as_u64() != Some(size) {
                Err(format!("size {size} but the manifest says {}", a["size"]))
            } else if a["sha256"].as_str() != Some(got.as_str()) {
                Err(format!("sha256 {got} but the manifest says {}", a["sha256"]))
            } else {
                Ok(got)
            }
        });
    }
    let claimed_snapshot = manifest["snapshot_hash"].as_str().unwrap_or("").to_string();
    v.check("pack_hash", || {
        match manifest_of(&view, &claimed_snapshot, manifest.get("pseudonymised")) {
            Ok((_, h)) if manifest["pack_hash"].as_str() == Some(h.to_prefixed().as_str()) => Ok(h.to_prefixed()),
            Ok((_, h)) => Err(format!("recomputed {h}, manifest says {}", manifest["pack_hash"])),
            Err(e) => Err(e.message().to_string()),
        }
    });
    if v.failed {
        for name in ["snapshot_hash", "skus_root", "units_root", "chain", "replay"] {
            v.check(name, || Ok(String::new()));
        }
        return finish(v, None);
    }
    let snapshot = files.get("snapshot.json").map(|b| Snapshot::parse_verified(b));
    v.check("snapshot_hash", || {
        match &snapshot {
            Some(Ok(s)) if s.hash().to_prefixed() == claimed_snapshot => {
                snapshot_hash = Some(claimed_snapshot.clone());
                Ok(claimed_snapshot.clone())
            }
            Some(Ok(s)) => Err(format!("snapshot hashes to {}, manifest says {claimed_snapshot}", s.hash())),
            Some(Err(e)) => Err(e.message().to_string()),
            None => Err("snapshot.json is missing".into()),
        }
    });
    let snap = snapshot.and_then(|r| r.ok());
    let records: Vec<Value> = snap.as_ref().and_then(|s| s.value()["skus"].as_array().cloned()).unwrap_or_default();
    v.check("skus_root", || {
        match crate::snapshot::skus_root(&records) {
            Ok(r) if snap.as_ref().is_some_and(|s| s.value()["skus_root"].as_str() == Some(r.to_prefixed().as_str())) => Ok(r.to_prefixed()),
            Ok(r) => Err(format!("recomputed {r}, snapshot says {}", snap.as_ref().map(|s| s.value()["skus_root"].clone()).unwrap_or(Value::Null))),
            Err(e) => Err(e.message().to_string()),
        }
    });
    let units = files.get("units.jsonl").map(|b| units_by_sku(b)).unwrap_or_else(|| Err("units.jsonl is missing".into()));
    match units {
        Err(e) => {
            v.check("units_root", || Err(e));
        }
        Ok(units) => {
            for r in &records {
                let sku = r["sku"].as_str().unwrap_or("");
                let leaves: Vec<Digest32> = units.get(sku).into_iter().flatten().map(|u| crate::merkle::leaf_hash(u)).collect();
                let root = crate::merkle::root_of_leaves(leaves).to_prefixed();
                let ok = r["units_root"].as_str() == Some(root.as_str());
                v.check(format!("units_root:{sku}"), || if ok { Ok(root) } else { Err(format!("recomputed {root}, record says {}", r["units_root"])) });
            }
        }
    }
    v.check("chain", || chain_check(snap.as_ref(), files.get("previous_snapshot.json").copied(), previous));
    let expected = snapshot_hash.clone();
    v.check("replay", || {
        replayed().and_then(|h| {
            if Some(h.to_prefixed()) == expected {
                Ok(format!("replay gives {h}"))
            } else {
                Err(format!("replay gives {h}, the pack's snapshot is {}", expected.clone().unwrap_or_default()))
            }
        })
    });
    finish(v, snapshot_hash)
}

fn finish(v: Verifier, snapshot_hash: Option<String>) -> VerifyReport {
    let first_failure = v.checks.iter().find(|c| c.status == "failed").map(|c| c.name.clone());
    VerifyReport { ok: first_failure.is_none(), first_failure, checks: v.checks, snapshot_hash }
}

/// Units of `units.jsonl`, as canonical leaf bytes per SKU.
fn units_by_sku(bytes: &[u8]) -> std::result::Result<BTreeMap<String, Vec<Vec<u8>>>, String> {
    crate::diff::units_by_sku(bytes).map_err(|e| format!("units.jsonl {e}"))
}

fn chain_check(snap: Option<&Snapshot>, embedded: Option<&[u8]>, given: Option<&[u8]>) -> std::result::Result<String, String> {
    let snap = snap.ok_or("no readable snapshot")?;
    let prev_hash = snap.value()["previous_hash"].as_str().map(str::to_string);
    let seq = snap.sequence();
    let link = |p: &Snapshot| -> std::result::Result<String, String> {
        if p.organization_id() != snap.organization_id() {
            return Err(format!("previous snapshot belongs to `{}`", p.organization_id()));
        }
        if prev_hash.as_deref() != Some(p.hash().to_prefixed().as_str()) {
            return Err(format!("previous_hash {:?} does not name the previous snapshot {}", prev_hash, p.hash()));
        }
        if seq != p.sequence() + 1 {
            return Err(format!("sequence {seq} does not follow {}", p.sequence()));
        }
        Ok(format!("sequence {seq} follows {}", p.hash()))
    };
    let parse = |b: &[u8]| Snapshot::parse_verified(b).map_err(|e| format!("previous snapshot: {}", e.message()));
    match (given, embedded) {
        (Some(g), e) => {
            let g = parse(g)?;
            if let Some(e) = e {
                if parse(e)?.hash() != g.hash() {
                    return Err("the pack's previous snapshot is not the one given".into());
                }
            }
            link(&g)
        }
        (None, Some(e)) => link(&parse(e)?),
        (None, None) if seq == 1 && prev_hash.is_none() => Ok("first snapshot of the chain".into()),
        (None, None) => Err(format!("sequence {seq} needs its previous snapshot")),
    }
}

/// Rebuild the run's inputs from a pack and recompute the snapshot.
fn replay(files: &BTreeMap<String, &[u8]>) -> std::result::Result<Digest32, String> {
    let get = |n: &str| files.get(n).copied().ok_or_else(|| format!("{n} is missing"));
    let json = |n: &str| -> std::result::Result<Value, String> { serde_json::from_slice(get(n)?).map_err(|e| format!("{n}: {e}")) };
    let msg = |e: Error| e.to_string();
    let params = crate::bundle::parse_params("bundle.json", &json("bundle.json")?).map_err(msg)?;
    let mut errors = Vec::new();
    let mut master = catalog::parse_catalog("catalog.json", &json("catalog.json")?, &mut errors).map_err(msg)?;
    let ruleset = crate::ruleset::parse(get("ruleset.json")?, Some(&|id: &str| master.declared_sku_ids.contains(id)))
        .map_err(|issues| format!("ruleset.json: {}", issues.first().map(|i| i.message.clone()).unwrap_or_default()))?;
    catalog::tables_from_json("", &json("entitlements.json")?, &json("pools.json")?, &json("directory.json")?, &mut master, &mut errors);
    if let Some(e) = errors.first() {
        return Err(e.to_string());
    }
    let jobs_json = json("imports.json")?;
    let jobs: Vec<ImportJob> = jobs_json
        .as_array()
        .ok_or("imports.json is not a list")?
        .iter()
        .map(|j| ImportJob::from_summary(j).ok_or_else(|| "imports.json: incomplete job".to_string()))
        .collect::<std::result::Result<_, _>>()?;
    let mut signals = SignalStore::default();
    let job_index: BTreeMap<&str, u32> = jobs.iter().enumerate().map(|(i, j)| (j.job_id.as_str(), i as u32)).collect();
    for (i, line) in get("signals.jsonl")?.split(|&b| b == b'\n').enumerate().filter(|(_, l)| !l.is_empty()) {
        signals
            .push_normalised_line(line, |job| job_index.get(job).copied().unwrap_or(0))
            .map_err(|e| format!("signals.jsonl line {}: {e}", i + 1))?;
    }
    signals.jobs = jobs.clone();
    let previous = match files.get("previous_snapshot.json") {
        Some(b) => Some(Snapshot::parse_verified(b).map_err(msg)?),
        None => None,
    };
    let previous_run = match (files.get("previous_snapshot.json"), files.get("previous_units.jsonl"), files.get("previous_entitlements.json")) {
        (Some(s), Some(u), Some(e)) => Some(crate::diff::PreviousRun::from_parts(s, u, e).map_err(msg)?),
        (_, None, None) => None,
        _ => return Err("previous_units.jsonl and previous_entitlements.json come together, with previous_snapshot.json".into()),
    };
    let unique = crate::counters::collapse_duplicates(&signals).map_err(|e| e.first().map(|x| x.to_string()).unwrap_or_default())?;
    let inputs = RunInputs { params, ruleset, master, signals, jobs, observations: Vec::new(), previous, previous_run, warnings: Vec::new(), pseudonymised: None };
    let out = compute(inputs, &unique).map_err(msg)?;
    out.snapshot.map(|s| s.hash()).ok_or_else(|| "replay produced no snapshot".into())
}
