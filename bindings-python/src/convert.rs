//! Python values in, JSON text out.

use crate::boundary::{Failure, NResult};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

pub(crate) fn json_text(v: &impl serde::Serialize) -> NResult<String> {
    serde_json::to_string(v).map_err(|e| Failure::new("internal", format!("cannot render JSON: {e}")))
}

pub(crate) fn bytes_of<'a>(b: &'a Option<Bound<'_, PyBytes>>) -> Option<&'a [u8]> {
    b.as_ref().map(|b| b.as_bytes())
}

pub(crate) fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}
