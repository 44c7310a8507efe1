//! Rulesets: validate and hash.

use crate::boundary::{boundary, Failure};
use crate::convert::json_text;
use eucora_license_core as core_;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Validate ruleset bytes; `sku_ids`, when given, are the catalog's SKU ids
/// that mappings may name. Returns `{"id", "version", "hash"}` as JSON text.
#[pyfunction]
#[pyo3(signature = (data, sku_ids=None))]
pub(crate) fn validate_ruleset(py: Python<'_>, data: Bound<'_, PyBytes>, sku_ids: Option<Vec<String>>) -> PyResult<String> {
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
pub(crate) fn hash_ruleset(py: Python<'_>, data: Bound<'_, PyBytes>) -> PyResult<String> {
    boundary(py, || {
        let bytes = data.as_bytes();
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let doc: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| Failure::new("invalid_ruleset", format!("malformed JSON at line {} column {}", e.line(), e.column())))?;
        let h = core_::ruleset_hash(&doc).map_err(|e| Failure::from_core(&e))?;
        Ok(h.to_prefixed())
    })
}
