"""A Celery worker survives its Redis broker restarting while it holds a task it has not yet
acknowledged (sofinance/celery.py): it reconnects and runs the next task. Found by `make faults`:
the worker used to log "Unrecoverable error: AttributeError" and exit."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

from bench.clusters import RedisServer
from sofinance.tests.celery_workers import celery_worker, new_queue

# A built-in task that touches no database (it returns its arguments).
TASK = "celery.accumulate"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.celery_worker,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server"),
]


def wait_for(condition, *, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen:\n{log.read_text()[-4000:]}"
        time.sleep(0.2)


def test_a_worker_holding_an_unacknowledged_task_survives_a_broker_restart(tmp_path):
    # given: a private Redis, a worker on it, and a task it holds unacknowledged (a countdown)
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    queue, log = new_queue(), tmp_path / "worker.log"
    producer = Celery("test-producer", broker=redis.url(1), set_as_current=False)
    held, following = f"held-{uuid.uuid4().hex}", f"next-{uuid.uuid4().hex}"
    try:
        with celery_worker(
            queue,
            log,
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            REDIS_URL=redis.url(0),
            CELERY_BROKER_URL=redis.url(1),
            LOG_JSON="0",
        ) as worker:
            wait_for(lambda: "ready." in log.read_text(), timeout=90, what="the worker's start", log=log)
            producer.send_task(TASK, args=[1], queue=queue, countdown=300, task_id=held)
            wait_for(
                lambda: f"[{held}] received" in log.read_text(), timeout=30, what="the delivery", log=log
            )

            # when: the broker stops and starts again
            redis.stop()
            time.sleep(2)
            redis.start()

            # then: the worker is still there, reconnects and runs the next task
            wait_for(
                lambda: log.read_text().count("Connected to redis") >= 2 or worker.poll() is not None,
                timeout=60,
                what="the reconnection",
                log=log,
            )
            assert worker.poll() is None, log.read_text()[-4000:]
            producer.send_task(TASK, args=[2], queue=queue, task_id=following)
            wait_for(
                lambda: f"[{following}] succeeded" in log.read_text(),
                timeout=60,
                what="the next task",
                log=log,
            )
            assert "Unrecoverable error" not in log.read_text()
    finally:
        producer.close()
        redis.stop()
