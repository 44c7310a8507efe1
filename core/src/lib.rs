//! # eucora-license-core
//!
//! A deterministic license-reconciliation engine. Given a bundle —
//! entitlements, consumption signals from many source systems, a directory
//! and a versioned ruleset — it computes Entitled / Reserved / Consumed /
//! Remaining / Available for every SKU and pool, and seals the result in a
//! canonical, hash-chained snapshot.
//!
//! The engine is pure (sans-IO): it never opens files, reads clocks or the
//! environment or draws random numbers, and starts (scoped) threads only
//! when asked to through [`RunOptions`], with byte-identical results. Inputs arrive through
//! [`BundleSource`]; every "now" is a parameter. Same inputs and
//! ruleset give byte-identical output on every platform, whatever the order of
//! input rows.
//!
//! ```
//! use eucora_license_core::{reconcile, MemoryBundle, RunStatus};
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
//! assert_eq!(acrobat.consumed, 1);   // one device, seen twice
//! assert_eq!(acrobat.remaining, 9);
//! assert!(snap.hash().to_prefixed().starts_with("sha256:"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

// The layers, bottom first; a module imports only from its own layer or a
// layer below it (`scripts/check-layering`, docs/architecture.md).
pub mod api;
mod canon;
mod document;
mod engine;
mod error;
mod evidence;
mod history;
mod input;
mod run;
mod vocab;

// ---------------------------------------------------------------------------
// Reconciling: a bundle in, an outcome (snapshot, run report, units,
// exceptions) out.

pub use input::bundle::{check_bundle_path, file_bytes_from_json, BundleSource, MemoryBundle, RunParams};
pub use run::{
    error_json, reconcile, reconcile_after_pack, reconcile_after_pack_with, reconcile_with, Outcome, RunInputs, RunOptions, RunStatus,
};

// ---------------------------------------------------------------------------
// Errors: one type, stable codes from one table.

pub use error::{Error, ErrorCode, Location, Result};

// ---------------------------------------------------------------------------
// Documents: the snapshot and the sidebar state (the bytes/JSON form every
// binding calls is [`api::sidebar`]).

pub use document::diff::{
    BeforeAfter, CounterDelta, CoverageGap, Diff, DiffBasis, DiffDetail, DiffSummary, EntitlementChange, SkuChange, SkuUnitChanges,
    UnitChange,
};
pub use document::manifest::{ArtifactEntry, Manifest, PseudonymNote, MANIFEST_SCHEMA};
pub use document::report::{ObservationCheck, OurFigures, PortalFigures, ReportError, RunReport, RUN_REPORT_SCHEMA};
pub use document::sidebar::{schedule_secs_from_hours, try_sidebar, Sidebar, SidebarInput, StateReason};
pub use document::snapshot::{
    Counts, ImportSummary, PoolRecord, RulesetRef, SkuRecord, Snapshot, SnapshotDoc, SourceCoverage, SCHEMA as SNAPSHOT_SCHEMA,
};

// ---------------------------------------------------------------------------
// Evidence: packs, offline verification and replay, per-SKU proofs, shared
// (pseudonymised) outcomes.

pub use canon::zst::{archive as pack_archive, looks_like_pack};
pub use evidence::open::{open_pack, OpenPack};
pub use evidence::pack::{write_compressed_pack, write_compressed_pack_threads, write_pack};
pub use evidence::proof::{prove, verify_proof, verify_proof_against, verify_proof_with_snapshot};
pub use evidence::pseudonym::pseudonymise;
pub use evidence::replay::{replay_pack, replay_reader as replay_pack_reader};
pub use evidence::verify::{
    verify as verify_pack, verify_reader as verify_pack_reader, verify_using as verify_pack_using, Check, VerifyReport,
};

// ---------------------------------------------------------------------------
// History: what changed between two runs, and why.

pub use history::diff::{between_checked as diff_between, open_run, same_organization, with_units as diff_with_units};
pub use history::explain::explain;

// ---------------------------------------------------------------------------
// Rulesets: parse and validate, report, hash, compare versions.

pub use input::ruleset::changes::{diff as ruleset_changes, RulesetChange, RulesetDiff};
pub use input::ruleset::{
    hash_document as ruleset_hash, issues_to_error as ruleset_issues_to_error, parse as parse_ruleset, report as ruleset_report,
    validate as validate_ruleset, Ruleset, RulesetIssue,
};

// ---------------------------------------------------------------------------
// Adapters: raw exports from source systems in, canonical signals out.

pub use input::adapters::{
    all as adapters, by_name as adapter_by_name, run as run_adapter, Adapter, AdapterOutput, DirectoryEntry, EntitlementObservation,
    InputFile, Options as AdapterOptions, Origin, SignalRow,
};
pub use input::signals::ImportJob;
pub use vocab::{RowError, RowErrorCode};

// ---------------------------------------------------------------------------
// The closed vocabularies: every stable snake_case name a document carries
// (exception codes, diff reasons, statuses, device-key prefixes), one table
// each.

pub use vocab::{
    vocabularies, Action, AgentName, ApprovalDecision, ApprovalRefusal, AuditFailure, AuthorizeReason, CheckStatus, ComplianceStatus,
    CoverageStatus, DeviceKeyPrefix, DiffReason, Discrepancy, ExceptionCode, Health, HealthReasonKind, ProposalKind, ProposalState, Role,
    RulesetIssueCode, SidebarReason, SidebarState,
};

// ---------------------------------------------------------------------------
// Canonical JSON, hashes and instants (DESIGN A5, A9).

pub use canon::canonical::{canonicalize, to_vec as canonical_bytes, to_vec_of as canonical_bytes_of};
pub use canon::hash::{tagged as tagged_hash, Digest32, Domain};
pub use canon::time::{Date, Instant, InstantError};

/// Hooks for fuzz targets, benchmarks and integration tests: engine
/// internals with no stability promise. Hosts use the items at the crate
/// root.
#[doc(hidden)]
pub mod internal {
    /// Canonical JSON.
    pub mod canonical {
        pub use crate::canon::canonical::{canonicalize, parse_strict, to_vec, to_vec_of, MAX_SAFE_INTEGER};
    }
    /// Hashes.
    pub mod hash {
        pub use crate::canon::hash::{sha256, tagged, Digest32, Domain};
    }
    /// RFC 9162 Merkle trees.
    pub mod merkle {
        pub use crate::canon::merkle::{
            consistency_path, inclusion_path, leaf_hash, node_hash, root, root_of_leaves, verify_consistency, verify_inclusion,
        };
    }
    /// Exact numbers.
    pub mod numbers {
        pub use crate::canon::numbers::{parse_integer, percent_2dp, Fixed9};
    }
    /// Instants and dates.
    pub mod time {
        pub use crate::canon::time::{Date, Instant, InstantError};
    }
    /// Deterministic tar archives.
    pub mod tar {
        pub use crate::canon::tar::{entries, read, Entry, TarWriter};
    }
    /// The catalog's closed types.
    pub mod catalog {
        pub use crate::input::catalog::Model;
    }
    /// Canonical signals.
    pub mod signals {
        pub use crate::input::signals::{ReadParallelism, SignalStore};
        pub use crate::vocab::{RowError, RowErrorCode};
    }
    /// Identity normalisation.
    pub mod identity {
        pub use crate::input::normalize::{normalize_hostname, normalize_serial, normalize_serial_text, normalize_user};
    }
    /// Adapters.
    pub mod adapters {
        pub use crate::input::adapters::{
            all, by_name, decode_text, normalize_timestamp, run, AdapterOutput, DirectoryEntry, EntitlementObservation, InputFile, Options,
            Origin, SignalRow,
        };
    }
    /// Rulesets.
    pub mod ruleset {
        pub use crate::input::ruleset::{changes, hash_document, issues_to_error, parse, report, validate, Ruleset, RulesetIssue};
    }
    /// The counters.
    pub mod counters {
        pub use crate::engine::{collapse_duplicates, Counters, MAX_COUNT};
    }
    /// Snapshots.
    pub mod snapshot {
        pub use crate::document::snapshot::{seal_json, skus_root, skus_root_json, validate, Snapshot, SCHEMA};
    }
    /// The sidebar state.
    pub mod sidebar {
        pub use crate::document::sidebar::{schedule_secs_from_hours, sidebar, try_sidebar, SidebarInput};
    }
    /// Evidence packs.
    pub mod evidence {
        pub use crate::document::manifest::member_name;
        pub use crate::evidence::pack::{write_compressed_pack, write_compressed_pack_threads, write_pack};
        pub use crate::evidence::replay::{replay_pack, replay_reader};
        pub use crate::evidence::verify::{verify, verify_reader, verify_using, VerifyReport};
    }
    /// Names shown in messages.
    pub mod error {
        pub use crate::error::{is_displayable_name, names_for_display};
    }
}

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The README's examples, compiled and run as doctests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
