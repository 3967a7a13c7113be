"""A real Celery worker for the tests that are about Celery: `celery -A sofinance worker` (solo
pool) on the Redis broker, consuming a queue of its own, against this test's database and media
folder. One harness for every app's worker tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from sofinance.tests.subprocesses import BASE_DIR, clean_env


def test_database_url() -> str:
    """The URL of the database this test uses (pytest-django's test_<name>, maybe with a suffix)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def new_queue() -> str:
    return f"test-{uuid.uuid4().hex}"


@contextmanager
def celery_worker(queue: str, log_path: Path, **env: str) -> Iterator[subprocess.Popen]:
    """Run a worker consuming `queue` (its output appended to `log_path`) until the block ends;
    `env` adds environment variables or replaces these defaults (another broker, database or
    settings module). Stopped with SIGTERM, then SIGKILL after 15 s."""
    assert settings.REDIS_URL or env.get("CELERY_BROKER_URL"), "this test needs Redis (REDIS_URL)"
    defaults = {
        "DJANGO_SETTINGS_MODULE": "sofinance.settings_test",
        "DATABASE_URL": env.get("DATABASE_URL") or test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LOG_LEVEL": "INFO",
    }
    environment = clean_env(**{**defaults, **env})
    celery = Path(sys.executable).with_name("celery")
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [str(celery), "-A", "sofinance", "worker", "--pool=solo", "--queues", queue, "--hostname",
             f"{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel=INFO"],
            cwd=BASE_DIR,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
