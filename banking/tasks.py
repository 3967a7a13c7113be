"""Celery tasks of the banking app (thin: ids in, one service call)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from audit.context import system_actor
from banking.services import import_job_run, stale_suggestions_refresh
from sofinance.locks import LockBusy


@shared_task(
    name="banking.tasks.import_job_run_task",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError, LockBusy),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=5,
)
def import_job_run_task(job_id: int) -> dict:
    """Run an import job (a bank statement or a journal file). Idempotent: a job already done or
    failed is left as it is, so a redelivered message does nothing twice; a database outage is
    retried with backoff (the import is all or nothing, so a retry starts from the file)."""
    with system_actor("task:banking.import_job_run"):
        job = import_job_run(job_id=job_id)
    if job is None:
        return {"job": job_id, "status": "missing"}
    return {"job": job.pk, "status": job.status, "progress": job.progress}


@shared_task(name="banking.tasks.stale_suggestions_refresh_task", acks_late=True)
def stale_suggestions_refresh_task() -> dict:
    """On schedule: suggestions worked out again where the books moved since (the service says
    which); idempotent, a missed or repeated run only delays or repeats a refresh."""
    with system_actor("task:banking.stale_suggestions_refresh"):
        refreshed = stale_suggestions_refresh()
    return {"refreshed": len(refreshed), "auto_matched": sum(refreshed.values())}
