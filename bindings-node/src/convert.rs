//! JavaScript arguments into Rust values: every argument is taken as
//! `unknown` and checked here, so a wrong type is a coded `invalid_argument`.

use crate::boundary::{Failure, NResult};
use eucora_license_core as core_;
use eucora_license_core::MemoryBundle;
use napi::bindgen_prelude::*;
use napi::{Env, JsValue, ValueType};
use serde_json::Value;

pub(crate) fn type_name(v: &Unknown<'_>) -> &'static str {
    match v.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Object) if v.is_array().unwrap_or(false) => "an array",
        Ok(ValueType::Object) => "an object",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::BigInt) => "a bigint",
        _ => "an unknown value",
    }
}

fn is_absent(v: &Unknown<'_>) -> bool {
    matches!(v.get_type(), Ok(ValueType::Undefined | ValueType::Null))
}

/// Bytes of a Buffer or Uint8Array, if `v` is one.
pub(crate) fn binary(v: &Unknown<'_>) -> NResult<Option<Vec<u8>>> {
    if v.is_buffer()? {
        // SAFETY: `is_buffer` said it is one.
        let b: BufferSlice = unsafe { v.cast() }?;
        return Ok(Some(b.to_vec()));
    }
    if v.is_typedarray()? {
        let a = Uint8Array::from_unknown(*v).map_err(|_| Failure::arg("only Uint8Array and Buffer are accepted as bytes"))?;
        return Ok(Some(a.to_vec()));
    }
    Ok(None)
}

pub(crate) fn string_arg(v: &Unknown<'_>, what: &str) -> NResult<String> {
    if v.get_type()? != ValueType::String {
        return Err(Failure::arg(format!("`{what}` must be a string, got {}", type_name(v))));
    }
    // SAFETY: the type was checked.
    Ok(unsafe { v.cast::<String>() }?)
}

/// A JSON document given as text, bytes, or a plain object/array.
pub(crate) fn json_arg(env: &Env, v: &Unknown<'_>, what: &str) -> NResult<Vec<u8>> {
    match v.get_type()? {
        // SAFETY: the type was checked.
        ValueType::String => Ok(unsafe { v.cast::<String>() }?.into_bytes()),
        ValueType::Object => {
            if let Some(bytes) = binary(v)? {
                return Ok(bytes);
            }
            let value: Value = env.from_js_value(*v).map_err(|e| Failure::arg(format!("`{what}` cannot be read as JSON: {}", e.reason)))?;
            serde_json::to_vec(&value).map_err(|e| Failure::arg(format!("`{what}` cannot be written as JSON: {e}")))
        }
        _ => Err(Failure::arg(format!("`{what}` must be JSON text, a Buffer or an object, got {}", type_name(v)))),
    }
}

pub(crate) fn optional_json_arg(env: &Env, v: Option<&Unknown<'_>>, what: &str) -> NResult<Option<Vec<u8>>> {
    match v {
        Some(v) if !is_absent(v) => json_arg(env, v, what).map(Some),
        _ => Ok(None),
    }
}

/// A property of an options object (`undefined` when absent); the options
/// themselves may be `undefined` or `null`.
pub(crate) fn option<'env>(options: Option<&Unknown<'env>>, key: &str) -> NResult<Option<Unknown<'env>>> {
    let Some(o) = options.filter(|o| !is_absent(o)) else { return Ok(None) };
    if o.get_type()? != ValueType::Object || o.is_array()? {
        return Err(Failure::arg(format!("options must be an object, got {}", type_name(o))));
    }
    // SAFETY: the type was checked.
    let obj: Object = unsafe { o.cast() }?;
    let v: Unknown = obj.get_named_property(key)?;
    Ok((!is_absent(&v)).then_some(v))
}

pub(crate) fn optional_i64(options: Option<&Unknown<'_>>, key: &str) -> NResult<Option<i64>> {
    let Some(v) = option(options, key)? else { return Ok(None) };
    if v.get_type()? != ValueType::Number {
        return Err(Failure::arg(format!("`{key}` must be a number, got {}", type_name(&v))));
    }
    // SAFETY: the type was checked.
    let n: f64 = unsafe { v.cast() }?;
    if n.fract() != 0.0 || !n.is_finite() || n.abs() > 9_007_199_254_740_991.0 {
        return Err(Failure::arg(format!("`{key}` must be an integer")));
    }
    Ok(Some(n as i64))
}

/// An optional boolean option (`true`/`false`; absent is `None`).
pub(crate) fn optional_bool(options: Option<&Unknown<'_>>, key: &str) -> NResult<Option<bool>> {
    let Some(v) = option(options, key)? else { return Ok(None) };
    if v.get_type()? != ValueType::Boolean {
        return Err(Failure::arg(format!("`{key}` must be a boolean, got {}", type_name(&v))));
    }
    // SAFETY: the type was checked.
    let b: bool = unsafe { v.cast() }?;
    Ok(Some(b))
}

/// A bundle given as an object: path → string | Buffer | string[] | object
/// (the JSON form of `MemoryBundle::from_json`, with Buffers for bytes).
pub(crate) fn files_arg(env: &Env, v: &Unknown<'_>) -> NResult<MemoryBundle> {
    if v.get_type()? != ValueType::Object || v.is_array()? || binary(v)?.is_some() {
        return Err(Failure::arg(format!("`files` must be an object mapping bundle paths to contents, got {}", type_name(v))));
    }
    // SAFETY: the type was checked.
    let obj: Object = unsafe { v.cast() }?;
    let mut bundle = MemoryBundle::default();
    for path in Object::keys(&obj)? {
        core_::check_bundle_path(&path)?;
        let value: Unknown = obj.get_named_property(&path)?;
        let bytes = match binary(&value)? {
            Some(b) => b,
            None => {
                let doc: Value = match value.get_type()? {
                    ValueType::String | ValueType::Object => {
                        env.from_js_value(value).map_err(|e| Failure::arg(format!("file `{path}` cannot be read: {}", e.reason)))?
                    }
                    _ => {
                        return Err(Failure::arg(format!(
                            "file `{path}` must be a string, a Buffer, an array of lines or an object, got {}",
                            type_name(&value)
                        )))
                    }
                };
                core_::file_bytes_from_json(&path, &doc)?
            }
        };
        bundle.insert(path, bytes);
    }
    Ok(bundle)
}

pub(crate) fn previous_option(env: &Env, options: Option<&Unknown<'_>>) -> NResult<Option<Vec<u8>>> {
    let v = option(options, "previous")?;
    optional_json_arg(env, v.as_ref(), "previous")
}
