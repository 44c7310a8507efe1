//! Errors on their way to Python and the panic boundary every entry point
//! runs under; the exception classes themselves are Python's
//! (`eucora_license._errors`), chosen by the engine's stable error code.

use eucora_license_core::{self as core_, Error as CoreError};
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// An error on its way to Python: the engine's stable code, message, location
/// and, for some families, extra details as JSON (failed run report, ruleset
/// issues, verification report).
pub(crate) struct Failure {
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u64>,
    pub(crate) field: Option<String>,
    pub(crate) details: Option<String>,
}

impl Failure {
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Self {
        Failure { code: code.to_string(), message: message.into(), file: None, line: None, field: None, details: None }
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Failure::new("invalid_input", message)
    }

    pub(crate) fn from_core(e: &CoreError) -> Self {
        let mut f = Failure::new(e.code().name(), e.message());
        if let Some(loc) = e.location() {
            f.file = Some(loc.file.clone()).filter(|s| !s.is_empty());
            f.line = loc.line;
            f.field = loc.field.clone();
        }
        f
    }

    pub(crate) fn with_details(mut self, details: String) -> Self {
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

pub(crate) type NResult<T> = Result<T, Failure>;

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
pub(crate) fn boundary<T>(py: Python<'_>, f: impl FnOnce() -> Result<T, Raise>) -> PyResult<T> {
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
pub(crate) enum Raise {
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

impl Failure {
    pub(crate) fn at_file(mut self, file: &str) -> Self {
        self.file = Some(file.to_string());
        self
    }
}

/// Every stable error code: (number, name).
#[pyfunction]
pub(crate) fn error_codes() -> Vec<(u32, &'static str)> {
    core_::ErrorCode::ALL.iter().map(|c| (c.number(), c.name())).collect()
}

/// Every closed vocabulary of the engine: (table name, names in declaration
/// order), tables in the core's order.
#[pyfunction]
pub(crate) fn vocabulary() -> Vec<(&'static str, Vec<&'static str>)> {
    core_::vocabularies()
}

/// Panics inside the boundary, with or without the GIL: for the tests that
/// show a panic surfaces as `InternalError`, never as `PanicException`.
#[pyfunction]
#[pyo3(signature = (message, release_gil=false))]
pub(crate) fn _panic_for_tests(py: Python<'_>, message: &str, release_gil: bool) -> PyResult<()> {
    boundary(py, || -> Result<(), Raise> {
        if release_gil {
            py.detach(|| panic!("{message}"))
        } else {
            panic!("{message}")
        }
    })
}
