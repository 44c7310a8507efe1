"""``{% load eucora_values %}``: JSON values written for people.

A proposal's payload is a JSON document; Django would print its ``null`` as
Python's ``None`` and its objects as Python reprs. ``json_value`` writes
``null`` as an em dash (the field is open), booleans as ``true``/``false`` and
objects and arrays as compact JSON with sorted keys, so the queue shows what
the approver is asked to approve in the document's own terms.
"""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()

#: What an open (``null``) field shows.
OPEN = "\u2014"


@register.filter
def json_value(value: Any) -> str:
    """One payload value as text: ``null`` → ``—``, JSON for everything but strings and numbers."""
    if value is None:
        return OPEN
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(value)
