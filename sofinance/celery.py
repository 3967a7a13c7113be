"""Celery application. Broker from CELERY_BROKER_URL or REDIS_URL; eager when neither is set."""

import os

import structlog
from celery import Celery
from celery.signals import worker_process_init
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofinance.settings")

logger = structlog.get_logger("sofinance.celery")
_restore_unacked = kombu_redis.QoS.restore_unacked


def _restore_unacked_unless_collected(self, client=None):
    """A worker survives its Redis broker restarting while it holds a task it has not acknowledged
    (a task with a countdown, e.g. every audit seal, or one running with acks_late).

    On a lost broker connection Celery 5.7 first `collect()`s the connection (its transport drops
    its client) and then closes it; closing the Redis channel tries to hand the unacknowledged
    tasks back through that transport and fails with AttributeError, which Celery does not expect:
    the worker logged "Unrecoverable error" and exited (found by `make faults`). Those tasks are
    still in the broker's unacked set, written when they were delivered, so nothing is lost by
    not restoring them here: a worker's visibility sweep hands them out again after
    CELERY_VISIBILITY_TIMEOUT.
    """
    if client is None and getattr(self.channel.connection, "client", None) is None:
        logger.warning("broker_unacked_left_for_visibility_timeout", messages=len(self._delivered))
        self._delivered.clear()
        return None
    return _restore_unacked(self, client)


kombu_redis.QoS.restore_unacked = _restore_unacked_unless_collected

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
