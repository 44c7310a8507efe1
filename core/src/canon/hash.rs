//! Domain-separated SHA-256: every hash is `SHA-256(tag || 0x00 || bytes)`,
//! written `sha256:<64 lower-case hex>` (DESIGN A5). The tag keeps a snapshot
//! hash from ever being mistaken for, say, a ruleset hash over the same bytes.

use sha2::{Digest, Sha256};
use std::fmt;

/// The hash domains of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// `eucora.snapshot.v1`: a snapshot without its `snapshot_hash` field.
    Snapshot,
    /// `eucora.ruleset.v1`: a ruleset document.
    Ruleset,
    /// `eucora.import.v1`: the raw bytes of one input file.
    Import,
    /// `eucora.unit.v1`: one consumption unit.
    Unit,
    /// `eucora.pack.v1`: an evidence pack.
    Pack,
    /// `eucora.audit.v1`: an audit-log entry.
    Audit,
    /// `eucora.proposal.v1`: an agent proposal.
    Proposal,
    /// `eucora.policy.v1`: a policy document (DESIGN C1).
    Policy,
    /// `eucora.alert.v1`: an alert's canonical `{type, subject}` (DESIGN C2).
    Alert,
    /// `eucora.recommendation.v1`: a recommendation's canonical `{type, subject}` (DESIGN C3).
    Recommendation,
    /// `eucora.agent_run.v1`: an agent run's identity (DESIGN D4).
    AgentRun,
}

impl Domain {
    /// The tag string hashed before the zero byte.
    pub fn tag(self) -> &'static str {
        match self {
            Domain::Snapshot => "eucora.snapshot.v1",
            Domain::Ruleset => "eucora.ruleset.v1",
            Domain::Import => "eucora.import.v1",
            Domain::Unit => "eucora.unit.v1",
            Domain::Pack => "eucora.pack.v1",
            Domain::Audit => "eucora.audit.v1",
            Domain::Proposal => "eucora.proposal.v1",
            Domain::Policy => "eucora.policy.v1",
            Domain::Alert => "eucora.alert.v1",
            Domain::Recommendation => "eucora.recommendation.v1",
            Domain::AgentRun => "eucora.agent_run.v1",
        }
    }
}

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest32(pub [u8; 32]);

impl Digest32 {
    /// `sha256:` followed by 64 lower-case hex digits.
    pub fn to_prefixed(&self) -> String {
        format!("sha256:{}", hex::encode(self.0))
    }

    /// Parse the `sha256:<hex>` form.
    pub fn parse_prefixed(s: &str) -> Option<Digest32> {
        let h = s.strip_prefix("sha256:")?;
        if h.len() != 64 || h.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(h, &mut out).ok()?;
        Some(Digest32(out))
    }
}

impl fmt::Display for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_prefixed())
    }
}

impl fmt::Debug for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_prefixed())
    }
}

/// Plain SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Digest32 {
    Digest32(Sha256::digest(bytes).into())
}

/// Tagged hash of `bytes` in `domain`.
///
/// ```
/// use eucora_license_core::internal::hash::{tagged, Domain};
/// let h = tagged(Domain::Import, b"");
/// assert!(h.to_prefixed().starts_with("sha256:"));
/// assert_eq!(h.to_prefixed().len(), 7 + 64);
/// ```
pub fn tagged(domain: Domain, bytes: &[u8]) -> Digest32 {
    let mut h = TaggedHasher::new(domain);
    h.update(bytes);
    h.finish()
}

/// Incremental tagged hashing, for inputs that arrive in chunks.
pub(crate) struct TaggedHasher(Sha256);

impl TaggedHasher {
    /// Start a hash in `domain`.
    pub(crate) fn new(domain: Domain) -> Self {
        let mut h = Sha256::new();
        h.update(domain.tag().as_bytes());
        h.update([0u8]);
        TaggedHasher(h)
    }

    /// Feed more bytes.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest.
    pub(crate) fn finish(self) -> Digest32 {
        Digest32(self.0.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_digests() {
        // FIPS 180-2 "abc" vector, checks the hex encoding of sha2 0.11 digests.
        assert_eq!(sha256(b"abc").to_prefixed(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // Tagged = SHA-256("eucora.ruleset.v1" || 0x00 || "abc").
        let mut manual = b"eucora.ruleset.v1".to_vec();
        manual.push(0);
        manual.extend_from_slice(b"abc");
        assert_eq!(tagged(Domain::Ruleset, b"abc"), sha256(&manual));
        assert_ne!(tagged(Domain::Ruleset, b"abc"), tagged(Domain::Snapshot, b"abc"));
    }

    #[test]
    fn prefixed_round_trip() {
        let d = sha256(b"x");
        assert_eq!(Digest32::parse_prefixed(&d.to_prefixed()), Some(d));
        assert_eq!(Digest32::parse_prefixed("sha256:00"), None);
        assert_eq!(Digest32::parse_prefixed(&d.to_prefixed().to_uppercase()), None);
    }
}
