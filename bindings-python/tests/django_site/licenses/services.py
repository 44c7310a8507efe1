"""Reconciliation from the database: rows in, sealed snapshot (and pack) stored."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import eucora_license as el
from django.conf import settings
from django.db import transaction

from .models import Entitlement, FailedRun, Signal, Sku, StoredSnapshot, Vendor

SIGNAL_FIELDS = (
    "source", "raw_id", "observed_at", "sku", "product", "kind", "status", "user",
    "device_serial", "device_name", "session_start", "session_end", "quantity", "confidence",
)


def build_bundle(as_of: dt.datetime, run_id: str) -> el.Bundle:
    conf: dict[str, Any] = settings.EUCORA_LICENSE
    catalog = {
        "vendors": list(Vendor.objects.order_by("id").values("id", "name")),
        "skus": [
            {
                "id": s.id, "vendor": s.vendor_id, "name": s.name, "model": s.model,
                "unit_cost": s.unit_cost, "cost_period": s.cost_period, "currency": s.currency,
                "base_sku": s.base_sku_id,
            }
            for s in Sku.objects.order_by("id")
        ],
    }
    entitlements = [
        {
            "entitlement_id": e["entitlement_id"], "sku": e["sku_id"], "contract_id": e["contract_id"],
            "quantity": e["quantity"], "starts_on": e["starts_on"], "ends_on": e["ends_on"],
            "unit_cost": e["unit_cost"], "currency": e["currency"],
        }
        for e in Entitlement.objects.values()
    ]
    ruleset = json.loads(conf["RULESET_PATH"].read_bytes())
    return el.Bundle(
        organization_id=conf["ORGANIZATION_ID"],
        as_of=as_of,
        run_id=run_id,
        catalog=catalog,
        ruleset=ruleset,
        entitlements=entitlements,
        signals=Signal.objects.order_by("id").values(*SIGNAL_FIELDS),
        expected_sources=conf["EXPECTED_SOURCES"],
        schedule_interval_hours=conf["SCHEDULE_INTERVAL_HOURS"],
    )


def latest() -> StoredSnapshot | None:
    return StoredSnapshot.objects.order_by("-sequence").first()


def reconcile_now(as_of: dt.datetime, run_id: str) -> StoredSnapshot:
    """Reconcile the database as of `as_of`; store the snapshot and its evidence
    pack. A run that fails closed is recorded (for the sidebar) and re-raised."""
    bundle = build_bundle(as_of, run_id)
    prev = latest()
    previous = None if prev is None else el.Snapshot.from_bytes(bytes(prev.canonical))
    try:
        result = el.reconcile(bundle, previous=previous)
    except el.EucoraLicenseError as e:
        if e.report is not None:
            FailedRun.objects.create(created=FailedRun.objects.count() + 1, report=e.report.to_dict())
        raise
    pack = io.BytesIO()
    pack_hash = result.evidence_pack(pack)
    snap = result.snapshot
    with transaction.atomic():
        return StoredSnapshot.objects.create(
            snapshot_hash=snap.hash,
            sequence=snap.sequence,
            reconciled_at=snap.reconciled_at,
            canonical=snap.canonical_bytes(),
            evidence=pack.getvalue(),
            pack_hash=pack_hash,
        )
