//! Offline verification of an evidence pack.

use crate::boundary::{boundary, Failure};
use crate::convert::{bytes_of, json_text};
use eucora_license_core as core_;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// `evidence::verify`, with the replay on a second thread while the other
/// checks hash the pack (as the CLI does; the core itself stays single-threaded).
fn verify_report(pack: &[u8], previous: Option<&[u8]>) -> core_::VerifyReport {
    // Decompressed once for both; a bad frame is the archive check's report.
    let archive = core_::pack_archive(pack).unwrap_or(std::borrow::Cow::Borrowed(pack));
    let pack: &[u8] = &archive;
    std::thread::scope(|s| {
        let replay = s.spawn(|| core_::replay_pack(pack));
        core_::verify_pack_using(pack, previous, || replay.join().unwrap_or_else(|_| Err("the replay stopped on an internal error".into())))
    })
}

/// Verify an evidence pack (bytes): the report as JSON text (never raises for
/// a bad pack; the facade turns a failed report into `VerificationError`).
#[pyfunction]
#[pyo3(signature = (pack, previous=None))]
pub(crate) fn verify_pack(py: Python<'_>, pack: Bound<'_, PyBytes>, previous: Option<Bound<'_, PyBytes>>) -> PyResult<String> {
    boundary(py, || {
        let (p, prev) = (pack.as_bytes(), bytes_of(&previous));
        let report = py.detach(|| verify_report(p, prev));
        Ok(json_text(&report)?)
    })
}

/// Verify the evidence pack in the file at `path`.
#[pyfunction]
#[pyo3(signature = (path, previous=None))]
pub(crate) fn verify_pack_file(py: Python<'_>, path: &str, previous: Option<Bound<'_, PyBytes>>) -> PyResult<String> {
    boundary(py, || {
        let prev = bytes_of(&previous);
        let report = py.detach(|| std::fs::read(path).map(|bytes| verify_report(&bytes, prev)));
        let report = report.map_err(|e| Failure::invalid_input(format!("cannot read the pack `{path}`: {e}")).at_file(path))?;
        Ok(json_text(&report)?)
    })
}
