"""The golden vectors of ``fixtures/golden`` (see its README): the Python package must give the
snapshot hashes, fail-closed reasons and ruleset identities that Rust, C and Node give.

JCS and sidebar cases are checked by the Rust, C and Node suites; the Python package exposes the
canonical form only through snapshots, and its ``sidebar`` takes typed objects (tested in
``test_sidebar_rulesets_import.py``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import eucora_license as el
import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "golden"


def cases(kind: str) -> list[Path]:
    found = sorted(p for p in GOLDEN.iterdir() if (p / "case.json").is_file())
    return [p for p in found if json.loads((p / "case.json").read_bytes())["kind"] == kind]


def file_bytes(value: Any) -> bytes:
    """One file of a bundle in JSON form (README: text, lines, base64, or an inline object)."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list):
        return b"".join(line.encode() + b"\n" for line in value)
    if isinstance(value, dict) and set(value) == {"base64"}:
        return base64.b64decode(value["base64"])
    # Inline documents: canonical JSON. Their keys are ASCII and their numbers integers,
    # where sorted keys and compact separators are RFC 8785.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def run(case_dir: Path) -> dict[str, Any]:
    previous = (case_dir / "previous.json").read_bytes() if (case_dir / "previous.json").is_file() else None
    try:
        if (case_dir / "bundle").is_dir():
            result = el.reconcile(case_dir / "bundle", previous=previous)
        else:
            files = json.loads((case_dir / "files.json").read_bytes())
            bundle = el.Bundle.from_files({path: file_bytes(v) for path, v in files.items()})
            result = el.reconcile(bundle, previous=previous)
    except el.EucoraLicenseError as e:
        assert e.report is not None, f"{case_dir.name}: {e}"
        return {"status": "failed", "reasons": list(e.report.reasons)}
    return {"status": result.status, "snapshot_hash": result.snapshot.hash}


@pytest.mark.parametrize("case_dir", cases("reconcile"), ids=lambda p: p.name)
def test_reconcile_cases(case_dir: Path) -> None:
    expected = json.loads((case_dir / "expected.json").read_bytes())
    got = run(case_dir)
    if expected["status"] == "failed":
        assert got == {"status": "failed", "reasons": expected["reasons"]}
    else:
        assert got == {"status": expected["status"], "snapshot_hash": expected["snapshot_hash"]}


@pytest.mark.parametrize("case_dir", cases("ruleset"), ids=lambda p: p.name)
def test_ruleset_cases(case_dir: Path) -> None:
    case = json.loads((case_dir / "case.json").read_bytes())
    expected = json.loads((case_dir / "expected.json").read_bytes())
    data = (case_dir / "input.json").read_bytes()
    if expected["ok"]:
        info = el.validate_ruleset(data, sku_ids=case.get("sku_ids"))
        assert (info.id, info.version, info.hash) == (expected["id"], expected["version"], expected["hash"])
    else:
        with pytest.raises(el.EucoraLicenseError):
            el.validate_ruleset(data, sku_ids=case.get("sku_ids"))


def test_the_golden_set_is_there() -> None:
    assert len(cases("reconcile")) >= 30
    assert len(cases("ruleset")) >= 5
