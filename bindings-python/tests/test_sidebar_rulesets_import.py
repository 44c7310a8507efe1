"""sidebar(), validate_ruleset() / hash_ruleset(), import_file() / adapters()."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import eucora_license as el
import pytest
from conftest import DEFAULT_RULESET, DEMO, REPO, default_ruleset, make_bundle

T0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def test_sidebar_states(demo_result: el.Result) -> None:
    snap = demo_result.snapshot
    ok = el.sidebar(snap, now=T0 + timedelta(hours=1))
    assert ok.state == "ok" and ok.reason is None
    assert ok.counters == snap.totals and ok.last_reconciled_at == T0 and ok.snapshot_hash == snap.hash
    assert el.sidebar(snap, now=T0 + timedelta(hours=48)).state == "ok"  # exactly 2 x 24 h: not stale
    stale = el.sidebar(snap, now=T0 + timedelta(hours=48, seconds=1))
    assert stale.state == "stale" and stale.stale_for == timedelta(hours=48, seconds=1)
    assert stale.reason is not None and stale.reason.limit == timedelta(days=2)
    hourly = el.sidebar(snap, now=T0 + timedelta(hours=3), schedule_interval=timedelta(hours=1), stale_factor=2)
    assert hourly.state == "stale"
    never = el.sidebar(None, now=T0)
    assert never.state == "stale" and never.counters is None
    assert never.reason is not None and never.reason.code == "never_reconciled"


def test_sidebar_failed_run_from_the_raised_error(demo_result: el.Result) -> None:
    rs = default_ruleset()
    rs["version"] = 0
    with pytest.raises(el.RulesetError) as ei:
        # The demo organisation's failed run (another organisation's is refused).
        el.reconcile(make_bundle(ruleset=rs, as_of=T0 + timedelta(days=1), organization_id=demo_result.snapshot.organization_id))
    failed = el.sidebar(demo_result.snapshot, last_run=ei.value, now=T0 + timedelta(days=1, hours=1))
    assert failed.state == "failed" and failed.counters == demo_result.snapshot.totals
    assert failed.reason is not None and failed.reason.reasons == ("invalid_ruleset",)
    assert failed.last_success_at == T0
    # A report object and report data work the same.
    assert ei.value.report is not None
    assert el.sidebar(demo_result.snapshot, last_run=ei.value.report, now=T0 + timedelta(days=1)).state == "failed"
    assert el.sidebar(demo_result.snapshot, last_run=ei.value.report.to_dict(), now=T0 + timedelta(days=1)).state == "failed"


def test_sidebar_refuses_another_organisations_report(demo_result: el.Result) -> None:
    rs = default_ruleset()
    rs["version"] = 0
    with pytest.raises(el.RulesetError) as ei:
        el.reconcile(make_bundle(ruleset=rs, as_of=T0 + timedelta(days=1)))  # org-test, not the demo's
    with pytest.raises(el.InvalidInput) as bad:
        el.sidebar(demo_result.snapshot, last_run=ei.value, now=T0 + timedelta(days=1, hours=1))
    assert bad.value.location is not None and bad.value.location.field == "organization_id"
    with pytest.raises(el.InvalidInput):
        el.sidebar(demo_result.snapshot, last_run={"status": "failed", "organization_id": 7}, now=T0)


def test_sidebar_degraded() -> None:
    snap = el.reconcile(make_bundle(expected_sources=["intune", "entra", "jamf"])).snapshot
    s = el.sidebar(snap, now=T0)
    assert s.state == "degraded"
    assert s.reason is not None and s.reason.coverage_gaps == ("source_missing:jamf",)


def test_sidebar_bad_arguments(demo_result: el.Result) -> None:
    with pytest.raises(el.InvalidInput, match="positive whole number of seconds"):
        el.sidebar(demo_result.snapshot, now=T0, schedule_interval=timedelta(0))
    with pytest.raises(el.InvalidInput, match="expected a timezone-aware datetime, not str"):
        el.sidebar(demo_result.snapshot, now="2026-11-22T06:00:00Z")  # type: ignore[arg-type]
    with pytest.raises(el.InvalidInput, match="non-negative int"):
        el.sidebar(None, now=T0, stale_factor=-1)


def test_validate_and_hash_ruleset() -> None:
    info = el.validate_ruleset(DEFAULT_RULESET)
    assert (info.id, info.version) == ("default", 1)
    assert info.hash == el.hash_ruleset(DEFAULT_RULESET) == el.hash_ruleset(default_ruleset())
    assert el.validate_ruleset(DEFAULT_RULESET.read_bytes()) == info
    demo = el.reconcile(DEMO).snapshot
    assert el.hash_ruleset(DEMO / "ruleset.json") == demo.ruleset.hash


def test_validate_ruleset_lists_every_issue() -> None:
    rs = default_ruleset()
    rs["min_confidence"] = "1.5"
    rs["extra"] = True
    del rs["stale_factor"]
    with pytest.raises(el.RulesetError) as ei:
        el.validate_ruleset(rs)
    issues = {(i.path, i.code) for i in ei.value.issues}
    assert ("$.extra", "unknown_key") in issues
    assert ("$.stale_factor", "missing_key") in issues
    assert ("$.min_confidence", "out_of_range") in issues
    assert ei.value.location is not None and ei.value.location.field is not None


def test_validate_ruleset_against_the_catalog() -> None:
    rs = default_ruleset()
    rs["sku_mappings"] = [{"match": "exact", "field": "product", "value": "x", "sku": "ghost"}]
    assert el.validate_ruleset(rs).id == "default"  # no catalog given: not checked
    with pytest.raises(el.RulesetError) as ei:
        el.validate_ruleset(rs, sku_ids=["acrobat", "e3"])
    assert [i.code for i in ei.value.issues] == ["unknown_sku"]
    with pytest.raises(el.RulesetError, match="malformed JSON"):
        el.validate_ruleset(b"{")
    with pytest.raises(el.InvalidInput, match="float is not allowed"):
        el.hash_ruleset({"id": "x", "version": 1.0})


def test_adapters_list() -> None:
    names = [a.name for a in el.adapters()]
    assert names == sorted(names) and "entra-users" in names and "flexlm-log" in names
    sccm = next(a for a in el.adapters() if a.name == "sccm-metering")
    assert sccm.source == "sccm" and sccm.options == ("utc_offset",)


@pytest.mark.parametrize("adapter", ["jamf-inventory", "entra-users"])
def test_import_file_matches_the_adapter_fixtures(adapter: str) -> None:
    folder = REPO / "fixtures" / "adapters" / adapter
    inputs = sorted(p for p in (folder / "input").glob("*")) if (folder / "input").is_dir() else sorted(folder.glob("page-*.json"))
    options = json.loads((folder / "options.json").read_text()) if (folder / "options.json").exists() else {}
    if adapter == "jamf-inventory":  # the instant the core's fixture test uses, as a datetime
        options = {"observed_at": datetime(2026, 11, 21, 8, 0, tzinfo=UTC)}
    result = el.import_file(adapter, {p.name: p.read_bytes() for p in inputs}, **options)
    assert result.adapter == adapter and len(result.jobs) == len(inputs)
    assert sum(j.signals for j in result.jobs) == len(result.signals) > 0
    assert all(j.input_hash.startswith("sha256:") for j in result.jobs)
    lines = result.signals_jsonl().splitlines()
    assert [json.loads(line) for line in lines] == [dict(s) for s in result.signals]
    expected = [json.loads(line) for line in (folder / "expected.jsonl").read_text().splitlines() if line.strip()]
    got = [dict(s) for s in result.signals]
    full = [{**{k: "" for k in got[0]}, **e} for e in expected]
    assert sorted(json.dumps(d, sort_keys=True) for d in got) == sorted(json.dumps(d, sort_keys=True) for d in full)


@pytest.mark.parametrize("adapter", ["entra-users", "ad-users", "okta-users"])
def test_import_file_directory_facts_match_the_fixtures(adapter: str) -> None:
    folder = REPO / "fixtures" / "adapters" / adapter
    inputs = sorted((folder / "input").glob("*"))
    options = json.loads((folder / "options.json").read_text()) if (folder / "options.json").exists() else {}
    result = el.import_file(adapter, {p.name: p.read_bytes() for p in inputs}, **options)
    expected = [json.loads(line) for line in (folder / "expected-directory.jsonl").read_text().splitlines() if line.strip()]
    got = [
        {k: v for k, v in dataclasses.asdict(d).items() if v != "" or k in ("principal_type", "canonical_id", "alias")}
        for d in result.directory
    ]
    assert got == expected
    assert any(d.status == "disabled" for d in result.directory)


def test_import_file_single_bytes_and_options() -> None:
    folder = REPO / "fixtures" / "adapters" / "sccm-metering"
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".csv", ".txt", ".tsv"))
    if not files:
        pytest.skip("no sccm-metering input in this checkout")
    result = el.import_file("sccm-metering", files[0].read_bytes(), name=files[0].name, utc_offset="+01:00")
    assert result.source == "sccm" and result.jobs[0].path == files[0].name
    with pytest.raises(el.InvalidInput, match="bad `utc_offset`|utc_offset"):
        el.import_file("sccm-metering", files[0].read_bytes(), utc_offset="CET")


def test_import_file_option_types() -> None:
    with pytest.raises(el.InvalidInput, match=r"\[observed_at\].*naive"):
        el.import_file("jamf-inventory", b"{}", observed_at=datetime(2026, 1, 1))
    with pytest.raises(el.InvalidInput, match=r"\[start_date\].*expected a str, not int"):
        el.import_file("flexlm-log", b"", start_date=3)  # type: ignore[arg-type]
    # A date option is passed as YYYY-MM-DD.
    r = el.import_file("flexlm-log", b"", name="lmgrd.log", start_date=date(2026, 11, 19), utc_offset="+00:00")
    assert r.signals == ()


def test_unreadable_export_is_invalid_input_naming_the_file() -> None:
    with pytest.raises(el.InvalidInput) as ei:
        el.import_file("entra-users", b'{"value": [', name="page-1.json")
    assert ei.value.location is not None and ei.value.location.file == "page-1.json"


def test_version() -> None:
    cargo = (Path(__file__).resolve().parents[2] / "Cargo.toml").read_text()
    assert f'version = "{el.__version__}"' in cargo
