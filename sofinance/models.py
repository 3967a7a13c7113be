"""Platform state: stored first responses for Idempotency-Key replays, and quarantine flags."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a (user, Idempotency-Key) pair, with a hash of its request."""

    user_id = models.BigIntegerField()
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_user_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class Quarantine(models.Model):
    """A record flagged by an integrity check until the discrepancy about it is resolved.

    Written by the `jobs` app (which owns discrepancies) and read by every app through
    `sofinance.quarantine`, so the ledger and sales show the flag without importing jobs. Ids are
    plain integers, not foreign keys: a flag must never constrain the rows it describes.
    """

    company_id = models.BigIntegerField(null=True, blank=True)
    object_type = models.CharField(max_length=100)  # the model's label, e.g. "ledger.journalentry"
    object_id = models.BigIntegerField()
    discrepancy_id = models.BigIntegerField()
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["discrepancy_id", "object_type", "object_id"], name="quarantine_once_per_discrepancy"
            ),
        ]
        indexes = [
            models.Index(
                fields=["object_type", "object_id"],
                condition=models.Q(resolved_at__isnull=True),
                name="quarantine_open_object_idx",
            ),
        ]

    def __str__(self) -> str:
        state = "open" if self.resolved_at is None else "resolved"
        return f"{self.object_type}:{self.object_id} ({state}, discrepancy {self.discrepancy_id})"
