"""TEMPORARY development shim — remove after the ``eucora_license`` governance API merges.

Until ``eucora_license.authorize`` / ``propose`` / ``decide`` / ``apply`` /
``audit_*`` exist in the installed wheel (issue 13, /work/py-gov-api.md), this
module offers the same functions by running the CLI's D5 JSON forms
(``eucora-license authorize|propose|decide|apply|audit ...``). The binary is
``$EUCORA_LICENSE_CLI`` or ``eucora-license`` on ``PATH``. ``governance._core()``
selects it only when the Python functions are missing. Nothing else imports it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import eucora_license as el


class ShimGovernanceError(el.EucoraLicenseError):
    """The CLI's ``{"error": {"code"}}`` as an exception with ``.code``."""

    def __init__(self, code: str, message: str = "") -> None:
        ValueError.__init__(self, f"{code}: {message}" if message else code)
        self.code = code
        self.location = None
        self.message = message or code


def _binary() -> str:
    path = os.environ.get("EUCORA_LICENSE_CLI") or shutil.which("eucora-license")
    if not path:
        for candidate in ("/work/main/target/debug/eucora-license",):
            if Path(candidate).exists():
                return candidate
        raise RuntimeError("eucora-license CLI not found (set EUCORA_LICENSE_CLI)")
    return path


def canonical(value: Any) -> bytes:
    """RFC 8785 for the JSON this host handles (no floats): keys sorted by UTF-16 units."""

    def norm(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: norm(v[k]) for k in sorted(v, key=lambda s: s.encode("utf-16-be"))}
        if isinstance(v, list | tuple):
            return [norm(x) for x in v]
        if isinstance(v, float):
            raise TypeError("float in canonical JSON")
        return v

    return json.dumps(norm(value), ensure_ascii=False, separators=(",", ":")).encode()


def _run(args: list[str], files: dict[str, Any], policy: el.Policy | None) -> tuple[int, Any, str]:
    with tempfile.TemporaryDirectory(prefix="eucora-shim-") as tmp:
        argv = [_binary(), *args]
        for i, a in enumerate(argv):
            if a.startswith("@"):
                name = a[1:]
                p = Path(tmp) / name
                data = files[name]
                p.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
                argv[i] = str(p)
        policy_bytes: bytes | None = getattr(policy, "_data", None) if policy is not None else None
        if policy_bytes is not None:
            p = Path(tmp) / "policy.json"
            p.write_bytes(policy_bytes)
            argv += ["--policy", str(p)]
        proc = subprocess.run(argv, capture_output=True, check=False)
        out = proc.stdout.decode()
        try:
            doc = json.loads(out) if out.strip() else None
        except ValueError:
            doc = None
        return proc.returncode, doc, proc.stderr.decode()


def _check(rc: int, doc: Any, err: str) -> Any:
    if isinstance(doc, dict) and "error" in doc and isinstance(doc["error"], dict):
        raise ShimGovernanceError(str(doc["error"].get("code")), str(doc["error"].get("message", "")))
    if rc not in (0, 2) or doc is None:
        raise ShimGovernanceError("internal", err.strip()[:500])
    return doc


def _at(v: Any) -> str:
    return v if isinstance(v, str) else v.isoformat().replace("+00:00", "Z")


def authorize(actor: dict[str, Any], action: str, policy: el.Policy | None = None) -> dict[str, Any]:
    doc = _check(*_run(["authorize", "--actor", "@a.json", "--action", action], {"a.json": actor}, policy))
    return {**doc, "actor": actor}


def propose(kind: str, payload: dict[str, Any], actor: dict[str, Any], at: Any, *, policy: el.Policy | None = None,
            correlation_id: str | None = None, evidence: list[Any] | None = None) -> dict[str, Any]:
    args = ["propose", "--kind", kind, "--payload", "@p.json", "--actor", "@a.json", "--at", _at(at)]
    files: dict[str, Any] = {"p.json": payload, "a.json": actor}
    if correlation_id is not None:
        args += ["--correlation-id", correlation_id]
    if evidence is not None:
        args += ["--evidence", "@e.json"]
        files["e.json"] = evidence
    result: dict[str, Any] = _check(*_run(args, files, policy))
    return result


def decide(proposal: dict[str, Any], approvals: list[dict[str, Any]], now: Any, policy: el.Policy | None = None) -> dict[str, Any]:
    args = ["decide", "--proposal", "@p.json", "--approvals", "@l.json", "--now", _at(now)]
    result: dict[str, Any] = _check(*_run(args, {"p.json": proposal, "l.json": approvals}, policy))
    return result


def apply(proposal: dict[str, Any], approvals: list[dict[str, Any]], now: Any, policy: el.Policy | None = None,
          applied: Iterable[str] = ()) -> dict[str, Any]:
    args = ["apply", "--proposal", "@p.json", "--approvals", "@l.json", "--now", _at(now), "--applied", "@i.json"]
    files = {"p.json": proposal, "l.json": approvals, "i.json": list(applied)}
    result: dict[str, Any] = _check(*_run(args, files, policy))
    return result


def _log(entries: Sequence[dict[str, Any]]) -> bytes:
    return b"".join(canonical(e) + b"\n" for e in entries)


def audit_append(head: dict[str, Any] | None, entry: dict[str, Any]) -> dict[str, Any]:
    # The CLI's `audit append` re-verifies the whole file, so the shim fills the
    # three fields itself (D3: entry_hash = hash(eucora.audit.v1, entry without it));
    # `audit verify` through the CLI checks the result.
    import hashlib

    full = dict(entry)
    full["seq"] = 1 if head is None else int(head["seq"]) + 1
    full["prev_hash"] = None if head is None else head["entry_hash"]
    full.pop("entry_hash", None)
    full["entry_hash"] = "sha256:" + hashlib.sha256(b"eucora.audit.v1\0" + canonical(full)).hexdigest()
    return full


def audit_verify(entries: Sequence[dict[str, Any]], checkpoint: dict[str, Any] | None = None) -> dict[str, Any]:
    args = ["audit", "verify", "@log.jsonl"]
    files: dict[str, Any] = {"log.jsonl": _log(entries)}
    if checkpoint is not None:
        args += ["--checkpoint", "@c.json"]
        files["c.json"] = checkpoint
    result: dict[str, Any] = _check(*_run(args, files, None))
    return result


def audit_checkpoint(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = _check(*_run(["audit", "checkpoint", "@log.jsonl"], {"log.jsonl": _log(entries)}, None))
    return result


def audit_consistency(entries: Sequence[dict[str, Any]], old_size: int) -> dict[str, Any]:
    args = ["audit", "consistency", "@log.jsonl", "--old-size", str(old_size)]
    result: dict[str, Any] = _check(*_run(args, {"log.jsonl": _log(entries)}, None))
    return result


def audit_verify_proof(proof: dict[str, Any], checkpoint: dict[str, Any]) -> dict[str, Any]:
    args = ["audit", "verify-proof", "@p.json", "--checkpoint", "@c.json"]
    result: dict[str, Any] = _check(*_run(args, {"p.json": proof, "c.json": checkpoint}, None))
    return result


def canonical_entry_line(entry: dict[str, Any]) -> bytes:
    return canonical(entry)


def payload_hash(payload: dict[str, Any]) -> str:
    raise NotImplementedError("payload_hash: use propose()['payload_hash']")
