"""The governance golden vectors of ``fixtures/golden`` (kinds ``authorize``,
``decide``, ``apply``, ``audit-verify``, ``audit-prove``, ``audit-proof``;
format in ``fixtures/golden/README.md``): the Python package must give the
decisions, chain verdicts and proofs every other binding gives.

``EUCORA_GOLDEN_DIR`` points the test at another directory of cases. The set
must hold at least one case of every kind: a missing kind fails, so the test
cannot pass by finding nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import eucora_license as el
import pytest

GOLDEN = Path(os.environ.get("EUCORA_GOLDEN_DIR") or Path(__file__).resolve().parents[2] / "fixtures" / "golden")
KINDS = ("authorize", "decide", "apply", "audit-verify", "audit-prove", "audit-proof")


def all_cases() -> list[tuple[str, Path]]:
    if not GOLDEN.is_dir():
        return []
    found = sorted((p for p in GOLDEN.iterdir() if (p / "case.json").is_file()), key=lambda p: os.fsencode(p.name))
    out = []
    for p in found:
        kind = json.loads((p / "case.json").read_bytes()).get("kind")
        if kind in KINDS:
            out.append((kind, p))
    return out


CASES = all_cases()


def policy_of(case: dict[str, Any]) -> el.Policy | None:
    doc = case.get("policy")
    if doc is None:
        return None
    data = json.dumps(doc).encode()
    try:
        return el.Policy.from_bytes(data)
    except el.InsightError:
        # `Policy.from_bytes` also validates the Part C sections (alerts,
        # advisor); the governance functions check the Part D sections
        # themselves, as the CLI's `--policy` does. Hand them the bytes as
        # given so the vectors judge governance's own validation.
        return el.Policy(data, el.PolicyRef(id="golden", version=0, hash=""))


def outcome(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The answer, or ``{"error": {"code"}}`` (an invalid inline policy included)."""
    try:
        return call()
    except el.EucoraLicenseError as e:
        return {"error": {"code": e.code}}


def log(case_dir: Path) -> list[dict[str, Any] | None]:
    return el.parse_log((case_dir / "log.jsonl").read_bytes())


def answer(kind: str, case_dir: Path, case: dict[str, Any]) -> dict[str, Any]:
    if kind == "authorize":
        return outcome(lambda: el.authorize(case["actor"], case["action"], policy_of(case)))
    if kind == "decide":
        return outcome(lambda: el.decide(case["proposal"], case["approvals"], case["now"], policy_of(case)))
    if kind == "apply":
        return outcome(lambda: el.apply(case["proposal"], case["approvals"], case["now"], policy_of(case), case.get("applied", [])))
    if kind == "audit-verify":
        return outcome(lambda: el.audit_verify(log(case_dir), case.get("checkpoint")))
    if kind == "audit-prove":
        entries = log(case_dir)

        def prove() -> dict[str, Any]:
            proof = el.audit_prove(entries, case["seq"]) if "seq" in case else el.audit_consistency(entries, case["old_size"])
            return {"proof": proof, "checkpoint": el.audit_checkpoint(entries)}

        return outcome(prove)
    assert kind == "audit-proof"
    return outcome(lambda: el.audit_verify_proof(case["proof"], case["checkpoint"]))


@pytest.mark.parametrize(("kind", "case_dir"), CASES, ids=[p.name for _, p in CASES])
def test_governance_vectors(kind: str, case_dir: Path) -> None:
    case = json.loads((case_dir / "case.json").read_bytes())
    expected = json.loads((case_dir / "expected.json").read_bytes())
    got = answer(kind, case_dir, case)
    if "error" in expected:
        # Errors compare by code only.
        assert got.get("error", {}).get("code") == expected["error"]["code"], got
    else:
        assert got == expected


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_vectors(kind: str) -> None:
    n = sum(1 for k, _ in CASES if k == kind)
    assert n > 0, f"no `{kind}` case in {GOLDEN}: the governance golden vectors are missing"
