//! TODO
pub(crate) mod diff;
pub(crate) mod explain;
