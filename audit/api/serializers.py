"""Shapes of the audit API (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventOutput(serializers.ModelSerializer):
    company = serializers.IntegerField(source="company_id", allow_null=True)
    actor = serializers.CharField(source="actor_repr", help_text="Username, or the name of a system actor.")
    sealed = serializers.SerializerMethodField(help_text="False until the sealer has chained the event.")
    seq = serializers.SerializerMethodField(
        help_text="Position in the company's chain (null while unsealed)."
    )
    prev_hash = serializers.SerializerMethodField()
    hash = serializers.SerializerMethodField()
    sealed_at = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "uid",
            "created_at",
            "company",
            "actor_type",
            "actor_id",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "metadata",
            "request_id",
            "ip",
            "user_agent",
            "signature",
            "sealed",
            "seq",
            "prev_hash",
            "hash",
            "sealed_at",
        ]
        read_only_fields = fields

    @staticmethod
    def _seal(obj):
        return getattr(obj, "seal", None)

    def get_sealed(self, obj) -> bool:
        return self._seal(obj) is not None

    def get_seq(self, obj) -> int | None:
        seal = self._seal(obj)
        return seal.seq if seal else None

    def get_prev_hash(self, obj) -> str | None:
        seal = self._seal(obj)
        return seal.prev_hash if seal else None

    def get_hash(self, obj) -> str | None:
        seal = self._seal(obj)
        return seal.hash if seal else None

    def get_sealed_at(self, obj) -> str | None:
        seal = self._seal(obj)
        return seal.sealed_at.isoformat().replace("+00:00", "Z") if seal else None


class ChainVerificationOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    chain = serializers.CharField()
    company = serializers.IntegerField(source="company_id", allow_null=True)
    events_checked = serializers.IntegerField()
    sealed_events = serializers.IntegerField()
    unsealed_events = serializers.IntegerField()
    head_seq = serializers.IntegerField()
    head_hash = serializers.CharField()
    broken_event_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(
        help_text='Empty when ok; e.g. "signature_mismatch", "seq_gap", "chain_missing", "behind_anchor".'
    )
    detail = serializers.CharField()
    anchor = serializers.CharField(
        help_text="The anchor file (outside the database) the chain was compared with; empty when none exists yet."
    )
    anchored_seq = serializers.IntegerField(
        allow_null=True, help_text="The chain's seq in that anchor; null when the anchor does not record it."
    )
