"""License intelligence (DESIGN Part C): alerts, recommendations, IT-04 events
and compliance rows over verified snapshots, driven by a hashed policy.

Each function returns what the CLI prints with ``--json`` (the document is
built once, in the Rust crate ``eucora-license-insight``), typed: money,
percentages and the spike numbers as ``Decimal``, dates as ``datetime.date``,
instants as aware UTC ``datetime``. ``to_dict()`` gives the engine's JSON
(IT-04 money numbers such as ``12.50`` as ``Decimal``, never ``float``) and
the reports' ``to_json()`` the exact text. The GIL is released while the
engine works.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeAlias

from . import _native
from ._convert import as_bytes, bad, parse_decimal, parse_instant, text, type_name
from ._model import Snapshot

__all__ = [
    "AdviceReport",
    "Alert",
    "AlertReport",
    "ComplianceAlertEvent",
    "ComplianceReport",
    "ComplianceRow",
    "CreatedEvent",
    "Event",
    "EventReport",
    "Evidence",
    "ExpiringEvent",
    "Policy",
    "PolicyRef",
    "Recommendation",
    "RenewedEvent",
    "advise",
    "alerts",
    "compliance_check",
    "events",
]

BytesLike: TypeAlias = bytes | bytearray | memoryview
HistoryItem: TypeAlias = Snapshot | bytes | bytearray | memoryview

# Facts that are decimal strings, dates or instants in the engine's JSON (C2, C3).
_DECIMAL_FACTS = frozenset({"utilization_percent", "baseline", "mad", "delta", "renewal_cost", "slope_per_day"})
_DATE_FACTS = frozenset({"ends_on", "projected_date"})
_INSTANT_FACTS = frozenset({"last_seen_at", "last_observed_at", "last_activity"})


def _loads(data: str) -> Any:
    # IT-04 money is a JSON number with two places: Decimal keeps it exact.
    return json.loads(data, parse_float=Decimal)


def _date(value: object) -> _dt.date | None:
    return None if value is None else _dt.date.fromisoformat(str(value))


def _instant(value: object) -> _dt.datetime:
    t = parse_instant(value)
    if t is None:
        raise ValueError("the engine returned no instant")
    return t


def _fact(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key in _DECIMAL_FACTS:
        return Decimal(str(value))
    if key in _DATE_FACTS:
        return _date(value)
    if key in _INSTANT_FACTS:
        return parse_instant(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def _facts(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType({k: _fact(k, v) for k, v in raw.items()})


def _subject(raw: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(raw))


def _copy(raw: Mapping[str, Any]) -> dict[str, Any]:
    # A deep copy that keeps Decimal money as Decimal.
    out: dict[str, Any] = {}
    for k, v in raw.items():
        out[k] = _copy(v) if isinstance(v, Mapping) else list(v) if isinstance(v, list) else v
    return out


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """A policy's identity as every output reports it."""

    id: str
    version: int
    hash: str
    """``sha256:<hex>``, the ``eucora.policy.v1`` hash of the whole document."""

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> PolicyRef:
        return cls(id=str(raw["id"]), version=int(raw["version"]), hash=str(raw["hash"]))

    def to_dict(self) -> dict[str, Any]:
        return {"hash": self.hash, "id": self.id, "version": self.version}


class Policy:
    """The intelligence policy (thresholds of alerts, the advisor's currency,
    access and approvals), validated strictly and hashed (``eucora.policy.v1``).

    ``Policy.default()`` is the shipped ``rulesets/default/policy-v1.json``;
    ``Policy.from_bytes(data)`` validates a document and raises
    :class:`InsightError` (code ``invalid_policy``, located by JSON path) when
    it is not valid.
    """

    __slots__ = ("_data", "_ref")

    def __init__(self, data: bytes | None, ref: PolicyRef) -> None:
        """Internal: use :meth:`default` or :meth:`from_bytes`."""
        self._data = data
        self._ref = ref

    @classmethod
    def default(cls) -> Policy:
        """The shipped default policy (``id`` ``default``, ``version`` 1)."""
        return cls(None, PolicyRef._from_json(json.loads(_native.policy_identity(None))))

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Policy:
        """A policy document's bytes (JSON), validated."""
        raw = as_bytes(data, "policy")
        return cls(raw, PolicyRef._from_json(json.loads(_native.policy_identity(raw))))

    @property
    def id(self) -> str:
        return self._ref.id

    @property
    def version(self) -> int:
        return self._ref.version

    @property
    def hash(self) -> str:
        """``sha256:<hex>`` over the canonical document."""
        return self._ref.hash

    @property
    def ref(self) -> PolicyRef:
        """``{id, version, hash}`` as a :class:`PolicyRef`."""
        return self._ref

    def to_bytes(self) -> bytes | None:
        """The document's bytes (``None`` for the shipped default)."""
        return self._data

    def __repr__(self) -> str:
        return f"Policy(id={self.id!r}, version={self.version}, hash={self.hash!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and other.hash == self.hash

    def __hash__(self) -> int:
        return hash(self.hash)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What an item rests on: snapshot hashes (oldest first), and unit keys
    and entitlement ids where the rule rests on them (``None`` otherwise)."""

    snapshots: tuple[str, ...]
    units: tuple[str, ...] | None = None
    entitlements: tuple[str, ...] | None = None

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> Evidence:
        units = raw.get("units")
        ents = raw.get("entitlements")
        return cls(
            snapshots=tuple(raw["snapshots"]),
            units=None if units is None else tuple(units),
            entitlements=None if ents is None else tuple(ents),
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert (C2). ``facts`` holds every number the message states
    (decimal strings as ``Decimal``, dates as ``date``, instants as
    ``datetime``, lists as tuples); ``alert_id`` is stable across runs for the
    same condition on the same subject."""

    alert_id: str
    type: str
    severity: str
    """``info``, ``warning`` or ``critical``."""
    subject: Mapping[str, str]
    as_of: _dt.datetime
    facts: Mapping[str, Any]
    evidence: Evidence
    message: str
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> Alert:
        return cls(
            alert_id=raw["alert_id"],
            type=raw["type"],
            severity=raw["severity"],
            subject=_subject(raw["subject"]),
            as_of=_instant(raw["as_of"]),
            facts=_facts(raw["facts"]),
            evidence=Evidence._from_json(raw["evidence"]),
            message=raw["message"],
            _raw=raw,
        )

    def to_dict(self) -> dict[str, Any]:
        """The engine's JSON of this alert (a fresh copy)."""
        return _copy(self._raw)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One recommendation (C3): data, never an action. ``amount`` is per the
    SKU's cost period, ``annualized`` over a year (a cost for ``purchase``,
    a saving otherwise); both ``None`` when no cost is known."""

    recommendation_id: str
    type: str
    subject: Mapping[str, str]
    quantity: int
    amount: Decimal | None
    annualized: Decimal | None
    currency: str
    rank: int
    facts: Mapping[str, Any]
    evidence: Evidence
    message: str
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> Recommendation:
        return cls(
            recommendation_id=raw["recommendation_id"],
            type=raw["type"],
            subject=_subject(raw["subject"]),
            quantity=int(raw["quantity"]),
            amount=parse_decimal(raw["amount"]),
            annualized=parse_decimal(raw["annualized"]),
            currency=raw["currency"],
            rank=int(raw["rank"]),
            facts=_facts(raw["facts"]),
            evidence=Evidence._from_json(raw["evidence"]),
            message=raw["message"],
            _raw=raw,
        )

    def to_dict(self) -> dict[str, Any]:
        """The engine's JSON of this recommendation (a fresh copy)."""
        return _copy(self._raw)


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    """One row of ``it_check_license_compliance`` (seed 003): a SKU."""

    license_id: str
    software_name: str | None
    license_count: int
    usage_count: int
    compliance_status: str
    variance: int
    variance_percent: Decimal | None
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> ComplianceRow:
        return cls(
            license_id=raw["license_id"],
            software_name=raw["software_name"],
            license_count=int(raw["license_count"]),
            usage_count=int(raw["usage_count"]),
            compliance_status=raw["compliance_status"],
            variance=int(raw["variance"]),
            variance_percent=parse_decimal(raw["variance_percent"]),
            _raw=raw,
        )

    def to_dict(self) -> dict[str, Any]:
        """The engine's JSON of this row (``variance_percent`` as ``Decimal``)."""
        return _copy(self._raw)


@dataclass(frozen=True, slots=True)
class ComplianceAlertEvent:
    """``it_license_compliance_alert``: an over-deployed (``threshold_breached``
    ``critical``) or highly utilised (``warning``) SKU."""

    event_type: str
    license_id: str
    organization_id: str
    timestamp: _dt.datetime
    software_name: str | None
    license_count: int
    usage_count: int
    compliance_status: str
    threshold_breached: str
    variance: int
    variance_percent: Decimal | None
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> ComplianceAlertEvent:
        return cls(
            event_type=raw["event_type"],
            license_id=raw["license_id"],
            organization_id=raw["organization_id"],
            timestamp=_instant(raw["timestamp"]),
            software_name=raw["software_name"],
            license_count=int(raw["license_count"]),
            usage_count=int(raw["usage_count"]),
            compliance_status=raw["compliance_status"],
            threshold_breached=raw["threshold_breached"],
            variance=int(raw["variance"]),
            variance_percent=parse_decimal(raw["variance_percent"]),
            _raw=raw,
        )

    def to_dict(self) -> dict[str, Any]:
        """The engine's payload (money as ``Decimal``)."""
        return _copy(self._raw)


@dataclass(frozen=True, slots=True)
class ExpiringEvent:
    """``it_license_expiring``: an entitlement within its notice period."""

    event_type: str
    license_id: str
    organization_id: str
    timestamp: _dt.datetime
    software_name: str | None
    software_vendor: str | None
    license_type: str | None
    license_count: int
    expiration_date: _dt.date
    days_remaining: int
    renewal_cost: Decimal | None
    """``None`` when no cost is known (the payload omits the field)."""
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> ExpiringEvent:
        expires = _date(raw["expiration_date"])
        if expires is None:
            raise ValueError("it_license_expiring without expiration_date")
        return cls(
            event_type=raw["event_type"],
            license_id=raw["license_id"],
            organization_id=raw["organization_id"],
            timestamp=_instant(raw["timestamp"]),
            software_name=raw["software_name"],
            software_vendor=raw["software_vendor"],
            license_type=raw["license_type"],
            license_count=int(raw["license_count"]),
            expiration_date=expires,
            days_remaining=int(raw["days_remaining"]),
            renewal_cost=parse_decimal(raw.get("renewal_cost")),
            _raw=raw,
        )

    def to_dict(self) -> dict[str, Any]:
        """The engine's payload (money as ``Decimal``)."""
        return _copy(self._raw)


@dataclass(frozen=True, slots=True)
class CreatedEvent:
    """``it_license_created``: an entitlement absent from the previous run."""

    event_type: str
    license_id: str
    organization_id: str
    timestamp: _dt.datetime
    software_name: str | None
    software_vendor: str | None
    license_type: str | None
    license_count: int
    purchase_date: _dt.date | None
    expiration_date: _dt.date | None
    """``None`` when the entitlement has no end (the payload omits the field)."""
    cost_per_license: Decimal | None
    total_cost: Decimal | None
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> CreatedEvent:
        return cls(
            event_type=raw["event_type"],
            license_id=raw["license_id"],
            organization_id=raw["organization_id"],
            timestamp=_instant(raw["timestamp"]),
            software_name=raw["software_name"],
            software_vendor=raw["software_vendor"],
            license_type=raw["license_type"],
            license_count=int(raw["license_count"]),
            purchase_date=_date(raw["purchase_date"]),
            expiration_date=_date(raw.get("expiration_date")),
            cost_per_license=parse_decimal(raw["cost_per_license"]),
            total_cost=parse_decimal(raw["total_cost"]),
            _raw=raw,
        )

    def to_dict(self) -> dict[str, Any]:
        """The engine's payload (money as ``Decimal``)."""
        return _copy(self._raw)


@dataclass(frozen=True, slots=True)
class RenewedEvent:
    """``it_license_renewed``: an entitlement whose end moved later."""

    event_type: str
    license_id: str
    organization_id: str
    timestamp: _dt.datetime
    software_name: str | None
    software_vendor: str | None
    old_expiration_date: _dt.date
    new_expiration_date: _dt.date
    renewal_date: _dt.date
    renewal_cost: Decimal | None
    renewed_by: str | None
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> RenewedEvent:
        dates = [_date(raw[k]) for k in ("old_expiration_date", "new_expiration_date", "renewal_date")]
        old, new, renewed = dates
        if old is None or new is None or renewed is None:
            raise ValueError("it_license_renewed without its dates")
        return cls(
            event_type=raw["event_type"],
            license_id=raw["license_id"],
            organization_id=raw["organization_id"],
            timestamp=_instant(raw["timestamp"]),
            software_name=raw["software_name"],
            software_vendor=raw["software_vendor"],
            old_expiration_date=old,
            new_expiration_date=new,
            renewal_date=renewed,
            renewal_cost=parse_decimal(raw["renewal_cost"]),
            renewed_by=raw["renewed_by"],
            _raw=raw,
        )

    def to_dict(self) -> dict[str, Any]:
        """The engine's payload (money as ``Decimal``)."""
        return _copy(self._raw)


Event: TypeAlias = ComplianceAlertEvent | ExpiringEvent | CreatedEvent | RenewedEvent

_EVENTS: dict[str, type[ComplianceAlertEvent] | type[ExpiringEvent] | type[CreatedEvent] | type[RenewedEvent]] = {
    "it_license_compliance_alert": ComplianceAlertEvent,
    "it_license_expiring": ExpiringEvent,
    "it_license_created": CreatedEvent,
    "it_license_renewed": RenewedEvent,
}


def _event(raw: Mapping[str, Any]) -> Event:
    return _EVENTS[str(raw["event_type"])]._from_json(raw)


@dataclass(frozen=True, slots=True)
class AlertReport:
    """The alerts of a history (the CLI's ``alerts --json``), in output order:
    severity descending, then type, then subject."""

    as_of: _dt.datetime
    policy: PolicyRef
    alerts: tuple[Alert, ...]
    _text: str = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """``{"alerts", "as_of", "policy"}`` as the engine writes it."""
        result: dict[str, Any] = _loads(self._text)
        return result

    def to_json(self) -> str:
        """The exact canonical text the CLI prints."""
        return self._text


@dataclass(frozen=True, slots=True)
class AdviceReport:
    """The ranked recommendations (the CLI's ``advise --json``)."""

    as_of: _dt.datetime
    policy: PolicyRef
    recommendations: tuple[Recommendation, ...]
    _text: str = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """``{"as_of", "policy", "recommendations"}`` as the engine writes it."""
        result: dict[str, Any] = _loads(self._text)
        return result

    def to_json(self) -> str:
        """The exact canonical text the CLI prints."""
        return self._text


@dataclass(frozen=True, slots=True)
class EventReport:
    """The IT-04 event payloads (the CLI's ``events --json``), ordered by
    ``event_type`` then ``license_id``."""

    as_of: _dt.datetime
    policy: PolicyRef
    events: tuple[Event, ...]
    _text: str = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """``{"as_of", "events", "policy"}`` (money as ``Decimal``)."""
        result: dict[str, Any] = _loads(self._text)
        return result

    def to_json(self) -> str:
        """The exact text the CLI prints (money with two decimals)."""
        return self._text


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    """The ``it_check_license_compliance`` rows of one run (the CLI's
    ``compliance --json``), in SKU order."""

    as_of: _dt.datetime
    policy: PolicyRef
    rows: tuple[ComplianceRow, ...]
    _text: str = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """``{"as_of", "policy", "rows"}`` (``variance_percent`` as ``Decimal``)."""
        result: dict[str, Any] = _loads(self._text)
        return result

    def to_json(self) -> str:
        """The exact text the CLI prints."""
        return self._text


def _history(history: object) -> list[bytes]:
    if isinstance(history, (str, bytes, bytearray, memoryview)) or not isinstance(history, Sequence):
        raise bad("history", f"expected a sequence of Snapshot objects or snapshot bytes, not {type_name(history)}")
    out: list[bytes] = []
    for i, item in enumerate(history):
        if isinstance(item, Snapshot):
            out.append(item.canonical_bytes())
        else:
            out.append(as_bytes(item, f"history[{i}]"))
    return out


def _policy_bytes(policy: object) -> bytes | None:
    if policy is None:
        return None
    if isinstance(policy, Policy):
        return policy.to_bytes()
    raise bad("policy", f"expected a Policy (Policy.default(), Policy.from_bytes(...)) or None, not {type_name(policy)}")


def _optional_text(value: object, where: str) -> str | None:
    return None if value is None else text(value, where)


def alerts(history: Sequence[HistoryItem], latest_pack: BytesLike, policy: Policy | None = None) -> AlertReport:
    """The alerts of C2 over ``history`` (the snapshots of one organisation,
    oldest first, each a :class:`Snapshot` or its bytes), the latest
    snapshot's evidence pack (bytes) and a policy (``None``: the default).

    Raises :class:`InsightError` (``invalid_policy``, ``chain_broken``,
    ``pack_invalid``, ``pack_mismatch``; ``.index`` the 1-based position of
    the offending snapshot) or :class:`InvalidInput`.
    """
    raw = _native.alerts(_history(history), as_bytes(latest_pack, "latest_pack"), _policy_bytes(policy))
    doc = _loads(raw)
    return AlertReport(
        as_of=_instant(doc["as_of"]),
        policy=PolicyRef._from_json(doc["policy"]),
        alerts=tuple(Alert._from_json(a) for a in doc["alerts"]),
        _text=raw,
    )


def advise(history: Sequence[HistoryItem], latest_pack: BytesLike, policy: Policy | None = None) -> AdviceReport:
    """The ranked recommendations of C3 (arguments and errors as :func:`alerts`)."""
    raw = _native.advise(_history(history), as_bytes(latest_pack, "latest_pack"), _policy_bytes(policy))
    doc = _loads(raw)
    return AdviceReport(
        as_of=_instant(doc["as_of"]),
        policy=PolicyRef._from_json(doc["policy"]),
        recommendations=tuple(Recommendation._from_json(r) for r in doc["recommendations"]),
        _text=raw,
    )


def events(
    history: Sequence[HistoryItem],
    latest_pack: BytesLike,
    policy: Policy | None = None,
    organization_uuid: str | None = None,
    renewed_by: str | None = None,
) -> EventReport:
    """The IT-04 event payloads of C4 (seed 003) for the latest run.
    ``organization_uuid`` is the host's UUID of the organisation (else one
    derived from its id); ``renewed_by`` the actor id written on renewals.
    Arguments and errors as :func:`alerts`."""
    raw = _native.events(
        _history(history),
        as_bytes(latest_pack, "latest_pack"),
        _policy_bytes(policy),
        _optional_text(organization_uuid, "organization_uuid"),
        _optional_text(renewed_by, "renewed_by"),
    )
    doc = _loads(raw)
    return EventReport(
        as_of=_instant(doc["as_of"]),
        policy=PolicyRef._from_json(doc["policy"]),
        events=tuple(_event(e) for e in doc["events"]),
        _text=raw,
    )


def compliance_check(
    snapshot: HistoryItem,
    organization_uuid: str | None = None,
    license_id: str | None = None,
    *,
    pack: BytesLike,
    policy: Policy | None = None,
) -> ComplianceReport:
    """``it_check_license_compliance``: one row per SKU of ``snapshot`` (or the
    one ``license_id`` names; an unknown id gives no row). The SKU names come
    from the run's evidence ``pack``, checked against the snapshot
    (``pack_invalid``, ``pack_mismatch``). ``policy`` is only reported."""
    snap = snapshot.canonical_bytes() if isinstance(snapshot, Snapshot) else as_bytes(snapshot, "snapshot")
    raw = _native.compliance(
        snap,
        as_bytes(pack, "pack"),
        _optional_text(license_id, "license_id"),
        _optional_text(organization_uuid, "organization_uuid"),
        _policy_bytes(policy),
    )
    doc = _loads(raw)
    return ComplianceReport(
        as_of=_instant(doc["as_of"]),
        policy=PolicyRef._from_json(doc["policy"]),
        rows=tuple(ComplianceRow._from_json(r) for r in doc["rows"]),
        _text=raw,
    )
