"""The committed OpenAPI schema (``eucora_license_django/openapi.yaml``) is what
drf-spectacular generates from the code: regenerate it and compare (drift check).
Refresh it with ``python demo_site/manage.py spectacular --file eucora_license_django/openapi.yaml``."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import yaml
from django.core.management import call_command

import eucora_license_django

COMMITTED = Path(eucora_license_django.__file__).resolve().parent / "openapi.yaml"
PATHS = ["summary", "skus", "skus/{sku}", "snapshots", "alerts", "recommendations", "evidence/{snapshot_hash}",
         "evidence/{snapshot_hash}/download", "entitlements", "proposals", "proposals/{proposal_id}/approve",
         "proposals/{proposal_id}/reject", "reconcile/run", "import", "rulesets", "agents/{agent}/run", "audit", "audit/verify"]


def generated() -> str:
    out = StringIO()
    call_command("spectacular", "--validate", stdout=out)
    return out.getvalue()


def test_openapi_schema_has_not_drifted() -> None:
    assert COMMITTED.read_text() == generated(), (
        "eucora_license_django/openapi.yaml is stale: run "
        "`python demo_site/manage.py spectacular --file eucora_license_django/openapi.yaml` and commit it")


def test_openapi_schema_lists_every_endpoint_without_trailing_slash() -> None:
    schema = yaml.safe_load(COMMITTED.read_text())
    assert sorted(schema["paths"]) == sorted(f"/api/licenses/{p}" for p in PATHS)
    approve = schema["paths"]["/api/licenses/proposals/{proposal_id}/approve"]["post"]["responses"]
    assert {"200", "403", "409"} <= set(approve)
    assert schema["paths"]["/api/licenses/entitlements"]["post"]["responses"].keys() >= {"201", "400", "403"}
