//! TODO
pub(crate) mod pack;
pub(crate) mod proof;
pub(crate) mod pseudonym;
