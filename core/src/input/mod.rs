//! TODO
pub(crate) mod adapters;
pub(crate) mod bundle;
pub(crate) mod catalog;
pub(crate) mod intern;
pub(crate) mod normalize;
pub(crate) mod ruleset;
pub(crate) mod signals;
pub(crate) mod table;
