"""Agents under the requesting user's delegation: D1 ``agent.run`` for the user, the
agent's own actions intersected by the core, the run and its proposals stored
(pending), one audit entry. Needs the core's agents API (``eucora_license.run_agent``)."""

from __future__ import annotations

from pathlib import Path

import eucora_license as el
import pytest

from core_helpers import AS_OF, core_settings, make_org, make_user  # noqa: F401
from eucora_license_django.models import AgentRun, Organization, Proposal
from eucora_license_django.services import agents, runs
from eucora_license_django.services import governance as gov

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def org(core_settings: Path) -> Organization:  # noqa: F811
    o = make_org()
    runs.reconcile_organization(o, as_of=AS_OF)
    return o


def test_agent_runs_under_the_users_delegation(org: Organization) -> None:
    operator = make_user("agent_operator", "agent_operator")
    run = agents.run_agent(org, operator, "anomaly_detector", correlation_id="corr-agent", now=AS_OF)
    assert run.status == "ok" and run.agent == "anomaly_detector"
    assert run.actor == {"type": "agent", "agent": "anomaly_detector", "on_behalf_of": gov.actor_for(operator)}
    assert run.document["correlation_id"] == "corr-agent"
    alerts = run.document["outputs"]["alerts"]
    assert any(a["type"] == "over_deployed" for a in alerts)
    entry = gov.audit_entries(org)[-1]
    assert entry["actor"]["type"] == "agent" and entry["correlation_id"] == "corr-agent"
    assert gov.verify_audit(org)["ok"] is True
    # The stored run replays without a model.
    inputs = agents.agent_inputs(org, "anomaly_detector")
    replay = el.replay_agent
    assert replay(run.document, inputs, gov.policy_for(org)).outputs == run.document["outputs"]


def test_agent_run_refused_without_agent_run(org: Organization) -> None:
    viewer = make_user("viewer", "viewer")
    with pytest.raises(gov.Refused) as refused:
        agents.run_agent(org, viewer, "anomaly_detector", correlation_id="c", now=AS_OF)
    assert refused.value.code == "role_lacks_action" and not AgentRun.objects.exists()
    assert gov.audit_entries(org)[-1]["details"]["reason"] == "role_lacks_action"
    with pytest.raises(gov.NotFound):
        agents.run_agent(org, viewer, "no_such_agent", correlation_id="c", now=AS_OF)


def test_advisor_proposals_are_stored_pending(org: Organization) -> None:
    operator = make_user("agent_operator", "agent_operator")
    run = agents.run_agent(org, operator, "optimization_advisor", correlation_id="c-adv", now=AS_OF)
    proposals = run.document["outputs"].get("proposals", [])
    stored = Proposal.objects.filter(organization=org)
    assert stored.count() == len(proposals)
    assert all(p.state == "pending" and p.kind == "recommendation" and p.proposer == "agent_operator" for p in stored)


def test_demo_client_narratives_are_grounded(org: Organization, settings: object) -> None:
    settings.EUCORA_LICENSE = {**settings.EUCORA_LICENSE,  # type: ignore[attr-defined]
                               "LLM_CLIENT": "eucora_license_django.services.agents.DemoScriptedClient"}
    operator = make_user("agent_operator", "agent_operator")
    run = agents.run_agent(org, operator, "anomaly_detector", correlation_id="c-demo", now=AS_OF)
    assert run.model_id == "scripted-demo" and run.document["model_calls"]
    assert any(a.get("message_source") == "model" for a in run.document["outputs"]["alerts"])
