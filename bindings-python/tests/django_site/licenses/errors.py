"""DRF exception handler: engine errors become JSON responses with their stable code."""

from __future__ import annotations

from typing import Any

import eucora_license as el
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

STATUS = {
    el.InvalidInput: 422,
    el.RulesetError: 422,
    el.IntegrityError: 409,
    el.VerificationError: 409,
    el.InternalError: 500,
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, el.EucoraLicenseError):
        loc = exc.location
        body = {
            "code": exc.code,
            "message": exc.message,
            "location": None if loc is None else {"file": loc.file, "line": loc.line, "field": loc.field},
            "errors": [{"code": e.code, "message": e.message} for e in exc.errors],
        }
        return Response(body, status=STATUS.get(type(exc), 400))
    return drf_handler(exc, context)
