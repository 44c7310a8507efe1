"""Governance (DESIGN Part D): who may do what (D1), proposals that become
truth only after human approval (D2), and the audit chain with its RFC 9162
inclusion and consistency proofs (D3, D6).

Every function is pure: the actor, every instant and the policy are
arguments; the host authenticates people and stores everything. Values are
the DESIGN's JSON objects as plain ``dict``/``list`` (``Decimal`` is
accepted and written as its exact decimal string, ``datetime`` as RFC 3339
UTC; ``float`` is refused). Each function returns what the CLI prints for
the same input (``authorize`` adds the ``actor``), computed by the Rust crate
``eucora-license-governance`` with the GIL released. Contract errors raise
:class:`GovernanceError` with the crate's stable ``code``.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import _native
from ._convert import bad, instant_text, json_value, type_name
from ._insight import Policy

__all__ = [
    "apply",
    "audit_append",
    "audit_checkpoint",
    "audit_consistency",
    "audit_prove",
    "audit_verify",
    "audit_verify_proof",
    "authorize",
    "canonical_entry_line",
    "decide",
    "parse_log",
    "payload_hash",
    "propose",
]


def _dumps(value: object, where: str) -> str:
    """A Python JSON value as JSON text for the engine (floats refused, with their path)."""
    return json.dumps(json_value(value, where), ensure_ascii=False, separators=(",", ":"))


def _object(value: object, where: str) -> str:
    """A JSON document argument. Its shape is the engine's to check, so a
    wrong one gets the contract's code (``invalid_actor``,
    ``invalid_proposal``, ...), as from the CLI; only values that are not
    JSON at all (``float``, ``bytes``, other types) are refused here."""
    return _dumps(value, where)


def _array(value: object, where: str) -> str:
    """A JSON array argument: any iterable but a ``str``, ``bytes`` or
    mapping becomes a list; anything else is passed on for the engine to
    refuse with the contract's code."""
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, bytearray, Mapping)):
        value = list(value)
    return _dumps(value, where)


def _policy(policy: object) -> bytes | None:
    if policy is None:
        return None
    if not isinstance(policy, Policy):
        raise bad("policy", f"expected an eucora_license.Policy or None, not {type_name(policy)}")
    return policy.to_bytes()


def _instant(value: object, where: str) -> str:
    if not isinstance(value, (str, _dt.datetime)):
        raise bad(where, f"expected a timezone-aware datetime or an RFC 3339 str, not {type_name(value)}")
    return instant_text(value, where)


def _loads(text: str) -> Any:
    return json.loads(text)


def authorize(actor: dict[str, Any], action: str, policy: Policy | None = None) -> dict[str, Any]:
    """D1: may ``actor`` take ``action`` under ``policy`` (``None``: the shipped default)?

    Returns ``{"allowed", "action", "actor", "reason"}``; a "no" is a value
    (``reason`` ``role_lacks_action``, ``agent_not_permitted``,
    ``delegator_lacks_action``, ``approval_needs_human``,
    ``conflicting_roles`` or ``agent_chain``). An unknown role, action or
    agent, or a malformed actor, raises :class:`GovernanceError`.
    """
    if not isinstance(action, str):
        raise bad("action", f"expected a str, not {type_name(action)}")
    out: dict[str, Any] = _loads(_native.gov_authorize(_object(actor, "actor"), action, _policy(policy)))
    return out


def propose(
    kind: str,
    payload: dict[str, Any],
    actor: dict[str, Any],
    at: str | _dt.datetime,
    *,
    policy: Policy | None = None,
    correlation_id: str | None = None,
    evidence: list[Any] | None = None,
) -> dict[str, Any]:
    """D2: the proposal ``{proposal_id, kind, payload, payload_hash, proposer,
    created_at, expires_at, policy_hash, correlation_id, evidence}``, made at
    ``at`` under ``policy``. A proposer who may not take the kind's
    ``*.propose`` action is refused: :class:`GovernanceError` whose code is
    the D1 reason (``role_lacks_action``, ...)."""
    if not isinstance(kind, str):
        raise bad("kind", f"expected a str, not {type_name(kind)}")
    if correlation_id is not None and not isinstance(correlation_id, str):
        raise bad("correlation_id", f"expected a str or None, not {type_name(correlation_id)}")
    out: dict[str, Any] = _loads(
        _native.gov_propose(
            kind,
            _object(payload, "payload"),
            _object(actor, "actor"),
            _instant(at, "at"),
            _policy(policy),
            correlation_id,
            _array([] if evidence is None else evidence, "evidence"),
        )
    )
    return out


def decide(
    proposal: dict[str, Any], approvals: Sequence[dict[str, Any]], now: str | _dt.datetime, policy: Policy | None = None
) -> dict[str, Any]:
    """D2: the proposal's state at ``now``: ``{"state": pending|approved|rejected|expired,
    "counted": [approver ids], "refused": [{"index", "approver", "reason"}]}``.
    ``policy`` must be the one the proposal was made under (its
    ``policy_hash``), else :class:`GovernanceError` ``policy_mismatch``."""
    out: dict[str, Any] = _loads(
        _native.gov_decide(_object(proposal, "proposal"), _array(approvals, "approvals"), _instant(now, "now"), _policy(policy))
    )
    return out


def apply(
    proposal: dict[str, Any],
    approvals: Sequence[dict[str, Any]],
    now: str | _dt.datetime,
    policy: Policy | None = None,
    applied: Iterable[str] = (),
) -> dict[str, Any]:
    """D2: ``{"change": {"kind", "proposal_id", "payload"}}`` when ``decide``
    says ``approved``. Otherwise :class:`GovernanceError` whose code is, in
    this order, ``policy_mismatch``, ``already_applied`` (the proposal's id
    is in ``applied``, the ids the host applied before) or the state
    (``pending``, ``rejected``, ``expired``)."""
    if isinstance(applied, (str, bytes)):
        raise bad("applied", "expected an iterable of proposal ids, not a single str")
    out: dict[str, Any] = _loads(
        _native.gov_apply(
            _object(proposal, "proposal"),
            _array(approvals, "approvals"),
            _instant(now, "now"),
            _policy(policy),
            _array(applied, "applied"),
        )
    )
    return out


def payload_hash(payload: dict[str, Any]) -> str:
    """``sha256:<hex>``: the ``eucora.proposal.v1`` hash of the canonical
    payload (what an approval's ``payload_hash`` must equal)."""
    return _native.gov_payload_hash(_object(payload, "payload"))


def audit_append(head: dict[str, Any] | None, entry: dict[str, Any]) -> dict[str, Any]:
    """D3: ``entry`` as the next entry after ``head`` (the log's last entry,
    ``None`` for an empty log), with ``seq``, ``prev_hash`` and
    ``entry_hash`` filled in (any given are replaced), ``at`` normalised to
    UTC and absent optional keys written (``null``, ``[]``, ``{}``).
    ``details`` whose keys look like secrets are refused (``invalid_entry``)."""
    h = None if head is None else _object(head, "head")
    out: dict[str, Any] = _loads(_native.audit_append(h, _object(entry, "entry")))
    return out


def _entries(entries: object) -> str:
    if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Sequence):
        raise bad("entries", f"expected a sequence of entries (dicts), not {type_name(entries)}")
    # None stands for a line that was not JSON (see parse_log): the chain
    # check names it (`entry_hash_mismatch`).
    return _dumps(list(entries), "entries")


def audit_verify(entries: Sequence[dict[str, Any] | None], checkpoint: dict[str, Any] | None = None) -> dict[str, Any]:
    """D3: ``{"ok", "size", "failure": None | {"code", "seq"}}`` naming the
    first bad entry by its 1-based position (``entry_hash_mismatch``,
    ``seq_gap``, ``prev_hash_mismatch``), then ``checkpoint_mismatch`` (at the
    checkpoint's ``size``) when a checkpoint kept outside the log is given.
    A log that does not verify is a value, not an error."""
    cp = None if checkpoint is None else _object(checkpoint, "checkpoint")
    out: dict[str, Any] = _loads(_native.audit_verify(_entries(entries), cp))
    return out


def audit_checkpoint(entries: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    """D3: ``{"size", "root", "head_hash"}`` of a log that verifies (``root``
    the RFC 9162 tree head over the entry hashes); :class:`GovernanceError`
    with the first failure's code otherwise."""
    out: dict[str, Any] = _loads(_native.audit_checkpoint(_entries(entries)))
    return out


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(where, f"expected an int, not {type_name(value)}")
    if value < 0:
        raise bad(where, "expected an int >= 0")
    return value


def audit_prove(entries: Sequence[dict[str, Any] | None], seq: int) -> dict[str, Any]:
    """D6: the RFC 9162 inclusion proof of entry ``seq`` (1-based):
    ``{"kind": "inclusion", "seq", "tree_size", "entry_hash", "path"}``; a
    ``seq`` outside the log is ``out_of_range``."""
    out: dict[str, Any] = _loads(_native.audit_prove(_entries(entries), _count(seq, "seq")))
    return out


def audit_consistency(entries: Sequence[dict[str, Any] | None], old_size: int) -> dict[str, Any]:
    """D6: the RFC 9162 consistency proof from the log's first ``old_size``
    entries to all of it: ``{"kind": "consistency", "old_size", "new_size",
    "new_root", "path"}``; from 0 or past the log is ``out_of_range``."""
    out: dict[str, Any] = _loads(_native.audit_consistency(_entries(entries), _count(old_size, "old_size")))
    return out


def audit_verify_proof(proof: dict[str, Any], checkpoint: dict[str, Any]) -> dict[str, Any]:
    """D6: check a proof against a checkpoint with nothing else: an inclusion
    proof against the checkpoint of its tree, a consistency proof against
    the *old* checkpoint the auditor holds (it then vouches for
    ``new_root``). ``{"ok": True, "kind", ...}`` or ``{"ok": False,
    "reason"}`` (``malformed_proof``, ``malformed_checkpoint``,
    ``size_mismatch``, ``out_of_range``, ``root_mismatch``,
    ``inconsistent``); a proof that does not hold is a value."""
    out: dict[str, Any] = _loads(_native.audit_verify_proof(_object(proof, "proof"), _object(checkpoint, "checkpoint")))
    return out


def canonical_entry_line(entry: dict[str, Any]) -> bytes:
    """The entry's RFC 8785 bytes: one ``LOG.jsonl`` line (without its newline)."""
    return _native.canonical_json(_object(entry, "entry"))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("repeated key")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_float(text: str) -> Any:
    # An entry holding a non-integer number has no canonical form, so no
    # valid hash: the line counts as unreadable, as for the CLI.
    raise ValueError(f"{text}: hashed data holds no floats")


def parse_log(data: bytes) -> list[dict[str, Any] | None]:
    """The entries of ``LOG.jsonl`` bytes as the CLI reads them (D6): lines
    split on ``\\n`` only, blank lines ignored, strict JSON (a repeated key
    is refused); a line that is not a JSON object stays in place as
    ``None``, so :func:`audit_verify` names it (``entry_hash_mismatch``)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise bad("data", f"expected bytes, not {type_name(data)}")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise bad("data", "LOG.jsonl is not UTF-8") from None
    out: list[dict[str, Any] | None] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            v = json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_float=_no_float)
        except ValueError:
            v = None
        out.append(v if isinstance(v, dict) else None)
    return out
