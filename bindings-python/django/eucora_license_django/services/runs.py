"""Reconciliation of an organisation from its rows (DESIGN A, Part E "Runs").

:func:`reconcile_organization` builds the A1 bundle from the database (catalog,
entitlements, pools, directory, the active ruleset, the active import jobs' exact
input bytes), hands it to ``eucora_license.reconcile`` chained to the previous
snapshot's evidence pack, and stores the outcome: a ``ConsumptionSnapshot``
(canonical bytes), its ``EvidencePack`` (a file in Django's storage), the
``ConsumptionUnit`` rows, the ``Alert`` rows (upserted by ``alert_id``) and the
``ReconciliationRun``, plus one audit entry — in one transaction that holds the
organisation's ``RunLock`` row (``SELECT ... FOR UPDATE``), so two runs of one
organisation never overlap. A scheduled run's ``as_of`` is the current schedule
slot and its ``run_id`` derives from it: a retry in the same slot returns the run
already made (same snapshot, no second row). A run that fails closed keeps the
previous truth (no snapshot, nothing else changed) and flips the sidebar to failed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import tarfile
from collections.abc import Iterable, Mapping
from typing import Any

import eucora_license as el
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils import timezone

from ..conf import default_ruleset_document, get_notifier, license_settings
from ..models import (
    Alert,
    ConsumptionSnapshot,
    ConsumptionUnit,
    DirectoryEntry,
    Entitlement,
    EvidencePack,
    ImportJob,
    Integration,
    LicensePool,
    LicenseSKU,
    Organization,
    ReconciliationRun,
    Ruleset,
    RunLock,
    Vendor,
)
from . import governance as gov

log = logging.getLogger(__name__)

#: Snapshots given to ``eucora_license.alerts`` (oldest first): Part C looks back at
#: most 90 days, a few more keep the chain's context.
ALERT_HISTORY = 120


# ------------------------------------------------------------------------------- schedule


def schedule_slot(now: dt.datetime, interval_seconds: int | None = None) -> dt.datetime:
    """``now`` rounded down to the schedule interval (slots counted from the Unix epoch, UTC)."""
    interval = interval_seconds or license_settings().schedule_interval
    ts = int(now.astimezone(dt.UTC).timestamp())
    return dt.datetime.fromtimestamp(ts - ts % interval, tz=dt.UTC)


def run_id_for(as_of: dt.datetime) -> str:
    """The run id of the run describing ``as_of``: ``run-<as_of in RFC 3339>`` (same slot, same run)."""
    return "run-" + gov.rfc3339(as_of)


# --------------------------------------------------------------------------------- bundle


def active_ruleset(organization: Organization) -> dict[str, Any]:
    """The organisation's active ruleset document; the first run stores the default as version 1."""
    row = Ruleset.objects.filter(organization=organization, active=True).order_by("-version").first()
    if row is not None:
        doc: dict[str, Any] = row.document
        return doc
    doc = default_ruleset_document()
    Ruleset.objects.get_or_create(
        organization=organization, version=int(doc.get("version", 1)),
        defaults={"ruleset_id": str(doc.get("id", "default")), "hash": el.hash_ruleset(doc), "document": doc,
                  "active": True, "created_at": timezone.now()},
    )
    return doc


def catalog_of(organization: Organization) -> dict[str, Any]:
    """The A1 ``catalog.json`` object from the rows."""
    vendors = [{"id": v.vendor_id, "name": v.name, "contacts": v.contacts or []}
               for v in Vendor.objects.filter(organization=organization).order_by("vendor_id")]
    skus = []
    for s in LicenseSKU.objects.filter(organization=organization).select_related("vendor", "base_sku").order_by("sku_id"):
        skus.append({
            "id": s.sku_id, "vendor": s.vendor.vendor_id, "sku_code": s.sku_code or None, "name": s.name, "model": s.model,
            "unit_cost": s.unit_cost or None, "cost_period": s.cost_period or None, "currency": s.currency or None,
            "base_sku": s.base_sku.sku_id if s.base_sku else None,
        })
    return {"vendors": vendors, "skus": skus}


def _rows(organization: Organization) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    ents = [{
        "entitlement_id": e.entitlement_id, "sku": e.sku.sku_id, "contract_id": e.contract_id or None,
        "quantity": e.quantity, "starts_on": e.starts_on, "ends_on": e.ends_on,
        "unit_cost": e.unit_cost or None, "currency": e.currency or None,
    } for e in Entitlement.objects.filter(organization=organization).select_related("sku").order_by("entitlement_id")]
    pools = [{"pool_id": p.pool_id, "sku": p.sku.sku_id, "scope": p.scope, "quantity": p.quantity, "reserved": p.reserved}
             for p in LicensePool.objects.filter(organization=organization).select_related("sku").order_by("pool_id")]
    directory = [{
        "principal_type": d.principal_type, "canonical_id": d.canonical_id, "alias": d.alias, "status": d.status or None,
        "region": d.region or None, "bu": d.bu or None, "last_active_at": d.last_active_at or None,
    } for d in DirectoryEntry.objects.filter(organization=organization).order_by("position")]
    return ents, pools, directory


def build_bundle(organization: Organization, as_of: dt.datetime, run_id: str) -> el.Bundle:
    """The A1 bundle of the organisation's current rows for ``as_of``."""
    ents, pools, directory = _rows(organization)
    options: dict[str, dict[str, Any]] = {}
    for integ in Integration.objects.filter(organization=organization, enabled=True).exclude(options={}):
        options.setdefault(integ.adapter, {}).update(integ.options)
    expected = organization.expected_sources or list(license_settings().EXPECTED_SOURCES)
    bundle = el.Bundle(
        organization_id=organization.pk,
        as_of=as_of,
        run_id=run_id,
        catalog=catalog_of(organization),
        ruleset=active_ruleset(organization),
        entitlements=ents,
        pools=pools or None,
        directory=directory or None,
        expected_sources=sorted(expected),
        schedule_interval_hours=max(1, license_settings().schedule_interval // 3600),
        adapter_options=options or None,
    )
    for job in ImportJob.objects.filter(organization=organization, active=True).order_by("adapter", "file_name", "id"):
        data = bytes(job.input)
        if job.adapter == ImportJob.CANONICAL:
            bundle.add_signal_file(job.file_name, data)
        else:
            bundle.add_import(job.adapter, job.file_name, data)
    return bundle


def inputs_hash(bundle: el.Bundle) -> str:
    """``sha256:`` over the bundle's files (path, NUL, length, bytes; sorted by path)."""
    h = hashlib.sha256()
    for path, data in sorted(bundle.files.items()):
        h.update(path.encode() + b"\0" + str(len(data)).encode() + b"\0")
        h.update(data)
    return "sha256:" + h.hexdigest()


# ------------------------------------------------------------------------------- storage


def evidence_storage() -> Storage:
    """The storage evidence packs live in (``EUCORA_LICENSE["EVIDENCE_STORAGE"]``)."""
    return storages[license_settings().EVIDENCE_STORAGE]


def read_pack(pack: EvidencePack) -> bytes:
    """The evidence pack's bytes from storage."""
    with evidence_storage().open(pack.file, "rb") as f:
        data: bytes = f.read()
    return data


def _store_pack(organization: Organization, sequence: int, pack_hash: str, data: bytes) -> str:
    storage = evidence_storage()
    safe_org = "".join(c if c.isalnum() or c in "-_." else "_" for c in organization.pk)
    name = f"{license_settings().EVIDENCE_PREFIX}/{safe_org}/{sequence:08d}-{pack_hash.removeprefix('sha256:')[:32]}.tar"
    if storage.exists(name):
        with storage.open(name, "rb") as f:
            if f.read() == data:
                return name
        storage.delete(name)
    saved: str = storage.save(name, ContentFile(data))
    return saved


def pack_members(pack: bytes, names: Iterable[str]) -> dict[str, bytes]:
    """Some members of an evidence pack (either form: ``el.pack_archive``
    unwraps the compressed one) by name."""
    wanted = set(names)
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(el.pack_archive(pack)), mode="r:") as tar:
        for member in tar.getmembers():
            if member.name in wanted:
                f = tar.extractfile(member)
                if f is not None:
                    out[member.name] = f.read()
    return out


def _jsonl(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.split(b"\n") if line.strip()]


def unit_rows(organization: Organization, snapshot: ConsumptionSnapshot, pack: bytes, review_confidence: str) -> list[ConsumptionUnit]:
    """``ConsumptionUnit`` rows from the pack's ``units.jsonl`` (confidence from ``signals.jsonl``)."""
    from decimal import Decimal

    members = pack_members(pack, ("units.jsonl", "signals.jsonl"))
    confidence: dict[tuple[str, str], str] = {}
    for sig in _jsonl(members.get("signals.jsonl", b"")):
        confidence[(str(sig.get("source", "")), str(sig.get("raw_id", "")))] = str(sig.get("confidence") or "1")
    review = Decimal(review_confidence)
    rows = []
    for line in _jsonl(members.get("units.jsonl", b"")):
        unit = line.get("unit", {})
        signals = unit.get("signals", [])
        sources = sorted({str(s.get("source", "")) for s in signals})
        confs = [confidence.get((str(s.get("source", "")), str(s.get("raw_id", ""))), "1") for s in signals]
        low = min(confs, key=Decimal) if confs else "1"
        rows.append(ConsumptionUnit(
            organization=organization, snapshot=snapshot, sku=str(line.get("sku", "")), key=str(unit.get("key", ""))[:500],
            principal_type=str(unit.get("principal_type") or ""), pool=str(unit.get("pool") or ""),
            source=sources[0] if sources else "", sources=sources, confidence=low, needs_review=Decimal(low) < review,
            weight=int(unit.get("weight") or 1),
        ))
    return rows


# ---------------------------------------------------------------------------------- alerts


def history(organization: Organization, limit: int = ALERT_HISTORY) -> list[el.Snapshot]:
    """The latest ``limit`` snapshots, oldest first (a chain)."""
    rows = list(ConsumptionSnapshot.objects.filter(organization=organization).order_by("-sequence")
                .values_list("canonical", flat=True)[:limit])
    return [el.Snapshot.from_bytes(bytes(b)) for b in reversed(rows)]


def upsert_alerts(organization: Organization, snapshot: ConsumptionSnapshot, pack: bytes) -> list[Alert]:
    """Raise C2 alerts over the history and upsert them by ``alert_id``; alerts no
    longer raised are resolved. Notifies the configured notifier (after commit)."""
    report = el.alerts(history(organization), pack, gov.policy_for(organization))
    seen: set[str] = set()
    at = snapshot.reconciled_at
    opened: list[Alert] = []
    for a in report.alerts:
        doc = a.to_dict()
        alert_id = str(doc.get("alert_id") or doc.get("id"))
        seen.add(alert_id)
        row = Alert.objects.filter(organization=organization, alert_id=alert_id).first()
        values = {"type": a.type, "severity": a.severity, "subject": doc.get("subject") or {}, "facts": doc.get("facts") or {},
                  "message": str(doc.get("message") or ""), "document": doc, "last_seen_at": at, "snapshot_hash": snapshot.snapshot_hash}
        if row is None:
            row = Alert.objects.create(organization=organization, alert_id=alert_id, first_seen_at=at, resolved_at=None, **values)
            opened.append(row)
        else:
            for k, v in values.items():
                setattr(row, k, v)
            if row.resolved_at is not None:
                opened.append(row)
            row.resolved_at = None
            row.save()
    resolved = list(Alert.objects.filter(organization=organization, resolved_at__isnull=True).exclude(alert_id__in=seen))
    for row in resolved:
        row.resolved_at = at
        row.save(update_fields=["resolved_at"])

    def notify() -> None:
        notifier = get_notifier()
        for r in opened:
            notifier.alert_opened(r)
        for r in resolved:
            notifier.alert_resolved(r)

    transaction.on_commit(notify, robust=True)
    return opened


# ------------------------------------------------------------------------------------ run


def _lock(organization: Organization) -> RunLock:
    RunLock.objects.get_or_create(organization=organization)
    return RunLock.objects.select_for_update().get(organization=organization)


def _update_import_jobs(organization: Organization, report: el.RunReport) -> None:
    for job in report.imports:
        path = job.path
        if path.startswith("signals/"):
            adapter, name = ImportJob.CANONICAL, path.removeprefix("signals/")
        elif path.startswith("imports/") and path.count("/") >= 2:
            _, adapter, name = path.split("/", 2)
        else:
            continue
        ImportJob.objects.filter(organization=organization, active=True, adapter=adapter, file_name=name).update(
            job_id=job.job_id, source=job.source, rows_total=job.rows_total, rows_accepted=job.rows_accepted,
            rows_rejected=job.rows_rejected,
            row_errors=[{"line": e.line, "column": e.column, "code": e.code, "message": e.message} for e in job.errors],
            warnings=list(job.warnings),
        )


def reconcile_organization(
    organization: Organization,
    *,
    as_of: dt.datetime | None = None,
    now: dt.datetime | None = None,
    trigger: str = "schedule",
    actor: Mapping[str, Any] | None = None,
    correlation_id: str = "",
) -> ReconciliationRun:
    """Reconcile ``organization`` for ``as_of`` (default: the current schedule slot of
    ``now``) and store the outcome; returns the run (``status`` ``ok``, ``degraded``
    or ``failed``). Idempotent per ``run_id``: a successful run of the slot is
    returned as is; a failed one is retried in place. Never raises for a run that
    fails closed (the run says why). Authorisation is the caller's (``reconcile.run``)."""
    now = now or timezone.now()
    as_of = as_of or schedule_slot(now)
    run_id = run_id_for(as_of)
    who = dict(actor or gov.SCHEDULER_ACTOR)
    failed_reasons: list[str] | None = None
    with transaction.atomic(), gov.lock_row("run", organization, lambda: _lock(organization)):
        run = ReconciliationRun.objects.filter(organization=organization, run_id=run_id).first()
        latest = ConsumptionSnapshot.objects.filter(organization=organization).order_by("-sequence").select_related("run").first()
        if run is None and latest is not None and as_of <= latest.reconciled_at:
            # A later (manual) run already describes this slot: the chain never goes back in time.
            run = latest.run
        if run is not None and run.status in (ReconciliationRun.OK, ReconciliationRun.DEGRADED):
            if trigger == "manual":
                # An API write appends exactly one entry, even when it finds its run made.
                gov.append_audit(organization, actor=who, action="reconcile.run", entity=("reconciliation_run", run.run_id),
                                 correlation_id=correlation_id, details={"run_id": run.run_id, "status": run.status,
                                                                         "trigger": trigger, "repeat": True}, at=now)
            return run
        if run is None:
            run = ReconciliationRun(organization=organization, run_id=run_id, as_of=as_of)
        run.status = ReconciliationRun.RUNNING
        run.trigger = trigger
        run.requested_by = gov.actor_id(who)
        run.correlation_id = correlation_id
        run.started_at = now
        run.save()
        ruleset_doc = active_ruleset(organization)
        previous: bytes | None = None
        if latest is not None:
            pack_row = EvidencePack.objects.filter(snapshot=latest).first()
            previous = read_pack(pack_row) if pack_row is not None else bytes(latest.canonical)
        try:
            bundle = build_bundle(organization, as_of, run_id)
            run.inputs_hash = inputs_hash(bundle)
            result = el.reconcile(bundle, previous=previous)
        except el.EucoraLicenseError as e:
            report = e.report.to_dict() if e.report is not None else None
            reasons = list(e.report.reasons) if e.report is not None and e.report.reasons else [str(e.code)]
            run.status = ReconciliationRun.FAILED
            run.reason_codes = reasons
            run.errors = [{"code": str(x.code), "message": str(x.message),
                           "location": None if x.location is None else {"file": x.location.file, "line": x.location.line,
                                                                        "field": x.location.field}}
                          for x in getattr(e, "errors", ()) or ()] or [{"code": str(e.code), "message": str(e.message), "location": None}]
            run.report = report
            try:
                run.ruleset_hash = el.hash_ruleset(ruleset_doc)
            except el.EucoraLicenseError:
                run.ruleset_hash = ""
            if e.report is not None:
                _update_import_jobs(organization, e.report)
            run.finished_at = now
            run.save()
            gov.append_audit(organization, actor=who, action="reconcile.run", entity=("reconciliation_run", run_id),
                             correlation_id=correlation_id, before_hash=latest.snapshot_hash if latest else None,
                             details={"run_id": run_id, "status": "failed", "reasons": reasons, "trigger": trigger}, at=now)
            failed_reasons = reasons
        else:
            snap = result.snapshot
            sink = io.BytesIO()
            pack_hash = result.evidence_pack(sink)
            pack = sink.getvalue()
            run.status = ReconciliationRun.DEGRADED if result.status == "degraded" else ReconciliationRun.OK
            run.reason_codes = list(snap.health_reasons)
            run.errors = []
            run.report = result.report.to_dict()
            run.ruleset_hash = snap.ruleset.hash
            run.finished_at = now
            run.save()
            _update_import_jobs(organization, result.report)
            row = ConsumptionSnapshot.objects.create(
                organization=organization, run=run, sequence=snap.sequence, snapshot_hash=snap.hash,
                previous_hash=snap.previous_hash or "", reconciled_at=snap.reconciled_at, health=snap.health,
                canonical=snap.canonical_bytes(), created_at=now,
            )
            name = _store_pack(organization, snap.sequence, pack_hash, pack)
            EvidencePack.objects.create(organization=organization, snapshot=row, pack_hash=pack_hash, file=name,
                                        size=len(pack), created_at=now)
            ConsumptionUnit.objects.bulk_create(unit_rows(organization, row, pack, str(ruleset_doc.get("review_confidence", "0"))),
                                                batch_size=1000)
            upsert_alerts(organization, row, pack)
            gov.append_audit(organization, actor=who, action="reconcile.run", entity=("snapshot", snap.hash),
                             correlation_id=correlation_id, before_hash=snap.previous_hash, after_hash=snap.hash,
                             evidence=[pack_hash],
                             details={"run_id": run_id, "status": run.status, "sequence": snap.sequence, "trigger": trigger}, at=now)
    if failed_reasons is not None:
        try:
            get_notifier().run_failed(organization, failed_reasons)
        except Exception:  # the run is stored; a notifier's failure must not undo or hide it
            log.exception("notifier failed for the failed run %s of %s", run_id, organization.pk)
    return run


def run_now(
    organization: Organization,
    actor: Mapping[str, Any],
    *,
    correlation_id: str,
    now: dt.datetime | None = None,
) -> ReconciliationRun:
    """POST ``reconcile/run``: a manual run describing ``now`` (to the whole second;
    the caller has authorised ``reconcile.run``). Unlike a scheduled run it is not
    bound to the slot, so new imports are reconciled at once; a repeat within the same
    second returns the same run. Appends exactly one audit entry."""
    now = now or timezone.now()
    as_of = now.astimezone(dt.UTC).replace(microsecond=0)
    return reconcile_organization(organization, as_of=as_of, now=now, trigger="manual", actor=actor, correlation_id=correlation_id)


def latest_success(organization: Organization) -> ConsumptionSnapshot | None:
    """The latest successful snapshot (the sidebar's counters)."""
    return ConsumptionSnapshot.objects.filter(organization=organization).order_by("-sequence").first()


def latest_run(organization: Organization) -> ReconciliationRun | None:
    """The latest run by ``as_of`` (then start time)."""
    return ReconciliationRun.objects.filter(organization=organization).exclude(status=ReconciliationRun.RUNNING) \
        .order_by("-as_of", "-started_at").first()
