"""``X-Correlation-ID`` (Part E fine print): a request header matching
``[A-Za-z0-9._:-]{1,128}`` is echoed exactly, otherwise a new UUID is used; the id
is on every response and in every audit entry the request appends.

:func:`correlation_id` computes the id once per request (cached on the request), so
the middleware, the API views and the services agree on it; the API views also set
the header themselves, so the API keeps its contract in a project that has not
added the middleware.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Correlation-ID"
_META = "HTTP_X_CORRELATION_ID"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ATTR = "_eucora_correlation_id"


def correlation_id(request: HttpRequest) -> str:
    """The request's correlation id: its valid header value, else a new UUID (once per request)."""
    cached = getattr(request, _ATTR, None)
    if isinstance(cached, str):
        return cached
    given = request.META.get(_META, "")
    value = given if isinstance(given, str) and _VALID.fullmatch(given) else str(uuid.uuid4())
    setattr(request, _ATTR, value)
    return value


class CorrelationIdMiddleware:
    """Sets ``X-Correlation-ID`` on every response (add it to ``MIDDLEWARE``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        cid = correlation_id(request)
        response = self.get_response(request)
        response[HEADER] = cid
        return response
