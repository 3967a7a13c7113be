"""Writing audit events (called by every service inside its own transaction), sealing them into
their chains after commit, and verifying the chains.

Signing and hashing live in `audit.signing`, sealing in `audit.sealing`, verification in
`audit.verification`; this module is the entry point other apps import.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from audit import context as audit_ctx
from audit.changes import json_value
from audit.models import ActorType, AuditEvent, AuditPendingSeal, chain_key, time_ordered_uids
from audit.sealing import audit_chain_seal, audit_chains_seal, schedule_seal
from audit.signing import canonical_content, hmac_key, sign
from audit.verification import AuditVerification, ChainVerification, verify_audit_chain
from sofinance.client_ip import normalise_ip
from sofinance.db_batch import StatementBatch

__all__ = [
    "AuditVerification",
    "ChainVerification",
    "EventItem",
    "audit_chain_seal",
    "audit_chains_seal",
    "audit_event_build",
    "audit_events_build",
    "audit_events_write",
    "audit_record",
    "canonical_content",
    "sign",
    "verify_audit_chain",
]

logger = structlog.get_logger("sofinance.audit")

SYSTEM_ACTOR = "system"
ANONYMOUS_ACTOR = "anonymous"


def _pk(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, models.Model):
        return value.pk
    return int(value)


def _resolve_actor(actor: Any, actor_name: str | None, ctx: audit_ctx.AuditContext) -> tuple[str, Any, str]:
    """(actor_type, actor_id, actor_repr): the given user, the request's user, a named system
    actor, an anonymous web client, or "system" (in that order)."""
    actor = actor if actor is not None else ctx.actor
    if actor is not None and getattr(actor, "is_authenticated", False):
        return ActorType.USER, actor.pk, str(actor.get_username())
    if actor_name or ctx.actor_name:
        return ActorType.SYSTEM, None, actor_name or ctx.actor_name
    if ctx.request is not None:
        return ActorType.ANONYMOUS, None, ANONYMOUS_ACTOR
    return ActorType.SYSTEM, None, SYSTEM_ACTOR


@dataclass(slots=True)
class PreparedEvent:
    """An event signed and ready to be written (`audit_events_write`): the fields of an
    AuditEvent row, without the cost of a model instance on the hot write paths."""

    uid: uuid.UUID
    created_at: datetime.datetime
    company_id: int | None
    actor_type: str
    actor_id: int | None
    actor_repr: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    metadata: dict[str, Any]
    request_id: str
    ip: str | None
    user_agent: str
    signature: str = ""
    content: bytes = b""  # what the signature covers (audit.signing.canonical_content)

    def as_model(self) -> AuditEvent:
        return AuditEvent(**{name: getattr(self, name) for name in self.__slots__ if name != "content"})


@dataclass(frozen=True, slots=True)
class EventItem:
    """What changes from one event to the next when one writer records many at once."""

    action: str
    object_type: str
    object_id: Any
    object_repr: str
    changes: dict[str, Any]
    metadata: dict[str, Any] | None = None


def audit_event_build(
    *,
    action: str,
    company: Any = None,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
    changes: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    actor: Any = None,
    actor_name: str | None = None,
    json_ready: bool = False,
) -> PreparedEvent:
    """One event, signed and not yet saved (see `audit_record` for who the actor is).

    Values are cut to their columns' lengths before signing, so the stored row is what was signed.
    `json_ready`: `changes` and `metadata` already hold only JSON values (str, int, bool, None,
    lists and dicts of them), as the hot write paths build them: they are not converted again.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else obj.pk
        object_repr = object_repr if object_repr is not None else str(obj)
    item = EventItem(
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        object_repr=object_repr or "",
        changes=(changes or {}) if json_ready else json_value(changes or {}),
        metadata=(metadata or {}) if json_ready else json_value(metadata or {}),
    )
    return audit_events_build([item], company=company, actor=actor, actor_name=actor_name)[0]


def audit_events_build(
    items: Sequence[EventItem], *, company: Any = None, actor: Any = None, actor_name: str | None = None
) -> list[PreparedEvent]:
    """Events of one writer in one transaction (a bulk post records one per entry), signed and
    not yet saved. The context, the actor, the clock and the key are read once; each item's
    `changes` and `metadata` must hold JSON values already."""
    ctx = audit_ctx.current()
    actor_type, actor_id, actor_repr = _resolve_actor(actor, actor_name, ctx)
    actor_repr = str(actor_repr)[:255]
    created_at = timezone.now()
    company_id = _pk(company)
    request_id = (ctx.request_id or "")[:128]
    ip = normalise_ip(ctx.ip)
    user_agent = (ctx.user_agent or "")[:512]
    key = hmac_key()
    events = []
    for item, uid in zip(items, time_ordered_uids(len(items)), strict=True):
        event = PreparedEvent(
            uid=uid,
            created_at=created_at,
            company_id=company_id,
            actor_type=actor_type,
            actor_id=actor_id,
            actor_repr=actor_repr,
            action=str(item.action)[:32],
            object_type=item.object_type[:100],
            object_id=("" if item.object_id is None else str(item.object_id))[:64],
            object_repr=item.object_repr[:255],
            changes=item.changes,
            metadata=item.metadata or {},
            request_id=request_id,
            ip=ip,
            user_agent=user_agent,
        )
        event.content = canonical_content(event)
        event.signature = sign(event.content, key=key)
        events.append(event)
    return events


def _log_only(event: PreparedEvent) -> None:
    logger.info(
        "audit_event",
        action=event.action,
        company_id=event.company_id,
        actor_type=event.actor_type,
        actor_id=event.actor_id,
        actor=event.actor_repr,
        object_type=event.object_type,
        object_id=event.object_id,
        object_repr=event.object_repr,
        changes=event.changes,
        metadata=event.metadata,
        audit_request_id=event.request_id,
        ip=event.ip,
        user_agent=event.user_agent,
        at=event.created_at.isoformat(),
    )


def audit_record(
    *,
    action: str,
    company: Any = None,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
    changes: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    actor: Any = None,
    actor_name: str | None = None,
) -> AuditEvent | None:
    """Record one event in the caller's transaction: it exists if and only if the change commits.

    `actor` is the acting user when there is one; otherwise the context's user, then the
    context's named system actor (a task or command), then "anonymous" within a web request,
    then "system". The event is signed now and sealed into its company's chain shortly after
    the transaction commits; writers never wait on the chain.
    With ENABLE_AUDIT_LOGGING off the event goes to the structured log only and None is returned.
    """
    event = audit_event_build(
        action=action,
        company=company,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        changes=changes,
        metadata=metadata,
        actor=actor,
        actor_name=actor_name,
    )
    if not settings.ENABLE_AUDIT_LOGGING:
        _log_only(event)
        return None
    event = event.as_model()
    chain = chain_key(event.company_id)
    # The event and its place in the sealer's queue are written together: in the caller's
    # transaction (no savepoint), or in one of their own when the caller has none (a signal).
    with transaction.atomic(savepoint=False):
        event.save(force_insert=True)
        AuditPendingSeal.objects.create(event=event, chain=chain)
        schedule_seal(chain)
    return event


def audit_events_write(events: Sequence[PreparedEvent], *, batch: StatementBatch | None = None) -> None:
    """Record prepared events (`audit_event_build`) in the caller's transaction, with their
    pending seals, and ask for the seal after commit.

    With a statement batch on PostgreSQL the events are one more call in the caller's statement
    (the hot write paths: posting; see sofinance.db_batch); otherwise they are inserted at once.
    """
    if not events:
        return
    if not settings.ENABLE_AUDIT_LOGGING:
        for event in events:
            _log_only(event)
        return
    if batch is not None and batch.vendor == "postgresql":
        # Each row: the signed content as it was signed (already JSON) and its signature.
        rows = ",".join(f'[{e.content.decode()},"{e.signature}"]' for e in events)
        batch.add_call("audit_events_insert_signed(%s::jsonb)", [f"[{rows}]"])  # migration 0008
    else:
        with transaction.atomic(savepoint=False):
            saved = AuditEvent.objects.bulk_create([e.as_model() for e in events])
            AuditPendingSeal.objects.bulk_create(
                AuditPendingSeal(event=e, chain=chain_key(e.company_id)) for e in saved
            )
    for chain in {chain_key(e.company_id) for e in events}:
        schedule_seal(chain)
