"""Named locks that span several transactions: one job per name at a time, across processes.

On PostgreSQL a session-level advisory lock (`pg_try_advisory_lock`) on a 64-bit key derived from
the name: held by the connection until released, and released by the server when the process
holding it dies (a worker killed mid-job never leaves a lock behind). The lock is tried, not
waited for on the server, so a waiting job polls until `wait` seconds have passed and then gives
up with `LockBusy` (a task retries later): no connection sits blocked in the server.

SQLite (the embedded, single-process setup) has no advisory locks: a process-local lock per
name stands in, which is all a single process needs.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

POLL_SECONDS = 0.25

_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


class LockBusy(Exception):
    """Another process held the lock for longer than the caller would wait."""

    def __init__(self, name: str, waited: float) -> None:
        super().__init__(f"{name} is held by another job (waited {waited:.1f} s).")
        self.name, self.waited = name, waited


def lock_key(name: str) -> int:
    """A signed 64-bit key for the name (what PostgreSQL's advisory locks take)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def named_lock(name: str, *, wait: float, on_wait=None) -> Iterator[float]:
    """Hold the lock `name` for the block; yields how long it waited.

    Must be entered outside any transaction on PostgreSQL (the lock belongs to the session and
    outlives transactions). `on_wait(seconds_waited)` is called once when the lock is busy.
    """
    if connection.vendor != "postgresql":
        with _local_lock(name, wait=wait, on_wait=on_wait) as waited:
            yield waited
        return
    key = lock_key(name)
    started = time.monotonic()
    told = False
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if cursor.fetchone()[0]:
                break
        waited = time.monotonic() - started
        if not told and on_wait is not None:
            on_wait(waited)
            told = True
        if waited >= wait:
            raise LockBusy(name, waited)
        time.sleep(POLL_SECONDS)
    try:
        yield time.monotonic() - started
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        except DatabaseError:  # a dead connection has released its locks already
            connection.close()


@contextmanager
def _local_lock(name: str, *, wait: float, on_wait) -> Iterator[float]:
    with _local_guard:
        lock = _local_locks.setdefault(name, threading.Lock())
    started = time.monotonic()
    if not lock.acquire(blocking=False):
        if on_wait is not None:
            on_wait(0.0)
        if not lock.acquire(timeout=max(wait, 0)):
            raise LockBusy(name, time.monotonic() - started)
    try:
        yield time.monotonic() - started
    finally:
        lock.release()
