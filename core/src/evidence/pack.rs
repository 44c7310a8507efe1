//! Evidence packs (DESIGN A7): a deterministic tar of everything a snapshot
//! rests on, and offline verification that replays the reconciliation.
//!
//! The pack holds the snapshot, the run parameters, the ruleset, the catalog,
//! entitlements, pools and directory (known columns only), the normalised
//! signals, the units, exceptions, import jobs, the diff, the run report and
//! the previous snapshot when there is one, plus `manifest.json` listing every
//! artifact's name, size and SHA-256, the snapshot hash and the pack hash.
//! Any `tar` and `sha256sum` can check the artifacts; [`verify`](super::verify::verify) checks
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
use crate::canon::zst;
use crate::document::manifest::{ArtifactEntry, Manifest, PseudonymNote, MANIFEST_SCHEMA};
use crate::error::{Error, ErrorCode, Result};
use crate::input::catalog;
use crate::run::Outcome;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;

pub(super) fn canon(v: &Value) -> Result<Vec<u8>> {
    canonical::to_vec(v)
}

/// The artifacts of a successful run, by name (sorted).
pub(super) fn artifacts(outcome: &Outcome) -> Result<BTreeMap<&'static str, Vec<u8>>> {
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
    a.insert("diff.json", canonical::to_vec_of(&outcome.diff)?);
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
    // Its units, as large as this run's, are streamed (`streamed_names`).
    if let Some(run) = &inputs.previous_run {
        a.insert("previous_entitlements.json", canon(&run.entitlements)?);
    }
    a.insert("ruleset.json", canon(&inputs.ruleset.document)?);
    a.insert("run_report.json", canonical::to_vec_of(&outcome.report)?);
    a.insert("snapshot.json", snapshot.canonical_bytes().to_vec());
    Ok(a)
}

/// The artifacts that grow with the estate are generated, not held: once
/// to hash and measure them for the manifest, once into the archive.
pub(super) const STREAMED: [&str; 2] = ["signals.jsonl", "units.jsonl"];

/// The size of the pieces the streamed artifacts are written in.
const CHUNK: usize = 256 * 1024;

/// The streamed artifacts of this outcome: [`STREAMED`], and the previous
/// run's units when the run was chained to a previous pack.
pub(super) fn streamed_names(outcome: &Outcome) -> Vec<&'static str> {
    let chained = outcome.inputs.as_ref().is_some_and(|i| i.previous_run.is_some());
    STREAMED.iter().copied().chain(chained.then_some("previous_units.jsonl")).collect()
}

pub(super) fn write_streamed(outcome: &Outcome, name: &str, out: &mut dyn Write) -> Result<()> {
    let io = |e: std::io::Error| Error::new(ErrorCode::InvalidInput, format!("cannot write the pack: {e}"));
    let inputs = outcome.inputs.as_ref().ok_or_else(|| Error::new(ErrorCode::Internal, "no run inputs"))?;
    // Lines are gathered into chunks of about [`CHUNK`] bytes: one write per
    // chunk instead of one per line (the sinks hash or compress).
    let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    if name == "signals.jsonl" {
        let store = &inputs.signals;
        for s in &store.rows {
            store.write_normalised(s, &mut chunk);
            chunk.push(b'\n');
            if chunk.len() >= CHUNK {
                out.write_all(&chunk).map_err(io)?;
                chunk.clear();
            }
        }
    } else if name == "previous_units.jsonl" {
        // What `PreviousRun::units_jsonl` gives, a line at a time.
        if let Some(run) = &inputs.previous_run {
            run.write_units_jsonl(&mut |line| out.write_all(line).map_err(io))?;
        }
    } else {
        // `{"sku":<sku>,"unit":<unit>}`: the canonical form of that object,
        // since "sku" sorts before "unit" and each unit is held as its
        // canonical bytes (`UnitList`); built by concatenation instead of a
        // parse and re-encoding of every unit (pinned against the `Value`
        // rendering by the demo pack of before, `fixtures/packs/demo-plain-v1.tar`).
        for (sku, list) in &outcome.units {
            let mut prefix = b"{\"sku\":".to_vec();
            prefix.extend_from_slice(&canon(&Value::String(sku.clone()))?);
            prefix.extend_from_slice(b",\"unit\":");
            for u in list.iter() {
                chunk.extend_from_slice(&prefix);
                chunk.extend_from_slice(u);
                chunk.extend_from_slice(b"}\n");
                if chunk.len() >= CHUNK {
                    out.write_all(&chunk).map_err(io)?;
                    chunk.clear();
                }
            }
        }
    }
    out.write_all(&chunk).map_err(io)?;
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

/// The manifest of these artifacts, `pack_hash` included, and that hash
/// (`eucora.pack.v1` over the manifest without `pack_hash`).
pub(super) fn manifest_of(
    artifacts: &BTreeMap<&str, (u64, Digest32)>,
    snapshot_hash: &str,
    note: Option<&PseudonymNote>,
) -> Result<(Manifest, Digest32)> {
    let list: Vec<ArtifactEntry> = artifacts
        .iter()
        .map(|(name, (size, digest))| ArtifactEntry { name: name.to_string(), size: *size, sha256: digest.to_prefixed() })
        .collect();
    let mut manifest = Manifest {
        schema: MANIFEST_SCHEMA.to_string(),
        artifacts: list,
        snapshot_hash: snapshot_hash.to_string(),
        pseudonymised: note.cloned(),
        pack_hash: None,
    };
    let hash = tagged(Domain::Pack, &canonical::to_vec_of(&manifest)?);
    manifest.pack_hash = Some(hash.to_prefixed());
    Ok((manifest, hash))
}

/// Write the evidence pack of a successful run into `sink` (a file, a socket,
/// a buffer) as the plain deterministic tar of DESIGN A7; returns the sink
/// and the pack hash. [`write_compressed_pack`] writes the same tar in one
/// pinned zstd frame (what the CLI stores); verification accepts both.
///
/// ```
/// # use eucora_license_core::{reconcile, MemoryBundle};
/// # let out = reconcile(&MemoryBundle::default(), None);
/// // A failed run has no pack:
/// assert!(eucora_license_core::internal::evidence::write_pack(&out, Vec::new()).is_err());
/// ```
pub fn write_pack<W: Write>(outcome: &Outcome, sink: W) -> Result<(W, Digest32)> {
    let plan = plan(outcome)?;
    write_planned(outcome, &plan, sink)
}

/// Write the evidence pack of a successful run compressed: the tar of
/// [`write_pack`] as one Zstandard frame with pinned settings (see
/// `canon::zst` and docs/audit-guide.md, section 9). The manifest and
/// `pack_hash` are over the uncompressed members, so the pack hash is the
/// same either way, and `zstd -d` gives back the tar. Streamed: neither the
/// tar nor the compressed bytes are held whole.
///
/// ```
/// # use eucora_license_core::{reconcile, MemoryBundle};
/// # let out = reconcile(&MemoryBundle::default(), None);
/// assert!(eucora_license_core::write_compressed_pack(&out, Vec::new()).is_err());
/// ```
pub fn write_compressed_pack<W: Write>(outcome: &Outcome, sink: W) -> Result<(W, Digest32)> {
    write_compressed_pack_threads(outcome, sink, 1)
}

/// [`write_compressed_pack`] with the compression spread over `threads`
/// worker threads of the compressor (0 counts as 1), which run while this
/// thread produces the tar. The bytes are the same for every `threads`: the
/// frame is cut into jobs of a pinned size whatever the number of workers
/// (see `canon::zst`).
pub fn write_compressed_pack_threads<W: Write>(outcome: &Outcome, sink: W, threads: usize) -> Result<(W, Digest32)> {
    let io = |e: std::io::Error| Error::new(ErrorCode::InvalidInput, format!("cannot write the pack: {e}"));
    let plan = plan(outcome)?;
    let encoder = zst::encoder(sink, plan.archive_size(), threads).map_err(io)?;
    // Whole chunks to the compressor: each write is a call into libzstd
    // (with a lock when it has workers), too dear per tar header or line.
    let buffered = std::io::BufWriter::with_capacity(CHUNK, encoder);
    let (buffered, hash) = write_planned(outcome, &plan, buffered)?;
    let encoder = buffered.into_inner().map_err(|e| io(e.into_error()))?;
    Ok((zst::finish(encoder).map_err(io)?, hash))
}

/// What a pack holds, measured before a byte is written: the artifacts held
/// in memory, every member's size and digest, the manifest and its hash.
struct Plan {
    artifacts: BTreeMap<&'static str, Vec<u8>>,
    digests: BTreeMap<&'static str, (u64, Digest32)>,
    manifest_bytes: Vec<u8>,
    pack_hash: Digest32,
}

impl Plan {
    /// The exact size of the tar: a header block per member, its data padded
    /// to whole blocks, and the two end blocks.
    fn archive_size(&self) -> u64 {
        let padded = |n: u64| 512 + n.div_ceil(512) * 512;
        self.digests.values().map(|(n, _)| padded(*n)).sum::<u64>() + padded(self.manifest_bytes.len() as u64) + 1024
    }
}

fn plan(outcome: &Outcome) -> Result<Plan> {
    // A run that did not keep its units (`RunOptions::keep_units`) cannot
    // have its units.jsonl written: refuse rather than write a wrong pack.
    if outcome.snapshot.is_some() && !outcome.has_units() {
        return Err(Error::new(
            ErrorCode::Internal,
            "this outcome was computed without keeping its units (RunOptions::keep_units): no pack",
        ));
    }
    let a = artifacts(outcome)?;
    let snapshot_hash = outcome.snapshot.as_ref().map(|s| s.hash().to_prefixed()).unwrap_or_default();
    let mut digests: BTreeMap<&str, (u64, Digest32)> = a.iter().map(|(k, v)| (*k, (v.len() as u64, sha256(v)))).collect();
    for name in streamed_names(outcome) {
        let mut d = Digesting { hasher: <sha2::Sha256 as sha2::Digest>::new(), len: 0 };
        write_streamed(outcome, name, &mut d)?;
        digests.insert(name, (d.len, Digest32(sha2::Digest::finalize(d.hasher).into())));
    }
    let note = outcome.inputs.as_ref().and_then(|i| i.pseudonymised.as_ref());
    let (manifest, pack_hash) = manifest_of(&digests, &snapshot_hash, note)?;
    let manifest_bytes = canonical::to_vec_of(&manifest)?;
    Ok(Plan { artifacts: a, digests, manifest_bytes, pack_hash })
}

fn write_planned<W: Write>(outcome: &Outcome, plan: &Plan, sink: W) -> Result<(W, Digest32)> {
    let mut names: Vec<&str> = plan.digests.keys().copied().chain(["manifest.json"]).collect();
    names.sort_unstable();
    let mut w = TarWriter::new(sink);
    for name in names {
        if let Some(bytes) = plan.artifacts.get(name) {
            w.append(name, bytes)?;
        } else if name == "manifest.json" {
            w.append(name, &plan.manifest_bytes)?;
        } else {
            let size = plan.digests[name].0;
            w.append_with(name, size, |out| write_streamed(outcome, name, out))?;
        }
    }
    Ok((w.finish()?, plan.pack_hash))
}
