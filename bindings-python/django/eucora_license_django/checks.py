"""Django system checks (``manage.py check``): the settings the app relies on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """USE_TZ on (instants are aware UTC), EUCORA_LICENSE valid, a checkpoint directory named."""
    from .conf import license_settings, load_object

    errors: list[checks.CheckMessage] = []
    if not settings.USE_TZ:
        errors.append(checks.Error("eucora_license_django needs USE_TZ = True (every instant is an aware UTC datetime)",
                                   id="eucora_license.E001"))
    try:
        conf = license_settings()
        conf.checkpoint_dir  # noqa: B018 - raises when neither CHECKPOINT_DIR nor BASE_DIR is set
        conf.schedule_interval  # noqa: B018 - raises when < 1
        for key in ("ORGANIZATION_RESOLVER", "NOTIFIER", "LLM_CLIENT"):
            if conf.values[key] is not None:
                load_object(conf.values[key])
    except ImproperlyConfigured as e:
        errors.append(checks.Error(str(e), id="eucora_license.E002"))
    return errors
