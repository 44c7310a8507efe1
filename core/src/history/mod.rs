//! TODO
pub mod diff;
pub mod explain;
