"""``manage.py seed_demo``: the demo organisation with its 90-day history and one user per role.

Idempotent: users, groups and the organisation are created once; each day of the
history (``seed/history-90d.tar.xz``, from ``scripts/make-demo-seed``) is loaded and
reconciled only if its run is not stored yet, so a second call changes nothing.
Without network or model: the bundles are package data and reconciliation is the
core's. The days are loaded as the host would receive them: catalog, entitlements,
pools and directory rows synchronised to the day's files, each source's export
stored as an import job (a source that sent nothing has its job retired), then the
run for the day's ``as_of``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import lzma
import tarfile
from collections import defaultdict
from importlib import resources
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from ...models import (
    ROLES,
    DirectoryEntry,
    Entitlement,
    ImportJob,
    LicensePool,
    LicenseSKU,
    Organization,
    ReconciliationRun,
    Ruleset,
    Vendor,
)
from ...services import governance as gov
from ...services import imports, runs

DEMO_ORGANIZATION = "org-northwind"
DEMO_PASSWORD = "demo"
SEED_ACTOR: dict[str, Any] = {"type": "user", "id": "system:seed", "roles": []}


def load_history() -> dict[str, dict[str, bytes]]:
    """The seed's bundles: ``{"day-01": {path: bytes}, ...}``."""
    raw = resources.files("eucora_license_django").joinpath("seed/history-90d.tar.xz").read_bytes()
    days: dict[str, dict[str, bytes]] = defaultdict(dict)
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(raw)), mode="r:") as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            if f is None:
                continue
            day, _, path = member.name.partition("/")
            days[day][path] = f.read()
    return dict(sorted(days.items()))


def _csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def ensure_users(stdout: Any = None) -> list[str]:
    """One user per role, named after it, password ``demo`` (demo site only)."""
    user_model = get_user_model()
    made = []
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        user = user_model.objects.filter(**{user_model.USERNAME_FIELD: role}).first()
        if user is None:
            user = user_model.objects.create_user(**{user_model.USERNAME_FIELD: role}, password=DEMO_PASSWORD)
            made.append(role)
        user.groups.add(group)
    return made


def sync_day(organization: Organization, files: dict[str, bytes], at: dt.datetime) -> None:
    """Make the organisation's rows match one day's bundle (in the caller's transaction)."""
    catalog = json.loads(files["catalog.json"])
    for v in catalog.get("vendors", []):
        Vendor.objects.update_or_create(organization=organization, vendor_id=v["id"],
                                        defaults={"name": v.get("name", v["id"]), "contacts": v.get("contacts") or []})
    vendors = {v.vendor_id: v for v in Vendor.objects.filter(organization=organization)}
    for s in catalog.get("skus", []):
        LicenseSKU.objects.update_or_create(
            organization=organization, sku_id=s["id"],
            defaults={"vendor": vendors[s["vendor"]], "sku_code": s.get("sku_code") or "", "name": s.get("name") or s["id"],
                      "model": s["model"], "unit_cost": s.get("unit_cost") or "", "cost_period": s.get("cost_period") or "",
                      "currency": s.get("currency") or ""})
    skus = {s.sku_id: s for s in LicenseSKU.objects.filter(organization=organization)}
    for s in catalog.get("skus", []):
        base = skus.get(s.get("base_sku") or "")
        if skus[s["id"]].base_sku_id != (base.pk if base else None):
            skus[s["id"]].base_sku = base
            skus[s["id"]].save(update_fields=["base_sku"])
    rows = _csv(files["entitlements.csv"])
    keep = set()
    for r in rows:
        keep.add(r["entitlement_id"])
        Entitlement.objects.update_or_create(
            organization=organization, entitlement_id=r["entitlement_id"],
            defaults={"sku": skus[r["sku"]], "contract_id": r.get("contract_id") or "", "quantity": int(r["quantity"]),
                      "starts_on": dt.date.fromisoformat(r["starts_on"]),
                      "ends_on": dt.date.fromisoformat(r["ends_on"]) if r.get("ends_on") else None,
                      "unit_cost": r.get("unit_cost") or "", "currency": r.get("currency") or ""})
    Entitlement.objects.filter(organization=organization).exclude(entitlement_id__in=keep).delete()
    pools = _csv(files.get("pools.csv", b"pool_id,sku,scope,quantity,reserved\n"))
    for p in pools:
        LicensePool.objects.update_or_create(
            organization=organization, pool_id=p["pool_id"],
            defaults={"sku": skus[p["sku"]], "scope": p["scope"], "quantity": int(p["quantity"]) if p.get("quantity") else None,
                      "reserved": int(p.get("reserved") or 0)})
    LicensePool.objects.filter(organization=organization).exclude(pool_id__in=[p["pool_id"] for p in pools]).delete()
    directory = _csv(files.get("directory.csv", b"principal_type,canonical_id,alias,status,region,bu,last_active_at\n"))
    wanted = [(i, d["principal_type"], d["canonical_id"], d["alias"], d.get("status") or "", d.get("region") or "", d.get("bu") or "",
               d.get("last_active_at") or "") for i, d in enumerate(directory)]
    have = list(DirectoryEntry.objects.filter(organization=organization).order_by("position").values_list(
        "position", "principal_type", "canonical_id", "alias", "status", "region", "bu", "last_active_at"))
    if have != wanted:
        DirectoryEntry.objects.filter(organization=organization).delete()
        DirectoryEntry.objects.bulk_create([DirectoryEntry(organization=organization, position=w[0], principal_type=w[1],
                                                           canonical_id=w[2], alias=w[3], status=w[4], region=w[5], bu=w[6],
                                                           last_active_at=w[7]) for w in wanted], batch_size=1000)
    ruleset = json.loads(files["ruleset.json"])
    active = Ruleset.objects.filter(organization=organization, active=True).first()
    if active is None or active.document != ruleset:
        import eucora_license as el

        version = int(ruleset.get("version", 1))
        Ruleset.objects.filter(organization=organization, active=True).update(active=False)
        Ruleset.objects.update_or_create(organization=organization, version=version,
                                         defaults={"ruleset_id": ruleset.get("id", "default"), "hash": el.hash_ruleset(ruleset),
                                                   "document": ruleset, "active": True, "created_at": at})
    keep_jobs = []
    stored = []
    for path, data in sorted(files.items()):
        if not path.startswith("signals/"):
            continue
        name = path.removeprefix("signals/")
        keep_jobs.append((ImportJob.CANONICAL, name))
        current = ImportJob.objects.filter(organization=organization, adapter=ImportJob.CANONICAL, file_name=name, active=True).first()
        if current is not None and current.input_hash == imports.import_hash(data):
            continue
        rows_ = imports.canonical_rows(name, data)
        job = imports.store_job(organization, adapter=ImportJob.CANONICAL, file_name=name, data=data, created_at=at,
                                created_by=SEED_ACTOR["id"], source=name.rsplit(".", 1)[0], rows=rows_, counts=(len(rows_), 0, 0))
        stored.append(job)
    imports.retire_missing(organization, keep_jobs)
    if stored:
        gov.append_audit(organization, actor=SEED_ACTOR, action="import.upload", entity=("import_job", str(stored[0].pk)),
                         evidence=[j.input_hash for j in stored],
                         details={"adapter": ImportJob.CANONICAL, "files": [j.file_name for j in stored], "seed": True}, at=at)


class Command(BaseCommand):
    help = "Create the demo organisation (90-day history, reconciled day by day) and one demo user per role (password 'demo')."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=90, help="load the first N days only (default 90)")
        parser.add_argument("--catch-up", action="store_true",
                            help="also reconcile the current schedule slot with the last day's data (a fresh sidebar)")

    def handle(self, *args: Any, **options: Any) -> None:
        made = ensure_users()
        org, created = Organization.objects.get_or_create(
            pk=DEMO_ORGANIZATION, defaults={"name": "Northwind Traders (demo)"})
        history = load_history()
        days = list(history.items())[: max(0, int(options["days"]))]
        loaded = 0
        with gov.deferred_checkpoints():
            for day, files in days:
                params = json.loads(files["bundle.json"])
                as_of = gov.parse_instant(params["as_of"])
                if ReconciliationRun.objects.filter(organization=org, run_id=runs.run_id_for(as_of),
                                                    status__in=(ReconciliationRun.OK, ReconciliationRun.DEGRADED)).exists():
                    continue
                if org.expected_sources != params.get("expected_sources", []):
                    org.expected_sources = params.get("expected_sources", [])
                    org.save(update_fields=["expected_sources"])
                with transaction.atomic():
                    sync_day(org, files, as_of)
                run = runs.reconcile_organization(org, as_of=as_of, now=as_of, trigger="seed", actor=SEED_ACTOR)
                loaded += 1
                if run.status == ReconciliationRun.FAILED:
                    self.stderr.write(f"{day}: run failed {run.reason_codes}")
            if options["catch_up"]:
                runs.reconcile_organization(org, now=timezone.now(), trigger="seed", actor=SEED_ACTOR)
        gov.write_checkpoint(org)
        self.stdout.write(f"seed_demo: organisation {org.pk} ({'created' if created else 'exists'}), {loaded} day(s) reconciled, "
                          f"users created: {', '.join(made) or 'none'}")
