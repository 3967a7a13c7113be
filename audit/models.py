"""The audit trail: append-only events, signed on write and sealed into a hash chain after commit."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


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
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    company_id = models.BigIntegerField(null=True, blank=True, db_index=True)
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
