"""The persona x endpoint matrix (issue 14): every D1 role against every endpoint of
Part E, allowed or refused as the default policy's access table says (written out
here from DESIGN D1, independently of the core). A refused request is 403 with the
D1 reason and the action, appends exactly one audit entry carrying the request's
correlation id, and changes nothing else; an allowed write appends exactly one."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_helpers import BASE, NEW_ENTITLEMENT, ROLES, audit_count, client_for, reconciled_org, state_counts
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from rest_framework.test import APIClient

from core_helpers import SIGNALS, core_settings, make_user  # noqa: F401
from eucora_license_django.models import ConsumptionSnapshot, Organization, Proposal
from eucora_license_django.services import governance as gov
from eucora_license_django.services import proposals, runs

pytestmark = pytest.mark.django_db

VIEWS = {"view.sidebar", "view.dashboard", "view.alerts", "view.recommendations", "view.evidence"}
OPS_VIEWS = {"view.sidebar", "view.dashboard", "view.alerts", "view.recommendations"}
APPROVES = {"entitlement.approve", "ruleset.approve", "mapping.approve", "recommendation.approve", "policy.approve"}
#: DESIGN D1's default access table.
ACCESS: dict[str, set[str]] = {
    "license_admin": VIEWS | {"catalog.write", "integration.write", "import.upload", "reconcile.run", "entitlement.propose",
                              "ruleset.propose", "mapping.propose", "recommendation.propose", "policy.propose"},
    "license_auditor": VIEWS | {"evidence.export", "audit.run"},
    "ops_manager": OPS_VIEWS | APPROVES,
    "agent_operator": OPS_VIEWS | {"import.upload", "reconcile.run", "entitlement.propose", "mapping.propose",
                                   "recommendation.propose", "agent.run"},
    "viewer": {"view.sidebar", "view.dashboard"},
}


@dataclass(frozen=True)
class Ctx:
    org: Organization
    snapshot_hash: str
    proposal_id: str


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    action: str
    path: Callable[[Ctx], str]
    ok_status: int
    body: Callable[[Ctx], Any] | None = None
    multipart: bool = False

    @property
    def write(self) -> bool:
        return self.method == "POST"


def _ruleset(ctx: Ctx) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(runs.active_ruleset(ctx.org)))
    doc["version"] = int(doc.get("version", 1)) + 1
    return doc


def _upload(ctx: Ctx) -> dict[str, Any]:
    return {"adapter": "canonical", "files": [SimpleUploadedFile("signals-2.csv", SIGNALS, content_type="text/csv")]}


ENDPOINTS = [
    Endpoint("summary", "GET", "view.sidebar", lambda c: "summary", 200),
    Endpoint("skus", "GET", "view.dashboard", lambda c: "skus", 200),
    Endpoint("sku", "GET", "view.dashboard", lambda c: "skus/visio", 200),
    Endpoint("snapshots", "GET", "view.dashboard", lambda c: "snapshots", 200),
    Endpoint("alerts", "GET", "view.alerts", lambda c: "alerts", 200),
    Endpoint("recommendations", "GET", "view.recommendations", lambda c: "recommendations", 200),
    Endpoint("evidence", "GET", "view.evidence", lambda c: f"evidence/{c.snapshot_hash}", 200),
    Endpoint("evidence-download", "GET", "evidence.export", lambda c: f"evidence/{c.snapshot_hash}/download", 200),
    Endpoint("proposals", "GET", "view.dashboard", lambda c: "proposals", 200),
    Endpoint("audit", "GET", "audit.run", lambda c: "audit", 200),
    Endpoint("audit-verify", "GET", "audit.run", lambda c: "audit/verify", 200),
    Endpoint("entitlements", "POST", "entitlement.propose", lambda c: "entitlements", 201, lambda c: NEW_ENTITLEMENT),
    Endpoint("approve", "POST", "entitlement.approve", lambda c: f"proposals/{c.proposal_id}/approve", 200,
             lambda c: {"comment": "ok"}),
    Endpoint("reject", "POST", "entitlement.approve", lambda c: f"proposals/{c.proposal_id}/reject", 200,
             lambda c: {"comment": "no"}),
    Endpoint("reconcile", "POST", "reconcile.run", lambda c: "reconcile/run", 202),
    Endpoint("import", "POST", "import.upload", lambda c: "import", 201, _upload, multipart=True),
    Endpoint("rulesets", "POST", "ruleset.propose", lambda c: "rulesets", 201, _ruleset),
    Endpoint("agent-run", "POST", "agent.run", lambda c: "agents/anomaly_detector/run", 201),
]


def call(client: APIClient, ep: Endpoint, ctx: Ctx, correlation_id: str) -> Any:
    url = BASE + ep.path(ctx)
    headers = {"HTTP_X_CORRELATION_ID": correlation_id}
    if ep.method == "GET":
        return client.get(url, **headers)  # type: ignore[arg-type]
    body = ep.body(ctx) if ep.body else None
    if ep.multipart:
        return client.post(url, body, format="multipart", **headers)  # type: ignore[arg-type]
    return client.post(url, body, format="json", **headers)  # type: ignore[arg-type]


@pytest.fixture
def ctx(core_settings: Path) -> Ctx:  # noqa: F811
    org = reconciled_org()
    snap = ConsumptionSnapshot.objects.get(organization=org)
    proposer = gov.actor_for(make_user("proposer", "license_admin"))
    p = proposals.propose_entitlement(org, proposer, NEW_ENTITLEMENT | {"entitlement_id": "E-8"}, correlation_id="corr-setup")
    return Ctx(org, snap.snapshot_hash, p.proposal_id)


def test_every_endpoint_of_part_e_is_in_the_matrix() -> None:
    from eucora_license_django.api import urls

    assert len(urls.urlpatterns) == len(ENDPOINTS)
    assert set(ACCESS) == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda e: e.name)
def test_persona_endpoint_matrix(ctx: Ctx, role: str, ep: Endpoint) -> None:
    client = client_for(f"u-{role}", role)
    allowed = ep.action in ACCESS[role]
    before_state, before_audit = state_counts(ctx.org), audit_count(ctx.org)
    cid = f"corr-{role}-{ep.name}"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = call(client, ep, ctx, cid)
    assert response["X-Correlation-ID"] == cid
    entries = gov.audit_entries(ctx.org)
    if allowed:
        assert response.status_code == ep.ok_status, response.content
        if ep.write:
            assert len(entries) == before_audit + 1
            assert entries[-1]["correlation_id"] == cid and entries[-1]["actor"]["type"] in ("user", "agent")
            assert state_counts(ctx.org) != before_state
        else:
            assert len(entries) == before_audit and state_counts(ctx.org) == before_state
        return
    assert response.status_code == 403, response.content
    assert response.json() == {"code": "role_lacks_action", "action": ep.action, "message": f"{ep.action} refused"}
    assert state_counts(ctx.org) == before_state
    assert len(entries) == before_audit + 1
    last = entries[-1]
    assert last["action"] == ep.action and last["correlation_id"] == cid
    assert last["actor"] == {"type": "user", "id": f"u-{role}", "roles": [role]}
    assert last["details"]["allowed"] is False and last["details"]["reason"] == "role_lacks_action"
    assert Proposal.objects.get(proposal_id=ctx.proposal_id).state == "pending"
