//! Source adapters: run one over raw export files, list them all.

use crate::boundary::{boundary, Failure};
use crate::convert::{json_text, type_name};
use eucora_license_core as core_;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

/// Run a source adapter over raw export files: (canonical signals as JSONL
/// bytes, report JSON text with jobs, identity facts and observations) — the
/// CLI's `import` stdout and stderr.
#[pyfunction]
pub(crate) fn import_files<'py>(
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
pub(crate) fn adapters() -> Vec<(&'static str, &'static str, &'static str, Vec<&'static str>)> {
    core_::adapters().iter().map(|a| (a.name(), a.version(), a.source(), a.option_keys().to_vec())).collect()
}
