//! The human output of `reconcile`: the counters per SKU as an aligned
//! table with a totals line, then health, chain and exception notes.

use eucora_license_core::Outcome;
use serde_json::Value;

const HEADER: [&str; 8] = ["SKU", "MODEL", "ENTITLED", "RESERVED", "CONSUMED", "REMAINING", "AVAILABLE", "COMPLIANCE"];

/// Print the snapshot's counters table and the run's notes.
pub(crate) fn print_table(snap: &Value, outcome: &Outcome) {
    let rows = sku_rows(snap);
    let totals = totals_row(&snap["totals"]);
    print_rows(&rows, &totals);
    println!();
    print_notes(snap, outcome);
}

/// A number field as printed (empty when absent).
fn int(v: &Value, k: &str) -> String {
    v.get(k).map(|x| x.to_string()).unwrap_or_default()
}

fn sku_rows(snap: &Value) -> Vec<[String; 8]> {
    let mut rows = Vec::new();
    for r in snap["skus"].as_array().into_iter().flatten() {
        rows.push([
            r["sku"].as_str().unwrap_or("").to_string(),
            r["model"].as_str().unwrap_or("").to_string(),
            int(r, "entitled"),
            int(r, "reserved"),
            int(r, "consumed"),
            int(r, "remaining"),
            int(r, "available"),
            r["compliance_status"].as_str().unwrap_or("").to_string(),
        ]);
    }
    rows
}

fn totals_row(t: &Value) -> [String; 8] {
    [
        "TOTAL".to_string(),
        String::new(),
        int(t, "entitled"),
        int(t, "reserved"),
        int(t, "consumed"),
        int(t, "remaining"),
        int(t, "available"),
        String::new(),
    ]
}

/// Header, SKU rows, a rule and the totals, each column as wide as its
/// widest cell; the counters right-aligned.
fn print_rows(rows: &[[String; 8]], totals: &[String; 8]) {
    let mut widths = HEADER.map(str::len);
    for r in rows.iter().chain(std::iter::once(totals)) {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if (2..7).contains(&i) {
                s.push_str(&format!("{c:>w$}  "));
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        println!("{}", s.trim_end());
    };
    line(&HEADER.map(String::from));
    for r in rows {
        line(r);
    }
    let rule: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    println!("{}", "-".repeat(rule));
    line(totals);
}

/// Health, timestamps, ruleset, exceptions, rejected rows, snapshot hash.
fn print_notes(snap: &Value, outcome: &Outcome) {
    let health = snap["health"].as_str().unwrap_or("");
    let reasons: Vec<&str> = snap["health_reasons"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if reasons.is_empty() {
        println!("health:        {health}");
    } else {
        println!("health:        {health} ({})", reasons.join(", "));
    }
    println!("reconciled at: {}", snap["reconciled_at"].as_str().unwrap_or(""));
    println!("sequence:      {}", snap["sequence"]);
    println!("ruleset:       {} v{}", snap["ruleset"]["id"].as_str().unwrap_or(""), snap["ruleset"]["version"]);
    let summary = &snap["exceptions_summary"];
    if let Some(m) = summary.as_object().filter(|m| !m.is_empty()) {
        let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("exceptions:    {} (see exceptions.jsonl)", parts.join(", "));
    }
    let rejected: u64 = outcome.report.imports.iter().map(|j| j.rows_rejected).sum();
    if rejected > 0 {
        println!("rejected rows: {rejected} (see run_report.json)");
    }
    println!("snapshot:      {}", snap["snapshot_hash"].as_str().unwrap_or(""));
}
