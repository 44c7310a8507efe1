"""``manage.py verify_audit_log [--organization X]``: D5's verification of each
organisation's audit chain against its stored checkpoint (cron for auditors).

Prints one JSON line per organisation (``{"organization_id", "ok", "size", "failure"}``)
and exits 2 when any chain fails; ``--checkpoint`` then also advances each stored
checkpoint to the verified log (a log only grows).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...models import Organization
from ...services import governance as gov


class Command(BaseCommand):
    help = "Verify each organisation's audit chain and its stored checkpoint (exit 2 on a failure)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", action="append", default=[], metavar="ID")
        parser.add_argument("--checkpoint", action="store_true", help="write a new checkpoint after a successful verification")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted: list[str] = list(options["organization"])
        orgs = list(Organization.objects.filter(pk__in=wanted)) if wanted else list(Organization.objects.order_by("pk"))
        missing = sorted(set(wanted) - {o.pk for o in orgs})
        if missing:
            raise CommandError(f"unknown organisation(s): {', '.join(missing)}")
        failed = 0
        for org in orgs:
            result = gov.verify_audit(org)
            self.stdout.write(json.dumps({"organization_id": org.pk, **result}, sort_keys=True))
            if result.get("ok"):
                if options["checkpoint"]:
                    gov.write_checkpoint(org)
            else:
                failed += 1
        if failed:
            raise CommandError(f"{failed} audit chain(s) failed verification", returncode=2)
