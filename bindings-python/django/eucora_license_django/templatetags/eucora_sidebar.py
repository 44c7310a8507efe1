"""``{% load eucora_sidebar %}{% eucora_sidebar %}`` renders the sidebar, and
``duration`` formats seconds for people (``2 d 3 h``)."""

from __future__ import annotations

from typing import Any

from django import template

from ..context_processors import sidebar_state

register = template.Library()


@register.inclusion_tag("eucora_license_django/sidebar.html", takes_context=True)
def eucora_sidebar(context: template.Context) -> dict[str, Any]:
    """The sidebar from the context processor's ``eucora_sidebar``, or computed here."""
    state = context.get("eucora_sidebar")
    request = context.get("request")
    if state is None and request is not None:
        state = sidebar_state(request)
    return {"s": state, "request": request}


@register.filter
def duration(seconds: Any) -> str:
    """Whole seconds as ``N d N h N min`` (largest units first, zero units left out)."""
    if seconds is None or seconds == "":
        return ""
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    text = " ".join(p for p in parts if p)
    return text or f"{total} s"


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` in templates (None when missing)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def actor_label(actor: Any) -> str:
    """A D1 actor for people: the user id, or ``agent (for user)``."""
    if not isinstance(actor, dict):
        return str(actor or "")
    if actor.get("type") == "agent":
        inner = actor.get("on_behalf_of") or {}
        return f"{actor.get('agent', '')} (for {inner.get('id', '')})"
    return str(actor.get("id", ""))
