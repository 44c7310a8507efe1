"""Governance for the host (DESIGN D1-D3, Part E): actors, authorisation, the
per-organisation audit chain and its checkpoint.

The core decides (``eucora_license.authorize``, ``propose``, ``decide``, ``apply``,
``audit_*``); this module only builds the inputs from the database (the actor from
the user's groups, never from the request), stores the outputs, and serialises
appends per organisation: :func:`append_audit` locks the organisation's
:class:`~eucora_license_django.models.ChainHead` row (``SELECT ... FOR UPDATE``) in
the caller's transaction, so two writers never fork the chain.

Errors a view turns into responses derive from :class:`LicenseServiceError`
(``code`` and ``status``): :class:`Refused` 403 (a D1 / D2 reason code),
:class:`Conflict` 409 (``already_applied``, ``expired``, ``rejected``, ...),
:class:`BadInput` 400 (the core's error code and location), :class:`NotFound` 404.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import eucora_license as el
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connections, router, transaction
from django.utils import timezone

from ..conf import default_policy, license_settings
from ..models import ROLES, AuditLog, ChainHead, Organization, Policy

#: The actor of scheduled runs (cron, Celery beat). Django usernames cannot hold ``:``,
#: so it never collides with a person; it holds no role, and it is recorded, not authorised.
SCHEDULER_ACTOR: dict[str, Any] = {"type": "user", "id": "system:scheduler", "roles": []}

#: D2 kind -> the D1 action that approves it (Part E fine print).
APPROVE_ACTION: dict[str, str] = {
    "entitlement.create": "entitlement.approve",
    "entitlement.update": "entitlement.approve",
    "entitlement.end": "entitlement.approve",
    "mapping.alias": "mapping.approve",
    "mapping.sku": "mapping.approve",
    "ruleset.version": "ruleset.approve",
    "policy.version": "policy.approve",
    "recommendation": "recommendation.approve",
}

#: D2 kind -> the D1 action that proposes it.
PROPOSE_ACTION: dict[str, str] = {
    "entitlement.create": "entitlement.propose",
    "entitlement.update": "entitlement.propose",
    "entitlement.end": "entitlement.propose",
    "mapping.alias": "mapping.propose",
    "mapping.sku": "mapping.propose",
    "ruleset.version": "ruleset.propose",
    "policy.version": "policy.propose",
    "recommendation": "recommendation.propose",
}


# ------------------------------------------------------------------------------------ errors


class LicenseServiceError(Exception):
    """A service outcome a view answers with ``status`` and ``{"code", ...details}``."""

    status: int = 400

    def __init__(self, code: str, message: str = "", **details: Any) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message or code
        self.details = details

    def body(self) -> dict[str, Any]:
        """The response body: ``{"code", "message", ...details}``."""
        return {"code": self.code, "message": self.message, **self.details}


class Refused(LicenseServiceError):
    """403: a D1 decision's reason (``role_lacks_action``, ...) or a D2 refusal reason
    (``self_approval``, ``approver_lacks_role``, ...). ``details["action"]`` names the action."""

    status = 403


class Conflict(LicenseServiceError):
    """409: ``already_applied``, ``expired``, ``rejected``, ``policy_mismatch``, ``run_in_progress``, ``exists``."""

    status = 409


class BadInput(LicenseServiceError):
    """400: the core's error code (``invalid_input``, ...) and ``details["location"]``."""

    status = 400


class NotFound(LicenseServiceError):
    """404."""

    status = 404


def bad_input_from(e: el.EucoraLicenseError) -> BadInput:
    """A core error as a 400 with its code and location (never a secret: the core's message)."""
    loc = getattr(e, "location", None)
    location = None
    if loc is not None:
        location = {"file": getattr(loc, "file", None), "line": getattr(loc, "line", None), "field": getattr(loc, "field", None)}
    return BadInput(str(getattr(e, "code", "invalid_input")), str(getattr(e, "message", e)), location=location)


# ------------------------------------------------------------------------------ the core API


def governance_error_code(e: BaseException) -> str | None:
    """The ``.code`` of an ``eucora_license.GovernanceError`` (or the shim's), else None."""
    if isinstance(e, el.EucoraLicenseError):
        return str(getattr(e, "code", "")) or None
    return None


def rfc3339(instant: dt.datetime) -> str:
    """An aware datetime as RFC 3339 UTC with ``Z`` (microseconds kept when present)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def parse_instant(text: str) -> dt.datetime:
    """RFC 3339 text (``Z`` or an offset) as an aware UTC datetime."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"instant without offset: {text!r}")
    return value.astimezone(dt.UTC)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of JSON data without floats (keys in UTF-16 order, compact, UTF-8)."""

    def norm(v: Any) -> Any:
        if isinstance(v, Mapping):
            return {k: norm(v[k]) for k in sorted(v, key=lambda s: s.encode("utf-16-be"))}
        if isinstance(v, list | tuple):
            return [norm(x) for x in v]
        if isinstance(v, float):
            raise TypeError("a float in canonical JSON")
        return v

    return json.dumps(norm(value), ensure_ascii=False, separators=(",", ":")).encode()


# ---------------------------------------------------------------------------------- actors


def roles_of(user: AbstractBaseUser | AnonymousUser | None) -> list[str]:
    """The user's D1 roles: its groups named as a role, sorted (superusers get none implicitly)."""
    if user is None or not user.is_authenticated:
        return []
    groups = getattr(user, "groups", None)
    if groups is None:
        return []
    names = groups.filter(name__in=ROLES).values_list("name", flat=True)
    return sorted(set(names))


def actor_for(user: AbstractBaseUser | AnonymousUser) -> dict[str, Any]:
    """The user's D1 actor ``{"type": "user", "id": <username>, "roles": [...]}``,
    built from the database, never from the request."""
    if not user.is_authenticated:
        raise Refused("not_authenticated", "authentication required")
    return {"type": "user", "id": user.get_username(), "roles": roles_of(user)}


def agent_actor(agent: str, user: AbstractBaseUser | AnonymousUser) -> dict[str, Any]:
    """The D1 actor of ``agent`` running under ``user``'s delegation."""
    return {"type": "agent", "agent": agent, "on_behalf_of": actor_for(user)}


def actor_id(actor: Mapping[str, Any]) -> str:
    """A short id for indexes: the user id, or ``agent@user`` for an agent."""
    if actor.get("type") == "agent":
        inner = actor.get("on_behalf_of") or {}
        return f"{actor.get('agent')}@{inner.get('id', '')}"
    return str(actor.get("id", ""))


# ---------------------------------------------------------------------------------- policy


_POLICY_CACHE: dict[str, el.Policy] = {}


def policy_for(organization: Organization) -> el.Policy:
    """The organisation's policy in force: its active ``Policy`` version, else the default."""
    row = Policy.objects.filter(organization=organization, active=True).order_by("-version").first()
    if row is None:
        return default_policy()
    cached = _POLICY_CACHE.get(row.hash)
    if cached is None:
        cached = el.Policy.from_bytes(bytes(row.canonical))
        _POLICY_CACHE[row.hash] = cached
    return cached


def policy_by_hash(organization: Organization, policy_hash: str) -> el.Policy | None:
    """The policy whose hash a proposal carries (a stored version or the default), or None."""
    default = default_policy()
    if default.hash == policy_hash:
        return default
    row = Policy.objects.filter(organization=organization, hash=policy_hash).first()
    return None if row is None else el.Policy.from_bytes(bytes(row.canonical))


# -------------------------------------------------------------------------------- authorize


def authorize(organization: Organization, actor: dict[str, Any], action: str) -> dict[str, Any]:
    """D1 under the organisation's policy: ``{"allowed", "action", "actor", "reason"}``.
    A "no" is a value; an unknown action or role raises the core's error."""
    decision: dict[str, Any] = el.authorize(actor, action, policy_for(organization))
    return decision


def require(
    organization: Organization,
    actor: dict[str, Any],
    action: str,
    *,
    correlation_id: str,
    entity: tuple[str, str] = ("", ""),
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Authorise ``action``; when refused, append the refusal's audit entry (committed
    in its own transaction, so call this before opening the write's transaction)
    and raise :class:`Refused` with the D1 reason code."""
    decision = authorize(organization, actor, action)
    if not decision["allowed"]:
        with transaction.atomic():
            append_audit(
                organization,
                actor=actor,
                action=action,
                entity=entity,
                correlation_id=correlation_id,
                details={**(details or {}), "allowed": False, "reason": decision["reason"]},
            )
        raise Refused(str(decision["reason"]), f"{action} refused", action=action)
    return decision


# ------------------------------------------------------------------------------- audit chain


# SQLite has no row locks; within one process a lock per organisation keeps
# appends apart (settings with transaction_mode IMMEDIATE serialise processes).
_LOCAL_LOCKS: dict[tuple[str, str], threading.RLock] = {}
_LOCAL_LOCKS_GUARD = threading.Lock()


def local_lock(kind: str, organization_id: str) -> threading.RLock:
    """A process-wide re-entrant lock per (kind, organisation) for databases without row locks."""
    with _LOCAL_LOCKS_GUARD:
        return _LOCAL_LOCKS.setdefault((kind, organization_id), threading.RLock())


@contextmanager
def lock_row(kind: str, organization: Organization, lock: Callable[[], Any]) -> Iterator[Any]:
    """Run ``lock()`` (a ``select_for_update`` query) under the per-process lock on
    SQLite; on other databases the row lock alone serialises. Must run inside a transaction."""
    alias = router.db_for_write(AuditLog)
    if connections[alias].vendor == "sqlite":
        with local_lock(kind, organization.pk):
            yield lock()
    else:
        yield lock()


def _chain_head(organization: Organization) -> ChainHead:
    ChainHead.objects.get_or_create(organization=organization)
    return ChainHead.objects.select_for_update().get(organization=organization)


def append_audit(
    organization: Organization,
    *,
    actor: Mapping[str, Any],
    action: str,
    entity: tuple[str, str] = ("", ""),
    correlation_id: str = "",
    before_hash: str | None = None,
    after_hash: str | None = None,
    evidence: Sequence[Any] = (),
    details: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditLog:
    """Append one D3 entry to the organisation's chain, in the caller's transaction.

    Locks the chain head (``SELECT ... FOR UPDATE``) until the caller's transaction
    ends, reads the previous entry, lets the core fill ``seq``, ``prev_hash`` and
    ``entry_hash`` (``audit_append``) and stores the canonical line. ``details``
    must never hold a secret (A7). Raises ``TransactionManagementError`` outside
    ``transaction.atomic``.
    """
    conn = transaction.get_connection(router.db_for_write(AuditLog))
    if not conn.in_atomic_block:
        raise transaction.TransactionManagementError("append_audit must run inside transaction.atomic()")
    with lock_row("audit", organization, lambda: _chain_head(organization)) as head_row:
        previous = None
        if head_row.seq:
            last = AuditLog.objects.filter(organization=organization, seq=head_row.seq).get()
            previous = json.loads(bytes(last.line))
        entry = {
            "seq": None,
            "prev_hash": None,
            "at": rfc3339(at or timezone.now()),
            "actor": dict(actor),
            "action": action,
            # D3: both strings; an action on no particular record names the organisation.
            "entity": {"type": entity[0] or "organization", "id": entity[1] or (organization.pk if not entity[0] else "")},
            "before_hash": before_hash,
            "after_hash": after_hash,
            "correlation_id": correlation_id or None,
            "evidence": list(evidence),
            "details": dict(details or {}),
            "entry_hash": None,
        }
        core = el
        full: dict[str, Any] = core.audit_append(previous, entry)
        line: bytes = core.canonical_entry_line(full)
        row = AuditLog.objects.create(
            organization=organization,
            seq=int(full["seq"]),
            entry_hash=str(full["entry_hash"]),
            prev_hash=str(full["prev_hash"] or ""),
            at=parse_instant(str(full["at"])),
            actor_id=actor_id(actor),
            action=action,
            entity_type=entity[0],
            entity_id=entity[1],
            correlation_id=correlation_id,
            line=line,
        )
        ChainHead.objects.filter(organization=organization).update(seq=row.seq, head_hash=row.entry_hash)
        # robust: the entry is committed whatever happens to the checkpoint file (a failure is
        # logged; the next commit writes a newer checkpoint).
        transaction.on_commit(lambda: _checkpoint_after_commit(organization), using=conn.alias, robust=True)
        return row


def audit_entries(organization: Organization, *, correlation_id: str | None = None) -> list[dict[str, Any]]:
    """The organisation's D3 entries in ``seq`` order (optionally those of one correlation id)."""
    qs = AuditLog.objects.filter(organization=organization).order_by("seq")
    if correlation_id is not None:
        qs = qs.filter(correlation_id=correlation_id)
    return [json.loads(bytes(line)) for line in qs.values_list("line", flat=True)]


# ------------------------------------------------------------------------------- checkpoints


def checkpoint_path(organization: Organization) -> Path:
    """The organisation's checkpoint file in ``CHECKPOINT_DIR`` (outside the database)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in organization.pk)
    return license_settings().checkpoint_dir / f"{safe}.checkpoint.json"


def read_checkpoint(organization: Organization) -> dict[str, Any] | None:
    """The stored checkpoint ``{size, root, head_hash}``, or None when there is none yet."""
    path = checkpoint_path(organization)
    try:
        doc: dict[str, Any] = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    return doc


@contextmanager
def _checkpoint_file_lock(organization: Organization) -> Iterator[None]:
    path = checkpoint_path(organization)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def write_checkpoint(organization: Organization) -> dict[str, Any]:
    """Checkpoint the committed log into ``CHECKPOINT_DIR`` (atomic replace, never
    moving backwards: a checkpoint only replaces a smaller one). Returns the
    checkpoint on file afterwards."""
    with _checkpoint_file_lock(organization):
        entries = audit_entries(organization)
        current = read_checkpoint(organization)
        if current is not None and int(current.get("size", 0)) >= len(entries):
            return current
        checkpoint: dict[str, Any] = el.audit_checkpoint(entries)
        path = checkpoint_path(organization)
        tmp = path.with_suffix(f".tmp-{os.getpid()}-{threading.get_ident()}")
        tmp.write_bytes(canonical_json(checkpoint) + b"\n")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return checkpoint


def _checkpoint_after_commit(organization: Organization) -> None:
    if _checkpoints_deferred.active:
        return
    write_checkpoint(organization)


class _Deferral(threading.local):
    active = False


_checkpoints_deferred = _Deferral()


@contextmanager
def deferred_checkpoints() -> Iterator[None]:
    """Skip the per-commit checkpoint (bulk loads such as ``seed_demo``); call
    :func:`write_checkpoint` once afterwards."""
    previous = _checkpoints_deferred.active
    _checkpoints_deferred.active = True
    try:
        yield
    finally:
        _checkpoints_deferred.active = previous


def verify_audit(organization: Organization) -> dict[str, Any]:
    """D5's ``{ok, size, failure}`` over the stored chain, then against the stored
    checkpoint with a consistency proof (RFC 9162): a log cut below the checkpoint,
    or rewritten, fails with ``checkpoint_mismatch`` (``seq`` = the checkpoint's size)."""
    entries = audit_entries(organization)
    core = el
    result: dict[str, Any] = core.audit_verify(entries)
    if not result.get("ok"):
        return result
    checkpoint = read_checkpoint(organization)
    if checkpoint is None or int(checkpoint.get("size", 0)) == 0:
        return result
    old_size = int(checkpoint["size"])
    mismatch = {"ok": False, "size": len(entries), "failure": {"code": "checkpoint_mismatch", "seq": old_size}}
    if old_size > len(entries):
        return mismatch
    try:
        proof = core.audit_consistency(entries, old_size)
        checked = core.audit_verify_proof(proof, checkpoint)
    except el.EucoraLicenseError:
        return mismatch
    if not checked.get("ok"):
        return mismatch
    return result
