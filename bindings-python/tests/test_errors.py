"""Every error family, bad Python input, panics: always a EucoraLicenseError subclass
with the engine's stable code and a precise message; never PanicException."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import eucora_license as el
import pytest
from conftest import CATALOG, DEMO, ENTITLEMENTS, default_ruleset, make_bundle, signal_rows


def test_hierarchy_and_codes() -> None:
    for cls in (el.InvalidInput, el.RulesetError, el.IntegrityError, el.VerificationError, el.InternalError):
        assert issubclass(cls, el.EucoraLicenseError)
    assert issubclass(el.EucoraLicenseError, ValueError)
    assert el.ERROR_CODES["invalid_input"] == 1 and el.ERROR_CODES["internal"] == 99
    assert el.error_class("invalid_ruleset") is el.RulesetError
    assert el.error_class("reject_threshold_exceeded") is el.IntegrityError
    assert el.error_class("non_canonical") is el.InvalidInput
    assert el.error_class("internal") is el.InternalError


# ---- runs that fail closed -------------------------------------------------


def test_missing_required_file_is_invalid_input() -> None:
    files = dict(make_bundle().files)
    del files["catalog.json"]
    with pytest.raises(el.InvalidInput) as ei:
        el.reconcile(el.Bundle.from_files(files))
    e = ei.value
    assert e.code == "invalid_input"
    assert e.location == el.Location(file="catalog.json")
    assert "required file `catalog.json` is missing" in str(e)
    assert e.report is not None and e.report.status == "failed" and e.report.reasons == ("invalid_input",)


def test_invalid_ruleset_is_ruleset_error() -> None:
    rs = default_ruleset()
    rs["lookback_dayz"] = 3
    with pytest.raises(el.RulesetError) as ei:
        el.reconcile(make_bundle(ruleset=rs))
    e = ei.value
    assert e.code == "invalid_ruleset"
    assert e.location is not None and e.location.file == "ruleset.json" and e.location.field == "$.lookback_dayz"
    assert "unknown_key" in e.message
    assert [d.code for d in e.errors] == ["invalid_ruleset"]


def test_catalog_integrity_is_integrity_error() -> None:
    ents = ENTITLEMENTS + [{"entitlement_id": "ent-9", "sku": "nope", "quantity": 1, "starts_on": date(2026, 1, 1)}]
    with pytest.raises(el.IntegrityError) as ei:
        el.reconcile(make_bundle(entitlements=ents))
    e = ei.value
    assert e.code == "catalog_integrity"
    assert e.location == el.Location(file="entitlements.csv", line=4, field="sku")
    assert "unknown SKU `nope`" in e.message
    assert e.report is not None and e.report.reasons == ("catalog_integrity",)


def test_conflicting_duplicate_is_integrity_error() -> None:
    rows = signal_rows()
    rows.append(dict(rows[0], device_serial="OTHER"))
    with pytest.raises(el.IntegrityError) as ei:
        el.reconcile(make_bundle(signals=rows))
    assert ei.value.code == "conflicting_duplicate"


def test_reject_threshold_is_integrity_error() -> None:
    rows = signal_rows()
    rows[0]["kind"] = "bogus"
    with pytest.raises(el.IntegrityError) as ei:
        el.reconcile(make_bundle(signals=rows))
    e = ei.value
    assert e.code == "reject_threshold_exceeded"
    assert e.location is not None and e.location.file == "signals/signals.csv"
    assert e.report is not None
    job = next(j for j in e.report.imports if j.path == "signals/signals.csv")
    assert job.rows_rejected == 1 and job.errors[0].line == 2 and job.errors[0].column == "kind"


def test_previous_snapshot_that_does_not_verify(demo_result: el.Result) -> None:
    tampered = demo_result.snapshot.canonical_bytes().replace(b'"sequence":1', b'"sequence":7')
    with pytest.raises(el.IntegrityError) as ei:
        el.reconcile(DEMO, previous=tampered)
    assert ei.value.code == "previous_snapshot_invalid"
    with pytest.raises(el.IntegrityError) as ei2:
        el.Snapshot.from_bytes(tampered)
    assert "does not match the content" in ei2.value.message


def test_several_errors_are_all_reported() -> None:
    ents = [{"entitlement_id": "e", "sku": "nope", "quantity": 1, "starts_on": date(2026, 1, 1)}] * 2
    with pytest.raises(el.IntegrityError) as ei:
        el.reconcile(make_bundle(entitlements=ents))
    assert len(ei.value.errors) >= 2 and "more error" in ei.value.message


# ---- wrong Python types and shapes -------------------------------------------


def test_float_quantity() -> None:
    ents: list[dict[str, Any]] = [dict(ENTITLEMENTS[0], quantity=10.0)]
    with pytest.raises(el.InvalidInput) as ei:
        make_bundle(entitlements=ents)
    assert ei.value.location == el.Location(field="entitlements[0].quantity")
    assert "expected an int, not float" in str(ei.value)


def test_float_money_and_confidence() -> None:
    with pytest.raises(el.InvalidInput, match=r"\[entitlements\[0\]\.unit_cost\].*not float"):
        make_bundle(entitlements=[dict(ENTITLEMENTS[0], unit_cost=239.88)])
    rows = signal_rows()
    rows[1]["confidence"] = 0.9
    with pytest.raises(el.InvalidInput, match=r"signals\[1\]\.confidence"):
        make_bundle(signals=rows)
    cat = json.loads(json.dumps(CATALOG, default=str))
    cat["skus"][0]["unit_cost"] = 239.88
    with pytest.raises(el.InvalidInput, match=r"catalog\.skus\[0\]\.unit_cost.*float is not allowed"):
        make_bundle(catalog=cat)


def test_naive_datetime() -> None:
    with pytest.raises(el.InvalidInput, match=r"\[as_of\].*naive datetime"):
        make_bundle(as_of=datetime(2026, 11, 22, 6, 0))
    rows = signal_rows()
    rows[0]["observed_at"] = datetime(2026, 11, 21, 10, 0)
    with pytest.raises(el.InvalidInput) as ei:
        make_bundle(signals=rows)
    assert ei.value.location == el.Location(field="signals[0].observed_at")
    with pytest.raises(el.InvalidInput, match="naive"):
        el.sidebar(None, now=datetime(2026, 11, 22))


def test_datetime_where_a_date_is_expected() -> None:
    with pytest.raises(el.InvalidInput, match="expected a date, not a datetime"):
        make_bundle(entitlements=[dict(ENTITLEMENTS[0], starts_on=datetime(2026, 1, 1, tzinfo=None))])


def test_str_where_bytes_are_expected() -> None:
    with pytest.raises(el.InvalidInput, match=r"\[data\].*expected bytes, not str"):
        el.import_file("jamf-inventory", "{}")  # type: ignore[arg-type]
    with pytest.raises(el.InvalidInput, match="expected bytes, not str"):
        make_bundle().add_file("signals/x.csv", "source,raw_id\n")  # type: ignore[arg-type]
    with pytest.raises(el.InvalidInput, match="expected bytes, not str"):
        el.Snapshot.from_bytes("{}")  # type: ignore[arg-type]


def test_missing_and_unknown_keys_in_rows() -> None:
    rows = signal_rows()
    del rows[2]["observed_at"]
    with pytest.raises(el.InvalidInput) as ei:
        make_bundle(signals=rows)
    assert ei.value.location == el.Location(field="signals[2].observed_at")
    assert "missing required key 'observed_at'" in str(ei.value)
    ents = [dict(ENTITLEMENTS[0])]
    del ents[0]["sku"]
    with pytest.raises(el.InvalidInput, match=r"entitlements\[0\]\.sku.*missing required key 'sku'"):
        make_bundle(entitlements=ents)
    with pytest.raises(el.InvalidInput, match=r"unknown key 'obsreved_at'"):
        make_bundle(signals=[dict(signal_rows()[0], obsreved_at="x")])
    with pytest.raises(el.InvalidInput, match=r"pools\[0\]\.scope.*missing required key"):
        make_bundle(pools=[{"pool_id": "p", "sku": "e3"}])


def test_rows_of_the_wrong_shape() -> None:
    with pytest.raises(el.InvalidInput, match=r"\[signals\[0\]\].*not tuple"):
        make_bundle(signals=[("intune", "1")])
    with pytest.raises(el.InvalidInput, match="not dict"):
        make_bundle(signals={"source": "intune"})
    with pytest.raises(el.InvalidInput, match="not list"):
        make_bundle(catalog=[])
    with pytest.raises(el.InvalidInput, match="not a single str"):
        make_bundle(expected_sources="intune")
    with pytest.raises(el.InvalidInput, match=r"\[bundle\].*not int"):
        el.reconcile(42)  # type: ignore[arg-type]
    with pytest.raises(el.InvalidInput, match="not a relative"):
        make_bundle().add_file("../etc/passwd", b"")
    with pytest.raises(el.InvalidInput, match=r"expected an int, not bool"):
        make_bundle(entitlements=[dict(ENTITLEMENTS[0], quantity=True)])
    with pytest.raises(el.InvalidInput, match=r"finite Decimal"):
        make_bundle(entitlements=[dict(ENTITLEMENTS[0], unit_cost=Decimal("NaN"))])


def test_not_a_bundle_directory(tmp_path: Path) -> None:
    with pytest.raises(el.InvalidInput, match="is not a bundle directory"):
        el.reconcile(tmp_path / "nope")
    with pytest.raises(el.InvalidInput, match="required file `bundle.json` is missing"):
        el.reconcile(tmp_path)


def test_malformed_bundle_json_names_the_field() -> None:
    files = dict(make_bundle().files)
    files["bundle.json"] = b'{"organization_id": "o", "as_of": "2026-11-22T06:00:00", "run_id": "r"}'
    with pytest.raises(el.InvalidInput) as ei:
        el.reconcile(el.Bundle.from_files(files))
    assert ei.value.location == el.Location(file="bundle.json", field="$.as_of")
    assert "missing_offset" in ei.value.message


def test_unknown_adapter_and_option() -> None:
    with pytest.raises(el.InvalidInput, match="unknown adapter `nope`"):
        el.import_file("nope", b"")
    with pytest.raises(el.InvalidInput, match="has no option `colour`"):
        el.import_file("jamf-inventory", b"{}", colour="red")


def test_corrupted_pack(demo_pack: bytes) -> None:
    with pytest.raises(el.VerificationError) as ei:
        el.verify(b"not a tar at all" * 100)
    e = ei.value
    assert e.code == "verification_failed" and e.check == "archive"
    assert e.verify_report is not None and not e.verify_report.ok
    with pytest.raises(el.VerificationError, match="check `archive` failed"):
        el.verify(demo_pack[:1000])


# ---- panics --------------------------------------------------------------------


@pytest.mark.parametrize("release_gil", [False, True])
def test_a_panic_is_internal_error_never_panic_exception(release_gil: bool) -> None:
    try:
        el._native._panic_for_tests("deliberate test panic", release_gil)
    except Exception as e:  # what DRF catches: a PanicException would escape this clause
        assert isinstance(e, el.InternalError)
        assert e.code == "internal"
        assert "deliberate test panic" in e.message
    else:
        pytest.fail("no error raised")
    # The module still works afterwards.
    assert el.reconcile(DEMO).status == "ok"


def test_vocabulary_is_the_cores() -> None:
    # fixtures/vocabulary.json is pinned against the core by core/src/api.rs.
    fixture = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "vocabulary.json").read_text())
    assert {table: list(names) for table, names in el.VOCABULARY.items()} == fixture
    assert list(el.VOCABULARY) == [
        "exception_codes",
        "diff_reasons",
        "compliance_statuses",
        "health_states",
        "sidebar_states",
        "sidebar_reasons",
        "coverage_statuses",
        "run_statuses",
        "device_key_prefixes",
        "row_error_codes",
        "discrepancies",
        "check_statuses",
        "health_reason_kinds",
        "ruleset_issue_codes",
        "roles",
        "actions",
        "agents",
        "authorize_reasons",
        "approval_refusals",
        "proposal_kinds",
        "proposal_states",
        "approval_decisions",
        "audit_failures",
    ]
    assert el.VOCABULARY["diff_reasons"][0] == "merged_identity"
