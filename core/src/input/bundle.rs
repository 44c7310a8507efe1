//! The bundle: one reconciliation's inputs (DESIGN A1), reached through a
//! small trait the host implements, so the engine never opens a file.
//!
//! The CLI implements [`BundleSource`] over a directory; bindings and tests
//! use [`MemoryBundle`]. Either way the engine streams each file once.

use crate::canon::time::Instant;
use crate::error::{Error, ErrorCode, Location, Result};
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
/// use eucora_license_core::{BundleSource, MemoryBundle};
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
pub(crate) fn parse_params(file: &str, doc: &Value) -> Result<RunParams> {
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
    let as_of = Instant::parse(&as_of_text)
        .map_err(|e| err("$.as_of", &format!("`as_of` must be an RFC 3339 instant with offset ({})", e.code())))?;
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

impl MemoryBundle {
    /// A bundle written as one JSON object (the in-memory form the bindings and
    /// the golden vectors share): each key is a path inside the bundle, each value
    /// the file's content, as
    ///
    /// - a string: the file's bytes are the string's UTF-8 encoding;
    /// - an array of strings: lines, each followed by `\n` (a CSV or JSON Lines
    ///   file written one row per element);
    /// - `{"base64": "..."}` (that one key): bytes in standard base64 with
    ///   padding, for content that is not UTF-8;
    /// - any other object: its RFC 8785 canonical JSON bytes (a `bundle.json`,
    ///   `catalog.json` or ruleset written inline).
    ///
    /// Paths are relative, `/`-separated, without empty, `.` or `..` segments.
    ///
    /// ```
    /// use eucora_license_core::MemoryBundle;
    /// let doc = serde_json::json!({
    ///     "bundle.json": {"run_id": "r1", "organization_id": "o"},
    ///     "entitlements.csv": ["entitlement_id,sku", "e1,a"],
    ///     "blob.bin": {"base64": "/w=="},
    /// });
    /// let b = MemoryBundle::from_json(&doc).unwrap();
    /// assert_eq!(b.get("bundle.json").unwrap(), br#"{"organization_id":"o","run_id":"r1"}"#);
    /// assert_eq!(b.get("entitlements.csv").unwrap(), b"entitlement_id,sku\ne1,a\n");
    /// assert_eq!(b.get("blob.bin").unwrap(), &[0xff]);
    /// let bad = MemoryBundle::from_json(&serde_json::json!({"../x": "y"})).unwrap_err();
    /// assert_eq!(bad.code().name(), "invalid_input");
    /// ```
    pub fn from_json(doc: &Value) -> Result<MemoryBundle> {
        let obj = doc.as_object().ok_or_else(|| {
            Error::new(ErrorCode::InvalidInput, "a bundle in JSON form is an object mapping paths to file contents")
                .at(Location::file("").with_field("$"))
        })?;
        let mut b = MemoryBundle::default();
        for (path, value) in obj {
            check_bundle_path(path)?;
            b.insert(path.clone(), file_bytes_from_json(path, value)?);
        }
        Ok(b)
    }
}

/// Check that `path` names a file inside a bundle: relative, `/`-separated,
/// no empty, `.` or `..` segment, no backslash or NUL.
pub fn check_bundle_path(path: &str) -> Result<()> {
    let ok = !path.is_empty() && !path.contains(['\\', '\0']) && path.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if ok {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::InvalidInput, "a bundle path must be relative, '/'-separated, without empty, '.' or '..' segments")
            .at(Location::file(path)))
    }
}

/// The bytes of one file of a bundle in JSON form (see [`MemoryBundle::from_json`]).
pub fn file_bytes_from_json(path: &str, value: &Value) -> Result<Vec<u8>> {
    let err = |m: &str| Error::new(ErrorCode::InvalidInput, m.to_string()).at(Location::file(path));
    match value {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Array(lines) => {
            let mut out = Vec::new();
            for line in lines {
                let Some(s) = line.as_str() else { return Err(err("a file given as an array must hold only strings (its lines)")) };
                out.extend_from_slice(s.as_bytes());
                out.push(b'\n');
            }
            Ok(out)
        }
        Value::Object(m) if m.len() == 1 && m.contains_key("base64") => match m["base64"].as_str().and_then(decode_base64) {
            Some(bytes) => Ok(bytes),
            None => Err(err("`base64` must be a string in standard base64 with padding")),
        },
        Value::Object(_) => {
            crate::canon::canonical::to_vec(value).map_err(|e| err(&format!("cannot write the object as canonical JSON: {}", e.message())))
        }
        _ => Err(err("a file's content must be a string, an array of lines, {\"base64\": ...} or a JSON object")),
    }
}

/// Decode standard base64 (RFC 4648 §4, `=` padding required, no white space).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = s.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.len() / 4;
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != chunks) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | val(c)?;
        }
        n <<= 6 * pad as u32;
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        // Bits beyond the last byte must be zero (canonical encoding).
        if (pad == 1 && three[2] != 0) || (pad == 2 && three[1] != 0) {
            return None;
        }
        out.extend_from_slice(&three[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_round_trips_and_refuses_malformed() {
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("Zg==").unwrap(), b"f");
        assert_eq!(decode_base64("Zm8=").unwrap(), b"fo");
        assert_eq!(decode_base64("Zm9v").unwrap(), b"foo");
        assert_eq!(decode_base64("/+8A").unwrap(), [0xff, 0xef, 0x00]);
        for bad in ["Zg=", "Zg===", "Z===", "Zg==Zg==", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "Zm-_"] {
            assert!(decode_base64(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn json_form_paths_and_values() {
        for bad in ["", "/abs", "a//b", "./a", "a/../b", "a\\b", "a/"] {
            let e = MemoryBundle::from_json(&json!({ bad: "x" })).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidInput, "{bad:?}");
        }
        for bad in [json!(1), json!(null), json!(true), json!(["a", 1]), json!({"base64": 1}), json!({"x": 1.5})] {
            let e = MemoryBundle::from_json(&json!({ "f": bad })).unwrap_err();
            assert_eq!(e.location().unwrap().file, "f");
        }
        assert!(MemoryBundle::from_json(&json!([])).is_err());
        let b = MemoryBundle::from_json(&json!({"signals/a.csv": [], "x.json": {"b": [1], "a": "é"}})).unwrap();
        assert_eq!(b.get("signals/a.csv").unwrap(), b"");
        assert_eq!(b.get("x.json").unwrap(), "{\"a\":\"é\",\"b\":[1]}".as_bytes());
    }
}
