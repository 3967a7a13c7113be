"""Reads on a streaming replica, writes on the primary (on only when DATABASE_REPLICA_URL is set).

Reads go to the replica alias ("replica") unless any of these sends them to the primary:
- a write is under way: the primary is in a transaction (reads inside a service's atomic block
  must see its own writes and take its locks), or the request itself writes (POST, PUT, PATCH,
  DELETE);
- read-your-writes: the user made a write less than REPLICA_READ_YOUR_WRITES_SECONDS ago (their
  next pages must show it, whatever the replica's lag);
- the replica is down, not a replica, or behind by more than REPLICA_MAX_LAG_SECONDS (checked at
  most every few seconds per process): reads fall back to the primary, and come back on their own.
Writes and migrations always go to the primary. Raw-SQL readers (the reports) ask
`read_connection()` for the same decision.
"""

from __future__ import annotations

import contextvars
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.functional import SimpleLazyObject, empty

REPLICA = "replica"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_request = contextvars.ContextVar("sofinance_replica_request", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def _recent_writer_key(user_id: int) -> str:
    return f"replica:recent-write:{user_id}"


class ReplicaHealth:
    """Whether the replica may serve reads now; asked of the database at most every CHECK_EVERY s."""

    CHECK_EVERY = 2.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._usable = False

    def usable(self) -> bool:
        now = time.monotonic()
        if now - self._checked_at < self.CHECK_EVERY:
            return self._usable
        with self._lock:
            if now - self._checked_at >= self.CHECK_EVERY:
                self._usable = self._probe()
                self._checked_at = now
        return self._usable

    def forget(self) -> None:
        self._checked_at = 0.0

    @staticmethod
    def _probe() -> bool:
        max_lag = float(getattr(settings, "REPLICA_MAX_LAG_SECONDS", 30))
        replica = connections[REPLICA]
        try:
            with replica.cursor() as cursor:
                # Caught up (nothing received that is not replayed) counts as no lag, however long
                # the primary has been idle; otherwise the age of the last replayed transaction.
                cursor.execute(
                    "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
                    "THEN 0 ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END"
                )
                in_recovery, lag = cursor.fetchone()
        except Exception:  # down, refusing connections, or any driver error: read from the primary
            replica.close()
            return False
        return bool(in_recovery) and float(lag) <= max_lag


health = ReplicaHealth()


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return REPLICA if _replica_may_read() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's very rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def _replica_may_read() -> bool:
    if not replica_configured():
        return False
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return False
    request = _request.get()
    if request is not None and _pinned_to_primary(request):
        return False
    return health.usable()


def _pinned_to_primary(request) -> bool:
    if request.method not in _SAFE_METHODS:
        return True
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return False  # nobody known yet (and evaluating it here would read the session: recursion)
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    if user_id is None:
        return False
    decided = request.__dict__.get("_sofinance_pinned")  # one cache read per request and user
    if decided is None or decided[0] != user_id:
        decided = (user_id, bool(cache.get(_recent_writer_key(user_id))))
        request._sofinance_pinned = decided
    return decided[1]


def read_connection():
    """The connection a raw-SQL reader should use (the router's decision for a read)."""
    return connections[REPLICA if _replica_may_read() else DEFAULT_DB_ALIAS]


class ReplicaRoutingMiddleware:
    """Lets the router see the request (its method, its user), and remembers a user's writes for
    REPLICA_READ_YOUR_WRITES_SECONDS so their next reads come from the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        token = _request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        if request.method not in _SAFE_METHODS and response.status_code < 400:
            user = getattr(request, "user", None)
            if getattr(user, "is_authenticated", False):
                window = int(getattr(settings, "REPLICA_READ_YOUR_WRITES_SECONDS", 5))
                cache.set(_recent_writer_key(user.pk), 1, timeout=max(1, window))
        return response
