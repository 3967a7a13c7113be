"""Liveness, readiness (naming what is down) and Prometheus metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sofinance.tests.ports import free_port

BASE_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def _json(response) -> dict:
    return json.loads(response.content)


def test_live_answers_ok(client):
    response = client.get("/health/live")

    assert response.status_code == 200
    assert _json(response) == {"status": "ok"}


def test_live_refuses_other_methods(client):
    assert client.post("/health/live").status_code == 405


def test_ready_is_200_when_database_and_cache_are_up(client, settings):
    # given: the test settings run tasks eagerly, so the broker is not a dependency
    assert settings.CELERY_TASK_ALWAYS_EAGER is True

    # when
    response = client.get("/health/ready")

    # then
    body = _json(response)
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
    }
    assert "down" not in body


def test_ready_checks_the_broker_when_tasks_go_through_one(client, settings):
    # given
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = settings.REDIS_URL

    # when
    response = client.get("/health/ready")

    # then
    assert response.status_code == 200
    assert {name: c["status"] for name, c in _json(response)["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
    }


def test_ready_is_503_naming_a_dead_cache(client, settings):
    # given: the cache points at a Redis port where nothing listens
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "SOCKET_CONNECT_TIMEOUT": 1},
        }
    }

    # when
    response = client.get("/health/ready")

    # then
    body = _json(response)
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["down"] == ["cache"]
    assert body["checks"]["cache"]["status"] == "down"
    assert body["checks"]["cache"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["status"] == "ok"


def test_ready_is_503_naming_a_dead_broker(client, settings):
    # given
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    # when
    response = client.get("/health/ready")

    # then
    body = _json(response)
    assert response.status_code == 503
    assert body["down"] == ["broker"]
    assert body["checks"]["broker"]["status"] == "down"
    assert {body["checks"]["database"]["status"], body["checks"]["cache"]["status"]} == {"ok"}


def test_ready_is_503_naming_a_dead_database():
    # given: a process whose DATABASE_URL points at a closed port (a real failed connection)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofinance.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/nowhere",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "CRITICAL",
    }
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='localhost').get('/health/ready');"
        "print(json.dumps({'status': r.status_code, 'body': json.loads(r.content)}))"
    )

    # when
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    # then
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert outcome["body"]["down"] == ["database"]
    assert outcome["body"]["checks"]["database"]["error"] == "OperationalError"
    assert outcome["body"]["checks"]["cache"]["status"] == "ok"


def test_metrics_serve_prometheus_text(client):
    # given: some traffic to count
    client.get("/health/live")

    # when
    response = client.get("/metrics")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "# TYPE django_http_requests_before_middlewares_total counter" in text
    assert 'django_http_responses_total_by_status_total{status="200"}' in text
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in text
