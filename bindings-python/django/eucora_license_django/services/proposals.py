"""Proposals and approvals (DESIGN D2, Part E): nothing is final until approved
and applied, and every step appends its audit entry in the same transaction.

``propose_*`` authorise the proposer (D1), let the core build the proposal
(``eucora_license.propose``) and store it as canonical bytes (its ``proposal_id``
always re-derives). :func:`approve` / :func:`reject` authorise the kind's approve
action, let ``decide`` judge the approval under the policy the proposal carries,
and when it is approved apply the core's change (``apply``) to the rows, all in
one transaction. Refusals raise :class:`~.governance.Refused` (403, the D1 / D2
reason), conflicts :class:`~.governance.Conflict` (409: ``already_applied``,
``expired``, ``rejected``) after committing their own audit entry.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import eucora_license as el
from django.db import transaction
from django.utils import timezone

from ..models import Approval, DirectoryEntry, Entitlement, LicenseSKU, Organization, Policy, Proposal, Ruleset
from . import governance as gov
from .governance import APPROVE_ACTION, PROPOSE_ACTION, BadInput, Conflict, NotFound, Refused

ENTITLEMENT_FIELDS = ("entitlement_id", "sku", "contract_id", "quantity", "starts_on", "ends_on", "unit_cost", "currency")
ENTITLEMENT_ACTIONS = {"create": "entitlement.create", "update": "entitlement.update", "end": "entitlement.end"}
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d+)?|\.\d+)$")


@dataclass(frozen=True)
class DecisionOutcome:
    """What approve/reject answers (200): the D2 decision and the change applied now."""

    proposal: Proposal
    state: str
    counted: list[str]
    refused: list[dict[str, Any]]
    change: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """``{state, counted, refused, change}`` (Part E)."""
        return {"state": self.state, "counted": self.counted, "refused": self.refused, "change": self.change}


def proposal_document(proposal: Proposal) -> dict[str, Any]:
    """The stored D2 proposal object (parsed from its canonical bytes)."""
    doc: dict[str, Any] = json.loads(bytes(proposal.canonical))
    return doc


def proposal_dict(proposal: Proposal) -> dict[str, Any]:
    """The D2 proposal object plus its host ``state`` (what the API answers)."""
    return {**proposal_document(proposal), "state": proposal.state}


def approvals_of(proposal: Proposal) -> list[dict[str, Any]]:
    """The counted approvals and rejections, in order (what ``decide`` is given)."""
    return [a.document for a in proposal.approvals.filter(counted=True).order_by("at", "id")]


# ------------------------------------------------------------------------------- validation


def entitlement_payload(organization: Organization, data: Mapping[str, Any], action: str) -> dict[str, Any]:
    """The A1 entitlement row object from request data, checked against the catalog:
    ``quantity`` an integer, dates ``YYYY-MM-DD``, ``unit_cost`` a decimal string,
    ``ends_on`` null when open-ended. Raises :class:`BadInput` naming the field."""
    unknown = sorted(set(data) - set(ENTITLEMENT_FIELDS) - {"action"})
    if unknown:
        raise BadInput("invalid_input", f"unknown fields {unknown}", location={"file": None, "line": None, "field": unknown[0]})

    def bad(field: str, message: str) -> BadInput:
        return BadInput("invalid_input", message, location={"file": None, "line": None, "field": field})

    out: dict[str, Any] = {}
    for field in ("entitlement_id", "sku"):
        v = data.get(field)
        if not isinstance(v, str) or not v.strip():
            raise bad(field, f"{field} is required")
        out[field] = v.strip()
    q = data.get("quantity")
    if isinstance(q, bool) or not isinstance(q, int) or q < 0:
        raise bad("quantity", "quantity must be a non-negative integer")
    out["quantity"] = q
    for field in ("starts_on", "ends_on"):
        v = data.get(field)
        if v in (None, "") and field == "ends_on":
            out[field] = None
            continue
        if not isinstance(v, str):
            raise bad(field, f"{field} must be a date YYYY-MM-DD")
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            raise bad(field, f"{field} must be a date YYYY-MM-DD") from None
        if len(v) != 10:
            raise bad(field, f"{field} must be a date YYYY-MM-DD")
        out[field] = v
    for field in ("contract_id", "currency"):
        v = data.get(field)
        if v is not None and not isinstance(v, str):
            raise bad(field, f"{field} must be a string")
        out[field] = v or None
    cost = data.get("unit_cost")
    if cost in (None, ""):
        out["unit_cost"] = None
    else:
        if not isinstance(cost, str) or not _DECIMAL.match(cost):
            raise bad("unit_cost", "unit_cost must be a decimal string")
        try:
            Decimal(cost)
        except InvalidOperation:
            raise bad("unit_cost", "unit_cost must be a decimal string") from None
        out["unit_cost"] = cost
    if not LicenseSKU.objects.filter(organization=organization, sku_id=out["sku"]).exists():
        raise bad("sku", f"unknown SKU {out['sku']!r}")
    exists = Entitlement.objects.filter(organization=organization, entitlement_id=out["entitlement_id"]).exists()
    if action == "create" and exists:
        raise bad("entitlement_id", f"entitlement {out['entitlement_id']!r} exists (use action update)")
    if action in ("update", "end") and not exists:
        raise bad("entitlement_id", f"unknown entitlement {out['entitlement_id']!r}")
    if action == "end" and out["ends_on"] is None:
        raise bad("ends_on", "ends_on is required to end an entitlement")
    return out


# ---------------------------------------------------------------------------------- propose


def propose(
    organization: Organization,
    actor: dict[str, Any],
    kind: str,
    payload: dict[str, Any],
    *,
    correlation_id: str,
    evidence: list[Any] | None = None,
    now: dt.datetime | None = None,
    entity: tuple[str, str] | None = None,
) -> Proposal:
    """Authorise ``kind``'s propose action, build the D2 proposal in the core, store it
    (canonical bytes) and append its audit entry, in one transaction. A refusal
    appends its own entry and raises :class:`Refused`."""
    action = PROPOSE_ACTION[kind]
    target = entity or ("proposal", "")
    gov.require(organization, actor, action, correlation_id=correlation_id, entity=target, details={"kind": kind})
    at = now or timezone.now()
    policy = gov.policy_for(organization)
    try:
        doc: dict[str, Any] = el.propose(
            kind, payload, actor, gov.rfc3339(at), policy=policy, correlation_id=correlation_id or None, evidence=evidence or []
        )
    except el.EucoraLicenseError as e:
        code = gov.governance_error_code(e) or "invalid_input"
        if code in ("role_lacks_action", "agent_not_permitted", "delegator_lacks_action", "conflicting_roles", "agent_chain"):
            raise Refused(code, str(e), action=action) from e
        raise gov.bad_input_from(e) from e
    proposer = actor if actor.get("type") == "user" else actor.get("on_behalf_of", {})
    with transaction.atomic():
        row = Proposal.objects.create(
            organization=organization,
            proposal_id=doc["proposal_id"],
            kind=kind,
            canonical=gov.canonical_json(doc),
            payload_hash=doc["payload_hash"],
            proposer=str(proposer.get("id", "")),
            created_at=gov.parse_instant(doc["created_at"]),
            expires_at=gov.parse_instant(doc["expires_at"]),
            policy_hash=doc["policy_hash"],
            correlation_id=correlation_id,
            state=Proposal.PENDING,
        )
        gov.append_audit(
            organization,
            actor=actor,
            action=action,
            entity=("proposal", row.proposal_id),
            correlation_id=correlation_id,
            after_hash=row.payload_hash,
            details={"kind": kind, "proposal_id": row.proposal_id, "allowed": True, "reason": "allowed"},
            at=at,
        )
    return row


def propose_entitlement(
    organization: Organization,
    actor: dict[str, Any],
    data: Mapping[str, Any],
    *,
    correlation_id: str,
    now: dt.datetime | None = None,
) -> Proposal:
    """POST ``entitlements``: ``data`` holds the A1 fields and ``action`` (``create``
    default, ``update``, ``end``). D1 runs before validation (a refused request is 403
    whatever its body); then the payload is checked (400) and proposed."""
    action = str(data.get("action") or "create")
    kind = ENTITLEMENT_ACTIONS.get(action, "entitlement.create")
    gov.require(organization, actor, "entitlement.propose", correlation_id=correlation_id,
                entity=("entitlement", str(data.get("entitlement_id", ""))))
    if action not in ENTITLEMENT_ACTIONS:
        raise BadInput("invalid_input", "action must be create, update or end", location={"file": None, "line": None, "field": "action"})
    payload = entitlement_payload(organization, data, action)
    return propose(organization, actor, kind, payload, correlation_id=correlation_id, now=now,
                   entity=("entitlement", payload["entitlement_id"]))


def propose_ruleset(
    organization: Organization,
    actor: dict[str, Any],
    document: dict[str, Any],
    *,
    correlation_id: str,
    now: dt.datetime | None = None,
) -> Proposal:
    """POST ``rulesets``: a complete ruleset, validated by the core against the
    organisation's catalog (400 with the first issue's path), as a ``ruleset.version`` proposal."""
    gov.require(organization, actor, "ruleset.propose", correlation_id=correlation_id, entity=("ruleset", ""))
    sku_ids = list(LicenseSKU.objects.filter(organization=organization).values_list("sku_id", flat=True))
    try:
        el.validate_ruleset(document, sku_ids=sku_ids)
    except el.RulesetError as e:
        issue = e.issues[0] if e.issues else None
        raise BadInput(e.code, e.message, location={"file": "ruleset.json", "line": None, "field": issue.path if issue else None}) from e
    except el.EucoraLicenseError as e:
        raise gov.bad_input_from(e) from e
    latest = Ruleset.objects.filter(organization=organization).order_by("-version").first()
    version = document.get("version")
    if latest is not None and (not isinstance(version, int) or version <= latest.version):
        raise BadInput("invalid_ruleset", f"version must increase (the latest stored is {latest.version})",
                       location={"file": "ruleset.json", "line": None, "field": "$.version"})
    return propose(organization, actor, "ruleset.version", document, correlation_id=correlation_id, now=now,
                   entity=("ruleset", str(document.get("id", ""))))


# ---------------------------------------------------------------------------------- decide


def get_proposal(organization: Organization, proposal_id: str) -> Proposal:
    """The organisation's proposal by id, or :class:`NotFound`."""
    row = Proposal.objects.filter(organization=organization, proposal_id=proposal_id).first()
    if row is None:
        raise NotFound("not_found", f"unknown proposal {proposal_id}")
    return row


def approve(
    organization: Organization,
    actor: dict[str, Any],
    proposal_id: str,
    *,
    comment: str = "",
    payload_hash: str | None = None,
    correlation_id: str,
    now: dt.datetime | None = None,
) -> DecisionOutcome:
    """POST ``proposals/{id}/approve``: see :func:`decide_proposal`."""
    return decide_proposal(organization, actor, proposal_id, "approve", comment=comment, payload_hash=payload_hash,
                           correlation_id=correlation_id, now=now)


def reject(
    organization: Organization,
    actor: dict[str, Any],
    proposal_id: str,
    *,
    comment: str = "",
    payload_hash: str | None = None,
    correlation_id: str,
    now: dt.datetime | None = None,
) -> DecisionOutcome:
    """POST ``proposals/{id}/reject``: see :func:`decide_proposal`."""
    return decide_proposal(organization, actor, proposal_id, "reject", comment=comment, payload_hash=payload_hash,
                           correlation_id=correlation_id, now=now)


def decide_proposal(
    organization: Organization,
    actor: dict[str, Any],
    proposal_id: str,
    decision: str,
    *,
    comment: str = "",
    payload_hash: str | None = None,
    correlation_id: str,
    now: dt.datetime | None = None,
) -> DecisionOutcome:
    """Record ``actor``'s approval or rejection and decide (D2), in one transaction
    holding the proposal's row lock.

    Order: D1 on the kind's approve action (403 ``role_lacks_action``, ...); the
    proposal's current state (409 ``already_applied``, ``rejected``, ``expired``); the
    approval judged by ``decide`` (403 with its reason: ``self_approval``,
    ``approver_lacks_role``, ``payload_changed``, ...); when the state becomes
    ``approved``, ``apply`` returns the change and it is made to the rows now.
    ``at`` and ``now`` are one instant (the request's ``timezone.now()``); the
    approver comes from the database, never from the request. Exactly one audit
    entry is appended whatever the outcome; the one that applies records the
    proposal's own ``correlation_id`` in ``details``.
    """
    if decision not in ("approve", "reject"):
        raise ValueError(decision)
    row = get_proposal(organization, proposal_id)
    action = APPROVE_ACTION[row.kind]
    entity = ("proposal", proposal_id)
    gov.require(organization, actor, action, correlation_id=correlation_id, entity=entity, details={"decision": decision})
    at = now or timezone.now()
    failure: gov.LicenseServiceError | None = None
    outcome: DecisionOutcome | None = None
    with transaction.atomic():
        row = Proposal.objects.select_for_update().get(pk=row.pk)
        doc = proposal_document(row)
        policy = gov.policy_by_hash(organization, row.policy_hash)
        details: dict[str, Any] = {"decision": decision, "kind": row.kind, "proposal_id": proposal_id}
        approval = {
            "proposal_id": proposal_id,
            "payload_hash": payload_hash or row.payload_hash,
            "approver": actor,
            "decision": decision,
            "at": gov.rfc3339(at),
            "comment": comment or "",
        }
        try:
            if policy is None:
                raise Conflict("policy_mismatch", "the policy this proposal was made under is not stored")
            if row.applied_at is not None:
                raise Conflict("already_applied", "the proposal was applied")
            core = el
            previous = approvals_of(row)
            before = core.decide(doc, previous, gov.rfc3339(at), policy)
            if before["state"] in ("rejected", "expired"):
                if row.state != before["state"]:
                    row.state = before["state"]
                    row.save(update_fields=["state"])
                raise Conflict(str(before["state"]), f"the proposal is {before['state']}")
            result = core.decide(doc, [*previous, approval], gov.rfc3339(at), policy)
            mine = [r for r in result["refused"] if int(r["index"]) == len(previous)]
            if mine:
                reason = str(mine[0]["reason"])
                raise Refused(reason, f"{decision} refused", action=action)
            # A savepoint: an error while applying undoes the approval and any partial change.
            with transaction.atomic():
                Approval.objects.create(
                    organization=organization, proposal=row, approver=str(actor.get("id", "")), decision=decision, at=at,
                    comment=comment or "", document=approval, counted=True, correlation_id=correlation_id,
                )
                change = None
                state = str(result["state"])
                if state == Proposal.APPROVED:
                    applied_ids = list(Proposal.objects.filter(organization=organization, applied_at__isnull=False)
                                       .values_list("proposal_id", flat=True))
                    applied = core.apply(doc, [*previous, approval], gov.rfc3339(at), policy, applied_ids)
                    change = applied["change"]
                    apply_change(organization, change, at=at)
                    row.applied_at = at
                    row.change = change
                    details["applied"] = True
                    details["proposal_correlation_id"] = row.correlation_id or None
                row.state = state
                row.save(update_fields=["state", "applied_at", "change"])
                details.update({"state": state, "allowed": True, "reason": "allowed"})
                gov.append_audit(organization, actor=actor, action=action, entity=entity, correlation_id=correlation_id,
                                 before_hash=row.payload_hash, after_hash=row.payload_hash if change else None,
                                 details=details, at=at)
                outcome = DecisionOutcome(row, state, list(result["counted"]), list(result["refused"]), change)
        except gov.LicenseServiceError as e:
            failure = e
        except el.EucoraLicenseError as e:
            code = gov.governance_error_code(e) or "invalid_input"
            failure = Conflict(code, str(e)) if code in ("already_applied", "expired", "rejected", "pending", "policy_mismatch") \
                else gov.bad_input_from(e)
    if failure is not None:
        # The refusal's own entry, committed apart from the (rolled back) decision.
        with transaction.atomic():
            gov.append_audit(organization, actor=actor, action=action, entity=entity, correlation_id=correlation_id,
                             details={"decision": decision, "kind": row.kind, "proposal_id": proposal_id,
                                      "allowed": False, "reason": failure.code}, at=at)
        failure.details.setdefault("action", action)
        raise failure
    assert outcome is not None
    return outcome


# ----------------------------------------------------------------------------------- apply


def apply_change(organization: Organization, change: Mapping[str, Any], *, at: dt.datetime) -> None:
    """Make the core's change (``{"kind", "proposal_id", "payload"}``) to the rows."""
    kind = str(change["kind"])
    payload: Mapping[str, Any] = change["payload"]
    proposal_id = str(change["proposal_id"])
    if kind.startswith("entitlement."):
        sku = LicenseSKU.objects.get(organization=organization, sku_id=payload["sku"])
        values = {
            "sku": sku,
            "contract_id": payload.get("contract_id") or "",
            "quantity": int(payload["quantity"]),
            "starts_on": dt.date.fromisoformat(str(payload["starts_on"])),
            "ends_on": dt.date.fromisoformat(str(payload["ends_on"])) if payload.get("ends_on") else None,
            "unit_cost": payload.get("unit_cost") or "",
            "currency": payload.get("currency") or "",
            "applied_proposal_id": proposal_id,
        }
        Entitlement.objects.update_or_create(organization=organization, entitlement_id=payload["entitlement_id"], defaults=values)
    elif kind == "ruleset.version":
        version = int(payload["version"])
        Ruleset.objects.filter(organization=organization, active=True).update(active=False)
        Ruleset.objects.update_or_create(
            organization=organization, version=version,
            defaults={"ruleset_id": str(payload["id"]), "hash": el.hash_ruleset(dict(payload)), "document": dict(payload),
                      "active": True, "applied_proposal_id": proposal_id, "created_at": at},
        )
    elif kind == "policy.version":
        data = gov.canonical_json(payload)
        policy = el.Policy.from_bytes(data)
        Policy.objects.filter(organization=organization, active=True).update(active=False)
        Policy.objects.update_or_create(
            organization=organization, version=policy.version,
            defaults={"policy_id": policy.id, "hash": policy.hash, "canonical": data, "active": True,
                      "applied_proposal_id": proposal_id, "created_at": at},
        )
    elif kind == "mapping.sku":
        # One sku_mappings rule: a new ruleset version with the rule appended (first match
        # wins, so the rules already there keep their precedence), validated by the core.
        from .runs import active_ruleset

        doc = json.loads(json.dumps(active_ruleset(organization)))
        doc["sku_mappings"] = [*doc.get("sku_mappings", []), dict(payload)]
        latest = Ruleset.objects.filter(organization=organization).order_by("-version").first()
        doc["version"] = (latest.version if latest else int(doc.get("version", 0))) + 1
        sku_ids = list(LicenseSKU.objects.filter(organization=organization).values_list("sku_id", flat=True))
        try:
            el.validate_ruleset(doc, sku_ids=sku_ids)
        except el.EucoraLicenseError as e:
            raise gov.bad_input_from(e) from e
        Ruleset.objects.filter(organization=organization, active=True).update(active=False)
        Ruleset.objects.create(organization=organization, version=doc["version"], ruleset_id=str(doc.get("id", "default")),
                               hash=el.hash_ruleset(doc), document=doc, active=True, applied_proposal_id=proposal_id, created_at=at)
    elif kind == "mapping.alias":
        # One directory.csv row, appended after the existing rows (file order is meaningful, A9).
        last = DirectoryEntry.objects.filter(organization=organization).order_by("-position").first()
        DirectoryEntry.objects.create(
            organization=organization, position=(last.position + 1) if last else 0,
            principal_type=str(payload.get("principal_type") or ""), canonical_id=str(payload.get("canonical_id") or ""),
            alias=str(payload.get("alias") or ""), status=str(payload.get("status") or ""), region=str(payload.get("region") or ""),
            bu=str(payload.get("bu") or ""), last_active_at=str(payload.get("last_active_at") or ""),
        )
    else:
        # recommendation: the approval is the decision; the change it recommends (buying,
        # reclaiming, right-sizing) happens outside and arrives as data (imports, entitlements).
        return
