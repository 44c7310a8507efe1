"""Scale-out: a fleet of organisations fans out over real Celery workers.

`eucora_license_django.tasks.fan_out` (sent by name, as Celery beat sends it)
queues one `reconcile_organization(org_id)` per organisation on the broker (a
real Redis server); two worker processes
(`celery -A demo_site worker`) consume them against the test database. Every
organisation is reconciled exactly once (no run lost, none doubled), both
workers take part, and fanning out again in the same schedule slot adds no run.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import CeleryWorkers, in_ci

ORGS = 6
RECONCILE = "eucora_license_django.tasks.reconcile_organization"
FAN_OUT = "eucora_license_django.tasks.fan_out"


def _tasks_module() -> Any:
    """The app's tasks: skipped while the app does not exist yet, never under CI once the settings install it."""
    from django.conf import settings

    if "eucora_license_django" not in settings.INSTALLED_APPS:
        pytest.skip(f"{settings.SETTINGS_MODULE} does not install eucora_license_django")
    try:
        return importlib.import_module("eucora_license_django.tasks")
    except ModuleNotFoundError as exc:
        if in_ci():
            pytest.fail(f"eucora_license_django is installed but its tasks do not import: {exc}")
        pytest.skip(f"eucora_license_django.tasks is not importable yet: {exc}")


@contextmanager
def _sender(redis_url: str) -> Iterator[Any]:
    """A Celery app of the test's own that only sends to the test broker and reads results.

    The demo site's app is left as it is (its broker and eager setting belong to
    the other tests); tasks are sent by name, as Celery beat does.
    """
    from celery import Celery

    app = Celery("eucora-test-sender", broker=redis_url, backend=redis_url, set_as_current=False)
    app.conf.result_extended = True
    try:
        yield app
    finally:
        app.close()


def _make_organisations(count: int) -> dict[str, int]:
    """`count` small organisations, each with its own entitled quantity (org id -> quantity)."""
    from eucora_license_django.models import Entitlement, LicenseSKU, Organization, Vendor

    fleet: dict[str, int] = {}
    for i in range(1, count + 1):
        org = Organization.objects.create(id=f"fleet-{i:02d}", name=f"Fleet member {i}", expected_sources=[])
        vendor = Vendor.objects.create(organization=org, vendor_id="acme", name="Acme")
        sku = LicenseSKU.objects.create(organization=org, sku_id="acme-suite", vendor=vendor, name="Acme Suite", model="user")
        Entitlement.objects.create(
            organization=org, entitlement_id=f"ent-{i:02d}", sku=sku, quantity=10 * i, starts_on=dt.date(2026, 1, 1)
        )
        fleet[org.pk] = 10 * i
    return fleet


def _wait_for_runs(org_ids: list[str], timeout: float) -> dict[str, list[Any]]:
    """Wait until every organisation has a finished run (not `running`); returns runs per org."""
    from eucora_license_django.models import ReconciliationRun

    deadline = time.monotonic() + timeout
    while True:
        runs: dict[str, list[Any]] = {org_id: [] for org_id in org_ids}
        for run in ReconciliationRun.objects.filter(organization_id__in=org_ids).order_by("organization_id", "as_of"):
            runs[run.organization_id].append(run)
        finished = all(r and all(x.status != ReconciliationRun.RUNNING for x in r) for r in runs.values())
        if finished or time.monotonic() > deadline:
            return runs
        time.sleep(0.2)


@pytest.mark.cross_process
def test_fan_out_reconciles_every_organisation_exactly_once_over_two_workers(
    transactional_db: None, redis_url: str, celery_workers: CeleryWorkers
) -> None:
    tasks = _tasks_module()
    assert (tasks.fan_out.name, tasks.reconcile_organization.name) == (FAN_OUT, RECONCILE)
    from celery.result import AsyncResult

    fleet = _make_organisations(ORGS)
    org_ids = sorted(fleet)
    with _sender(redis_url) as app:
        app.control.purge()
        names = celery_workers.start(2, app="demo_site", redis_url=redis_url)

        app.send_task(FAN_OUT)
        runs = _wait_for_runs(org_ids, timeout=180)
        done = celery_workers.wait_succeeded(RECONCILE, ORGS, timeout=60)

        # No run lost, none doubled: one finished run per organisation in the database ...
        assert {org: len(r) for org, r in runs.items()} == dict.fromkeys(org_ids, 1), celery_workers.failures()
        for org_id, (run,) in runs.items():
            assert run.status in ("ok", "degraded"), f"{org_id}: {run.status} {run.reason_codes} {run.errors}"
            # Each organisation's snapshot holds its own data, not another's.
            snapshot = json.loads(bytes(run.snapshot.canonical))
            assert snapshot["organization_id"] == org_id
            assert [(s["sku"], s["entitled"]) for s in snapshot["skus"]] == [("acme-suite", fleet[org_id])]
        # ... and one task per organisation in the workers' logs, each run by one worker.
        ids = [task_id for per_worker in done.values() for task_id in per_worker]
        assert len(ids) == len(set(ids)) == ORGS, done
        reconciled: Counter[tuple[str, ...]] = Counter()
        ran_on: Counter[str] = Counter()
        for task_id in ids:
            result = AsyncResult(task_id, app=app)
            assert result.state == "SUCCESS"
            reconciled[tuple(result.args)] += 1
            ran_on[result.worker] += 1
        assert reconciled == Counter({(org_id,): 1 for org_id in org_ids})
        assert set(ran_on) == set(names), f"both workers should reconcile: {dict(ran_on)}"
        assert sum(len(v) for v in celery_workers.wait_succeeded(FAN_OUT, 1).values()) == 1

        # A retry in the same schedule slot is the same run: fanning out again adds none.
        first = {org_id: (r[0].run_id, r[0].as_of) for org_id, r in runs.items()}
        app.send_task(FAN_OUT)
        celery_workers.wait_succeeded(RECONCILE, 2 * ORGS, timeout=120)
        time.sleep(1.0)  # a duplicate delivery would show up here
        assert sum(len(v) for v in celery_workers.succeeded(RECONCILE).values()) == 2 * ORGS
        assert sum(len(v) for v in celery_workers.succeeded(FAN_OUT).values()) == 2
    again = _wait_for_runs(org_ids, timeout=60)
    for org_id, (run_id, as_of) in first.items():
        same_slot = [r for r in again[org_id] if r.as_of == as_of]
        assert [r.run_id for r in same_slot] == [run_id], f"{org_id}: {[(r.run_id, r.as_of) for r in again[org_id]]}"
    assert celery_workers.failures() == []
