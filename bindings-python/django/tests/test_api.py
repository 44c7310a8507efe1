"""The API of Part E end to end through DRF: correlation ids, authentication, error
bodies, the proposal flow, the audit log and its verification, and AC2-AC4."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import eucora_license as el
import pytest
from api_helpers import BASE, NEW_ENTITLEMENT, audit_count, client_for, reconciled_org, state_counts
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import TestCase
from rest_framework.test import APIClient

from core_helpers import AS_OF, SIGNALS, core_settings, make_org, make_user  # noqa: F401
from eucora_license_django.api import serializers
from eucora_license_django.models import (
    AgentRun,
    AuditLog,
    ConsumptionSnapshot,
    Entitlement,
    EvidencePack,
    LicenseSKU,
    Organization,
    Proposal,
    Vendor,
)
from eucora_license_django.services import governance as gov
from eucora_license_django.services import imports, proposals, runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(core_settings: Path) -> Organization:  # noqa: F811
    return reconciled_org()


def post(client: APIClient, path: str, body: Any = None, cid: str | None = None, **kw: Any) -> Any:
    extra: dict[str, Any] = {"HTTP_X_CORRELATION_ID": cid} if cid else {}
    extra.update(kw)
    extra.setdefault("format", "json")
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(BASE + path, body, **extra)


def get(client: APIClient, path: str, cid: str | None = None) -> Any:
    headers = {"HTTP_X_CORRELATION_ID": cid} if cid else {}
    return client.get(BASE + path, **headers)  # type: ignore[arg-type]


# ------------------------------------------------------------------- correlation ids


def test_correlation_id_is_echoed_when_valid(org: Organization) -> None:
    client = client_for("viewer", "viewer")
    for cid in ("abc", "req-1.2:3_x", "A" * 128):
        response = get(client, "summary", cid)
        assert response.status_code == 200 and response["X-Correlation-ID"] == cid


@pytest.mark.parametrize("given", [None, "", "has space", "a/b", "A" * 129, "é"])
def test_correlation_id_is_a_new_uuid_otherwise(org: Organization, given: str | None) -> None:
    client = client_for("viewer", "viewer")
    headers = {} if given is None else {"HTTP_X_CORRELATION_ID": given}
    first = client.get(BASE + "summary", **headers)  # type: ignore[arg-type]
    second = client.get(BASE + "summary", **headers)  # type: ignore[arg-type]
    ids = [first["X-Correlation-ID"], second["X-Correlation-ID"]]
    assert all(str(uuid.UUID(i)) == i for i in ids) and ids[0] != ids[1]


def test_correlation_id_on_error_responses_and_other_pages(org: Organization) -> None:
    anonymous = APIClient()
    assert anonymous.get(BASE + "summary", HTTP_X_CORRELATION_ID="c-401")["X-Correlation-ID"] == "c-401"
    client = client_for("viewer", "viewer")
    assert get(client, "skus/nope", "c-404")["X-Correlation-ID"] == "c-404"
    assert get(client, "audit", "c-403")["X-Correlation-ID"] == "c-403"
    # the middleware: every response of the site, not only the API's
    assert anonymous.get("/no-such-page", HTTP_X_CORRELATION_ID="c-page")["X-Correlation-ID"] == "c-page"


def test_every_write_stores_the_correlation_id_in_its_audit_entry(org: Organization) -> None:
    admin = client_for("admin", "license_admin")
    auditor = client_for("auditor", "license_auditor")
    assert post(admin, "reconcile/run", cid="corr-run").status_code == 202
    assert post(admin, "entitlements", NEW_ENTITLEMENT, cid="corr-ent").status_code == 201
    assert post(auditor, "entitlements", NEW_ENTITLEMENT, cid="corr-refused").status_code == 403
    for cid, action in (("corr-run", "reconcile.run"), ("corr-ent", "entitlement.propose"), ("corr-refused", "entitlement.propose")):
        listed = get(auditor, f"audit?correlation_id={cid}").json()
        assert listed["next"] is None and [e["action"] for e in listed["results"]] == [action]
        assert listed["results"][0]["correlation_id"] == cid


# --------------------------------------------------------------------- authentication


def test_unauthenticated_is_401(org: Organization) -> None:
    before = audit_count(org)
    response = APIClient().get(BASE + "summary")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.post(BASE + "reconcile/run").status_code == 401
    assert audit_count(org) == before


def test_session_authentication_and_json_without_accept(org: Organization) -> None:
    client = APIClient()
    client.force_login(make_user("sess", "viewer"))
    response = client.get(BASE + "summary")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["organization_id"] == org.pk
    assert set(body) == set(serializers.SummarySerializer().fields)  # the schema documents exactly what is answered
    snap = ConsumptionSnapshot.objects.get(organization=org)
    assert body["snapshot_hash"] == snap.snapshot_hash and body["sequence"] == snap.sequence


def test_refused_whatever_the_body(org: Organization) -> None:
    viewer = client_for("viewer", "viewer")
    before = state_counts(org)
    response = post(viewer, "entitlements", "{not json", format=None, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "role_lacks_action"
    response = post(viewer, "import", {"adapter": "nope"}, format="multipart")
    assert response.status_code == 403 and response.json()["action"] == "import.upload"
    assert state_counts(org) == before


def test_conflicting_roles_are_refused(org: Organization) -> None:
    both = client_for("both", "license_admin", "license_auditor")
    response = get(both, "summary")
    assert response.status_code == 403 and response.json() == {
        "code": "conflicting_roles", "action": "view.sidebar", "message": "view.sidebar refused"}


# ------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(("body", "field"), [
    ({**NEW_ENTITLEMENT, "quantity": "five"}, "quantity"),
    ({**NEW_ENTITLEMENT, "sku": "no-such-sku"}, "sku"),
    ({**NEW_ENTITLEMENT, "starts_on": "2026-13-01"}, "starts_on"),
    ({**NEW_ENTITLEMENT, "unit_cost": 12.5}, "unit_cost"),
    ({**NEW_ENTITLEMENT, "entitlement_id": "E-1"}, "entitlement_id"),
    ({**NEW_ENTITLEMENT, "action": "delete"}, "action"),
])
def test_400_carries_code_and_location(org: Organization, body: dict[str, Any], field: str) -> None:
    admin = client_for("admin", "license_admin")
    before, entries = state_counts(org), audit_count(org)
    response = post(admin, "entitlements", body, cid="corr-bad")
    assert response.status_code == 400
    out = response.json()
    assert out["code"] == "invalid_input" and out["location"]["field"] == field and out["message"]
    assert state_counts(org) == before
    # an API write appends exactly one entry, also when its input is refused as bad
    assert audit_count(org) == entries + 1
    last = gov.audit_entries(org)[-1]
    assert last["correlation_id"] == "corr-bad" and last["details"]["outcome"] == "error"


def test_400_on_malformed_json_ruleset_import_and_query(org: Organization) -> None:
    admin = client_for("admin", "license_admin")
    entries = audit_count(org)
    response = post(admin, "entitlements", "{not json", format=None, content_type="application/json", cid="corr-json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_json" and "location" in response.json()
    assert audit_count(org) == entries + 1 and gov.audit_entries(org)[-1]["correlation_id"] == "corr-json"
    ruleset = json.loads(json.dumps(runs.active_ruleset(org)))
    ruleset["version"] = int(ruleset.get("version", 1)) + 1
    ruleset["sku_mappings"] = [{"match": "exact", "field": "product", "value": "X", "sku": "no-such-sku"}]
    response = post(admin, "rulesets", ruleset)
    assert response.status_code == 400 and response.json()["code"] == "invalid_ruleset"
    assert response.json()["location"]["file"] == "ruleset.json" and response.json()["location"]["field"]
    files = {"adapter": "no-such-adapter", "files": [SimpleUploadedFile("x.csv", b"a,b\n")]}
    response = post(admin, "import", files, format="multipart")
    assert response.status_code == 400 and response.json()["location"]["field"] == "adapter"
    response = get(admin, "skus?days=abc")
    assert response.status_code == 400 and response.json()["location"]["field"] == "days"
    response = get(admin, "snapshots?from=yesterday")
    assert response.status_code == 400 and response.json()["location"]["field"] == "from"


# ---------------------------------------------------------------------- proposal flow


def test_entitlement_proposal_flow(org: Organization) -> None:
    admin = client_for("admin", "license_admin")
    ops = client_for("ops", "ops_manager")
    ops2 = client_for("ops2", "ops_manager")
    response = post(admin, "entitlements", NEW_ENTITLEMENT, cid="corr-propose")
    assert response.status_code == 201
    p = response.json()
    assert set(p) == {"proposal_id", "kind", "payload", "payload_hash", "proposer", "created_at", "expires_at", "policy_hash",
                      "correlation_id", "evidence", "state"}
    assert p["state"] == "pending" and p["kind"] == "entitlement.create" and p["correlation_id"] == "corr-propose"
    assert p["proposer"] == {"type": "user", "id": "admin", "roles": ["license_admin"]}
    assert p["payload"]["quantity"] == 5 and p["payload"]["ends_on"] is None
    assert el.payload_hash(p["payload"]) == p["payload_hash"]
    assert not Entitlement.objects.filter(organization=org, entitlement_id="E-9").exists()
    listed = get(ops, "proposals?state=pending").json()
    assert [x["proposal_id"] for x in listed["results"]] == [p["proposal_id"]] and listed["next"] is None
    pid = p["proposal_id"]

    # the proposer cannot approve (no entitlement.approve)
    response = post(admin, f"proposals/{pid}/approve", {})
    assert response.status_code == 403 and response.json()["code"] == "role_lacks_action"

    response = post(ops, f"proposals/{pid}/approve", {"comment": "fine"}, cid="corr-approve")
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["state"] == "approved" and out["counted"] == ["ops"] and out["refused"] == []
    assert out["change"] == {"kind": "entitlement.create", "proposal_id": pid, "payload": p["payload"]}
    e = Entitlement.objects.get(organization=org, entitlement_id="E-9")
    assert (e.quantity, e.starts_on, e.applied_proposal_id) == (5, dt.date(2026, 12, 1), pid)
    entry = get(client_for("aud", "license_auditor"), "audit?correlation_id=corr-approve").json()["results"][-1]
    assert entry["details"]["proposal_correlation_id"] == "corr-propose" and entry["action"] == "entitlement.approve"

    before = audit_count(org)
    response = post(ops2, f"proposals/{pid}/approve", {}, cid="corr-again")
    assert response.status_code == 409 and response.json()["code"] == "already_applied"
    assert audit_count(org) == before + 1 and gov.audit_entries(org)[-1]["correlation_id"] == "corr-again"
    assert Entitlement.objects.filter(organization=org, entitlement_id="E-9").count() == 1


def test_self_approval_is_refused(org: Organization) -> None:
    boss = client_for("boss", "license_admin", "ops_manager")
    pid = post(boss, "entitlements", NEW_ENTITLEMENT).json()["proposal_id"]
    before, entries = state_counts(org), audit_count(org)
    response = post(boss, f"proposals/{pid}/approve", {"comment": "mine"}, cid="corr-self")
    assert response.status_code == 403
    assert response.json()["code"] == "self_approval" and response.json()["action"] == "entitlement.approve"
    assert state_counts(org) == before and audit_count(org) == entries + 1
    last = gov.audit_entries(org)[-1]
    assert set(last) == set(serializers.AuditEntrySerializer().fields)
    assert last["correlation_id"] == "corr-self" and last["details"]["reason"] == "self_approval"
    assert not Entitlement.objects.filter(organization=org, entitlement_id="E-9").exists()
    # and its own reject too
    assert post(boss, f"proposals/{pid}/reject", {}).json()["code"] == "self_approval"


def test_rejected_and_expired_are_409(org: Organization) -> None:
    admin = client_for("admin", "license_admin")
    ops = client_for("ops", "ops_manager")
    pid = post(admin, "entitlements", NEW_ENTITLEMENT).json()["proposal_id"]
    out = post(ops, f"proposals/{pid}/reject", {"comment": "no"}).json()
    assert out["state"] == "rejected" and out["change"] is None
    response = post(ops, f"proposals/{pid}/approve", {})
    assert response.status_code == 409 and response.json()["code"] == "rejected"
    old = proposals.propose_entitlement(org, gov.actor_for(make_user("old", "license_admin")),
                                        {**NEW_ENTITLEMENT, "entitlement_id": "E-7"}, correlation_id="c-old",
                                        now=dt.datetime.now(dt.UTC) - dt.timedelta(days=30))
    response = post(ops, f"proposals/{old.proposal_id}/approve", {})
    assert response.status_code == 409 and response.json()["code"] == "expired"
    assert get(ops, "proposals?state=expired").json()["results"][0]["proposal_id"] == old.proposal_id
    assert post(ops, "proposals/sha256:0000/approve", {}).status_code == 404


def test_changed_payload_hash_is_refused(org: Organization) -> None:
    admin = client_for("admin", "license_admin")
    ops = client_for("ops", "ops_manager")
    pid = post(admin, "entitlements", NEW_ENTITLEMENT).json()["proposal_id"]
    response = post(ops, f"proposals/{pid}/approve", {"payload_hash": "sha256:" + "0" * 64})
    assert response.status_code == 403 and response.json()["code"] == "payload_changed"
    # the body is optional: payload_hash defaults to the stored proposal's
    response = post(ops, f"proposals/{pid}/approve", format=None)
    assert response.status_code == 200 and response.json()["state"] == "approved"


def test_ruleset_proposal_is_pending(org: Organization) -> None:
    admin = client_for("admin", "license_admin")
    doc = json.loads(json.dumps(runs.active_ruleset(org)))
    doc["version"] = int(doc.get("version", 1)) + 1
    response = post(admin, "rulesets", doc)
    assert response.status_code == 201
    assert response.json()["kind"] == "ruleset.version" and response.json()["state"] == "pending"


# ----------------------------------------------------------------- runs, imports, evidence


def test_reconcile_run_is_202_with_the_run(org: Organization) -> None:
    operator = client_for("op", "agent_operator")
    response = post(operator, "reconcile/run", cid="corr-manual")
    assert response.status_code == 202
    run = response.json()
    assert run["status"] in ("ok", "degraded") and run["correlation_id"] == "corr-manual" and run["trigger"] == "manual"
    assert run["snapshot_hash"] == ConsumptionSnapshot.objects.filter(organization=org).order_by("-sequence")[0].snapshot_hash


def test_import_returns_the_job_with_row_errors(org: Organization) -> None:
    admin = client_for("admin", "license_admin")
    bad = SIGNALS + b"entra,a9,not-a-time,m365-e3,assignment,active,zed@acme.example,\n"
    response = post(admin, "import", {"adapter": "canonical", "files": [SimpleUploadedFile("more.csv", bad)]}, format="multipart")
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["file_name"] == "more.csv" and job["input_hash"] == imports.import_hash(bad) and len(job["jobs"]) == 1
    assert isinstance(job["row_errors"], list)


def test_evidence_metadata_and_download(org: Organization) -> None:
    snap = ConsumptionSnapshot.objects.get(organization=org)
    auditor = client_for("aud", "license_auditor")
    admin = client_for("admin", "license_admin")
    meta = get(auditor, f"evidence/{snap.snapshot_hash}").json()
    pack = EvidencePack.objects.get(snapshot=snap)
    assert meta["pack_hash"] == pack.pack_hash and meta["download_allowed"] is True
    assert meta["download"].endswith(f"/api/licenses/evidence/{snap.snapshot_hash}/download")
    assert get(admin, f"evidence/{snap.snapshot_hash}").json()["download_allowed"] is False
    response = get(auditor, f"evidence/{snap.snapshot_hash}/download")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-tar"
    assert response.content == runs.read_pack(pack)
    assert get(admin, f"evidence/{snap.snapshot_hash}/download").status_code == 403
    assert get(auditor, "evidence/sha256:nope").status_code == 404


# ------------------------------------------------------------------------------ audit


def test_audit_verify_uses_the_stored_checkpoint(org: Organization) -> None:
    admin = client_for("admin", "license_admin")
    auditor = client_for("aud", "license_auditor")
    post(admin, "reconcile/run")
    post(admin, "entitlements", NEW_ENTITLEMENT)
    size = audit_count(org)
    assert get(auditor, "audit/verify").json() == {"ok": True, "size": size, "failure": None}
    checkpoint = gov.read_checkpoint(org)
    assert checkpoint is not None and checkpoint["size"] == size
    # a checkpoint the log does not extend (a cut tail) fails
    gov.checkpoint_path(org).write_text(json.dumps({**checkpoint, "size": size + 3}))
    out = get(auditor, "audit/verify").json()
    assert out == {"ok": False, "size": size, "failure": {"code": "checkpoint_mismatch", "seq": size + 3}}


# ------------------------------------------------------------------------------- ACs


def test_ac2_counters_per_model_type(core_settings: Path) -> None:  # noqa: F811
    """AC2: for user, device and concurrent SKUs the API's counters are the snapshot's,
    computed per the rules; a negative remaining only with entitlement < consumed, and
    then an alert."""
    org = make_org("org-ac2")
    mw = Vendor.objects.create(organization=org, vendor_id="mathworks", name="MathWorks")
    matlab = LicenseSKU.objects.create(organization=org, sku_id="matlab", vendor=mw, name="MATLAB", model="concurrent",
                                       unit_cost="1180.00", cost_period="year", currency="USD")
    Entitlement.objects.create(organization=org, entitlement_id="E-3", sku=matlab, quantity=2, starts_on=dt.date(2026, 1, 1))
    sessions = (b"source,raw_id,observed_at,sku,kind,user,device_name,session_start,session_end,quantity\n"
                b"flexlm,s1,2026-11-20T12:00:00Z,matlab,session,u1,H1,2026-11-20T10:00:00Z,2026-11-20T12:00:00Z,1\n"
                b"flexlm,s2,2026-11-20T13:00:00Z,matlab,session,u2,H2,2026-11-20T11:00:00Z,2026-11-20T13:00:00Z,1\n"
                b"flexlm,s3,2026-11-20T12:00:00Z,matlab,session,u3,H3,2026-11-20T11:30:00Z,2026-11-20T11:45:00Z,1\n")
    with transaction.atomic():
        imports.store_job(org, adapter="canonical", file_name="flexlm.csv", data=sessions, created_at=AS_OF,
                          rows=imports.canonical_rows("flexlm.csv", sessions))
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = runs.reconcile_organization(org, as_of=AS_OF)
    assert run.status in ("ok", "degraded"), run.reason_codes
    client = client_for("ops", "ops_manager")
    skus = {r["sku"]: r for r in get(client, "skus").json()["results"]}
    # user: 2 active assignments (one revoked) of 3; device: 3 installations of 2; concurrent: peak 3 of 2
    expected = {"m365-e3": ("user", 3, 2, 1), "visio": ("device", 2, 3, -1), "matlab": ("concurrent", 2, 3, -1)}
    snap = json.loads(bytes(ConsumptionSnapshot.objects.get(organization=org).canonical))
    by_sku = {r["sku"]: r for r in snap["skus"]}
    for sku, (model, entitled, consumed, remaining) in expected.items():
        rec = skus[sku]
        assert (rec["entitled"], rec["consumed"], rec["remaining"]) == (entitled, consumed, remaining), sku
        assert LicenseSKU.objects.get(organization=org, sku_id=sku).model == model
        for counter in ("entitled", "reserved", "consumed", "remaining", "available"):
            assert rec[counter] == by_sku[sku][counter]
        if rec["remaining"] < 0:
            assert rec["entitled"] < rec["consumed"]
    alerts = get(client, "alerts").json()["results"]
    for sku in ("visio", "matlab"):
        assert any(sku in json.dumps(a["subject"]) for a in alerts), (sku, alerts)
    assert not any("m365-e3" in json.dumps(a["subject"]) and a["severity"] == "critical" for a in alerts)
    summary = get(client, "summary").json()
    assert summary["consumed"] == snap["totals"]["consumed"] and summary["entitled"] == snap["totals"]["entitled"]


def test_ac3_every_change_is_audited_immutable_with_evidence_and_attribution(org: Organization) -> None:
    """AC3: every entitlement change, import job and reconciliation run creates an
    immutable audit entry with evidence references, attributable to a user (or an
    agent with its delegating user)."""
    admin = client_for("admin", "license_admin")
    ops = client_for("ops", "ops_manager")
    operator = client_for("operator", "agent_operator")
    auditor = client_for("aud", "license_auditor")
    pid = post(admin, "entitlements", NEW_ENTITLEMENT, cid="ac3-propose").json()["proposal_id"]
    assert post(ops, f"proposals/{pid}/approve", {}, cid="ac3-approve").status_code == 200
    job = post(admin, "import", {"adapter": "canonical", "files": [SimpleUploadedFile("signals.csv", SIGNALS)]},
               format="multipart", cid="ac3-import").json()
    run = post(operator, "reconcile/run", cid="ac3-run").json()
    agent = post(operator, "agents/anomaly_detector/run", cid="ac3-agent")
    assert agent.status_code == 201

    def entry(cid: str) -> dict[str, Any]:
        found = get(auditor, f"audit?correlation_id={cid}").json()["results"]
        assert len(found) == 1, (cid, found)
        e: dict[str, Any] = found[0]
        return e

    propose, approve, imported, ran, agent_entry = (entry(c) for c in ("ac3-propose", "ac3-approve", "ac3-import", "ac3-run", "ac3-agent"))
    assert propose["actor"]["id"] == "admin" and propose["after_hash"] == el.payload_hash(NEW_ENTITLEMENT)
    assert approve["actor"]["id"] == "ops" and approve["entity"] == {"type": "proposal", "id": pid}
    assert approve["details"]["applied"] is True and approve["before_hash"]
    assert imported["actor"]["id"] == "admin" and imported["evidence"] == [job["input_hash"]]
    assert ran["actor"]["id"] == "operator" and ran["after_hash"] == run["snapshot_hash"]
    pack = EvidencePack.objects.get(snapshot__snapshot_hash=run["snapshot_hash"])
    assert ran["evidence"] == [pack.pack_hash]
    assert agent_entry["actor"]["type"] == "agent" and agent_entry["actor"]["on_behalf_of"]["id"] == "operator"
    # immutable: no update, no delete; the chain verifies
    row = AuditLog.objects.filter(organization=org).order_by("-seq").first()
    assert row is not None
    with pytest.raises(Exception):  # noqa: B017 - the models' immutability error, whichever class
        with transaction.atomic():
            row.action = "tampered"
            row.save()
    with pytest.raises(Exception):  # noqa: B017
        with transaction.atomic():
            AuditLog.objects.filter(organization=org).delete()
    assert get(auditor, "audit/verify").json() == {"ok": True, "size": audit_count(org), "failure": None}


def test_ac4_agents_cannot_write_final_changes_and_every_action_is_logged(org: Organization) -> None:
    """AC4: the inventory extractor and the optimization advisor only propose (nothing
    final without an approval); the truth builder never writes truth without an
    evidence pack; every agent action is logged with inputs, outputs and its
    correlation id."""
    operator = client_for("operator", "agent_operator")
    auditor = client_for("aud", "license_auditor")
    entitlements = {e.entitlement_id: e.quantity for e in Entitlement.objects.filter(organization=org)}
    snapshots = ConsumptionSnapshot.objects.filter(organization=org).count()
    for agent in ("inventory_extractor", "optimization_advisor", "truth_builder"):
        cid = f"ac4-{agent}"
        response = post(operator, f"agents/{agent}/run", cid=cid)
        assert response.status_code == 201, response.content
        run = response.json()
        assert run["agent"] == agent and run["correlation_id"] == cid and run["inputs_hash"].startswith("sha256:")
        assert set(serializers.AgentRunSerializer().fields) <= set(run) and run["actor"]["on_behalf_of"]["id"] == "operator"
        stored = AgentRun.objects.get(organization=org, run_id=run["run_id"])
        assert stored.correlation_id == cid
        logged = get(auditor, f"audit?correlation_id={cid}").json()["results"]
        assert len(logged) == 1 and logged[0]["actor"]["type"] == "agent"
    # nothing final: entitlements and truth unchanged, every agent proposal pending
    assert {e.entitlement_id: e.quantity for e in Entitlement.objects.filter(organization=org)} == entitlements
    assert ConsumptionSnapshot.objects.filter(organization=org).count() == snapshots
    assert all(p.state == "pending" and p.applied_at is None for p in Proposal.objects.filter(organization=org))
    assert all(EvidencePack.objects.filter(snapshot=s).exists() for s in ConsumptionSnapshot.objects.filter(organization=org))
    # an agent never approves, whatever its delegator holds
    boss = make_user("boss", "ops_manager", "agent_operator")
    for agent in ("inventory_extractor", "optimization_advisor"):
        decision = gov.authorize(org, gov.agent_actor(agent, boss), "entitlement.approve")
        assert decision["allowed"] is False and decision["reason"] == "approval_needs_human"
    # the agent operator cannot approve its agents' proposals either
    for p in Proposal.objects.filter(organization=org):
        assert post(operator, f"proposals/{p.proposal_id}/approve", {}).status_code == 403


def test_a_write_whose_audit_append_fails_changes_nothing(org: Organization, monkeypatch: pytest.MonkeyPatch) -> None:
    """Authorisation, change and audit entry are one transaction: when the entry cannot
    be appended, the approved change is not made either."""
    admin = client_for("admin", "license_admin")
    ops = client_for("ops", "ops_manager")
    pid = post(admin, "entitlements", NEW_ENTITLEMENT).json()["proposal_id"]
    before, entries = state_counts(org), audit_count(org)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(gov, "append_audit", broken)
    with pytest.raises(RuntimeError):
        post(ops, f"proposals/{pid}/approve", {})
    assert state_counts(org) == before and audit_count(org) == entries
    assert Proposal.objects.get(proposal_id=pid).state == "pending"
    assert not Entitlement.objects.filter(organization=org, entitlement_id="E-9").exists()
