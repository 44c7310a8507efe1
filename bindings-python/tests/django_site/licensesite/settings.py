"""Settings of the minimal Django + DRF project the tests run the module in."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[4]

SECRET_KEY = "test-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
USE_TZ = True
TIME_ZONE = "Europe/Paris"  # not UTC on purpose: the serializers still render instants in UTC
ROOT_URLCONF = "licensesite.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "licenses",
]
MIDDLEWARE: list[str] = []

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "licenses.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}

# The organisation this deployment reconciles, and its ruleset file.
EUCORA_LICENSE = {
    "ORGANIZATION_ID": "org-django",
    "RULESET_PATH": REPO / "rulesets" / "default" / "v1.json",
    "EXPECTED_SOURCES": ["intune", "entra", "flexlm"],
    "SCHEDULE_INTERVAL_HOURS": 24,
}
