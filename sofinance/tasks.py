"""Platform housekeeping tasks (thin: they call one function)."""

from celery import shared_task

from sofinance.api.idempotency import idempotency_records_purge
from sofinance.db_maintenance import tables_analyze_labels


@shared_task(name="sofinance.tasks.idempotency_purge_expired")
def idempotency_purge_expired() -> int:
    return idempotency_records_purge()


@shared_task(name="sofinance.tasks.tables_analyze")
def tables_analyze_task(labels: list[str]) -> None:
    """ANALYZE the tables a bulk write grew (queued on its commit by tables_analyze_grown)."""
    tables_analyze_labels(labels)
