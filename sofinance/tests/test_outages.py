"""A dependency out of reach answers 503 with Retry-After (never a 500, never a wrong success),
writes nothing, and the next request works without a restart. Real faults on PostgreSQL: the
connection's backend terminated, a lock held past lock_timeout."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.models import Role
from audit.models import AuditEvent
from ledger.models import JournalEntry
from ledger.tests.factories import company_with_chart
from sofinance.models import IdempotencyRecord
from sofinance.outages import outage_error
from sofinance.tests.sessions import second_session

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {
    "date": "2026-03-02",
    "post": True,
    "lines": [{"account": "6100", "debit": "12.50"}, {"account": "1000", "credit": "12.50"}],
}


def terminate_our_backend() -> None:
    pid = connection.connection.info.backend_pid
    with second_session() as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0] is True


@pytest.fixture
def books(make_member):
    company = company_with_chart()
    _, client = make_member(company, Role.ACCOUNTANT)
    return company, client


def counts(company) -> tuple[int, int, int]:
    return (
        JournalEntry.objects.filter(company=company).count(),
        IdempotencyRecord.objects.count(),
        AuditEvent.objects.filter(company_id=company.pk, action="post").count(),
    )


def test_a_lost_database_connection_is_a_503_and_the_next_request_reconnects(books):
    company, client = books
    url = f"/api/v1/companies/{company.pk}/journal-entries"
    assert client.get(url).status_code == 200
    before = counts(company)

    terminate_our_backend()
    response = client.post(url, BODY, format="json", HTTP_IDEMPOTENCY_KEY="outage-1")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["success"] is False and body["data"] is None
    assert body["error"]["code"] == "service_unavailable"
    assert body["error"]["details"] == {"reason": "database_unavailable"}
    assert "Idempotency-Key" in body["error"]["message"]
    # the retry, same key: done once, on a new connection (no restart)
    retried = client.post(url, BODY, format="json", HTTP_IDEMPOTENCY_KEY="outage-1")
    assert retried.status_code == 201, retried.content
    assert counts(company) == (before[0] + 1, before[1] + 1, before[2] + 1)
    again = client.post(url, BODY, format="json", HTTP_IDEMPOTENCY_KEY="outage-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert counts(company) == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_a_lock_held_past_lock_timeout_is_a_503_database_busy_and_writes_nothing(books):
    company, client = books
    url = f"/api/v1/companies/{company.pk}/journal-entries"
    before = counts(company)
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    with second_session() as holder, holder.transaction():
        holder.execute("LOCK TABLE ledger_journalentry IN SHARE ROW EXCLUSIVE MODE")
        response = client.post(url, BODY, format="json", HTTP_IDEMPOTENCY_KEY="busy-1")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["error"]["details"] == {"reason": "database_busy"}
    assert counts(company) == before
    # the lock gone, the same request goes through
    assert client.post(url, BODY, format="json", HTTP_IDEMPOTENCY_KEY="busy-1").status_code == 201
    assert counts(company)[0] == before[0] + 1


def test_the_admin_shows_a_503_page_with_retry_after_when_the_database_is_lost(superuser):
    client = Client(raise_request_exception=False)
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 200

    terminate_our_backend()
    response = client.get("/admin/")  # the session middleware meets the lost connection

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Briefly unavailable" in response.content
    assert client.get("/admin/").status_code == 200


def test_a_bug_is_still_a_500_not_a_503():
    assert outage_error(ValueError("x")) is None
    assert outage_error(KeyError("connection")) is None


@pytest.mark.parametrize(
    ("exc", "reason", "retry_after"),
    [
        (RedisConnectionError("Error 111 connecting to 127.0.0.1:6379"), "cache_unavailable", 5),
        (KombuOperationalError("[Errno 111] Connection refused"), "queue_unavailable", 5),
    ],
)
def test_redis_and_broker_outages_are_503s_even_when_wrapped(exc, reason, retry_after):
    try:
        try:
            raise exc
        except Exception as inner:
            raise RuntimeError("while enqueueing") from inner
    except RuntimeError as wrapped:
        error = outage_error(wrapped)
    assert error is not None
    assert error.status_code == 503 and error.retry_after == retry_after
    assert error.details == {"reason": reason}


def test_a_post_that_commits_while_redis_is_down_is_a_201_not_a_503(books, monkeypatch):
    # given: the broker mode (seals queued through Redis) and Redis out of reach; found by
    # `make faults`: the write committed, then its seal's scheduling failed after the commit and
    # the client was told "503 cache_unavailable, nothing was changed"
    from audit import sealing

    company, client = books
    url = f"/api/v1/companies/{company.pk}/journal-entries"
    monkeypatch.setattr(sealing, "_tasks_run_eagerly", lambda: False)
    sealing._queued_until.clear()

    def redis_down(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(sealing.cache, "add", redis_down)
    before = counts(company)

    # when
    response = client.post(url, BODY, format="json", HTTP_IDEMPOTENCY_KEY="redis-down-1")

    # then: the answer says what happened (posted), once
    assert response.status_code == 201, response.content
    assert response.json()["data"]["status"] == "posted"
    assert counts(company) == (before[0] + 1, before[1] + 1, before[2] + 1)
