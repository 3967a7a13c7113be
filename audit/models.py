"""The audit trail: append-only events, signed on write and sealed into a hash chain after commit.

Three tables hold the trail, and a fourth is the sealer's work queue:

- `AuditEvent`: one row per recorded action, inserted (signed) by `audit_record` inside the
  caller's transaction. Never updated, never deleted (database triggers refuse it).
- `AuditSeal`: one row per sealed event, inserted by the sealer after the event committed: the
  event's place in its chain (`seq`), the previous link's hash and its own. Append-only too.
- `AuditChainHead`: one row per chain, the last seal's `seq` and hash. The sealer locks it, so
  only sealers queue on it, never writers. Its `last_seq` never goes backwards (trigger).
- `AuditPendingSeal`: events written but not yet sealed, so the sealer finds them without
  scanning the trail. Rows leave it as their events are sealed.

A chain is one company's events (`company:<id>`), or the events of no company (`global`).
See docs/audit.md for the design and what each check detects.
"""

from __future__ import annotations

import secrets
import time
import uuid

from django.db import models
from django.utils import timezone

GLOBAL_CHAIN = "global"
GENESIS_HASH = "0" * 64


def time_ordered_uid() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.

    As unique and unguessable as a random UUID, but new events' uids sort after older ones, so
    the unique index grows at its right edge instead of touching a random page per event.
    """
    return time_ordered_uids(1)[0]


def time_ordered_uids(count: int) -> list[uuid.UUID]:
    """`count` UUIDv7s of this millisecond, their random bits read from the OS in one call (a
    bulk post signs a thousand events)."""
    millis = (int(time.time() * 1000) & (2**48 - 1)) << 80
    randomness = secrets.token_bytes(10 * count)
    uids = []
    for offset in range(0, 10 * count, 10):
        value = millis | int.from_bytes(randomness[offset : offset + 10], "big")
        value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
        value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
        uids.append(uuid.UUID(int=value))
    return uids


def chain_key(company_id: int | None) -> str:
    """The chain an event of this company belongs to."""
    return GLOBAL_CHAIN if company_id is None else f"company:{company_id}"


def chain_company_id(chain: str) -> int | None:
    """The company of a chain (None for the global chain)."""
    if chain == GLOBAL_CHAIN:
        return None
    prefix, _, value = chain.partition(":")
    if prefix != "company" or not (value.isascii() and value.isdigit()):
        raise ValueError(f"Not an audit chain: {chain!r}")
    return int(value)


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    POST = "post", "Post"
    REVERSE = "reverse", "Reverse"
    ISSUE = "issue", "Issue"
    VOID = "void", "Void"
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Login failed"
    LOGOUT = "logout", "Logout"
    REVOKE = "revoke", "Revoke"
    EXPORT = "export", "Export"
    CLOSE = "close", "Close"
    REOPEN = "reopen", "Reopen"
    LOCK = "lock", "Lock"
    IMPORT = "import", "Import"
    REBUILD = "rebuild", "Rebuild"


class ActorType(models.TextChoices):
    USER = "user", "User"
    SYSTEM = "system", "System"
    ANONYMOUS = "anonymous", "Anonymous"


class AuditEvent(models.Model):
    """Who did what to which object, when, from where. Never updated, never deleted.

    `company_id` and `actor_id` are plain integers, not foreign keys: the trail must outlive and
    never constrain the rows it describes, and the audit app depends on no domain app.
    """

    # Random, unique, and covered by the signature: a copied row cannot reuse a real signature.
    uid = models.UUIDField(default=time_ordered_uid, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Indexed by the (company_id, created_at) and (company_id, object...) indexes that lead with it.
    company_id = models.BigIntegerField(null=True, blank=True)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_repr = models.CharField(max_length=255)
    action = models.CharField(max_length=32)
    object_type = models.CharField(max_length=100, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    object_repr = models.CharField(max_length=255, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=128, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    # HMAC of the canonical content, computed by audit_record: a row written around the
    # application (raw SQL) cannot carry a valid one.
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["company_id", "-created_at"], name="audit_company_created_idx"),
            models.Index(fields=["company_id", "object_type", "object_id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_repr} {self.action} {self.object_type}:{self.object_id}"


class AuditSeal(models.Model):
    """An event's link in its chain: `hash` covers the previous link's hash, the event's
    signature and canonical content, the chain and the position. Never updated, never deleted."""

    # The event is the primary key: an event is sealed at most once. DO_NOTHING, because events
    # are never deleted and the database (not Django's collector) must be the one to refuse it.
    event = models.OneToOneField(
        AuditEvent, primary_key=True, on_delete=models.DO_NOTHING, related_name="seal"
    )
    chain = models.CharField(max_length=40)
    company_id = models.BigIntegerField(null=True, blank=True)
    seq = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_seal_chain_seq_unique"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_seal_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq}"


class AuditChainHead(models.Model):
    """The end of one chain. Sealers lock this row; verification compares the last seal with it,
    so removing sealed events from the tail is detected. `signature` is an HMAC of the head, so
    a head rewritten by raw SQL to hide a truncation does not verify."""

    chain = models.CharField(max_length=40, unique=True)
    company_id = models.BigIntegerField(null=True, blank=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    last_event_id = models.BigIntegerField(null=True, blank=True)
    signature = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.chain} @ {self.last_seq}"


class AuditPendingSeal(models.Model):
    """An event waiting to be sealed: written in the event's transaction, removed when sealed."""

    event = models.OneToOneField(
        AuditEvent, primary_key=True, on_delete=models.DO_NOTHING, related_name="pending_seal"
    )
    chain = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["chain", "event"], name="audit_pending_chain_idx")]

    def __str__(self) -> str:
        return f"{self.chain}: event {self.event_id}"
