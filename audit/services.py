"""Writing audit events. Called by every service inside its own transaction."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import structlog
from django.conf import settings
from django.db import models
from django.utils import timezone

from audit import context as audit_ctx
from audit.changes import json_value
from audit.models import ActorType, AuditEvent

logger = structlog.get_logger("sofinance.audit")

SYSTEM_ACTOR = "system"


def _pk(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, models.Model):
        return value.pk
    return int(value)


def canonical_content(event: AuditEvent) -> bytes:
    """The bytes an event's signature and chain hash cover: every field but the chain's own."""
    content = {
        "uid": str(event.uid),
        "created_at": event.created_at.isoformat(),
        "company_id": event.company_id,
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "actor_repr": event.actor_repr,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes,
        "metadata": event.metadata,
        "request_id": event.request_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(content: bytes) -> str:
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), content, hashlib.sha256).hexdigest()


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
    context's named system actor (a task or command), then "system".
    With ENABLE_AUDIT_LOGGING off the event goes to the structured log only and None is returned.
    """
    ctx = audit_ctx.current()
    actor = actor if actor is not None else ctx.actor
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_type, actor_id, actor_repr = ActorType.USER, actor.pk, str(actor.get_username())
    elif actor_name or ctx.actor_name:
        actor_type, actor_id, actor_repr = ActorType.SYSTEM, None, actor_name or ctx.actor_name
    else:
        actor_type, actor_id, actor_repr = ActorType.SYSTEM, None, SYSTEM_ACTOR
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else obj.pk
        object_repr = object_repr if object_repr is not None else str(obj)
    event = AuditEvent(
        created_at=timezone.now(),
        company_id=_pk(company),
        actor_type=actor_type,
        actor_id=actor_id,
        actor_repr=actor_repr[:255],
        action=str(action),
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:255],
        changes=json_value(changes or {}),
        metadata=json_value(metadata or {}),
        request_id=ctx.request_id or "",
        ip=ctx.ip,
        user_agent=ctx.user_agent or "",
    )
    if not settings.ENABLE_AUDIT_LOGGING:
        logger.info(
            "audit_event",
            action=event.action,
            company_id=event.company_id,
            actor=event.actor_repr,
            object_type=event.object_type,
            object_id=event.object_id,
            changes=event.changes,
        )
        return None
    event.signature = sign(canonical_content(event))
    event.save(force_insert=True)
    return event
