"""Celery tasks of the jobs app: thin (ids in, one service each), acknowledged when they finish
(a worker killed mid-task leaves the message to be redelivered), retried with backoff on transient
errors (a lost database connection, a busy lock, an unreachable bucket), and safe to run twice at
once: the services take a named lock per company or export and do nothing for a finished job.
"""

from __future__ import annotations

from typing import Any

import structlog
from botocore.exceptions import HTTPClientError
from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from audit.context import system_actor
from jobs.models import Trigger
from jobs.requeue import stalled_jobs_requeue
from jobs.services import (
    export_execute,
    export_fail,
    exports_purge_expired,
    integrity_run_execute,
    integrity_run_fail,
    integrity_runs_request_all,
)
from sofinance.locks import LockBusy

logger = structlog.get_logger("sofinance.jobs")

# Worth another try: the database or its connection, a lock another worker holds, the storage.
TRANSIENT = (OperationalError, InterfaceError, LockBusy, HTTPClientError, ConnectionError, TimeoutError)
RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


class IntegrityRunTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Out of retries, or not worth one: the run is failed, with why."""
        run_id = kwargs.get("run_id", args[0] if args else None)
        if run_id is not None:
            integrity_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}")


class ExportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        export_id = kwargs.get("export_id", args[0] if args else None)
        if export_id is not None:
            export_fail(export_id=export_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(name="jobs.tasks.integrity_run", base=IntegrityRunTask, **RETRY)
def integrity_run(run_id: int) -> dict[str, Any]:
    """Run one queued integrity run."""
    with system_actor("task:jobs.integrity_run"):
        run = integrity_run_execute(run_id=run_id)
    return {
        "run": run.pk,
        "status": run.status,
        "discrepancies": run.discrepancy_count,
        "new": run.new_discrepancy_count,
        "proposed": run.proposed_count,
    }


@shared_task(name="jobs.tasks.integrity_reconcile_all", **RETRY)
def integrity_reconcile_all() -> dict[str, Any]:
    """The nightly reconciliation: a run per company (and the platform's chain), each its own task."""
    with system_actor("task:jobs.integrity_reconcile_all"):
        runs = integrity_runs_request_all(trigger=Trigger.SCHEDULE)
    return {"runs": [run.pk for run in runs]}


@shared_task(name="jobs.tasks.export_run", base=ExportTask, **RETRY)
def export_run(export_id: int) -> dict[str, Any]:
    """Make one export's file."""
    with system_actor("task:jobs.export_run"):
        job = export_execute(export_id=export_id)
    return {"export": job.pk, "status": job.status, "rows": job.row_count, "file": job.file_name}


@shared_task(name="jobs.tasks.exports_purge_expired", **RETRY)
def exports_purge_expired_task() -> dict[str, int]:
    """Delete the files of exports past their time to live (the job rows stay, without a file)."""
    with system_actor("task:jobs.exports_purge_expired"):
        return {"deleted": exports_purge_expired()}


@shared_task(name="jobs.tasks.stalled_jobs_requeue")
def stalled_jobs_requeue_task() -> dict[str, int]:
    """Send again the task of every job still queued long after it was accepted (jobs/requeue.py)."""
    return stalled_jobs_requeue()
