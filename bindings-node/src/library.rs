//! The library itself.

use eucora_license_core as core_;
use napi_derive::napi;

/// The library version, e.g. `"0.1.0"`.
#[napi(catch_unwind)]
pub fn version() -> String {
    core_::VERSION.to_string()
}
