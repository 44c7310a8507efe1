//! Layer `history`: a run against the ones before it — the previous run
//! (`diff::PreviousRun`, from a snapshot or a previous pack), the unit-level
//! and counters-only diff with reasons, and `explain` (a SKU's change in
//! words).
//!
//! Imports: everything below it (`document` for snapshots and the pack
//! layout, `engine` for fates and units, `input` for the signal store).

pub(crate) mod diff;
pub(crate) mod explain;
