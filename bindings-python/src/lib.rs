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

// Errors are the cold path and become Python exceptions at once: their size
// does not matter, boxing them would only add noise.
#![allow(clippy::result_large_err)]

use eucora_license_core::MemoryBundle;
use eucora_license_core::{self as core_, Error as CoreError, RunStatus};
use eucora_license_dir::{outdir, DirBundle};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// Errors

/// An error on its way to Python: the engine's stable code, message, location
/// and, for some families, extra details as JSON (failed run report, ruleset
/// issues, verification report).
struct Failure {
    code: String,
    message: String,
    file: Option<String>,
    line: Option<u64>,
    field: Option<String>,
    details: Option<String>,
}

impl Failure {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Failure { code: code.to_string(), message: message.into(), file: None, line: None, field: None, details: None }
    }

    fn invalid_input(message: impl Into<String>) -> Self {
        Failure::new("invalid_input", message)
    }

    fn from_core(e: &CoreError) -> Self {
        let mut f = Failure::new(e.code().name(), e.message());
        if let Some(loc) = e.location() {
            f.file = Some(loc.file.clone()).filter(|s| !s.is_empty());
            f.line = loc.line;
            f.field = loc.field.clone();
        }
        f
    }

    fn with_details(mut self, details: String) -> Self {
        self.details = Some(details);
        self
    }

    fn into_pyerr(self, py: Python<'_>) -> PyErr {
        let built = py
            .import("eucora_license._errors")
            .and_then(|m| m.getattr("_from_native"))
            .and_then(|ctor| ctor.call1((self.code, self.message, self.file, self.line, self.field, self.details)));
        match built {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        }
    }
}

type NResult<T> = Result<T, Failure>;

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Run one entry point: a panic anywhere inside (engine or binding code,
/// with or without the GIL) becomes `InternalError`; a `Failure` becomes the
/// Python exception of its family; a Python exception passes through.
fn boundary<T>(py: Python<'_>, f: impl FnOnce() -> Result<T, Raise>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(Raise::Failure(failure))) => Err(failure.into_pyerr(py)),
        Ok(Err(Raise::Python(e))) => Err(e),
        Err(payload) => {
            Err(Failure::new("internal", format!("internal error in the engine (a bug; please report it): {}", panic_message(payload)))
                .into_pyerr(py))
        }
    }
}

/// What an entry point may raise.
enum Raise {
    Failure(Failure),
    Python(PyErr),
}

impl From<Failure> for Raise {
    fn from(f: Failure) -> Self {
        Raise::Failure(f)
    }
}

impl From<PyErr> for Raise {
    fn from(e: PyErr) -> Self {
        Raise::Python(e)
    }
}

fn json_text(v: &impl serde::Serialize) -> NResult<String> {
    serde_json::to_string(v).map_err(|e| Failure::new("internal", format!("cannot render JSON: {e}")))
}

// ---------------------------------------------------------------------------
// Bundles

// A bundle directory on disk is read by `eucora_license_dir::DirBundle` (the
// same rules as the CLI's): every regular file below the root except
// dot-files; paths stay inside the bundle. A run is written into an output
// directory by `eucora_license_dir::outdir` (`Outcome.write_run`).

/// A run's outcome, kept whole so that the evidence pack can be written later.
#[pyclass(frozen, module = "eucora_license._native", name = "Outcome")]
struct Outcome {
    inner: core_::Outcome,
}

fn bytes_of<'a>(b: &'a Option<Bound<'_, PyBytes>>) -> Option<&'a [u8]> {
    b.as_ref().map(|b| b.as_bytes())
}

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
    let details = serde_json::json!({"report": out.report});
    Err(failure.with_details(json_text(&details)?))
}

/// Reconcile the bundle directory at `path`, chained to `previous` (snapshot bytes).
#[pyfunction]
#[pyo3(signature = (path, previous=None))]
fn reconcile_dir(py: Python<'_>, path: &str, previous: Option<Bound<'_, PyBytes>>) -> PyResult<Outcome> {
    boundary(py, || {
        let root = PathBuf::from(path);
        if !root.is_dir() {
            return Err(Failure::invalid_input(format!("`{path}` is not a bundle directory")).into());
        }
        let prev = bytes_of(&previous);
        let out = py.detach(|| core_::reconcile(&DirBundle::new(&root), prev));
        Ok(outcome_or_failure(out)?)
    })
}

/// Reconcile a bundle given as `{path: bytes}` (the directory layout of DESIGN A1).
#[pyfunction]
#[pyo3(signature = (files, previous=None))]
fn reconcile_files(py: Python<'_>, files: Bound<'_, PyDict>, previous: Option<Bound<'_, PyBytes>>) -> PyResult<Outcome> {
    boundary(py, || {
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
        let out = py.detach(|| core_::reconcile(&bundle, prev));
        Ok(outcome_or_failure(out)?)
    })
}

impl Failure {
    fn at_file(mut self, file: &str) -> Self {
        self.file = Some(file.to_string());
        self
    }
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// Writes to a Python file-like object in chunks, taking the GIL only for
/// each `write` call. The first Python exception is kept and re-raised.
struct PyWriter {
    file: Py<PyAny>,
    buf: Vec<u8>,
    chunk: usize,
    /// Shared with the caller: the writer is dropped inside the engine when a write fails.
    error: std::sync::Arc<std::sync::Mutex<Option<PyErr>>>,
    failed: bool,
    written: u64,
}

impl PyWriter {
    fn flush_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = Python::attach(|py| -> PyResult<()> {
            let file = self.file.bind(py);
            let mut start = 0;
            while start < self.buf.len() {
                let chunk = PyBytes::new(py, &self.buf[start..]);
                let n = file.call_method1("write", (chunk,))?;
                // Raw files may write less than asked; buffered ones return None or the length.
                let n: Option<usize> = if n.is_none() { None } else { Some(n.extract()?) };
                match n {
                    Some(0) => return Err(pyo3::exceptions::PyOSError::new_err("write() wrote 0 bytes")),
                    Some(n) => start += n,
                    None => start = self.buf.len(),
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => {
                self.written += self.buf.len() as u64;
                self.buf.clear();
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                if let Ok(mut slot) = self.error.lock() {
                    slot.get_or_insert(e);
                }
                Err(io::Error::other("the file object's write() raised"))
            }
        }
    }
}

impl Write for PyWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other("the file object's write() raised"));
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.chunk {
            self.flush_buf()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buf()
    }
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
        boundary(py, || Ok(json_text(&self.inner.report)?))
    }

    /// `run_report.json` exactly as the CLI writes it (pretty JSON and a newline).
    fn report_file_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        boundary(py, || {
            let mut v = serde_json::to_vec_pretty(&self.inner.report).map_err(|e| Failure::new("internal", e.to_string()))?;
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

    /// The evidence pack in memory: (tar bytes, pack hash).
    fn pack_bytes<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyBytes>, String)> {
        boundary(py, || {
            let r = py.detach(|| core_::write_pack(&self.inner, Vec::new()));
            let (bytes, hash) = r.map_err(|e| Failure::from_core(&e))?;
            Ok((PyBytes::new(py, &bytes), hash.to_prefixed()))
        })
    }

    /// Stream the evidence pack into `file` (anything with `write(bytes)`),
    /// `chunk_size` bytes per call; the GIL is held only during the calls.
    /// Returns (pack hash, bytes written).
    #[pyo3(signature = (file, chunk_size=1 << 20))]
    fn write_pack(&self, py: Python<'_>, file: Py<PyAny>, chunk_size: usize) -> PyResult<(String, u64)> {
        boundary(py, || {
            let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
            let chunk = chunk_size.max(1);
            let writer = PyWriter { file, buf: Vec::with_capacity(chunk), chunk, error: slot.clone(), failed: false, written: 0 };
            let r = py.detach(move || {
                let (mut w, hash) = core_::write_pack(&self.inner, writer)?;
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
    #[pyo3(signature = (directory, pack=true))]
    fn write_run(&self, py: Python<'_>, directory: &str, pack: bool) -> PyResult<()> {
        boundary(py, || {
            let root = Path::new(directory);
            let outputs = outdir::RunOutputs { pack, shared: None };
            py.detach(|| outdir::write_run_to(root, &self.inner, outputs))
                .map_err(|e| Raise::Python(PyErr::from(io::Error::new(e.kind(), format!("cannot write to {directory}: {e}")))))
        })
    }
}

/// The bytes of a past run's output directory (its `evidence.tar`, else its
/// `snapshot.json`), read under the directory's lock after an interrupted
/// run's switch is finished, as the CLI reads `--previous <dir>` (the shared
/// `eucora_license_dir::outdir::read_run`). The GIL is released while
/// waiting and reading. `what` names the argument in the error.
#[pyfunction]
fn read_run_dir<'py>(py: Python<'py>, path: &str, what: &str) -> PyResult<Bound<'py, PyBytes>> {
    boundary(py, || {
        let read = py.detach(|| outdir::read_run(Path::new(path), None));
        let (_, bytes) = read.map_err(|msg| {
            let why = msg.strip_prefix("cannot read ").unwrap_or(&msg);
            Failure::invalid_input(format!("cannot read the {what} run directory `{path}`: {why}")).at_file(path)
        })?;
        Ok(PyBytes::new(py, &bytes))
    })
}

// ---------------------------------------------------------------------------
// Verification, snapshots, proofs, sidebar

/// `evidence::verify`, with the replay on a second thread while the other
/// checks hash the pack (as the CLI does; the core itself stays single-threaded).
fn verify_report(pack: &[u8], previous: Option<&[u8]>) -> core_::VerifyReport {
    std::thread::scope(|s| {
        let replay = s.spawn(|| core_::replay_pack(pack));
        core_::verify_pack_using(pack, previous, || replay.join().unwrap_or_else(|_| Err("the replay stopped on an internal error".into())))
    })
}

/// Verify an evidence pack (bytes): the report as JSON text (never raises for
/// a bad pack; the facade turns a failed report into `VerificationError`).
#[pyfunction]
#[pyo3(signature = (pack, previous=None))]
fn verify_pack(py: Python<'_>, pack: Bound<'_, PyBytes>, previous: Option<Bound<'_, PyBytes>>) -> PyResult<String> {
    boundary(py, || {
        let (p, prev) = (pack.as_bytes(), bytes_of(&previous));
        let report = py.detach(|| verify_report(p, prev));
        Ok(json_text(&report)?)
    })
}

/// Verify the evidence pack in the file at `path`.
#[pyfunction]
#[pyo3(signature = (path, previous=None))]
fn verify_pack_file(py: Python<'_>, path: &str, previous: Option<Bound<'_, PyBytes>>) -> PyResult<String> {
    boundary(py, || {
        let prev = bytes_of(&previous);
        let report = py.detach(|| std::fs::read(path).map(|bytes| verify_report(&bytes, prev)));
        let report = report.map_err(|e| Failure::invalid_input(format!("cannot read the pack `{path}`: {e}")).at_file(path))?;
        Ok(json_text(&report)?)
    })
}

fn parse_snapshot(bytes: &[u8]) -> NResult<core_::Snapshot> {
    core_::Snapshot::parse_verified(bytes).map_err(|e| Failure::from_core(&e))
}

/// Check snapshot bytes (any JSON layout) against their `snapshot_hash`:
/// (canonical bytes, hash).
#[pyfunction]
fn load_snapshot<'py>(py: Python<'py>, data: Bound<'py, PyBytes>) -> PyResult<(Bound<'py, PyBytes>, String)> {
    boundary(py, || {
        let s = parse_snapshot(data.as_bytes())?;
        Ok((PyBytes::new(py, s.canonical_bytes()), s.hash().to_prefixed()))
    })
}

/// One SKU's inclusion proof (JSON text).
#[pyfunction]
fn prove(py: Python<'_>, snapshot: Bound<'_, PyBytes>, sku: &str) -> PyResult<String> {
    boundary(py, || {
        let s = parse_snapshot(snapshot.as_bytes())?;
        let p = core_::prove(&s, sku).map_err(|e| Failure::from_core(&e))?;
        Ok(json_text(&p)?)
    })
}

/// Check a proof (JSON bytes); raises `VerificationError` when it does not
/// hold. With `snapshot_hash` (a hash the caller trusts) or `snapshot` (the
/// snapshot's bytes), the proof must be of that snapshot.
#[pyfunction]
#[pyo3(signature = (proof, snapshot_hash=None, snapshot=None))]
fn verify_proof(
    py: Python<'_>,
    proof: Bound<'_, PyBytes>,
    snapshot_hash: Option<&str>,
    snapshot: Option<Bound<'_, PyBytes>>,
) -> PyResult<()> {
    boundary(py, || {
        let v: serde_json::Value =
            serde_json::from_slice(proof.as_bytes()).map_err(|e| Failure::invalid_input(format!("the proof is not JSON: {e}")))?;
        let checked = match (snapshot_hash, &snapshot) {
            (Some(h), _) => core_::verify_proof_against(&v, h),
            (None, Some(s)) => core_::verify_proof_with_snapshot(&v, s.as_bytes()),
            (None, None) => core_::verify_proof(&v),
        };
        checked.map_err(|why| {
            let mut f =
                Failure::new("verification_failed", format!("the proof of `{}` does not verify: {why}", v["sku"].as_str().unwrap_or("")));
            f.field = Some("proof".into());
            f
        })?;
        Ok(())
    })
}

/// The sidebar state (JSON text).
#[pyfunction]
#[pyo3(signature = (snapshot, last_run, now, schedule_interval_secs, stale_factor))]
fn sidebar(
    py: Python<'_>,
    snapshot: Option<Bound<'_, PyBytes>>,
    last_run: Option<Bound<'_, PyBytes>>,
    now: &str,
    schedule_interval_secs: i64,
    stale_factor: i64,
) -> PyResult<String> {
    boundary(py, || {
        let now = core_::Instant::parse(now)
            .map_err(|e| Failure::invalid_input(format!("`now` must be an RFC 3339 instant with offset ({})", e.code())))?;
        if schedule_interval_secs <= 0 {
            return Err(Failure::invalid_input("schedule_interval must be positive").into());
        }
        if stale_factor < 0 {
            return Err(Failure::invalid_input("stale_factor must not be negative").into());
        }
        let snap = match &snapshot {
            Some(b) => Some(parse_snapshot(b.as_bytes())?),
            None => None,
        };
        let run: Option<serde_json::Value> = match &last_run {
            Some(b) => Some(
                serde_json::from_slice(b.as_bytes())
                    .map_err(|e| Failure::invalid_input(format!("the last run report is not JSON: {e}")))?,
            ),
            None => None,
        };
        // The checked form: another organization's report, a document that is
        // no run report or an overflowing schedule is an error, never a state.
        let state = core_::try_sidebar(&core_::SidebarInput {
            latest_success: snap.as_ref().map(|s| s.value()),
            last_run: run.as_ref(),
            now,
            schedule_interval_secs,
            stale_factor,
        })
        .map_err(|e| Failure::from_core(&e))?;
        Ok(json_text(&state)?)
    })
}

/// What changed between two runs (each a snapshot's or an evidence pack's
/// bytes): JSON `{"summary": <diff>, "units": <diff.json unit lists> | null}`.
/// The unit lists come with a current run given as a pack that directly
/// follows the previous one (the CLI's `diff --json`).
#[pyfunction]
fn diff(py: Python<'_>, previous: Bound<'_, PyBytes>, current: Bound<'_, PyBytes>) -> PyResult<String> {
    boundary(py, || {
        let (p, c) = (previous.as_bytes(), current.as_bytes());
        let out = py.detach(|| -> Result<serde_json::Value, CoreError> {
            let (prev, _) = core_::open_run(p)?;
            let (cur, detail) = core_::open_run(c)?;
            let summary = core_::diff_between(&prev, &cur)?;
            let consecutive = summary["previous_hash"].as_str() == Some(prev.hash().to_prefixed().as_str()) && summary["basis"] == "units";
            let units = if consecutive { detail.filter(|d| d["previous_hash"] == summary["previous_hash"]) } else { None };
            Ok(serde_json::json!({"summary": summary, "units": units}))
        });
        Ok(json_text(&out.map_err(|e| Failure::from_core(&e))?)?)
    })
}

/// Why one SKU's numbers changed between two consecutive runs, in words
/// (the CLI's `explain`); every number comes from the diff.
#[pyfunction]
fn explain(py: Python<'_>, previous: Bound<'_, PyBytes>, current: Bound<'_, PyBytes>, sku: &str) -> PyResult<String> {
    boundary(py, || {
        let (p, c) = (previous.as_bytes(), current.as_bytes());
        let text = py.detach(|| -> Result<String, CoreError> {
            let (prev, _) = core_::open_run(p)?;
            let (cur, detail) = core_::open_run(c)?;
            core_::explain(&prev, &cur, detail.as_ref(), sku)
        });
        Ok(text.map_err(|e| Failure::from_core(&e))?)
    })
}

// ---------------------------------------------------------------------------
// Rulesets

/// Validate ruleset bytes; `sku_ids`, when given, are the catalog's SKU ids
/// that mappings may name. Returns `{"id", "version", "hash"}` as JSON text.
#[pyfunction]
#[pyo3(signature = (data, sku_ids=None))]
fn validate_ruleset(py: Python<'_>, data: Bound<'_, PyBytes>, sku_ids: Option<Vec<String>>) -> PyResult<String> {
    boundary(py, || {
        let known: Option<std::collections::BTreeSet<String>> = sku_ids.map(|v| v.into_iter().collect());
        let exists = |id: &str| known.as_ref().is_some_and(|k| k.contains(id));
        let check: Option<&dyn Fn(&str) -> bool> = if known.is_some() { Some(&exists) } else { None };
        match core_::parse_ruleset(data.as_bytes(), check) {
            Ok(rs) => Ok(json_text(&serde_json::json!({"id": rs.id, "version": rs.version, "hash": rs.hash.to_prefixed()}))?),
            Err(issues) => {
                let e = core_::ruleset_issues_to_error("", &issues);
                let mut f = Failure::from_core(&e);
                f.file = None;
                Err(f.with_details(json_text(&serde_json::json!({"issues": issues}))?).into())
            }
        }
    })
}

/// The `eucora.ruleset.v1` hash of a ruleset document (JSON bytes).
#[pyfunction]
fn hash_ruleset(py: Python<'_>, data: Bound<'_, PyBytes>) -> PyResult<String> {
    boundary(py, || {
        let bytes = data.as_bytes();
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let doc: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| Failure::new("invalid_ruleset", format!("malformed JSON at line {} column {}", e.line(), e.column())))?;
        let h = core_::ruleset_hash(&doc).map_err(|e| Failure::from_core(&e))?;
        Ok(h.to_prefixed())
    })
}

// ---------------------------------------------------------------------------
// Adapters

/// Run a source adapter over raw export files: (canonical signals as JSONL
/// bytes, report JSON text with jobs, identity facts and observations) — the
/// CLI's `import` stdout and stderr.
#[pyfunction]
fn import_files<'py>(
    py: Python<'py>,
    adapter: &str,
    files: Bound<'py, PyList>,
    options: Bound<'py, PyDict>,
) -> PyResult<(Bound<'py, PyBytes>, String)> {
    use core_::{run_adapter, AdapterOptions, InputFile};
    boundary(py, || {
        let mut inputs = Vec::new();
        for item in files.iter() {
            let t = item.cast::<PyTuple>().map_err(|_| Failure::invalid_input("files must be (name, bytes) pairs"))?;
            let (name, data): (String, Bound<'_, PyAny>) = t.extract()?;
            let data = data
                .cast::<PyBytes>()
                .map_err(|_| Failure::invalid_input(format!("file `{name}` must be bytes, not {}", type_name(&data))).at_file(&name))?;
            inputs.push(InputFile { path: name, bytes: data.as_bytes().to_vec() });
        }
        let mut opts = AdapterOptions::new();
        for (k, v) in options.iter() {
            let (k, v): (String, String) = (
                k.extract()?,
                v.extract().map_err(|_| Failure::invalid_input(format!("option `{k}` must be a str, not {}", type_name(&v))))?,
            );
            opts.insert(k, v);
        }
        inputs.sort_by(|a, b| a.path.cmp(&b.path));
        let (adapter, out) = py.detach(|| run_adapter(adapter, &inputs, &opts)).map_err(|e| Failure::from_core(&e))?;
        let mut jsonl = Vec::new();
        for (_, row) in &out.signals {
            let line = core_::canonical_bytes_of(row).map_err(|e| Failure::from_core(&e))?;
            jsonl.extend_from_slice(&line);
            jsonl.push(b'\n');
        }
        let jobs: Vec<serde_json::Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let signals = out.signals.iter().filter(|(o, _)| o.file == i).count();
                let errors: Vec<&core_::RowError> = out.rejected.iter().filter(|(file, _)| *file == i).map(|(_, e)| e).collect();
                serde_json::json!({
                    "adapter": adapter.name(), "adapter_version": adapter.version(), "path": f.path,
                    "input_hash": core_::tagged_hash(core_::Domain::Import, &f.bytes).to_prefixed(),
                    "records": out.records.get(i).copied().unwrap_or(0), "signals": signals,
                    "rejected": errors.len(), "errors": errors,
                    "notes": out.notes.iter().filter(|(file, _)| *file == i).map(|(_, n)| n).collect::<Vec<_>>(),
                })
            })
            .collect();
        let report = serde_json::json!({
            "adapter": adapter.name(), "adapter_version": adapter.version(), "source": adapter.source(),
            "jobs": jobs, "directory": out.directory, "entitlement_observations": out.observations,
        });
        Ok((PyBytes::new(py, &jsonl), json_text(&report)?))
    })
}

/// Every adapter: (name, version, source, option keys).
#[pyfunction]
fn adapters() -> Vec<(&'static str, &'static str, &'static str, Vec<&'static str>)> {
    core_::adapters().iter().map(|a| (a.name(), a.version(), a.source(), a.option_keys().to_vec())).collect()
}

/// Every stable error code: (number, name).
#[pyfunction]
fn error_codes() -> Vec<(u32, &'static str)> {
    core_::ErrorCode::ALL.iter().map(|c| (c.number(), c.name())).collect()
}

/// Panics inside the boundary, with or without the GIL: for the tests that
/// show a panic surfaces as `InternalError`, never as `PanicException`.
#[pyfunction]
#[pyo3(signature = (message, release_gil=false))]
fn _panic_for_tests(py: Python<'_>, message: &str, release_gil: bool) -> PyResult<()> {
    boundary(py, || -> Result<(), Raise> {
        if release_gil {
            py.detach(|| panic!("{message}"))
        } else {
            panic!("{message}")
        }
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", core_::VERSION)?;
    m.add_class::<Outcome>()?;
    m.add_function(wrap_pyfunction!(reconcile_dir, m)?)?;
    m.add_function(wrap_pyfunction!(reconcile_files, m)?)?;
    m.add_function(wrap_pyfunction!(read_run_dir, m)?)?;
    m.add_function(wrap_pyfunction!(verify_pack, m)?)?;
    m.add_function(wrap_pyfunction!(verify_pack_file, m)?)?;
    m.add_function(wrap_pyfunction!(load_snapshot, m)?)?;
    m.add_function(wrap_pyfunction!(prove, m)?)?;
    m.add_function(wrap_pyfunction!(verify_proof, m)?)?;
    m.add_function(wrap_pyfunction!(sidebar, m)?)?;
    m.add_function(wrap_pyfunction!(diff, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(validate_ruleset, m)?)?;
    m.add_function(wrap_pyfunction!(hash_ruleset, m)?)?;
    m.add_function(wrap_pyfunction!(import_files, m)?)?;
    m.add_function(wrap_pyfunction!(adapters, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    Ok(())
}
