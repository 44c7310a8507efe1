"""The license API: every view calls eucora_license."""

from __future__ import annotations

import datetime as dt
from typing import Any

import eucora_license as el
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .models import FailedRun, StoredSnapshot
from .serializers import SkuDetailSerializer, SkuSerializer, SummarySerializer


def _instant(raw: object, name: str) -> dt.datetime:
    """An ISO 8601 instant with offset from the request, or now."""
    if raw is None:
        return timezone.now()
    try:
        value = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(f"`{name}` is not an ISO 8601 instant") from None
    if value.tzinfo is None:
        raise ParseError(f"`{name}` needs a UTC offset")
    return value


def _latest_snapshot() -> el.Snapshot:
    stored = services.latest()
    if stored is None:
        raise NotFound("no reconciliation yet")
    return el.Snapshot.from_bytes(bytes(stored.canonical))


class RunsView(APIView):
    """POST: reconcile the database now (as of `as_of`, default now)."""

    def post(self, request: Request) -> Response:
        data: dict[str, Any] = request.data if isinstance(request.data, dict) else {}
        as_of = _instant(data.get("as_of"), "as_of")
        run_id = str(data.get("run_id", f"run-{as_of:%Y%m%dT%H%M%S}"))
        stored = services.reconcile_now(as_of, run_id)
        return Response({"snapshot_hash": stored.snapshot_hash, "sequence": stored.sequence}, status=201)


class SummaryView(APIView):
    """GET: the sidebar — counters of the latest successful snapshot and how far to trust them."""

    def get(self, request: Request) -> Response:
        now = _instant(request.query_params.get("now"), "now")
        stored = services.latest()
        snap = None if stored is None else el.Snapshot.from_bytes(bytes(stored.canonical))
        failed = FailedRun.objects.order_by("-created").first()
        state = el.sidebar(snap, now=now, last_run=None if failed is None else failed.report)
        data: dict[str, Any] = {
            "state": state.state,
            "reason": None if state.reason is None else state.reason.code,
            "counters": state.counters,
            "last_reconciled_at": state.last_reconciled_at,
            "stale_for_seconds": None if state.stale_for is None else int(state.stale_for.total_seconds()),
            "snapshot_hash": state.snapshot_hash,
            "sequence": None if snap is None else snap.sequence,
        }
        return Response(SummarySerializer(data).data)


SKU_FIELDS = ("sku", "model", "variance_percent", "compliance_status", "units_root")
POOL_FIELDS = ("scope", "variance_percent", "compliance_status")


class SkuListView(APIView):
    def get(self, request: Request) -> Response:
        snap = _latest_snapshot()
        return Response({"snapshot_hash": snap.hash, "skus": SkuSerializer(snap.skus, many=True).data})


class SkuDetailView(APIView):
    def get(self, request: Request, sku_id: str) -> Response:
        snap = _latest_snapshot()
        rec = snap.sku(sku_id)
        if rec is None:
            raise NotFound(f"no SKU `{sku_id}` in snapshot {snap.hash}")
        proof = el.prove(snap, sku_id)
        counters = ("entitled", "reserved", "reserved_effective", "consumed", "remaining", "available", "variance")
        record: dict[str, Any] = {f: getattr(rec, f) for f in counters + SKU_FIELDS}
        pools = [
            {**{f: getattr(p, f) for f in counters + POOL_FIELDS}, "name": p.name}
            for p in rec.pools
        ]
        data = {**record, "pools": pools, "proof_path": proof.path, "skus_root": proof.skus_root}
        return Response(SkuDetailSerializer(data).data)


class EvidenceView(APIView):
    """GET: the evidence pack of a snapshot (by hash or sequence), verified before it is served."""

    def get(self, request: Request, snapshot_id: str) -> HttpResponse:
        q = StoredSnapshot.objects.filter(sequence=int(snapshot_id)) if snapshot_id.isdigit() else \
            StoredSnapshot.objects.filter(snapshot_hash=snapshot_id)
        stored = q.first()
        if stored is None:
            raise NotFound(f"no snapshot `{snapshot_id}`")
        pack = bytes(stored.evidence)
        report = el.verify(pack)  # raises VerificationError (409) if the stored pack was altered
        resp = HttpResponse(pack, content_type="application/x-tar")
        resp["Content-Disposition"] = f'attachment; filename="evidence-{stored.sequence}.tar"'
        resp["X-Snapshot-Hash"] = report.snapshot_hash or ""
        resp["X-Pack-Hash"] = stored.pack_hash
        return resp
