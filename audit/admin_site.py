"""An admin site that records every change made through the Django admin in the audit trail.

`AuditedAdminSite.register` wraps each ModelAdmin in `AuditedModelAdminMixin`, which records an
event (before/after of the changed fields, many-to-many fields included) for each object saved,
added through an inline, or deleted, in the same transaction as the change.

An admin whose writes go through services (which record their own events) opts out, so nothing
is recorded twice:

    class JournalEntryAdmin(admin.ModelAdmin):
        audit_admin_changes = False

Writes outside save/delete (an admin action calling `queryset.update()`) are not seen here;
such actions must call a service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, router, transaction

from audit.changes import diff, json_value, snapshot
from audit.models import AuditAction
from audit.services import audit_record

ADMIN_METADATA = {"via": "admin"}


def _m2m_names(model: type[models.Model], form: Any) -> list[str]:
    fields = getattr(form, "cleaned_data", None) or {}
    return [f.name for f in model._meta.many_to_many if f.name in fields]


def _pks(values: Any) -> list[Any]:
    return sorted(json_value(getattr(v, "pk", v)) for v in (values or []))


class AuditedModelAdminMixin:
    """Records the admin's saves and deletes; see the module docstring.

    The wrapped admin may set `audit_company_field`: the field naming the row's company
    ("company" by default; "pk" when the model is the company itself; None when the model
    belongs to no company). A company's events land in that company's chain. The mixin comes
    first in the MRO, so it defines no class attributes that would shadow the admin's own.
    """

    # ----------------------------------------------------------------- helpers

    def audit_company_id(self, obj: models.Model) -> int | None:
        field = getattr(self, "audit_company_field", "company")
        if field is None:
            return None
        if field in ("pk", "id"):
            return obj.pk
        return getattr(obj, f"{field}_id", None)

    def _audit_db_state(self, obj: models.Model, m2m: list[str]) -> dict[str, Any] | None:
        """The row as the database holds it (the form has already changed `obj` in memory)."""
        if obj.pk is None:
            return None
        stored = type(obj)._base_manager.filter(pk=obj.pk).first()
        if stored is None:
            return None
        state = snapshot(stored)
        for name in m2m:
            state[name] = _pks(getattr(stored, name).all())
        return state

    def _audit_handled(self, request: Any) -> set[tuple[str, str]]:
        handled = getattr(request, "_audit_admin_handled", None)
        if handled is None:
            handled = set()
            request._audit_admin_handled = handled
        return handled

    def _audit_key(self, obj: models.Model) -> tuple[str, str]:
        return (obj._meta.label_lower, str(obj.pk))

    def _audit(self, request: Any, *, action: str, obj: models.Model, changes: dict, company_id: Any) -> None:
        audit_record(
            action=action,
            company=company_id,
            obj=obj,
            actor=request.user,
            changes=changes,
            metadata=ADMIN_METADATA,
        )

    # ----------------------------------------------------------------- saves

    def save_model(self, request, obj, form, change):
        model = type(obj)
        m2m = _m2m_names(model, form)
        with transaction.atomic(using=router.db_for_write(model)):
            before = self._audit_db_state(obj, m2m) if change else None
            super().save_model(request, obj, form, change)
            after = snapshot(obj)
            for name in m2m:
                after[name] = _pks(form.cleaned_data.get(name))
            changes = diff(before, after)
            self._audit_handled(request).add(self._audit_key(obj))
            if change and not changes:
                return
            self._audit(
                request,
                action=AuditAction.UPDATE if change else AuditAction.CREATE,
                obj=obj,
                changes=changes,
                company_id=self.audit_company_id(obj),
            )

    def save_formset(self, request, form, formset, change):
        """Inline rows added, changed or deleted with the parent."""
        model = formset.model
        parent_company = self.audit_company_id(form.instance)
        existing = [f.instance.pk for f in formset.initial_forms if f.instance.pk is not None]
        before = {row.pk: snapshot(row) for row in model._base_manager.filter(pk__in=existing)}
        deleted = [(f.instance, f.instance.pk) for f in formset.deleted_forms if f.instance.pk is not None]
        with transaction.atomic(using=router.db_for_write(model)):
            super().save_formset(request, form, formset, change)
            for obj, pk in deleted:
                company_id = getattr(obj, "company_id", None) or parent_company
                audit_record(
                    action=AuditAction.DELETE,
                    company=company_id,
                    obj=obj,
                    object_id=pk,
                    actor=request.user,
                    changes=diff(before.get(pk), None),
                    metadata=ADMIN_METADATA,
                )
            for obj in formset.new_objects:
                self._audit(
                    request,
                    action=AuditAction.CREATE,
                    obj=obj,
                    changes=diff(None, snapshot(obj)),
                    company_id=getattr(obj, "company_id", None) or parent_company,
                )
            for obj, _fields in formset.changed_objects:
                changes = diff(before.get(obj.pk), snapshot(obj))
                if changes:
                    self._audit(
                        request,
                        action=AuditAction.UPDATE,
                        obj=obj,
                        changes=changes,
                        company_id=getattr(obj, "company_id", None) or parent_company,
                    )

    # ----------------------------------------------------------------- deletes

    def delete_model(self, request, obj):
        model = type(obj)
        with transaction.atomic(using=router.db_for_write(model)):
            # Recorded first: after the delete the object has no primary key.
            self._audit(
                request,
                action=AuditAction.DELETE,
                obj=obj,
                changes=diff(self._audit_db_state(obj, []), None),
                company_id=self.audit_company_id(obj),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=router.db_for_write(queryset.model)):
            for obj in queryset:
                self._audit(
                    request,
                    action=AuditAction.DELETE,
                    obj=obj,
                    changes=diff(snapshot(obj), None),
                    company_id=self.audit_company_id(obj),
                )
            super().delete_queryset(request, queryset)

    # ----------------------------------------------------------------- other admin writes

    def log_change(self, request, obj, message):
        """Admin views that save without save_model (the user admin's password form) still log
        a change; record it, with the admin's change message, when save_model did not."""
        entry = super().log_change(request, obj, message)
        if self._audit_key(obj) not in self._audit_handled(request):
            audit_record(
                action=AuditAction.UPDATE,
                company=self.audit_company_id(obj),
                obj=obj,
                actor=request.user,
                metadata={**ADMIN_METADATA, "admin_message": message},
            )
            self._audit_handled(request).add(self._audit_key(obj))
        return entry


class AuditedAdminSite(admin.AdminSite):
    """The default admin site (see audit.admin_apps): every registered ModelAdmin is audited
    unless it sets `audit_admin_changes = False`."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if getattr(admin_class, "audit_admin_changes", True) and not issubclass(
            admin_class, AuditedModelAdminMixin
        ):
            admin_class = type(
                admin_class.__name__,
                (AuditedModelAdminMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        return super().register(model_or_iterable, admin_class, **options)
