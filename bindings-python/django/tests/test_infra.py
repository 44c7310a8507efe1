"""Smoke tests of the test infrastructure itself (scripts/test-django, conftest).

They depend on no part of the app: the database backend is the one DATABASE_URL
names, Redis answers, Debian's chromium renders a page of Django's live server
and saves a screenshot, and two Celery worker processes share the work of the
broker and the test database.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import CeleryWorkers


def _database_url() -> str:
    return os.environ.get("DATABASE_URL", "").strip()


@pytest.mark.django_db
def test_database_backend_is_the_one_database_url_names() -> None:
    from django.db import connection

    url = _database_url()
    with connection.cursor() as cursor:
        if url:
            assert urlsplit(url).scheme in ("postgres", "postgresql")
            assert connection.vendor == "postgresql"
            cursor.execute("SELECT version()")
            (version,) = cursor.fetchone()
            assert version.startswith("PostgreSQL ")
            parts = urlsplit(url)
            assert connection.settings_dict["HOST"] == parts.hostname
            assert str(connection.settings_dict["PORT"]) == str(parts.port)
            # The test database of that server, not the one the URL names.
            cursor.execute("SELECT current_database()")
            assert cursor.fetchone()[0] == connection.settings_dict["NAME"]
            assert connection.settings_dict["NAME"].startswith("test_")
        else:
            assert connection.vendor == "sqlite"
            cursor.execute("SELECT sqlite_version()")
            assert cursor.fetchone()[0].count(".") == 2


def test_redis_answers(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        assert client.ping() is True
        key = f"eucora-infra:{os.getpid()}"
        client.set(key, b"ok", ex=60)
        assert client.get(key) == b"ok"
        client.delete(key)
    finally:
        client.close()


@pytest.mark.browser
def test_chromium_renders_a_live_server_page(
    live_server: Any, browser_page: Any, screenshot: Callable[..., Path], settings: Any
) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    settings.ROOT_URLCONF = "infra_urls"
    get_user_model().objects.create_user("infra-browser", password="x")  # committed: live_server is transactional
    response = browser_page.goto(live_server.url + "/infra/")
    assert response is not None and response.status == 200
    assert browser_page.get_by_role("heading", level=1).inner_text() == "EUCORA test server"
    assert browser_page.locator("#vendor").inner_text() == connection.vendor
    assert browser_page.locator("#users").inner_text() == "1"
    browser_page.get_by_label("Search").fill("sku")
    assert browser_page.get_by_label("Search").input_value() == "sku"
    path = screenshot("infra-live-server")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000


@pytest.mark.cross_process
def test_two_celery_workers_share_the_broker_and_the_test_database(
    transactional_db: None, redis_url: str, celery_workers: CeleryWorkers
) -> None:
    import infra_celery
    from django.contrib.auth import get_user_model

    infra_celery.app.control.purge()
    names = celery_workers.start(2, app="infra_celery", redis_url=redis_url, queues=infra_celery.QUEUE)
    assert len(names) == 2

    results = [infra_celery.whoami.delay(i) for i in range(8)]
    done = [r.get(timeout=60) for r in results]
    assert sorted(d["i"] for d in done) == list(range(8))
    by_worker = Counter(d["worker"] for d in done)
    assert set(by_worker) == set(names), f"both workers should take tasks: {dict(by_worker)}"
    assert len({d["pid"] for d in done}) == 2
    assert {d["pid"] for d in done}.isdisjoint({os.getpid()})
    succeeded = celery_workers.wait_succeeded("eucora_infra.whoami", len(results))
    assert sorted(i for ids in succeeded.values() for i in ids) == sorted(r.id for r in results)

    # The workers read the test database: a committed row is visible to them.
    get_user_model().objects.create_user("infra-celery", password="x")
    assert infra_celery.user_exists.delay("infra-celery").get(timeout=60) is True
    assert infra_celery.user_exists.delay("nobody").get(timeout=60) is False
    assert celery_workers.failures() == []



@pytest.mark.browser
def test_browser_login_logs_the_browser_in(
    live_server: Any, browser_page: Any, browser_login: Callable[[Any], None], settings: Any
) -> None:
    from django.contrib.auth import get_user_model

    settings.ROOT_URLCONF = "infra_urls"
    browser_page.goto(live_server.url + "/infra/")
    assert browser_page.locator("#who").inner_text() == "anonymous"
    browser_login(get_user_model().objects.create_user("infra-login", password="x"))
    browser_page.goto(live_server.url + "/infra/")
    assert browser_page.locator("#who").inner_text() == "infra-login"

