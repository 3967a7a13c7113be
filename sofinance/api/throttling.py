"""Rate limiting: a token bucket per user (per client address when anonymous).

The address is `sofinance.client_ip.client_ip`: the socket's peer unless TRUSTED_PROXY_COUNT
says which X-Forwarded-For entry a trusted proxy wrote.

A bucket holds RATE_LIMIT_BURST tokens and refills at RATE_LIMIT_PER_MINUTE / 60 per second;
each request takes one. In-process by default; when REDIS_URL is set the bucket lives in Redis and
is updated by one Lua script, so every web process shares it and concurrent requests cannot both
take the last token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from sofinance.client_ip import client_ip

logger = structlog.get_logger("sofinance.ratelimit")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    wait: float  # seconds until a token is available when refused


class LocalTokenBuckets:
    """Buckets in this process's memory, guarded by one lock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._clock = clock  # seconds, never going back (tests pass a fake one)

    def take(self, key: str, *, capacity: int, rate_per_second: float) -> Decision:
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (float(capacity), now))
            tokens = min(float(capacity), tokens + (now - stamp) * rate_per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return Decision(True, 0.0)
            self._buckets[key] = (tokens, now)
            return Decision(False, (1 - tokens) / rate_per_second)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


# KEYS[1] bucket; ARGV capacity, rate per second. Redis's own clock, so web nodes need not agree.
_TAKE_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = capacity; ts = now end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return {allowed, tostring(wait)}
"""


class RedisTokenBuckets:
    """Buckets shared by every process through Redis."""

    def __init__(self, client, *, prefix: str = "sofinance:ratelimit:") -> None:
        self._client = client
        self.prefix = prefix
        self._script = client.register_script(_TAKE_SCRIPT)

    def take(self, key: str, *, capacity: int, rate_per_second: float) -> Decision:
        allowed, wait = self._script(keys=[self.prefix + key], args=[capacity, rate_per_second])
        return Decision(bool(int(allowed)), float(wait))


_local_buckets = LocalTokenBuckets()
# One client per (Redis URL, key prefix): a changed setting gets its own, never a stale one.
_redis_buckets: dict[tuple[str, str], RedisTokenBuckets] = {}
_redis_lock = threading.Lock()


def get_buckets() -> LocalTokenBuckets | RedisTokenBuckets:
    if not settings.REDIS_URL:
        return _local_buckets
    identity = (settings.REDIS_URL, settings.RATE_LIMIT_KEY_PREFIX)
    with _redis_lock:
        buckets = _redis_buckets.get(identity)
        if buckets is None:
            import redis

            buckets = RedisTokenBuckets(redis.Redis.from_url(identity[0]), prefix=identity[1])
            _redis_buckets[identity] = buckets
        return buckets


def reset_local_buckets() -> None:
    _local_buckets.reset()


class TokenBucketThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        per_minute = settings.RATE_LIMIT_PER_MINUTE
        if per_minute <= 0:
            return True  # 0 switches rate limiting off
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            key = f"user:{user.pk}"
        else:
            key = f"ip:{self.get_ident(request)}"
        limits = {"capacity": max(1, settings.RATE_LIMIT_BURST), "rate_per_second": per_minute / 60.0}
        try:
            decision = get_buckets().take(key, **limits)
        except RedisError as exc:
            # Redis down must not take the API down with it: limit per process until it is back.
            logger.warning("rate_limit_redis_unavailable", error=str(exc))
            decision = _local_buckets.take(key, **limits)
        self._wait = decision.wait
        return decision.allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)

    def get_ident(self, request) -> str:
        """The client address by the project's one rule (sofinance.client_ip), never DRF's own
        reading of X-Forwarded-For, which believes whatever the client sends."""
        return client_ip(request) or "unknown"
