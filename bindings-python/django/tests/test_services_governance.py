"""Governance service: actors from groups, D1 through the core, the audit chain
(append in the caller's transaction, verify, checkpoint outside the database,
consistency against the stored checkpoint)."""

from __future__ import annotations

import json
from pathlib import Path

import eucora_license as el
import pytest
from django.db import connection, transaction

from core_helpers import core_settings, make_org, make_user  # noqa: F401
from eucora_license_django.conf import license_settings
from eucora_license_django.models import AuditLog, Organization
from eucora_license_django.services import governance as gov

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(core_settings: Path) -> Organization:  # noqa: F811
    return Organization.objects.create(id="org-gov", name="Gov")


def append(org: Organization, n: int, corr: str = "c-1") -> list[AuditLog]:
    """``n`` entries, each in its own transaction; on-commit hooks (the checkpoint) run."""
    from django.test import TestCase

    actor = {"type": "user", "id": "alice", "roles": ["viewer"]}
    rows = []
    for i in range(n):
        with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
            rows.append(gov.append_audit(org, actor=actor, action="view.sidebar", entity=("thing", str(i)),
                                         correlation_id=corr, details={"i": i}))
    return rows


def test_actor_comes_from_groups_and_superuser_has_no_implicit_role() -> None:
    u = make_user("dana", "ops_manager", "viewer")
    make_user_other = make_user("root", superuser=True)
    assert gov.actor_for(u) == {"type": "user", "id": "dana", "roles": ["ops_manager", "viewer"]}
    assert gov.actor_for(make_user_other)["roles"] == []
    assert gov.agent_actor("truth_builder", u) == {"type": "agent", "agent": "truth_builder",
                                                   "on_behalf_of": {"type": "user", "id": "dana", "roles": ["ops_manager", "viewer"]}}


def test_authorize_uses_the_core_policy(org: Organization) -> None:
    viewer = {"type": "user", "id": "v", "roles": ["viewer"]}
    admin_auditor = {"type": "user", "id": "x", "roles": ["license_admin", "license_auditor"]}
    assert gov.authorize(org, viewer, "view.sidebar")["allowed"] is True
    assert gov.authorize(org, viewer, "entitlement.propose")["reason"] == "role_lacks_action"
    assert gov.authorize(org, admin_auditor, "view.sidebar")["reason"] == "conflicting_roles"


def test_require_refusal_appends_its_entry_and_raises(org: Organization) -> None:
    viewer = {"type": "user", "id": "v", "roles": ["viewer"]}
    with pytest.raises(gov.Refused) as refused:
        gov.require(org, viewer, "reconcile.run", correlation_id="corr-r", entity=("run", ""))
    assert refused.value.code == "role_lacks_action" and refused.value.status == 403
    entries = gov.audit_entries(org)
    assert len(entries) == 1
    e = entries[0]
    assert (e["action"], e["correlation_id"], e["details"]["allowed"], e["details"]["reason"]) == \
        ("reconcile.run", "corr-r", False, "role_lacks_action")


def test_chain_appends_verifies_and_checkpoints(org: Organization) -> None:
    rows = append(org, 4)
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == "" and all(rows[i].prev_hash == rows[i - 1].entry_hash for i in range(1, 4))
    entries = gov.audit_entries(org)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4] and entries[0]["prev_hash"] is None
    assert gov.verify_audit(org) == {"ok": True, "size": 4, "failure": None}
    checkpoint = gov.read_checkpoint(org)
    assert checkpoint is not None and checkpoint["size"] == 4 and checkpoint["head_hash"] == rows[-1].entry_hash
    assert gov.checkpoint_path(org).parent == Path(license_settings().checkpoint_dir)
    assert json.loads(gov.checkpoint_path(org).read_bytes()) == checkpoint
    # The stored line is the entry's canonical JSON.
    assert bytes(rows[0].line) == gov.canonical_json(entries[0])


@pytest.mark.django_db(transaction=True)
def test_append_needs_the_callers_transaction(core_settings: Path) -> None:  # noqa: F811
    org = Organization.objects.create(id="org-tx", name="Tx")
    with pytest.raises(transaction.TransactionManagementError):
        gov.append_audit(org, actor={"type": "user", "id": "a", "roles": []}, action="view.sidebar")
    assert not AuditLog.objects.filter(organization=org).exists()
    # Committed appends write the checkpoint file when their transaction commits.
    with transaction.atomic():
        gov.append_audit(org, actor={"type": "user", "id": "a", "roles": []}, action="view.sidebar")
        assert gov.read_checkpoint(org) is None
    assert gov.read_checkpoint(org)["size"] == 1  # type: ignore[index]


def test_rollback_of_the_caller_leaves_no_entry(org: Organization) -> None:
    append(org, 1)
    with pytest.raises(RuntimeError), transaction.atomic():
        gov.append_audit(org, actor={"type": "user", "id": "a", "roles": []}, action="view.sidebar")
        raise RuntimeError("the write failed")
    assert AuditLog.objects.filter(organization=org).count() == 1
    append(org, 1)
    assert gov.verify_audit(org)["ok"] is True and AuditLog.objects.filter(organization=org).count() == 2


@pytest.mark.skipif(connection.vendor == "postgresql", reason="on PostgreSQL the trigger refuses the raw DELETE")
def test_cut_tail_is_caught_by_the_stored_checkpoint(org: Organization) -> None:
    append(org, 5)
    assert gov.read_checkpoint(org)["size"] == 5  # type: ignore[index]
    with connection.cursor() as cur:  # what only raw SQL could do: drop the last two entries
        cur.execute("DELETE FROM eucora_license_django_auditlog WHERE organization_id = %s AND seq > 3", [org.pk])
    # The remaining chain is internally fine; only the checkpoint reveals the cut.
    assert el.audit_verify(gov.audit_entries(org))["ok"] is True
    assert gov.verify_audit(org) == {"ok": False, "size": 3, "failure": {"code": "checkpoint_mismatch", "seq": 5}}


@pytest.mark.skipif(connection.vendor == "postgresql", reason="on PostgreSQL the trigger refuses the raw UPDATE")
def test_rewritten_entry_fails_verification(org: Organization) -> None:
    append(org, 3)
    row = AuditLog.objects.get(organization=org, seq=2)
    doc = json.loads(bytes(row.line))
    doc["details"] = {"i": 99}
    with connection.cursor() as cur:
        cur.execute("UPDATE eucora_license_django_auditlog SET line = %s WHERE id = %s", [gov.canonical_json(doc), row.pk])
    result = gov.verify_audit(org)
    assert result["ok"] is False and result["failure"] == {"code": "entry_hash_mismatch", "seq": 2}


def test_checkpoint_never_moves_backwards(org: Organization) -> None:
    append(org, 3)
    first = gov.read_checkpoint(org)
    assert first is not None and first["size"] == 3
    # A writer holding an older view cannot replace a larger checkpoint.
    gov.checkpoint_path(org).write_bytes(gov.canonical_json({**first, "size": 7}))
    assert gov.write_checkpoint(org)["size"] == 7
