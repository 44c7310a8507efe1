//! TODO
pub mod pack;
pub mod proof;
pub mod pseudonym;
