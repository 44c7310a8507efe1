"""Shared setup of the page tests (unit and browser): a small organisation with
two reconciled days ending in the current schedule slot, and the five role users."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from core_helpers import SIGNALS, make_org
from eucora_license_django.models import Organization
from eucora_license_django.services import imports, runs

ROLES = ("license_admin", "license_auditor", "ops_manager", "agent_operator", "viewer")
DAY = dt.timedelta(days=1)
#: a second day's signals: one more Visio installation (a diff with reason new_signal).
SIGNALS_DAY2 = SIGNALS + b"intune,v4,2026-11-22T09:00:00Z,visio,installation,,,PF4\n"
#: a third day's signals that fail the run closed (conflicting duplicate raw id).
SIGNALS_BAD = SIGNALS_DAY2 + b"entra,a1,2026-11-21T10:00:00Z,m365-e3,assignment,active,zed@acme.example,\n"


def make_users() -> dict[str, User]:
    """One user per role, named after it (as the demo site's)."""
    users = {}
    for role in ROLES:
        user = User.objects.create_user(role, password="demo")
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        users[role] = user
    return users


def load(org: Organization, data: bytes, at: dt.datetime) -> None:
    """Replace the organisation's signal file with ``data``."""
    with transaction.atomic():
        imports.store_job(org, adapter="canonical", file_name="signals.csv", data=data, created_at=at,
                          rows=imports.canonical_rows("signals.csv", data))


def reconciled_org(*, end: dt.datetime | None = None) -> tuple[Organization, Any]:
    """The organisation reconciled twice: the slot before ``end``'s and ``end``'s
    (default: now's), the second with one more Visio unit. Returns (org, last run)."""
    slot = runs.schedule_slot(end or timezone.now())
    org = make_org()
    runs.reconcile_organization(org, as_of=slot - DAY)
    load(org, SIGNALS_DAY2, slot)
    last = runs.reconcile_organization(org, as_of=slot)
    return org, last
