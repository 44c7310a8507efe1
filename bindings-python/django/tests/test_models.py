"""Models: immutability of snapshots, evidence packs and audit entries (every ORM
path, and the PostgreSQL trigger), the role groups of the data migration, and
migrations in step with the models."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from core_helpers import core_settings, make_org  # noqa: F401
from eucora_license_django.models import (
    ROLES,
    AuditLog,
    ConsumptionSnapshot,
    EvidencePack,
    ImmutableRecordError,
    Organization,
)
from eucora_license_django.services import governance as gov
from eucora_license_django.services import runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def reconciled(core_settings: Path) -> Organization:  # noqa: F811
    org = make_org()
    run = runs.reconcile_organization(org, as_of=runs.schedule_slot(gov.parse_instant("2026-11-22T06:00:00Z")))
    assert run.status == "ok"
    return org


def immutable_rows(org: Organization) -> list[ConsumptionSnapshot | EvidencePack | AuditLog]:
    return [ConsumptionSnapshot.objects.get(organization=org), EvidencePack.objects.get(organization=org),
            AuditLog.objects.filter(organization=org).order_by("seq").first()]  # type: ignore[list-item]


def test_immutable_rows_refuse_save_and_delete(reconciled: Organization) -> None:
    for row in immutable_rows(reconciled):
        model = type(row)
        with pytest.raises(ImmutableRecordError):
            row.save()
        with pytest.raises(ImmutableRecordError):
            row.save(update_fields=["created_at" if model is not AuditLog else "action"])
        with pytest.raises(ImmutableRecordError):
            row.delete()
        assert model.objects.filter(pk=row.pk).exists()


def test_immutable_querysets_refuse_update_delete_and_bulk(reconciled: Organization) -> None:
    snap = ConsumptionSnapshot.objects.get(organization=reconciled)
    cases: list[tuple[Any, str, str]] = [(ConsumptionSnapshot, "health", "degraded"), (EvidencePack, "pack_hash", "x"),
                                         (AuditLog, "action", "x")]
    for model, field, value in cases:
        qs = model.objects.filter(organization=reconciled)
        before = list(qs.values_list(field, flat=True))
        with pytest.raises(ImmutableRecordError):
            qs.update(**{field: value})
        with pytest.raises(ImmutableRecordError):
            qs.delete()
        with pytest.raises(ImmutableRecordError):
            model.objects.bulk_update(list(qs), [field])
        with pytest.raises(ImmutableRecordError):
            model.objects.update_or_create(pk=qs.first().pk, defaults={field: value})
        assert list(model.objects.filter(organization=reconciled).values_list(field, flat=True)) == before
    assert ConsumptionSnapshot.objects.get(pk=snap.pk).canonical == snap.canonical


def test_organization_delete_is_refused_while_history_exists(reconciled: Organization) -> None:
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        reconciled.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the immutability triggers exist on PostgreSQL only")
def test_postgres_triggers_refuse_raw_sql(reconciled: Organization) -> None:
    for table in ("eucora_license_django_consumptionsnapshot", "eucora_license_django_evidencepack",
                  "eucora_license_django_auditlog"):
        for sql in (f"UPDATE {table} SET created_at = created_at" if table != "eucora_license_django_auditlog"
                    else f"UPDATE {table} SET action = action", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql)
    assert ConsumptionSnapshot.objects.filter(organization=reconciled).count() == 1


def test_roles_are_groups_created_by_the_migration() -> None:
    assert set(ROLES) == {"license_admin", "license_auditor", "ops_manager", "agent_operator", "viewer"}
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)


def test_migrations_match_the_models() -> None:
    out = io.StringIO()
    call_command("makemigrations", "eucora_license_django", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_system_checks(settings: Any) -> None:
    from eucora_license_django.checks import check_settings

    assert check_settings() == []
    settings.USE_TZ = False
    settings.EUCORA_LICENSE = {"NOTIFIER": "no.such.Notifier"}
    ids = [m.id for m in check_settings()]
    assert ids == ["eucora_license.E001", "eucora_license.E002"]
    settings.USE_TZ = True
    settings.EUCORA_LICENSE = {"CHEKPOINT_DIR": "/tmp"}
    assert [m.id for m in check_settings()] == ["eucora_license.E002"]
