"""The demo site's Celery app: ``celery -A demo_site worker`` (broker: ``CELERY_BROKER_URL``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")

app = Celery("demo_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["eucora_license_django"])
