"""``eucora_license_django.context_processors.sidebar``: puts the A8 sidebar
(``services.queries.summary``) into every template's context as ``eucora_sidebar``
(None for anonymous users, users without ``view.sidebar`` or no organisation).
The ``{% eucora_sidebar %}`` tag renders it (and computes it itself when the
context processor is not configured)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .conf import resolve_organization
from .services import governance as gov
from .services import queries


def sidebar_state(request: HttpRequest) -> dict[str, Any] | None:
    """The sidebar for the request's user, cached on the request (one query per page)."""
    if hasattr(request, "_eucora_sidebar"):
        value: dict[str, Any] | None = request._eucora_sidebar
        return value
    state: dict[str, Any] | None = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        org = resolve_organization(request)
        if org is not None and gov.authorize(org, gov.actor_for(user), "view.sidebar")["allowed"]:
            state = queries.summary(org)
    request._eucora_sidebar = state  # type: ignore[attr-defined]
    return state


def sidebar(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``{"eucora_sidebar": <summary or None>}``."""
    return {"eucora_sidebar": sidebar_state(request)}
