//! Errors, the last-error slot and the panic boundary: every exported body
//! runs under `boundary`, which turns its `Fail` into a status code and a
//! last error, and a panic into `EUCORA_LICENSE_INTERNAL`.

use crate::status::{EUCORA_LICENSE_INTERNAL, EUCORA_LICENSE_INVALID_ARGUMENT, EUCORA_LICENSE_OK};
use eucora_license_core::Error as CoreError;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub(crate) struct Fail {
    pub(crate) code: i32,
    message: String,
}

impl Fail {
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Self {
        Fail { code, message: message.into() }
    }

    pub(crate) fn arg(message: impl Into<String>) -> Self {
        Fail::new(EUCORA_LICENSE_INVALID_ARGUMENT, message)
    }
}

impl From<CoreError> for Fail {
    fn from(e: CoreError) -> Self {
        Fail::new(e.code().number() as i32, e.to_string())
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, Fail>;

thread_local! {
    static LAST_ERROR: RefCell<(i32, String)> = const { RefCell::new((EUCORA_LICENSE_OK, String::new())) };
}

fn set_last_error(code: i32, message: String) {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = (code, message));
}

/// Run one exported body: its `Fail` becomes the status code and the last
/// error; a panic becomes `EUCORA_LICENSE_INTERNAL`. The last error is left
/// alone on success (read it right after the failing call, like `errno`).
pub(crate) fn boundary(function: &str, body: impl FnOnce() -> FfiResult) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => EUCORA_LICENSE_OK,
        Ok(Err(fail)) => {
            let code = fail.code;
            set_last_error(code, format!("{function}: {}", fail.message));
            code
        }
        Err(_) => {
            set_last_error(EUCORA_LICENSE_INTERNAL, format!("{function}: internal error (a bug in the library; please report it)"));
            EUCORA_LICENSE_INTERNAL
        }
    }
}

/// The code of the last failed call on this thread.
pub(crate) fn last_error_code() -> i32 {
    LAST_ERROR.with(|slot| slot.borrow().0)
}

/// The message of the last failed call on this thread.
pub(crate) fn last_error_message() -> String {
    LAST_ERROR.with(|slot| slot.borrow().1.clone())
}
