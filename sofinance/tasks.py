"""Platform housekeeping tasks (thin: they call one function)."""

from celery import shared_task

from sofinance.api.idempotency import idempotency_records_purge


@shared_task(name="sofinance.tasks.idempotency_purge_expired")
def idempotency_purge_expired() -> int:
    return idempotency_records_purge()
