"""The audit trail in the admin: read-only for everyone, superusers included."""

from __future__ import annotations

import datetime
import json

from django.apps import apps
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from audit.models import AuditChainHead, AuditEvent
from audit.signing import CONTENT_FIELDS
from sofinance.admin import NoWrites


class ReadOnlyAdmin(NoWrites, admin.ModelAdmin):
    audit_admin_changes = False  # nothing here can change
    actions = None


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


def readable_type(object_type: str) -> str:
    """ "ledger.journalentry" -> "journal entry" (the model's own name), else as stored."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The trail of the company the user works in (the site scopes it: `scope_company_rows`),
    for roles allowed to read it (audit.view); superusers also see events of no company."""

    list_display = [
        "id",
        "when",
        "who",
        "action",
        "object_shown",
        "object_label",
        "sealed",
        "seq",
    ]
    list_display_links = ["id", "when"]
    list_filter = ["action", "actor_type", "object_type", SealedFilter, "created_at"]
    search_fields = ["=object_id", "object_repr", "actor_repr", "=request_id"]
    date_hierarchy = "created_at"
    list_select_related = ["seal"]
    show_full_result_count = False  # a COUNT(*) of the whole trail on every page is not free
    fields = [
        *(f"shown_{name}" for name in CONTENT_FIELDS),
        "signature",
        "sealed",
        "seq",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("seal")
        scope = getattr(self.admin_site, "scope_company_rows", None)
        if scope is None:
            return queryset
        scoped = scope(request, queryset, field="company_id", action="audit.view")
        if request.user.is_superuser:  # and the events of no company: logins, users, the system
            return scoped | queryset.filter(company_id__isnull=True)
        return scoped

    @admin.display(description="object", ordering="object_type")
    def object_shown(self, obj) -> str:
        return f"{readable_type(obj.object_type)} {obj.object_id}".strip()

    @admin.display(description="when", ordering="created_at")
    def when(self, obj):
        return obj.created_at

    @admin.display(description="who", ordering="actor_repr")
    def who(self, obj) -> str:
        return obj.actor_repr

    @admin.display(description="description")
    def object_label(self, obj) -> str:
        return obj.object_repr

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


# Readable labels for every stored field of an event, shown read-only on its page (the model's
# own field names stay as the API and the signature know them).
CONTENT_LABELS = {
    "uid": "event id",
    "created_at": "when",
    "company_id": "company id",
    "actor_type": "kind of actor",
    "actor_id": "user id",
    "actor_repr": "who",
    "action": "action",
    "object_type": "kind of object",
    "object_id": "object id",
    "object_repr": "object",
    "changes": "changes (before → after)",
    "metadata": "details",
    "request_id": "request id",
    "ip": "IP address",
    "user_agent": "browser or client",
}


def _shown(name: str, label: str):
    def shown(self, obj):
        value = getattr(obj, name)
        if name == "object_type":
            return f"{readable_type(value)} ({value})" if value else ""
        if isinstance(value, datetime.datetime):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")
        if isinstance(value, dict | list):
            return format_html(
                "<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
            )
        return value

    shown.short_description = label  # type: ignore[attr-defined]
    shown.__name__ = f"shown_{name}"
    return shown


for _name in CONTENT_FIELDS:
    setattr(
        AuditEventAdmin, f"shown_{_name}", _shown(_name, CONTENT_LABELS.get(_name, _name.replace("_", " ")))
    )
