//! One module per subcommand, each with `run(args) -> ExitCode`; `pair`
//! holds the two-run arguments `diff` and `explain` share, `intel` what
//! `alerts`, `advise`, `events` and `compliance` share.

pub(crate) mod adapters;
pub(crate) mod advise;
pub(crate) mod agent;
pub(crate) mod alerts;
pub(crate) mod apply;
pub(crate) mod audit;
pub(crate) mod authorize;
pub(crate) mod compliance;
pub(crate) mod decide;
pub(crate) mod diff;
pub(crate) mod events;
pub(crate) mod explain;
mod gov;
pub(crate) mod import;
mod intel;
mod pair;
pub(crate) mod propose;
pub(crate) mod prove;
pub(crate) mod reconcile;
pub(crate) mod sidebar;
pub(crate) mod verify;
pub(crate) mod verify_proof;
