//! The grounding check of D4: a model narrative is
//! `{"sentences": [{"text", "fact_ids"}]}`; every number in a sentence must
//! equal one of the facts that sentence cites, else the narrative is
//! dropped (`ungrounded_narrative`) and the deterministic message is used.
//!
//! A number is a run of digits not glued to a letter, digit or `_` on
//! its left (so `E3`, `M365` and `v2` are names, not numbers) nor to a
//! letter on its right (`2nd`); it may carry `,` thousands separators (a
//! comma followed by exactly three digits), a decimal part, a leading `-`,
//! `−` or `+` (a sign only when not glued to a word on its left) and
//! currency signs (`€ $ £ ¥`) between the sign and the digits; a trailing
//! `%` (with or without a space) is dropped. `1,234`, `€1,234.00`,
//! `12.5 %` and `-5` are read as the decimals 1234, 1234, 12.5 and -5 and
//! compared exactly (trailing zeros of the fraction do not count). A fact
//! that is a number or a decimal string is that number; any other string
//! fact (a date, a name) grounds the numbers written inside it.

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The response schema of a narrative.
pub fn narrative_schema() -> Value {
    json!({
        "type": "object", "required": ["sentences"], "additionalProperties": false,
        "properties": {"sentences": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["text", "fact_ids"], "additionalProperties": false,
            "properties": {"text": {"type": "string", "minLength": 1},
                           "fact_ids": {"type": "array", "items": {"type": "string"}}}}}}
    })
}

fn is_currency(c: char) -> bool {
    matches!(c, '€' | '$' | '£' | '¥')
}

/// Normalise a decimal text (digits, optional `.digits`, optional sign).
fn normal(neg: bool, int: &str, frac: &str) -> String {
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let body = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
    if neg && body != "0" {
        format!("-{body}")
    } else {
        body
    }
}

/// Every number in `text`, normalised (see the module doc).
pub fn numbers(text: &str) -> Vec<String> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() || (i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_' || c[i - 1] == '.')) {
            i += 1;
            continue;
        }
        // Look back over currency signs for a sign.
        let mut j = i;
        while j > 0 && is_currency(c[j - 1]) {
            j -= 1;
        }
        let neg = j > 0 && matches!(c[j - 1], '-' | '−') && (j < 2 || !(c[j - 2].is_alphanumeric()));
        let mut int = String::new();
        let mut k = i;
        while k < c.len() {
            if c[k].is_ascii_digit() {
                int.push(c[k]);
                k += 1;
            } else if c[k] == ','
                && k + 3 < c.len() + 1
                && c[k + 1..].iter().take(3).filter(|d| d.is_ascii_digit()).count() == 3
                && c.get(k + 4).is_none_or(|d| !d.is_ascii_digit())
            {
                k += 1;
            } else {
                break;
            }
        }
        let mut frac = String::new();
        if k + 1 < c.len() && c[k] == '.' && c[k + 1].is_ascii_digit() {
            k += 1;
            while k < c.len() && c[k].is_ascii_digit() {
                frac.push(c[k]);
                k += 1;
            }
        }
        let glued = k < c.len() && c[k].is_alphabetic();
        if !glued {
            out.push(normal(neg, &int, &frac));
        }
        i = k.max(i + 1);
    }
    out
}

/// The numbers a fact grounds.
fn fact_numbers(v: &Value) -> Vec<String> {
    match v {
        Value::Number(n) => numbers(&n.to_string().replace('-', " -")),
        Value::String(s) => {
            let t = s.trim();
            let (neg, rest) = match t.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, t),
            };
            let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
            if !int.is_empty() && int.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit()) {
                vec![normal(neg, int, frac)]
            } else {
                numbers(s)
            }
        }
        _ => Vec::new(),
    }
}

/// Validation beyond the schema: every cited fact id exists.
pub fn cited_ids_errors(narrative: &Value, facts: &Map<String, Value>) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, s) in narrative.get("sentences").and_then(Value::as_array).into_iter().flatten().enumerate() {
        for id in s.get("fact_ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !facts.contains_key(id) {
                errors.push(format!("$.sentences[{i}].fact_ids: unknown fact id `{id}`"));
            }
        }
    }
    errors
}

/// The narrative's text when every sentence is grounded, else the first
/// ungrounded number as `Err((sentence index, number))`.
pub fn check(narrative: &Value, facts: &Map<String, Value>) -> Result<String, (usize, String)> {
    let mut texts = Vec::new();
    for (i, s) in narrative.get("sentences").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let text = s.get("text").and_then(Value::as_str).unwrap_or_default();
        let cited: BTreeSet<String> = s
            .get("fact_ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|id| facts.get(id))
            .flat_map(fact_numbers)
            .collect();
        if let Some(n) = numbers(text).into_iter().find(|n| !cited.contains(n)) {
            return Err((i, n));
        }
        texts.push(text.trim().to_string());
    }
    Ok(texts.join(" "))
}

/// The facts table given to the model: `[{"id", "value"}]`, ids sorted.
pub fn facts_table(facts: &Map<String, Value>) -> Value {
    let sorted: BTreeMap<&String, &Value> = facts.iter().collect();
    Value::Array(sorted.into_iter().map(|(k, v)| json!({"id": k, "value": v})).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalised() {
        assert_eq!(numbers("1,234 seats at €1,234.50 (12.5 %), -5 change"), vec!["1234", "1234.5", "12.5", "-5"]);
        assert_eq!(numbers("M365_E3 and v2 cost $0.10; 2nd"), vec!["0.1"]);
        assert_eq!(numbers("range 3-4"), vec!["3", "4"]);
        assert_eq!(numbers("-€5 and 007"), vec!["-5", "7"]);
    }

    #[test]
    fn grounding_accepts_cited_and_rejects_uncited() {
        let facts: Map<String, Value> = serde_json::from_str(r#"{"seats": 1234, "rate": "12.50", "day": "2026-12-01"}"#).unwrap();
        let ok = json!({"sentences": [{"text": "1,234 seats, 12.5 % used, until 2026-12-01.", "fact_ids": ["seats", "rate", "day"]}]});
        assert_eq!(check(&ok, &facts).unwrap(), "1,234 seats, 12.5 % used, until 2026-12-01.");
        let bad = json!({"sentences": [{"text": "1,235 seats.", "fact_ids": ["seats"]}]});
        assert_eq!(check(&bad, &facts), Err((0, "1235".to_string())));
        let uncited = json!({"sentences": [{"text": "1,234 seats.", "fact_ids": []}]});
        assert!(check(&uncited, &facts).is_err());
    }
}
