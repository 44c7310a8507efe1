"""The facade's data classes against the core's document types.

``fixtures/documents.json`` is read off the Rust serde types (pinned by
``core/src/api.rs``); every document type the facade models must have the
same fields here, so a field added in Rust and forgotten in Python fails.
Renames are deliberate and listed (a ``timedelta`` where Rust has seconds,
``hash`` for ``snapshot_hash``); types the facade hands over as plain JSON
mappings are listed too, so a new Rust document type must be placed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eucora_license import _model

DOCUMENTS = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "documents.json").read_text())

# Rust type -> (Python class, {rust field: python attribute}, python-only attributes)
MODELED: dict[str, tuple[type, dict[str, str], set[str]]] = {
    "Snapshot": (_model.Snapshot, {"snapshot_hash": "hash"}, set()),
    "Counts": (_model.Totals, {}, set()),
    "SkuRecord": (_model.SkuRecord, {}, set()),
    "PoolRecord": (_model.PoolRecord, {}, set()),
    "RulesetRef": (_model.RulesetRef, {}, set()),
    "ImportSummary": (_model.ImportSummary, {}, set()),
    "SourceCoverage": (_model.Coverage, {}, set()),
    # `units`: the unit lists `eucora_license.diff` returns beside the diff.
    "Diff": (_model.Diff, {}, {"units"}),
    "SkuChange": (_model.SkuChange, {}, set()),
    "RunReport": (_model.RunReport, {}, set()),
    "ImportJob": (_model.ImportJob, {}, set()),
    "RowError": (_model.RowError, {}, set()),
    "Sidebar": (_model.SidebarState, {"stale_seconds": "stale_for"}, set()),
    "StateReason": (_model.SidebarReason, {"limit_seconds": "limit"}, set()),
}

# Handed over as read-only JSON mappings inside the modeled types.
AS_MAPPINGS = {
    "CounterDelta",
    "BeforeAfter",
    "CoverageGap",
    "SkuUnitChanges",
    "UnitChange",
    "EntitlementChange",
    "ReportError",
    "ObservationCheck",
    "PortalFigures",
    "OurFigures",
    "Manifest",
    "ArtifactEntry",
    "PseudonymNote",
}


def attributes(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in reversed(cls.__mro__):
        names.update(getattr(klass, "__annotations__", {}))
    return {n for n in names if not n.startswith("_")}


def test_every_rust_document_type_is_placed() -> None:
    assert set(DOCUMENTS) == set(MODELED) | AS_MAPPINGS


@pytest.mark.parametrize("rust_type", sorted(MODELED))
def test_fields_match_the_rust_type(rust_type: str) -> None:
    cls, renames, extra = MODELED[rust_type]
    expected = {renames.get(f, f) for f in DOCUMENTS[rust_type]["fields"]} | extra
    assert attributes(cls) == expected, f"{cls.__name__} vs Rust {rust_type}"


def test_schema_ids_are_the_cores() -> None:
    assert DOCUMENTS["Snapshot"]["schema"] == "eucora.license.snapshot/v1"
    assert DOCUMENTS["RunReport"]["schema"] == "eucora.license.run_report/v1"
    assert DOCUMENTS["Manifest"]["schema"] == "eucora.license.pack/v1"
