//! TODO
pub mod manifest;
pub mod sidebar;
pub mod snapshot;
