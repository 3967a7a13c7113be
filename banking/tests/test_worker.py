"""End to end: an import job queued through the Redis broker is run by a real Celery worker
against the test database, with its file on the same storage; then re-delivered, it does nothing
twice (the task is idempotent)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings

from banking import services
from banking.models import BankStatement, BankStatementLine, ImportJob, JobStatus
from banking.tests.factories import bank_books, fixture
from sofinance.tests.celery_workers import celery_worker, new_queue

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

TASK = "banking.tasks.import_job_run_task"


@pytest.fixture
def worker(tmp_path: Path):
    """A real worker consuming a queue of its own; yields (queue, log path)."""
    queue, log_path = new_queue(), tmp_path / "worker.log"
    with celery_worker(queue, log_path):
        yield queue, log_path


def _wait(job_id: int, log_path: Path, *, until) -> ImportJob:
    deadline = time.monotonic() + 60
    while True:
        job = ImportJob.objects.get(pk=job_id)
        if until(job):
            return job
        assert time.monotonic() < deadline, "the worker did not run the task:\n" + log_path.read_text()
        time.sleep(0.2)


def test_a_real_worker_imports_a_statement_and_a_redelivery_does_nothing_twice(worker):
    # given: a queued import job, committed, its file stored
    queue, log_path = worker
    bank = bank_books()
    job = services.statement_import_job_create(bank_account=bank, file=fixture("camt053_march.xml"), by=None)
    producer = Celery("test-producer", broker=settings.REDIS_URL, set_as_current=False)

    # when: the task goes through the broker, twice (a redelivered message)
    producer.send_task(TASK, args=[job.pk], queue=queue)
    done = _wait(job.pk, log_path, until=lambda j: j.status in (JobStatus.DONE, JobStatus.FAILED))
    producer.send_task(TASK, args=[job.pk], queue=queue)
    deadline = time.monotonic() + 30
    while log_path.read_text().count(f"Task {TASK}[") < 4:  # received + succeeded, twice
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.2)

    # then
    assert (done.status, done.progress, done.line_count) == (JobStatus.DONE, 100, 4), done.errors
    assert BankStatement.objects.filter(bank_account=bank).count() == 1
    assert BankStatementLine.objects.filter(bank_account=bank).count() == 4
    producer.close()
