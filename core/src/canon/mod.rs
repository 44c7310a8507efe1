//! TODO
pub(crate) mod canonical;
pub(crate) mod hash;
pub(crate) mod merkle;
pub(crate) mod numbers;
pub(crate) mod tar;
pub(crate) mod time;
