//! TODO
pub(crate) mod manifest;
pub(crate) mod sidebar;
pub(crate) mod snapshot;
