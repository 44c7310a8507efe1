//! Evidence packs (DESIGN A7): a deterministic tar of everything a snapshot
//! rests on, and offline verification that replays the reconciliation.
//!
//! The pack holds the snapshot, the run parameters, the ruleset, the catalog,
//! entitlements, pools and directory (known columns only), the normalised
//! signals, the units, exceptions, import jobs, the diff, the run report and
//! the previous snapshot when there is one, plus `manifest.json` listing every
//! artifact's name, size and SHA-256, the snapshot hash and the pack hash.
//! Any `tar` and `sha256sum` can check the artifacts; [`verify`] checks
//! everything, in order, and then replays the run from the pack's own inputs:
//! every artifact the run derives (snapshot, units, exceptions, diff, run
//! report) and the canonical rendering of every input must come out byte for
//! byte as the pack holds them.
//!
//! Every byte of a pack is hostile until checked: the archive must be exactly
//! what [`write_pack`] writes (its headers, only the members it writes, each
//! once, in name order), and the replay checks every cross-reference (each
//! signal's import job, the jobs' ids and row counts) before the engine sees
//! the inputs.
//!
//! Import jobs are taken as recorded, with what can be checked checked: their
//! input hashes are over the raw input bytes, which the pack deliberately does
//! not carry (they may hold secrets the canonical columns leave out), so the
//! input hashes, row errors and warnings are facts of the original run; each
//! job id must derive from its adapter, path and input hash, and each signal
//! file's accepted row count must be the number of its signals in the pack.
//! Likewise the run report's `warnings` and the portal side of its
//! `entitlement_observations` are recorded facts of the raw input; everything
//! else in the report is recomputed.

use crate::canon::canonical;
use crate::canon::hash::{sha256, tagged, Digest32, Domain};
use crate::canon::tar::TarWriter;
use crate::document::manifest::{escaped, open_members, quoted, shown, Members};
use crate::document::manifest::{MANIFEST, MANIFEST_SCHEMA, OPTIONAL, REQUIRED};
use crate::document::snapshot::Snapshot;
use crate::error::{Error, ErrorCode, Result};
use crate::input::catalog;
use crate::input::signals::{ImportJob, SignalStore};
use crate::run::{compute, Outcome, RunInputs};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;

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
                let unit: Value =
                    serde_json::from_slice(u).map_err(|e| Error::new(ErrorCode::Internal, format!("unit is not JSON: {e}")))?;
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
    let list: Vec<Value> =
        artifacts.iter().map(|(name, (size, digest))| json!({"name": name, "size": size, "sha256": digest.to_prefixed()})).collect();
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
/// # use eucora_license_core::{reconcile, MemoryBundle};
/// # let out = reconcile(&MemoryBundle::default(), None);
/// // A failed run has no pack:
/// assert!(eucora_license_core::internal::evidence::write_pack(&out, Vec::new()).is_err());
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
/// the pack's inputs, which must reproduce every derived artifact byte for
/// byte (see [`replay_pack`]).
/// Never panics; the report names each check and the first that failed.
pub fn verify(pack: &[u8], previous: Option<&[u8]>) -> VerifyReport {
    verify_using(pack, previous, || {
        // The replay checks its inputs before the engine sees them; should the
        // engine still stop on an internal error, the report says so.
        std::panic::catch_unwind(|| replay_pack(pack)).unwrap_or_else(|_| Err("the replay stopped on an internal error".into()))
    })
}

/// Replay the reconciliation from a pack's own inputs: the snapshot hash it
/// gives, once every artifact the run derives has come out byte for byte as
/// the pack holds it. The last step of [`verify`], on its own so that a host
/// can run it beside the other checks (see [`verify_using`]).
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
pub fn replay_pack(pack: &[u8]) -> std::result::Result<Digest32, String> {
    let files = open_members(pack)?;
    replay(&files)
}

/// [`verify`], with the replay's result supplied by `replayed` (called once,
/// at the replay check, only if every earlier check passed). The core runs
/// on one thread; a host with cores to spare starts [`replay_pack`] on
/// another and hands its result in here (joining that thread in
/// `replayed`), so the hashing and the replay overlap; the CLI does so.
///
/// ```
/// # use eucora_license_core::internal::evidence::{replay_pack, verify_using};
/// let pack = b"not an archive";
/// let report = verify_using(pack, None, || replay_pack(pack));
/// assert_eq!(report.first_failure.as_deref(), Some("archive"));
/// ```
pub fn verify_using(
    pack: &[u8],
    previous: Option<&[u8]>,
    replayed: impl FnOnce() -> std::result::Result<Digest32, String>,
) -> VerifyReport {
    let mut v = Verifier { checks: Vec::new(), failed: false };
    let mut snapshot_hash = None;
    let files = match open_members(pack) {
        Ok(f) => f,
        Err(e) => {
            v.check("archive", || Err(e));
            return finish(v, None);
        }
    };
    v.check("archive", || Ok(format!("{} entries", files.len())));
    let manifest_bytes = files.get(MANIFEST).copied();
    let manifest: Option<Value> = manifest_bytes.and_then(|b| serde_json::from_slice(b).ok());
    v.check("manifest", || check_manifest(manifest_bytes, manifest.as_ref(), &files));
    if v.failed {
        for name in ["pack_hash", "snapshot_hash", "skus_root", "units_root", "chain", "replay"] {
            v.check(name, || Ok(String::new()));
        }
        return finish(v, None);
    }
    let manifest = manifest.unwrap_or(Value::Null);
    // Each artifact is hashed once; the checks and the pack hash share the digests.
    let view: BTreeMap<&str, (u64, Digest32)> =
        files.iter().filter(|(k, _)| **k != MANIFEST).map(|(k, b)| (*k, (b.len() as u64, sha256(b)))).collect();
    for a in manifest["artifacts"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let name = a["name"].as_str().unwrap_or("");
        let (size, digest) = view.get(name).copied().unwrap_or((0, sha256(&[])));
        v.check(format!("artifact:{name}"), || {
            let got = digest.to_prefixed();
            if a["size"].as_u64() != Some(size) {
                Err(format!("size {size} but the manifest says {}", shown(&a["size"])))
            } else if a["sha256"].as_str() != Some(got.as_str()) {
                Err(format!("sha256 {got} but the manifest says {}", shown(&a["sha256"])))
            } else {
                Ok(got)
            }
        });
    }
    let claimed_snapshot = manifest["snapshot_hash"].as_str().unwrap_or("").to_string();
    v.check("pack_hash", || {
        let (mut expected, h) =
            manifest_of(&view, &claimed_snapshot, manifest.get("pseudonymised")).map_err(|e| e.message().to_string())?;
        if manifest["pack_hash"].as_str() != Some(h.to_prefixed().as_str()) {
            return Err(format!("recomputed {h}, manifest says {}", shown(&manifest["pack_hash"])));
        }
        expected["pack_hash"] = json!(h.to_prefixed());
        if canon(&expected).ok().as_deref() != manifest_bytes {
            return Err("manifest.json is not byte for byte the manifest of these artifacts".into());
        }
        Ok(h.to_prefixed())
    });
    if v.failed {
        for name in ["snapshot_hash", "skus_root", "units_root", "chain", "replay"] {
            v.check(name, || Ok(String::new()));
        }
        return finish(v, None);
    }
    let snapshot = files.get("snapshot.json").map(|b| Snapshot::parse_verified(b));
    v.check("snapshot_hash", || match &snapshot {
        Some(Ok(s)) if s.hash().to_prefixed() == claimed_snapshot => {
            snapshot_hash = Some(claimed_snapshot.clone());
            Ok(claimed_snapshot.clone())
        }
        Some(Ok(s)) => Err(format!("snapshot hashes to {}, manifest says {}", s.hash(), quoted(&claimed_snapshot))),
        Some(Err(e)) => Err(e.message().to_string()),
        None => Err("snapshot.json is missing".into()),
    });
    let snap = snapshot.and_then(|r| r.ok());
    let records: &[Value] = snap.as_ref().and_then(|s| s.value()["skus"].as_array()).map(Vec::as_slice).unwrap_or(&[]);
    v.check("skus_root", || match crate::document::snapshot::skus_root(records) {
        Ok(r) if snap.as_ref().is_some_and(|s| s.value()["skus_root"].as_str() == Some(r.to_prefixed().as_str())) => Ok(r.to_prefixed()),
        Ok(r) => {
            Err(format!("recomputed {r}, snapshot says {}", snap.as_ref().map(|s| shown(&s.value()["skus_root"])).unwrap_or_default()))
        }
        Err(e) => Err(e.message().to_string()),
    });
    let units = files.get("units.jsonl").map(|b| units_by_sku(b)).unwrap_or_else(|| Err("units.jsonl is missing".into()));
    match units {
        Err(e) => {
            v.check("units_root", || Err(e));
        }
        Ok(units) => {
            for r in records {
                let sku = r["sku"].as_str().unwrap_or("");
                let leaves: Vec<Digest32> = units.get(sku).into_iter().flatten().map(|u| crate::canon::merkle::leaf_hash(u)).collect();
                let root = crate::canon::merkle::root_of_leaves(leaves).to_prefixed();
                let ok = r["units_root"].as_str() == Some(root.as_str());
                v.check(format!("units_root:{}", escaped(sku)), || {
                    if ok {
                        Ok(root)
                    } else {
                        Err(format!("recomputed {root}, record says {}", shown(&r["units_root"])))
                    }
                });
            }
        }
    }
    v.check("chain", || chain_check(snap.as_ref(), files.get("previous_snapshot.json").copied(), previous));
    let expected = snapshot_hash.clone();
    v.check("replay", || {
        replayed().and_then(|h| {
            if Some(h.to_prefixed()) == expected {
                Ok(format!("replay gives {h}, and every derived artifact byte for byte"))
            } else {
                Err(format!("replay gives {h}, the pack's snapshot is {}", expected.clone().unwrap_or_default()))
            }
        })
    });
    finish(v, snapshot_hash)
}

/// The `manifest` check: present, the contract's fields only, canonical,
/// listing exactly the archive's artifacts with every required one.
fn check_manifest(bytes: Option<&[u8]>, manifest: Option<&Value>, files: &Members<'_>) -> std::result::Result<String, String> {
    let (Some(bytes), Some(m)) = (bytes, manifest) else { return Err("manifest.json is missing or not JSON".into()) };
    let obj = m.as_object().ok_or("manifest.json is not a JSON object")?;
    if obj.get("schema").and_then(Value::as_str) != Some(MANIFEST_SCHEMA) {
        return Err(format!("schema is not {MANIFEST_SCHEMA}"));
    }
    if let Some(k) = obj.keys().find(|k| !matches!(k.as_str(), "schema" | "artifacts" | "snapshot_hash" | "pack_hash" | "pseudonymised")) {
        return Err(format!("manifest.json has a field the contract does not define: `{}`", quoted(k)));
    }
    if obj.get("pseudonymised").is_some_and(|n| !n.is_object()) {
        return Err("manifest.json: `pseudonymised` is not an object".into());
    }
    let list = obj.get("artifacts").and_then(Value::as_array).ok_or("manifest.json has no `artifacts` list")?;
    let most = REQUIRED.len() + OPTIONAL.len();
    if list.len() > most {
        return Err(format!("manifest lists {} artifacts; a pack holds at most {most}", list.len()));
    }
    let mut listed = Vec::with_capacity(list.len());
    for a in list {
        let entry = a.as_object().filter(|o| {
            o.len() == 3
                && o.get("name").is_some_and(Value::is_string)
                && o.get("size").is_some_and(Value::is_u64)
                && o.get("sha256").is_some_and(Value::is_string)
        });
        let entry = entry.ok_or("every entry of `artifacts` is {name, size, sha256}")?;
        listed.push(entry["name"].as_str().unwrap_or_default());
    }
    let present: Vec<&str> = files.keys().copied().filter(|n| *n != MANIFEST).collect();
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|r| !files.contains_key(r)).collect();
    if listed != present {
        let listed: Vec<String> = listed.iter().map(|n| quoted(n)).collect();
        return Err(format!("manifest lists {listed:?}, archive holds {present:?}"));
    }
    if !missing.is_empty() {
        return Err(format!("required artifacts missing: {missing:?}"));
    }
    if canon(m).ok().as_deref() != Some(bytes) {
        return Err("manifest.json is not in canonical form (RFC 8785)".into());
    }
    Ok(format!("{} artifacts listed", listed.len()))
}

fn finish(v: Verifier, snapshot_hash: Option<String>) -> VerifyReport {
    let first_failure = v.checks.iter().find(|c| c.status == "failed").map(|c| c.name.clone());
    VerifyReport { ok: first_failure.is_none(), first_failure, checks: v.checks, snapshot_hash }
}

/// Units of `units.jsonl`, as canonical leaf bytes per SKU.
fn units_by_sku(bytes: &[u8]) -> std::result::Result<BTreeMap<String, Vec<Vec<u8>>>, String> {
    crate::history::diff::units_by_sku(bytes).map_err(|e| format!("units.jsonl {e}"))
}

fn chain_check(snap: Option<&Snapshot>, embedded: Option<&[u8]>, given: Option<&[u8]>) -> std::result::Result<String, String> {
    let snap = snap.ok_or("no readable snapshot")?;
    let prev_hash = snap.value()["previous_hash"].as_str().map(str::to_string);
    let seq = snap.sequence();
    let link = |p: &Snapshot| -> std::result::Result<String, String> {
        if p.organization_id() != snap.organization_id() {
            return Err(format!("previous snapshot belongs to `{}`", quoted(p.organization_id())));
        }
        if prev_hash.as_deref() != Some(p.hash().to_prefixed().as_str()) {
            return Err(format!("previous_hash {:?} does not name the previous snapshot {}", prev_hash.as_deref().map(quoted), p.hash()));
        }
        if p.sequence().checked_add(1) != Some(seq) {
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

/// Rebuild the run's inputs from a pack (checking every cross-reference
/// first), recompute the run and compare every artifact.
fn replay(files: &Members<'_>) -> std::result::Result<Digest32, String> {
    if let Some(missing) = REQUIRED.iter().find(|n| !files.contains_key(*n)) {
        return Err(format!("{missing} is missing"));
    }
    let get = |n: &str| files.get(n).copied().ok_or_else(|| format!("{n} is missing"));
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
    let signals = signals_of(get("signals.jsonl")?, &jobs, ruleset.max_reject_percent)?;
    let previous = match files.get("previous_snapshot.json") {
        Some(b) => Some(Snapshot::parse_verified(b).map_err(|e| format!("previous_snapshot.json: {}", e.message()))?),
        None => None,
    };
    if previous.as_ref().is_some_and(|p| p.organization_id() != params.organization_id) {
        return Err("previous_snapshot.json belongs to another organization: the run would have failed closed".into());
    }
    let previous_run =
        match (files.get("previous_snapshot.json"), files.get("previous_units.jsonl"), files.get("previous_entitlements.json")) {
            (Some(s), Some(u), Some(e)) => {
                canonical_document("previous_entitlements.json", e)?;
                Some(crate::history::diff::PreviousRun::from_parts(s, u, e).map_err(msg)?)
            }
            (_, None, None) => None,
            _ => return Err("previous_units.jsonl and previous_entitlements.json come together, with previous_snapshot.json".into()),
        };
    let (warnings, observations) = recorded_report(&json("run_report.json")?)?;
    let unique = crate::engine::collapse_duplicates(&signals).map_err(|e| e.first().map(|x| x.to_string()).unwrap_or_default())?;
    let inputs = RunInputs { params, ruleset, master, signals, jobs, observations, previous, previous_run, warnings, pseudonymised: None };
    let mut out = compute(inputs, &unique).map_err(msg)?;
    let hash = out.snapshot.as_ref().map(|s| s.hash()).ok_or("replay produced no snapshot")?;
    // The jobs' row errors and warnings are recorded facts: the report lists
    // the jobs as `imports.json` has them.
    out.report["imports"] = jobs_json;
    compare_replay(&out, files, hash)?;
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

/// `signals.jsonl` into a signal store, each line naming an import job of
/// `jobs`; then every signal file's recorded counts must agree with its
/// signals: accepted rows = its lines, its source = theirs, and its rejected
/// rows within `max_reject_percent` (else the run would have failed closed).
fn signals_of(bytes: &[u8], jobs: &[ImportJob], max_reject_percent: i64) -> std::result::Result<SignalStore, String> {
    let mut signals = SignalStore::default();
    let job_index: BTreeMap<&str, u32> = jobs.iter().enumerate().map(|(i, j)| (j.job_id.as_str(), i as u32)).collect();
    // Per job: its signals and their sources.
    let mut per_job: Vec<(u64, std::collections::BTreeSet<u32>)> = vec![(0, Default::default()); jobs.len()];
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate().filter(|(_, l)| !l.is_empty()) {
        let named: std::cell::Cell<Option<Option<u32>>> = std::cell::Cell::new(None);
        signals
            .push_normalised_line(line, |job| {
                let k = job_index.get(job).copied();
                named.set(Some(k));
                k.unwrap_or(u32::MAX)
            })
            .map_err(|e| format!("signals.jsonl line {}: {e}", i + 1))?;
        let k = match named.get() {
            None => return Err(format!("signals.jsonl line {}: the signal names no import job", i + 1)),
            Some(None) => return Err(format!("signals.jsonl line {}: its import job is not in imports.json", i + 1)),
            Some(Some(k)) => k as usize,
        };
        let Some(row) = signals.rows.last() else { return Err(format!("signals.jsonl line {}: not read", i + 1)) };
        // A session's tokens are a count: an exact JSON integer (A5).
        if row.session_data(&signals).is_some_and(|d| d.quantity > crate::canon::canonical::MAX_SAFE_INTEGER as u64) {
            return Err(format!("signals.jsonl line {}: `quantity` is beyond 2^53 − 1", i + 1));
        }
        let source = row.source;
        if let Some(slot) = per_job.get_mut(k) {
            slot.0 += 1;
            slot.1.insert(source);
        }
    }
    for (j, (lines, sources)) in jobs.iter().zip(&per_job) {
        let id = quoted(&j.job_id);
        if is_master_job(j) {
            if *lines > 0 {
                return Err(format!("signals.jsonl: a signal names the master-data job `{id}`"));
            }
            continue;
        }
        if *lines != j.rows_accepted {
            return Err(format!("imports.json: job `{id}` accepted {} rows, signals.jsonl holds {lines} of its signals", j.rows_accepted));
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

/// Every member the replayed run writes must be in the pack byte for byte,
/// and the pack may hold no other; the first that differs is named.
fn compare_replay(out: &Outcome, files: &Members<'_>, hash: Digest32) -> std::result::Result<(), String> {
    let produced = artifacts(out).map_err(|e| format!("replay: {}", e.message()))?;
    for name in REPLAY_ORDER {
        let held = files.get(name).copied();
        let differs_at = if STREAMED.contains(&name) {
            let held = held.ok_or_else(|| format!("{name} is missing"))?;
            // Units are held as canonical bytes: their lines are compared as
            // they stand (what write_pack writes, without re-encoding each
            // unit); only a difference is confirmed the writer's way.
            if name == "units.jsonl" {
                let mut sink = Comparing { held, pos: 0, differs_at: None };
                if units_as_written(out, &mut sink).is_ok() && sink.first_difference().is_none() {
                    continue;
                }
            }
            let mut sink = Comparing { held, pos: 0, differs_at: None };
            let written = write_streamed(out, name, &mut sink);
            if let (Err(e), None) = (written, sink.differs_at) {
                return Err(format!("replay: {}", e.message()));
            }
            sink.first_difference()
        } else {
            match (produced.get(name), held) {
                (None, None) => continue,
                (Some(_), None) => return Err(format!("`{name}` is missing, though the run writes it")),
                (None, Some(_)) => return Err(format!("`{name}` is in the pack, though the run does not write it")),
                (Some(p), Some(h)) => {
                    let mut sink = Comparing { held: h, pos: 0, differs_at: None };
                    let _ = sink.write_all(p);
                    sink.first_difference()
                }
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
