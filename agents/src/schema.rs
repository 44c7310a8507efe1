//! A small JSON Schema subset validator for structured model output:
//! `type` (object, array, string, integer, number, boolean, null, or a list
//! of them), `required`, `properties`, `additionalProperties` (false or a
//! schema), `items`, `enum`, `minItems`, `maxItems`, `minLength`. Other
//! keywords are ignored. Errors are JSON-pointer-like paths with a reason,
//! in document order, for the re-ask prompt.

use serde_json::Value;

/// Every violation of `schema` by `value` (empty: valid).
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, value, "$", &mut errors);
    errors
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => false,
    }
}

fn check(schema: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let Some(s) = schema.as_object() else { return };
    match s.get("type") {
        Some(Value::String(t)) if !type_ok(t, v) => {
            out.push(format!("{path}: expected {t}"));
            return;
        }
        Some(Value::Array(ts)) if !ts.iter().filter_map(Value::as_str).any(|t| type_ok(t, v)) => {
            out.push(format!("{path}: wrong type"));
            return;
        }
        _ => {}
    }
    if let Some(Value::Array(allowed)) = s.get("enum") {
        if !allowed.contains(v) {
            out.push(format!("{path}: not one of the allowed values"));
        }
    }
    if let Some(o) = v.as_object() {
        if let Some(Value::Array(req)) = s.get("required") {
            for k in req.iter().filter_map(Value::as_str) {
                if !o.contains_key(k) {
                    out.push(format!("{path}: missing `{k}`"));
                }
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, val) in o {
            let sub = format!("{path}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(ps, val, &sub, out),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => out.push(format!("{sub}: not allowed")),
                    Some(extra @ Value::Object(_)) => check(extra, val, &sub, out),
                    _ => {}
                },
            }
        }
    }
    if let Some(a) = v.as_array() {
        if let Some(n) = s.get("minItems").and_then(Value::as_u64) {
            if (a.len() as u64) < n {
                out.push(format!("{path}: fewer than {n} items"));
            }
        }
        if let Some(n) = s.get("maxItems").and_then(Value::as_u64) {
            if (a.len() as u64) > n {
                out.push(format!("{path}: more than {n} items"));
            }
        }
        if let Some(items) = s.get("items") {
            for (i, x) in a.iter().enumerate() {
                check(items, x, &format!("{path}[{i}]"), out);
            }
        }
    }
    if let (Some(t), Some(n)) = (v.as_str(), s.get("minLength").and_then(Value::as_u64)) {
        if (t.chars().count() as u64) < n {
            out.push(format!("{path}: shorter than {n}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_catches_each_keyword() {
        let s = json!({"type": "object", "required": ["a"], "additionalProperties": false,
                       "properties": {"a": {"type": "array", "items": {"enum": ["x", "y"]}}}});
        assert!(validate(&s, &json!({"a": ["x", "y"]})).is_empty());
        assert_eq!(validate(&s, &json!({})), vec!["$: missing `a`"]);
        assert_eq!(validate(&s, &json!({"a": ["z"], "b": 1})), vec!["$.a[0]: not one of the allowed values", "$.b: not allowed"]);
        assert_eq!(validate(&s, &json!([])), vec!["$: expected object"]);
        assert_eq!(validate(&json!({"type": "integer"}), &json!(1.5)), vec!["$: expected integer"]);
    }
}
