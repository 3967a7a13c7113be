"""Jobs whose task never reached a worker are sent again.

A job row (an export, an integrity run, a bank or journal import) is committed first and its task
queued after the commit. When the broker cannot be reached at that moment the commit stands (the
client is told the job was accepted) but no message exists: the row would stay `queued` for ever.
Every few minutes the `jobs-requeue-stalled` schedule sends the task again for every job still
queued `REQUEUE_AFTER` after it was created, at most once per `REQUEUE_AFTER` each.

Sending again is safe when the first message does exist after all (a backed-up queue): every job
task takes its job's lock and does nothing for a job that is running or finished.

Apps register their job models here (`register`), the banking app its imports, so the jobs app
(below banking in the dependency order) sweeps them without importing banking.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.core.cache import cache
from django.db import models
from django.utils import timezone

logger = structlog.get_logger("sofinance.jobs")

REQUEUE_AFTER = datetime.timedelta(minutes=15)
PER_SWEEP = 500  # per kind of job; the next sweep takes the rest
_SENT_KEY = "jobs:requeued:{label}:{pk}"


@dataclass(frozen=True)
class QueuedJobs:
    label: str  # e.g. "exports"
    model: type[models.Model]  # with `status` (JobStatus) and `created_at`
    send: Callable[[int], object]  # sends the job's task for a primary key


_kinds: dict[str, QueuedJobs] = {}


def register(kind: QueuedJobs) -> None:
    _kinds[kind.label] = kind


def registered() -> list[QueuedJobs]:
    return list(_kinds.values())


def stalled_jobs_requeue(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Send again the task of every job queued for longer than REQUEUE_AFTER: {kind: jobs sent}.

    A broker that is still down raises (the schedule's next run tries again)."""
    from jobs.models import JobStatus

    now = now or timezone.now()
    sent: dict[str, int] = {}
    for kind in registered():
        stalled = kind.model.objects.filter(status=JobStatus.QUEUED, created_at__lt=now - REQUEUE_AFTER)
        ids = list(stalled.order_by("pk").values_list("pk", flat=True)[:PER_SWEEP])
        count = 0
        for pk in ids:
            key = _SENT_KEY.format(label=kind.label, pk=pk)
            if not cache.add(key, 1, timeout=int(REQUEUE_AFTER.total_seconds())):
                continue  # sent again recently; its message may still be waiting in the queue
            try:
                kind.send(pk)
            except Exception:
                cache.delete(key)
                raise
            count += 1
        sent[kind.label] = count
        if count:
            logger.warning("stalled_jobs_requeued", kind=kind.label, jobs=count)
    return sent
