"""Shared setup of the core tests (models, services, commands, concurrency): a small
organisation, users with roles, and per-test checkpoint / media directories.
Imported by the test modules (not a conftest: tests/conftest.py is the infra's)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction

from eucora_license_django.models import Entitlement, LicenseSKU, Organization, Vendor
from eucora_license_django.services import imports

REPO = Path(__file__).resolve().parents[3]
AS_OF = dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC)

SIGNALS = b"""source,raw_id,observed_at,sku,kind,status,user,device_serial
entra,a1,2026-11-21T09:00:00Z,m365-e3,assignment,active,alice@acme.example,
entra,a2,2026-11-21T09:00:00Z,m365-e3,assignment,active,bob@acme.example,
entra,a3,2026-11-21T09:00:00Z,m365-e3,assignment,revoked,carol@acme.example,
intune,v1,2026-11-21T09:00:00Z,visio,installation,,,PF1
intune,v2,2026-11-21T09:00:00Z,visio,installation,,,PF2
intune,v3,2026-11-21T09:00:00Z,visio,installation,,,PF3
"""


@pytest.fixture
def core_settings(settings: Any, tmp_path: Path) -> Path:
    """Checkpoints and evidence packs in the test's own directories."""
    settings.EUCORA_LICENSE = {**getattr(settings, "EUCORA_LICENSE", {}), "CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
                               "LLM_CLIENT": None}
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "media")}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return tmp_path


def make_org(org_id: str = "org-acme", *, signals: bytes = SIGNALS) -> Organization:
    """An organisation with two SKUs, two entitlements and one signal file per source."""
    org = Organization.objects.create(id=org_id, name="Acme", expected_sources=["entra", "intune"])
    ms = Vendor.objects.create(organization=org, vendor_id="microsoft", name="Microsoft")
    e3 = LicenseSKU.objects.create(organization=org, sku_id="m365-e3", vendor=ms, name="Microsoft 365 E3", model="user",
                                   unit_cost="36.00", cost_period="month", currency="USD")
    visio = LicenseSKU.objects.create(organization=org, sku_id="visio", vendor=ms, name="Visio", model="device",
                                      unit_cost="12.50", cost_period="month", currency="USD")
    Entitlement.objects.create(organization=org, entitlement_id="E-1", sku=e3, quantity=3, starts_on=dt.date(2026, 1, 1))
    Entitlement.objects.create(organization=org, entitlement_id="E-2", sku=visio, quantity=2, starts_on=dt.date(2026, 1, 1),
                               unit_cost="12.50", currency="USD")
    with transaction.atomic():
        imports.store_job(org, adapter="canonical", file_name="signals.csv", data=signals, created_at=AS_OF,
                          rows=imports.canonical_rows("signals.csv", signals))
    return org


def make_user(name: str, *roles: str, superuser: bool = False) -> User:
    """A user in the given role groups."""
    if superuser:
        user = User.objects.create_superuser(name, password="pw")
    else:
        user = User.objects.create_user(name, password="pw")
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user
