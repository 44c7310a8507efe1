//! Reconciliation of a bundle directory or of `{path: bytes}`, and reading a
//! past run's output directory.

use crate::boundary::{boundary, Failure, NResult};
use crate::convert::{bytes_of, json_text, type_name};
use crate::outcome::Outcome;
use eucora_license_core::MemoryBundle;
use eucora_license_core::{self as core_, RunStatus};
use eucora_license_dir::{outdir, DirBundle};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use std::path::{Path, PathBuf};

// A bundle directory on disk is read by `eucora_license_dir::DirBundle` (the
// same rules as the CLI's): every regular file below the root except
// dot-files; paths stay inside the bundle. A run is written into an output
// directory by `eucora_license_dir::outdir` (`Outcome.write_run`).

/// Turn a failed run into the exception of its first error's family, with
/// every error and the run report attached.
fn outcome_or_failure(out: core_::Outcome) -> NResult<Outcome> {
    if out.status != RunStatus::Failed {
        return Ok(Outcome { inner: out });
    }
    let first = out.errors.first().map(Failure::from_core).unwrap_or_else(|| Failure::new("internal", "the run failed without an error"));
    let more = out.errors.len().saturating_sub(1);
    let mut failure = first;
    failure.message = format!(
        "reconciliation failed closed: {}{}",
        failure.message,
        if more > 0 { format!(" (and {more} more error{})", if more == 1 { "" } else { "s" }) } else { String::new() }
    );
    let details = serde_json::json!({"report": out.report.to_json()});
    Err(failure.with_details(json_text(&details)?))
}

/// The run options of the `threads` and `keep_units` arguments: the core's
/// one check of `threads` (`api::run_options`: at least 1, else
/// `invalid_input`); without the units, the outcome keeps only their roots.
fn run_options(threads: i64, keep_units: bool) -> NResult<core_::RunOptions> {
    let options = core_::api::run_options(threads).map_err(|e| Failure::from_core(&e))?;
    Ok(if keep_units { options } else { options.without_units() })
}

/// Reconcile the bundle directory at `path`, chained to `previous` (snapshot
/// bytes), on `threads` threads (the result does not depend on it), keeping
/// the units' bytes unless `keep_units` is false.
#[pyfunction]
#[pyo3(signature = (path, previous=None, threads=1, keep_units=true))]
pub(crate) fn reconcile_dir(
    py: Python<'_>,
    path: &str,
    previous: Option<Bound<'_, PyBytes>>,
    threads: i64,
    keep_units: bool,
) -> PyResult<Outcome> {
    boundary(py, || {
        let options = run_options(threads, keep_units)?;
        let root = PathBuf::from(path);
        if !root.is_dir() {
            return Err(Failure::invalid_input(format!("`{path}` is not a bundle directory")).into());
        }
        let prev = bytes_of(&previous);
        let out = py.detach(|| core_::reconcile_with(&DirBundle::new(&root), prev, &options));
        Ok(outcome_or_failure(out)?)
    })
}

/// Reconcile a bundle given as `{path: bytes}` (the directory layout of
/// DESIGN A1), on `threads` threads (the result does not depend on it),
/// keeping the units' bytes unless `keep_units` is false.
#[pyfunction]
#[pyo3(signature = (files, previous=None, threads=1, keep_units=true))]
pub(crate) fn reconcile_files(
    py: Python<'_>,
    files: Bound<'_, PyDict>,
    previous: Option<Bound<'_, PyBytes>>,
    threads: i64,
    keep_units: bool,
) -> PyResult<Outcome> {
    boundary(py, || {
        let options = run_options(threads, keep_units)?;
        let mut bundle = MemoryBundle::default();
        for (k, v) in files.iter() {
            let path: String = k
                .cast::<PyString>()
                .map_err(|_| Failure::invalid_input(format!("bundle file names must be str, not {}", type_name(&k))))?
                .to_str()?
                .to_string();
            let data = v
                .cast::<PyBytes>()
                .map_err(|_| Failure::invalid_input(format!("bundle file `{path}` must be bytes, not {}", type_name(&v))).at_file(&path))?;
            bundle.insert(path, data.as_bytes().to_vec());
        }
        let prev = bytes_of(&previous);
        let out = py.detach(|| core_::reconcile_with(&bundle, prev, &options));
        Ok(outcome_or_failure(out)?)
    })
}

/// The bytes of a past run's output directory (its `evidence.tar`, else its
/// `snapshot.json`), read under the directory's lock after an interrupted
/// run's switch is finished, as the CLI reads `--previous <dir>` (the shared
/// `eucora_license_dir::outdir::read_run`). The GIL is released while
/// waiting and reading. `what` names the argument in the error.
#[pyfunction]
pub(crate) fn read_run_dir<'py>(py: Python<'py>, path: &str, what: &str) -> PyResult<Bound<'py, PyBytes>> {
    boundary(py, || {
        let read = py.detach(|| outdir::read_run(Path::new(path), None));
        let (_, bytes) = read.map_err(|msg| {
            let why = msg.strip_prefix("cannot read ").unwrap_or(&msg);
            Failure::invalid_input(format!("cannot read the {what} run directory `{path}`: {why}")).at_file(path)
        })?;
        Ok(PyBytes::new(py, &bytes))
    })
}
