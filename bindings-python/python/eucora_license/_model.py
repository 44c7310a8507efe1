"""Read-only result objects: snapshots, reports, proofs, sidebar states.

Every object here is immutable (frozen dataclasses, read-only mappings) and
safe to share between threads. Counts are ``int``, percentages ``Decimal``,
instants aware UTC ``datetime``, durations ``timedelta``. ``to_dict()``
returns the engine's own JSON (plain ``str``/``int``/``None`` values) for
storage or re-hashing.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from . import _native
from ._convert import as_bytes, parse_decimal, parse_instant
from ._errors import ErrorDetail, _detail

__all__ = [
    "AdapterInfo",
    "AdapterJob",
    "Check",
    "Coverage",
    "DirectoryEntry",
    "ExceptionRecord",
    "ImportJob",
    "ImportResult",
    "ImportSummary",
    "PoolRecord",
    "Proof",
    "RowError",
    "RulesetInfo",
    "RulesetRef",
    "RunReport",
    "SidebarReason",
    "SidebarState",
    "SkuChange",
    "SkuRecord",
    "Snapshot",
    "Diff",
    "Totals",
    "VerifyReport",
]


def _frozen_json(value: Any) -> Any:
    """JSON data as read-only containers (mappings become MappingProxyType, lists tuples)."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen_json(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen_json(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Totals:
    """Counters summed over SKUs (``totals``, ``by_model``, sidebar counters)."""

    entitled: int
    reserved: int
    reserved_effective: int
    consumed: int
    remaining: int
    available: int
    variance: int

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> Totals:
        return cls(
            entitled=int(d.get("entitled", 0)),
            reserved=int(d.get("reserved", 0)),
            reserved_effective=int(d.get("reserved_effective", 0)),
            consumed=int(d.get("consumed", 0)),
            remaining=int(d.get("remaining", 0)),
            available=int(d.get("available", 0)),
            variance=int(d.get("variance", 0)),
        )


@dataclass(frozen=True, slots=True)
class PoolRecord:
    """One pool of a SKU; ``pool`` and ``scope`` are ``None`` for ``unpooled``."""

    pool: str | None
    scope: str | None
    entitled: int
    reserved: int
    reserved_effective: int
    consumed: int
    remaining: int
    available: int
    variance: int
    variance_percent: Decimal | None
    compliance_status: str

    @property
    def name(self) -> str:
        """The pool id, or ``"unpooled"``."""
        return self.pool if self.pool is not None else "unpooled"

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> PoolRecord:
        return cls(
            pool=d.get("pool"),
            scope=d.get("scope"),
            entitled=int(d["entitled"]),
            reserved=int(d["reserved"]),
            reserved_effective=int(d["reserved_effective"]),
            consumed=int(d["consumed"]),
            remaining=int(d["remaining"]),
            available=int(d["available"]),
            variance=int(d["variance"]),
            variance_percent=parse_decimal(d.get("variance_percent")),
            compliance_status=str(d["compliance_status"]),
        )


@dataclass(frozen=True, slots=True)
class SkuRecord:
    """The counters of one SKU (a leaf of ``skus_root``)."""

    sku: str
    model: str
    entitled: int
    reserved: int
    reserved_effective: int
    consumed: int
    remaining: int
    available: int
    variance: int
    variance_percent: Decimal | None
    compliance_status: str
    units: int
    units_root: str
    pools: tuple[PoolRecord, ...]

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> SkuRecord:
        return cls(
            sku=str(d["sku"]),
            model=str(d["model"]),
            entitled=int(d["entitled"]),
            reserved=int(d["reserved"]),
            reserved_effective=int(d["reserved_effective"]),
            consumed=int(d["consumed"]),
            remaining=int(d["remaining"]),
            available=int(d["available"]),
            variance=int(d["variance"]),
            variance_percent=parse_decimal(d.get("variance_percent")),
            compliance_status=str(d["compliance_status"]),
            units=int(d.get("units", 0)),
            units_root=str(d.get("units_root", "")),
            pools=tuple(PoolRecord._from_json(p) for p in d.get("pools", [])),
        )


@dataclass(frozen=True, slots=True)
class RulesetRef:
    """The ruleset a snapshot was computed with."""

    id: str
    version: int
    hash: str


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """One input file of a snapshot (``imports``)."""

    job_id: str
    source: str
    adapter: str
    adapter_version: str
    path: str
    input_hash: str
    rows_total: int
    rows_accepted: int
    rows_rejected: int

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> ImportSummary:
        return cls(
            job_id=str(d["job_id"]),
            source=str(d.get("source", "")),
            adapter=str(d.get("adapter", "")),
            adapter_version=str(d.get("adapter_version", "")),
            path=str(d.get("path", "")),
            input_hash=str(d["input_hash"]),
            rows_total=int(d["rows_total"]),
            rows_accepted=int(d["rows_accepted"]),
            rows_rejected=int(d["rows_rejected"]),
        )


@dataclass(frozen=True, slots=True)
class Coverage:
    """What one source reported: ``status`` is ``ok``, ``missing`` or ``degraded``."""

    status: str
    signals: int
    last_observed_at: _dt.datetime | None


@dataclass(frozen=True, slots=True)
class SkuChange:
    """How one SKU changed since the previous run.

    ``delta`` holds the counter changes (``entitled``, ``reserved``,
    ``consumed``, ``remaining``, ``available``). With a unit-level diff
    (``basis == "units"``), ``added`` and ``removed`` count the units by
    reason code (``new_signal``, ``aged_out``, ``revoked``, ...),
    ``entitlements`` the entitlement changes by reason, and ``consumed`` and
    ``entitled`` hold ``previous`` and ``current``; with
    ``basis == "counters"`` the counts are empty and those two ``None``.
    """

    sku: str
    model: str | None
    delta: Mapping[str, int]
    added: Mapping[str, int]
    removed: Mapping[str, int]
    entitlements: Mapping[str, int]
    consumed: Mapping[str, int] | None
    entitled: Mapping[str, int] | None

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> SkuChange:
        def counts(m: Any) -> Mapping[str, int]:
            return MappingProxyType({str(k): int(v) for k, v in (m or {}).items()})

        return cls(
            sku=str(d["sku"]),
            model=d.get("model"),
            delta=counts(d.get("delta")),
            added=counts(d.get("added")),
            removed=counts(d.get("removed")),
            entitlements=counts(d.get("entitlements")),
            consumed=None if d.get("consumed") is None else counts(d.get("consumed")),
            entitled=None if d.get("entitled") is None else counts(d.get("entitled")),
        )


@dataclass(frozen=True, slots=True)
class Diff:
    """What changed since a previous run (the snapshot's ``diff``, or :func:`eucora_license.diff`).

    ``basis`` is ``units`` (reasons per unit: the run was chained to the
    previous evidence pack) or ``counters`` (counter deltas only). ``units``
    holds the unit lists (each unit's key, reason, weight and sources) when
    :func:`eucora_license.diff` was given the current run's evidence pack.
    """

    basis: str
    previous_hash: str
    previous_sequence: int
    ruleset_changed: bool | None
    skus: tuple[SkuChange, ...]
    coverage_gaps: tuple[Mapping[str, Any], ...]
    units: Mapping[str, Any] | None
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, d: Mapping[str, Any], units: Any = None) -> Diff:
        rc = d.get("ruleset_changed")
        return cls(
            basis=str(d.get("basis", "")),
            previous_hash=str(d.get("previous_hash", "")),
            previous_sequence=int(d.get("previous_sequence", 0)),
            ruleset_changed=None if rc is None else bool(rc),
            skus=tuple(SkuChange._from_json(x) for x in d.get("skus", [])),
            coverage_gaps=tuple(_frozen_json(g) for g in d.get("coverage_gaps", []) or []),
            units=None if units is None else _frozen_json(units),
            _raw=_frozen_json(dict(d)),
        )

    def sku(self, sku_id: str) -> SkuChange | None:
        """The change of one SKU, or ``None`` when it did not change."""
        return next((c for c in self.skus if c.sku == sku_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The diff as the engine's JSON (with ``units`` when present, as the CLI's ``diff --json``)."""
        body: dict[str, Any] = _thaw(self._raw)
        return body if self.units is None else {"summary": body, "units": _thaw(self.units)}


class Snapshot:
    """A sealed, hash-chained snapshot (read-only).

    Attribute access mirrors ``snapshot.json`` (DESIGN A6) with Python types.
    Build one from bytes with :meth:`from_bytes` (the hash is verified).
    Instances are immutable and safe to share between threads.
    """

    __slots__ = (
        "_bytes",
        "_data",
        "hash",
        "schema",
        "organization_id",
        "sequence",
        "previous_hash",
        "reconciled_at",
        "run_id",
        "ruleset",
        "imports",
        "coverage",
        "health",
        "health_reasons",
        "totals",
        "by_model",
        "skus",
        "skus_root",
        "diff",
        "exceptions_summary",
        "_index",
    )

    _bytes: bytes
    _data: dict[str, Any]
    _index: Mapping[str, SkuRecord]
    hash: str
    """``snapshot_hash``: ``sha256:<hex>``."""
    schema: str
    organization_id: str
    sequence: int
    previous_hash: str | None
    reconciled_at: _dt.datetime
    run_id: str
    ruleset: RulesetRef
    imports: tuple[ImportSummary, ...]
    coverage: Mapping[str, Coverage]
    health: str
    health_reasons: tuple[str, ...]
    totals: Totals
    by_model: Mapping[str, Totals]
    skus: tuple[SkuRecord, ...]
    skus_root: str
    diff: Diff | None
    exceptions_summary: Mapping[str, int]

    def __init__(self, canonical: bytes, snapshot_hash: str) -> None:
        """Internal: use :meth:`from_bytes` or ``Result.snapshot``."""
        d: dict[str, Any] = json.loads(canonical)
        s = object.__setattr__
        s(self, "_bytes", canonical)
        s(self, "_data", d)
        s(self, "hash", snapshot_hash)
        s(self, "schema", str(d.get("schema", "")))
        s(self, "organization_id", str(d.get("organization_id", "")))
        s(self, "sequence", int(d.get("sequence", 0)))
        s(self, "previous_hash", d.get("previous_hash"))
        s(self, "reconciled_at", parse_instant(d.get("reconciled_at")))
        s(self, "run_id", str(d.get("run_id", "")))
        rs = d.get("ruleset") or {}
        s(self, "ruleset", RulesetRef(str(rs.get("id", "")), int(rs.get("version", 0)), str(rs.get("hash", ""))))
        s(self, "imports", tuple(ImportSummary._from_json(j) for j in d.get("imports", [])))
        cov = {
            k: Coverage(str(v.get("status", "")), int(v.get("signals", 0)), parse_instant(v.get("last_observed_at")))
            for k, v in (d.get("coverage") or {}).items()
        }
        s(self, "coverage", MappingProxyType(cov))
        s(self, "health", str(d.get("health", "")))
        s(self, "health_reasons", tuple(str(r) for r in d.get("health_reasons", [])))
        s(self, "totals", Totals._from_json(d.get("totals") or {}))
        s(self, "by_model", MappingProxyType({k: Totals._from_json(v) for k, v in (d.get("by_model") or {}).items()}))
        skus = tuple(SkuRecord._from_json(r) for r in d.get("skus", []))
        s(self, "skus", skus)
        s(self, "_index", MappingProxyType({r.sku: r for r in skus}))
        s(self, "skus_root", str(d.get("skus_root", "")))
        diff = d.get("diff")
        s(self, "diff", None if diff is None else Diff._from_json(diff))
        s(self, "exceptions_summary", MappingProxyType({k: int(v) for k, v in (d.get("exceptions_summary") or {}).items()}))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Snapshot is read-only (cannot set `{name}`)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Snapshot is read-only (cannot delete `{name}`)")

    @classmethod
    def from_bytes(cls, data: bytes) -> Snapshot:
        """Load snapshot JSON (canonical or not) and verify its ``snapshot_hash``.

        Raises :class:`IntegrityError` (code ``previous_snapshot_invalid``)
        when the bytes are not a snapshot or the hash does not match.
        """
        canonical, h = _native.load_snapshot(as_bytes(data, "snapshot"))
        return cls(canonical, h)

    def canonical_bytes(self) -> bytes:
        """The canonical (RFC 8785) bytes: what the CLI writes as ``snapshot.json``."""
        return self._bytes

    def to_json(self) -> str:
        """The canonical JSON text."""
        return self._bytes.decode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as plain JSON data (a fresh copy)."""
        result: dict[str, Any] = json.loads(self._bytes)
        return result

    def sku(self, sku_id: str) -> SkuRecord | None:
        """The record of one SKU, or ``None``."""
        return self._index.get(sku_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and other.hash == self.hash

    def __hash__(self) -> int:
        return hash(self.hash)

    def __repr__(self) -> str:
        return (
            f"<Snapshot {self.organization_id} #{self.sequence} {self.reconciled_at.isoformat()} "
            f"health={self.health} {self.hash}>"
        )


@dataclass(frozen=True, slots=True)
class RowError:
    """A rejected input row: 1-based line, column, stable code, message."""

    line: int
    column: str
    code: str
    message: str

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> RowError:
        return cls(int(d.get("line", 0)), str(d.get("column", "")), str(d.get("code", "")), str(d.get("message", "")))


@dataclass(frozen=True, slots=True)
class ImportJob:
    """One input file of a run, with its row errors (``run_report.json`` ``imports``)."""

    job_id: str
    source: str
    adapter: str
    adapter_version: str
    path: str
    input_hash: str
    bytes: int
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    errors: tuple[RowError, ...]
    warnings: tuple[str, ...]

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> ImportJob:
        return cls(
            job_id=str(d.get("job_id", "")),
            source=str(d.get("source", "")),
            adapter=str(d.get("adapter", "")),
            adapter_version=str(d.get("adapter_version", "")),
            path=str(d.get("path", "")),
            input_hash=str(d.get("input_hash", "")),
            bytes=int(d.get("bytes", 0)),
            rows_total=int(d.get("rows_total", 0)),
            rows_accepted=int(d.get("rows_accepted", 0)),
            rows_rejected=int(d.get("rows_rejected", 0)),
            errors=tuple(RowError._from_json(e) for e in d.get("errors", [])),
            warnings=tuple(str(w) for w in d.get("warnings", [])),
        )


@dataclass(frozen=True, slots=True)
class RunReport:
    """A run report (``run_report.json``): of a successful run, or of a run
    that failed closed (then ``status == "failed"``, ``reasons`` and
    ``errors`` say why, and there is no snapshot)."""

    schema: str
    status: str
    organization_id: str | None
    run_id: str | None
    reconciled_at: _dt.datetime | None
    ruleset: RulesetRef | None
    reasons: tuple[str, ...]
    errors: tuple[ErrorDetail, ...]
    health_reasons: tuple[str, ...]
    imports: tuple[ImportJob, ...]
    exceptions: Mapping[str, int]
    warnings: tuple[str, ...]
    entitlement_observations: tuple[Mapping[str, Any], ...]
    sequence: int | None
    snapshot_hash: str | None
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> RunReport:
        rs = d.get("ruleset")
        seq = d.get("sequence")
        return cls(
            schema=str(d.get("schema", "")),
            status=str(d.get("status", "")),
            organization_id=d.get("organization_id"),
            run_id=d.get("run_id"),
            reconciled_at=parse_instant(d.get("reconciled_at")),
            ruleset=None if not rs else RulesetRef(str(rs["id"]), int(rs["version"]), str(rs["hash"])),
            reasons=tuple(str(r) for r in d.get("reasons", [])),
            errors=tuple(_detail(e) for e in d.get("errors", [])),
            health_reasons=tuple(str(r) for r in d.get("health_reasons", []) or []),
            imports=tuple(ImportJob._from_json(j) for j in d.get("imports", [])),
            exceptions=MappingProxyType({k: int(v) for k, v in (d.get("exceptions") or {}).items()}),
            warnings=tuple(str(w) for w in d.get("warnings", [])),
            entitlement_observations=tuple(_frozen_json(o) for o in d.get("entitlement_observations", []) or []),
            sequence=None if seq is None else int(seq),
            snapshot_hash=d.get("snapshot_hash"),
            _raw=_frozen_json(dict(d)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON data (a fresh copy)."""
        result: dict[str, Any] = _thaw(self._raw)
        return result

    def to_json(self) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True)
class ExceptionRecord:
    """A signal (or alias) excluded or flagged by the run (``exceptions.jsonl``)."""

    code: str
    source: str
    raw_id: str
    detail: str


@dataclass(frozen=True, slots=True)
class Check:
    """One verification check: ``status`` is ``passed``, ``failed`` or ``skipped``."""

    name: str
    status: str
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The result of :func:`eucora_license.verify`."""

    ok: bool
    first_failure: str | None
    checks: tuple[Check, ...]
    snapshot_hash: str | None

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> VerifyReport:
        return cls(
            ok=bool(d["ok"]),
            first_failure=d.get("first_failure"),
            checks=tuple(Check(str(c["name"]), str(c["status"]), str(c["detail"])) for c in d.get("checks", [])),
            snapshot_hash=d.get("snapshot_hash"),
        )


@dataclass(frozen=True, slots=True)
class Proof:
    """One SKU's inclusion proof: its record and the Merkle audit path to ``skus_root``."""

    sku: str
    record: SkuRecord
    index: int
    tree_size: int
    path: tuple[str, ...]
    skus_root: str
    snapshot_hash: str
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> Proof:
        return cls(
            sku=str(d["sku"]),
            record=SkuRecord._from_json(d["record"]),
            index=int(d["index"]),
            tree_size=int(d["tree_size"]),
            path=tuple(str(p) for p in d["path"]),
            skus_root=str(d["skus_root"]),
            snapshot_hash=str(d["snapshot_hash"]),
            _raw=_frozen_json(dict(d)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The proof as JSON data, as the CLI's ``prove`` prints it."""
        result: dict[str, Any] = _thaw(self._raw)
        return result

    def to_json(self) -> str:
        """The proof as JSON text (hand it to an auditor; :func:`verify_proof` reads it)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True)
class SidebarReason:
    """Why the sidebar is not ``ok``: ``code`` is ``reconciliation_failed``
    (with the failed run's ``reasons``), ``never_reconciled``, ``stale`` (with
    ``limit``) or ``source_degraded`` (with ``coverage_gaps``)."""

    code: str
    reasons: tuple[str, ...] = ()
    coverage_gaps: tuple[str, ...] = ()
    limit: _dt.timedelta | None = None


@dataclass(frozen=True, slots=True)
class SidebarState:
    """The sidebar (DESIGN A8): ``state`` is ``ok``, ``degraded``, ``stale`` or
    ``failed``; counters always come from the latest successful snapshot."""

    state: str
    reason: SidebarReason | None
    counters: Totals | None
    last_reconciled_at: _dt.datetime | None
    last_success_at: _dt.datetime | None
    stale_for: _dt.timedelta | None
    snapshot_hash: str | None
    now: _dt.datetime
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> SidebarState:
        r = d.get("reason")
        reason = None
        if r:
            limit = r.get("limit_seconds")
            reason = SidebarReason(
                code=str(r["code"]),
                reasons=tuple(str(x) for x in r.get("reasons", [])),
                coverage_gaps=tuple(str(x) for x in r.get("coverage_gaps", [])),
                limit=None if limit is None else _dt.timedelta(seconds=int(limit)),
            )
        counters = d.get("counters")
        stale = d.get("stale_seconds")
        now = parse_instant(d["now"])
        assert now is not None
        return cls(
            state=str(d["state"]),
            reason=reason,
            counters=None if counters is None else Totals._from_json(counters),
            last_reconciled_at=parse_instant(d.get("last_reconciled_at")),
            last_success_at=parse_instant(d.get("last_success_at")),
            stale_for=None if stale is None else _dt.timedelta(seconds=int(stale)),
            snapshot_hash=d.get("snapshot_hash"),
            now=now,
            _raw=_frozen_json(dict(d)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The state as the engine's JSON (as the CLI's ``sidebar`` prints it)."""
        result: dict[str, Any] = _thaw(self._raw)
        return result


@dataclass(frozen=True, slots=True)
class RulesetInfo:
    """A valid ruleset's identity."""

    id: str
    version: int
    hash: str


@dataclass(frozen=True, slots=True)
class AdapterInfo:
    """A source adapter: folder name under ``imports/``, version, source system, option keys."""

    name: str
    version: str
    source: str
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdapterJob:
    """What an adapter read from one input file."""

    path: str
    input_hash: str
    records: int
    signals: int
    rejected: int
    errors: tuple[RowError, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """An identity fact from an adapter (like a ``directory.csv`` row).

    Directory sources (``entra-users``, ``ad-users``, ``okta-users``) also give
    the account's ``status`` (``"active"`` / ``"disabled"``) and
    ``last_active_at`` (RFC 3339 text); ``""`` means unknown.
    """

    principal_type: str
    canonical_id: str
    alias: str
    status: str = ""
    last_active_at: str = ""


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The output of :func:`eucora_license.import_file`.

    ``signals`` are canonical signal rows as the engine's text (instants as
    RFC 3339 strings, kept to the nanosecond; every column present, ``""`` when empty):
    exactly the lines of :meth:`signals_jsonl`, which a :class:`Bundle`
    accepts as a signal file.
    """

    adapter: str
    adapter_version: str
    source: str
    signals: tuple[Mapping[str, str], ...]
    jobs: tuple[AdapterJob, ...]
    directory: tuple[DirectoryEntry, ...]
    entitlement_observations: tuple[Mapping[str, Any], ...]
    _jsonl: bytes = field(repr=False, compare=False)

    def signals_jsonl(self) -> bytes:
        """The signals as canonical JSON Lines (what the CLI's ``import`` prints)."""
        return self._jsonl
