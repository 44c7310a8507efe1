//! TODO
pub mod adapters;
pub mod bundle;
pub mod catalog;
pub mod intern;
pub mod normalize;
pub mod ruleset;
pub mod signals;
pub mod table;
