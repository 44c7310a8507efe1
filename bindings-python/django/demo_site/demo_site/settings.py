"""Demo site settings: SQLite by default, PostgreSQL when ``DATABASE_URL`` is set
(``postgres://user:password@host:port/name``). Not for production (DEBUG, fixed key)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(os.environ.get("EUCORA_DEMO_DIR", Path(__file__).resolve().parent.parent))
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "eucora-demo-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "eucora_license_django",
]

MIDDLEWARE = [
    "eucora_license_django.api.correlation.CorrelationIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = "demo_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The demo's own login page; the app's pages come from its package (APP_DIRS).
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "eucora_license_django.context_processors.sidebar",
            ],
        },
    },
]


def database_from_url(url: str) -> dict[str, Any]:
    """A Django DATABASES entry from ``postgres://user:password@host:port/name``."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"DATABASE_URL: unsupported scheme {parts.scheme!r} (postgres:// only)")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("EUCORA_DEMO_SQLITE", str(BASE_DIR / "db.sqlite3")),
            # BEGIN IMMEDIATE: a writer takes SQLite's lock when its transaction starts,
            # so concurrent writers wait (timeout) instead of failing on lock upgrade.
            # WAL: readers never wait for the writer; NORMAL sync is durable enough with WAL.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30,
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
            # A file, not shared-cache memory: concurrent connections (threads in the
            # concurrency tests, Celery workers) then wait for SQLite's lock instead of
            # failing with "database table is locked".
            "TEST": {"NAME": os.environ.get("EUCORA_TEST_SQLITE")
                     or os.path.join(tempfile.gettempdir(), f"eucora-license-test-{os.getpid()}.sqlite3")},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []  # demo users have the password "demo"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("EUCORA_DEMO_MEDIA", BASE_DIR / "media"))
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {"TITLE": "EUCORA License API", "VERSION": "1.0.0"}

EUCORA_LICENSE = {
    "CHECKPOINT_DIR": os.environ.get("EUCORA_CHECKPOINT_DIR", str(BASE_DIR / "var" / "checkpoints")),
    "SCHEDULE_INTERVAL": 86400,
    "LLM_CLIENT": "eucora_license_django.services.agents.DemoScriptedClient",
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "0") == "1"
CELERY_BEAT_SCHEDULE = {
    "eucora-license-fan-out": {"task": "eucora_license_django.tasks.fan_out", "schedule": 3600.0},
}
