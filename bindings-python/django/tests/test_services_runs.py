"""Runs: reconcile an organisation from its rows; idempotent per schedule slot;
chained; a failure keeps the previous truth and flips the sidebar to failed; the
read models over the stored outputs; imports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import eucora_license as el
import pytest
from django.db import transaction
from django.test import TestCase

from core_helpers import AS_OF, REPO, SIGNALS, core_settings, make_org, make_user  # noqa: F401
from eucora_license_django.models import (
    AuditLog,
    ConsumptionSignal,
    ConsumptionSnapshot,
    ConsumptionUnit,
    EvidencePack,
    ImportJob,
    Organization,
    ReconciliationRun,
)
from eucora_license_django.services import governance as gov
from eucora_license_django.services import imports, queries, runs

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def org(core_settings: Path) -> Organization:  # noqa: F811
    return make_org()


def test_schedule_slot_and_run_id() -> None:
    now = dt.datetime(2026, 11, 22, 17, 42, 5, tzinfo=dt.UTC)
    assert runs.schedule_slot(now, 86400) == dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    assert runs.schedule_slot(now, 3600) == dt.datetime(2026, 11, 22, 17, tzinfo=dt.UTC)
    assert runs.run_id_for(runs.schedule_slot(now, 86400)) == "run-2026-11-22T00:00:00Z"


def test_reconcile_stores_snapshot_pack_units_and_audit(org: Organization) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = runs.reconcile_organization(org, as_of=AS_OF, correlation_id="corr-run")
    assert run.status == "ok" and run.run_id == "run-2026-11-22T06:00:00Z" and run.as_of == AS_OF
    snap = ConsumptionSnapshot.objects.get(organization=org)
    parsed = el.Snapshot.from_bytes(bytes(snap.canonical))
    assert parsed.hash == snap.snapshot_hash and parsed.sequence == 1 and snap.run == run
    e3, visio = parsed.sku("m365-e3"), parsed.sku("visio")
    assert e3 is not None and visio is not None
    assert (e3.entitled, e3.consumed, e3.remaining) == (3, 2, 1)
    assert (visio.entitled, visio.consumed, visio.remaining, visio.compliance_status) == (2, 3, -1, "over_deployed")
    pack = EvidencePack.objects.get(snapshot=snap)
    data = runs.read_pack(pack)
    report = el.verify(data)
    assert report.ok and report.snapshot_hash == snap.snapshot_hash and len(data) == pack.size
    assert set(ConsumptionUnit.objects.filter(snapshot=snap).values_list("sku", "key")) == {
        ("m365-e3", "alice@acme.example"), ("m365-e3", "bob@acme.example"),
        ("visio", "serial:PF1"), ("visio", "serial:PF2"), ("visio", "serial:PF3")}
    entry = gov.audit_entries(org)[-1]
    assert (entry["action"], entry["after_hash"], entry["correlation_id"]) == ("reconcile.run", snap.snapshot_hash, "corr-run")
    assert entry["actor"] == gov.SCHEDULER_ACTOR
    # The job's row counts come from the core's report.
    job = ImportJob.objects.get(organization=org, active=True)
    assert (job.rows_total, job.rows_accepted, job.rows_rejected) == (6, 6, 0) and job.job_id
    assert gov.verify_audit(org)["ok"] is True


def test_same_slot_is_the_same_run_and_next_slot_chains(org: Organization) -> None:
    first = runs.reconcile_organization(org, as_of=AS_OF)
    again = runs.reconcile_organization(org, as_of=AS_OF, now=AS_OF + dt.timedelta(hours=5))
    assert again.pk == first.pk
    assert ConsumptionSnapshot.objects.filter(organization=org).count() == 1
    assert ReconciliationRun.objects.filter(organization=org).count() == 1
    assert AuditLog.objects.filter(organization=org, action="reconcile.run").count() == 1
    # The scheduled form: as_of = now rounded down to the interval.
    nxt = runs.reconcile_organization(org, now=AS_OF + DAY + dt.timedelta(hours=3))
    assert nxt.as_of == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    snaps = list(ConsumptionSnapshot.objects.filter(organization=org).order_by("sequence"))
    assert [s.sequence for s in snaps] == [1, 2] and snaps[1].previous_hash == snaps[0].snapshot_hash


def test_same_inputs_give_the_same_snapshot_bytes(core_settings: Path) -> None:  # noqa: F811
    a = make_org("org-a")
    b = make_org("org-b")
    ra, rb = runs.reconcile_organization(a, as_of=AS_OF), runs.reconcile_organization(b, as_of=AS_OF)
    sa, sb = ConsumptionSnapshot.objects.get(run=ra), ConsumptionSnapshot.objects.get(run=rb)
    assert ra.inputs_hash != rb.inputs_hash  # organisation ids differ
    assert el.Snapshot.from_bytes(bytes(sa.canonical)).totals == el.Snapshot.from_bytes(bytes(sb.canonical)).totals


def conflicting_signals() -> bytes:
    return SIGNALS + b"entra,a1,2026-11-21T10:00:00Z,m365-e3,assignment,active,zed@acme.example,\n"


def test_failure_keeps_the_previous_truth_and_flips_the_sidebar(org: Organization) -> None:
    ok = runs.reconcile_organization(org, as_of=AS_OF)
    before = queries.summary(org, now=AS_OF + dt.timedelta(hours=1))
    assert before["health"] == "ok" and before["consumed"] == 5 and before["sequence"] == 1
    with transaction.atomic():
        imports.store_job(org, adapter="canonical", file_name="signals.csv", data=conflicting_signals(),
                          created_at=AS_OF + DAY, rows=imports.canonical_rows("signals.csv", conflicting_signals()))
    failed = runs.reconcile_organization(org, as_of=AS_OF + DAY)
    assert failed.status == "failed" and "conflicting_duplicate" in failed.reason_codes and failed.report is not None
    assert ConsumptionSnapshot.objects.filter(organization=org).count() == 1
    after = queries.summary(org, now=AS_OF + DAY + dt.timedelta(hours=1))
    assert after["health"] == "failed" and after["reason"]["code"] == "reconciliation_failed"
    assert "conflicting_duplicate" in after["reason"]["reasons"]
    for k in ("entitled", "reserved", "consumed", "remaining", "available", "snapshot_hash", "sequence", "last_success_at"):
        assert after[k] == before[k], k
    entry = gov.audit_entries(org)[-1]
    assert entry["action"] == "reconcile.run" and entry["details"]["status"] == "failed"
    # A retry in the same slot (after the source is fixed) is the same run, now successful.
    with transaction.atomic():
        imports.store_job(org, adapter="canonical", file_name="signals.csv", data=SIGNALS, created_at=AS_OF + DAY,
                          rows=imports.canonical_rows("signals.csv", SIGNALS))
    retry = runs.reconcile_organization(org, as_of=AS_OF + DAY)
    assert retry.pk == failed.pk and retry.status == "ok"
    assert ReconciliationRun.objects.filter(organization=org).count() == 2
    assert queries.summary(org, now=AS_OF + DAY + dt.timedelta(hours=1))["health"] == "ok"
    assert ok.status == "ok"


def test_sidebar_stale_and_never_reconciled(org: Organization) -> None:
    never = queries.summary(org, now=AS_OF)
    assert never["health"] == "stale" and never["consumed"] is None and never["sequence"] is None
    runs.reconcile_organization(org, as_of=AS_OF)
    late = queries.summary(org, now=AS_OF + dt.timedelta(days=3))
    assert late["health"] == "stale" and late["stale_for_seconds"] == 3 * 86400
    assert late["last_reconciled_at"] == "2026-11-22T06:00:00Z" and late["organization_id"] == "org-acme"


def test_read_models(org: Organization) -> None:
    runs.reconcile_organization(org, as_of=AS_OF)
    data = SIGNALS + b"intune,v4,2026-11-22T09:00:00Z,visio,installation,,,PF4\n"
    with transaction.atomic():
        imports.store_job(org, adapter="canonical", file_name="signals.csv", data=data, created_at=AS_OF,
                          rows=imports.canonical_rows("signals.csv", data))
    runs.reconcile_organization(org, as_of=AS_OF + DAY)
    skus = queries.sku_list(org)
    assert [s["sku"] for s in skus] == ["m365-e3", "visio"]
    visio = skus[1]
    assert visio["consumed"] == 4 and visio["vendor"] == "microsoft" and [p["consumed"] for p in visio["trend"]] == [3, 4]
    assert [s["sku"] for s in queries.sku_list(org, filters={"status": "over_deployed"})] == ["visio"]
    assert queries.sku_list(org, filters={"vendor": "adobe"}) == []
    detail = queries.sku_detail(org, "visio")
    assert detail["counters"]["consumed"] == 4 and len(detail["timeline"]) == 2
    assert detail["timeline"][0]["diff"] is None and detail["timeline"][1]["diff"]["added"] == {"new_signal": 1}
    assert [(u["key"], u["reason"]) for u in detail["diff"]["added"]] == [("serial:PF4", "new_signal")]
    assert detail["breakdown"]["by_source"] == [{"source": "intune", "units": 4}]
    assert [u["key"] for u in detail["breakdown"]["by_principal"]] == ["serial:PF1", "serial:PF2", "serial:PF3", "serial:PF4"]
    assert detail["breakdown"]["by_confidence"][0]["units"] == 4
    with pytest.raises(gov.NotFound):
        queries.sku_detail(org, "nope")
    snaps = queries.snapshots(org, start=AS_OF + dt.timedelta(hours=1))
    assert [s["sequence"] for s in snaps] == [2]
    meta = queries.evidence(org, snaps[0]["snapshot_hash"])
    assert el.verify(queries.evidence_bytes(org, snaps[0]["snapshot_hash"])).ok and meta["size"] > 0
    active = queries.alerts(org)
    assert any(a["type"] == "over_deployed" and a["subject"] == {"sku": "visio"} for a in active)
    assert isinstance(queries.recommendations(org), list)
    assert [p["consumed"] for p in queries.trend(org, days=30)] == [5, 6]


def test_alerts_upsert_by_id_and_resolve(org: Organization) -> None:
    runs.reconcile_organization(org, as_of=AS_OF)
    first = {a["alert_id"]: a for a in queries.alerts(org)}
    runs.reconcile_organization(org, as_of=AS_OF + DAY)
    second = {a["alert_id"]: a for a in queries.alerts(org)}
    over = [k for k, a in second.items() if a["type"] == "over_deployed"]
    assert over and over[0] in first
    assert second[over[0]]["first_seen_at"] == first[over[0]]["first_seen_at"]
    assert second[over[0]]["last_seen_at"] == "2026-11-23T06:00:00Z"
    # Visio back within entitlement: the over_deployed alert resolves.
    data = b"\n".join(line for line in SIGNALS.split(b"\n") if b",v3," not in line) + b"\n"
    with transaction.atomic():
        imports.store_job(org, adapter="canonical", file_name="signals.csv", data=data, created_at=AS_OF,
                          rows=imports.canonical_rows("signals.csv", data))
    runs.reconcile_organization(org, as_of=AS_OF + 2 * DAY)
    assert over[0] not in {a["alert_id"] for a in queries.alerts(org)}
    resolved = {a["alert_id"]: a for a in queries.alerts(org, include_resolved=True)}
    assert resolved[over[0]]["resolved_at"] == "2026-11-24T06:00:00Z"


def test_import_service(org: Organization) -> None:
    admin = gov.actor_for(make_user("license_admin", "license_admin"))
    viewer = gov.actor_for(make_user("viewer", "viewer"))
    with pytest.raises(gov.Refused):
        imports.import_files(org, viewer, "canonical", {"more.csv": SIGNALS}, correlation_id="c0")
    pages = {f"page-{i}.json": (REPO / f"fixtures/adapters/jamf-inventory/page-{i}.json").read_bytes() for i in range(1)}
    jobs = imports.import_files(org, admin, "jamf-inventory", pages, correlation_id="c1")
    assert len(jobs) == 1 and jobs[0].input_hash == imports.import_hash(pages["page-0.json"])
    assert jobs[0].rows_total > 0 and ConsumptionSignal.objects.filter(import_job=jobs[0]).count() > 0
    entry = gov.audit_entries(org)[-1]
    assert entry["action"] == "import.upload" and entry["correlation_id"] == "c1" and entry["evidence"] == [jobs[0].input_hash]
    with pytest.raises(gov.BadInput):
        imports.import_files(org, admin, "no-such-adapter", pages, correlation_id="c2")
    # A re-upload of the same file name retires the previous job.
    again = imports.import_files(org, admin, "jamf-inventory", pages, correlation_id="c3")
    assert ImportJob.objects.filter(organization=org, adapter="jamf-inventory", active=True).get().pk == again[0].pk
    run = runs.reconcile_organization(org, as_of=AS_OF)
    assert run.status in ("ok", "degraded")
    snap = el.Snapshot.from_bytes(bytes(ConsumptionSnapshot.objects.get(run=run).canonical))
    assert any(i.input_hash == again[0].input_hash for i in snap.imports)


def test_manual_runs_describe_now_and_audit_each_request(org: Organization) -> None:
    admin = gov.actor_for(make_user("license_admin", "license_admin"))
    t = dt.datetime(2026, 11, 22, 10, 15, 30, 250000, tzinfo=dt.UTC)
    first = runs.run_now(org, admin, correlation_id="m1", now=t)
    assert first.status == "ok" and first.as_of == t.replace(microsecond=0) and first.trigger == "manual"
    assert first.run_id == "run-2026-11-22T10:15:30Z"
    n = AuditLog.objects.filter(organization=org).count()
    same = runs.run_now(org, admin, correlation_id="m2", now=t + dt.timedelta(milliseconds=300))
    assert same.pk == first.pk and AuditLog.objects.filter(organization=org).count() == n + 1
    assert gov.audit_entries(org)[-1]["correlation_id"] == "m2"
    later = runs.run_now(org, admin, correlation_id="m3", now=t + dt.timedelta(minutes=5))
    assert later.pk != first.pk and ConsumptionSnapshot.objects.filter(organization=org).count() == 2
    # The day's scheduled slot (00:00) is older than the manual snapshots: no run goes back in time.
    slot = runs.reconcile_organization(org, now=t + dt.timedelta(hours=1))
    assert slot.pk == later.pk and ReconciliationRun.objects.filter(organization=org).count() == 2


def test_catalog_writes_are_authorised_and_audited(org: Organization) -> None:
    from eucora_license_django.services import catalog

    admin = gov.actor_for(make_user("license_admin", "license_admin"))
    ops = gov.actor_for(make_user("ops_manager", "ops_manager"))
    with pytest.raises(gov.Refused):
        catalog.save_vendor(org, ops, {"id": "adobe", "name": "Adobe"}, correlation_id="c0")
    v = catalog.save_vendor(org, admin, {"id": "adobe", "name": "Adobe"}, correlation_id="c1")
    s = catalog.save_sku(org, admin, {"id": "acrobat", "vendor": "adobe", "name": "Acrobat", "model": "device",
                                      "unit_cost": "239.88", "currency": "USD"}, correlation_id="c2")
    assert (v.name, s.vendor_id, s.unit_cost) == ("Adobe", v.pk, "239.88")
    with pytest.raises(gov.BadInput) as err:
        catalog.save_sku(org, admin, {"id": "x", "vendor": "adobe", "name": "X", "model": "seat"}, correlation_id="c3")
    assert err.value.details["location"]["field"] == "model"
    with pytest.raises(gov.BadInput):
        catalog.save_integration(org, admin, {"name": "jamf", "adapter": "jamf-inventory", "options": {"api_token": "x"}},
                                 correlation_id="c4")
    catalog.save_integration(org, admin, {"name": "jamf", "adapter": "jamf-inventory"}, correlation_id="c5")
    actions = [(e["action"], e["correlation_id"]) for e in gov.audit_entries(org)]
    assert actions == [("catalog.write", "c0"), ("catalog.write", "c1"), ("catalog.write", "c2"), ("integration.write", "c5")]
    assert runs.reconcile_organization(org, as_of=AS_OF).status == "ok"
