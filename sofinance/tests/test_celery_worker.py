"""A real Celery worker on the Redis broker runs a task against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from sofinance.models import IdempotencyRecord
from sofinance.tests.subprocesses import BASE_DIR, clean_env

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

TASK = "sofinance.tasks.idempotency_purge_expired"


def _database_url() -> str:
    """The URL of the database this test uses (pytest-django's test_<name>, maybe with a suffix)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path: Path):
    """`celery -A sofinance worker` consuming a queue of its own; yields (queue, log path)."""
    assert settings.REDIS_URL, "this test needs Redis (REDIS_URL)"
    queue = f"test-{uuid.uuid4().hex}"
    log_path = tmp_path / "worker.log"
    env = clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings_test",
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        LOG_LEVEL="INFO",
    )
    celery = Path(sys.executable).with_name("celery")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                str(celery),
                "-A",
                "sofinance",
                "worker",
                "--pool=solo",
                "--queues",
                queue,
                "--hostname",
                f"{queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
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


def _record(key: str, expires_at) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        user_id=1,
        key=key,
        request_hash="0" * 64,
        method="POST",
        path="/api/v1/companies",
        expires_at=expires_at,
    )


def test_a_real_worker_purges_expired_idempotency_records(worker):
    # given: committed rows (a transactional test), one expired and one still live
    queue, log_path = worker
    now = timezone.now()
    expired = _record("expired", now - timedelta(minutes=1))
    live = _record("live", now + timedelta(hours=1))
    producer = Celery("test-producer", broker=settings.REDIS_URL)

    # when: the task goes through the broker, not in-process
    result = producer.send_task(TASK, queue=queue)

    # then: the worker deletes the expired row and only that one
    deadline = time.monotonic() + 30
    while IdempotencyRecord.objects.filter(pk=expired.pk).exists():
        assert time.monotonic() < deadline, "the worker did not run the task:\n" + log_path.read_text()
        time.sleep(0.2)
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [live.pk]
    log = log_path.read_text()
    assert f"Task {TASK}[{result.id}] received" in log
    producer.close()
