//! Layer `document`: the documents a run produces and a host stores — the
//! snapshot (sealed, hash-verified), the sidebar state, and the evidence
//! pack's layout (`manifest`: member names and strict member reading).
//!
//! Imports: `vocab`, `error`, `canon` (and `input`/`engine` types if a
//! document ever carries them).

pub(crate) mod diff;
pub(crate) mod manifest;
pub(crate) mod report;
pub(crate) mod schema;
pub(crate) mod sidebar;
pub(crate) mod snapshot;
