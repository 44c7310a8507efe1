//! Layer `evidence`: what anyone can re-check offline — the evidence pack
//! (`pack`: writing; `verify`: offline verification; `replay`: the run
//! recomputed from the pack's own inputs), per-SKU inclusion proofs
//! (`proof`) and pseudonymised shared outcomes (`pseudonym`).
//!
//! Imports: everything below it; `run` for the replay, which recomputes the
//! run from the pack's inputs with the run layer's `compute`.

pub(crate) mod open;
pub(crate) mod pack;
pub(crate) mod proof;
pub(crate) mod pseudonym;
pub(crate) mod replay;
pub(crate) mod stream;
pub(crate) mod verify;
