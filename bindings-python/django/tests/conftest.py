"""Shared fixtures of the Django app's tests: services, browser, Celery workers.

The suite runs twice under scripts/test-django: on SQLite (no DATABASE_URL) and
on a throwaway PostgreSQL server (DATABASE_URL=postgres://...). The script also
starts a Redis server (EUCORA_REDIS_URL) and names Debian's chromium
(EUCORA_CHROMIUM). Outside CI a missing service skips the tests that need it,
with the reason; under CI=true it fails them, so a broken setup can never pass
as a green run of skips.

Settings: tests/pytest.ini names demo_site.settings and puts demo_site/ and this
directory on sys.path; DJANGO_SETTINGS_MODULE in the environment wins (pytest-django).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

TESTS = Path(__file__).resolve().parent
DJANGO_DIR = TESTS.parent
DEMO_SITE = DJANGO_DIR / "demo_site"
REPO = TESTS.parents[2]
SCREENSHOTS = Path(os.environ.get("EUCORA_SCREENSHOTS") or REPO / "target" / "screenshots")

#: Debian's chromium as root in a sandboxed machine without network: these flags
#: keep it from phoning home (refused connections slow every start) and from
#: needing a GPU or the setuid sandbox.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def in_ci() -> bool:
    """CI=true (any value but empty, 0, false, no): missing services fail, never skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_service(message: str) -> NoReturn:
    """Skip (developer machine) or fail (CI) a test whose service is missing."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing service is a failure; scripts/test-django provides it)")
    pytest.skip(f"{message}; scripts/test-django starts it")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cross_process: the test shares its database with other processes (Celery workers); "
        "on SQLite the session then uses a file-backed test database",
    )
    config.addinivalue_line("markers", "browser: the test drives Debian's chromium through Playwright")


# ------------------------------------------------------------------ database


def _wants_cross_process(items: list[pytest.Item]) -> bool:
    return any(item.get_closest_marker("cross_process") for item in items)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    django_db_modify_db_settings_parallel_suffix: None,
) -> None:
    """On SQLite, a file-backed test database when a cross-process test is selected.

    SQLite's default test database lives in memory, which other processes (the
    Celery workers) cannot open; a file can. WAL journaling, synchronous=OFF,
    IMMEDIATE transactions and a 30 s busy timeout keep three processes writing
    one file from failing with "database is locked". PostgreSQL needs nothing.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.sqlite3" or not _wants_cross_process(request.session.items):
        return
    test = db.setdefault("TEST", {})
    if test.get("NAME") in (None, "", ":memory:"):
        test["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")
    options = db.setdefault("OPTIONS", {})
    options.setdefault("timeout", 30)
    options.setdefault("transaction_mode", "IMMEDIATE")
    options.setdefault("init_command", "PRAGMA journal_mode=WAL;PRAGMA synchronous=OFF")


def database_is_shareable() -> bool:
    """True when another process can open the test database (a server, or a SQLite file)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return True
    name = str(connection.settings_dict["NAME"])
    return name != ":memory:" and "mode=memory" not in name


def worker_database_settings() -> dict[str, Any]:
    """The test database as another process must configure it (the test name, not the base name)."""
    from django.db import connection

    sd = connection.settings_dict
    keys = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS", "CONN_MAX_AGE")
    return {k: sd[k] for k in keys if k in sd}


# ------------------------------------------------------------------ redis


@pytest.fixture(scope="session")
def redis_url() -> str:
    """EUCORA_REDIS_URL, checked with PING (unset: skip, or fail under CI; no answer: fail)."""
    url = os.environ.get("EUCORA_REDIS_URL", "").strip()
    if not url:
        missing_service("EUCORA_REDIS_URL is not set: no Redis server for the Celery tests")
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        answered = client.ping()
        client.close()
    except redis.RedisError as exc:
        pytest.fail(f"EUCORA_REDIS_URL={url} does not answer PING: {exc}")
    if answered is not True:
        pytest.fail(f"EUCORA_REDIS_URL={url} answered PING with {answered!r}")
    return url


# ------------------------------------------------------------------ browser


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's chromium: EUCORA_CHROMIUM, else /usr/bin/chromium when present.

    Never a browser that Playwright downloads. Unset and absent: skip outside CI,
    fail under CI; set to something that is not an executable: fail.
    """
    configured = os.environ.get("EUCORA_CHROMIUM", "").strip()
    if configured:
        if not os.access(configured, os.X_OK):
            pytest.fail(f"EUCORA_CHROMIUM={configured} is not an executable file")
        return configured
    if os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM
    missing_service("EUCORA_CHROMIUM is not set and /usr/bin/chromium is absent: no browser (apt-get install chromium)")


@pytest.fixture(scope="module")
def playwright_browser(chromium_executable: str) -> Iterator[Any]:
    """One headless chromium per test module (Playwright's sync API).

    Per module, not per session: while Playwright runs, its asyncio loop counts
    as running in this thread, which Django's async-safety guard and
    async_to_sync object to; the loop stops when the module's tests are done.
    """
    from playwright.sync_api import sync_playwright

    # The browser tests are plain synchronous code: Django's guard against ORM
    # calls from a thread with a running loop does not apply to them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        manager.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_context(playwright_browser: Any) -> Iterator[Any]:
    """A fresh browser context per test (cookies, downloads): a laptop-sized window."""
    context = playwright_browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def browser_page(browser_context: Any) -> Any:
    """A page in a fresh context. Open pages of the `live_server` fixture:

        def test_x(live_server, browser_page, screenshot):
            browser_page.goto(live_server.url + "/")
            screenshot("dashboard")

    `live_server` makes the test transactional: rows it creates are committed and
    visible to the server thread (and to Celery workers).
    """
    return browser_context.new_page()


@pytest.fixture
def browser_login(live_server: Any, browser_context: Any) -> Callable[[Any], None]:
    """`browser_login(user)`: the browser context is logged in as `user` (a User or a username).

    Sets the session cookie of a `force_login`, so a test that is not about the
    login form need not fill it in; a test of the form itself uses the page.
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    def login(user: Any) -> None:
        if isinstance(user, str):
            user = get_user_model().objects.get_by_natural_key(user)
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        browser_context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])

    return login


def save_screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Write target/screenshots/<name>.png (EUCORA_SCREENSHOTS overrides the directory)."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ValueError(f"screenshot name {name!r}: use letters, digits, '.', '_' and '-'")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """`screenshot(name, page=None, full_page=True)`: saves the test's `browser_page` (or `page`)."""

    def take(name: str, page: Any = None, *, full_page: bool = True) -> Path:
        target = page if page is not None else request.getfixturevalue("browser_page")
        return save_screenshot(target, name, full_page=full_page)

    return take


# ------------------------------------------------------------------ celery


@dataclass
class CeleryWorkers:
    """Celery worker processes started by `celery_workers`; see `start`."""

    log_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(
        self,
        count: int,
        *,
        app: str = "demo_site",
        redis_url: str,
        queues: str = "celery",
        pool: str = "solo",
        env: dict[str, str] | None = None,
        ready_timeout: float = 60.0,
    ) -> list[str]:
        """Start `count` workers of the Celery app `app` and wait until each is ready.

        Each worker is its own process (`celery -A app worker --pool=solo -c 1`,
        prefetch 1, so tasks spread over the workers) consuming `queues` from the
        broker `redis_url`, with the test process's settings and the *test*
        database (DJANGO_SETTINGS_MODULE=eucora_worker_settings, a shim over
        them). The database must be shareable (PostgreSQL, or SQLite with the
        `cross_process` marker) and the test transactional (`transactional_db`
        or `@pytest.mark.django_db(transaction=True)`) so that the workers see
        committed rows. Returns the worker names (the `hostname` Celery logs).
        """
        if not database_is_shareable():
            pytest.fail("Celery workers need a test database other processes can open: mark the test `cross_process`")
        base = os.environ.get("DJANGO_SETTINGS_MODULE", "demo_site.settings")
        child_env = dict(os.environ)
        child_env.update(
            {
                "DJANGO_SETTINGS_MODULE": "eucora_worker_settings",
                "EUCORA_WORKER_BASE_SETTINGS": base,
                "EUCORA_WORKER_DATABASE": json.dumps(worker_database_settings()),
                "EUCORA_REDIS_URL": redis_url,
                "PYTHONPATH": os.pathsep.join(
                    [str(DEMO_SITE), str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
                ),
                "PYTHONUNBUFFERED": "1",
            }
        )
        child_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        child_env.update(env or {})
        token = uuid.uuid4().hex[:8]
        started: list[tuple[str, Path]] = []
        for _ in range(count):
            name = f"w{len(self.names) + 1}-{token}@localhost"
            log = self.log_dir / f"worker-{len(self.names) + 1}-{token}.log"
            cmd = [
                sys.executable, "-m", "celery", "-A", app, "worker",
                f"--pool={pool}", "--concurrency=1", "--prefetch-multiplier=1",
                "--hostname", name, "--queues", queues, "--loglevel=INFO",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    cmd, stdout=out, stderr=subprocess.STDOUT, env=child_env, cwd=str(TESTS), start_new_session=True
                )
            self.procs.append(proc)
            self.names.append(name)
            self.logs.append(log)
            started.append((name, log))
        deadline = time.monotonic() + ready_timeout
        for (name, log), proc in zip(started, self.procs[-count:], strict=True):
            while f"{name} ready." not in log.read_text(errors="replace"):
                if proc.poll() is not None:
                    pytest.fail(f"Celery worker {name} exited with {proc.returncode}:\n{self.tail(log)}")
                if time.monotonic() > deadline:
                    pytest.fail(f"Celery worker {name} not ready after {ready_timeout:.0f} s:\n{self.tail(log)}")
                time.sleep(0.1)
        return [name for name, _ in started]

    @staticmethod
    def tail(log: Path, lines: int = 40) -> str:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self, index: int) -> str:
        return self.logs[index].read_text(errors="replace")

    def succeeded(self, task_name: str) -> dict[str, list[str]]:
        """Per worker name, the ids of the `task_name` tasks its log says succeeded."""
        pattern = re.compile(rf"Task {re.escape(task_name)}\[([0-9a-f-]+)\] succeeded")
        return {name: pattern.findall(self.logs[i].read_text(errors="replace")) for i, name in enumerate(self.names)}

    def wait_succeeded(self, task_name: str, count: int, timeout: float = 60.0) -> dict[str, list[str]]:
        """`succeeded`, once the logs name at least `count` such tasks (or after `timeout`).

        A worker stores a task's result before it logs the success, so a test
        that has its results waits here for the log lines.
        """
        deadline = time.monotonic() + timeout
        while True:
            done = self.succeeded(task_name)
            if sum(len(ids) for ids in done.values()) >= count or time.monotonic() > deadline:
                return done
            time.sleep(0.1)

    def failures(self) -> list[str]:
        """Log lines of tasks that raised or workers that crashed."""
        bad = re.compile(r"raised unexpected|\] retry:|Unrecoverable error|WorkerLostError|Traceback")
        return [line for log in self.logs for line in log.read_text(errors="replace").splitlines() if bad.search(line)]

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL for the process group after 20 s."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()


@pytest.fixture
def celery_workers(tmp_path: Path) -> Iterator[CeleryWorkers]:
    """Start Celery worker processes with `celery_workers.start(2, redis_url=redis_url)`.

    They are stopped when the test ends; their logs stay under the test's
    tmp_path and are printed when a worker fails to start.
    """
    workers = CeleryWorkers(log_dir=tmp_path)
    try:
        yield workers
    finally:
        workers.stop()
