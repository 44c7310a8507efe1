//! What changed between two rulesets, in words a reviewer can read.
//!
//! Each change names the rule (a JSON path), the values before and after, and
//! a sentence about its effect on counting. `sku_mappings` is compared as the
//! ordered list it is: rules are matched by (match, value), and a rule that
//! keeps its place among the common rules but maps elsewhere is `changed`,
//! one whose place moved is `moved` (the first match wins, so order matters).

use super::{DupGroup, MatchKind, Ruleset, SkuMapping};
use serde_json::{json, Value};

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RulesetChange {
    /// JSON path of the rule, e.g. `$.lookback_days.usage` or `$.sku_mappings[2]`.
    pub path: String,
    /// `added`, `removed`, `changed` or `moved`.
    pub kind: &'static str,
    /// The value before (`null` when added).
    pub before: Value,
    /// The value after (`null` when removed).
    pub after: Value,
    /// One sentence for a reviewer.
    pub text: String,
}

/// The difference between two rulesets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RulesetDiff {
    /// Whether both documents have the same hash.
    pub identical: bool,
    /// `{id, version, hash}` of the first ruleset.
    pub before: Value,
    /// `{id, version, hash}` of the second ruleset.
    pub after: Value,
    /// Every change, in document order.
    pub changes: Vec<RulesetChange>,
}

impl RulesetDiff {
    /// The diff as text: a heading line, then one line per change.
    pub fn to_text(&self) -> String {
        let name = |v: &Value| format!("{} v{} ({})", v["id"].as_str().unwrap_or(""), v["version"], v["hash"].as_str().unwrap_or(""));
        let mut out = format!("ruleset {} -> {}", name(&self.before), name(&self.after));
        if self.identical {
            out.push_str(": identical\n");
            return out;
        }
        out.push_str(&format!(": {} change{}\n", self.changes.len(), if self.changes.len() == 1 { "" } else { "s" }));
        for c in &self.changes {
            out.push_str(&format!("  {} {}: {}\n", c.kind, c.path.trim_start_matches("$."), c.text));
        }
        out
    }
}

fn doc_at<'a>(rs: &'a Ruleset, path: &[&str]) -> &'a Value {
    let mut v = &rs.document;
    for p in path {
        v = v.get(*p).unwrap_or(&Value::Null);
    }
    v
}

fn mapping_words(m: &SkuMapping) -> String {
    match m.kind {
        MatchKind::Exact => format!("products equal to `{}` map to `{}`", m.value, m.sku),
        MatchKind::Prefix => format!("products starting with `{}` map to `{}`", m.value, m.sku),
    }
}

fn dup_group_words(d: DupGroup) -> &'static str {
    match d {
        DupGroup::None => "overlapping sessions never merge (dup_group none)",
        DupGroup::User => "overlapping sessions of one user merge across hosts (dup_group user)",
        DupGroup::UserHost => "overlapping sessions of one user on one host merge (dup_group user_host)",
    }
}

/// Compare two validated rulesets.
///
/// ```
/// use eucora_license_core::internal::ruleset::{parse, changes::diff};
/// let a = parse(include_bytes!("../../../../rulesets/default/v1.json"), None).unwrap();
/// let mut doc = a.document.clone();
/// doc["version"] = serde_json::json!(2);
/// doc["lookback_days"]["usage"] = serde_json::json!(60);
/// let b = eucora_license_core::internal::ruleset::validate(&doc, None).unwrap();
/// let d = diff(&a, &b);
/// assert!(!d.identical);
/// assert_eq!(d.changes[1].path, "$.lookback_days.usage");
/// assert_eq!(d.changes[1].text, "usage signals count for 60 days before as_of, was 90");
/// ```
pub fn diff(a: &Ruleset, b: &Ruleset) -> RulesetDiff {
    let mut changes = Vec::new();
    let mut scalar = |path: &[&str], text: String| {
        let (before, after) = (doc_at(a, path).clone(), doc_at(b, path).clone());
        if before != after {
            let kind = match (&before, &after) {
                (Value::Null, _) => "added",
                (_, Value::Null) => "removed",
                _ => "changed",
            };
            changes.push(RulesetChange { path: format!("$.{}", path.join(".")), kind, before, after, text });
        }
    };
    scalar(&["id"], format!("the ruleset id is `{}`, was `{}`", b.id, a.id));
    scalar(&["version"], format!("version {}, was {}", b.version, a.version));
    for (kind, x, y) in [
        ("assignment", a.lookback_assignment, b.lookback_assignment),
        ("installation", a.lookback_installation, b.lookback_installation),
        ("usage", a.lookback_usage, b.lookback_usage),
    ] {
        scalar(&["lookback_days", kind], format!("{kind} signals count for {y} days before as_of, was {x}"));
    }
    scalar(
        &["min_confidence"],
        format!(
            "signals below confidence {} are excluded (low_confidence), was below {}",
            b.min_confidence.to_canonical_string(),
            a.min_confidence.to_canonical_string()
        ),
    );
    scalar(
        &["review_confidence"],
        format!(
            "counted signals below confidence {} are flagged needs_review, was below {}",
            b.review_confidence.to_canonical_string(),
            a.review_confidence.to_canonical_string()
        ),
    );
    scalar(
        &["identity", "hostname_fallback"],
        if b.hostname_fallback {
            "a signal known only by a hostname joins the one device that carries that hostname beside a serial or device id".into()
        } else {
            "a signal known only by a hostname is a device of its own, even when one device carries that hostname".into()
        },
    );
    scalar(
        &["identity", "strip_netbios_domain"],
        if b.strip_netbios_domain {
            "`DOMAIN\\name` users count as `name`".into()
        } else {
            "`DOMAIN\\name` users keep their domain".into()
        },
    );
    scalar(
        &["concurrent", "window_days"],
        format!("the concurrent peak is taken over the last {} days, was {}", b.window_days, a.window_days),
    );
    scalar(&["concurrent", "dup_group"], format!("{}, was: {}", dup_group_words(b.dup_group), dup_group_words(a.dup_group)));
    scalar(
        &["under_utilized_percent"],
        format!(
            "a SKU is under_utilized when less than {}% of its entitlement is consumed, was {}%",
            b.under_utilized_percent, a.under_utilized_percent
        ),
    );
    scalar(
        &["degraded_drop_percent"],
        format!(
            "a source is degraded when it sends fewer than {}% of its previous signals, was {}%",
            100 - b.degraded_drop_percent.min(100),
            100 - a.degraded_drop_percent.min(100)
        ),
    );
    scalar(
        &["max_reject_percent"],
        format!("a run fails closed when a file rejects more than {}% of its rows, was {}%", b.max_reject_percent, a.max_reject_percent),
    );
    scalar(&["stale_factor"], format!("the sidebar turns stale after {} schedule intervals, was {}", b.stale_factor, a.stale_factor));
    scalar(&["inactivity_days"], format!("a principal is inactive after {} days, was {}", b.inactivity_days, a.inactivity_days));
    scalar(
        &["expiry_notice_days"],
        format!("expiry notices {:?} days before the end, were {:?}", b.expiry_notice_days, a.expiry_notice_days),
    );
    scalar(&["description"], "the description changed (no effect on counting; the hash changes)".into());
    scalar(&["$schema"], "`$schema` changed (no effect on counting; the hash changes)".into());

    // Serial placeholders: a set (normalised like serials).
    for s in &a.serial_placeholders {
        if !b.serial_placeholders.contains(s) {
            changes.push(RulesetChange {
                path: "$.identity.serial_placeholders".into(),
                kind: "removed",
                before: json!(s),
                after: Value::Null,
                text: format!("serial `{s}` is a real serial again (no longer a placeholder)"),
            });
        }
    }
    for s in &b.serial_placeholders {
        if !a.serial_placeholders.contains(s) {
            changes.push(RulesetChange {
                path: "$.identity.serial_placeholders".into(),
                kind: "added",
                before: Value::Null,
                after: json!(s),
                text: format!("serial `{s}` is treated as missing (a placeholder)"),
            });
        }
    }

    // SKU mappings: an ordered list, matched by (match, value).
    let key = |m: &SkuMapping| (m.kind == MatchKind::Prefix, m.value.clone());
    let rule_doc = |rs: &Ruleset, i: usize| doc_at(rs, &["sku_mappings"]).get(i).cloned().unwrap_or(Value::Null);
    let common_a: Vec<usize> =
        (0..a.sku_mappings.len()).filter(|&i| b.sku_mappings.iter().any(|m| key(m) == key(&a.sku_mappings[i]))).collect();
    let common_b: Vec<usize> =
        (0..b.sku_mappings.len()).filter(|&j| a.sku_mappings.iter().any(|m| key(m) == key(&b.sku_mappings[j]))).collect();
    for (i, m) in a.sku_mappings.iter().enumerate() {
        if !common_a.contains(&i) {
            changes.push(RulesetChange {
                path: format!("$.sku_mappings[{i}]"),
                kind: "removed",
                before: rule_doc(a, i),
                after: Value::Null,
                text: format!("rule {} is gone: {} no more", i + 1, mapping_words(m)),
            });
        }
    }
    for (rank_b, &j) in common_b.iter().enumerate() {
        let mb = &b.sku_mappings[j];
        let Some(rank_a) = common_a.iter().position(|&i| key(&a.sku_mappings[i]) == key(mb)) else { continue };
        let i = common_a[rank_a];
        let ma = &a.sku_mappings[i];
        if ma.sku != mb.sku {
            changes.push(RulesetChange {
                path: format!("$.sku_mappings[{j}]"),
                kind: "changed",
                before: rule_doc(a, i),
                after: rule_doc(b, j),
                text: format!("{} instead of `{}`", mapping_words(mb), ma.sku),
            });
        }
        if rank_a != rank_b {
            changes.push(RulesetChange {
                path: format!("$.sku_mappings[{j}]"),
                kind: "moved",
                before: rule_doc(a, i),
                after: rule_doc(b, j),
                text: format!("rule {} is now rule {} (the first matching rule wins): {}", i + 1, j + 1, mapping_words(mb)),
            });
        }
    }
    for (j, m) in b.sku_mappings.iter().enumerate() {
        if !common_b.contains(&j) {
            changes.push(RulesetChange {
                path: format!("$.sku_mappings[{j}]"),
                kind: "added",
                before: Value::Null,
                after: rule_doc(b, j),
                text: format!("new rule {}: {}", j + 1, mapping_words(m)),
            });
        }
    }

    let identical = a.hash == b.hash;
    if !identical && changes.is_empty() {
        // Every key is compared above; this only guards against a key added
        // to the ruleset without a sentence here.
        changes.push(RulesetChange {
            path: "$".into(),
            kind: "changed",
            before: Value::Null,
            after: Value::Null,
            text: "the documents differ".into(),
        });
    }
    let head = |rs: &Ruleset| json!({"id": rs.id, "version": rs.version, "hash": rs.hash.to_prefixed()});
    RulesetDiff { identical, before: head(a), after: head(b), changes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::ruleset::validate;

    fn default_doc() -> Value {
        serde_json::from_str(include_str!("../../../../rulesets/default/v1.json")).unwrap()
    }

    fn changes(edit: impl FnOnce(&mut Value), base: impl FnOnce(&mut Value)) -> Vec<(String, &'static str, String)> {
        let mut a = default_doc();
        base(&mut a);
        let mut b = a.clone();
        edit(&mut b);
        let d = diff(&validate(&a, None).unwrap(), &validate(&b, None).unwrap());
        d.changes.into_iter().map(|c| (c.path, c.kind, c.text)).collect()
    }

    #[test]
    fn same_document_in_another_order_is_identical() {
        let a = validate(&default_doc(), None).unwrap();
        let reordered: Value = serde_json::from_str(&serde_json::to_string_pretty(&default_doc()).unwrap()).unwrap();
        let d = diff(&a, &validate(&reordered, None).unwrap());
        assert!(d.identical && d.changes.is_empty());
        assert!(d.to_text().ends_with(": identical\n"));
    }

    #[test]
    fn scalars_and_placeholders_in_words() {
        let c = changes(
            |d| {
                d["min_confidence"] = json!("0.65");
                d["concurrent"]["dup_group"] = json!("none");
                d["identity"]["hostname_fallback"] = json!(false);
                d["identity"]["serial_placeholders"] = json!(["0", "N/A", "Chassis Serial"]);
            },
            |_| {},
        );
        let texts: Vec<&str> = c.iter().map(|(_, _, t)| t.as_str()).collect();
        assert_eq!(c[0].0, "$.min_confidence");
        assert_eq!(texts[0], "signals below confidence 0.65 are excluded (low_confidence), was below 0.5");
        assert!(texts.contains(&"a signal known only by a hostname is a device of its own, even when one device carries that hostname"));
        assert!(texts.iter().any(|t| t.starts_with("overlapping sessions never merge (dup_group none), was:")));
        assert!(texts.contains(&"serial `CHASSISSERIAL` is treated as missing (a placeholder)"));
        assert!(texts.contains(&"serial `DEFAULTSTRING` is a real serial again (no longer a placeholder)"));
    }

    #[test]
    fn mappings_added_removed_retargeted_and_moved() {
        let base = |d: &mut Value| {
            d["sku_mappings"] = json!([
                {"match": "exact", "field": "product", "value": "Visio", "sku": "visio"},
                {"match": "prefix", "field": "product", "value": "adobe acrobat", "sku": "acrobat"},
                {"match": "prefix", "field": "product", "value": "adobe", "sku": "cc"}
            ]);
        };
        let c = changes(
            |d| {
                d["sku_mappings"] = json!([
                    {"match": "prefix", "field": "product", "value": "Adobe", "sku": "cc-all"},
                    {"match": "prefix", "field": "product", "value": "adobe acrobat", "sku": "acrobat"},
                    {"match": "exact", "field": "product", "value": "MATLAB", "sku": "matlab"}
                ]);
            },
            base,
        );
        let got: Vec<(&str, &str)> = c.iter().map(|(p, k, _)| (p.as_str(), *k)).collect();
        assert_eq!(
            got,
            vec![
                ("$.sku_mappings[0]", "removed"),
                ("$.sku_mappings[0]", "changed"),
                ("$.sku_mappings[0]", "moved"),
                ("$.sku_mappings[1]", "moved"),
                ("$.sku_mappings[2]", "added"),
            ]
        );
        assert_eq!(c[0].2, "rule 1 is gone: products equal to `visio` map to `visio` no more");
        assert_eq!(c[1].2, "products starting with `adobe` map to `cc-all` instead of `cc`");
        assert_eq!(c[2].2, "rule 3 is now rule 1 (the first matching rule wins): products starting with `adobe` map to `cc-all`");
        assert_eq!(c[4].2, "new rule 3: products equal to `matlab` map to `matlab`");
    }
}
