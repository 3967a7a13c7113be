"""Celery application. Broker from CELERY_BROKER_URL or REDIS_URL; eager when neither is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofinance.settings")

app = Celery("sofinance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
