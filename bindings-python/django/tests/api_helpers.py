"""Shared setup of the API tests: the demo-like organisation reconciled once, one user
per D1 role with a token, and a client per role (token authentication)."""

from __future__ import annotations

from typing import Any

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core_helpers import AS_OF, make_org, make_user
from eucora_license_django.models import (
    AgentRun,
    Approval,
    AuditLog,
    ConsumptionSnapshot,
    Entitlement,
    ImportJob,
    Organization,
    Proposal,
    ReconciliationRun,
    Ruleset,
)
from eucora_license_django.services import runs

ROLES = ("license_admin", "license_auditor", "ops_manager", "agent_operator", "viewer")
BASE = "/api/licenses/"

NEW_ENTITLEMENT = {"entitlement_id": "E-9", "sku": "visio", "contract_id": "C-9", "quantity": 5, "starts_on": "2026-12-01",
                   "ends_on": None, "unit_cost": "12.50", "currency": "USD"}


def reconciled_org() -> Organization:
    """make_org, reconciled once at AS_OF (one successful snapshot and its pack)."""
    org = make_org()
    run = runs.reconcile_organization(org, as_of=AS_OF)
    assert run.status in ("ok", "degraded"), run.reason_codes
    return org


def client_for(username: str, *roles: str) -> APIClient:
    """An APIClient authenticated by a token of a (new) user holding ``roles``."""
    user = make_user(username, *roles)
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def state_counts(org: Organization) -> dict[str, int]:
    """Row counts of everything an API write may change (audit entries apart)."""
    models: dict[str, Any] = {"proposals": Proposal, "approvals": Approval, "entitlements": Entitlement, "runs": ReconciliationRun,
                              "snapshots": ConsumptionSnapshot, "imports": ImportJob, "agent_runs": AgentRun, "rulesets": Ruleset}
    return {name: m.objects.filter(organization=org).count() for name, m in models.items()}


def audit_count(org: Organization) -> int:
    return AuditLog.objects.filter(organization=org).count()
