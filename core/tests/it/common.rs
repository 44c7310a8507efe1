//! Test support: small in-memory bundles built row by row, the fixture bundles
//! read from disk, and the helpers several areas share.
#![allow(dead_code)]

use eucora_license_core::MemoryBundle;
use eucora_license_core::{reconcile, Outcome, RunStatus, Snapshot};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

/// `fixtures/<rel>` read into memory as [`load_dir`] reads it.
pub fn load_fixture(rel: &str) -> MemoryBundle {
    load_dir(&fixtures().join(rel))
}

/// The run of `fixtures/demo`: raw exports read through the adapters, plus a few canonical rows.
pub fn demo() -> Outcome {
    reconcile(&load_fixture("demo"), None)
}

/// The run of `fixtures/demo-canonical`: the same organisation as canonical signal files only.
pub fn demo_canonical() -> Outcome {
    reconcile(&load_fixture("demo-canonical"), None)
}

/// Well inside every lookback.
pub const RECENT: &str = "2026-11-21T00:00:00Z";

/// Fields of one canonical signal.
pub fn sig<'a>(
    src: &'a str,
    raw: &'a str,
    at: &'a str,
    sku: &'a str,
    kind: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("source", src), ("raw_id", raw), ("observed_at", at), ("sku", sku), ("kind", kind)];
    v.extend_from_slice(extra);
    v
}

/// Run, assert that it did not fail, and return the outcome with its snapshot.
pub fn run_ok(b: &Bundle) -> (Outcome, Snapshot) {
    let out = b.run();
    assert!(out.errors.is_empty(), "run failed: {:?}", out.errors);
    assert_ne!(out.status, RunStatus::Failed);
    let snap = out.snapshot.clone().expect("snapshot");
    (out, snap)
}

/// The canonical signal header used by [`Bundle::signal`].
pub const SIGNAL_HEADER: &str = "source,raw_id,observed_at,sku,product,kind,status,user,device_serial,device_id,device_name,last_used_at,session_start,session_end,quantity,confidence";

/// A bundle under construction. Defaults: as_of 2026-11-22T06:00:00Z, the
/// default ruleset (no mappings), no expected sources.
pub struct Bundle {
    pub params: Value,
    pub ruleset: Value,
    pub vendors: Vec<Value>,
    pub skus: Vec<Value>,
    pub entitlements: Vec<String>,
    pub pools: Vec<String>,
    pub directory: Vec<String>,
    /// file name (under signals/) -> rows (CSV lines without header)
    pub signal_files: std::collections::BTreeMap<String, Vec<String>>,
    pub extra: Vec<(String, Vec<u8>)>,
}

impl Default for Bundle {
    fn default() -> Self {
        Self::new()
    }
}

impl Bundle {
    pub fn new() -> Self {
        let ruleset: Value =
            serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../rulesets/default/v1.json"))).unwrap();
        Bundle {
            params: json!({"organization_id": "org-test", "as_of": "2026-11-22T06:00:00Z", "run_id": "run-1",
                           "ruleset": "ruleset.json", "expected_sources": []}),
            ruleset,
            vendors: vec![json!({"id": "v", "name": "Vendor"})],
            skus: Vec::new(),
            entitlements: Vec::new(),
            pools: Vec::new(),
            directory: Vec::new(),
            signal_files: Default::default(),
            extra: Vec::new(),
        }
    }

    /// Add a SKU of `model` with vendor `v`.
    pub fn sku(mut self, id: &str, model: &str) -> Self {
        self.skus.push(json!({"id": id, "vendor": "v", "model": model, "unit_cost": "1.00", "currency": "USD", "base_sku": null}));
        self
    }

    /// Add a feature SKU with a base.
    pub fn feature(mut self, id: &str, base: &str) -> Self {
        self.skus.push(json!({"id": id, "vendor": "v", "model": "feature", "base_sku": base}));
        self
    }

    /// Add an open-ended entitlement starting 2026-01-01.
    pub fn entitle(mut self, sku: &str, qty: i64) -> Self {
        let n = self.entitlements.len();
        self.entitlements.push(format!("ent-{n},{sku},c-{n},{qty},2026-01-01,,,"));
        self
    }

    /// Add an entitlement row verbatim (without header).
    pub fn entitlement_row(mut self, row: &str) -> Self {
        self.entitlements.push(row.to_string());
        self
    }

    /// Add a pool row `pool_id,sku,scope,quantity,reserved`.
    pub fn pool(mut self, row: &str) -> Self {
        self.pools.push(row.to_string());
        self
    }

    /// Add a directory row `principal_type,canonical_id,alias,status,region,bu,last_active_at`.
    pub fn dir(mut self, row: &str) -> Self {
        self.directory.push(row.to_string());
        self
    }

    /// Add a signal to `signals/<file>` from named fields; unnamed are empty.
    pub fn signal_in(mut self, file: &str, fields: &[(&str, &str)]) -> Self {
        let cols: Vec<&str> = SIGNAL_HEADER.split(',').collect();
        let row: Vec<String> = cols
            .iter()
            .map(|c| {
                let v = fields.iter().find(|(k, _)| k == c).map(|(_, v)| *v).unwrap_or("");
                csv_quote(v)
            })
            .collect();
        for (k, _) in fields {
            assert!(cols.contains(k), "unknown signal column {k}");
        }
        self.signal_files.entry(file.to_string()).or_default().push(row.join(","));
        self
    }

    /// Add a signal to `signals/s.csv`.
    pub fn signal(self, fields: &[(&str, &str)]) -> Self {
        self.signal_in("s.csv", fields)
    }

    /// Set a ruleset key.
    pub fn rule(mut self, path: &[&str], value: Value) -> Self {
        let mut v = &mut self.ruleset;
        for p in &path[..path.len() - 1] {
            v = &mut v[*p];
        }
        v[path[path.len() - 1]] = value;
        self
    }

    /// Set a bundle.json key.
    pub fn param(mut self, key: &str, value: Value) -> Self {
        self.params[key] = value;
        self
    }

    /// Add any file.
    pub fn file(mut self, path: &str, bytes: &[u8]) -> Self {
        self.extra.push((path.to_string(), bytes.to_vec()));
        self
    }

    pub fn build(&self) -> MemoryBundle {
        let mut b = MemoryBundle::default();
        b.insert("bundle.json", serde_json::to_vec(&self.params).unwrap());
        b.insert("ruleset.json", serde_json::to_vec(&self.ruleset).unwrap());
        b.insert("catalog.json", serde_json::to_vec(&json!({"vendors": self.vendors, "skus": self.skus})).unwrap());
        let mut e = String::from("entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency\n");
        for r in &self.entitlements {
            e.push_str(r);
            e.push('\n');
        }
        b.insert("entitlements.csv", e.into_bytes());
        if !self.pools.is_empty() {
            let mut p = String::from("pool_id,sku,scope,quantity,reserved\n");
            for r in &self.pools {
                p.push_str(r);
                p.push('\n');
            }
            b.insert("pools.csv", p.into_bytes());
        }
        if !self.directory.is_empty() {
            let mut d = String::from("principal_type,canonical_id,alias,status,region,bu,last_active_at\n");
            for r in &self.directory {
                d.push_str(r);
                d.push('\n');
            }
            b.insert("directory.csv", d.into_bytes());
        }
        for (f, rows) in &self.signal_files {
            let mut s = String::from(SIGNAL_HEADER);
            s.push('\n');
            for r in rows {
                s.push_str(r);
                s.push('\n');
            }
            b.insert(format!("signals/{f}"), s.into_bytes());
        }
        for (p, bytes) in &self.extra {
            b.insert(p.clone(), bytes.clone());
        }
        b
    }

    pub fn run(&self) -> Outcome {
        reconcile(&self.build(), None)
    }

    /// Run and return the snapshot's record for `sku` (panics if the run failed).
    pub fn sku_record(&self, sku: &str) -> Value {
        let out = self.run();
        assert!(out.errors.is_empty(), "run failed: {:?}", out.errors);
        out.snapshot.unwrap().sku_json(sku).unwrap().clone()
    }

    /// Consumed of `sku`.
    pub fn consumed(&self, sku: &str) -> i64 {
        self.sku_record(sku)["consumed"].as_i64().unwrap()
    }
}

fn csv_quote(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// Exceptions of `code` as (source, raw_id).
pub fn exceptions(out: &Outcome, code: &str) -> Vec<(String, String)> {
    out.exceptions.iter().filter(|e| e.code == code).map(|e| (e.source.clone(), e.raw_id.clone())).collect()
}

/// The failed run's reason codes.
pub fn reasons(out: &Outcome) -> Vec<String> {
    out.report.to_json()["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
}

/// A bundle directory read into memory (documentation and expectation files left out).
pub fn load_dir(root: &std::path::Path) -> MemoryBundle {
    fn walk(root: &std::path::Path, dir: &std::path::Path, b: &mut MemoryBundle) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            // Dot files (.gitattributes) are not bundle files; the CLI skips them too.
            if p.file_name().unwrap().to_string_lossy().starts_with('.') {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, b);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                if !rel.ends_with(".md") && rel != "expected.json" {
                    b.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    let mut b = MemoryBundle::default();
    walk(root, root, &mut b);
    b
}

/// A SKU's record as the snapshot writes it (JSON), for assertions on the
/// written form.
pub trait SkuJson {
    /// The record of `sku` in `snapshot.json`, if any.
    fn sku_json(&self, sku: &str) -> Option<Value>;
}

impl SkuJson for Snapshot {
    fn sku_json(&self, sku: &str) -> Option<Value> {
        self.value()["skus"].as_array()?.iter().find(|r| r["sku"] == sku).cloned()
    }
}
