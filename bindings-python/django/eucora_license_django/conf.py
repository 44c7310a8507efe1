"""Settings: one ``EUCORA_LICENSE`` dict in the project's settings.

The host's choices are named by dotted paths, like django-allauth's adapters::

    EUCORA_LICENSE = {
        "ORGANIZATION_RESOLVER": "myproject.licensing.resolve_organization",
        "LLM_CLIENT": "myproject.licensing.OpenAIClient",
        "NOTIFIER": "myproject.licensing.SlackNotifier",
        "CHECKPOINT_DIR": "/var/lib/myproject/eucora-checkpoints",
        "SCHEDULE_INTERVAL": 86400,
    }

Every key is optional; :data:`DEFAULTS` lists them. Values are read on each
access (``license_settings().X``), so ``override_settings`` works in tests.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import eucora_license as el
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .models import Alert, Organization

SEED_DIR = Path(__file__).resolve().parent / "seed"
#: The shipped default ruleset (a copy of the core's ``rulesets/default/v1.json``);
#: an organisation starts with it until a ``ruleset.version`` proposal is applied.
DEFAULT_RULESET_PATH = SEED_DIR / "ruleset-default-v1.json"

DEFAULTS: dict[str, Any] = {
    # callable(request) -> Organization | None: the organisation a request acts on.
    "ORGANIZATION_RESOLVER": "eucora_license_django.conf.default_organization_resolver",
    # id of the organisation the default resolver returns (None: the only one there is).
    "DEFAULT_ORGANIZATION": None,
    # class (or factory) of the LLM client given to agents; None: agents run without a model
    # (deterministically). An instance is callable(request_json_text) -> str, with ``model_id``.
    "LLM_CLIENT": None,
    # keyword arguments for the LLM client's constructor (never logged or audited).
    "LLM_CLIENT_OPTIONS": {},
    # class (or factory) notified of new and resolved alerts and of failed runs.
    "NOTIFIER": "eucora_license_django.conf.NullNotifier",
    # directory (outside the database) holding one audit checkpoint file per organisation.
    "CHECKPOINT_DIR": None,
    # the schedule interval in seconds: slot of a scheduled run, and staleness (A8).
    "SCHEDULE_INTERVAL": 86400,
    # JSON ruleset a new organisation starts with (None: the shipped default ruleset).
    "RULESET_PATH": None,
    # JSON policy (Part C + D sections) in force when no policy version was applied (None: core default).
    "POLICY_PATH": None,
    # sources an organisation expects when it does not list its own (coverage, A1).
    "EXPECTED_SOURCES": [],
    # name of the Django storage (settings.STORAGES) holding evidence packs.
    "EVIDENCE_STORAGE": "default",
    # folder inside that storage.
    "EVIDENCE_PREFIX": "eucora-license/evidence",
}


@dataclass(frozen=True)
class LicenseSettings:
    """A resolved view of ``settings.EUCORA_LICENSE`` merged over :data:`DEFAULTS`."""

    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def checkpoint_dir(self) -> Path:
        """Where audit checkpoints live; defaults to ``<BASE_DIR>/eucora-checkpoints``."""
        value = self.values["CHECKPOINT_DIR"]
        if value is None:
            base = getattr(settings, "BASE_DIR", None)
            if base is None:
                raise ImproperlyConfigured("EUCORA_LICENSE['CHECKPOINT_DIR'] must name a directory outside the database")
            return Path(base) / "eucora-checkpoints"
        return Path(value)

    @property
    def schedule_interval(self) -> int:
        """Schedule interval in whole seconds (>= 1)."""
        value = int(self.values["SCHEDULE_INTERVAL"])
        if value < 1:
            raise ImproperlyConfigured("EUCORA_LICENSE['SCHEDULE_INTERVAL'] must be >= 1 second")
        return value


def license_settings() -> LicenseSettings:
    """The current settings (re-read each call; cheap)."""
    user: Mapping[str, Any] = getattr(settings, "EUCORA_LICENSE", {}) or {}
    unknown = sorted(set(user) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(f"EUCORA_LICENSE: unknown keys {unknown}")
    return LicenseSettings({**DEFAULTS, **user})


@functools.cache
def _load(path: str) -> Any:
    try:
        return import_string(path)
    except ImportError as e:
        raise ImproperlyConfigured(f"EUCORA_LICENSE: cannot import {path!r}: {e}") from e


def load_object(value: Any) -> Any:
    """A dotted path imported (cached), or the object itself when already one."""
    return _load(value) if isinstance(value, str) else value


# ---------------------------------------------------------------------------------- adapters


@runtime_checkable
class LLMClient(Protocol):
    """What ``LLM_CLIENT`` builds: the D4 model callback (JSON text in, text out)."""

    model_id: str

    def __call__(self, request_json: str) -> str: ...


class Notifier(Protocol):
    """What ``NOTIFIER`` builds."""

    def alert_opened(self, alert: Alert) -> None: ...

    def alert_resolved(self, alert: Alert) -> None: ...

    def run_failed(self, organization: Organization, reasons: list[str]) -> None: ...


class NullNotifier:
    """The default notifier: does nothing."""

    def alert_opened(self, alert: Alert) -> None:
        """Ignore."""

    def alert_resolved(self, alert: Alert) -> None:
        """Ignore."""

    def run_failed(self, organization: Organization, reasons: list[str]) -> None:
        """Ignore."""


def get_llm_client() -> LLMClient | None:
    """A new LLM client from ``LLM_CLIENT`` (None when unset: agents run without a model)."""
    conf = license_settings()
    factory = conf.LLM_CLIENT
    if factory is None:
        return None
    client: LLMClient = load_object(factory)(**dict(conf.LLM_CLIENT_OPTIONS))
    return client


def get_notifier() -> Notifier:
    """The configured notifier."""
    notifier: Notifier = load_object(license_settings().NOTIFIER)()
    return notifier


def default_organization_resolver(request: HttpRequest) -> Organization | None:
    """``DEFAULT_ORGANIZATION`` when set, else the only organisation (None when 0 or several)."""
    from .models import Organization

    org_id = license_settings().DEFAULT_ORGANIZATION
    if org_id is not None:
        return Organization.objects.filter(pk=org_id).first()
    orgs = list(Organization.objects.order_by("pk")[:2])
    return orgs[0] if len(orgs) == 1 else None


def resolve_organization(request: HttpRequest) -> Organization | None:
    """The request's organisation through ``ORGANIZATION_RESOLVER``."""
    resolver: Callable[[HttpRequest], Organization | None] = load_object(license_settings().ORGANIZATION_RESOLVER)
    return resolver(request)


def default_ruleset_document() -> dict[str, Any]:
    """The ruleset a new organisation starts with (``RULESET_PATH`` or the shipped default)."""
    path = license_settings().RULESET_PATH
    doc: dict[str, Any] = json.loads(Path(path or DEFAULT_RULESET_PATH).read_bytes())
    return doc


def default_policy() -> el.Policy:
    """The policy in force when an organisation has applied none (``POLICY_PATH`` or the core's default)."""
    path = license_settings().POLICY_PATH
    if path is None:
        return el.Policy.default()
    return el.Policy.from_bytes(Path(path).read_bytes())
