"""Proposals: an entitlement change is a D2 proposal until an approver's approval
is decided and applied, in one transaction; refusals (D1 and D2) change nothing
but their own audit entry; 409 conflicts carry the core's state code."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.test import TestCase

from core_helpers import core_settings, make_org, make_user  # noqa: F401
from eucora_license_django.models import Approval, AuditLog, Entitlement, Organization, Proposal
from eucora_license_django.services import governance as gov
from eucora_license_django.services import proposals

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
NEW = {"entitlement_id": "E-9", "sku": "visio", "contract_id": "C-9", "quantity": 5, "starts_on": "2026-12-01",
       "ends_on": None, "unit_cost": "12.50", "currency": "USD"}


@pytest.fixture
def org(core_settings: Path) -> Organization:  # noqa: F811
    return make_org()


def actor(name: str, *roles: str) -> dict[str, object]:
    return gov.actor_for(make_user(name, *roles))


def audit_count(org: Organization) -> int:
    return AuditLog.objects.filter(organization=org).count()


def test_create_is_pending_until_approved_then_applied(org: Organization) -> None:
    admin = actor("license_admin", "license_admin")
    ops = actor("ops_manager", "ops_manager")
    p = proposals.propose_entitlement(org, admin, NEW, correlation_id="corr-propose", now=NOW)
    assert p.state == "pending" and p.kind == "entitlement.create"
    assert not Entitlement.objects.filter(organization=org, entitlement_id="E-9").exists()
    doc = proposals.proposal_document(p)
    assert doc["proposal_id"] == p.proposal_id and doc["payload"]["quantity"] == 5 and doc["proposer"] == admin
    assert bytes(p.canonical) == gov.canonical_json(doc)
    assert proposals.proposal_dict(p)["state"] == "pending"
    with TestCase.captureOnCommitCallbacks(execute=True):
        out = proposals.approve(org, ops, p.proposal_id, comment="ok", correlation_id="corr-approve", now=NOW + dt.timedelta(hours=1))
    assert out.state == "approved" and out.counted == ["ops_manager"] and out.refused == []
    assert out.change is not None and out.change["kind"] == "entitlement.create" and out.change["proposal_id"] == p.proposal_id
    e = Entitlement.objects.get(organization=org, entitlement_id="E-9")
    assert (e.quantity, e.starts_on, e.ends_on, e.unit_cost, e.applied_proposal_id) == \
        (5, dt.date(2026, 12, 1), None, "12.50", p.proposal_id)
    p.refresh_from_db()
    assert p.state == "approved" and p.applied_at is not None
    last = gov.audit_entries(org)[-1]
    assert last["action"] == "entitlement.approve" and last["correlation_id"] == "corr-approve"
    assert last["details"]["applied"] is True and last["details"]["proposal_correlation_id"] == "corr-propose"
    assert gov.verify_audit(org)["ok"] is True
    # Applying twice is refused with the core's code.
    n = audit_count(org)
    with pytest.raises(gov.Conflict) as conflict:
        proposals.approve(org, actor("ops2", "ops_manager"), p.proposal_id, correlation_id="c3", now=NOW + dt.timedelta(hours=2))
    assert conflict.value.code == "already_applied" and conflict.value.status == 409
    assert audit_count(org) == n + 1


def test_update_and_end(org: Organization) -> None:
    admin = actor("license_admin", "license_admin")
    ops = actor("ops_manager", "ops_manager")
    p = proposals.propose_entitlement(org, admin, {**NEW, "entitlement_id": "E-2", "action": "update", "quantity": 7},
                                      correlation_id="c1", now=NOW)
    assert p.kind == "entitlement.update"
    proposals.approve(org, ops, p.proposal_id, correlation_id="c2", now=NOW)
    assert Entitlement.objects.get(organization=org, entitlement_id="E-2").quantity == 7
    p = proposals.propose_entitlement(org, admin, {**NEW, "entitlement_id": "E-2", "action": "end", "quantity": 7,
                                                   "ends_on": "2026-12-31"}, correlation_id="c3", now=NOW)
    assert p.kind == "entitlement.end"
    proposals.approve(org, ops, p.proposal_id, correlation_id="c4", now=NOW)
    assert Entitlement.objects.get(organization=org, entitlement_id="E-2").ends_on == dt.date(2026, 12, 31)


def test_refused_proposer_and_bad_input(org: Organization) -> None:
    viewer = actor("viewer", "viewer")
    admin = actor("license_admin", "license_admin")
    n = audit_count(org)
    # D1 runs before validation: a refused request is 403 whatever its body.
    with pytest.raises(gov.Refused) as refused:
        proposals.propose_entitlement(org, viewer, {"quantity": "not a number"}, correlation_id="c", now=NOW)
    assert refused.value.code == "role_lacks_action" and refused.value.details["action"] == "entitlement.propose"
    assert audit_count(org) == n + 1 and not Proposal.objects.exists()
    for bad, field in (({**NEW, "quantity": "5"}, "quantity"), ({**NEW, "quantity": 1.5}, "quantity"),
                       ({**NEW, "starts_on": "2026-13-01"}, "starts_on"), ({**NEW, "unit_cost": 12.5}, "unit_cost"),
                       ({**NEW, "sku": "nope"}, "sku"), ({**NEW, "entitlement_id": "E-1"}, "entitlement_id"),
                       ({**NEW, "action": "update"}, "entitlement_id"), ({**NEW, "colour": "red"}, "colour"),
                       ({**NEW, "action": "destroy"}, "action")):
        with pytest.raises(gov.BadInput) as err:
            proposals.propose_entitlement(org, admin, bad, correlation_id="c", now=NOW)
        assert err.value.status == 400 and err.value.details["location"]["field"] == field, bad
    assert not Proposal.objects.exists()


def test_proposer_cannot_approve_and_refusals_change_nothing(org: Organization) -> None:
    admin = actor("license_admin", "license_admin")
    p = proposals.propose_entitlement(org, admin, NEW, correlation_id="c1", now=NOW)
    n = audit_count(org)
    with pytest.raises(gov.Refused) as refused:
        proposals.approve(org, admin, p.proposal_id, correlation_id="c2", now=NOW)
    assert refused.value.code == "role_lacks_action" and refused.value.details["action"] == "entitlement.approve"
    # Someone holding both a propose and the approve role, approving their own proposal: D2 self_approval.
    both = actor("both", "agent_operator", "ops_manager")
    mine = proposals.propose_entitlement(org, both, {**NEW, "entitlement_id": "E-10"}, correlation_id="c3", now=NOW)
    with pytest.raises(gov.Refused) as refused:
        proposals.approve(org, both, mine.proposal_id, correlation_id="c4", now=NOW)
    assert refused.value.code == "self_approval"
    assert audit_count(org) == n + 3  # the two refusals and the second proposal
    assert not Approval.objects.exists() and not Entitlement.objects.filter(entitlement_id__in=["E-9", "E-10"]).exists()
    entries = gov.audit_entries(org)
    assert entries[-1]["details"]["allowed"] is False and entries[-1]["details"]["reason"] == "self_approval"
    # A changed payload hash (the approver saw another payload) is refused too.
    with pytest.raises(gov.Refused) as refused:
        proposals.approve(org, actor("ops", "ops_manager"), p.proposal_id, payload_hash="sha256:" + "0" * 64,
                          correlation_id="c5", now=NOW)
    assert refused.value.code == "payload_changed"


def test_reject_then_approve_is_a_conflict(org: Organization) -> None:
    admin = actor("license_admin", "license_admin")
    ops = actor("ops", "ops_manager")
    p = proposals.propose_entitlement(org, admin, NEW, correlation_id="c1", now=NOW)
    out = proposals.reject(org, ops, p.proposal_id, comment="no", correlation_id="c2", now=NOW)
    assert out.state == "rejected" and out.change is None
    with pytest.raises(gov.Conflict) as conflict:
        proposals.approve(org, actor("ops2", "ops_manager"), p.proposal_id, correlation_id="c3", now=NOW)
    assert conflict.value.code == "rejected"
    assert not Entitlement.objects.filter(entitlement_id="E-9").exists()


def test_expired_proposal_is_a_conflict(org: Organization) -> None:
    admin = actor("license_admin", "license_admin")
    p = proposals.propose_entitlement(org, admin, NEW, correlation_id="c1", now=NOW)
    assert p.expires_at == NOW + dt.timedelta(hours=168)
    with pytest.raises(gov.Conflict) as conflict:
        proposals.approve(org, actor("ops", "ops_manager"), p.proposal_id, correlation_id="c2", now=NOW + dt.timedelta(days=8))
    assert conflict.value.code == "expired"
    p.refresh_from_db()
    assert p.state == "expired"


def test_unknown_proposal_is_not_found(org: Organization) -> None:
    with pytest.raises(gov.NotFound):
        proposals.approve(org, actor("ops", "ops_manager"), "sha256:" + "1" * 64, correlation_id="c", now=NOW)


def test_ruleset_proposal_is_validated_and_applied(org: Organization) -> None:
    from eucora_license_django.services import runs

    doc = runs.active_ruleset(org)
    admin = actor("license_admin", "license_admin")
    with pytest.raises(gov.BadInput) as err:
        proposals.propose_ruleset(org, admin, {**doc, "lookback_dayz": 1}, correlation_id="c", now=NOW)
    assert err.value.code == "invalid_ruleset" and err.value.details["location"]["field"] == "$.lookback_dayz"
    new = {**json.loads(json.dumps(doc)), "version": 2, "min_confidence": "0.6"}
    new["sku_mappings"] = []
    p = proposals.propose_ruleset(org, admin, new, correlation_id="c", now=NOW)
    out = proposals.approve(org, actor("ops", "ops_manager"), p.proposal_id, correlation_id="c2", now=NOW)
    assert out.state == "approved" and runs.active_ruleset(org)["version"] == 2


def test_mapping_proposals_apply_to_the_ruleset_and_directory(org: Organization) -> None:
    from eucora_license_django.models import DirectoryEntry
    from eucora_license_django.services import runs

    operator = actor("agent_operator", "agent_operator")
    ops = actor("ops", "ops_manager")
    base = runs.active_ruleset(org)
    base = {**base, "sku_mappings": []}
    proposals.apply_change(org, {"kind": "ruleset.version", "proposal_id": "p0", "payload": base}, at=NOW)
    rule = {"match": "prefix", "field": "product", "value": "Microsoft Visio", "sku": "visio"}
    p = proposals.propose(org, operator, "mapping.sku", rule, correlation_id="c1", now=NOW)
    proposals.approve(org, ops, p.proposal_id, correlation_id="c2", now=NOW)
    active = runs.active_ruleset(org)
    assert active["sku_mappings"] == [rule] and active["version"] == base["version"] + 1
    row = {"principal_type": "user", "canonical_id": "alice@acme.example", "alias": "ALICE", "status": "active",
           "region": "emea", "bu": "", "last_active_at": ""}
    p = proposals.propose(org, operator, "mapping.alias", row, correlation_id="c3", now=NOW)
    proposals.approve(org, ops, p.proposal_id, correlation_id="c4", now=NOW)
    assert list(DirectoryEntry.objects.filter(organization=org).values_list("alias", "canonical_id")) == [("ALICE", "alice@acme.example")]
    assert runs.reconcile_organization(org, as_of=dt.datetime(2026, 11, 22, 6, tzinfo=dt.UTC)).status == "ok"
    # A ruleset version must increase.
    with pytest.raises(gov.BadInput) as err:
        proposals.propose_ruleset(org, actor("license_admin", "license_admin"), base, correlation_id="c5", now=NOW)
    assert err.value.details["location"]["field"] == "$.version"


def test_a_change_that_cannot_apply_leaves_no_approval(org: Organization) -> None:
    operator = actor("agent_operator", "agent_operator")
    ops = actor("ops", "ops_manager")
    rule = {"match": "exact", "field": "product", "value": "Gadget", "sku": "not-in-catalog"}
    p = proposals.propose(org, operator, "mapping.sku", rule, correlation_id="c1", now=NOW)
    n = audit_count(org)
    with pytest.raises(gov.BadInput):
        proposals.approve(org, ops, p.proposal_id, correlation_id="c2", now=NOW)
    p.refresh_from_db()
    assert p.state == "pending" and p.applied_at is None and not Approval.objects.filter(proposal=p).exists()
    assert audit_count(org) == n + 1 and gov.audit_entries(org)[-1]["details"]["allowed"] is False
