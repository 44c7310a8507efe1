"""The five agents from Python (DESIGN D4): each runs with no model and with
``testing.ScriptedModel`` on the demo inputs; a model that raises or answers
badly fails a step, never the process; replay reproduces every run; the run
record equals the CLI's ``agent run`` for the same inputs and responses; the
GIL is released while an agent works."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import eucora_license as el
import pytest
from conftest import DEMO, REPO
from eucora_license.testing import ScriptedModel
from test_threads import _assert_progress, large_bundle, progress_while

AT = "2026-11-22T07:00:00Z"
OPERATOR: dict[str, Any] = {"type": "user", "id": "u-olivia", "roles": ["agent_operator"]}
VIEWER: dict[str, Any] = {"type": "user", "id": "u-vic", "roles": ["viewer"]}
CONTRACT = (
    b"Contract MS-EA-2024-0117\nMicrosoft 365 E3: 15 seats from 2024-07-01 to 2027-12-31\n"
    b"License key: ABCDE-12345-FGHIJ-67890-KLMNO\nActivation XYZ12-AB34C-77QQ9-PLMN0 for Visio\n"
)
SECRETS = ["ABCDE-12345-FGHIJ-67890-KLMNO", "XYZ12-AB34C-77QQ9-PLMN0", "tok-SECRET-123"]

# One scripted reply per agent and purpose (the same map goes to the CLI's --responses).
RESPONSES: dict[str, dict[str, Any]] = {
    "anomaly_detector": {"narrative": {"sentences": [{"text": "An alert worth a look.", "fact_ids": []}]}},
    "consumption_discovery": {"mapping": {"sku": "visio-plan2"}},
    "inventory_extractor": {
        "contract": {
            "entitlements": [
                {"contract_id": "MS-EA-2024-0117", "sku": "m365-e3", "quantity": 15,
                 "starts_on": "2024-07-01", "ends_on": "2027-12-31"},
                {"contract_id": "MS-EA-2024-0117", "sku": "intellij-ultimate", "quantity": 2,
                 "starts_on": "2024-07-01", "ends_on": "2027-12-31"},
            ]
        }
    },
}  # fmt: skip


def load_dir(prefix: str, root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (but notes) as ``prefix/<relative path>``."""
    return {
        f"{prefix}/{p.relative_to(root).as_posix()}": p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix != ".md"
    }


def demo_files(**names: str) -> dict[str, bytes]:
    return {name: (DEMO / f).read_bytes() for name, f in names.items()}


def truth_inputs() -> dict[str, bytes]:
    return load_dir("bundle", DEMO)


def history_inputs() -> dict[str, bytes]:
    """The demo history reconciled in order: its snapshots and the latest pack."""
    out: dict[str, bytes] = {}
    pack: bytes | None = None
    for n, step in enumerate(["step-1", "step-2", "step-3"], start=1):
        r = el.reconcile(REPO / "fixtures" / "demo-history" / step, previous=pack)
        pack = r.evidence_pack()
        out[f"history/{n:04d}"] = r.snapshot.canonical_bytes()
    assert pack is not None
    out["pack"] = pack
    return out


def discovery_inputs() -> dict[str, bytes]:
    documents = demo_files(**{"bundle.json": "bundle.json"}, ruleset="ruleset.json", catalog="catalog.json")
    return {**load_dir("exports", DEMO / "imports"), **documents}


def inventory_inputs() -> dict[str, bytes]:
    return {
        **load_dir("exports/entra-users", DEMO / "imports" / "entra-users"),
        **load_dir("exports/adobe-users", DEMO / "imports" / "adobe-users"),
        **demo_files(**{"bundle.json": "bundle.json"}, ruleset="ruleset.json", catalog="catalog.json", entitlements="entitlements.csv"),
        "contracts/ms-ea.txt": CONTRACT,
    }


INPUTS: dict[str, Callable[[], dict[str, bytes]]] = {
    "truth_builder": truth_inputs,
    "anomaly_detector": history_inputs,
    "optimization_advisor": history_inputs,
    "consumption_discovery": discovery_inputs,
    "inventory_extractor": inventory_inputs,
}
AGENTS = list(INPUTS)


@pytest.fixture(scope="module")
def inputs() -> dict[str, dict[str, bytes]]:
    history = history_inputs()
    return {a: (history if f is history_inputs else f()) for a, f in INPUTS.items()}


def statuses(r: el.AgentResult) -> list[tuple[str, str, str]]:
    return [(s["step"], s["status"], s["detail"]) for s in r.run["steps"]]


def assert_clean(r: el.AgentResult) -> None:
    text = json.dumps(r.run) + json.dumps(el.audit_append(None, r.audit_entry))
    for s in SECRETS:
        assert s not in text


def run_cli(cli: Path, tmp: Path, agent: str, actor: dict[str, Any], ins: dict[str, bytes], *extra: str) -> tuple[int, Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "actor.json").write_text(json.dumps(actor))
    named = []
    for i, (name, data) in enumerate(sorted(ins.items())):
        (tmp / f"in-{i}").write_bytes(data)
        named.append(f"{name}={tmp / f'in-{i}'}")
    proc = subprocess.run(
        [str(cli), "agent", "run", agent, "--actor", str(tmp / "actor.json"), "--at", AT, "--correlation-id", "corr-1", *extra, *named],
        capture_output=True,
        check=False,
    )
    assert proc.returncode in (0, 2), proc.stderr.decode()
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize("agent", AGENTS)
def test_each_agent_runs_without_a_model_as_the_cli(agent: str, inputs: dict[str, dict[str, bytes]], cli: Path, tmp_path: Path) -> None:
    ins = inputs[agent]
    r = el.run_agent(agent, OPERATOR, AT, ins, correlation_id="corr-1")
    assert r.status == "ok", statuses(r)
    assert r.run["model_calls"] == []
    assert r.run["actor"] == {"type": "agent", "agent": agent, "on_behalf_of": OPERATOR}
    assert r.outputs == r.run["outputs"] and r.outputs
    assert r.audit_entry["action"] == "agent.run" and r.audit_entry["entity"] == {"type": "agent_run", "id": r.run["run_id"]}
    assert all(s[1] in ("ok", "skipped") for s in statuses(r)), statuses(r)
    assert_clean(r)
    assert run_cli(cli, tmp_path, agent, OPERATOR, ins) == (0, {"run": r.run, "audit_entry": r.audit_entry})
    again = el.replay_agent(r.run, ins)
    assert again.run == r.run and again.audit_entry == r.audit_entry


@pytest.mark.parametrize("agent", AGENTS)
def test_each_agent_runs_with_a_scripted_model_as_the_cli(
    agent: str, inputs: dict[str, dict[str, bytes]], cli: Path, tmp_path: Path
) -> None:
    ins = inputs[agent]
    model = ScriptedModel(RESPONSES, model_id="demo-model")
    r = el.run_agent(agent, OPERATOR, AT, ins, model=model, correlation_id="corr-1")
    assert r.status == "ok", statuses(r)
    assert len(r.run["model_calls"]) == len(model.calls)
    for call, asked in zip(r.run["model_calls"], model.calls, strict=True):
        assert call["model_id"] == "demo-model" and call["error"] is None
        assert call["request"] == asked
    assert_clean(r)
    (tmp_path / "responses.json").write_text(json.dumps(RESPONSES))
    got = run_cli(cli, tmp_path, agent, OPERATOR, ins, "--responses", str(tmp_path / "responses.json"), "--model-id", "demo-model")
    assert got == (0, {"run": r.run, "audit_entry": r.audit_entry})
    # Replay reproduces the run from its recorded responses, with no model.
    again = el.replay_agent(r.run, ins)
    assert again.run == r.run
    assert el.replay_agent({"run": r.run, "audit_entry": r.audit_entry}, ins).run == r.run


def test_the_scripted_answers_are_used(inputs: dict[str, dict[str, bytes]]) -> None:
    r = el.run_agent("anomaly_detector", OPERATOR, AT, inputs["anomaly_detector"], model=ScriptedModel(RESPONSES))
    alerts = r.outputs["alerts"]
    assert alerts and all(a["message"] == "An alert worth a look." and a["message_source"] == "model" for a in alerts)
    assert {c["model_id"] for c in r.run["model_calls"]} == {"scripted"}
    r = el.run_agent("consumption_discovery", OPERATOR, AT, inputs["consumption_discovery"], model=ScriptedModel(RESPONSES))
    props = r.outputs["proposals"]
    assert props and all(p["kind"] == "mapping.sku" and p["payload"]["sku"] == "visio-plan2" for p in props)
    r = el.run_agent("inventory_extractor", OPERATOR, AT, inputs["inventory_extractor"], model=ScriptedModel(RESPONSES))
    assert any(d["type"] == "missing_entitlement" and d["sku"] == "intellij-ultimate" for d in r.outputs["discrepancies"])
    # The contract reached the model redacted.
    prompt = r.run["model_calls"][0]["request"]["prompt"]
    assert "[redacted]" in prompt and "ABCDE-12345" not in prompt


def test_a_plain_function_is_a_model(inputs: dict[str, dict[str, bytes]]) -> None:
    seen: list[dict[str, Any]] = []

    def model(request: str) -> str:
        req = json.loads(request)
        seen.append(req)
        assert set(req) == {"agent", "purpose", "system", "prompt", "response_schema"}
        return json.dumps({"sentences": [{"text": "Quiet text.", "fact_ids": []}]})

    r = el.run_agent("anomaly_detector", OPERATOR, AT, inputs["anomaly_detector"], model=model)
    assert len(seen) == len(r.run["model_calls"]) > 0
    assert {c["model_id"] for c in r.run["model_calls"]} == {"host-model"}
    r = el.run_agent("anomaly_detector", OPERATOR, AT, inputs["anomaly_detector"], model=model, model_id="my-llm")
    assert {c["model_id"] for c in r.run["model_calls"]} == {"my-llm"}


def deterministic(inputs: dict[str, dict[str, bytes]]) -> list[str]:
    r = el.run_agent("anomaly_detector", OPERATOR, AT, inputs["anomaly_detector"])
    return [a["message"] for a in r.outputs["alerts"]]


def test_a_raising_model_fails_the_step_not_the_process(inputs: dict[str, dict[str, bytes]]) -> None:
    def boom(request: str) -> str:
        raise RuntimeError("connection refused, token tok-SECRET-123")

    r = el.run_agent("anomaly_detector", OPERATOR, AT, inputs["anomaly_detector"], model=boom)
    assert r.status == "ok"
    assert r.run["model_calls"] and all(c["error"] == "model_call_failed" and c["response"] is None for c in r.run["model_calls"])
    assert ("narrative", "failed", "model_call_failed") in statuses(r)
    assert [a["message"] for a in r.outputs["alerts"]] == deterministic(inputs)
    assert all(a["message_source"] == "deterministic" for a in r.outputs["alerts"])
    assert_clean(r)  # the exception's text is never recorded
    assert el.replay_agent(r.run, inputs["anomaly_detector"]).run == r.run
    # A model without a reply for a purpose, or returning a non-str, fails the call the same way.
    for model in (ScriptedModel({}), lambda request: 42):
        r2 = el.run_agent("anomaly_detector", OPERATOR, AT, inputs["anomaly_detector"], model=model)  # type: ignore[arg-type]
        assert r2.outputs == r.outputs
        assert all(c["error"] == "model_call_failed" for c in r2.run["model_calls"])


def test_invalid_json_is_re_asked_then_dropped(inputs: dict[str, dict[str, bytes]]) -> None:
    model = ScriptedModel({"anomaly_detector": {"narrative": "{not json"}})
    r = el.run_agent("anomaly_detector", OPERATOR, AT, inputs["anomaly_detector"], model=model)
    n_alerts = len(r.outputs["alerts"])
    assert len(r.run["model_calls"]) == 3 * n_alerts  # the question and two re-asks each
    assert ("narrative", "failed", "model_output_invalid") in statuses(r)
    assert [a["message"] for a in r.outputs["alerts"]] == deterministic(inputs)
    # An unknown SKU is invalid too: no proposal is built from it.
    bad = ScriptedModel({"consumption_discovery": {"mapping": {"sku": "no-such-sku"}}})
    r = el.run_agent("consumption_discovery", OPERATOR, AT, inputs["consumption_discovery"], model=bad)
    assert r.status == "ok" and r.outputs["proposals"] == []
    assert el.replay_agent(r.run, inputs["consumption_discovery"]).run == r.run


def test_an_ungrounded_number_falls_back(inputs: dict[str, dict[str, bytes]]) -> None:
    def liar(req: dict[str, Any]) -> str:
        facts = json.loads(req["prompt"].split("\n\n")[0])["facts"]
        return json.dumps({"sentences": [{"text": "You could save €987,654.32 today.", "fact_ids": [f["id"] for f in facts]}]})

    r = el.run_agent("anomaly_detector", OPERATOR, AT, inputs["anomaly_detector"], model=ScriptedModel(liar))
    assert any(s[1] == "fallback" and s[2].startswith("ungrounded_narrative") for s in statuses(r))
    assert [a["message"] for a in r.outputs["alerts"]] == deterministic(inputs)


def test_a_refused_agent_is_a_failed_run_not_an_error(inputs: dict[str, dict[str, bytes]]) -> None:
    r = el.run_agent("truth_builder", VIEWER, AT, inputs["truth_builder"])
    assert (r.status, r.run["error"]) == ("failed", "delegator_lacks_action")
    assert r.outputs == {}
    assert r.audit_entry["details"]["status"] == "failed"


def test_replay_refuses_other_inputs_and_tampered_runs(inputs: dict[str, dict[str, bytes]]) -> None:
    ins = inputs["anomaly_detector"]
    r = el.run_agent("anomaly_detector", OPERATOR, AT, ins, model=ScriptedModel(RESPONSES))
    other = dict(ins)
    del other["history/0001"]
    with pytest.raises(el.AgentError) as e:
        el.replay_agent(r.run, other)
    assert e.value.code == "inputs_mismatch"
    tampered = copy.deepcopy(r.run)
    tampered["model_calls"][0]["response"] = json.dumps({"sentences": [{"text": "Nothing.", "fact_ids": []}]})
    with pytest.raises(el.AgentError) as e:
        el.replay_agent(tampered, ins)
    assert e.value.code == "replay_mismatch"
    assert isinstance(e.value, el.EucoraLicenseError)


def test_bad_arguments() -> None:
    with pytest.raises(el.AgentError) as e:
        el.run_agent("no_such_agent", OPERATOR, AT, {})
    assert e.value.code == "unknown_agent"
    with pytest.raises(el.AgentError) as e:
        el.run_agent("truth_builder", {"type": "robot"}, AT, {})
    assert e.value.code == "invalid_actor"
    with pytest.raises(el.InvalidInput):
        el.run_agent("truth_builder", OPERATOR, AT, {"bundle/x": "text"})  # type: ignore[dict-item]
    with pytest.raises(el.InvalidInput):
        el.run_agent("truth_builder", OPERATOR, AT, {"policy": b"{}"}, policy=el.Policy.default())


def test_a_keyboard_interrupt_stops_the_run(inputs: dict[str, dict[str, bytes]]) -> None:
    def interrupt(request: str) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        el.run_agent("anomaly_detector", OPERATOR, AT, inputs["anomaly_detector"], model=interrupt)


def test_another_thread_progresses_during_a_run() -> None:
    ins = {f"bundle/{k}": v for k, v in large_bundle().files.items()}
    holder: list[el.AgentResult] = []
    _assert_progress(*progress_while(lambda: holder.append(el.run_agent("truth_builder", OPERATOR, AT, ins))))
    assert holder[0].status == "ok" and holder[0].outputs["snapshot_hash"]


def test_the_policy_argument_is_the_policy_input(inputs: dict[str, dict[str, bytes]]) -> None:
    doc = json.loads((REPO / "rulesets" / "default" / "policy-v1.json").read_bytes())
    doc["access"]["roles"]["agent_operator"].remove("reconcile.run")
    strict = el.Policy.from_bytes(json.dumps(doc).encode())
    ins = inputs["truth_builder"]
    r = el.run_agent("truth_builder", OPERATOR, AT, ins, policy=strict)
    assert (r.status, r.run["error"]) == ("failed", "delegator_lacks_action")
    assert el.run_agent("truth_builder", OPERATOR, AT, {**ins, "policy": strict.to_bytes() or b""}).run == r.run
    assert el.replay_agent(r.run, ins, policy=strict).run == r.run
    # The shipped default is what an agent uses without a policy.
    default = el.run_agent("truth_builder", OPERATOR, AT, ins, policy=el.Policy.default())
    assert default.status == "ok" and default.run == el.run_agent("truth_builder", OPERATOR, AT, ins).run
