//! The `eucora-license` binary end to end, one integration-test binary
//! with a module per area; `common` holds the setup they share.

mod agents;
mod common;
mod governance;
mod history;
mod insight;
mod reconcile;
mod reliability;
mod verify_sidebar;
