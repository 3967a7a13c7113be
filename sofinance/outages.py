"""A dependency out of reach is a 503 the client may retry, not a 500 (API and admin alike).

`outage_error(exc)` recognises, anywhere in an exception's cause chain:
- the database unreachable or its connection lost (PostgreSQL restarting, a network cut, a
  server-side timeout closing the connection): reason `database_unavailable`, retry in 5 s;
- the database too busy to finish this request (a deadlock, a serialization failure, a lock or
  statement timeout, SQLite's "database is locked"): reason `database_busy`, retry in 1 s;
- Redis (the cache) unreachable: `cache_unavailable`; the Celery broker: `queue_unavailable`.
Each leaves the request's transaction rolled back, with one exception a client must know: when
the connection is lost while the database commits, the client cannot learn whether the commit
happened. Hence the advice in every message: send the request again with the same
Idempotency-Key; a write that did commit is replayed (its record commits with it), never done
twice. `discard_broken_connections` drops a lost connection at once, so the next request (or
task) connects afresh without waiting for the end-of-request signal to notice.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import InterfaceError, OperationalError, connections

from sofinance.errors import ServiceUnavailable

DATABASE_RETRY_AFTER = 5
BUSY_RETRY_AFTER = 1
CACHE_RETRY_AFTER = 5
QUEUE_RETRY_AFTER = 5

# SQLSTATEs of "busy, try again": serialization failure, deadlock, lock not available,
# query canceled (statement or lock timeout).
_BUSY_SQLSTATES = {"40001", "40P01", "55P03", "57014"}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _sqlstate(exc: BaseException) -> str | None:
    for item in _chain(exc):
        state = getattr(item, "sqlstate", None)
        if state:
            return state
    return None


def outage_error(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 for `exc` when it means a dependency is out of reach or busy, else None."""
    for item in _chain(exc):
        if isinstance(item, (OperationalError, InterfaceError)):
            return _database_error(item)
        module = type(item).__module__
        if module.startswith("psycopg") and type(item).__name__ in ("OperationalError", "InterfaceError"):
            return _database_error(item)
        if module.startswith("redis") and type(item).__name__ in (
            "ConnectionError",
            "TimeoutError",
            "BusyLoadingError",
        ):
            return ServiceUnavailable(
                "The cache is briefly unavailable. Nothing was changed; retry after Retry-After seconds.",
                retry_after=CACHE_RETRY_AFTER,
                details={"reason": "cache_unavailable"},
            )
        if module.startswith("kombu") and type(item).__name__ == "OperationalError":
            return ServiceUnavailable(
                "The task queue is briefly unavailable. Nothing was changed; retry after Retry-After seconds.",
                retry_after=QUEUE_RETRY_AFTER,
                details={"reason": "queue_unavailable"},
            )
    return None


def _database_error(exc: BaseException) -> ServiceUnavailable:
    state = _sqlstate(exc)
    if state in _BUSY_SQLSTATES or "database is locked" in str(exc):
        return ServiceUnavailable(
            "The database was too busy to finish this request. Nothing was changed; retry after "
            "Retry-After seconds.",
            retry_after=BUSY_RETRY_AFTER,
            details={"reason": "database_busy"},
        )
    return ServiceUnavailable(
        "The database is briefly unavailable. Retry after Retry-After seconds with the same "
        "Idempotency-Key: a write that was already done is then answered, never done twice.",
        retry_after=DATABASE_RETRY_AFTER,
        details={"reason": "database_unavailable"},
    )


def discard_broken_connections() -> None:
    """Close every database connection that met an error and no longer answers (outside a
    transaction: inside one, Django closes it when the transaction ends)."""
    for conn in connections.all(initialized_only=True):
        if conn.errors_occurred and not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()
