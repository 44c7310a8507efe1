"""The module inside a real Django request cycle: settings, an in-memory SQLite
database, DRF views, JSON rendering of Decimal and datetime, concurrent requests."""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licensesite.settings")

import django

django.setup()

import eucora_license as el  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from licenses.models import Entitlement, FailedRun, Signal, Sku, StoredSnapshot, Vendor  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
T = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def seed() -> None:
    ms = Vendor.objects.create(id="microsoft", name="Microsoft")
    mw = Vendor.objects.create(id="mathworks", name="MathWorks")
    e3 = Sku.objects.create(id="m365-e3", vendor=ms, name="Microsoft 365 E3", model="user",
                            unit_cost=Decimal("36.00"), cost_period="month", currency="USD")
    visio = Sku.objects.create(id="visio", vendor=ms, name="Visio Standard", model="device",
                               unit_cost=Decimal("12.50"), cost_period="month", currency="USD")
    matlab = Sku.objects.create(id="matlab", vendor=mw, name="MATLAB", model="concurrent")
    Entitlement.objects.create(entitlement_id="ent-e3", sku=e3, contract_id="EA-1", quantity=3,
                               starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    Entitlement.objects.create(entitlement_id="ent-visio", sku=visio, quantity=2, starts_on=date(2026, 1, 1),
                               unit_cost=Decimal("12.50"), currency="USD")
    Entitlement.objects.create(entitlement_id="ent-matlab", sku=matlab, quantity=2, starts_on=date(2026, 1, 1))
    # E3: alice and bob active, carol revoked -> 2 of 3.
    for u, st in (("alice", "active"), ("bob", "active"), ("carol", "revoked")):
        Signal.objects.create(source="entra", raw_id=f"lic-{u}", observed_at=T, sku="m365-e3", kind="assignment",
                              status=st, user=f"{u}@acme.com")
    # Visio: three devices -> over-deployed (3 of 2); one seen by two sources.
    for i, serial in enumerate(("PF1", "PF2", "PF3", "pf1")):
        Signal.objects.create(source="intune" if i < 3 else "entra", raw_id=f"visio-{i}", observed_at=T,
                              sku="visio", kind="installation", device_serial=serial,
                              confidence=Decimal("0.95"))
    # MATLAB: two overlapping sessions (peak 2) and a later one.
    Signal.objects.create(source="flexlm", raw_id="s1", observed_at=T, sku="matlab", kind="session", user="alice",
                          device_name="lt-1", session_start=T - timedelta(hours=2), session_end=T)
    Signal.objects.create(source="flexlm", raw_id="s2", observed_at=T, sku="matlab", kind="session", user="bob",
                          device_name="lt-2", session_start=T - timedelta(hours=1), session_end=T, quantity=1)
    Signal.objects.create(source="flexlm", raw_id="s3", observed_at=T + timedelta(hours=3), sku="matlab",
                          kind="session", user="bob", device_name="lt-2", session_start=T + timedelta(hours=2),
                          session_end=T + timedelta(hours=3))


@pytest.fixture(scope="module")
def db() -> Iterator[None]:
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    seed()
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


@pytest.fixture(scope="module")
def api(db: None) -> APIClient:
    client = APIClient()
    r = client.post("/api/licenses/runs", {"as_of": "2026-11-22T06:00:00Z", "run_id": "run-1"}, format="json")
    assert r.status_code == 201, r.content
    return client


def body(r: Any) -> Any:
    assert r["Content-Type"] == "application/json", r["Content-Type"]
    return json.loads(r.content)


def test_summary(api: APIClient) -> None:
    r = api.get("/api/licenses/summary", {"now": "2026-11-22T07:00:00+00:00"})
    assert r.status_code == 200
    d = body(r)
    assert d["state"] == "ok" and d["reason"] is None and d["sequence"] == 1
    assert d["counters"] == {"entitled": 7, "reserved": 0, "reserved_effective": 0, "consumed": 7,
                             "remaining": 0, "available": 1, "variance": 0}
    # datetime rendered by DRF, in UTC
    assert d["last_reconciled_at"] == "2026-11-22T06:00:00Z"
    assert d["snapshot_hash"] == StoredSnapshot.objects.get(sequence=1).snapshot_hash
    stale = body(api.get("/api/licenses/summary", {"now": "2026-11-25T06:00:00Z"}))
    assert stale["state"] == "stale" and stale["stale_for_seconds"] == 3 * 86400


def test_sku_list_renders_decimals_as_strings(api: APIClient) -> None:
    d = body(api.get("/api/licenses/skus"))
    skus = {s["sku"]: s for s in d["skus"]}
    assert sorted(skus) == ["m365-e3", "matlab", "visio"]
    e3, visio, matlab = skus["m365-e3"], skus["visio"], skus["matlab"]
    assert (e3["entitled"], e3["consumed"], e3["available"]) == (3, 2, 1)
    assert e3["variance_percent"] == "33.33" and e3["compliance_status"] == "under_utilized"
    assert (visio["consumed"], visio["remaining"], visio["compliance_status"]) == (3, -1, "over_deployed")
    assert visio["variance_percent"] == "-50.00"
    assert (matlab["entitled"], matlab["consumed"], matlab["variance_percent"]) == (2, 2, "0.00")


def test_sku_detail_with_proof(api: APIClient) -> None:
    d = body(api.get("/api/licenses/skus/m365-e3"))
    assert d["sku"] == "m365-e3" and d["model"] == "user"
    assert d["pools"] == []  # no pools defined: nothing is split
    snap = el.Snapshot.from_bytes(bytes(StoredSnapshot.objects.get(sequence=1).canonical))
    assert d["skus_root"] == snap.skus_root
    proof = el.prove(snap, "m365-e3")
    assert d["proof_path"] == list(proof.path)
    r = api.get("/api/licenses/skus/nope")
    assert r.status_code == 404


def test_evidence_download_verifies(api: APIClient) -> None:
    stored = StoredSnapshot.objects.get(sequence=1)
    for ident in (stored.snapshot_hash, "1"):
        r = api.get(f"/api/licenses/evidence/{ident}")
        assert r.status_code == 200 and r["Content-Type"] == "application/x-tar"
        assert r["X-Snapshot-Hash"] == stored.snapshot_hash
        report = el.verify(r.content)
        assert report.ok and report.snapshot_hash == stored.snapshot_hash
        with tarfile.open(fileobj=io.BytesIO(el.pack_archive(r.content))) as tar:
            assert "manifest.json" in tar.getnames()
    assert api.get("/api/licenses/evidence/sha256:00").status_code == 404


def test_tampered_stored_pack_is_refused_with_the_error_code(api: APIClient) -> None:
    stored = StoredSnapshot.objects.get(sequence=1)
    good = bytes(stored.evidence)
    tar = el.pack_archive(good)  # edited as a plain tar, which verification also takes
    i = tar.index(b'"organization_id":"org-django"')
    StoredSnapshot.objects.filter(pk=stored.pk).update(evidence=tar[:i] + tar[i:].replace(b"org-django", b"org-djangp", 1))
    try:
        r = api.get(f"/api/licenses/evidence/{stored.snapshot_hash}")
        assert r.status_code == 409
        d = body(r)
        assert d["code"] == "verification_failed" and "does not verify" in d["message"]
    finally:
        StoredSnapshot.objects.filter(pk=stored.pk).update(evidence=good)


def test_snapshots_chain_through_the_api(api: APIClient) -> None:
    r = api.post("/api/licenses/runs", {"as_of": "2026-11-23T06:00:00Z", "run_id": "run-2"}, format="json")
    assert r.status_code == 201
    second = StoredSnapshot.objects.get(sequence=2)
    first = StoredSnapshot.objects.get(sequence=1)
    snap = el.Snapshot.from_bytes(bytes(second.canonical))
    assert snap.previous_hash == first.snapshot_hash
    assert el.verify(bytes(second.evidence), previous=bytes(first.canonical)).ok
    d = body(api.get("/api/licenses/summary", {"now": "2026-11-23T07:00:00Z"}))
    assert d["sequence"] == 2 and d["snapshot_hash"] == snap.hash


def test_a_failed_run_maps_to_an_http_error_and_the_sidebar(api: APIClient) -> None:
    before = StoredSnapshot.objects.count()
    Entitlement.objects.create(entitlement_id="ent-bad", sku=Sku.objects.get(id="visio"), quantity=1,
                               starts_on=date(2026, 1, 1))
    Sku.objects.filter(id="visio").update(model="floating")  # not a licence model: catalog_integrity
    try:
        r = api.post("/api/licenses/runs", {"as_of": "2026-11-24T06:00:00Z"}, format="json")
        assert r.status_code == 409
        d = body(r)
        assert d["code"] == "catalog_integrity"
        assert d["location"]["file"] == "catalog.json"
        assert StoredSnapshot.objects.count() == before
        s = body(api.get("/api/licenses/summary", {"now": "2026-11-24T07:00:00Z"}))
        assert s["state"] == "failed" and s["reason"] == "reconciliation_failed"
        assert s["counters"]["entitled"] == 7  # still the latest successful snapshot's
    finally:
        Sku.objects.filter(id="visio").update(model="device")
        Entitlement.objects.filter(entitlement_id="ent-bad").delete()
        FailedRun.objects.all().delete()


def test_concurrent_requests_from_threads(api: APIClient) -> None:
    def fetch(i: int) -> tuple[int, Any]:
        client = APIClient()
        path = ("/api/licenses/skus", "/api/licenses/summary", "/api/licenses/skus/visio")[i % 3]
        r = client.get(path, {"now": "2026-11-23T07:00:00Z"} if "summary" in path else {})
        return r.status_code, json.loads(r.content)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(fetch, range(12)))
    assert all(code == 200 for code, _ in results)
    for i in range(3):
        same = [d for j, (_, d) in enumerate(results) if j % 3 == i]
        assert all(d == same[0] for d in same)
