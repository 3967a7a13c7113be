"""Celery application. Broker from CELERY_BROKER_URL or REDIS_URL; eager when neither is set."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofinance.settings")

app = Celery("sofinance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _trace_worker_process(**_kwargs) -> None:
    """Each prefork child exports its own spans (a span processor's thread does not survive fork)."""
    from django.conf import settings

    from sofinance.observability import tracing

    tracing._configured = False
    tracing.configure_tracing(environment=settings.ENVIRONMENT)
