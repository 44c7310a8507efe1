//! The evidence pack's layout (DESIGN A7): the manifest schema, the member
//! names a pack may hold, and strict reading of a pack's members.
//!
//! A document, not evidence logic: the history layer reads a previous pack's
//! members (units, entitlements) through [`open_members`] without depending on
//! the evidence layer, which writes and verifies packs.

use crate::canon::tar;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The manifest schema identifier.
pub const MANIFEST_SCHEMA: &str = "eucora.license.pack/v1";

/// One artifact of a pack: its member name, size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactEntry {
    /// The member name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// `sha256:<hex>` of its bytes.
    pub sha256: String,
}

/// The note of a pseudonymised pack: how principals were replaced and of
/// which original snapshot it is the shared form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PseudonymNote {
    /// `hmac-sha256`.
    pub scheme: String,
    /// The fields whose values were replaced.
    pub fields: Vec<String>,
    /// The fingerprint of the key (never the key).
    pub key_fingerprint: String,
    /// The hash of the snapshot before pseudonymisation.
    pub original_snapshot_hash: String,
}

/// `manifest.json`: every artifact, the snapshot hash and the
/// `eucora.pack.v1` pack hash (over the manifest without `pack_hash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_SCHEMA`].
    pub schema: String,
    /// Every artifact but the manifest, in name order.
    pub artifacts: Vec<ArtifactEntry>,
    /// The snapshot the pack is evidence for.
    pub snapshot_hash: String,
    /// Set when the pack is a pseudonymised (shared) one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pseudonymised: Option<PseudonymNote>,
    /// The pack hash; absent from the body it is the hash of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_hash: Option<String>,
}

/// Artifacts every pack holds (besides `manifest.json`).
pub(crate) const REQUIRED: [&str; 13] = [
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

/// Artifacts a pack holds when its run was chained: the previous snapshot,
/// and with a previous pack, its units and entitlements.
pub(crate) const OPTIONAL: [&str; 3] = ["previous_entitlements.json", "previous_snapshot.json", "previous_units.jsonl"];

/// The most bytes the members kept whole may hold together (a pack's
/// master data, snapshots and reports: a few MB at 1 M signals). A pack
/// over it is refused at the `archive` check, so a hostile pack cannot make
/// verification hold more.
pub(crate) const MAX_KEPT: u64 = 256 << 20;

/// The manifest's member name.
pub(crate) const MANIFEST: &str = "manifest.json";

/// The member names a pack may hold: exactly what `write_pack` writes
/// (`REQUIRED`, `OPTIONAL` and `manifest.json`), as the static name.
///
/// ```
/// use eucora_license_core::internal::evidence::member_name;
/// assert_eq!(member_name("snapshot.json"), Some("snapshot.json"));
/// assert_eq!(member_name("../evil.txt"), None);
/// assert_eq!(member_name("/snapshot.json"), None);
/// ```
pub fn member_name(name: &str) -> Option<&'static str> {
    REQUIRED.iter().chain(OPTIONAL.iter()).chain([MANIFEST].iter()).copied().find(|n| *n == name)
}

/// Text from a hostile pack, fit to quote in a message: escaped (no control
/// characters reach a terminal) and cut to 60 characters.
pub(crate) fn quoted(text: &str) -> String {
    let mut s = escaped(&text.chars().take(60).collect::<String>());
    if text.chars().nth(60).is_some() {
        s.push('…');
    }
    s
}

/// `text` with control characters (and only those) escaped.
pub(crate) fn escaped(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// A pack's members by name.
pub(crate) type Members<'a> = BTreeMap<&'static str, &'a [u8]>;

/// Read a pack's members strictly: the archive as [`TarWriter`] writes it,
/// only the names [`member_name`] knows, each once, in name order. Stops at
/// the first entry that breaks a rule, so a pack holds at most 17 entries
/// before it is refused, however many it has (bounded work).
pub(crate) fn open_members(pack: &[u8]) -> std::result::Result<Members<'_>, String> {
    let mut files: Members<'_> = BTreeMap::new();
    let mut last: Option<&'static str> = None;
    for entry in tar::entries(pack) {
        let e = entry.map_err(|e| e.message().to_string())?;
        let name =
            member_name(&e.name).ok_or_else(|| format!("member `{}` is not one an evidence pack holds (A7): refused", quoted(&e.name)))?;
        if files.contains_key(name) {
            return Err(format!("entry `{name}` appears twice"));
        }
        if last.is_some_and(|l| l > name) {
            return Err(format!("entries are not in name order (at `{name}`)"));
        }
        last = Some(name);
        files.insert(name, e.data);
    }
    Ok(files)
}

/// [`open_members`] over a stream: the same rules (the writer's archive,
/// only a pack's member names, each once, in name order) and messages, one
/// member at a time. Take a member with [`MemberWalk::next`], then its bytes
/// with [`MemberWalk::data`] (or skip them the same way).
pub(crate) struct MemberWalk<R: std::io::Read> {
    entries: tar::StreamEntries<R>,
    seen: Vec<&'static str>,
    pending: Option<u64>,
}

impl<R: std::io::Read> MemberWalk<R> {
    pub(crate) fn new(source: R) -> Self {
        MemberWalk { entries: tar::StreamEntries::new(source), seen: Vec::new(), pending: None }
    }

    /// The source under the walk.
    pub(crate) fn source_mut(&mut self) -> &mut R {
        self.entries.source_mut()
    }

    /// The next member's (name, size), or `None` at the end of the archive.
    pub(crate) fn next(&mut self) -> std::result::Result<Option<(&'static str, u64)>, String> {
        if let Some(size) = self.pending.take() {
            self.entries.data(size, |_| {})?;
        }
        let Some((raw, size)) = self.entries.next_header()? else { return Ok(None) };
        let name = member_name(&raw).ok_or_else(|| format!("member `{}` is not one an evidence pack holds (A7): refused", quoted(&raw)))?;
        if self.seen.contains(&name) {
            return Err(format!("entry `{name}` appears twice"));
        }
        if self.seen.last().is_some_and(|l| *l > name) {
            return Err(format!("entries are not in name order (at `{name}`)"));
        }
        self.seen.push(name);
        self.pending = Some(size);
        Ok(Some((name, size)))
    }

    /// The bytes of the member [`Self::next`] just named, in chunks.
    pub(crate) fn data(&mut self, sink: impl FnMut(&[u8])) -> std::result::Result<(), String> {
        match self.pending.take() {
            Some(size) => self.entries.data(size, sink),
            None => Ok(()),
        }
    }

    /// How many members were read.
    pub(crate) fn count(&self) -> usize {
        self.seen.len()
    }
}
