"""Concurrency: two writers appending to one audit chain never fork it, and two
reconciles of one organisation at once make one run. Real threads, each with its
own database connection and transaction (on PostgreSQL the row locks are what
serialise them; on SQLite the per-process lock and BEGIN IMMEDIATE)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction

from core_helpers import AS_OF, core_settings, make_org  # noqa: F401
from eucora_license_django.models import AuditLog, ConsumptionSnapshot, Organization, ReconciliationRun
from eucora_license_django.services import governance as gov
from eucora_license_django.services import runs

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads started together; re-raise the first error."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as e:
            errors.append(e)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    if errors:
        raise errors[0]
    return results


def test_two_writers_never_fork_the_chain(core_settings: Path) -> None:  # noqa: F811
    org = Organization.objects.create(id="org-race", name="Race")
    per_thread = 15

    def work(i: int) -> None:
        o = Organization.objects.get(pk=org.pk)
        for k in range(per_thread):
            with transaction.atomic():
                gov.append_audit(o, actor={"type": "user", "id": f"writer{i}", "roles": []}, action="view.sidebar",
                                 entity=("n", f"{i}-{k}"), correlation_id=f"t{i}")

    in_threads(2, work)
    rows = list(AuditLog.objects.filter(organization=org).order_by("seq"))
    assert [r.seq for r in rows] == list(range(1, 2 * per_thread + 1))
    assert all(rows[i].prev_hash == rows[i - 1].entry_hash for i in range(1, len(rows)))
    assert len({r.prev_hash for r in rows}) == len(rows)  # no two entries share a parent: no fork
    assert {r.actor_id for r in rows} == {"writer0", "writer1"}
    assert gov.verify_audit(org) == {"ok": True, "size": 2 * per_thread, "failure": None}
    checkpoint = gov.read_checkpoint(org)
    assert checkpoint is not None and checkpoint["size"] == 2 * per_thread


def test_two_reconciles_of_one_organisation_make_one_run(core_settings: Path) -> None:  # noqa: F811
    org = make_org()

    def work(i: int) -> int:
        o = Organization.objects.get(pk=org.pk)
        return runs.reconcile_organization(o, as_of=AS_OF, correlation_id=f"t{i}").pk

    pks = in_threads(2, work)
    assert pks[0] == pks[1]
    assert ReconciliationRun.objects.filter(organization=org).count() == 1
    assert ConsumptionSnapshot.objects.filter(organization=org).count() == 1
    assert AuditLog.objects.filter(organization=org, action="reconcile.run").count() == 1
    assert gov.verify_audit(org)["ok"] is True
