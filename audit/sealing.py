"""Sealing: appending committed events to their chain, shortly after they commit.

Writers never touch a chain. `audit_record` inserts the signed event and a pending row in the
caller's transaction and asks for a seal after commit; the sealer then takes the chain's head
row lock, reads the chain's committed pending events in id order, appends one seal per event
and moves the head, in one transaction per batch. Only sealers of the same chain queue on the
head lock; the writers of a company never wait for each other because of the audit trail.
"""

from __future__ import annotations

import atexit
import threading
import time

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from audit.models import (
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    AuditPendingSeal,
    AuditSeal,
    chain_company_id,
    chain_key,
)
from audit.selectors import event_rows
from audit.signing import content_bytes, head_signature, hmac_key, link_hash

logger = structlog.get_logger("sofinance.audit")

SEAL_BATCH_SIZE = 1000
# With a broker, a burst of commits schedules one seal task per chain: the first commit sets
# this key and queues the task `SEAL_DELAY` seconds later; the task deletes the key before it
# reads, so a commit that finds the key set is always seen by the queued task. The key holds
# when that task starts: a process that finds it set asks Redis no more until shortly before
# then (one round trip per worker per countdown, not one per commit). The key expires on its
# own if the task is lost; the beat schedule (AUDIT_SEAL_INTERVAL) seals what is left.
SEAL_DEBOUNCE_KEY = "audit:seal-scheduled:{chain}"


def seal_delay() -> float:
    return float(getattr(settings, "AUDIT_SEAL_DELAY", 1.0))


def _genesis_head(chain: str) -> AuditChainHead:
    return AuditChainHead(
        chain=chain,
        company_id=chain_company_id(chain),
        last_seq=0,
        last_hash=GENESIS_HASH,
        last_event_id=None,
        signature=head_signature(chain=chain, last_seq=0, last_hash=GENESIS_HASH, last_event_id=None),
    )


def locked_head(chain: str) -> AuditChainHead:
    """The chain's head row, locked until the end of the caller's transaction (created if new)."""
    head = AuditChainHead.objects.select_for_update().filter(chain=chain).first()
    if head is None:
        # Two first sealers may race here: ON CONFLICT DO NOTHING, then both lock the one row.
        AuditChainHead.objects.bulk_create([_genesis_head(chain)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(chain=chain)
    return head


def _seal_batch(chain: str, batch_size: int) -> int:
    key = hmac_key()
    if not AuditPendingSeal.objects.filter(chain=chain).exists():
        return 0  # nothing to seal: no lock, and no head for a chain that has no event yet
    with transaction.atomic():
        head = locked_head(chain)
        event_ids = list(
            AuditPendingSeal.objects.filter(chain=chain)
            .order_by("event_id")
            .values_list("event_id", flat=True)[:batch_size]
        )
        if not event_ids:
            return 0
        rows = event_rows(chain=chain, event_ids=event_ids)
        seq, prev_hash, last_event_id = head.last_seq, head.last_hash, head.last_event_id
        sealed_at = timezone.now()
        seals: list[AuditSeal] = []
        for pk, signature, *content in rows:
            seq += 1
            digest = link_hash(
                chain=chain,
                seq=seq,
                prev_hash=prev_hash,
                signature=signature,
                content=content_bytes(tuple(content)),
                key=key,
            )
            seals.append(
                AuditSeal(
                    event_id=pk,
                    chain=chain,
                    company_id=head.company_id,
                    seq=seq,
                    prev_hash=prev_hash,
                    hash=digest,
                    sealed_at=sealed_at,
                )
            )
            prev_hash, last_event_id = digest, pk
        sealed_ids = [seal.event_id for seal in seals]
        if len(sealed_ids) != len(event_ids):
            # A pending row naming an event of another chain was not written by audit_record:
            # say so, and queue the event in its own chain instead.
            stray = sorted(set(event_ids) - set(sealed_ids))
            logger.error("audit_pending_seal_mismatch", chain=chain, event_ids=stray)
            for event_id, company_id in AuditEvent.objects.filter(pk__in=stray).values_list(
                "pk", "company_id"
            ):
                AuditPendingSeal.objects.filter(event_id=event_id).update(chain=chain_key(company_id))
        AuditSeal.objects.bulk_create(seals)
        AuditPendingSeal.objects.filter(event_id__in=sealed_ids).delete()
        head.last_seq, head.last_hash, head.last_event_id = seq, prev_hash, last_event_id
        head.signature = head_signature(
            chain=chain, last_seq=seq, last_hash=prev_hash, last_event_id=last_event_id, key=key
        )
        head.updated_at = sealed_at
        head.save(update_fields=["last_seq", "last_hash", "last_event_id", "signature", "updated_at"])
    return len(seals)


def audit_chain_seal(*, chain: str, batch_size: int = SEAL_BATCH_SIZE) -> int:
    """Append a chain's committed, unsealed events to it, oldest id first; returns how many.

    Each batch is one transaction under the chain's head lock, so concurrent sealers of a chain
    take turns and an event is sealed exactly once. An event whose transaction has not committed
    yet is invisible here and is sealed by the seal its own commit schedules.
    """
    total = 0
    while True:
        sealed = _seal_batch(chain, batch_size)
        total += sealed
        if sealed < batch_size:
            _vacuum_pending_if_due(total)
            return total


# Every sealed event leaves a dead row in the pending queue. Where autovacuum is off (or slow to
# visit a small, busy table) the queue's index fills with dead entries that every seal scans, so
# the sealer vacuums the queue itself after this many seals (outside a transaction, PostgreSQL).
VACUUM_PENDING_EVERY = 5000
_sealed_since_vacuum = 0


def _vacuum_pending_if_due(sealed: int) -> None:
    global _sealed_since_vacuum
    from django.db import DatabaseError, connection

    _sealed_since_vacuum += sealed
    if (
        _sealed_since_vacuum < VACUUM_PENDING_EVERY
        or connection.vendor != "postgresql"
        or connection.in_atomic_block
    ):
        return
    _sealed_since_vacuum = 0
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {AuditPendingSeal._meta.db_table}")
    except DatabaseError:  # not the table's owner (a least-privilege role): autovacuum's job then
        logger.info("audit_pending_vacuum_skipped", reason="not permitted")


def audit_chains_seal(*, chain: str | None = None) -> dict[str, int]:
    """Seal one chain, or every chain with pending events: {chain: events sealed}."""
    chains = (
        [chain]
        if chain
        else list(AuditPendingSeal.objects.order_by("chain").values_list("chain", flat=True).distinct())
    )
    return {name: audit_chain_seal(chain=name) for name in chains}


# --------------------------------------------------------------------------- scheduling


def _tasks_run_eagerly() -> bool:
    from celery import current_app

    return bool(current_app.conf.task_always_eager)


class InProcessSealer:
    """Sealing without a broker (tasks eager: `make run`, tests): no worker and no beat exist, so
    one daemon thread per process seals the chains that committed events, at most every
    `seal_delay()` seconds. A writer only adds its chain to a set: it never waits for the chain.

    `AUDIT_SEALER = "manual"` (the test settings) keeps the thread off: requests wait for
    `flush()`, which seals them in the calling thread, so a test decides when sealing happens.
    """

    def __init__(self) -> None:
        self._chains: set[str] = set()
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._thread: threading.Thread | None = None

    def request(self, chain: str) -> None:
        with self._lock:
            self._chains.add(chain)
            if getattr(settings, "AUDIT_SEALER", "thread") == "manual":
                return
            if self._thread is None or not self._thread.is_alive():
                if self._thread is None:
                    # A short-lived process (a management command) ends before the thread's
                    # next round: what it recorded is sealed on the way out.
                    atexit.register(self._flush_at_exit)
                self._thread = threading.Thread(target=self._loop, name="audit-sealer", daemon=True)
                self._thread.start()
        self._wakeup.set()

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception:
            logger.exception("audit_seal_failed", at="exit")

    def pending(self) -> set[str]:
        with self._lock:
            return set(self._chains)

    def _take(self) -> set[str]:
        with self._lock:
            chains, self._chains = self._chains, set()
        return chains

    def flush(self) -> dict[str, int]:
        """Seal every requested chain now, in this thread: {chain: events sealed}."""
        return {chain: audit_chain_seal(chain=chain) for chain in sorted(self._take())}

    def _loop(self) -> None:
        from django.db import connection

        while True:
            self._wakeup.wait()
            time.sleep(seal_delay())  # let a burst of commits gather into one seal
            self._wakeup.clear()
            chains = self._take()
            try:
                for chain in sorted(chains):
                    audit_chain_seal(chain=chain)
            except Exception:
                # Never lose a request: retry after the next delay (the events stay pending).
                logger.exception("audit_seal_failed", chains=sorted(chains))
                with self._lock:
                    self._chains |= chains
                self._wakeup.set()
            finally:
                connection.close()


in_process_sealer = InProcessSealer()

# With a broker: the monotonic time until which a seal queued for the chain (by this process, or
# by another one whose queued seal this process has seen) is still waiting for its countdown. A
# commit before then is read by that seal (the task reads no earlier than its countdown), so the
# commit needs no Redis round trip to debounce.
_queued_until: dict[str, float] = {}
# A seal queued by another process starts by that process's clock: this process stops relying on
# it this long before its start, for clocks of different hosts that disagree a little.
SEAL_CLOCK_MARGIN = 0.25
# The monotonic time until which the chain's queued seal is known to be late (its start has passed
# and it has not begun): commits meanwhile still ask Redis whether it is queued, not when.
_late_until: dict[str, float] = {}


def _seal_after_commit(chain: str) -> None:
    from audit.tasks import audit_seal_chains  # tasks import services: import at call time

    if _tasks_run_eagerly():
        in_process_sealer.request(chain)
        return
    now = time.monotonic()
    if _queued_until.get(chain, 0.0) > now:
        return
    debounce_key = SEAL_DEBOUNCE_KEY.format(chain=chain)
    try:
        # The key holds when the queued seal starts (wall clock: other processes read it).
        if not cache.add(debounce_key, time.time() + seal_delay(), timeout=max(60, int(seal_delay() * 10))):
            # A seal of this chain is queued and has not started reading yet. Until shortly
            # before it starts, this process's commits are read by it: they skip the round trip.
            if _late_until.get(chain, 0.0) > now:
                return  # that seal is late (its start has passed): nothing new to learn yet
            starts = cache.get(debounce_key)
            if isinstance(starts, float):
                until = now + (starts - time.time()) - SEAL_CLOCK_MARGIN
                if until > now:
                    _queued_until[chain] = until
                else:  # late (workers busy, or none): ask when it starts again after a delay
                    _late_until[chain] = now + seal_delay()
            return
    except RedisError:
        # The cache (Redis, usually the broker's server too) is out of reach: the events stay
        # pending and the beat schedule seals them; the committed write is not an error.
        logger.warning("audit_seal_not_scheduled", chain=chain, reason="cache unavailable")
        return
    try:
        audit_seal_chains.apply_async(kwargs={"chain": chain}, countdown=seal_delay())
    except BrokerError:
        cache.delete(debounce_key)
        logger.warning("audit_seal_not_scheduled", chain=chain, reason="broker unavailable")
        return
    _queued_until[chain] = now + seal_delay()


def clear_seal_debounce(chain: str) -> None:
    """Called by the seal task before it reads, so later commits schedule a new task."""
    cache.delete(SEAL_DEBOUNCE_KEY.format(chain=chain))


def schedule_seal(chain: str) -> None:
    """Seal the chain after the current transaction commits (nothing if it rolls back).

    One callback per chain and transaction, however many events the transaction records. The
    seal itself is debounced in every mode: a Celery task `seal_delay()` seconds later with a
    broker, the in-process sealer thread without one; the commit never waits for it.
    """
    connection = transaction.get_connection()
    for _sids, func, _robust in connection.run_on_commit:
        if getattr(func, "audit_seal_chain", None) == chain:
            return

    def callback() -> None:
        _seal_after_commit(chain)

    callback.audit_seal_chain = chain  # type: ignore[attr-defined]
    # robust: the write has committed; a failure to seal must not turn it into an error. (A
    # function, not a functools.partial: Django names a failed robust callback by its
    # __qualname__, which a partial lacks, and the AttributeError escaped after the commit.)
    transaction.on_commit(callback, robust=True)
