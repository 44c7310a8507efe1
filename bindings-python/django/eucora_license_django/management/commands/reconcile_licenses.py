"""``manage.py reconcile_licenses [--organization X]``: reconcile for the current schedule slot (cron).

Idempotent and safe to retry: a run's ``as_of`` is the current slot (now rounded
down to ``SCHEDULE_INTERVAL``) and its ``run_id`` derives from it, so the same inputs
give the same snapshot and no second row; a database lock per organisation keeps
two runs of one organisation apart. A run that fails closed keeps the previous
truth (the sidebar reads failed); the command then exits with status 2.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...models import Organization, ReconciliationRun
from ...services import runs


class Command(BaseCommand):
    help = "Reconcile every organisation (or one) for the current schedule slot; idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", action="append", default=[], metavar="ID",
                            help="organisation id (repeatable; default: every organisation)")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted: list[str] = list(options["organization"])
        orgs = list(Organization.objects.filter(pk__in=wanted)) if wanted else list(Organization.objects.order_by("pk"))
        missing = sorted(set(wanted) - {o.pk for o in orgs})
        if missing:
            raise CommandError(f"unknown organisation(s): {', '.join(missing)}")
        failed = 0
        for org in orgs:
            run = runs.reconcile_organization(org, trigger="schedule")
            self.stdout.write(f"{org.pk} {run.run_id} {run.status}" + (f" {','.join(run.reason_codes)}" if run.reason_codes else ""))
            failed += run.status == ReconciliationRun.FAILED
        if failed:
            raise CommandError(f"{failed} run(s) failed closed (previous truth kept)", returncode=2)
