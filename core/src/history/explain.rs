//! Why a SKU's numbers changed, in words, from the diff's facts only.
//!
//! [`explain`] turns one SKU's diff (counts per reason from the snapshot, unit
//! lists with their sources from the pack's `diff.json` when given) into a
//! short deterministic text. Every number in it is read from the diff or the
//! two snapshots; nothing is estimated, so the text can be re-derived offline
//! like everything else.

use crate::document::diff::{DiffBasis, DiffDetail, EntitlementChange, UnitChange};
use crate::document::snapshot::{SkuRecord, Snapshot};
use crate::error::{Error, ErrorCode, Result};
use crate::vocab::DiffReason;
use std::collections::BTreeMap;

/// What a unit of `model` is called (singular, plural).
fn noun(model: &str) -> (&'static str, &'static str) {
    match model {
        "device" => ("device", "devices"),
        "subscription" => ("seat", "seats"),
        "concurrent" => ("token at the peak", "tokens at the peak"),
        _ => ("user", "users"),
    }
}

/// The phrase for `reason` on the `added` or `removed` side.
fn phrase(reason: &str, added: bool, sources: &str) -> String {
    let from = |s: &str| if s.is_empty() { String::new() } else { format!(" by {s}") };
    let Some(known) = DiffReason::from_name(reason) else { return reason.replace('_', " ") };
    match (known, added) {
        (DiffReason::NewSignal, _) => format!("newly reported{}", from(sources)),
        (DiffReason::MergedIdentity, true) => "split from a merged identity".into(),
        (DiffReason::MergedIdentity, false) => "merged into another identity".into(),
        (DiffReason::RulesetChanged, true) => "mapped here by the changed ruleset".into(),
        (DiffReason::RulesetChanged, false) => "mapped elsewhere by the changed ruleset".into(),
        (DiffReason::Remapped, true) => "now reported under this SKU's product".into(),
        (DiffReason::Remapped, false) => "now reported under another product".into(),
        (DiffReason::PeakMoved, true) => "now open at the peak".into(),
        (DiffReason::PeakMoved, false) => "no longer open at the peak".into(),
        (DiffReason::AgedOut, _) => "aged out: no signal within the lookback window".into(),
        (DiffReason::Revoked, _) => "assignment revoked or suspended".into(),
        (DiffReason::BelowConfidence, _) => "signals below the minimum confidence".into(),
        (DiffReason::Unattributable, _) => "no device or user can be determined any more".into(),
        (DiffReason::SourceMissing, _) => {
            format!("source{} sent nothing this run", if sources.is_empty() { String::new() } else { format!(" {sources}") })
        }
        (DiffReason::NotReported, _) => format!("no longer reported{}", from(sources)),
        (DiffReason::Excluded, _) => "set aside (see the exceptions)".into(),
        (DiffReason::EntitlementStarted | DiffReason::EntitlementEnded | DiffReason::QuantityChanged, _) => reason.replace('_', " "),
    }
}

fn signed(n: i128) -> String {
    if n > 0 {
        format!("+{n}")
    } else if n < 0 {
        format!("−{}", -n)
    } else {
        "±0".into()
    }
}

/// "intune 7, sccm 2" from the unit lists of one reason (weights per source).
fn source_breakdown(units: &[UnitChange], reason: DiffReason) -> String {
    // i128: the numbers come from documents a host was handed; no sum of
    // i64s read from them can overflow it.
    let mut by: BTreeMap<String, i128> = BTreeMap::new();
    for u in units.iter().filter(|u| u.reason == reason) {
        *by.entry(u.sources.join("+")).or_insert(0) += i128::from(u.weight);
    }
    if by.len() == 1 {
        return by.into_keys().next().unwrap_or_default();
    }
    by.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(", ")
}

/// Counts per reason in name order (the order the text has always used).
fn by_name(counts: &BTreeMap<DiffReason, i64>) -> Vec<(DiffReason, i64)> {
    let mut v: Vec<(DiffReason, i64)> = counts.iter().map(|(r, n)| (*r, *n)).collect();
    v.sort_by_key(|(r, _)| r.name());
    v
}

/// One side (`added` / `removed`) as a sentence: "+3 users: 2 newly reported by intune; 1 split …".
fn side(counts: Option<&BTreeMap<DiffReason, i64>>, units: &[UnitChange], added: bool, model: &str) -> Option<String> {
    let counts = by_name(counts?);
    let total: i128 = counts.iter().map(|(_, n)| i128::from(*n)).sum();
    if total == 0 {
        return None;
    }
    let (one, many) = noun(model);
    let mut parts = Vec::new();
    for (reason, n) in counts {
        parts.push(format!("{n} {}", phrase(reason.name(), added, &source_breakdown(units, reason))));
    }
    let sign = if added { "+" } else { "−" };
    Some(format!("{sign}{total} {}: {}.", if total == 1 { one } else { many }, parts.join("; ")))
}

/// Explain why `sku`'s consumed, entitled and remaining changed from
/// `previous` to `current` (consecutive snapshots of one chain). `detail` is
/// the current run's `diff.json` from its evidence pack; with it the text
/// names the sources of new and vanished units.
///
/// ```
/// use eucora_license_core::{explain, reconcile, write_pack, MemoryBundle};
/// let mut b = MemoryBundle::default();
/// b.insert("bundle.json", br#"{"organization_id":"o","as_of":"2026-11-22T06:00:00Z","run_id":"r","ruleset":"ruleset.json"}"#.to_vec());
/// b.insert("ruleset.json", include_bytes!("../../../rulesets/default/v1.json").to_vec());
/// b.insert("catalog.json", br#"{"vendors":[{"id":"v","name":"V"}],"skus":[{"id":"app","vendor":"v","model":"device"}]}"#.to_vec());
/// b.insert("entitlements.csv", b"entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency\nE1,app,C1,5,2026-01-01,,,\n".to_vec());
/// let first = reconcile(&b, None);
/// let (pack, _) = write_pack(&first, Vec::new()).unwrap();
/// b.insert("signals/intune.csv", b"source,raw_id,observed_at,sku,kind,device_serial\nintune,i1,2026-11-21T00:00:00Z,app,installation,SER1\n".to_vec());
/// let second = reconcile(&b, Some(&pack));
/// let text = explain(first.snapshot.as_ref().unwrap(), second.snapshot.as_ref().unwrap(), second.diff.as_ref(), "app").unwrap();
/// assert!(text.contains("consumed 0 → 1 (+1)"), "{text}");
/// assert!(text.contains("+1 device: 1 newly reported by intune."), "{text}");
/// ```
pub fn explain(previous: &Snapshot, current: &Snapshot, detail: Option<&DiffDetail>, sku: &str) -> Result<String> {
    crate::history::diff::same_organization(previous, current)?;
    let cur = current.doc();
    if cur.previous_hash.as_deref() != Some(previous.hash().to_prefixed().as_str()) {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "snapshot {} (sequence {}) does not follow {} (sequence {}): explain compares consecutive snapshots",
                current.hash(),
                current.sequence(),
                previous.hash(),
                previous.sequence()
            ),
        ));
    }
    let record =
        current.sku(sku).ok_or_else(|| Error::new(ErrorCode::InvalidInput, format!("SKU `{sku}` is not in the current snapshot")))?;
    let prev_record = previous.sku(sku);
    let model = record.model.name();
    let line = |f: &str, get: fn(&SkuRecord) -> i64| {
        let (a, b) = (prev_record.map_or(0, get), get(record));
        format!("{f} {a} → {b} ({})", signed(i128::from(b) - i128::from(a)))
    };
    let mut text = format!(
        "{sku} ({model}): {}; {}; {}.",
        line("consumed", |r| r.consumed),
        line("entitled", |r| r.entitled),
        line("remaining", |r| r.remaining)
    );
    let Some(diff) = &cur.diff else {
        text.push_str("\nNo change.");
        return Ok(text);
    };
    let Some(entry) = diff.skus.iter().find(|d| d.sku == sku) else {
        text.push_str("\nNo change.");
        return Ok(text);
    };
    if diff.basis != DiffBasis::Units {
        text.push_str("\nThe previous run's units were not available (chained to a bare snapshot): counts only.");
        return Ok(text);
    }
    let detail_entry = match detail {
        Some(DiffDetail::Units(d)) if d.previous_hash == diff.previous_hash => d.skus.iter().find(|d| d.sku == sku),
        _ => None,
    };
    let none: Vec<UnitChange> = Vec::new();
    let sides = [
        (entry.added.as_ref(), detail_entry.map_or(&none, |d| &d.added), true),
        (entry.removed.as_ref(), detail_entry.map_or(&none, |d| &d.removed), false),
    ];
    for (counts, units, added) in sides {
        if let Some(sentence) = side(counts, units, added, model) {
            text.push('\n');
            text.push_str(&sentence);
        }
    }
    if let Some(ents) = entry.entitlements.as_ref().filter(|m| !m.is_empty()) {
        let ents = by_name(ents);
        let total: i128 = ents.iter().map(|(_, q)| i128::from(*q)).sum();
        let listed: &[EntitlementChange] = detail_entry.map_or(&[], |d| &d.entitlements);
        let parts: Vec<String> = ents
            .iter()
            .map(|(reason, q)| {
                let ids: Vec<String> = listed
                    .iter()
                    .filter(|e| e.reason == *reason)
                    .map(|e| format!("{} {}", e.entitlement_id, signed(i128::from(e.quantity))))
                    .collect();
                let what = reason.name().replace('_', " ");
                if ids.is_empty() {
                    format!("{} {what}", signed(i128::from(*q)))
                } else {
                    format!("{} {what} ({})", signed(i128::from(*q)), ids.join(", "))
                }
            })
            .collect();
        text.push_str(&format!("\nEntitled {}: {}.", signed(total), parts.join("; ")));
    }
    Ok(text)
}
