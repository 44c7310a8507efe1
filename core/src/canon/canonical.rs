//! RFC 8785 (JCS) canonical JSON for hashed data.
//!
//! Hashed data in this project holds no floats (counts are integers, money and
//! confidences are decimal strings), so this writer accepts integers only and
//! returns [`ErrorCode::NonCanonical`] for any other number. That keeps the
//! output byte-identical to a full JCS implementation (the tests compare it with
//! one on the RFC's vectors) while never depending on float formatting.
//!
//! Keys are ordered by their UTF-16 code units, as RFC 8785 §3.2.3 requires;
//! strings are escaped as ECMAScript `JSON.stringify` does.

use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

/// Canonical bytes of a JSON value.
///
/// ```
/// use serde_json::json;
/// let bytes = eucora_license_core::internal::canonical::to_vec(&json!({"b": 1, "a": [true, null, "é"]})).unwrap();
/// assert_eq!(bytes, "{\"a\":[true,null,\"é\"],\"b\":1}".as_bytes());
/// assert!(eucora_license_core::internal::canonical::to_vec(&json!({"x": 1.5})).is_err());
/// ```
pub fn to_vec(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value)?;
    Ok(out)
}

/// Parse JSON text and return its canonical bytes: what the bindings expose
/// as `canonicalize`. Malformed JSON (or text that is not UTF-8) is
/// `invalid_input`; a float or an integer beyond ±(2^53−1) is `non_canonical`.
///
/// ```
/// let c = eucora_license_core::internal::canonical::canonicalize(br#"{ "b": [1, "\u00e9"], "a": null }"#).unwrap();
/// assert_eq!(c, "{\"a\":null,\"b\":[1,\"é\"]}".as_bytes());
/// let e = eucora_license_core::internal::canonical::canonicalize(b"{").unwrap_err();
/// assert_eq!(e.code().name(), "invalid_input");
/// ```
pub fn canonicalize(json_text: &[u8]) -> Result<Vec<u8>> {
    let value: Value = serde_json::from_slice(json_text).map_err(|e| {
        Error::new(ErrorCode::InvalidInput, format!("malformed JSON at line {} column {}: {}", e.line(), e.column(), strip_position(&e)))
    })?;
    to_vec(&value)
}

/// Canonical bytes of any serializable value (through `serde_json::Value`).
pub fn to_vec_of<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    let v = serde_json::to_value(value).map_err(|e| Error::new(ErrorCode::NonCanonical, format!("cannot serialize: {e}")))?;
    to_vec(&v)
}

/// Append the canonical form of `value` to `out`.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                write_int(out, i)?;
            } else if let Some(u) = n.as_u64() {
                if u > MAX_SAFE_INTEGER as u64 {
                    return Err(non_canonical_int(u as i128));
                }
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                return Err(Error::new(ErrorCode::NonCanonical, format!("float {n} in hashed data: use an integer or a decimal string")));
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| cmp_utf16(a, b));
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_value(out, &map[k])?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Largest integer that every JSON consumer (an IEEE double) holds exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

fn non_canonical_int(i: i128) -> Error {
    Error::new(ErrorCode::NonCanonical, format!("integer {i} is outside ±(2^53−1)"))
}

/// Write an integer, refusing values a double cannot hold exactly (JCS
/// serializes numbers as IEEE doubles).
pub(crate) fn write_int(out: &mut Vec<u8>, i: i64) -> Result<()> {
    if !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) {
        return Err(non_canonical_int(i as i128));
    }
    out.extend_from_slice(i.to_string().as_bytes());
    Ok(())
}

/// Write a JSON string with JCS escaping: `"` and `\` escaped, the control
/// characters with short forms as `\b \t \n \f \r`, other controls as
/// `\u00xx` (lower-case hex), everything else verbatim UTF-8.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    write_str_prefixed(out, "", s);
}

/// The JSON string of `prefix` followed by `s`, written without building
/// the concatenation (a device key `id:V` rendered from its parts).
pub(crate) fn write_str_prefixed(out: &mut Vec<u8>, prefix: &str, s: &str) {
    out.push(b'"');
    if !prefix.is_empty() {
        write_escaped(out, prefix);
    }
    write_escaped(out, s);
    out.push(b'"');
}

/// `s` escaped as in a JSON string (RFC 8785), without the quotes.
fn write_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            0x08 => Some(b"\\b"),
            0x09 => Some(b"\\t"),
            0x0a => Some(b"\\n"),
            0x0c => Some(b"\\f"),
            0x0d => Some(b"\\r"),
            0x00..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Order two strings by UTF-16 code units (RFC 8785 §3.2.3). Differs from
/// byte order only when one side has a character above U+FFFF facing one in
/// U+E000..=U+FFFF.
pub(crate) fn cmp_utf16(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

// ------------------------------------------------------------------------------------------
// Strict parsing: every JSON document the engine reads goes through here, so a
// duplicate key (`{"a": 1, "a": 2}`, accepted last-wins by serde_json) is an
// error with its position instead of a silent choice.

/// Parse JSON text into a [`Value`], refusing duplicate object keys. The
/// result is exactly what `serde_json::from_str` gives for every document
/// without duplicates (same maps, same numbers).
///
/// ```
/// use eucora_license_core::internal::canonical::parse_strict;
/// assert_eq!(parse_strict(r#"{"b": 1, "a": [2.5]}"#).unwrap(), serde_json::json!({"a": [2.5], "b": 1}));
/// let e = parse_strict("{\"a\": 1,\n \"a\": 2}").unwrap_err();
/// assert_eq!((e.line(), e.to_string().starts_with("duplicate key `a`")), (2, true));
/// ```
pub fn parse_strict(text: &str) -> std::result::Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let StrictValue(v) = serde::Deserialize::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// [`parse_strict`] over bytes (which must be UTF-8).
pub(crate) fn parse_strict_slice(bytes: &[u8]) -> std::result::Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let StrictValue(v) = serde::Deserialize::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// A [`Value`] deserialized with duplicate keys refused.
pub(crate) struct StrictValue(pub Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

/// The message for a duplicate key: the key when it looks like a name.
pub(crate) fn duplicate_key_message(key: &str) -> String {
    if crate::error::is_displayable_name(key) {
        format!("duplicate key `{key}`")
    } else {
        "duplicate key".to_string()
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        serde::Deserialize::deserialize(d).map(|StrictValue(v)| v)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(duplicate_key_message(&key)));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// serde_json's message without its " at line L column C" tail (the location
/// is reported separately).
pub(crate) fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.find(" at line ") {
        Some(p) => s[..p].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rejects_floats_and_unsafe_integers() {
        assert_eq!(to_vec(&json!(0.5)).unwrap_err().code(), ErrorCode::NonCanonical);
        assert_eq!(to_vec(&json!(9007199254740992u64)).unwrap_err().code(), ErrorCode::NonCanonical);
        assert_eq!(to_vec(&json!(9007199254740991u64)).unwrap(), b"9007199254740991");
        assert_eq!(to_vec(&json!(-9007199254740991i64)).unwrap(), b"-9007199254740991");
    }

    #[test]
    fn utf16_key_order_beyond_bmp() {
        // U+1F600 (surrogates D83D DE00) sorts before U+FB01 in UTF-16, after it in UTF-8.
        let v = json!({"\u{fb01}": 1, "\u{1f600}": 2, "a": 3});
        assert_eq!(String::from_utf8(to_vec(&v).unwrap()).unwrap(), "{\"a\":3,\"\u{1f600}\":2,\"\u{fb01}\":1}");
    }

    #[test]
    fn canonicalize_text_edge_cases() {
        // -0 is read as a float by serde_json: refused like every float.
        assert_eq!(canonicalize(b"-0").unwrap_err().code(), ErrorCode::NonCanonical);
        assert_eq!(canonicalize(b" [0, -1] ").unwrap(), b"[0,-1]");
        assert_eq!(canonicalize(b"\"\\ud83d\\ude00\"").unwrap(), "\"\u{1f600}\"".as_bytes());
        assert_eq!(canonicalize(b"\xff").unwrap_err().code(), ErrorCode::InvalidInput);
    }

    #[test]
    fn escapes_controls() {
        let v = json!("a\"b\\c\u{1}\u{8}\t\n\u{c}\r\u{1f}\u{7f}");
        assert_eq!(String::from_utf8(to_vec(&v).unwrap()).unwrap(), "\"a\\\"b\\\\c\\u0001\\b\\t\\n\\f\\r\\u001f\u{7f}\"");
    }
}
