//! C ABI of `eucora-license-core`, and of the audit verifiers of
//! `eucora-license-governance` (header `include/eucora_license.h`,
//! conventions in `docs/c-api.md`).
//!
//! Every exported function:
//! - returns a status code, `EUCORA_LICENSE_OK` (0) or an error code; the
//!   engine's error codes keep their numbers (`invalid_input` = 1, ...,
//!   `internal` = 99), the ABI adds 100-102;
//! - takes its outputs last; text goes into caller-owned buffers with a
//!   capacity and a length (query the length with a NULL buffer of capacity 0);
//! - checks every pointer: NULL where something is required is
//!   `EUCORA_LICENSE_INVALID_ARGUMENT` (a NULL, freed or foreign handle is
//!   `EUCORA_LICENSE_INVALID_HANDLE`), never a crash;
//! - runs its body under `catch_unwind`: a panic becomes
//!   `EUCORA_LICENSE_INTERNAL`, never an unwind into C;
//! - on failure, records a message for `eucora_license_last_error` (per thread).
//!
//! Handles are not pointers to Rust memory: they are ids in a registry, so a
//! freed (dangling) or made-up handle is recognised and refused instead of
//! being dereferenced. Ids are never reused.
//!
//! One file per area: `status` (the ABI's numbers), `boundary` (the panic and
//! error boundary, the last-error slot), `convert` (pointer checks and output
//! buffers), `handles` (the opaque types and their registry), then the
//! exported functions, one file per area. cbindgen reads the modules in the
//! order they are declared here, which is the order of the header.

#![deny(unsafe_op_in_unsafe_fn)]
#![allow(clippy::missing_safety_doc)] // the safety contract is the header's and docs/c-api.md's

#[cfg(panic = "abort")]
compile_error!("the C ABI turns panics into status codes: build with panic = \"unwind\"");

/// Status codes, run statuses, the ABI version.
mod status;

/// The panic and error boundary, the last-error slot.
mod boundary;

/// Pointer checks and output buffers.
mod convert;

/// The opaque handle types and their registry.
mod handles;

/// Version, last error, status names.
mod library;

/// Bundles built file by file.
mod bundle;

/// Reconciliation into an outcome handle.
mod reconcile;

/// Reading an outcome.
mod outcome;

/// Offline verification of an evidence pack.
mod verify;

/// Rulesets: hash and validate.
mod ruleset;

/// RFC 8785 canonical JSON.
mod canonical;

/// The sidebar state.
mod sidebar;

/// The audit log's verifiers: chain, checkpoint, proofs (DESIGN D3).
mod audit;

#[cfg(test)]
mod tests;

pub use audit::*;
pub use bundle::*;
pub use canonical::*;
pub use handles::{EucoraLicenseBundle, EucoraLicenseOutcome};
pub use library::*;
pub use outcome::*;
pub use reconcile::*;
pub use ruleset::*;
pub use sidebar::*;
pub use status::*;
pub use verify::*;
