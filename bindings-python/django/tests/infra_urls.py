"""One page for the browser smoke test: it shows what the server thread sees."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.html import escape


def infra_page(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.count()
    user = getattr(request, "user", None)
    who = user.get_username() if user is not None and user.is_authenticated else "anonymous"
    return HttpResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>EUCORA infra</title></head>"
        "<body><main><h1>EUCORA test server</h1>"
        f"<p>database: <span id=vendor>{escape(connection.vendor)}</span></p>"
        f"<p>users: <span id=users>{users}</span></p>"
        f"<p>signed in: <span id=who>{escape(who)}</span></p>"
        "<form><label for=q>Search</label> <input id=q name=q><button type=submit>Go</button></form>"
        "</main></body></html>"
    )


urlpatterns = [path("infra/", infra_page, name="infra-page")]
