//! `@eucora/license`: the Node.js binding (napi-rs) of `eucora-license-core`.
//!
//! A thin layer: it converts JavaScript values, maps errors and runs heavy
//! work off the main thread; every rule lives in the core.
//!
//! - Every export is `#[napi(catch_unwind)]` and runs its body under
//!   `guard`: a panic becomes an `Error` with `code: "internal"`, never an
//!   abort of the Node process.
//! - Errors are `Error` objects with a stable `.code` (the engine's code names,
//!   plus `invalid_argument` for JavaScript values of the wrong type) and, when
//!   they apply, `.number`, `.file`, `.line`, `.field`, `.errors`, `.reasons`
//!   and `.report`.
//! - Arguments are taken as `unknown` and checked here, so `undefined`, a
//!   number where a string is expected or a malformed document give a coded
//!   error rather than napi's generic one.
//!
//! One file per area, as napi registers every `#[napi]` item wherever it is:
//! `boundary` (errors and the panic boundary), `convert` (JavaScript
//! arguments), then the exports by area.

#![deny(clippy::unwrap_used)]

#[cfg(panic = "abort")]
compile_error!("the Node binding turns panics into errors: build with panic = \"unwind\"");

/// `runAgent`, `replayAgent`.
mod agents;
/// Errors on their way to JavaScript and the panic boundary.
mod boundary;
/// `canonicalize`.
mod canonical;
/// JavaScript arguments into Rust values.
mod convert;
/// `authorize`, `propose`, `decide`, `apply`, `payloadHash`, `audit*`.
mod governance;
/// `alerts`, `advise`, `events`, `complianceCheck`, `policyHash`.
mod insight;
/// `version`.
mod library;
/// The `Outcome` class.
mod outcome;
/// `validatePolicy`.
mod policy;
/// `reconcile`, `reconcileFiles` and their `Async` forms.
mod reconcile;
/// `validateRuleset`, `hashRuleset`, `diffRulesets`.
mod ruleset;
/// `sidebar`.
mod sidebar;
/// `verifyPack`, `verifyPackAsync`, `packArchive`.
mod verify;

// The crate's public items, as they were at its root (the structs that only
// describe TypeScript types would otherwise be dead code).
pub use agents::{replay_agent, run_agent};
pub use boundary::Failure;
pub use canonical::canonicalize;
pub use governance::{
    apply, audit_append, audit_checkpoint, audit_consistency, audit_prove, audit_verify, audit_verify_proof, authorize, decide,
    payload_hash, propose,
};
pub use insight::{advise, alerts, compliance_check, events, policy_hash};
pub use library::{version, vocabulary, Vocabulary};
pub use outcome::{ExceptionRecord, Outcome};
pub use policy::validate_policy;
pub use reconcile::{reconcile, reconcile_async, reconcile_files, reconcile_files_async, ReconcileOptions, ReconcileTask};
pub use ruleset::{
    diff_rulesets, hash_ruleset, validate_ruleset, RulesetChange, RulesetDiff, RulesetError, RulesetHead, RulesetValidation,
    ValidateOptions,
};
pub use sidebar::{sidebar, SidebarInput, SidebarState};
pub use verify::{pack_archive, verify_pack, verify_pack_async, VerifyCheck, VerifyOptions, VerifyReport, VerifyTask};
