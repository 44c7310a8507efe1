"""Error bodies of the API (Part E): every error is ``{"code", "message", ...}``.

- a refused action (D1 / D2): 403 ``{"code": <reason>, "action": <D1 action>, "message"}``;
- unauthenticated: 401 ``{"code": "not_authenticated"}`` (token authentication is
  the first authenticator, so DRF answers 401 with ``WWW-Authenticate: Token``);
- bad input: 400 ``{"code": <the core's error code>, "message", "location": {file, line, field}}``;
- ``already_applied`` / ``expired`` / ``rejected`` (and ``policy_mismatch``): 409;
- unknown ids: 404 ``{"code": "not_found"}``.
"""

from __future__ import annotations

from typing import Any

import eucora_license as el
from rest_framework import exceptions, status
from rest_framework.response import Response

from ..services.governance import LicenseServiceError, bad_input_from

NO_LOCATION: dict[str, Any] = {"file": None, "line": None, "field": None}


def _first_field(detail: Any) -> tuple[str | None, Any]:
    """The first (field, message) of a DRF validation detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            return str(key), value
    return None, detail


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler for the API views (see the module docstring)."""
    if isinstance(exc, LicenseServiceError):
        body = exc.body()
        if exc.status == 400:
            body.setdefault("location", NO_LOCATION)
        return Response(body, status=exc.status)
    if isinstance(exc, el.EucoraLicenseError):
        bad = bad_input_from(exc)
        body = bad.body()
        if body.get("location") is None:
            body["location"] = NO_LOCATION
        return Response(body, status=400)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code = "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else "authentication_failed"
        response = Response({"code": code, "message": str(exc.detail)}, status=status.HTTP_401_UNAUTHORIZED)
        view = context.get("view")
        request = context.get("request")
        header = view.get_authenticate_header(request) if view is not None and request is not None else None
        if header:
            response["WWW-Authenticate"] = header
        else:
            response.status_code = status.HTTP_403_FORBIDDEN
        return response
    if isinstance(exc, exceptions.ParseError):
        return Response({"code": "invalid_json", "message": str(exc.detail), "location": NO_LOCATION}, status=400)
    if isinstance(exc, exceptions.ValidationError):
        field, message = _first_field(exc.detail)
        text = message[0] if isinstance(message, list) and message else message
        return Response({"code": "invalid_input", "message": str(text),
                         "location": {"file": None, "line": None, "field": field}}, status=400)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return Response({"code": "unsupported_media_type", "message": str(exc.detail), "location": NO_LOCATION}, status=415)
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        return Response({"code": code, "message": str(exc.detail)}, status=exc.status_code)
    return None
