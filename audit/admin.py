"""The audit trail in the admin: read-only for everyone, superusers included."""

from __future__ import annotations

from django.contrib import admin

from audit.models import AuditChainHead, AuditEvent
from audit.signing import CONTENT_FIELDS


class ReadOnlyAdmin(admin.ModelAdmin):
    audit_admin_changes = False  # nothing here can change
    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SealedFilter(admin.SimpleListFilter):
    title = "sealed"
    parameter_name = "sealed"

    def lookups(self, request, model_admin):
        return [("yes", "Sealed"), ("no", "Not sealed yet")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(seal__isnull=False)
        if self.value() == "no":
            return queryset.filter(seal__isnull=True)
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "company_id",
        "actor_repr",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "sealed",
        "seq",
    ]
    list_filter = ["action", "actor_type", "object_type", SealedFilter, "created_at"]
    search_fields = ["=object_id", "object_repr", "actor_repr", "=request_id"]
    date_hierarchy = "created_at"
    list_select_related = ["seal"]
    show_full_result_count = False  # a COUNT(*) of the whole trail on every page is not free
    fields = [*CONTENT_FIELDS, "signature", "sealed", "seq", "prev_hash", "hash"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("seal")

    @staticmethod
    def _seal(obj):
        return getattr(obj, "seal", None)

    @admin.display(boolean=True, description="sealed")
    def sealed(self, obj) -> bool:
        return self._seal(obj) is not None

    @admin.display(description="seq")
    def seq(self, obj):
        seal = self._seal(obj)
        return seal.seq if seal else None

    @admin.display(description="previous hash")
    def prev_hash(self, obj):
        seal = self._seal(obj)
        return seal.prev_hash if seal else None

    @admin.display(description="hash")
    def hash(self, obj):
        seal = self._seal(obj)
        return seal.hash if seal else None


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ["chain", "last_seq", "last_event_id", "last_hash", "updated_at"]
    search_fields = ["=chain"]
    readonly_fields = [
        "chain",
        "company_id",
        "last_seq",
        "last_hash",
        "last_event_id",
        "signature",
        "updated_at",
    ]
