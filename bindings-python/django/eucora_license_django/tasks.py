"""Celery tasks: ``reconcile_organization(org_id)`` and ``fan_out()`` (one
``reconcile_organization`` per organisation), for Celery beat.

Celery is optional (extra ``celery``): without it this module still imports and
the functions run inline (``.delay`` is then a plain call), so the rest of the app
never needs Celery installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import OperationalError

try:
    from celery import shared_task
except ImportError:  # pragma: no cover - exercised only without the extra
    def shared_task(*args: Any, **kwargs: Any) -> Any:
        def wrap(fn: Callable[..., Any]) -> Any:
            fn.delay = fn  # type: ignore[attr-defined]
            fn.apply_async = lambda args=(), kwargs=None, **_: fn(*args, **(kwargs or {}))  # type: ignore[attr-defined]
            return fn

        if args and callable(args[0]):
            return wrap(args[0])
        return wrap


# acks_late: a task whose worker died is delivered again, which is safe (same slot, same run).
# OperationalError (a lock wait timed out, a dropped connection) is retried with backoff;
# a run that fails closed is not an error (it is stored and returned).
@shared_task(name="eucora_license_django.tasks.reconcile_organization", acks_late=True,  # type: ignore[untyped-decorator,unused-ignore]
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def reconcile_organization(org_id: str) -> dict[str, Any]:
    """Reconcile one organisation for the current schedule slot (idempotent: a retry in
    the same slot returns the same run; the per-organisation lock keeps two apart)."""
    from .models import Organization
    from .services import queries, runs

    organization = Organization.objects.get(pk=org_id)
    run = runs.reconcile_organization(organization, trigger="schedule")
    return queries.run_dict(run)


@shared_task(name="eucora_license_django.tasks.fan_out")  # type: ignore[untyped-decorator,unused-ignore]
def fan_out() -> list[str]:
    """Queue one ``reconcile_organization`` per organisation; returns their ids."""
    from .models import Organization

    ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    for org_id in ids:
        reconcile_organization.delay(org_id)
    return ids
