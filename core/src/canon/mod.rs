//! Layer `canon`: the canonical forms everything hashed is made of (DESIGN
//! A5, A9) — canonical JSON (RFC 8785), domain-tagged SHA-256 hashes, RFC
//! 9162 Merkle trees, exact numbers (fixed-point decimals, half-even
//! percentages), instants and dates, the deterministic tar the evidence
//! pack is written in and the pinned Zstandard frame around it (`zst`), and
//! the one ordered-merge pattern of data parallelism (`parallel`, behind an
//! explicit `threads` parameter).
//!
//! Imports: `vocab`, `error`. Knows nothing of bundles, signals or
//! snapshots.

pub(crate) mod canonical;
pub(crate) mod hash;
pub(crate) mod lines;
pub(crate) mod merkle;
pub(crate) mod numbers;
pub(crate) mod parallel;
pub(crate) mod tar;
pub(crate) mod time;
pub(crate) mod zst;
