//! Opening an evidence pack for reading without replaying it (DESIGN C1,
//! C6): the archive, the manifest, every artifact's size and hash, the pack
//! hash, the snapshot hash and the Merkle roots must hold, exactly as
//! [`super::verify`] checks them; the chain link and the replay are the
//! auditor's `verify`, not repeated here. A pack that opens hands its
//! members to readers (the intelligence layer) that trust nothing else.

use super::verify::verify_using;
use crate::document::manifest::{open_members, Members};
use crate::document::snapshot::Snapshot;
use crate::error::{Error, ErrorCode, Result};

/// An evidence pack whose integrity checks passed: its snapshot and its
/// members by name.
#[derive(Debug)]
pub struct OpenPack<'a> {
    snapshot: Snapshot,
    members: Members<'a>,
}

impl<'a> OpenPack<'a> {
    /// The pack's snapshot (its hash verified).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The bytes of one member (`units.jsonl`, `entitlements.json`,
    /// `previous_entitlements.json`, ...), when the pack holds it.
    pub fn member(&self, name: &str) -> Option<&'a [u8]> {
        self.members.get(name).copied()
    }

    /// The names of the members the pack holds, in name order.
    pub fn member_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.members.keys().copied()
    }
}

/// Open an evidence pack: run A7's integrity checks (archive, manifest,
/// artifacts, pack hash, snapshot hash, `skus_root`, each `units_root`)
/// without the chain link or the replay, and return its members.
/// The error (code `invalid_input`) names the first check that failed.
///
/// ```
/// use eucora_license_core::open_pack;
/// let e = open_pack(b"not an archive").unwrap_err();
/// assert!(e.message().starts_with("archive:"));
/// ```
///
/// `pack` is the tar: members are handed out as slices of it, so a
/// compressed pack (`write_compressed_pack`, the CLI's) is first unwrapped
/// with [`pack_archive`](crate::pack_archive); a plain pack is its own tar.
pub fn open_pack(pack: &[u8]) -> Result<OpenPack<'_>> {
    if crate::canon::zst::is_compressed(pack) {
        return Err(Error::new(ErrorCode::InvalidInput, "archive: the pack is compressed; open the archive that pack_archive gives"));
    }
    // The replay is never run: its closure reports "not replayed", and the
    // `chain` and `replay` checks are not part of opening.
    let report = verify_using(pack, None, || Err("not replayed".into()));
    if let Some(c) = report.checks.iter().find(|c| c.status == "failed" && c.name != "chain" && c.name != "replay") {
        return Err(Error::new(ErrorCode::InvalidInput, format!("{}: {}", c.name, c.detail)));
    }
    let members = open_members(pack).map_err(|e| Error::new(ErrorCode::InvalidInput, format!("archive: {e}")))?;
    let bytes = members.get("snapshot.json").copied().ok_or_else(|| Error::new(ErrorCode::InvalidInput, "snapshot.json is missing"))?;
    let snapshot = Snapshot::parse_verified(bytes)?;
    Ok(OpenPack { snapshot, members })
}
