//! The bundle: one reconciliation's inputs (DESIGN A1), reached through a
//! small trait the host implements, so the engine never opens a file.
//!
//! The CLI implements [`BundleSource`] over a directory; bindings and tests
//! use [`MemoryBundle`]. Either way the engine streams each file once.

use crate::error::{Error, ErrorCode, Location, Result};
use crate::time::Instant;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{self, Read};

/// Read access to a bundle's files, by '/'-separated path relative to the
/// bundle root (e.g. `signals/intune.csv`).
pub trait BundleSource {
    /// Every file path in the bundle (any order; the engine sorts).
    fn paths(&self) -> io::Result<Vec<String>>;
    /// Open one file for reading.
    fn open(&self, path: &str) -> io::Result<Box<dyn Read + '_>>;
}

/// A bundle held in memory: path → bytes.
///
/// ```
/// use eucora_license_core::bundle::{BundleSource, MemoryBundle};
/// let mut b = MemoryBundle::default();
/// b.insert("catalog.json", br#"{"vendors":[],"skus":[]}"#.to_vec());
/// assert_eq!(b.paths().unwrap(), vec!["catalog.json".to_string()]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryBundle {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryBundle {
    /// Add or replace a file.
    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.files.insert(path.into(), bytes);
    }

    /// Remove a file.
    pub fn remove(&mut self, path: &str) -> Option<Vec<u8>> {
        self.files.remove(path)
    }

    /// A file's bytes.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// All files.
    pub fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }
}

impl BundleSource for MemoryBundle {
    fn paths(&self) -> io::Result<Vec<String>> {
        Ok(self.files.keys().cloned().collect())
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + '_>> {
        self.files
            .get(path)
            .map(|b| Box::new(b.as_slice()) as Box<dyn Read + '_>)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{path}: no such file in the bundle")))
    }
}

/// The run parameters of `bundle.json`.
#[derive(Debug, Clone)]
pub struct RunParams {
    /// Organization whose snapshot chain this run extends.
    pub organization_id: String,
    /// The instant the snapshot describes.
    pub as_of: Instant,
    /// Host-chosen run id.
    pub run_id: String,
    /// Ruleset file named by the bundle, if any.
    pub ruleset: Option<String>,
    /// Sources expected to report (drives coverage).
    pub expected_sources: Vec<String>,
    /// Schedule interval in hours (for the sidebar).
    pub schedule_interval_hours: i64,
    /// Options per adapter folder (`imports/<adapter>/`), e.g.
    /// `{"sccm-metering": {"utc_offset": "+01:00"}}`.
    pub adapter_options: BTreeMap<String, BTreeMap<String, String>>,
}

/// Parse `bundle.json`.
pub fn parse_params(file: &str, doc: &Value) -> Result<RunParams> {
    let err = |field: &str, msg: &str| Error::new(ErrorCode::InvalidInput, msg.to_string()).at(Location::file(file).with_field(field));
    let obj = doc.as_object().ok_or_else(|| err("$", "expected a JSON object"))?;
    let text = |k: &str, required: bool| -> Result<Option<String>> {
        match obj.get(k) {
            None | Some(Value::Null) if !required => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            _ => Err(err(&format!("$.{k}"), &format!("`{k}` must be a non-empty string"))),
        }
    };
    let organization_id = text("organization_id", true)?.unwrap_or_default();
    let run_id = text("run_id", true)?.unwrap_or_default();
    let as_of_text = text("as_of", true)?.unwrap_or_default();
    let as_of = Instant::parse(&as_of_text).map_err(|e| {
        err("$.as_of", &format!("`as_of` must be an RFC 3339 instant with offset ({})", e.code()))
    })?;
    let ruleset = text("ruleset", false)?;
    let expected_sources = match obj.get("expected_sources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => {
            let mut v = Vec::new();
            for (i, s) in a.iter().enumerate() {
                match s.as_str().map(str::trim) {
                    Some(s) if !s.is_empty() => v.push(s.to_string()),
                    _ => return Err(err(&format!("$.expected_sources[{i}]"), "expected a non-empty string")),
                }
            }
            v.sort();
            v.dedup();
            v
        }
        Some(_) => return Err(err("$.expected_sources", "expected an array of source names")),
    };
    let schedule_interval_hours = match obj.get("schedule_interval_hours") {
        None | Some(Value::Null) => 24,
        Some(v) => match v.as_i64() {
            Some(h) if h > 0 => h,
            _ => return Err(err("$.schedule_interval_hours", "expected a positive integer")),
        },
    };
    let mut adapter_options = BTreeMap::new();
    match obj.get("adapter_options") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (adapter, opts) in m {
                let path = format!("$.adapter_options.{adapter}");
                let Some(opts) = opts.as_object() else { return Err(err(&path, "expected an object of option strings")) };
                let mut o = BTreeMap::new();
                for (k, v) in opts {
                    let Some(v) = v.as_str() else { return Err(err(&format!("{path}.{k}"), "expected a string")) };
                    o.insert(k.clone(), v.to_string());
                }
                adapter_options.insert(adapter.clone(), o);
            }
        }
        Some(_) => return Err(err("$.adapter_options", "expected an object keyed by adapter name")),
    }
    Ok(RunParams { organization_id, as_of, run_id, ruleset, expected_sources, schedule_interval_hours, adapter_options })
}
