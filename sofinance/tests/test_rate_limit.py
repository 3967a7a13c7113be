"""Token-bucket rate limits: in-process, and shared by every process through Redis."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings

from accounts.tests.factories import UserFactory
from conftest import auth_client
from sofinance.api import throttling
from sofinance.api.throttling import LocalTokenBuckets, RedisTokenBuckets
from sofinance.tests.asserts import assert_error, assert_success


def _unique_key() -> str:
    return f"test:{uuid.uuid4().hex}"


def _race(take, threads: int = 20) -> list[bool]:
    """`threads` callers released together, each taking one token."""
    barrier = threading.Barrier(threads)
    results: list[bool] = [False] * threads

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        results[index] = take(index)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return results


# --------------------------------------------------------------------------- through the API


@pytest.fixture
def in_process_limits(settings, monkeypatch):
    settings.REDIS_URL = ""
    settings.RATE_LIMIT_PER_MINUTE = 6  # one token every 10 s
    settings.RATE_LIMIT_BURST = 3
    # The buckets' clock stands still: what the tests count never depends on how fast this
    # (shared, sometimes stalled) machine runs them.
    monkeypatch.setattr(throttling, "_local_buckets", LocalTokenBuckets(clock=lambda: 1000.0))
    return settings


@pytest.mark.django_db
def test_in_process_limit_refuses_past_the_burst_with_retry_after(in_process_limits):
    # given
    client = auth_client(UserFactory())

    # when
    statuses = [client.get("/api/v1/me").status_code for _ in range(3)]
    refused = client.get("/api/v1/me")

    # then
    assert statuses == [200, 200, 200]
    error = assert_error(refused, 429, "rate_limited")
    assert error == {"code": "rate_limited", "message": "Too many requests.", "details": {}}
    assert refused["Retry-After"] == "10"


@pytest.mark.django_db
def test_in_process_buckets_are_per_user(in_process_limits):
    # given: one user has spent the burst
    spender = auth_client(UserFactory())
    for _ in range(3):
        spender.get("/api/v1/me")

    # when
    other = auth_client(UserFactory()).get("/api/v1/me")

    # then
    assert_success(other)
    assert spender.get("/api/v1/me").status_code == 429


@pytest.mark.django_db
def test_anonymous_callers_are_limited_per_ip(in_process_limits, api_client):
    # given
    body = {"username": "nobody", "password": "x"}
    for _ in range(3):
        assert api_client.post("/api/v1/auth/token", body, format="json").status_code == 401

    # when
    same_ip = api_client.post("/api/v1/auth/token", body, format="json")
    other_ip = api_client.post("/api/v1/auth/token", body, format="json", REMOTE_ADDR="10.9.8.7")

    # then
    assert_error(same_ip, 429, "rate_limited")
    assert_error(other_ip, 401, "not_authenticated")


@pytest.mark.django_db
def test_a_zero_rate_switches_limiting_off(in_process_limits):
    in_process_limits.RATE_LIMIT_PER_MINUTE = 0
    client = auth_client(UserFactory())

    assert [client.get("/api/v1/me").status_code for _ in range(10)] == [200] * 10


@pytest.mark.django_db
def test_redis_limit_is_shared_by_two_web_processes(settings, monkeypatch):
    # given: the Redis-backed limiter, and a user who spends two of three tokens in "process A"
    assert settings.REDIS_URL
    settings.RATE_LIMIT_PER_MINUTE = 6
    settings.RATE_LIMIT_BURST = 3
    monkeypatch.setattr(throttling, "_redis_buckets", {})
    client = auth_client(UserFactory())
    assert [client.get("/api/v1/me").status_code for _ in range(2)] == [200, 200]
    process_a = throttling.get_buckets()
    assert isinstance(process_a, RedisTokenBuckets)

    # when: "process B" starts with its own Redis client and connection pool
    monkeypatch.setattr(throttling, "_redis_buckets", {})
    third = client.get("/api/v1/me")
    fourth = client.get("/api/v1/me")

    # then
    process_b = throttling.get_buckets()
    assert process_b is not process_a
    assert process_b._client.connection_pool is not process_a._client.connection_pool
    assert_success(third)
    assert_error(fourth, 429, "rate_limited")
    assert 8 <= int(fourth["Retry-After"]) <= 10  # 10 s a token, less what Redis's clock ran since
    throttling.reset_local_buckets()
    assert client.get("/api/v1/me").status_code == 429  # the state is in Redis, not in memory


def test_a_changed_redis_url_gets_its_own_client(settings, monkeypatch):
    # given
    monkeypatch.setattr(throttling, "_redis_buckets", {})
    first = throttling.get_buckets()
    base, db = settings.REDIS_URL.rsplit("/", 1)
    other_db = (int(db or 0) + 1) % 16

    # when
    settings.REDIS_URL = f"{base}/{other_db}"
    second = throttling.get_buckets()

    # then
    assert first is not second
    assert first._client.connection_pool.connection_kwargs["db"] == int(db or 0)
    assert second._client.connection_pool.connection_kwargs["db"] == other_db
    settings.REDIS_URL = ""
    assert throttling.get_buckets() is throttling._local_buckets


# --------------------------------------------------------------------------- the buckets themselves


def _redis_instance() -> RedisTokenBuckets:
    """A fresh client and pool, as a separate web process would have."""
    return RedisTokenBuckets(
        redis.Redis.from_url(django_settings.REDIS_URL), prefix=django_settings.RATE_LIMIT_KEY_PREFIX
    )


def test_two_redis_clients_share_one_bucket():
    # given
    process_a, process_b = _redis_instance(), _redis_instance()
    key = _unique_key()

    def take(buckets):
        return buckets.take(key, capacity=3, rate_per_second=0.1)

    # when
    decisions = [take(process_a), take(process_b), take(process_a), take(process_b)]

    # then
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 9.9 < decisions[3].wait <= 10.0
    ttl = process_a._client.ttl(process_a.prefix + key)
    assert 0 < ttl <= 90  # ceil(3 / 0.1) + 60: idle buckets expire


def test_redis_bucket_is_atomic_under_concurrency():
    # given: 20 callers, each with its own client, race for a burst of 5 that barely refills
    clients = [_redis_instance() for _ in range(20)]
    key = _unique_key()

    # when
    results = _race(lambda i: clients[i].take(key, capacity=5, rate_per_second=0.001).allowed)

    # then
    assert results.count(True) == 5


def test_redis_bucket_refills_at_the_rate():
    # given (Redis's own clock runs: a token a second, so a stall of this machine under a second
    # between two calls does not change what they count)
    buckets = _redis_instance()
    key = _unique_key()
    assert [buckets.take(key, capacity=2, rate_per_second=1).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]

    # when
    time.sleep(1.5)

    # then: 1.5 tokens came back, one can be taken
    assert [buckets.take(key, capacity=2, rate_per_second=1).allowed for _ in range(2)] == [True, False]


def test_local_bucket_is_atomic_under_concurrency():
    buckets = LocalTokenBuckets()

    results = _race(lambda i: buckets.take("k", capacity=5, rate_per_second=0.001).allowed)

    assert results.count(True) == 5


def test_local_bucket_refills_and_caps_at_capacity():
    # given
    now = [1000.0]
    buckets = LocalTokenBuckets(clock=lambda: now[0])
    assert [buckets.take("k", capacity=2, rate_per_second=10).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]
    now[0] += 0.15  # 1.5 tokens come back: one can be taken
    assert [buckets.take("k", capacity=2, rate_per_second=10).allowed for _ in range(2)] == [True, False]

    # when: long enough to refill far past capacity
    now[0] += 5

    # then: only `capacity` tokens are available
    assert [buckets.take("k", capacity=2, rate_per_second=10).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]


@pytest.mark.django_db
def test_redis_down_falls_back_to_in_process_limits(settings, monkeypatch):
    # given: REDIS_URL points at a port where nothing listens
    from sofinance.tests.ports import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.RATE_LIMIT_PER_MINUTE = 6
    settings.RATE_LIMIT_BURST = 2
    monkeypatch.setattr(throttling, "_redis_buckets", {})
    client = auth_client(UserFactory())
    # when / then: requests are served, and still limited, per process
    statuses = [client.get("/api/v1/me").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
