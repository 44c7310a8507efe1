//! `diff <old-run> <new-run> [--json]`: what changed per SKU between two
//! runs (output directories, packs or snapshots): units added and removed by
//! reason, entitlement changes, coverage gaps. Between consecutive runs read
//! from packs the basis is units; otherwise counter deltas.
//!
//! Exit codes: 0 the diff was printed; 2 a run does not open or the two runs
//! cannot be compared (another organisation); 1 usage or I/O error.

use super::pair;
use crate::{failed, read};
use eucora_license_core::Snapshot;
use serde_json::Value;
use std::process::ExitCode;

/// Run `diff` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let p = match pair::parse(args, false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let ((prev, _), (cur, detail)) = match read::run_pair(&p.old, &p.new) {
        Ok(runs) => runs,
        Err(code) => return code,
    };
    let (diff, units) = match eucora_license_core::diff_with_units(&prev, &cur, detail) {
        Ok(d) => d,
        Err(e) => return failed(e),
    };
    if p.json {
        let out = match units {
            Some(units) => serde_json::json!({"summary": diff, "units": units}),
            None => serde_json::to_value(&diff).unwrap_or_default(),
        };
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        print_human(&prev, &cur, &serde_json::to_value(&diff).unwrap_or_default());
    }
    ExitCode::SUCCESS
}

/// One line per changed SKU, then one per coverage gap.
fn print_human(prev: &Snapshot, cur: &Snapshot, diff: &Value) {
    println!("diff sequence {} -> {} (basis: {})", prev.sequence(), cur.sequence(), diff["basis"].as_str().unwrap_or(""));
    let skus = diff["skus"].as_array().cloned().unwrap_or_default();
    if skus.is_empty() {
        println!("no SKU changed");
    }
    for d in &skus {
        let delta = &d["delta"];
        print!(
            "{:<24} consumed {:+} entitled {:+} remaining {:+}",
            d["sku"].as_str().unwrap_or(""),
            delta["consumed"].as_i64().unwrap_or(0),
            delta["entitled"].as_i64().unwrap_or(0),
            delta["remaining"].as_i64().unwrap_or(0)
        );
        for side in ["added", "removed", "entitlements"] {
            if let Some(m) = d[side].as_object().filter(|m| !m.is_empty()) {
                let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k} {v}")).collect();
                print!("  {side}: {}", parts.join(", "));
            }
        }
        println!();
    }
    for g in diff["coverage_gaps"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        println!(
            "coverage gap: source {} {} (SKUs: {})",
            g["source"].as_str().unwrap_or(""),
            g["status"].as_str().unwrap_or(""),
            g["skus"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()
        );
    }
}
