//! The `Outcome` class: a run's outcome, its documents, its evidence pack
//! and writing it to an output directory.

use crate::boundary::{boundary, Failure, Raise};
use crate::convert::json_text;
use crate::writer::PyWriter;
use eucora_license_core::{self as core_, Error as CoreError};
use eucora_license_dir::outdir;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::io::{self, Write};
use std::path::Path;

/// A run's outcome, kept whole so that the evidence pack can be written later.
#[pyclass(frozen, module = "eucora_license._native", name = "Outcome")]
pub(crate) struct Outcome {
    pub(crate) inner: core_::Outcome,
}

#[pymethods]
impl Outcome {
    /// `ok` or `degraded` (a failed run raises instead).
    #[getter]
    fn status(&self) -> &'static str {
        self.inner.status.name()
    }

    /// The snapshot's canonical (RFC 8785) bytes, as the CLI writes `snapshot.json`.
    fn snapshot_bytes<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.snapshot.as_ref().map(|s| PyBytes::new(py, s.canonical_bytes()))
    }

    /// `sha256:<hex>` of the snapshot.
    #[getter]
    fn snapshot_hash(&self) -> Option<String> {
        self.inner.snapshot.as_ref().map(|s| s.hash().to_prefixed())
    }

    /// The run report as JSON text.
    fn report_json(&self, py: Python<'_>) -> PyResult<String> {
        boundary(py, || Ok(json_text(&self.inner.report.to_json())?))
    }

    /// `run_report.json` exactly as the CLI writes it (pretty JSON and a newline).
    fn report_file_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        boundary(py, || {
            let mut v = serde_json::to_vec_pretty(&self.inner.report.to_json()).map_err(|e| Failure::new("internal", e.to_string()))?;
            v.push(b'\n');
            Ok(PyBytes::new(py, &v))
        })
    }

    /// `exceptions.jsonl`: one canonical JSON object per line.
    fn exceptions_jsonl<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.exceptions_jsonl())
    }

    /// The same run with principals and record ids pseudonymised under `key`
    /// (keyed, order-preserving hashes; same counters): its pack is the one
    /// to share outside the organisation (the CLI's `--share-key`).
    fn pseudonymise(&self, py: Python<'_>, key: Bound<'_, PyBytes>) -> PyResult<Outcome> {
        boundary(py, || {
            let key = key.as_bytes();
            let shared = py.detach(|| core_::pseudonymise(&self.inner, key)).map_err(|e| Failure::from_core(&e))?;
            Ok(Outcome { inner: shared })
        })
    }

    /// The evidence pack in memory, compressed (the CLI's form; `threads`
    /// compressor workers, same bytes for any count): (pack bytes, pack hash).
    #[pyo3(signature = (threads=1))]
    fn pack_bytes<'py>(&self, py: Python<'py>, threads: usize) -> PyResult<(Bound<'py, PyBytes>, String)> {
        boundary(py, || {
            let r = py.detach(|| core_::write_compressed_pack_threads(&self.inner, Vec::new(), threads));
            let (bytes, hash) = r.map_err(|e| Failure::from_core(&e))?;
            Ok((PyBytes::new(py, &bytes), hash.to_prefixed()))
        })
    }

    /// Stream the evidence pack into `file` (anything with `write(bytes)`),
    /// `chunk_size` bytes per call; the GIL is held only during the calls.
    /// Returns (pack hash, bytes written). Compressed, as `pack_bytes`.
    #[pyo3(signature = (file, chunk_size=1 << 20, threads=1))]
    fn write_pack(&self, py: Python<'_>, file: Py<PyAny>, chunk_size: usize, threads: usize) -> PyResult<(String, u64)> {
        boundary(py, || {
            let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
            let chunk = chunk_size.max(1);
            let writer = PyWriter { file, buf: Vec::with_capacity(chunk), chunk, error: slot.clone(), failed: false, written: 0 };
            let r = py.detach(move || {
                let (mut w, hash) = core_::write_compressed_pack_threads(&self.inner, writer, threads)?;
                w.flush().map_err(|e| CoreError::new(core_::ErrorCode::InvalidInput, format!("cannot write the pack: {e}")))?;
                Ok::<_, CoreError>((hash, w.written))
            });
            // A Python exception raised by write() is re-raised as it was.
            if let Some(pyerr) = slot.lock().ok().and_then(|mut s| s.take()) {
                return Err(Raise::Python(pyerr));
            }
            let (hash, written) = r.map_err(|e| Failure::from_core(&e))?;
            Ok((hash.to_prefixed(), written))
        })
    }

    /// Write the run into `directory` exactly as `eucora-license reconcile
    /// --out` does, through the same code (`eucora_license_dir::outdir`): the
    /// directory is locked (a concurrent writer waits), what an interrupted
    /// run left is finished or removed, the files are staged and switched in
    /// as one set through the journal; a pack it does not write is removed.
    /// The GIL is released throughout. An I/O failure raises `OSError` (its
    /// subclass by kind) naming the path; the previous set is then kept.
    /// Packs are written compressed, as the CLI writes them (`threads`
    /// compressor workers; same bytes for any count).
    #[pyo3(signature = (directory, pack=true, threads=1))]
    fn write_run(&self, py: Python<'_>, directory: &str, pack: bool, threads: usize) -> PyResult<()> {
        boundary(py, || {
            let root = Path::new(directory);
            let outputs = outdir::RunOutputs { pack, shared: None };
            let form = outdir::PackForm::Compressed { threads };
            py.detach(|| outdir::write_run_to_as(root, &self.inner, outputs, form))
                .map_err(|e| Raise::Python(PyErr::from(io::Error::new(e.kind(), format!("cannot write to {directory}: {e}")))))
        })
    }
}
