"""A real Celery worker on the Redis broker runs a task against the test database."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.utils import timezone

from sofinance.models import IdempotencyRecord
from sofinance.tests.celery_workers import celery_worker, new_queue

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

TASK = "sofinance.tasks.idempotency_purge_expired"


@pytest.fixture
def worker(tmp_path: Path):
    """A real worker consuming a queue of its own; yields (queue, log path)."""
    queue, log_path = new_queue(), tmp_path / "worker.log"
    with celery_worker(queue, log_path):
        yield queue, log_path


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
    producer = Celery("test-producer", broker=settings.REDIS_URL, set_as_current=False)

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


def test_a_real_worker_analyzes_the_tables_an_import_grew(worker):
    # given: committed rows the planner does not know of yet (never analyzed since they came)
    from django.db import connection

    from sofinance.models import Quarantine

    queue, log_path = worker
    table = Quarantine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (object_type, object_id, discrepancy_id, opened_at) "
            "SELECT 'ledger.journalentry', g, g, now() FROM generate_series(1, 500) g"
        )

    def reltuples() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            return cursor.fetchone()[0]

    producer = Celery("test-producer", broker=settings.REDIS_URL, set_as_current=False)

    # when: the task an import's commit queues goes through the broker
    producer.send_task("sofinance.tasks.tables_analyze", args=[[Quarantine._meta.label]], queue=queue)

    # then: the worker analyzes the table: the planner now counts its rows
    deadline = time.monotonic() + 30
    while reltuples() != 500:
        assert time.monotonic() < deadline, "the worker did not analyze:\n" + log_path.read_text()
        time.sleep(0.2)
    producer.close()
