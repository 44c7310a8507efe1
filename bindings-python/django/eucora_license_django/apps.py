"""Django application configuration."""

from __future__ import annotations

from django.apps import AppConfig


class EucoraLicenseConfig(AppConfig):
    """The reusable app; add ``"eucora_license_django"`` to ``INSTALLED_APPS``."""

    name = "eucora_license_django"
    label = "eucora_license_django"
    verbose_name = "EUCORA License"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
