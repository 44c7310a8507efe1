//! Offline verification of an evidence pack (DESIGN A7): the archive, the
//! manifest, every artifact's size and hash, the pack and snapshot hashes,
//! `skus_root` and each `units_root`, the chain link, then the replay
//! ([`super::replay`]).

use super::pack::{canon, manifest_of};
use super::replay::{replay_streamed, Streamed};
use super::stream::{self, Pass};
use crate::canon::hash::{sha256, Digest32};
use crate::document::manifest::Manifest;
use crate::document::manifest::{escaped, quoted};
use crate::document::manifest::{MANIFEST, MANIFEST_SCHEMA, OPTIONAL, REQUIRED};
use crate::document::snapshot::{SkuRecord, Snapshot};
use crate::vocab::CheckStatus;
use serde_json::Value;
use std::io::Read;

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
            self.checks.push(Check { name, status: CheckStatus::Skipped.name(), detail: "an earlier check failed".into() });
            return false;
        }
        match run() {
            Ok(detail) => {
                self.checks.push(Check { name, status: CheckStatus::Passed.name(), detail });
                true
            }
            Err(detail) => {
                self.failed = true;
                self.checks.push(Check { name, status: CheckStatus::Failed.name(), detail });
                false
            }
        }
    }
}

/// Verify an evidence pack offline (the plain tar of [`write_pack`](super::pack::write_pack),
/// or that tar compressed by [`write_compressed_pack`](super::pack::write_compressed_pack)): the archive, the manifest, every
/// artifact's size and hash, the pack hash, the snapshot hash, `skus_root`,
/// each SKU's `units_root`, the chain link (to `previous`, or to the pack's
/// own previous snapshot), and finally a replay of the reconciliation from
/// the pack's inputs, which must reproduce every derived artifact byte for
/// byte (see [`replay_pack`](super::replay::replay_pack)).
/// Never panics; the report names each check and the first that failed.
/// A thin wrapper over [`verify_reader`].
pub fn verify(pack: &[u8], previous: Option<&[u8]>) -> VerifyReport {
    verify_reader(std::io::Cursor::new(pack), previous)
}

/// [`verify`] reading the pack as a stream (a `BufReader` over the file):
/// one pass, the pack never held (issue 15). Each member is hashed as it
/// passes; the small ones are kept; `units.jsonl` feeds each SKU's Merkle
/// root and `signals.jsonl` the replay's signal store line by line; the
/// checks then run in the order of [`verify`], and only when all passed
/// does the engine recompute the run, whose artifacts are compared with the
/// pack's (byte for byte when kept, else by SHA-256). Memory: the engine's
/// for the signals (as a reconcile of the same bundle), the decoder's window
/// (128 MiB for the CLI's packs), the small members; not the pack.
pub fn verify_reader<R: Read>(pack: R, previous: Option<&[u8]>) -> VerifyReport {
    let mut st = Streamed::default();
    let pass = stream::pass(pack, Some(&mut st));
    checks(&pass, previous, || {
        // The replay checks its inputs before the engine sees them; should the
        // engine still stop on an internal error, the report says so.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| replay_streamed(&pass, st)))
            .unwrap_or_else(|_| Err("the replay stopped on an internal error".into()))
    })
}

/// [`verify`], with the replay's result supplied by `replayed` (called once,
/// at the replay check, only if every earlier check passed). A host can
/// start [`replay_pack`](super::replay::replay_pack) on another thread and hand its result in here
/// (joining that thread in `replayed`), so the hashing and the replay
/// overlap, at the price of reading the pack twice. [`verify_reader`]
/// streams instead.
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
    let pass = stream::pass(std::io::Cursor::new(pack), None);
    checks(&pass, previous, replayed)
}

/// Every check of A7 over what one pass read, in order.
fn checks(pass: &Pass, previous: Option<&[u8]>, replayed: impl FnOnce() -> std::result::Result<Digest32, String>) -> VerifyReport {
    let mut v = Verifier { checks: Vec::new(), failed: false };
    let mut snapshot_hash = None;
    let entries = match &pass.archive {
        Ok(n) => *n,
        Err(e) => {
            v.check("archive", || Err(e.clone()));
            return finish(v, None);
        }
    };
    v.check("archive", || Ok(format!("{entries} entries")));
    let kept = |n: &str| pass.kept.get(n).map(Vec::as_slice);
    let manifest_bytes = kept(MANIFEST);
    let manifest: Option<Value> = manifest_bytes.and_then(|b| serde_json::from_slice(b).ok());
    v.check("manifest", || check_manifest(manifest_bytes, manifest.as_ref(), &pass.present));
    if v.failed {
        for name in ["pack_hash", "snapshot_hash", "skus_root", "units_root", "chain", "replay"] {
            v.check(name, || Ok(String::new()));
        }
        return finish(v, None);
    }
    // The checks above passed: the manifest has the contract's fields only.
    let manifest: Manifest = match manifest.map(serde_json::from_value::<Manifest>) {
        Some(Ok(m)) => m,
        other => {
            let why = match other {
                Some(Err(e)) => format!("manifest.json: {e}"),
                _ => "manifest.json is missing".into(),
            };
            v.check("pack_hash", || Err(why.clone()));
            for name in ["snapshot_hash", "skus_root", "units_root", "chain", "replay"] {
                v.check(name, || Ok(String::new()));
            }
            return finish(v, None);
        }
    };
    // Each artifact was hashed once, as it passed; the checks and the pack
    // hash share the digests.
    let view = &pass.digests;
    for a in &manifest.artifacts {
        let name = a.name.as_str();
        let (size, digest) = view.get(name).copied().unwrap_or((0, sha256(&[])));
        v.check(format!("artifact:{name}"), || {
            let got = digest.to_prefixed();
            if a.size != size {
                Err(format!("size {size} but the manifest says {}", a.size))
            } else if a.sha256 != got {
                Err(format!("sha256 {got} but the manifest says {}", quoted(&a.sha256)))
            } else {
                Ok(got)
            }
        });
    }
    let claimed_snapshot = manifest.snapshot_hash.clone();
    v.check("pack_hash", || {
        let (expected, h) = manifest_of(view, &claimed_snapshot, manifest.pseudonymised.as_ref()).map_err(|e| e.message().to_string())?;
        if manifest.pack_hash.as_deref() != Some(h.to_prefixed().as_str()) {
            return Err(format!("recomputed {h}, manifest says {}", quoted(manifest.pack_hash.as_deref().unwrap_or("nothing"))));
        }
        if crate::canon::canonical::to_vec_of(&expected).ok().as_deref() != manifest_bytes {
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
    let snapshot = kept("snapshot.json").map(Snapshot::parse_verified);
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
    let records: &[SkuRecord] = snap.as_ref().map(|s| s.doc().skus.as_slice()).unwrap_or(&[]);
    v.check("skus_root", || match crate::document::snapshot::skus_root(records) {
        Ok(r) if snap.as_ref().is_some_and(|s| s.doc().skus_root == r.to_prefixed()) => Ok(r.to_prefixed()),
        Ok(r) => Err(format!("recomputed {r}, snapshot says {}", snap.as_ref().map(|s| quoted(&s.doc().skus_root)).unwrap_or_default())),
        Err(e) => Err(e.message().to_string()),
    });
    match &pass.unit_roots {
        None => {
            v.check("units_root", || Err("units.jsonl is missing".into()));
        }
        Some(Err(e)) => {
            v.check("units_root", || Err(format!("units.jsonl {e}")));
        }
        Some(Ok(units)) => {
            for r in records {
                let sku = r.sku.as_str();
                let root = units.get(sku).map(|b| b.root()).unwrap_or_else(|| sha256(b"")).to_prefixed();
                let ok = r.units_root == root;
                v.check(format!("units_root:{}", escaped(sku)), || {
                    if ok {
                        Ok(root)
                    } else {
                        Err(format!("recomputed {root}, record says {}", quoted(&r.units_root)))
                    }
                });
            }
        }
    }
    v.check("chain", || chain_check(snap.as_ref(), kept("previous_snapshot.json"), previous));
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
fn check_manifest(bytes: Option<&[u8]>, manifest: Option<&Value>, files: &[&'static str]) -> std::result::Result<String, String> {
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
    let present: Vec<&str> = files.iter().copied().filter(|n| *n != MANIFEST).collect();
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|r| !files.contains(r)).collect();
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
    let first_failure = v.checks.iter().find(|c| c.status == CheckStatus::Failed.name()).map(|c| c.name.clone());
    VerifyReport { ok: first_failure.is_none(), first_failure, checks: v.checks, snapshot_hash }
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
