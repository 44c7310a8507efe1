"""Governance from Python (DESIGN D1–D3, D6): authorize, propose -> decide ->
apply, the audit chain and its RFC 9162 proofs. Each answer is compared with
the CLI's for the same input (the same Rust functions must answer)."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import eucora_license as el
import pytest
from conftest import REPO

AT = "2026-11-22T07:00:00Z"
ADMIN: dict[str, Any] = {"type": "user", "id": "u-al", "roles": ["license_admin"]}
AUDITOR: dict[str, Any] = {"type": "user", "id": "u-aud", "roles": ["license_auditor"]}
OPS: dict[str, Any] = {"type": "user", "id": "u-otto", "roles": ["ops_manager"]}
OPS2: dict[str, Any] = {"type": "user", "id": "u-olga", "roles": ["ops_manager"]}
OPERATOR: dict[str, Any] = {"type": "user", "id": "u-olivia", "roles": ["agent_operator"]}
VIEWER: dict[str, Any] = {"type": "user", "id": "u-vic", "roles": ["viewer"]}
BOTH: dict[str, Any] = {"type": "user", "id": "u-both", "roles": ["license_admin", "license_auditor"]}
PAYLOAD: dict[str, Any] = {
    "entitlement_id": "E-009",
    "sku": "m365-e3",
    "contract_id": "MS-EA-2024-0117",
    "quantity": 20,
    "starts_on": "2026-12-01",
    "ends_on": None,
    "unit_cost": "36.00",
    "currency": "USD",
}


def agent(name: str, on_behalf_of: dict[str, Any]) -> dict[str, Any]:
    return {"type": "agent", "agent": name, "on_behalf_of": on_behalf_of}


class Cli:
    """The CLI with JSON documents written to files: (exit status, parsed stdout)."""

    def __init__(self, binary: Path, tmp: Path) -> None:
        self.binary, self.tmp, self.n = binary, tmp, 0

    def file(self, doc: Any) -> str:
        self.n += 1
        p = self.tmp / f"doc-{self.n}.json"
        p.write_text(json.dumps(doc))
        return str(p)

    def raw(self, *args: str) -> tuple[int, bytes]:
        proc = subprocess.run([str(self.binary), *args], capture_output=True, check=False)
        assert proc.returncode in (0, 2), proc.stderr.decode()
        return proc.returncode, proc.stdout

    def __call__(self, *args: str) -> tuple[int, Any]:
        code, out = self.raw(*args)
        return code, json.loads(out)


@pytest.fixture()
def run_cli(cli: Path, tmp_path: Path) -> Cli:
    return Cli(cli, tmp_path)


def other_policy() -> el.Policy:
    doc = json.loads((REPO / "rulesets" / "default" / "policy-v1.json").read_bytes())
    doc["description"] = "the default with two approvers for entitlements"
    doc["approvals"]["entitlement.create"]["quorum"] = 2
    return el.Policy.from_bytes(json.dumps(doc).encode())


# --- D1 ---------------------------------------------------------------------------------------

REASONS = [
    (ADMIN, "entitlement.propose", "allowed"),
    (VIEWER, "view.alerts", "role_lacks_action"),
    (BOTH, "view.sidebar", "conflicting_roles"),
    (agent("inventory_extractor", OPS), "entitlement.approve", "approval_needs_human"),
    (agent("truth_builder", agent("anomaly_detector", OPERATOR)), "reconcile.run", "agent_chain"),
    (agent("truth_builder", OPERATOR), "entitlement.propose", "agent_not_permitted"),
    (agent("truth_builder", ADMIN), "reconcile.run", "delegator_lacks_action"),
    (agent("truth_builder", OPERATOR), "reconcile.run", "allowed"),
]


@pytest.mark.parametrize(("actor", "action", "reason"), REASONS, ids=[r[2] + "-" + r[1] for r in REASONS])
def test_authorize_reasons_equal_the_cli(actor: dict[str, Any], action: str, reason: str, run_cli: Cli) -> None:
    d = el.authorize(actor, action)
    assert d == {"allowed": reason == "allowed", "action": action, "actor": actor, "reason": reason}
    code, out = run_cli("authorize", "--actor", run_cli.file(actor), "--action", action)
    assert code == 0
    assert out == {k: d[k] for k in ("allowed", "action", "reason")}


def test_authorize_errors_are_never_a_no(run_cli: Cli) -> None:
    for actor, action, code in [
        (VIEWER, "view.everything", "unknown_action"),
        ({"type": "user", "id": "u", "roles": ["root"]}, "view.sidebar", "unknown_role"),
        (agent("no_such_agent", OPERATOR), "reconcile.run", "unknown_agent"),
        ({"type": "robot"}, "view.sidebar", "invalid_actor"),
    ]:
        with pytest.raises(el.GovernanceError) as e:
            el.authorize(actor, action)
        assert e.value.code == code
        assert isinstance(e.value, el.EucoraLicenseError)
        status, out = run_cli("authorize", "--actor", run_cli.file(actor), "--action", action)
        assert (status, out["error"]["code"]) == (2, code)


def test_a_policy_is_honoured() -> None:
    doc = json.loads((REPO / "rulesets" / "default" / "policy-v1.json").read_bytes())
    doc["access"]["roles"]["viewer"].append("view.alerts")
    p = el.Policy.from_bytes(json.dumps(doc).encode())
    assert el.authorize(VIEWER, "view.alerts")["reason"] == "role_lacks_action"
    assert el.authorize(VIEWER, "view.alerts", p)["allowed"] is True


# --- D2 ---------------------------------------------------------------------------------------


def approval(p: dict[str, Any], approver: dict[str, Any], decision: str = "approve", at: str = "2026-11-22T09:00:00Z") -> dict[str, Any]:
    return {"proposal_id": p["proposal_id"], "payload_hash": p["payload_hash"], "approver": approver, "decision": decision, "at": at}


def test_propose_decide_apply_round_trip_equals_the_cli(run_cli: Cli) -> None:
    at = datetime(2026, 11, 22, 8, 0, tzinfo=timezone_plus_one())
    p = el.propose("entitlement.create", PAYLOAD, ADMIN, at, correlation_id="corr-7", evidence=["sha256:" + "ab" * 32])
    assert p["created_at"] == AT  # the aware datetime, in UTC
    assert p["expires_at"] == "2026-11-29T07:00:00Z"  # + 168 hours
    assert p["payload_hash"] == el.payload_hash(PAYLOAD)
    assert p["policy_hash"] == el.Policy.default().hash
    assert (p["proposer"], p["correlation_id"], p["payload"]) == (ADMIN, "corr-7", PAYLOAD)
    code, out = run_cli(
        "propose", "--kind", "entitlement.create", "--payload", run_cli.file(PAYLOAD), "--actor", run_cli.file(ADMIN),
        "--at", "2026-11-22T08:00:00+01:00", "--correlation-id", "corr-7", "--evidence", run_cli.file(["sha256:" + "ab" * 32]),
    )  # fmt: skip
    assert (code, out) == (0, p)

    now = "2026-11-22T10:00:00Z"
    approvals = [approval(p, ADMIN), approval(p, OPS)]
    d = el.decide(p, approvals, now)
    assert d == {"state": "approved", "counted": ["u-otto"], "refused": [{"index": 0, "approver": "u-al", "reason": "approver_lacks_role"}]}
    pf, af = run_cli.file(p), run_cli.file(approvals)
    assert run_cli("decide", "--proposal", pf, "--approvals", af, "--now", now) == (0, d)

    change = el.apply(p, approvals, now)
    assert change == {"change": {"kind": "entitlement.create", "proposal_id": p["proposal_id"], "payload": PAYLOAD}}
    assert run_cli("apply", "--proposal", pf, "--approvals", af, "--now", now) == (0, change)

    # Never applied twice.
    with pytest.raises(el.GovernanceError) as e:
        el.apply(p, approvals, now, applied=[p["proposal_id"]])
    assert e.value.code == "already_applied"
    code, out = run_cli("apply", "--proposal", pf, "--approvals", af, "--now", now, "--applied", run_cli.file([p["proposal_id"]]))
    assert (code, out["error"]["code"]) == (2, "already_applied")


def timezone_plus_one() -> Any:
    from datetime import timezone

    return timezone(timedelta(hours=1))


def test_states_and_refusals() -> None:
    p = el.propose("entitlement.create", PAYLOAD, ADMIN, AT)
    now = "2026-11-22T10:00:00Z"
    assert el.decide(p, [], now)["state"] == "pending"
    with pytest.raises(el.GovernanceError) as e:
        el.apply(p, [], now)
    assert e.value.code == "pending"
    # A reject counts even after an approval; the state is the error of apply.
    both = [approval(p, OPS), approval(p, OPS2, "reject")]
    assert el.decide(p, both, now)["state"] == "rejected"
    with pytest.raises(el.GovernanceError) as e:
        el.apply(p, both, now)
    assert e.value.code == "rejected"
    # Expired: now at expires_at, before a quorum.
    assert el.decide(p, [], p["expires_at"])["state"] == "expired"
    # An agent on behalf of the proposer cannot approve; a changed payload does not count.
    changed = dict(p, payload=dict(PAYLOAD, quantity=21))
    d = el.decide(changed, [approval(p, OPS)], now)
    assert d["refused"] == [{"index": 0, "approver": "u-otto", "reason": "payload_changed"}]
    d = el.decide(p, [approval(p, agent("inventory_extractor", OPS))], now)
    assert d["refused"][0]["reason"] == "approver_not_human"
    # A malformed approval is an error.
    with pytest.raises(el.GovernanceError) as e:
        el.decide(p, [{"proposal_id": p["proposal_id"]}], now)
    assert e.value.code == "invalid_approval"


def test_policy_mismatch(run_cli: Cli) -> None:
    strict = other_policy()
    p = el.propose("entitlement.create", PAYLOAD, ADMIN, AT, policy=strict)
    assert p["policy_hash"] == strict.hash != el.Policy.default().hash
    approvals = [approval(p, OPS)]
    now = "2026-11-22T10:00:00Z"
    calls: list[Callable[[], object]] = [lambda: el.decide(p, approvals, now), lambda: el.apply(p, approvals, now)]
    for call in calls:
        with pytest.raises(el.GovernanceError) as e:
            call()
        assert e.value.code == "policy_mismatch"
    # Under its own policy the quorum is two distinct approvers.
    assert el.decide(p, approvals, now, strict)["state"] == "pending"
    assert el.decide(p, [*approvals, approval(p, OPS2)], now, strict)["state"] == "approved"
    code, out = run_cli("decide", "--proposal", run_cli.file(p), "--approvals", run_cli.file(approvals), "--now", now)
    assert (code, out["error"]["code"]) == (2, "policy_mismatch")
    # apply's precedence: policy_mismatch before already_applied.
    with pytest.raises(el.GovernanceError) as e:
        el.apply(p, approvals, now, applied={p["proposal_id"]})
    assert e.value.code == "policy_mismatch"


def test_propose_refuses_a_proposer_without_the_action(run_cli: Cli) -> None:
    with pytest.raises(el.GovernanceError) as e:
        el.propose("entitlement.create", PAYLOAD, VIEWER, AT)
    assert e.value.code == "role_lacks_action"
    code, out = run_cli(
        "propose", "--kind", "entitlement.create", "--payload", run_cli.file(PAYLOAD), "--actor", run_cli.file(VIEWER), "--at", AT
    )
    assert (code, out["error"]["code"]) == (2, "role_lacks_action")
    with pytest.raises(el.GovernanceError) as e:
        el.propose("entitlement.create", PAYLOAD, BOTH, AT)
    assert e.value.code == "conflicting_roles"
    with pytest.raises(el.GovernanceError) as e:
        el.propose("entitlement.grant", PAYLOAD, ADMIN, AT)
    assert e.value.code == "unknown_kind"


def test_python_values_are_checked() -> None:
    with pytest.raises(el.InvalidInput):
        el.propose("entitlement.create", PAYLOAD, ADMIN, datetime(2026, 11, 22, 7, 0))  # naive
    with pytest.raises(el.InvalidInput) as e:
        el.propose("entitlement.create", dict(PAYLOAD, unit_cost=36.0), ADMIN, AT)
    assert e.value.location is not None and e.value.location.field == "payload.unit_cost"
    with pytest.raises(el.InvalidInput):
        el.authorize(ADMIN, "view.sidebar", policy=b"{}")  # type: ignore[arg-type]
    # A JSON value of the wrong shape gets the contract's code, as from the CLI.
    with pytest.raises(el.GovernanceError) as g:
        el.authorize("u-al", "view.sidebar")  # type: ignore[arg-type]
    assert g.value.code == "invalid_actor"
    with pytest.raises(el.GovernanceError) as g:
        el.decide({"kind": "x"}, [], AT)
    assert g.value.code == "invalid_proposal"
    with pytest.raises(el.InvalidInput):
        el.apply({}, [], AT, applied="sha256:x")
    # Decimal and date values are written as the DESIGN's strings.
    from decimal import Decimal

    assert el.payload_hash(dict(PAYLOAD, unit_cost=Decimal("36.00"))) == el.payload_hash(PAYLOAD)
    with pytest.raises(el.GovernanceError) as g:
        el.propose("entitlement.create", PAYLOAD, ADMIN, "yesterday")
    assert g.value.code == "invalid_instant"


# --- D3 ---------------------------------------------------------------------------------------


def entry(i: int) -> dict[str, Any]:
    return {
        "at": (datetime(2026, 11, 22, 7, 0, tzinfo=UTC) + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "actor": ADMIN if i % 2 else OPS,
        "action": "entitlement.propose" if i % 2 else "entitlement.approve",
        "entity": {"type": "proposal", "id": f"p-{i}"},
        "correlation_id": f"corr-{i}",
        "details": {"n": i},
    }


def build_log(n: int) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        log.append(el.audit_append(log[-1] if log else None, entry(i)))
    return log


def write_log(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(el.canonical_entry_line(e) + b"\n" for e in entries))
    return path


def test_audit_append_equals_the_cli(run_cli: Cli, tmp_path: Path) -> None:
    log_path = tmp_path / "LOG.jsonl"
    log = build_log(5)
    for i in range(1, 6):
        code, out = run_cli("audit", "append", str(log_path), "--entry", run_cli.file(entry(i)))
        assert (code, out) == (0, log[i - 1])
    assert log[0]["seq"] == 1 and log[0]["prev_hash"] is None
    assert log[1]["prev_hash"] == log[0]["entry_hash"]
    assert log_path.read_bytes() == write_log(tmp_path / "mine.jsonl", log).read_bytes()
    assert el.parse_log(log_path.read_bytes()) == log
    with pytest.raises(el.GovernanceError) as e:
        el.audit_append(log[-1], dict(entry(6), details={"api_key": "x"}))
    assert e.value.code == "invalid_entry"


def test_audit_verify_names_the_tampered_entry(run_cli: Cli, tmp_path: Path) -> None:
    log = build_log(6)
    ok = el.audit_verify(log)
    assert ok == {"ok": True, "size": 6, "failure": None}
    assert run_cli("audit", "verify", str(write_log(tmp_path / "ok.jsonl", log))) == (0, ok)

    tampered = copy.deepcopy(log)
    tampered[3]["details"]["n"] = 99
    bad = el.audit_verify(tampered)
    assert bad == {"ok": False, "size": 6, "failure": {"code": "entry_hash_mismatch", "seq": 4}}
    assert run_cli("audit", "verify", str(write_log(tmp_path / "bad.jsonl", tampered))) == (2, bad)

    deleted = log[:2] + log[3:]
    assert el.audit_verify(deleted)["failure"] == {"code": "seq_gap", "seq": 3}
    swapped = [log[0], log[2], log[1], *log[3:]]
    assert el.audit_verify(swapped)["failure"] == {"code": "seq_gap", "seq": 2}

    # A cut tail shows only against a checkpoint kept outside the log.
    cp = el.audit_checkpoint(log)
    cut = el.audit_verify(log[:4], cp)
    assert cut == {"ok": False, "size": 4, "failure": {"code": "checkpoint_mismatch", "seq": 6}}
    assert run_cli("audit", "verify", str(write_log(tmp_path / "cut.jsonl", log[:4])), "--checkpoint", run_cli.file(cp)) == (2, cut)

    # An unreadable line stays in place and is named.
    text = write_log(tmp_path / "garbled.jsonl", log).read_bytes().split(b"\n")
    text[2] = b"{not json"
    garbled = el.parse_log(b"\n".join(text))
    assert garbled[2] is None
    assert el.audit_verify(garbled)["failure"] == {"code": "entry_hash_mismatch", "seq": 3}


def test_checkpoint_and_proofs_equal_the_cli(run_cli: Cli, tmp_path: Path) -> None:
    log = build_log(7)
    path = str(write_log(tmp_path / "LOG.jsonl", log))
    cp = el.audit_checkpoint(log)
    assert cp["size"] == 7 and cp["head_hash"] == log[-1]["entry_hash"]
    assert run_cli("audit", "checkpoint", path) == (0, cp)
    assert el.audit_checkpoint([]) == {
        "size": 0,
        "root": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "head_hash": None,
    }

    proof = el.audit_prove(log, 3)
    assert proof["kind"] == "inclusion" and proof["entry_hash"] == log[2]["entry_hash"]
    assert run_cli("audit", "prove", path, "--seq", "3") == (0, proof)
    v = el.audit_verify_proof(proof, cp)
    assert v == {"ok": True, "kind": "inclusion", "seq": 3, "entry_hash": log[2]["entry_hash"], "tree_size": 7, "root": cp["root"]}
    assert run_cli("audit", "verify-proof", run_cli.file(proof), "--checkpoint", run_cli.file(cp)) == (0, v)

    old = el.audit_checkpoint(log[:4])
    cons = el.audit_consistency(log, 4)
    assert run_cli("audit", "consistency", path, "--old-size", "4") == (0, cons)
    assert el.audit_verify_proof(cons, old) == {
        "ok": True, "kind": "consistency", "old_size": 4, "old_root": old["root"], "new_size": 7, "new_root": cp["root"],
    }  # fmt: skip

    # Corrupted proofs are rejected, with the reason the CLI gives.
    for p, against in [(proof, cp), (cons, old)]:
        bad = copy.deepcopy(p)
        h = bad["path"][0]
        bad["path"][0] = h[:-1] + ("0" if h[-1] != "0" else "1")
        got = el.audit_verify_proof(bad, against)
        assert got["ok"] is False and got["reason"] in ("root_mismatch", "inconsistent")
        assert run_cli("audit", "verify-proof", run_cli.file(bad), "--checkpoint", run_cli.file(against)) == (2, got)
    assert el.audit_verify_proof(proof, old) == {"ok": False, "reason": "size_mismatch"}
    assert el.audit_verify_proof({"kind": "inclusion"}, cp) == {"ok": False, "reason": "malformed_proof"}

    out_of_range: list[Callable[[], object]] = [lambda: el.audit_prove(log, 8), lambda: el.audit_consistency(log, 0)]
    for call in out_of_range:
        with pytest.raises(el.GovernanceError) as e:
            call()
        assert e.value.code == "out_of_range"
    tampered = copy.deepcopy(log)
    tampered[1]["action"] = "view.sidebar"
    with pytest.raises(el.GovernanceError) as e:
        el.audit_checkpoint(tampered)
    assert e.value.code == "entry_hash_mismatch"


def test_canonical_entry_line_is_rfc8785() -> None:
    e = build_log(1)[0]
    line = el.canonical_entry_line(e)
    assert b"\n" not in line
    assert json.loads(line) == e
    assert line == json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
