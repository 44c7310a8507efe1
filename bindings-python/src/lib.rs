//! `eucora_license._native`: the PyO3 layer under the `eucora_license` Python
//! package. It converts types and maps errors; every reconciliation rule lives
//! in `eucora-license-core`.
//!
//! Rules kept by every function here:
//! - the engine runs with the GIL released (`Python::detach`), so other Python
//!   threads make progress during a reconcile, a verification or pack writing;
//! - no panic crosses into Python: each entry point runs under
//!   `catch_unwind` and a panic becomes `eucora_license.InternalError`
//!   (code `internal`), never PyO3's `PanicException`;
//! - errors are raised as the Python classes of `eucora_license._errors`,
//!   chosen by the engine's stable error code.
//!
//! One file per area: `boundary` (errors and the panic boundary), `convert`
//! (arguments and JSON text), then the functions and classes by area; this
//! file only registers them in the module.

// Errors are the cold path and become Python exceptions at once: their size
// does not matter, boxing them would only add noise.
#![allow(clippy::result_large_err)]

/// `import_files`, `adapters`.
mod adapters;
/// `agent_run`, `agent_replay` (DESIGN D4).
mod agents;
/// `pack_archive`: the plain tar of a pack.
mod archive;
/// Errors on their way to Python, the panic boundary, the error-code table.
mod boundary;
/// Python values in, JSON text out.
mod convert;
/// `authorize`, `propose`, `decide`, `apply`, the audit chain (DESIGN D1–D3).
mod governance;
/// `diff`, `explain`.
mod history;
/// `alerts`, `advise`, `events`, `compliance`, `policy_identity`.
mod insight;
/// The `Outcome` class.
mod outcome;
/// `prove`, `verify_proof`.
mod proof;
/// `reconcile_dir`, `reconcile_files`, `read_run_dir`.
mod reconcile;
/// `validate_ruleset`, `hash_ruleset`.
mod ruleset;
/// `sidebar`.
mod sidebar;
/// `load_snapshot`.
mod snapshot;
/// `verify_pack`, `verify_pack_file`.
mod verify;
/// A Python file object as `io::Write`.
mod writer;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", eucora_license_core::VERSION)?;
    m.add_class::<outcome::Outcome>()?;
    m.add_function(wrap_pyfunction!(reconcile::reconcile_dir, m)?)?;
    m.add_function(wrap_pyfunction!(reconcile::reconcile_files, m)?)?;
    m.add_function(wrap_pyfunction!(reconcile::read_run_dir, m)?)?;
    m.add_function(wrap_pyfunction!(verify::verify_pack, m)?)?;
    m.add_function(wrap_pyfunction!(archive::pack_archive, m)?)?;
    m.add_function(wrap_pyfunction!(verify::verify_pack_file, m)?)?;
    m.add_function(wrap_pyfunction!(snapshot::load_snapshot, m)?)?;
    m.add_function(wrap_pyfunction!(proof::prove, m)?)?;
    m.add_function(wrap_pyfunction!(proof::verify_proof, m)?)?;
    m.add_function(wrap_pyfunction!(sidebar::sidebar, m)?)?;
    m.add_function(wrap_pyfunction!(history::diff, m)?)?;
    m.add_function(wrap_pyfunction!(history::explain, m)?)?;
    m.add_function(wrap_pyfunction!(insight::alerts, m)?)?;
    m.add_function(wrap_pyfunction!(insight::advise, m)?)?;
    m.add_function(wrap_pyfunction!(insight::events, m)?)?;
    m.add_function(wrap_pyfunction!(insight::compliance, m)?)?;
    m.add_function(wrap_pyfunction!(insight::policy_identity, m)?)?;
    m.add_function(wrap_pyfunction!(ruleset::validate_ruleset, m)?)?;
    m.add_function(wrap_pyfunction!(ruleset::hash_ruleset, m)?)?;
    m.add_function(wrap_pyfunction!(adapters::import_files, m)?)?;
    m.add_function(wrap_pyfunction!(adapters::adapters, m)?)?;
    m.add_function(wrap_pyfunction!(governance::gov_authorize, m)?)?;
    m.add_function(wrap_pyfunction!(governance::gov_propose, m)?)?;
    m.add_function(wrap_pyfunction!(governance::gov_decide, m)?)?;
    m.add_function(wrap_pyfunction!(governance::gov_apply, m)?)?;
    m.add_function(wrap_pyfunction!(governance::gov_payload_hash, m)?)?;
    m.add_function(wrap_pyfunction!(governance::audit_append, m)?)?;
    m.add_function(wrap_pyfunction!(governance::audit_verify, m)?)?;
    m.add_function(wrap_pyfunction!(governance::audit_checkpoint, m)?)?;
    m.add_function(wrap_pyfunction!(governance::audit_prove, m)?)?;
    m.add_function(wrap_pyfunction!(governance::audit_consistency, m)?)?;
    m.add_function(wrap_pyfunction!(governance::audit_verify_proof, m)?)?;
    m.add_function(wrap_pyfunction!(governance::canonical_json, m)?)?;
    m.add_function(wrap_pyfunction!(agents::agent_run, m)?)?;
    m.add_function(wrap_pyfunction!(agents::agent_replay, m)?)?;
    m.add_function(wrap_pyfunction!(boundary::error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(boundary::vocabulary, m)?)?;
    m.add_function(wrap_pyfunction!(boundary::_panic_for_tests, m)?)?;
    Ok(())
}
