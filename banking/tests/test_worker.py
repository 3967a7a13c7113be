"""End to end: an import job queued through the Redis broker is run by a real Celery worker
against the test database, with its file on the same storage; then re-delivered, it does nothing
twice (the task is idempotent)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from banking import services
from banking.models import BankStatement, BankStatementLine, ImportJob, JobStatus
from banking.tests.factories import bank_books, fixture
from sofinance.tests.subprocesses import BASE_DIR, clean_env

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

TASK = "banking.tasks.import_job_run_task"


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path: Path):
    assert settings.REDIS_URL, "this test needs Redis (REDIS_URL)"
    queue = f"test-{uuid.uuid4().hex}"
    log_path = tmp_path / "worker.log"
    env = clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings_test",
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        MEDIA_ROOT=settings.MEDIA_ROOT,
        LOG_LEVEL="INFO",
    )
    celery = Path(sys.executable).with_name("celery")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(celery), "-A", "sofinance", "worker", "--pool=solo", "--queues", queue, "--hostname",
             f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield queue, log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


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
    producer = Celery("test-producer", broker=settings.REDIS_URL)

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
