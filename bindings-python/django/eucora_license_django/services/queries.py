"""Read models for the API and the pages (Part E). Every number comes from the
core's stored outputs (snapshots, packs) or from ``eucora_license`` itself
(``sidebar``, ``alerts``, ``advise``); nothing is estimated here.

Functions return plain JSON-shaped data (``dict`` / ``list``; counts ``int``,
money and percentages decimal strings, instants RFC 3339 text) so serializers
and templates share them. Unknown ids raise :class:`~.governance.NotFound`.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

import eucora_license as el
from django.utils import timezone

from ..conf import license_settings
from ..models import (
    Alert,
    ConsumptionSnapshot,
    ConsumptionUnit,
    Entitlement,
    EvidencePack,
    LicensePool,
    LicenseSKU,
    Organization,
    Proposal,
    ReconciliationRun,
)
from . import governance as gov
from . import runs as run_service
from .proposals import proposal_dict

COUNTERS = ("entitled", "reserved", "consumed", "remaining", "available")
SKU_FILTERS = ("vendor", "model", "pool", "region", "bu", "status", "sku")

_CACHE: dict[tuple[Any, ...], Any] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_MAX = 256


def _cached(key: tuple[Any, ...], build: Any) -> Any:
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    value = build()
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = value
    return value


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else gov.rfc3339(value)


def snapshot_document(row: ConsumptionSnapshot) -> dict[str, Any]:
    """The stored ``snapshot.json`` as data (immutable rows: cached by hash)."""
    doc: dict[str, Any] = _cached(("snap", row.snapshot_hash), lambda: json.loads(bytes(row.canonical)))
    return doc


def latest_snapshot(organization: Organization) -> ConsumptionSnapshot | None:
    """The latest successful snapshot."""
    return run_service.latest_success(organization)


# ---------------------------------------------------------------------------------- summary


def stale_factor(organization: Organization) -> int:
    """The active ruleset's ``stale_factor`` (A2, default 2)."""
    return int(run_service.active_ruleset(organization).get("stale_factor", 2))


def summary(organization: Organization, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """GET ``summary``: the A8 sidebar over the latest successful snapshot, from
    ``eucora_license.sidebar`` — ``{organization_id, entitled, reserved, consumed,
    remaining, available, last_reconciled_at, last_success_at, health,
    stale_for_seconds, reason, snapshot_hash, sequence}``; counters null before
    the first success. ``reason`` is the core's ``{code, ...}`` or null."""
    now = now or timezone.now()
    latest = latest_snapshot(organization)
    last = run_service.latest_run(organization)
    last_report: Mapping[str, Any] | None = None
    failed_without_report = None
    if last is not None and last.status == ReconciliationRun.FAILED and (latest is None or last.as_of >= latest.reconciled_at):
        if last.report:
            last_report = last.report
        else:
            failed_without_report = last
    snapshot = el.Snapshot.from_bytes(bytes(latest.canonical)) if latest is not None else None
    state = el.sidebar(snapshot, now=now, last_run=last_report,
                       schedule_interval=dt.timedelta(seconds=license_settings().schedule_interval),
                       stale_factor=stale_factor(organization))
    raw = state.to_dict()
    health = state.state
    reason: Any = raw.get("reason")
    if failed_without_report is not None:
        health = "failed"
        reason = {"code": "reconciliation_failed", "reasons": list(failed_without_report.reason_codes)}
    counters = state.counters
    out: dict[str, Any] = {"organization_id": organization.pk}
    for name in COUNTERS:
        out[name] = None if counters is None else int(getattr(counters, name))
    out.update({
        "last_reconciled_at": _iso(state.last_reconciled_at),
        "last_success_at": _iso(state.last_success_at),
        "health": health,
        "stale_for_seconds": None if state.stale_for is None else int(state.stale_for.total_seconds()),
        "reason": reason,
        "snapshot_hash": state.snapshot_hash,
        "sequence": None if latest is None else latest.sequence,
    })
    return out


# ------------------------------------------------------------------------------------- skus


def _catalog(organization: Organization) -> dict[str, LicenseSKU]:
    return {s.sku_id: s for s in LicenseSKU.objects.filter(organization=organization).select_related("vendor")}


def _window(organization: Organization, latest: ConsumptionSnapshot, days: int) -> list[ConsumptionSnapshot]:
    since = latest.reconciled_at - dt.timedelta(days=days)
    return list(ConsumptionSnapshot.objects.filter(organization=organization, reconciled_at__gt=since,
                                                   sequence__lte=latest.sequence).order_by("sequence"))


def trend(organization: Organization, *, days: int = 30, sku: str | None = None) -> list[dict[str, Any]]:
    """Counters over the last ``days`` days of snapshots, oldest first:
    ``[{as_of, sequence, snapshot_hash, entitled, consumed, remaining, ...}]``
    (the totals, or one SKU's record)."""
    latest = latest_snapshot(organization)
    if latest is None:
        return []

    def build() -> list[dict[str, Any]]:
        points = []
        for row in _window(organization, latest, days):
            doc = snapshot_document(row)
            if sku is None:
                rec = doc.get("totals", {})
            else:
                rec = next((r for r in doc.get("skus", []) if r.get("sku") == sku), None) or {}
            points.append({"as_of": doc.get("reconciled_at"), "sequence": row.sequence, "snapshot_hash": row.snapshot_hash,
                           "health": doc.get("health"), **{k: rec.get(k) for k in COUNTERS}})
        return points

    result: list[dict[str, Any]] = _cached(("trend", organization.pk, latest.snapshot_hash, days, sku), build)
    return result


def filter_options(organization: Organization) -> dict[str, list[str]]:
    """Values for the dashboard's filters (vendor, model, pool, region, bu, status, sku)."""
    scopes = list(LicensePool.objects.filter(organization=organization).values_list("scope", flat=True))
    return {
        "vendor": sorted(set(LicenseSKU.objects.filter(organization=organization).values_list("vendor__vendor_id", flat=True))),
        "model": list(LicenseSKU.MODELS),
        "pool": sorted(LicensePool.objects.filter(organization=organization).values_list("pool_id", flat=True)),
        "region": sorted({s.split(":", 1)[1] for s in scopes if s.startswith("region:")}),
        "bu": sorted({s.split(":", 1)[1] for s in scopes if s.startswith("bu:")}),
        "status": ["compliant", "over_deployed", "under_utilized"],
        "sku": sorted(LicenseSKU.objects.filter(organization=organization).values_list("sku_id", flat=True)),
    }


def _matches(record: Mapping[str, Any], sku: LicenseSKU | None, filters: Mapping[str, str]) -> bool:
    pools = record.get("pools") or []
    scopes = {str(p.get("scope") or "") for p in pools}
    pool_ids = {str(p.get("pool_id") or p.get("name") or "") for p in pools}
    for key, value in filters.items():
        if not value:
            continue
        if key == "vendor" and (sku is None or sku.vendor.vendor_id != value):
            return False
        if key == "model" and record.get("model") != value:
            return False
        if key == "status" and record.get("compliance_status") != value:
            return False
        if key == "sku" and record.get("sku") != value:
            return False
        if key == "pool" and value not in pool_ids:
            return False
        if key == "region" and f"region:{value}" not in scopes:
            return False
        if key == "bu" and f"bu:{value}" not in scopes:
            return False
    return True


def sku_list(organization: Organization, *, filters: Mapping[str, str] | None = None, days: int = 30) -> list[dict[str, Any]]:
    """GET ``skus``: the latest counters per SKU (the snapshot's record plus catalog
    name, vendor, unit cost) with ``trend``: consumed per snapshot over the last
    ``days`` days. Filters: ``vendor``, ``model``, ``pool`` (a pool id of the SKU),
    ``region`` / ``bu`` (a pool scoped ``region:<v>`` / ``bu:<v>``), ``status``
    (compliance status), ``sku``."""
    latest = latest_snapshot(organization)
    if latest is None:
        return []
    doc = snapshot_document(latest)
    catalog = _catalog(organization)
    window = [snapshot_document(r) for r in _window(organization, latest, days)]
    out = []
    for rec in doc.get("skus", []):
        sku = catalog.get(str(rec.get("sku")))
        if not _matches(rec, sku, filters or {}):
            continue
        series = []
        for d in window:
            r = next((x for x in d.get("skus", []) if x.get("sku") == rec.get("sku")), None)
            series.append({"as_of": d.get("reconciled_at"), "consumed": None if r is None else r.get("consumed")})
        out.append({
            **rec,
            "name": sku.name if sku else rec.get("sku"),
            "vendor": sku.vendor.vendor_id if sku else None,
            "vendor_name": sku.vendor.name if sku else None,
            "unit_cost": (sku.unit_cost or None) if sku else None,
            "currency": (sku.currency or None) if sku else None,
            "snapshot_hash": latest.snapshot_hash,
            "trend": series,
        })
    return out


def top_skus(organization: Organization, *, limit: int = 10, filters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """SKUs by consumption, largest first (ties by id)."""
    rows = sku_list(organization, filters=filters, days=1)
    rows.sort(key=lambda r: (-int(r.get("consumed") or 0), str(r.get("sku"))))
    return rows[:limit]


def breakdowns(snapshot: ConsumptionSnapshot, sku: str) -> dict[str, Any]:
    """The units of one SKU in a snapshot: by principal (each unit), by source, by confidence."""
    units = list(ConsumptionUnit.objects.filter(snapshot=snapshot, sku=sku).order_by("key"))
    by_source: Counter[str] = Counter()
    for u in units:
        for s in u.sources:
            by_source[str(s)] += 1
    by_conf: Counter[str] = Counter(u.confidence for u in units)
    return {
        "by_principal": [{"key": u.key, "principal_type": u.principal_type, "pool": u.pool or None, "sources": u.sources,
                          "confidence": u.confidence, "needs_review": u.needs_review, "weight": u.weight} for u in units],
        "by_source": [{"source": k, "units": v} for k, v in sorted(by_source.items())],
        "by_confidence": [{"confidence": k, "units": v, "needs_review": any(u.needs_review for u in units if u.confidence == k)}
                          for k, v in sorted(by_conf.items(), reverse=True)],
    }


def sku_diff(organization: Organization, sku: str, snapshot_hash: str) -> dict[str, Any]:
    """One SKU's unit diff in one run (from its pack's ``diff.json``): units added and
    removed since the previous snapshot, each with its reason code."""
    row = ConsumptionSnapshot.objects.filter(organization=organization, snapshot_hash=snapshot_hash).first()
    if row is None:
        raise gov.NotFound("not_found", f"unknown snapshot {snapshot_hash}")
    pack = EvidencePack.objects.filter(snapshot=row).first()
    if pack is None:
        return {"sku": sku, "snapshot_hash": snapshot_hash, "added": [], "removed": [], "entitlements": []}

    def build() -> dict[str, Any]:
        raw = run_service.pack_members(run_service.read_pack(pack), ("diff.json",)).get("diff.json", b"{}")
        doc = json.loads(raw) or {}  # the first snapshot has no previous: diff.json is null
        rec = next((s for s in doc.get("skus", []) if s.get("sku") == sku), None) or {}
        return {"sku": sku, "snapshot_hash": snapshot_hash, "basis": doc.get("basis"), "added": rec.get("added", []),
                "removed": rec.get("removed", []), "entitlements": rec.get("entitlements", [])}

    result: dict[str, Any] = _cached(("skudiff", snapshot_hash, sku), build)
    return result


def sku_detail(organization: Organization, sku: str, *, days: int = 90) -> dict[str, Any]:
    """GET ``skus/{sku}``: the latest record (counters, pools), catalog data, the
    entitlements, the snapshot ``timeline`` over ``days`` days with each run's diff
    for the SKU (reason counts and deltas), the latest run's unit ``diff`` with
    reasons, and the ``breakdown`` by principal, source and confidence."""
    catalog = LicenseSKU.objects.filter(organization=organization, sku_id=sku).select_related("vendor", "base_sku").first()
    if catalog is None:
        raise gov.NotFound("not_found", f"unknown SKU {sku}")
    latest = latest_snapshot(organization)
    record: dict[str, Any] | None = None
    timeline: list[dict[str, Any]] = []
    if latest is not None:
        record = next((r for r in snapshot_document(latest).get("skus", []) if r.get("sku") == sku), None)
        for row in _window(organization, latest, days):
            doc = snapshot_document(row)
            rec = next((r for r in doc.get("skus", []) if r.get("sku") == sku), None) or {}
            diff = doc.get("diff") or {}
            change = next((c for c in diff.get("skus", []) if c.get("sku") == sku), None)
            timeline.append({
                "as_of": doc.get("reconciled_at"), "sequence": row.sequence, "snapshot_hash": row.snapshot_hash,
                "run_id": doc.get("run_id"), "health": doc.get("health"),
                **{k: rec.get(k) for k in COUNTERS}, "compliance_status": rec.get("compliance_status"),
                "diff": change,
            })
    ents = [{"entitlement_id": e.entitlement_id, "contract_id": e.contract_id or None, "quantity": e.quantity,
             "starts_on": e.starts_on.isoformat(), "ends_on": e.ends_on.isoformat() if e.ends_on else None,
             "unit_cost": e.unit_cost or None, "currency": e.currency or None}
            for e in Entitlement.objects.filter(organization=organization, sku=catalog).order_by("entitlement_id")]
    return {
        "sku": sku,
        "name": catalog.name,
        "vendor": catalog.vendor.vendor_id,
        "vendor_name": catalog.vendor.name,
        "model": catalog.model,
        "sku_code": catalog.sku_code or None,
        "unit_cost": catalog.unit_cost or None,
        "cost_period": catalog.cost_period or None,
        "currency": catalog.currency or None,
        "base_sku": catalog.base_sku.sku_id if catalog.base_sku else None,
        "snapshot_hash": latest.snapshot_hash if latest else None,
        "record": record,
        "counters": None if record is None else {k: record.get(k) for k in (*COUNTERS, "reserved_effective", "variance",
                                                                             "variance_percent", "compliance_status")},
        "pools": [] if record is None else record.get("pools", []),
        "entitlements": ents,
        "timeline": timeline,
        "diff": None if latest is None else sku_diff(organization, sku, latest.snapshot_hash),
        "breakdown": {"by_principal": [], "by_source": [], "by_confidence": []} if latest is None else breakdowns(latest, sku),
    }


# -------------------------------------------------------------------------------- snapshots


def snapshot_summary(row: ConsumptionSnapshot) -> dict[str, Any]:
    """A snapshot's list entry."""
    doc = snapshot_document(row)
    return {"snapshot_hash": row.snapshot_hash, "sequence": row.sequence, "previous_hash": row.previous_hash or None,
            "reconciled_at": _iso(row.reconciled_at), "run_id": doc.get("run_id"), "health": row.health,
            "health_reasons": doc.get("health_reasons", []), "totals": doc.get("totals", {})}


def snapshots(organization: Organization, *, start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[dict[str, Any]]:
    """GET ``snapshots``: snapshots by time (``start <= reconciled_at <= end``), oldest first."""
    qs = ConsumptionSnapshot.objects.filter(organization=organization)
    if start is not None:
        qs = qs.filter(reconciled_at__gte=start)
    if end is not None:
        qs = qs.filter(reconciled_at__lte=end)
    return [snapshot_summary(r) for r in qs.order_by("sequence")]


def runs(organization: Organization, *, limit: int = 50) -> list[dict[str, Any]]:
    """The latest runs, newest first."""
    return [run_dict(r) for r in ReconciliationRun.objects.filter(organization=organization).order_by("-as_of", "-started_at")[:limit]]


def run_dict(run: ReconciliationRun) -> dict[str, Any]:
    """A ``ReconciliationRun`` as data (what ``reconcile/run`` answers)."""
    snap = ConsumptionSnapshot.objects.filter(run=run).first()
    return {"run_id": run.run_id, "organization_id": run.organization_id, "as_of": _iso(run.as_of), "status": run.status,
            "reason_codes": run.reason_codes, "errors": run.errors, "ruleset_hash": run.ruleset_hash or None,
            "inputs_hash": run.inputs_hash or None, "correlation_id": run.correlation_id or None, "trigger": run.trigger,
            "requested_by": run.requested_by or None, "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
            "snapshot_hash": snap.snapshot_hash if snap else None, "sequence": snap.sequence if snap else None}


# ----------------------------------------------------------------------------------- alerts


def alert_dict(a: Alert) -> dict[str, Any]:
    """An ``Alert`` row as data."""
    return {"alert_id": a.alert_id, "type": a.type, "severity": a.severity, "subject": a.subject, "facts": a.facts,
            "message": a.message, "first_seen_at": _iso(a.first_seen_at), "last_seen_at": _iso(a.last_seen_at),
            "resolved_at": _iso(a.resolved_at), "snapshot_hash": a.snapshot_hash}


SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def alerts(organization: Organization, *, include_resolved: bool = False) -> list[dict[str, Any]]:
    """GET ``alerts``: the active C2 alerts (most severe first), or all with ``include_resolved``."""
    qs = Alert.objects.filter(organization=organization)
    if not include_resolved:
        qs = qs.filter(resolved_at__isnull=True)
    rows = sorted(qs, key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), a.type, a.alert_id))
    return [alert_dict(a) for a in rows]


def recommendations(organization: Organization) -> list[dict[str, Any]]:
    """GET ``recommendations``: C3 over the history and the latest pack, ranked
    (``eucora_license.advise``; cached per latest snapshot)."""
    latest = latest_snapshot(organization)
    if latest is None:
        return []
    pack = EvidencePack.objects.filter(snapshot=latest).first()
    if pack is None:
        return []
    policy = gov.policy_for(organization)

    def build() -> list[dict[str, Any]]:
        report = el.advise(run_service.history(organization), run_service.read_pack(pack), policy)
        return [r.to_dict() for r in report.recommendations]

    result: list[dict[str, Any]] = _cached(("advise", latest.snapshot_hash, policy.hash), build)
    return result


# --------------------------------------------------------------------------------- evidence


def evidence(organization: Organization, snapshot_hash: str) -> dict[str, Any]:
    """GET ``evidence/{snapshot_hash}``: the pack's metadata (the view adds the download link)."""
    pack = EvidencePack.objects.filter(organization=organization, snapshot__snapshot_hash=snapshot_hash).select_related("snapshot").first()
    if pack is None:
        raise gov.NotFound("not_found", f"no evidence pack for {snapshot_hash}")
    return {"snapshot_hash": snapshot_hash, "pack_hash": pack.pack_hash, "size": pack.size, "sequence": pack.snapshot.sequence,
            "reconciled_at": _iso(pack.snapshot.reconciled_at), "created_at": _iso(pack.created_at),
            "filename": f"evidence-{pack.snapshot.sequence:04d}-{snapshot_hash.removeprefix('sha256:')[:12]}.tar"}


def evidence_bytes(organization: Organization, snapshot_hash: str) -> bytes:
    """The evidence pack's bytes (the caller has checked ``evidence.export``)."""
    pack = EvidencePack.objects.filter(organization=organization, snapshot__snapshot_hash=snapshot_hash).first()
    if pack is None:
        raise gov.NotFound("not_found", f"no evidence pack for {snapshot_hash}")
    return run_service.read_pack(pack)


# -------------------------------------------------------------------------------- proposals


def proposals(organization: Organization, *, state: str | None = None) -> list[dict[str, Any]]:
    """GET ``proposals``: D2 proposals (newest first) with ``state``; expired ones read ``expired``."""
    qs = Proposal.objects.filter(organization=organization).order_by("-created_at", "-id")
    now = timezone.now()
    out = []
    for p in qs:
        d = proposal_dict(p)
        if p.state == Proposal.PENDING and now >= p.expires_at:
            d["state"] = Proposal.EXPIRED
        d["approvals"] = [{"approver": a.approver, "decision": a.decision, "at": _iso(a.at), "comment": a.comment}
                          for a in p.approvals.filter(counted=True).order_by("at", "id")]
        if state is None or d["state"] == state:
            out.append(d)
    return out


def audit(organization: Organization, *, correlation_id: str | None = None) -> list[dict[str, Any]]:
    """GET ``audit``: the D3 entries (``seq`` order), optionally of one correlation id."""
    return gov.audit_entries(organization, correlation_id=correlation_id)
