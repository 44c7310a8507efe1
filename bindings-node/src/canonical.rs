//! RFC 8785 canonical JSON.

use crate::boundary::{guard, Failure};
use crate::convert::json_arg;
use eucora_license_core as core_;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;

/// RFC 8785 canonical form of a JSON document (text, Buffer or object).
/// Throws `invalid_input` for malformed JSON and `non_canonical` for a float
/// or an integer beyond ±(2^53−1).
#[napi(catch_unwind, ts_args_type = "json: string | Uint8Array | object")]
pub fn canonicalize(env: Env, json: Unknown<'_>) -> napi::Result<String> {
    guard(&env, || {
        let bytes = json_arg(&env, &json, "json")?;
        let out = core_::canonicalize(&bytes)?;
        String::from_utf8(out).map_err(|_| Failure::new("internal", "canonical JSON is not UTF-8"))
    })
}
