"""The five agents of DESIGN D4 (``inventory_extractor``,
``consumption_discovery``, ``truth_builder``, ``anomaly_detector``,
``optimization_advisor``), run from Python with any callable as the model.

An agent is a sans-IO state machine in the Rust crate
``eucora-license-agents``: it asks the model questions, the runner here
answers them. The GIL is released while the machine works (a reconcile, the
alert and advice engines) and taken only to call the model, so other Python
threads keep running. Without a model every agent still runs,
deterministically. Outputs are never final: proposals wait for a human
approval (:func:`eucora_license.decide`).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import _native
from ._convert import as_bytes, bad, instant_text, type_name
from ._governance import _object
from ._insight import Policy

__all__ = ["AgentResult", "replay_agent", "run_agent"]


@dataclass(frozen=True, slots=True)
class AgentResult:
    """One agent run.

    Attributes:
        run: the D4 ``AgentRun`` JSON (``run_id``, ``agent``, ``actor``,
            ``correlation_id``, ``started_at``, ``inputs_hash``,
            ``model_calls``, ``steps``, ``outputs``, ``status``, ``error``).
        audit_entry: its D3 audit entry, ready for
            :func:`eucora_license.audit_append`.
        status: ``ok`` or ``failed`` (a refusal, a failed reconcile, ...;
            a failed model call fails its step only).
        outputs: what the agent produced (never final).
    """

    run: dict[str, Any]
    audit_entry: dict[str, Any]
    status: str
    outputs: dict[str, Any]

    @classmethod
    def _from_native(cls, pair: tuple[str, str]) -> AgentResult:
        run: dict[str, Any] = json.loads(pair[0])
        entry: dict[str, Any] = json.loads(pair[1])
        return cls(run=run, audit_entry=entry, status=str(run["status"]), outputs=run["outputs"])


def _inputs(inputs: object, policy: object) -> list[tuple[str, bytes]]:
    if not isinstance(inputs, Mapping):
        raise bad("inputs", f"expected a mapping of input names to bytes, not {type_name(inputs)}")
    out: dict[str, bytes] = {}
    for name, data in inputs.items():
        if not isinstance(name, str):
            raise bad("inputs", f"input names are str, not {type_name(name)}")
        out[name] = as_bytes(data, f"inputs[{name!r}]")
    if policy is not None:
        if not isinstance(policy, Policy):
            raise bad("policy", f"expected an eucora_license.Policy or None, not {type_name(policy)}")
        if "policy" in out:
            raise bad("policy", "the policy is given twice: as the `policy` argument and as the input `policy`")
        data = policy.to_bytes()
        if data is not None:  # the shipped default is what an agent uses without one
            out["policy"] = data
    return sorted(out.items())


def _instant(value: object, where: str) -> str:
    if not isinstance(value, (str, _dt.datetime)):
        raise bad(where, f"expected a timezone-aware datetime or an RFC 3339 str, not {type_name(value)}")
    return instant_text(value, where)


def run_agent(
    agent: str,
    actor: dict[str, Any],
    at: str | _dt.datetime,
    inputs: Mapping[str, bytes],
    *,
    model: Callable[[str], str] | None = None,
    model_id: str | None = None,
    correlation_id: str | None = None,
    policy: Policy | None = None,
) -> AgentResult:
    """Run ``agent`` by ``actor`` started at ``at`` over the named ``inputs``
    (byte strings; each agent's names are in ``docs/agents.md``, e.g.
    ``bundle/<path>`` for ``truth_builder``, ``history/<n>`` and ``pack``
    for ``anomaly_detector``).

    ``actor`` is the agent actor ``{"type": "agent", "agent",
    "on_behalf_of"}`` or the delegating user (then wrapped as this agent on
    their behalf). ``model`` gets each request as JSON text (``{agent,
    purpose, system, prompt, response_schema}``) and returns text; if it
    raises an ``Exception`` (or returns a non-``str``) the call fails
    (``model_call_failed``, its message is never recorded) and the agent
    takes its deterministic path: never a crash. ``model_id`` (recorded in
    each call) defaults to ``model.model_id`` when it has one, else
    ``"host-model"``. ``policy`` is the input ``policy`` (``None``: the
    shipped default). Raises :class:`AgentError` for an unknown agent, a
    malformed actor or instant.
    """
    if not isinstance(agent, str):
        raise bad("agent", f"expected a str, not {type_name(agent)}")
    if model is not None and not callable(model):
        raise bad("model", f"expected a callable str -> str or None, not {type_name(model)}")
    if correlation_id is not None and not isinstance(correlation_id, str):
        raise bad("correlation_id", f"expected a str or None, not {type_name(correlation_id)}")
    mid: str | None = None
    if model is not None:
        mid = model_id if model_id is not None else getattr(model, "model_id", "host-model")
        if not isinstance(mid, str):
            raise bad("model_id", f"expected a str, not {type_name(mid)}")
    pair = _native.agent_run(
        agent, _object(actor, "actor"), _instant(at, "at"), _inputs(inputs, policy), model, mid, correlation_id
    )
    return AgentResult._from_native(pair)


def replay_agent(run: dict[str, Any], inputs: Mapping[str, bytes], policy: Policy | None = None) -> AgentResult:
    """Re-run a recorded run over the same ``inputs`` with its recorded
    responses instead of a model (no model is called) and check that it
    reproduces the outputs byte for byte. Returns the re-computed run;
    :class:`AgentError` ``inputs_mismatch`` (other inputs than recorded) or
    ``replay_mismatch`` (not reproduced). ``run`` may also be the CLI's
    ``{"run", "audit_entry"}`` output."""
    if isinstance(run, dict) and "run" in run and "run_id" not in run:
        run = run["run"]
    pair = _native.agent_replay(_object(run, "run"), _inputs(inputs, policy))
    return AgentResult._from_native(pair)
