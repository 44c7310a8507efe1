"""Agents (DESIGN D4) run under the requesting user's delegation.

:func:`run_agent` authorises ``agent.run`` for the user (D1; the core then checks
the agent's own actions against the intersection of its list and the user's),
builds the agent's named inputs from the database, drives the sans-IO machine
through ``eucora_license.run_agent`` with the configured ``LLM_CLIENT`` (none:
the deterministic path), and stores the ``AgentRun``, its proposals (pending, as
D2 proposals) and its audit entry in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import eucora_license as el
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from ..conf import get_llm_client
from ..models import AgentRun, ConsumptionSnapshot, EvidencePack, ImportJob, Organization, Proposal
from . import governance as gov
from . import runs as run_service

AGENTS = ("inventory_extractor", "consumption_discovery", "truth_builder", "anomaly_detector", "optimization_advisor")


class DemoScriptedClient:
    """The demo site's LLM client: ``eucora_license.testing.ScriptedModel`` driven by a
    function that never reaches a network. Narratives restate the facts table (each
    sentence cites the fact whose value it writes, so it is grounded); a mapping is
    answered ``{"sku": null}`` (no proposal) and a contract ``{"entitlements": []}``."""

    model_id = "scripted-demo"

    def __init__(self, **options: Any) -> None:
        try:
            from eucora_license.testing import ScriptedModel  # type: ignore[import-not-found,unused-ignore]
        except ImportError:  # the agents API has not landed in this wheel
            self._model: Any = None
        else:
            self._model = ScriptedModel(self.reply, model_id=self.model_id)

    @staticmethod
    def reply(request: dict[str, Any]) -> str:
        """The scripted answer to one parsed request."""
        purpose = request.get("purpose")
        if purpose == "narrative":
            try:
                prompt = json.loads(str(request.get("prompt", "")))
            except ValueError:
                prompt = {}
            facts = [f for f in prompt.get("facts", []) if isinstance(f, dict) and isinstance(f.get("value"), str | int)
                     and not isinstance(f.get("value"), bool)][:3]
            sentences = [{"text": f"The {f['id']} is {f['value']}.", "fact_ids": [f["id"]]} for f in facts]
            return json.dumps({"sentences": sentences})
        if purpose == "mapping":
            return json.dumps({"sku": None})
        if purpose == "contract":
            return json.dumps({"entitlements": []})
        raise LookupError(f"no scripted reply for {purpose}")

    def __call__(self, request_json: str) -> str:
        if self._model is None:
            raise LookupError("no scripted model in this eucora_license")
        answer: str = self._model(request_json)
        return answer


def agent_inputs(organization: Organization, agent: str) -> dict[str, bytes]:
    """The agent's named inputs from the rows (docs/agents.md's table)."""
    if agent not in AGENTS:
        raise gov.BadInput("unknown_agent", f"unknown agent {agent!r}", location={"file": None, "line": None, "field": "agent"})
    inputs: dict[str, bytes] = {}
    policy = gov.policy_for(organization)
    policy_bytes = getattr(policy, "_data", None)
    if policy_bytes is not None:
        inputs["policy"] = bytes(policy_bytes)
    latest = run_service.latest_success(organization)
    if agent in ("anomaly_detector", "optimization_advisor"):
        rows = list(ConsumptionSnapshot.objects.filter(organization=organization).order_by("-sequence")[: run_service.ALERT_HISTORY])
        for i, row in enumerate(reversed(rows), start=1):
            inputs[f"history/{i:04d}"] = bytes(row.canonical)
        pack = EvidencePack.objects.filter(snapshot=latest).first() if latest else None
        if pack is not None:
            inputs["pack"] = run_service.read_pack(pack)
        return inputs
    now = timezone.now()
    bundle = run_service.build_bundle(organization, run_service.schedule_slot(now), run_service.run_id_for(run_service.schedule_slot(now)))
    if agent == "truth_builder":
        for path, data in bundle.files.items():
            inputs[f"bundle/{path}"] = bytes(data)
        if latest is not None:
            pack = EvidencePack.objects.filter(snapshot=latest).first()
            if pack is not None:
                inputs["previous"] = run_service.read_pack(pack)
        return inputs
    files = bundle.files
    inputs["bundle.json"] = bytes(files["bundle.json"])
    inputs["ruleset"] = bytes(files["ruleset.json"])
    inputs["catalog"] = bytes(files["catalog.json"])
    for job in ImportJob.objects.filter(organization=organization, active=True).exclude(adapter=ImportJob.CANONICAL):
        inputs[f"exports/{job.adapter}/{job.file_name}"] = bytes(job.input)
    if agent == "inventory_extractor":
        inputs["entitlements"] = bytes(files["entitlements.csv"])
    return inputs


def run_agent(
    organization: Organization,
    user: AbstractBaseUser | AnonymousUser,
    agent: str,
    *,
    correlation_id: str,
    now: dt.datetime | None = None,
    extra_inputs: dict[str, bytes] | None = None,
) -> AgentRun:
    """POST ``agents/{agent}/run``: ``agent.run`` for the user (403 + audit entry when
    refused), then the agent under ``{"type": "agent", "agent", "on_behalf_of": user}``;
    its proposals are stored pending (never applied), its run and audit entry stored."""
    user_actor = gov.actor_for(user)
    if agent not in AGENTS:
        raise gov.NotFound("unknown_agent", f"unknown agent {agent!r}")
    gov.require(organization, user_actor, "agent.run", correlation_id=correlation_id, entity=("agent", agent))
    at = now or timezone.now()
    actor = gov.agent_actor(agent, user)
    inputs = {**agent_inputs(organization, agent), **(extra_inputs or {})}
    model = get_llm_client()
    runner = getattr(el, "run_agent", None)
    if runner is None:
        raise gov.LicenseServiceError("unavailable", "this eucora_license has no agents API (issue 13)")
    try:
        result = runner(agent, actor, gov.rfc3339(at), inputs, model=model,
                        model_id=getattr(model, "model_id", None) if model is not None else None,
                        correlation_id=correlation_id or None, policy=gov.policy_for(organization))
    except el.EucoraLicenseError as e:
        raise gov.bad_input_from(e) from e
    doc: dict[str, Any] = dict(result.run)
    entry: dict[str, Any] = dict(result.audit_entry)
    with transaction.atomic():
        row = AgentRun.objects.create(
            organization=organization, run_id=str(doc.get("run_id", "")), agent=agent, actor=actor,
            requested_by=user_actor["id"], status=str(result.status), correlation_id=correlation_id,
            model_id=getattr(model, "model_id", "") if model is not None else "", started_at=at, document=doc,
        )
        for proposal in (result.outputs or {}).get("proposals", []) or []:
            if not isinstance(proposal, dict) or "proposal_id" not in proposal:
                continue
            if Proposal.objects.filter(organization=organization, proposal_id=proposal["proposal_id"]).exists():
                continue
            Proposal.objects.create(
                organization=organization, proposal_id=proposal["proposal_id"], kind=str(proposal["kind"]),
                canonical=gov.canonical_json(proposal), payload_hash=str(proposal["payload_hash"]), proposer=user_actor["id"],
                created_at=gov.parse_instant(str(proposal["created_at"])), expires_at=gov.parse_instant(str(proposal["expires_at"])),
                policy_hash=str(proposal["policy_hash"]), correlation_id=str(proposal.get("correlation_id") or correlation_id),
            )
        ent = entry.get("entity") or {}
        gov.append_audit(
            organization, actor=actor, action=str(entry.get("action") or "agent.run"),
            entity=(str(ent.get("type") or "agent_run"), str(ent.get("id") or row.run_id)), correlation_id=correlation_id,
            before_hash=entry.get("before_hash"), after_hash=entry.get("after_hash"), evidence=list(entry.get("evidence") or []),
            details=dict(entry.get("details") or {}), at=at,
        )
    return row


def agent_run_dict(run: AgentRun) -> dict[str, Any]:
    """The stored D4 ``AgentRun`` JSON."""
    doc: dict[str, Any] = json.loads(json.dumps(run.document))
    return doc
