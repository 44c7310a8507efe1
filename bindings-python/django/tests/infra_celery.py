"""A Celery app of the infrastructure smoke test, independent of the app's tasks.

Workers run it as `celery -A infra_celery worker` with the test's settings and
database (eucora_worker_settings). Its tasks go to the queue `eucora-infra`.
"""

from __future__ import annotations

import os
import time
from typing import Any

from celery import Celery

# Celery's Django fix-up sets Django up in the worker (it sees DJANGO_SETTINGS_MODULE).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eucora_worker_settings")

QUEUE = "eucora-infra"
_url = os.environ.get("EUCORA_REDIS_URL", "")

# Not the current app: the app under test (demo_site.celery) stays the one
# that shared tasks bind to in the test process.
app = Celery("eucora_infra", set_as_current=False)
app.conf.update(
    broker_url=_url,
    result_backend=_url,
    result_extended=True,
    task_default_queue=QUEUE,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)


@app.task(name="eucora_infra.whoami", bind=True)  # type: ignore[untyped-decorator]
def whoami(self: Any, i: int, hold: float = 0.3) -> dict[str, Any]:
    """Holds the worker for `hold` seconds, so that the tasks spread over the workers."""
    time.sleep(hold)
    return {"i": i, "pid": os.getpid(), "worker": self.request.hostname}


@app.task(name="eucora_infra.user_exists")  # type: ignore[untyped-decorator]
def user_exists(username: str) -> bool:
    """Reads the test database from the worker process."""
    from django.contrib.auth import get_user_model

    return bool(get_user_model().objects.filter(username=username).exists())
