"""License intelligence from Python (DESIGN Part C): the demo's AC2 alert, the golden vectors of
fixtures/golden/insight (each step reconciled here, chained to the previous result's pack), the
typed results and the contract errors (InsightError with code and index)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import eucora_license as el
import pytest
from conftest import DEMO, REPO
from test_golden import file_bytes

INSIGHT = REPO / "fixtures" / "golden" / "insight"
DEFAULT_POLICY = REPO / "rulesets" / "default" / "policy-v1.json"


def insight_cases() -> list[Path]:
    return sorted(p for p in INSIGHT.iterdir() if (p / "case.json").is_file())


def chain(case_dir: Path) -> tuple[list[el.Result], bytes]:
    """Every step of a case reconciled in order, each chained to the previous run's pack."""
    steps: list[dict[str, Any]] = json.loads((case_dir / "steps.json").read_bytes())
    results: list[el.Result] = []
    pack: bytes | None = None
    for step in steps:
        bundle = el.Bundle.from_files({path: file_bytes(v) for path, v in step.items()})
        r = el.reconcile(bundle, previous=pack)
        pack = r.evidence_pack()
        results.append(r)
    assert pack is not None
    return results, pack


@pytest.fixture(scope="module")
def demo() -> tuple[el.Result, bytes]:
    r = el.reconcile(DEMO)
    return r, r.evidence_pack()


@pytest.mark.parametrize("case_dir", insight_cases(), ids=lambda p: p.name)
def test_golden_vectors_reproduce(case_dir: Path) -> None:
    results, pack = chain(case_dir)
    history = [r.snapshot for r in results]
    a = el.alerts(history, pack)
    r = el.advise(history, pack)
    e = el.events(history, pack)
    got = {
        "alerts": a.to_dict()["alerts"],
        "events": e.to_dict()["events"],
        "recommendations": r.to_dict()["recommendations"],
    }
    expected = json.loads((case_dir / "expected.json").read_bytes(), parse_float=Decimal)
    assert got == expected
    # Item by item, to_dict() is the engine's JSON too.
    assert [x.to_dict() for x in a.alerts] == expected["alerts"]
    assert [x.to_dict() for x in r.recommendations] == expected["recommendations"]
    assert [x.to_dict() for x in e.events] == expected["events"]
    covers = json.loads((case_dir / "case.json").read_bytes())["covers"]
    seen = {x.type for x in a.alerts} | {x.type for x in r.recommendations} | {x.event_type for x in e.events}
    assert set(covers) <= seen


def test_the_golden_set_covers_every_type() -> None:
    covered: set[str] = set()
    for case_dir in insight_cases():
        covered |= set(json.loads((case_dir / "case.json").read_bytes())["covers"])
    assert {"over_deployed", "spike", "drop", "oscillation", "exhaustion_forecast", "right_size", "it_license_renewed"} <= covered


def test_the_demo_raises_over_deployed_for_autocad(demo: tuple[el.Result, bytes]) -> None:
    result, pack = demo
    report = el.alerts([result.snapshot], pack)
    over = [a for a in report.alerts if a.type == "over_deployed" and a.subject == {"sku": "autocad"}]
    assert len(over) == 1
    alert = over[0]
    assert alert.severity == "critical"
    assert alert.facts["consumed"] > alert.facts["entitled"]
    assert alert.facts["remaining"] == alert.facts["entitled"] - alert.facts["consumed"]
    assert alert.evidence.snapshots == (result.snapshot.hash,)
    assert alert.as_of == report.as_of and isinstance(alert.as_of, dt.datetime) and alert.as_of.tzinfo is not None
    assert report.policy == el.Policy.default().ref
    # Critical first.
    assert report.alerts[0].severity == "critical"


def test_outputs_equal_the_cli(cli: Path, demo: tuple[el.Result, bytes], tmp_path: Path) -> None:
    result, _ = demo
    result.write(tmp_path / "run")
    snap = (tmp_path / "run" / "snapshot.json").read_bytes()
    pack = (tmp_path / "run" / "evidence.tar").read_bytes()
    for cmd, got in (
        ("alerts", el.alerts([snap], pack).to_json()),
        ("advise", el.advise([snap], pack).to_json()),
        ("events", el.events([snap], pack).to_json()),
        ("compliance", el.compliance_check(snap, pack=pack).to_json()),
    ):
        proc = subprocess.run([str(cli), cmd, str(tmp_path / "run"), "--json"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == got + "\n", cmd


def test_typed_results(demo: tuple[el.Result, bytes]) -> None:
    result, pack = demo
    recs = el.advise([result.snapshot], pack).recommendations
    assert [r.rank for r in recs] == list(range(1, len(recs) + 1))
    for r in recs:
        assert r.amount is None or isinstance(r.amount, Decimal)
        assert r.currency == "USD"
    rows = el.compliance_check(result.snapshot, pack=pack).rows
    autocad = [row for row in rows if row.compliance_status == "over_deployed"]
    assert autocad and all(row.usage_count > row.license_count for row in autocad)
    for row in rows:
        assert row.variance_percent is None or isinstance(row.variance_percent, Decimal)
    one = el.compliance_check(result.snapshot, license_id=rows[0].license_id, pack=pack).rows
    assert one == (rows[0],)
    assert el.compliance_check(result.snapshot, license_id="00000000-0000-0000-0000-000000000000", pack=pack).rows == ()


def test_typed_facts_and_events() -> None:
    results, pack = chain(INSIGHT / "insight-contracts")
    history = [r.snapshot for r in results]
    expiring = [a for a in el.alerts(history, pack).alerts if a.type == "entitlement_expiring"]
    assert expiring
    for a in expiring:
        assert isinstance(a.facts["ends_on"], dt.date)
        assert a.facts["renewal_cost"] is None or isinstance(a.facts["renewal_cost"], Decimal)
    evs = el.events(history, pack, renewed_by="user-7").events
    kinds = {type(e).__name__ for e in evs}
    assert "ExpiringEvent" in kinds and "CreatedEvent" in kinds
    for e in evs:
        if isinstance(e, el.ExpiringEvent):
            assert isinstance(e.expiration_date, dt.date) and e.days_remaining >= 0
            # Two places kept exactly (600.00, not 600.0).
            assert e.renewal_cost is None or e.renewal_cost.as_tuple().exponent == -2
        if isinstance(e, el.RenewedEvent):
            assert e.renewed_by == "user-7" and e.new_expiration_date > e.old_expiration_date
    org = "5f0c6c7e-1b7e-4c2a-9a53-0c1d2e3f4a5b"
    assert all(e.organization_id == org for e in el.events(history, pack, organization_uuid=org.upper()).events)


def test_policy() -> None:
    p = el.Policy.default()
    assert (p.id, p.version) == ("default", 1) and p.hash.startswith("sha256:")
    same = el.Policy.from_bytes(DEFAULT_POLICY.read_bytes())
    assert same.hash == p.hash and same == p
    doc = json.loads(DEFAULT_POLICY.read_bytes())
    doc["alerts"]["utilization_warning_percent"] = 101
    doc["version"] = 2
    stricter = el.Policy.from_bytes(json.dumps(doc).encode())
    assert stricter.version == 2 and stricter.hash != p.hash


def test_a_policy_changes_the_alerts(demo: tuple[el.Result, bytes]) -> None:
    result, pack = demo
    doc = json.loads(DEFAULT_POLICY.read_bytes())
    doc["alerts"]["utilization_warning_percent"] = 0
    loose = el.Policy.from_bytes(json.dumps(doc).encode())
    report = el.alerts([result.snapshot], pack, loose)
    assert report.policy == loose.ref
    default_high = [a for a in el.alerts([result.snapshot], pack).alerts if a.type == "utilization_high"]
    loose_high = [a for a in report.alerts if a.type == "utilization_high"]
    assert len(loose_high) > len(default_high)


def test_invalid_policy() -> None:
    doc = json.loads(DEFAULT_POLICY.read_bytes())
    doc["alerts"]["spike_percnt"] = 1
    with pytest.raises(el.InsightError) as e:
        el.Policy.from_bytes(json.dumps(doc).encode())
    assert e.value.code == "invalid_policy" and e.value.index is None
    assert "$.alerts.spike_percnt" in e.value.message
    assert isinstance(e.value, el.EucoraLicenseError)
    with pytest.raises(el.InsightError, match="invalid_policy"):
        el.Policy.from_bytes(b"{")


def test_chain_broken_names_the_snapshot() -> None:
    results, pack = chain(INSIGHT / "insight-trends")
    assert len(results) >= 3
    history = [r.snapshot for r in results]
    swapped = [history[1], history[0], *history[2:]]
    with pytest.raises(el.InsightError) as e:
        el.alerts(swapped, pack)
    assert e.value.code == "chain_broken" and e.value.index == 2
    dropped = [history[0], *history[2:]]
    with pytest.raises(el.InsightError) as e:
        el.advise(dropped, pack)
    assert e.value.code == "chain_broken" and e.value.index == 2
    tampered = bytearray(history[0].canonical_bytes())
    tampered[-2:-1] = b" "
    with pytest.raises(el.InsightError) as e:
        el.events([bytes(tampered)], pack)
    assert e.value.code == "chain_broken" and e.value.index == 1


def test_pack_errors() -> None:
    results, pack = chain(INSIGHT / "insight-trends")
    history = [r.snapshot for r in results]
    older = results[-2].evidence_pack()
    with pytest.raises(el.InsightError) as e:
        el.alerts(history, older)
    assert e.value.code == "pack_mismatch" and e.value.index == len(history)
    with pytest.raises(el.InsightError) as e:
        el.alerts(history, b"not a tar")
    assert e.value.code == "pack_invalid" and e.value.index == len(history)
    with pytest.raises(el.InsightError) as e:
        el.compliance_check(history[-1], pack=older)
    assert e.value.code == "pack_mismatch"


def test_bad_arguments_are_invalid_input(demo: tuple[el.Result, bytes]) -> None:
    result, pack = demo
    with pytest.raises(el.InvalidInput):
        el.alerts([], pack)
    with pytest.raises(el.InvalidInput):
        el.alerts(result.snapshot.canonical_bytes(), pack)  # type: ignore[arg-type]
    with pytest.raises(el.InvalidInput):
        el.alerts(["snapshot.json"], pack)  # type: ignore[list-item]
    with pytest.raises(el.InvalidInput):
        el.alerts([result.snapshot], pack, policy=b"{}")  # type: ignore[arg-type]
    with pytest.raises(el.InvalidInput):
        el.events([result.snapshot], pack, organization_uuid="not-a-uuid")
