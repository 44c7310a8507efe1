//! The documents' shapes, read off their serde types: every document type,
//! its fields and (for the top-level documents) its schema id. The bindings'
//! own types — Python's data classes, Node's `index.d.ts` — are tested
//! against this table (through `fixtures/documents.json`), so a field added
//! in Rust and forgotten in a binding fails CI.
//!
//! The field names come from the types themselves: a deserializer that
//! records the names serde asks a struct for, then stops (the trick
//! `serde_aux::serde_introspect` uses), so the table cannot drift from the
//! structs it describes.

use super::diff::{BeforeAfter, CounterDelta, CoverageGap, DiffSummary, EntitlementChange, SkuChange, SkuUnitChanges, UnitChange};
use super::manifest::{ArtifactEntry, Manifest, PseudonymNote, MANIFEST_SCHEMA};
use super::report::{ObservationCheck, OurFigures, PortalFigures, ReportError, RunReport, RUN_REPORT_SCHEMA};
use super::sidebar::{Sidebar, StateReason};
use super::snapshot::{Counts, ImportSummary, PoolRecord, RulesetRef, SkuRecord, SnapshotDoc, SourceCoverage, SCHEMA};
use crate::input::signals::ImportJob;
use crate::vocab::RowError;
use serde::de::{self, Deserialize, Visitor};

/// The type id of the diff documents (they carry no `schema` field: the
/// snapshot's `diff` is hashed with the snapshot, and its bytes are fixed).
pub(crate) const DIFF_SCHEMA: &str = "eucora.license.diff/v1";
/// The type id of the sidebar state (no `schema` field, as A8 defines it).
pub(crate) const SIDEBAR_SCHEMA: &str = "eucora.license.sidebar/v1";

/// A deserializer that only records the field names of the struct asked for.
struct Fields<'a>(&'a mut &'static [&'static str]);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("introspection stop")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for Fields<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, fields: &'static [&'static str], _: V) -> Result<V::Value, Stop> {
        *self.0 = fields;
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit unit_struct
        newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// The field names of a serde struct, in declaration order.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

/// One document type: its name (as the bindings name it), its schema id
/// (empty for the parts of a document) and its fields, in name order.
pub(crate) type DocumentType = (&'static str, &'static str, Vec<&'static str>);

fn entry<'de, T: Deserialize<'de>>(name: &'static str, schema: &'static str, extra: &[&'static str]) -> DocumentType {
    let mut f: Vec<&'static str> = fields_of::<T>().iter().chain(extra).copied().collect();
    f.sort_unstable();
    (name, schema, f)
}

/// Every document type a run, a pack or the sidebar writes.
pub(crate) fn document_types() -> Vec<DocumentType> {
    vec![
        // The snapshot as written: its content and its hash.
        entry::<SnapshotDoc>("Snapshot", SCHEMA, &["snapshot_hash"]),
        entry::<Counts>("Counts", "", &[]),
        entry::<SkuRecord>("SkuRecord", "", &[]),
        entry::<PoolRecord>("PoolRecord", "", &[]),
        entry::<RulesetRef>("RulesetRef", "", &[]),
        entry::<ImportSummary>("ImportSummary", "", &[]),
        entry::<SourceCoverage>("SourceCoverage", "", &[]),
        entry::<DiffSummary>("Diff", DIFF_SCHEMA, &[]),
        entry::<SkuChange>("SkuChange", "", &[]),
        entry::<CounterDelta>("CounterDelta", "", &[]),
        entry::<BeforeAfter>("BeforeAfter", "", &[]),
        entry::<CoverageGap>("CoverageGap", "", &[]),
        entry::<SkuUnitChanges>("SkuUnitChanges", "", &[]),
        entry::<UnitChange>("UnitChange", "", &[]),
        entry::<EntitlementChange>("EntitlementChange", "", &[]),
        entry::<RunReport>("RunReport", RUN_REPORT_SCHEMA, &[]),
        entry::<ReportError>("ReportError", "", &[]),
        entry::<ImportJob>("ImportJob", "", &[]),
        entry::<RowError>("RowError", "", &[]),
        entry::<ObservationCheck>("ObservationCheck", "", &[]),
        entry::<PortalFigures>("PortalFigures", "", &[]),
        entry::<OurFigures>("OurFigures", "", &[]),
        entry::<Sidebar>("Sidebar", SIDEBAR_SCHEMA, &[]),
        entry::<StateReason>("StateReason", "", &[]),
        entry::<Manifest>("Manifest", MANIFEST_SCHEMA, &[]),
        entry::<ArtifactEntry>("ArtifactEntry", "", &[]),
        entry::<PseudonymNote>("PseudonymNote", "", &[]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_off_the_types() {
        let types = document_types();
        let get = |n: &str| types.iter().find(|t| t.0 == n).map(|t| t.2.clone()).unwrap();
        assert_eq!(get("RulesetRef"), vec!["hash", "id", "version"]);
        assert!(get("Snapshot").contains(&"snapshot_hash") && get("Snapshot").contains(&"skus_root"));
        assert_eq!(get("Counts").len(), 7);
        assert!(types.iter().all(|t| !t.2.is_empty()), "every document type has fields");
    }
}
