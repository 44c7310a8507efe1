//! # eucora-license-governance
//!
//! DESIGN Part D: who may do what (D1, [`authorize()`]), how a change becomes
//! truth only after human approval (D2, [`propose`], [`decide`], [`apply`]),
//! and the audit chain every write leaves behind, with RFC 9162 inclusion
//! and consistency proofs an auditor checks offline (D3, [`audit`]).
//!
//! Pure, like the core: the actor, every instant and the policy are
//! arguments; nothing here reads a clock, a file or the environment. The
//! host authenticates people and stores everything; this crate decides,
//! validates and proves. Vocabularies (roles, actions, reason codes,
//! proposal kinds and states) are the core's closed enums
//! (`eucora_license_core::{Role, Action, ...}`).
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod actor;
pub mod audit;
pub mod authorize;
pub mod error;
pub mod policy;
pub mod proposal;

pub use actor::Actor;
pub use audit::{
    append, checkpoint, parse_log, prove_consistency, prove_entry, verify_log, verify_proof, Checkpoint, LogFailure, LogReport,
    ProofFailure, ProofVerdict,
};
pub use authorize::{authorize, authorize_json, Decision};
pub use error::{Error, Result};
pub use policy::{ApprovalRule, Policy};
pub use proposal::{apply, apply_json, decide, decide_json, propose, propose_json, Approval, Change, Decided, Proposal, Refusal};
