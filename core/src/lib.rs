//! # eucora-license-core
//!
//! A deterministic license-reconciliation engine. Given a bundle —
//! entitlements, consumption signals from many source systems, a directory
//! and a versioned ruleset — it computes Entitled / Reserved / Consumed /
//! Remaining / Available for every SKU and pool, and seals the result in a
//! canonical, hash-chained snapshot.
//!
//! The engine is pure (sans-IO): it never opens files, reads clocks or the
//! environment, spawns threads or draws random numbers. Inputs arrive through
//! [`bundle::BundleSource`]; every "now" is a parameter. Same inputs and
//! ruleset give byte-identical output on every platform, whatever the order of
//! input rows.
//!
//! ```
//! use eucora_license_core::{reconcile, bundle::MemoryBundle, RunStatus};
//!
//! let mut b = MemoryBundle::default();
//! b.insert("bundle.json", br#"{"organization_id":"org","as_of":"2026-11-22T06:00:00Z",
//!     "run_id":"r1","expected_sources":["intune"]}"#.to_vec());
//! b.insert("catalog.json", br#"{"vendors":[{"id":"adobe","name":"Adobe"}],
//!     "skus":[{"id":"acrobat","vendor":"adobe","model":"device"}]}"#.to_vec());
//! b.insert("entitlements.csv", b"entitlement_id,sku,contract_id,quantity,starts_on,ends_on,unit_cost,currency\n\
//!     e1,acrobat,c1,10,2026-01-01,,,\n".to_vec());
//! let mut rs: serde_json::Value =
//!     serde_json::from_str(include_str!("../../rulesets/default/v1.json")).unwrap();
//! rs["sku_mappings"] = serde_json::json!([]);
//! b.insert("ruleset.json", serde_json::to_vec(&rs).unwrap());
//! b.insert("signals/intune.csv", b"source,raw_id,observed_at,sku,kind,device_serial\n\
//!     intune,1,2026-11-21T10:00:00Z,acrobat,installation,PF3ABC12\n\
//!     intune,2,2026-11-21T11:00:00+01:00,acrobat,installation, pf3abc12 \n".to_vec());
//!
//! let out = reconcile(&b, None);
//! assert_eq!(out.status, RunStatus::Ok);
//! let snap = out.snapshot.unwrap();
//! let acrobat = snap.sku("acrobat").unwrap();
//! assert_eq!(acrobat["consumed"], 1);   // one device, seen twice
//! assert_eq!(acrobat["remaining"], 9);
//! assert!(snap.hash().to_prefixed().starts_with("sha256:"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod canon;
mod document;
pub mod engine;
pub mod error;
pub mod evidence;
mod history;
mod input;
pub mod run;
mod vocab;

pub use canon::{canonical, hash, merkle, numbers, tar, time};
pub use document::{sidebar, snapshot};
pub use engine as counters;
pub use evidence::{proof, pseudonym};
pub use history::{diff, explain};
pub use input::{adapters, bundle, catalog, intern, normalize as identity, ruleset, signals, table};

pub use document::snapshot::Snapshot;
pub use error::{Error, ErrorCode, Location, Result};
pub use run::{reconcile, Outcome, RunStatus};

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
