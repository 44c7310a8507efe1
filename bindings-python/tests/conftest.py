"""Shared fixtures: repository paths, the Rust CLI binary, small bundles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import eucora_license as el
import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo"
DEFAULT_RULESET = REPO / "rulesets" / "default" / "v1.json"
AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)

# The Django test project lives beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent / "django_site"))


def find_cli() -> Path:
    """The `eucora-license` binary: $EUCORA_LICENSE_CLI, else the cargo target dirs."""
    env = os.environ.get("EUCORA_LICENSE_CLI")
    if env:
        return Path(env)
    targets = [Path(os.environ["CARGO_TARGET_DIR"])] if os.environ.get("CARGO_TARGET_DIR") else []
    targets.append(REPO / "target")
    for t in targets:
        for profile in ("debug", "release"):
            p = t / profile / "eucora-license"
            if p.is_file():
                return p
    pytest.fail(
        "the eucora-license CLI binary is needed to compare hashes with the CLI: "
        "run `cargo build -p eucora-license-cli` or set EUCORA_LICENSE_CLI"
    )


@pytest.fixture(scope="session")
def cli() -> Path:
    return find_cli()


def cli_reconcile(cli: Path, bundle_dir: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(cli), "reconcile", str(bundle_dir), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def demo_result() -> el.Result:
    return el.reconcile(DEMO)


@pytest.fixture(scope="session")
def demo_pack(demo_result: el.Result) -> bytes:
    return demo_result.evidence_pack()


@pytest.fixture(scope="session")
def expected() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DEMO / "expected.json").read_text())
    return data


def default_ruleset() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DEFAULT_RULESET.read_text())
    return doc


CATALOG: dict[str, Any] = {
    "vendors": [{"id": "adobe", "name": "Adobe"}, {"id": "microsoft", "name": "Microsoft"}],
    "skus": [
        {"id": "acrobat", "vendor": "adobe", "name": "Acrobat Pro", "model": "device",
         "unit_cost": Decimal("239.88"), "cost_period": "year", "currency": "USD"},
        {"id": "e3", "vendor": "microsoft", "name": "Microsoft 365 E3", "model": "user",
         "unit_cost": Decimal("36.00"), "cost_period": "month", "currency": "USD"},
    ],
}

ENTITLEMENTS: list[dict[str, Any]] = [
    {"entitlement_id": "ent-1", "sku": "acrobat", "contract_id": "c-1", "quantity": 10,
     "starts_on": date(2026, 1, 1), "ends_on": None, "unit_cost": Decimal("239.88"), "currency": "USD"},
    {"entitlement_id": "ent-2", "sku": "e3", "quantity": 3, "starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31)},
]


def signal_rows() -> list[dict[str, Any]]:
    """Two devices for Acrobat (one seen twice, once at +01:00), three users for E3 (one revoked)."""
    t = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    return [
        {"source": "intune", "raw_id": "1", "observed_at": t, "sku": "acrobat", "kind": "installation",
         "device_serial": "PF3ABC12"},
        {"source": "intune", "raw_id": "2", "observed_at": "2026-11-21T11:00:00+01:00", "sku": "acrobat",
         "kind": "installation", "device_serial": " pf3abc12 ", "confidence": Decimal("0.9")},
        {"source": "intune", "raw_id": 3, "observed_at": t, "sku": "acrobat", "kind": "installation",
         "device_serial": "XYZ999", "confidence": 1},
        {"source": "entra", "raw_id": "u-alice", "observed_at": t, "sku": "e3", "kind": "assignment",
         "status": "active", "user": "alice@acme.com"},
        {"source": "entra", "raw_id": "u-bob", "observed_at": t, "sku": "e3", "kind": "assignment",
         "status": "active", "user": "bob@acme.com"},
        {"source": "entra", "raw_id": "u-carol", "observed_at": t, "sku": "e3", "kind": "assignment",
         "status": "revoked", "user": "carol@acme.com", "last_used_at": None},
    ]


def make_bundle(**overrides: Any) -> el.Bundle:
    args: dict[str, Any] = {
        "organization_id": "org-test",
        "as_of": AS_OF,
        "run_id": "run-1",
        "catalog": CATALOG,
        "ruleset": default_ruleset(),
        "entitlements": ENTITLEMENTS,
        "signals": signal_rows(),
        "expected_sources": ["intune", "entra"],
    }
    args.update(overrides)
    return el.Bundle(**args)
