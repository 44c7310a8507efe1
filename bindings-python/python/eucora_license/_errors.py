"""Errors of the engine, one class per family, chosen by the stable code.

Every class derives from :class:`EucoraLicenseError`, itself a ``ValueError``,
so ``except ValueError`` (and DRF's ``except Exception``) catch them all. A
Rust panic never escapes as PyO3's ``PanicException``: it is raised as
:class:`InternalError` with code ``internal``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._model import RunReport, VerifyReport

__all__ = [
    "AgentError",
    "EucoraLicenseError",
    "ErrorDetail",
    "GovernanceError",
    "InsightError",
    "IntegrityError",
    "InternalError",
    "InvalidInput",
    "Location",
    "RulesetError",
    "RulesetIssue",
    "VerificationError",
]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem was found: a bundle file, a 1-based line, a column or
    JSON path (for dict-based bundles, the Python path, e.g.
    ``signals[3].quantity``). Each part may be missing."""

    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = self.file or ""
        if self.line is not None:
            parts += f":{self.line}"
        if self.field:
            parts += f" [{self.field}]" if parts else f"[{self.field}]"
        return parts


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One error of a failed run (``run_report.json`` ``errors``)."""

    code: str
    message: str
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class RulesetIssue:
    """One ruleset validation problem: JSON path, stable code, message."""

    path: str
    code: str
    message: str


class EucoraLicenseError(ValueError):
    """Base class of every error raised by :mod:`eucora_license`.

    Attributes:
        code: the engine's stable snake_case code (``invalid_input``,
            ``invalid_ruleset``, ``catalog_integrity``, ...; see
            :data:`eucora_license.ERROR_CODES`), or ``verification_failed``
            for packs and proofs that do not verify.
        location: where the problem is, when known.
        message: the human-readable message (never echoes secret values).
        errors: for a run that failed closed, every error of the run.
        report: for a run that failed closed, its run report (what the CLI
            writes as ``run_report.json``); feed it to
            :func:`eucora_license.sidebar` as ``last_run``.
    """

    default_code = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        location: Location | None = None,
        errors: tuple[ErrorDetail, ...] = (),
        report: RunReport | None = None,
    ) -> None:
        self.code: str = code or self.default_code
        self.location: Location | None = location
        self.message: str = message
        self.errors: tuple[ErrorDetail, ...] = errors
        self.report: RunReport | None = report
        super().__init__(self._text())

    def _text(self) -> str:
        where = str(self.location) if self.location else ""
        return f"{self.code}: {where + ': ' if where else ''}{self.message}"

    def __str__(self) -> str:
        return self._text()


class InvalidInput(EucoraLicenseError):
    """Unusable input: a missing file or key, malformed JSON/CSV, a wrong
    Python type (a ``str`` where ``bytes`` are expected, a ``float``
    quantity, a naive ``datetime``). Codes ``invalid_input``, ``non_canonical``."""

    default_code = "invalid_input"


class RulesetError(EucoraLicenseError):
    """The ruleset is missing or invalid (code ``invalid_ruleset``).
    ``issues`` lists every problem with its JSON path when known."""

    default_code = "invalid_ruleset"

    def __init__(self, message: str, *, issues: tuple[RulesetIssue, ...] = (), **kw: Any) -> None:
        self.issues: tuple[RulesetIssue, ...] = issues
        super().__init__(message, **kw)


class IntegrityError(EucoraLicenseError):
    """The run failed closed on an integrity reason: ``catalog_integrity``,
    ``conflicting_duplicate``, ``previous_snapshot_invalid`` (also raised
    for snapshot bytes whose hash does not verify) or
    ``reject_threshold_exceeded``."""

    default_code = "catalog_integrity"


class VerificationError(EucoraLicenseError):
    """An evidence pack or an inclusion proof does not verify (code
    ``verification_failed``). ``check`` names the first failed check;
    ``verify_report`` holds every check of a pack verification."""

    default_code = "verification_failed"

    def __init__(
        self, message: str, *, check: str | None = None, verify_report: VerifyReport | None = None, **kw: Any
    ) -> None:
        self.check: str | None = check
        self.verify_report: VerifyReport | None = verify_report
        super().__init__(message, **kw)


class InsightError(EucoraLicenseError):
    """A contract error of the intelligence functions (``alerts``, ``advise``,
    ``events``, ``compliance_check``, ``Policy.from_bytes``; DESIGN C6):
    ``invalid_policy`` (the policy document is invalid; the message names the
    JSON path), ``chain_broken`` (a snapshot of the history does not verify,
    does not link to the one before, skips a sequence number or belongs to
    another organisation), ``pack_invalid`` (the latest evidence pack fails
    its integrity checks) or ``pack_mismatch`` (the pack is another
    snapshot's). ``index`` is the 1-based position of the offending snapshot
    in the history (the latest for pack errors), ``None`` for
    ``invalid_policy``."""

    default_code = "chain_broken"

    def __init__(self, message: str, *, index: int | None = None, **kw: Any) -> None:
        self.index: int | None = index
        super().__init__(message, **kw)

    def _text(self) -> str:
        where = f" (snapshot {self.index})" if self.index is not None else ""
        return f"{self.code}{where}: {self.message}"


class GovernanceError(EucoraLicenseError):
    """A contract error of governance (DESIGN Part D: ``authorize``,
    ``propose``, ``decide``, ``apply``, the audit chain and its proofs).
    ``code`` is the governance crate's stable code, exactly as the CLI
    prints it in ``{"error": {"code"}}``: a D1 refusal reason when
    ``propose`` refuses the proposer (``role_lacks_action``,
    ``conflicting_roles``, ...), ``policy_mismatch``, ``already_applied``,
    the proposal's state when ``apply`` finds it not approved (``pending``,
    ``rejected``, ``expired``), or a malformed input (``invalid_actor``,
    ``unknown_role``, ``unknown_action``, ``unknown_agent``,
    ``unknown_kind``, ``invalid_payload``, ``invalid_proposal``,
    ``invalid_approval``, ``invalid_instant``, ``invalid_policy``,
    ``invalid_entry``, ``invalid_checkpoint``, ``out_of_range``, or an audit
    failure such as ``entry_hash_mismatch`` for a log that does not
    verify). ``location.field`` is the JSON path of the offending value
    when known. A "no" from :func:`eucora_license.authorize` is a value,
    never this error."""

    default_code = "invalid_input"

    def _text(self) -> str:
        where = f" at {self.location.field}" if self.location and self.location.field else ""
        return f"{self.code}{where}: {self.message}"


class AgentError(EucoraLicenseError):
    """A contract error of the agents (DESIGN D4: ``run_agent``,
    ``replay_agent``): ``unknown_agent``, ``invalid_actor``,
    ``invalid_instant``, ``invalid_run`` (a run record that cannot be
    read), ``inputs_mismatch`` (replay given other inputs than the run
    recorded) or ``replay_mismatch`` (the recorded outputs are not
    reproduced byte for byte). A refused action, a failed model call or an
    invalid model answer is *not* an error: it is a failed or fallback step
    of the run (``AgentResult.run["steps"]``)."""

    default_code = "invalid_run"


class InternalError(EucoraLicenseError):
    """A bug inside the engine (code ``internal``), including a Rust panic
    caught at the boundary. The process and the module stay usable."""

    default_code = "internal"


_FAMILIES: dict[str, type[EucoraLicenseError]] = {
    "invalid_input": InvalidInput,
    "non_canonical": InvalidInput,
    "invalid_ruleset": RulesetError,
    "catalog_integrity": IntegrityError,
    "conflicting_duplicate": IntegrityError,
    "previous_snapshot_invalid": IntegrityError,
    "reject_threshold_exceeded": IntegrityError,
    "verification_failed": VerificationError,
    "invalid_policy": InsightError,
    "chain_broken": InsightError,
    "pack_invalid": InsightError,
    "pack_mismatch": InsightError,
    "internal": InternalError,
}


def error_class(code: str) -> type[EucoraLicenseError]:
    """The exception class of a stable code (unknown codes: the base class)."""
    return _FAMILIES.get(code, EucoraLicenseError)


def _location(file: str | None, line: int | None, field: str | None) -> Location | None:
    if file is None and line is None and field is None:
        return None
    return Location(file or None, line, field)


def _detail(e: Mapping[str, Any]) -> ErrorDetail:
    loc = _location(e.get("file"), e.get("line"), e.get("field"))
    return ErrorDetail(code=str(e.get("code", "")), message=str(e.get("message", "")), location=loc)


def _from_native(
    code: str, message: str, file: str | None, line: int | None, field: str | None, details: str | None
) -> EucoraLicenseError:
    """Build the exception the native module raises (called from Rust)."""
    extra: dict[str, Any] = json.loads(details) if details else {}
    # Governance and agent codes are their crates' own (some, such as
    # `invalid_policy`, are shared with other areas): the family says whose.
    family = extra.get("family")
    cls = GovernanceError if family == "governance" else AgentError if family == "agents" else error_class(code)
    loc = _location(file, line, field)
    kw: dict[str, Any] = {"code": code, "location": loc}
    if "report" in extra:
        from ._model import RunReport

        report = RunReport._from_json(extra["report"])
        kw["report"] = report
        kw["errors"] = report.errors
    if cls is RulesetError:
        issues = tuple(RulesetIssue(str(i["path"]), str(i["code"]), str(i["message"])) for i in extra.get("issues", []))
        return RulesetError(message, issues=issues, **kw)
    if cls is VerificationError:
        return VerificationError(message, check=field, **kw)
    if cls is InsightError:
        index = extra.get("index")
        return InsightError(message, index=index if isinstance(index, int) else None, **kw)
    return cls(message, **kw)
