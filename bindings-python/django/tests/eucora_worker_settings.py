"""Settings of the Celery worker processes that tests start (conftest.CeleryWorkers).

The test process's own settings (EUCORA_WORKER_BASE_SETTINGS, normally
demo_site.settings) with two changes: the database is the *test* database the
test process created (EUCORA_WORKER_DATABASE, JSON), and the broker is the
Redis server of the test run (EUCORA_REDIS_URL), with results kept there too
(extended, so a result names the worker that ran it). Tasks run for real:
never eagerly.
"""

from __future__ import annotations

import json
import os
from importlib import import_module

_base = import_module(os.environ.get("EUCORA_WORKER_BASE_SETTINGS", "demo_site.settings"))
globals().update({name: getattr(_base, name) for name in dir(_base) if name.isupper()})

DATABASES = {"default": {**_base.DATABASES["default"], **json.loads(os.environ["EUCORA_WORKER_DATABASE"])}}
DATABASES["default"]["TEST"] = {"NAME": DATABASES["default"]["NAME"]}

CELERY_BROKER_URL = os.environ["EUCORA_REDIS_URL"]
CELERY_RESULT_BACKEND = os.environ["EUCORA_REDIS_URL"]
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
