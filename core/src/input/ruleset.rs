//! The versioned ruleset (DESIGN A2, A9): parsed strictly, hashed canonically.
//!
//! A ruleset is complete and explicit: every key is required, unknown keys
//! are errors (no silent typos), only `$schema` and `description` may be
//! added at the top level. Validation reports every problem it finds, each
//! with a JSON path and a stable code, so build tooling can print them all.

use crate::canon::canonical;
use crate::canon::hash::{tagged, Digest32, Domain};
use crate::canon::numbers::Fixed9;
use crate::error::{Error, ErrorCode, Location, Result};
use crate::input::normalize::normalize_serial_text;
use crate::vocab::RulesetIssueCode;
use serde_json::{Map, Value};

pub mod changes;

/// How a SKU mapping compares the product name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    /// The whole (lower-cased, trimmed) value is equal.
    Exact,
    /// The (lower-cased, trimmed) product starts with the value.
    Prefix,
}

/// One `sku_mappings` rule; `value` is already lower-cased and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuMapping {
    /// Exact or prefix.
    pub kind: MatchKind,
    /// Lower-cased, trimmed comparison value.
    pub value: String,
    /// Target catalog SKU id.
    pub sku: String,
}

/// How overlapping concurrent sessions are grouped before merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DupGroup {
    /// No merging.
    None,
    /// Overlapping sessions of one user merge.
    User,
    /// Overlapping sessions of one (user, host) merge.
    UserHost,
}

/// A validated ruleset.
#[derive(Debug, Clone)]
pub struct Ruleset {
    /// Ruleset id.
    pub id: String,
    /// Increasing version (≥ 1).
    pub version: i64,
    /// Lookback for `assignment` signals, days.
    pub lookback_assignment: i64,
    /// Lookback for `installation` signals, days.
    pub lookback_installation: i64,
    /// Lookback for `usage` signals, days.
    pub lookback_usage: i64,
    /// Signals below this confidence are excluded (`low_confidence`).
    pub min_confidence: Fixed9,
    /// Counted signals below this confidence are flagged `needs_review`.
    pub review_confidence: Fixed9,
    /// Serial values treated as missing, normalised like serials.
    pub serial_placeholders: Vec<String>,
    /// Whether a hostname-only signal may join a device known by strong hints.
    pub hostname_fallback: bool,
    /// Whether `DOMAIN\name` becomes `name`.
    pub strip_netbios_domain: bool,
    /// Ordered product → SKU rules; the first match wins.
    pub sku_mappings: Vec<SkuMapping>,
    /// Concurrent peak window, days.
    pub window_days: i64,
    /// Session grouping for merging.
    pub dup_group: DupGroup,
    /// Under-utilisation threshold, percent.
    pub under_utilized_percent: i64,
    /// A source is degraded when its count falls below (100 − this)% of the previous.
    pub degraded_drop_percent: i64,
    /// Per-file reject threshold, percent.
    pub max_reject_percent: i64,
    /// Sidebar staleness factor.
    pub stale_factor: i64,
    /// Inactivity threshold for the advisor, days.
    pub inactivity_days: i64,
    /// Expiry notice days.
    pub expiry_notice_days: Vec<i64>,
    /// The document as given.
    pub document: Value,
    /// `eucora.ruleset.v1` hash of the canonical document.
    pub hash: Digest32,
}

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RulesetIssue {
    /// JSON path, e.g. `$.concurrent.window_days`.
    pub path: String,
    /// Stable code: `invalid_json`, `missing_key`, `unknown_key`, `wrong_type`,
    /// `out_of_range`, `unknown_sku`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

struct Checker {
    issues: Vec<RulesetIssue>,
}

impl Checker {
    fn issue(&mut self, path: &str, code: &'static str, message: impl Into<String>) {
        self.issues.push(RulesetIssue { path: path.to_string(), code, message: message.into() });
    }

    /// Check that `obj` has exactly `required` (plus `optional`) keys.
    fn keys<'a>(&mut self, path: &str, v: &'a Value, required: &[&str], optional: &[&str]) -> Option<&'a Map<String, Value>> {
        let Some(obj) = v.as_object() else {
            self.issue(path, RulesetIssueCode::WrongType.name(), "expected an object");
            return None;
        };
        for k in required {
            if !obj.contains_key(*k) {
                self.issue(&format!("{path}.{k}"), RulesetIssueCode::MissingKey.name(), format!("required key `{k}` is missing"));
            }
        }
        let mut unknown: Vec<&String> = obj.keys().filter(|k| !required.contains(&k.as_str()) && !optional.contains(&k.as_str())).collect();
        unknown.sort();
        for k in unknown {
            // A key is named when it looks like a name (never a value, never
            // something shaped like a token: docs/semantics.md).
            if crate::error::is_displayable_name(k) {
                self.issue(&format!("{path}.{k}"), RulesetIssueCode::UnknownKey.name(), format!("unknown key `{k}`"));
            } else {
                self.issue(path, RulesetIssueCode::UnknownKey.name(), "unknown key (not shown: it does not look like a name)");
            }
        }
        Some(obj)
    }

    fn int(&mut self, path: &str, v: Option<&Value>, min: i64) -> i64 {
        let Some(v) = v else { return min };
        match v.as_i64() {
            Some(i) if i < min => {
                self.issue(path, RulesetIssueCode::OutOfRange.name(), format!("must be an integer ≥ {min}"));
                min
            }
            Some(i) if i > canonical::MAX_SAFE_INTEGER => {
                self.issue(path, RulesetIssueCode::OutOfRange.name(), "must be at most 2^53−1");
                min
            }
            Some(i) => i,
            None if v.as_u64().is_some() => {
                self.issue(path, RulesetIssueCode::OutOfRange.name(), "must be at most 2^53−1");
                min
            }
            None => {
                self.issue(path, RulesetIssueCode::WrongType.name(), "expected an integer");
                min
            }
        }
    }

    fn confidence(&mut self, path: &str, v: Option<&Value>) -> Fixed9 {
        let Some(v) = v else { return Fixed9::ZERO };
        let Some(s) = v.as_str() else {
            self.issue(path, RulesetIssueCode::WrongType.name(), "expected a decimal string such as \"0.5\"");
            return Fixed9::ZERO;
        };
        match Fixed9::parse(s) {
            Some(f) if f >= Fixed9::ZERO && f <= Fixed9::ONE => f,
            Some(_) => {
                self.issue(path, RulesetIssueCode::OutOfRange.name(), "must be between 0 and 1");
                Fixed9::ZERO
            }
            None => {
                self.issue(path, RulesetIssueCode::WrongType.name(), "expected a decimal string such as \"0.5\"");
                Fixed9::ZERO
            }
        }
    }

    fn bool(&mut self, path: &str, v: Option<&Value>) -> bool {
        match v {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.issue(path, RulesetIssueCode::WrongType.name(), "expected true or false");
                false
            }
        }
    }

    fn string(&mut self, path: &str, v: Option<&Value>) -> String {
        match v {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                self.issue(path, RulesetIssueCode::WrongType.name(), "expected a string");
                String::new()
            }
        }
    }
}

/// Validate a ruleset document. `sku_exists` answers whether a SKU id is in
/// the catalog; pass `None` to skip that check (validating a ruleset alone).
///
/// ```
/// use eucora_license_core::internal::ruleset::validate;
/// let doc: serde_json::Value = serde_json::from_str(include_str!("../../../rulesets/default/v1.json")).unwrap();
/// let rs = validate(&doc, None).unwrap();
/// assert_eq!(rs.window_days, 30);
/// let mut bad = doc.clone();
/// bad["lookback_dayz"] = serde_json::json!(1);
/// let issues = validate(&bad, None).unwrap_err();
/// assert_eq!(issues[0].code, "unknown_key");
/// assert_eq!(issues[0].path, "$.lookback_dayz");
/// ```
pub fn validate(doc: &Value, sku_exists: Option<&dyn Fn(&str) -> bool>) -> std::result::Result<Ruleset, Vec<RulesetIssue>> {
    let mut c = Checker { issues: Vec::new() };
    const TOP: [&str; 14] = [
        "id",
        "version",
        "lookback_days",
        "min_confidence",
        "review_confidence",
        "identity",
        "sku_mappings",
        "concurrent",
        "under_utilized_percent",
        "degraded_drop_percent",
        "max_reject_percent",
        "stale_factor",
        "inactivity_days",
        "expiry_notice_days",
    ];
    let Some(top) = c.keys("$", doc, &TOP, &["$schema", "description"]) else {
        return Err(c.issues);
    };
    let id = c.string("$.id", top.get("id"));
    if top.get("id").is_some_and(Value::is_string) && id.trim().is_empty() {
        c.issue("$.id", RulesetIssueCode::OutOfRange.name(), "must not be empty");
    }
    for k in ["$schema", "description"] {
        if let Some(v) = top.get(k) {
            if !v.is_string() {
                c.issue(&format!("$.{k}"), RulesetIssueCode::WrongType.name(), "expected a string");
            }
        }
    }
    let version = c.int("$.version", top.get("version"), 1);

    let (mut la, mut li, mut lu) = (0, 0, 0);
    if let Some(v) = top.get("lookback_days") {
        if let Some(o) = c.keys("$.lookback_days", v, &["assignment", "installation", "usage"], &[]) {
            la = c.int("$.lookback_days.assignment", o.get("assignment"), 0);
            li = c.int("$.lookback_days.installation", o.get("installation"), 0);
            lu = c.int("$.lookback_days.usage", o.get("usage"), 0);
        }
    }
    let min_confidence = c.confidence("$.min_confidence", top.get("min_confidence"));
    let review_confidence = c.confidence("$.review_confidence", top.get("review_confidence"));

    let (mut placeholders, mut hostname_fallback, mut strip) = (Vec::new(), false, false);
    if let Some(v) = top.get("identity") {
        if let Some(o) = c.keys("$.identity", v, &["serial_placeholders", "hostname_fallback", "strip_netbios_domain"], &[]) {
            match o.get("serial_placeholders") {
                None => {}
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        match item.as_str() {
                            Some(s) => placeholders.push(normalize_serial_text(s)),
                            None => c.issue(
                                &format!("$.identity.serial_placeholders[{i}]"),
                                RulesetIssueCode::WrongType.name(),
                                "expected a string",
                            ),
                        }
                    }
                }
                Some(_) => c.issue("$.identity.serial_placeholders", RulesetIssueCode::WrongType.name(), "expected an array of strings"),
            }
            hostname_fallback = c.bool("$.identity.hostname_fallback", o.get("hostname_fallback"));
            strip = c.bool("$.identity.strip_netbios_domain", o.get("strip_netbios_domain"));
        }
    }
    placeholders.sort();
    placeholders.dedup();

    let mut mappings = Vec::new();
    match top.get("sku_mappings") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("$.sku_mappings[{i}]");
                let Some(o) = c.keys(&p, item, &["match", "field", "value", "sku"], &[]) else { continue };
                let kind = match o.get("match").map(|m| m.as_str()) {
                    None => MatchKind::Exact,
                    Some(Some("exact")) => MatchKind::Exact,
                    Some(Some("prefix")) => MatchKind::Prefix,
                    Some(_) => {
                        c.issue(&format!("{p}.match"), RulesetIssueCode::WrongType.name(), "expected \"exact\" or \"prefix\"");
                        MatchKind::Exact
                    }
                };
                match o.get("field").map(|m| m.as_str()) {
                    None | Some(Some("product")) => {}
                    Some(_) => c.issue(&format!("{p}.field"), RulesetIssueCode::WrongType.name(), "expected \"product\""),
                }
                let value = c.string(&format!("{p}.value"), o.get("value"));
                let sku = c.string(&format!("{p}.sku"), o.get("sku"));
                if o.get("sku").is_some_and(Value::is_string) {
                    if let Some(exists) = sku_exists {
                        if !exists(sku.trim()) {
                            c.issue(
                                &format!("{p}.sku"),
                                RulesetIssueCode::UnknownSku.name(),
                                format!("SKU `{}` is not in the catalog", sku.trim()),
                            );
                        }
                    }
                }
                mappings.push(SkuMapping { kind, value: value.trim().to_lowercase(), sku: sku.trim().to_string() });
            }
        }
        Some(_) => c.issue("$.sku_mappings", RulesetIssueCode::WrongType.name(), "expected an array of mapping rules"),
    }

    let (mut window_days, mut dup_group) = (0, DupGroup::None);
    if let Some(v) = top.get("concurrent") {
        if let Some(o) = c.keys("$.concurrent", v, &["window_days", "dup_group"], &[]) {
            window_days = c.int("$.concurrent.window_days", o.get("window_days"), 0);
            dup_group = match o.get("dup_group").map(|d| d.as_str()) {
                None => DupGroup::None,
                Some(Some("none")) => DupGroup::None,
                Some(Some("user")) => DupGroup::User,
                Some(Some("user_host")) => DupGroup::UserHost,
                Some(_) => {
                    c.issue("$.concurrent.dup_group", RulesetIssueCode::WrongType.name(), "expected \"none\", \"user\" or \"user_host\"");
                    DupGroup::None
                }
            };
        }
    }
    let under = c.int("$.under_utilized_percent", top.get("under_utilized_percent"), 0);
    let degraded = c.int("$.degraded_drop_percent", top.get("degraded_drop_percent"), 0);
    let max_reject = c.int("$.max_reject_percent", top.get("max_reject_percent"), 0);
    let stale = c.int("$.stale_factor", top.get("stale_factor"), 0);
    let inactivity = c.int("$.inactivity_days", top.get("inactivity_days"), 0);
    let mut expiry = Vec::new();
    match top.get("expiry_notice_days") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                expiry.push(c.int(&format!("$.expiry_notice_days[{i}]"), Some(item), 0));
            }
        }
        Some(_) => c.issue("$.expiry_notice_days", RulesetIssueCode::WrongType.name(), "expected an array of integers"),
    }

    let bytes = match canonical::to_vec(doc) {
        Ok(b) => b,
        Err(e) => {
            c.issue("$", RulesetIssueCode::WrongType.name(), e.message().to_string());
            Vec::new()
        }
    };
    if !c.issues.is_empty() {
        return Err(c.issues);
    }
    Ok(Ruleset {
        id,
        version,
        lookback_assignment: la,
        lookback_installation: li,
        lookback_usage: lu,
        min_confidence,
        review_confidence,
        serial_placeholders: placeholders,
        hostname_fallback,
        strip_netbios_domain: strip,
        sku_mappings: mappings,
        window_days,
        dup_group,
        under_utilized_percent: under,
        degraded_drop_percent: degraded,
        max_reject_percent: max_reject,
        stale_factor: stale,
        inactivity_days: inactivity,
        expiry_notice_days: expiry,
        hash: tagged(Domain::Ruleset, &bytes),
        document: doc.clone(),
    })
}

/// Parse and validate ruleset bytes; the error lists every issue.
pub fn parse(bytes: &[u8], sku_exists: Option<&dyn Fn(&str) -> bool>) -> std::result::Result<Ruleset, Vec<RulesetIssue>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let doc: Value = crate::canon::canonical::parse_strict_slice(bytes).map_err(|e| {
        vec![RulesetIssue {
            path: "$".into(),
            code: RulesetIssueCode::InvalidJson.name(),
            message: format!("malformed JSON at line {} column {}: {}", e.line(), e.column(), crate::input::table::strip_position(&e)),
        }]
    })?;
    validate(&doc, sku_exists)
}

/// Validate ruleset bytes and describe the result as JSON, the form every
/// binding returns: `{"ok": true, "id", "version", "hash", "errors": []}` or
/// `{"ok": false, "errors": [{"path", "code", "message"}, ...]}`.
///
/// ```
/// let r = eucora_license_core::internal::ruleset::report(br#"{"id": "x"}"#, None);
/// assert_eq!(r["ok"], false);
/// assert_eq!(r["errors"][0]["code"], "missing_key");
/// ```
pub fn report(bytes: &[u8], sku_exists: Option<&dyn Fn(&str) -> bool>) -> Value {
    match parse(bytes, sku_exists) {
        Ok(rs) => serde_json::json!({"ok": true, "id": rs.id, "version": rs.version, "hash": rs.hash.to_prefixed(), "errors": []}),
        Err(issues) => serde_json::json!({"ok": false, "errors": issues}),
    }
}

/// The `eucora.ruleset.v1` hash of a ruleset document.
///
/// ```
/// let doc = serde_json::json!({"id": "x"});
/// let h = eucora_license_core::internal::ruleset::hash_document(&doc).unwrap();
/// assert!(h.to_prefixed().starts_with("sha256:"));
/// ```
pub fn hash_document(doc: &Value) -> Result<Digest32> {
    Ok(tagged(Domain::Ruleset, &canonical::to_vec(doc)?))
}

/// Turn validation issues into one engine error located in `file`.
pub fn issues_to_error(file: &str, issues: &[RulesetIssue]) -> Error {
    let first = &issues[0];
    let more = if issues.len() > 1 { format!(" (and {} more)", issues.len() - 1) } else { String::new() };
    Error::new(ErrorCode::InvalidRuleset, format!("{} [{}]{}", first.message, first.code, more))
        .at(Location::file(file).with_field(first.path.clone()))
}

impl Ruleset {
    /// Map a product name to a SKU id: first matching rule wins; the product
    /// is compared lower-cased and trimmed.
    pub fn map_product(&self, normalized_product: &str) -> Option<&str> {
        self.sku_mappings
            .iter()
            .find(|m| match m.kind {
                MatchKind::Exact => normalized_product == m.value,
                MatchKind::Prefix => normalized_product.starts_with(&m.value),
            })
            .map(|m| m.sku.as_str())
    }

    /// Lookback of a kind in days, for kinds that have one.
    pub fn lookback_days(&self, kind: crate::vocab::Kind) -> Option<i64> {
        use crate::vocab::Kind;
        match kind {
            Kind::Assignment => Some(self.lookback_assignment),
            Kind::Installation => Some(self.lookback_installation),
            Kind::Usage => Some(self.lookback_usage),
            Kind::Session => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn default_doc() -> Value {
        serde_json::from_str(include_str!("../../../rulesets/default/v1.json")).unwrap()
    }

    #[test]
    fn every_key_is_required() {
        for key in default_doc().as_object().unwrap().keys() {
            if key.starts_with('$') || key == "description" {
                continue;
            }
            let mut d = default_doc();
            d.as_object_mut().unwrap().remove(key);
            let issues = validate(&d, None).unwrap_err();
            assert!(issues.iter().any(|i| i.code == "missing_key" && i.path == format!("$.{key}")), "{key}");
        }
    }

    #[test]
    fn nested_unknown_keys_and_types() {
        let mut d = default_doc();
        d["concurrent"]["window"] = json!(3);
        d["min_confidence"] = json!(0.5);
        d["version"] = json!(0);
        d["lookback_days"]["usage"] = json!(-1);
        d["review_confidence"] = json!("1.5");
        d["concurrent"]["dup_group"] = json!("host");
        let codes: Vec<(String, &str)> = validate(&d, None).unwrap_err().into_iter().map(|i| (i.path, i.code)).collect();
        for want in [
            ("$.concurrent.window".to_string(), "unknown_key"),
            ("$.min_confidence".to_string(), "wrong_type"),
            ("$.version".to_string(), "out_of_range"),
            ("$.lookback_days.usage".to_string(), "out_of_range"),
            ("$.review_confidence".to_string(), "out_of_range"),
            ("$.concurrent.dup_group".to_string(), "wrong_type"),
        ] {
            assert!(codes.contains(&want), "{want:?} not in {codes:?}");
        }
    }

    #[test]
    fn mapping_to_unknown_sku_is_invalid_and_first_match_wins() {
        let mut d = default_doc();
        d["sku_mappings"] = json!([
            {"match": "prefix", "field": "product", "value": "  Adobe ", "sku": "a"},
            {"match": "exact", "field": "product", "value": "adobe acrobat", "sku": "b"}
        ]);
        let rs = validate(&d, None).unwrap();
        assert_eq!(rs.map_product("adobe acrobat"), Some("a"));
        assert_eq!(rs.map_product("acrobat"), None);
        let only_b = |s: &str| s == "b";
        let issues = validate(&d, Some(&only_b)).unwrap_err();
        assert_eq!(issues[0].path, "$.sku_mappings[0].sku");
        assert_eq!(issues[0].code, "unknown_sku");
    }

    #[test]
    fn utf8_bom_is_accepted() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(include_bytes!("../../../rulesets/default/v1.json"));
        assert_eq!(parse(&bytes, None).unwrap().id, "default");
    }

    #[test]
    fn hash_ignores_key_order_and_whitespace() {
        let a = parse(br#"{"b":1,"a":"x"}"#, None);
        assert!(a.is_err());
        let h1 = hash_document(&json!({"b": 1, "a": "x"})).unwrap();
        let h2 = hash_document(&serde_json::from_str::<Value>("{ \"a\" : \"x\",\n \"b\":1 }").unwrap()).unwrap();
        assert_eq!(h1, h2);
    }
}
