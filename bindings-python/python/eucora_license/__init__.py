"""eucora_license: deterministic license reconciliation for Python hosts.

Entitlements + consumption signals + a versioned ruleset in; a canonical,
hash-chained snapshot (and an evidence pack anyone can re-verify offline)
out. The engine is the Rust core ``eucora-license-core``; this package
converts types and maps errors, nothing more.

>>> import eucora_license
>>> result = eucora_license.reconcile("fixtures/demo")      # doctest: +SKIP
>>> result.snapshot.totals.consumed                          # doctest: +SKIP
46

Instants are timezone-aware ``datetime`` (naive ones are refused), money and
percentages ``Decimal``, counts ``int``. Errors derive from
:class:`EucoraLicenseError` (a ``ValueError``) and carry the engine's stable
``code``. The GIL is released while the engine works. See ``docs/python.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import _native
from ._agents import AgentResult, replay_agent, run_agent
from ._api import (
    Result,
    SupportsWrite,
    adapters,
    diff,
    explain,
    hash_ruleset,
    import_file,
    pack_archive,
    prove,
    reconcile,
    sidebar,
    validate_ruleset,
    verify,
    verify_proof,
)
from ._bundle import Bundle
from ._errors import (
    AgentError,
    ErrorDetail,
    EucoraLicenseError,
    GovernanceError,
    InsightError,
    IntegrityError,
    InternalError,
    InvalidInput,
    Location,
    RulesetError,
    RulesetIssue,
    VerificationError,
    error_class,
)
from ._governance import (
    apply,
    audit_append,
    audit_checkpoint,
    audit_consistency,
    audit_prove,
    audit_verify,
    audit_verify_proof,
    authorize,
    canonical_entry_line,
    decide,
    parse_log,
    payload_hash,
    propose,
)
from ._insight import (
    AdviceReport,
    Alert,
    AlertReport,
    ComplianceAlertEvent,
    ComplianceReport,
    ComplianceRow,
    CreatedEvent,
    Event,
    EventReport,
    Evidence,
    ExpiringEvent,
    Policy,
    PolicyRef,
    Recommendation,
    RenewedEvent,
    advise,
    alerts,
    compliance_check,
    events,
)
from ._model import (
    AdapterInfo,
    AdapterJob,
    Check,
    Coverage,
    Diff,
    DirectoryEntry,
    ExceptionRecord,
    ImportJob,
    ImportResult,
    ImportSummary,
    PoolRecord,
    Proof,
    RowError,
    RulesetInfo,
    RulesetRef,
    RunReport,
    SidebarReason,
    SidebarState,
    SkuChange,
    SkuRecord,
    Snapshot,
    Totals,
    VerifyReport,
)

__version__: str = _native.__version__

ERROR_CODES: Mapping[str, int] = MappingProxyType({name: number for number, name in _native.error_codes()})
"""The engine's stable error codes: name -> number (never renumbered)."""

VOCABULARY: Mapping[str, tuple[str, ...]] = MappingProxyType({table: tuple(names) for table, names in _native.vocabulary()})
"""The engine's closed vocabularies: table name (``exception_codes``, ``diff_reasons``,
``compliance_statuses``, ``health_states``, ``sidebar_states``, ``sidebar_reasons``,
``coverage_statuses``, ``run_statuses``, ``device_key_prefixes``, and governance's ``roles``,
``actions``, ``agents``, ``authorize_reasons``, ``approval_refusals``, ``proposal_kinds``,
``proposal_states``, ...) -> its stable names in
declaration order (for ``diff_reasons``, the order of precedence)."""

__all__ = [
    "ERROR_CODES",
    "VOCABULARY",
    "AdapterInfo",
    "AdapterJob",
    "AgentError",
    "AgentResult",
    "GovernanceError",
    "Bundle",
    "Check",
    "Coverage",
    "DirectoryEntry",
    "ErrorDetail",
    "EucoraLicenseError",
    "ExceptionRecord",
    "ImportJob",
    "ImportResult",
    "ImportSummary",
    "InsightError",
    "IntegrityError",
    "InternalError",
    "InvalidInput",
    "Location",
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
    "PoolRecord",
    "Proof",
    "Result",
    "RowError",
    "RulesetError",
    "RulesetInfo",
    "RulesetIssue",
    "RulesetRef",
    "RunReport",
    "SidebarReason",
    "SidebarState",
    "SkuChange",
    "SkuRecord",
    "Snapshot",
    "Diff",
    "SupportsWrite",
    "Totals",
    "VerificationError",
    "VerifyReport",
    "__version__",
    "adapters",
    "advise",
    "alerts",
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
    "replay_agent",
    "run_agent",
    "compliance_check",
    "diff",
    "error_class",
    "events",
    "explain",
    "hash_ruleset",
    "import_file",
    "pack_archive",
    "prove",
    "reconcile",
    "sidebar",
    "validate_ruleset",
    "verify",
    "verify_proof",
]
