//! Layer `input`: bytes to checked data. The bundle and its parameters,
//! CSV/JSON tables, the catalog with entitlements, pools and directory (and
//! their integrity rules), the ruleset (+ `ruleset/changes`), canonical
//! signals with their import jobs, the source adapters, identity
//! normalisation (`normalize`: signals, adapters and the ruleset normalise as
//! they read) and the interner the signal tables use.
//!
//! Imports: `vocab`, `error`, `canon`. The shared row vocabulary (signal
//! kinds and statuses, the canonical columns, row errors) lives in
//! `crate::vocab`, so `signals`, `adapters` and `ruleset` do not import each
//! other in a cycle: `signals` uses `adapters` and `ruleset`, never the
//! reverse.

pub(crate) mod adapters;
pub(crate) mod bundle;
pub(crate) mod catalog;
pub(crate) mod intern;
pub(crate) mod normalize;
pub(crate) mod ruleset;
pub(crate) mod signals;
pub(crate) mod table;
