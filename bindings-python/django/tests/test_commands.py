"""Management commands: ``reconcile_licenses`` (idempotent per slot, failures exit 2
and keep the truth) and ``seed_demo`` (idempotent; users per role; the history
reconciled day by day)."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from core_helpers import SIGNALS, core_settings, make_org  # noqa: F401
from eucora_license_django.models import (
    ROLES,
    AuditLog,
    ConsumptionSnapshot,
    Organization,
    ReconciliationRun,
)
from eucora_license_django.services import governance as gov
from eucora_license_django.services import imports, queries, runs

pytestmark = pytest.mark.django_db


def call(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_reconcile_licenses_is_idempotent(core_settings: Path) -> None:  # noqa: F811
    a, b = make_org("org-a"), make_org("org-b")
    out = call("reconcile_licenses")
    slot = runs.run_id_for(runs.schedule_slot(dt.datetime.now(dt.UTC)))
    assert out.splitlines() == [f"org-a {slot} ok", f"org-b {slot} ok"]
    call("reconcile_licenses", "--organization", "org-a")
    assert ReconciliationRun.objects.filter(organization=a).count() == 1
    assert ConsumptionSnapshot.objects.filter(organization=a).count() == 1
    assert ReconciliationRun.objects.filter(organization=b).count() == 1
    with pytest.raises(CommandError, match="unknown organisation"):
        call("reconcile_licenses", "--organization", "org-x")


def test_reconcile_licenses_failure_exits_2_and_keeps_truth(core_settings: Path) -> None:  # noqa: F811
    org = make_org()
    runs.reconcile_organization(org, as_of=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    bad = SIGNALS + b"entra,a1,2026-11-21T10:00:00Z,m365-e3,assignment,active,zed@acme.example,\n"
    with transaction.atomic():
        imports.store_job(org, adapter="canonical", file_name="signals.csv", data=bad, created_at=dt.datetime.now(dt.UTC),
                          rows=imports.canonical_rows("signals.csv", bad))
    with pytest.raises(CommandError) as err:
        call("reconcile_licenses")
    assert err.value.returncode == 2
    assert ConsumptionSnapshot.objects.filter(organization=org).count() == 1
    assert queries.summary(org)["health"] == "failed"


def test_seed_demo_is_idempotent(core_settings: Path) -> None:  # noqa: F811
    out = call("seed_demo", "--days", "3")
    assert "3 day(s) reconciled" in out
    org = Organization.objects.get(pk="org-northwind")
    for role in ROLES:
        user = authenticate(username=role, password="demo")
        assert user is not None and gov.actor_for(user) == {"type": "user", "id": role, "roles": [role]}
    snaps = list(ConsumptionSnapshot.objects.filter(organization=org).order_by("sequence"))
    assert [s.sequence for s in snaps] == [1, 2, 3] and all(s.health == "ok" for s in snaps)
    assert [r.as_of for r in ReconciliationRun.objects.filter(organization=org).order_by("as_of")] == [
        dt.datetime(2026, 9, 1, 6, tzinfo=dt.UTC) + dt.timedelta(days=i) for i in range(3)]
    counts = (User.objects.count(), ReconciliationRun.objects.count(), AuditLog.objects.count())
    out = call("seed_demo", "--days", "3")
    assert "0 day(s) reconciled" in out and "users created: none" in out
    assert (User.objects.count(), ReconciliationRun.objects.count(), AuditLog.objects.count()) == counts
    # The history continues where it stopped, chained.
    call("seed_demo", "--days", "4")
    snaps = list(ConsumptionSnapshot.objects.filter(organization=org).order_by("sequence"))
    assert [s.sequence for s in snaps] == [1, 2, 3, 4] and snaps[3].previous_hash == snaps[2].snapshot_hash
    summary = queries.summary(org, now=snaps[3].reconciled_at + dt.timedelta(hours=1))
    assert summary["health"] == "ok" and summary["sequence"] == 4 and summary["consumed"] is not None
    assert gov.verify_audit(org)["ok"] is True and gov.read_checkpoint(org)["size"] == AuditLog.objects.count()  # type: ignore[index]


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the trigger refuses the raw DELETE")
def test_verify_audit_log(core_settings: Path) -> None:  # noqa: F811
    org = make_org()
    runs.reconcile_organization(org, as_of=dt.datetime(2026, 11, 22, 6, tzinfo=dt.UTC))
    gov.write_checkpoint(org)
    out = call("verify_audit_log")
    assert json.loads(out) == {"organization_id": "org-acme", "ok": True, "size": 1, "failure": None}
    with connection.cursor() as cur:
        cur.execute("DELETE FROM eucora_license_django_auditlog WHERE organization_id = %s", [org.pk])
    with pytest.raises(CommandError) as err:
        call("verify_audit_log", "--organization", "org-acme")
    assert err.value.returncode == 2
