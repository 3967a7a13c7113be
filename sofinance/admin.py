"""Admin building blocks every app's admin uses (the platform owns them; no app imports another's admin).

- `CompanyScopedAdmin`: every list and form shows the current company's rows only (the company
  the user works in: sofinance.company_context), and the user writes only what their role in it
  allows (sofinance.permissions), as the API does. Opening a row of another of the user's
  companies offers to switch to it first; a row of any other company does not exist.
- `ServiceAdmin`: writes go through services; a refused write rolls back and re-renders the form
  with the service's message and the user's input, so a refused save never claims success.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.forms.models import construct_instance
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import Company
from accounts.selectors import membership_roles
from audit.changes import changes_in_words
from audit.selectors import audit_events_of_objects
from sofinance.company_context import current_company_id, selectable_companies
from sofinance.errors import APIError
from sofinance.permissions import Action, role_can

# --------------------------------------------------------------------------- tenancy


class DecimalInput(forms.TextInput):
    """A number typed as text. A browser's number field (`type=number`) drops what it cannot read
    as a number in its own locale: "12,50" reached the server as 1250, silently a hundred times
    the price. As text, what was typed reaches the form, which refuses what is not a plain number."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"inputmode": "decimal", "autocomplete": "off", "size": 12, **(attrs or {})})


class DecimalFormField(forms.DecimalField):
    """Every decimal typed in the admin: a text input, and a refusal that says how to write it."""

    widget = DecimalInput
    default_error_messages = {
        "invalid": "Write a plain number, like 1250.00: a point before the decimals, no thousands "
        "separators or spaces."
    }

    def widget_attrs(self, widget):  # no min/max/step: they are for number inputs
        return {}


class DateFormField(forms.DateField):
    """Every date typed in the admin: one format (sofinance.formats), named when it is not met."""

    default_error_messages = {"invalid": "Enter a valid date, as YYYY-MM-DD (e.g. 2026-03-31)."}


def admin_roles(request: HttpRequest) -> dict[int, str]:
    """{company_id: role} of the requesting user, read once per request."""
    roles = getattr(request, "_sofinance_admin_roles", None)
    if roles is None:
        roles = membership_roles(user_id=request.user.pk)
        request._sofinance_admin_roles = roles  # type: ignore[attr-defined]
    return roles


def admin_can(request: HttpRequest, company_id: int | None, action: Action) -> bool:
    """Superusers may do anything; anyone else needs a role allowing `action` in the company."""
    if request.user.is_superuser:
        return True
    role = admin_roles(request).get(company_id) if company_id is not None else None
    return role is not None and role_can(role, action)


def admin_companies(request: HttpRequest, action: Action) -> list[int]:
    """Ids of the companies whose rows the admin shows for `action`: the current company when the
    user's role there allows it (superusers: always), else none."""
    company_id = current_company_id(request)
    if company_id is None or not admin_can(request, company_id, action):
        return []
    return [company_id]


def admin_may(request: HttpRequest, action: Action, perm: str) -> bool:
    """Whether the user holds Django's `perm` and a role allowing `action` in the current company
    (what an admin button or page for that action asks before it shows)."""
    return request.user.has_perm(perm) and bool(admin_companies(request, action))


def company_owned(model: Any) -> bool:
    """Whether rows of `model` belong to one company (a `company` foreign key)."""
    try:
        field = model._meta.get_field("company")
    except FieldDoesNotExist:
        return False
    return getattr(field, "related_model", None) is Company


class ChoicesWithoutDeleteMixin:
    """No "delete" icon beside a choice on a form (the Company on an invoice, an account on a
    line): deleting the thing chosen is never what filling a form means. The company a row
    belongs to gets no icon at all: it is chosen, not edited, from the row's form."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(field, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            widget.can_delete_related = False
            if db_field.name == getattr(self, "company_field", None):
                widget.can_add_related = widget.can_change_related = widget.can_view_related = False
        return field


class CompanyScopedAdmin(ChoicesWithoutDeleteMixin, admin.ModelAdmin):
    """Rows of one company each: scoped to the user's memberships and checked against their role."""

    company_field = "company"
    view_action: Action
    manage_action: Action | None = None
    formfield_overrides = {
        models.DecimalField: {"form_class": DecimalFormField},
        models.DateField: {"form_class": DateFormField},
    }

    def company_id_of(self, obj: Any) -> int | None:
        return getattr(obj, f"{self.company_field}_id", None)

    def get_list_display(self, request):
        # Every row is the current company's: a company column would only repeat the header.
        return [name for name in super().get_list_display(request) if name != self.company_field]

    def get_list_filter(self, request):
        def names(spec) -> str:
            return spec[0] if isinstance(spec, tuple | list) else spec

        return [spec for spec in super().get_list_filter(request) if names(spec) != self.company_field]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        allowed = admin_companies(request, self.view_action)
        return queryset.filter(**{f"{self.company_field}_id__in": allowed})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == self.company_field and self.manage_action is not None:
            # The current company, preselected: a row is added to the company the user works in.
            allowed = admin_companies(request, self.manage_action)
            kwargs["queryset"] = Company.objects.filter(pk__in=allowed)
            kwargs.setdefault("initial", allowed[0] if allowed else None)
            kwargs.setdefault("empty_label", None)
        elif company_owned(db_field.related_model) and "queryset" not in kwargs:
            # Accounts, customers, tax rates...: the current company's only.
            kwargs["queryset"] = db_field.related_model._default_manager.filter(
                company_id=current_company_id(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is not None:
            elsewhere = self.other_company_of(request, object_id)
            if elsewhere is not None:
                return switch_company_page(request, self.admin_site, elsewhere, what=self.opts.verbose_name)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        """An object's History is its audit trail: every write through the services records an
        event there, where Django's own log sees little. A role that may not read the trail
        (sofinance.permissions: audit.view) is told so, and who can."""
        obj = self.get_object(request, unquote(object_id))
        company_id = self.company_id_of(obj) if obj is not None else None
        if company_id is None:
            return super().history_view(request, object_id, extra_context)
        object_type = self.opts.label_lower
        may_read = admin_can(request, company_id, Action.AUDIT_VIEW)
        objects = [(object_type, [str(obj.pk)]), *self.history_related(obj)]
        events = list(audit_events_of_objects(company_id=company_id, objects=objects)) if may_read else []
        words: dict[str, tuple[Any, Any]] = {}  # per model: its events name its own fields

        def in_words(event) -> str:
            if event.object_type not in words:
                model = self.model if event.object_type == object_type else apps.get_model(event.object_type)
                words[event.object_type] = self.history_words(
                    [e for e in events if e.object_type == event.object_type], model=model
                )
            label, value = words[event.object_type]
            return changes_in_words(event.action, event.changes, event.metadata, label=label, value=value)

        def about(event) -> str:
            """What a related record's event is about ("Credit note CN-2026-000002"); "" for the object's own."""
            if event.object_type == object_type and event.object_id == str(obj.pk):
                return ""
            return f"{apps.get_model(event.object_type)._meta.verbose_name.capitalize()} {event.object_repr}"

        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "opts": self.opts,
            "object": obj,
            "may_read_trail": may_read,
            "events": [
                {
                    "event": event,
                    "about": about(event),
                    "what": in_words(event),
                    "url": reverse("admin:audit_auditevent_change", args=[event.pk]),
                }
                for event in events
            ],
            "trail_url": reverse("admin:audit_auditevent_changelist")
            + "?"
            + urlencode({"object_type__exact": object_type, "object_id__exact": obj.pk}),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/sofinance/object_history.html", context)

    def history_related(self, obj: Any) -> list[tuple[str, list[str]]]:
        """Records whose events belong in `obj`'s History too ((`app_label.model`, [ids]) each):
        an invoice's credit notes and the payments allocated to it, say. None by default."""
        return []

    def history_words(self, events, model=None) -> tuple[Any, Any]:
        """How a model's history (this admin's, unless `model`) names its fields and values: verbose
        names, choice labels, and what a foreign key's stored id names (an entry's number, a
        customer's name), read at once."""
        fields = {field.name: field for field in (model or self.model)._meta.concrete_fields}
        wanted: dict[str, set[Any]] = {}
        for event in events:
            for name, change in (event.changes or {}).items():
                field = fields.get(name)
                if field is not None and field.is_relation and isinstance(change, dict):
                    ids = {change.get("before"), change.get("after")} - {None, ""}
                    wanted.setdefault(name, set()).update(i for i in ids if isinstance(i, int))
        names: dict[str, dict[Any, str]] = {}
        for name, ids in wanted.items():
            related = fields[name].related_model._default_manager.filter(pk__in=ids)
            names[name] = {row.pk: str(row) for row in related}

        def label(name: str) -> str:
            field = fields.get(name)
            return str(field.verbose_name) if field is not None else name.replace("_", " ")

        def value(name: str, stored: Any) -> str:
            field = fields.get(name)
            if field is None:
                return str(stored)
            if name in names:
                return names[name].get(stored, f"#{stored}")
            if field.choices:
                return str(dict(field.flatchoices).get(stored, stored))
            return str(stored)

        return label, value

    def other_company_of(self, request, object_id: str) -> Company | None:
        """The other company of the user's (not the current one) that holds row `object_id`."""
        current = current_company_id(request)
        others = {c.pk: c for c in selectable_companies(request) if c.pk != current}
        if not others:
            return None
        try:
            company_id = (
                self.model._default_manager.filter(pk=object_id)
                .values_list(f"{self.company_field}_id", flat=True)
                .first()
            )
        except (ValueError, TypeError, forms.ValidationError):
            return None
        if company_id not in others or not admin_can(request, company_id, self.view_action):
            return None
        return others[company_id]

    def _may_manage(self, request, obj) -> bool:
        if self.manage_action is None:
            return False
        if obj is None:
            return bool(admin_companies(request, self.manage_action))
        return admin_can(request, self.company_id_of(obj), self.manage_action)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._may_manage(request, None)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_manage(request, obj)

    def has_view_permission(self, request, obj=None):
        if not super().has_view_permission(request, obj):
            return False
        return obj is None or admin_can(request, self.company_id_of(obj), self.view_action)


def switch_company_page(request: HttpRequest, admin_site, company: Company, *, what: str) -> TemplateResponse:
    """A page saying that what was asked for belongs to another of the user's companies, with a
    button that switches to it and opens the same address (switching is a POST, never a GET)."""
    context = {
        **admin_site.each_context(request),
        "title": f"This {what} belongs to {company.name}",
        "target_company": company,
        "what": what,
        "next_url": request.get_full_path(),
    }
    return TemplateResponse(request, "admin/sofinance/switch_company.html", context)


# --------------------------------------------------------------------------- writes through services

CONFIRM_LISTED = 200  # rows a bulk action's confirmation page lists (it acts on all it was given)


class ServiceRefused(Exception):
    """A service refused an admin write; carries the service's error."""

    def __init__(self, error: APIError) -> None:
        super().__init__(error.message)
        self.error = error


def apply_service_error(form: forms.BaseForm, error: APIError) -> None:
    """Show a service error on a form: its message at the top, per-field details on their fields.
    A date in a closed period is said at the form's date field, where it is corrected."""
    if error.code == "period_closed" and "date" in form.fields:
        form.add_error("date", error.message)
        return
    form.add_error(None, error.message)
    for field, problems in error.details.items():
        if field in form.fields and isinstance(problems, list):
            for problem in problems:
                form.add_error(field, str(problem))


class ServiceModelForm(forms.ModelForm):
    """A ModelForm whose model-level validation is left to the service.

    Django would otherwise run the model's validators and constraints before the service and
    answer with its own messages ("Constraint ... is violated"); the service checks the same
    rules and says them in the words the API uses. The form still parses its fields.
    """

    def _post_clean(self):
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        except forms.ValidationError as exc:
            self._update_errors(exc)


class NoWrites:
    """An admin or inline through which nothing is added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(NoWrites, admin.TabularInline):
    """Rows shown on their parent's page and changed only through the parent's services (a
    credit note's lines, a payment's allocations, a company's members)."""

    extra = 0
    can_delete = False


class AdminPages:
    """Admin pages that are not a model form (confirmations, reports of one model), mounted by a
    ModelAdmin's get_urls: `urls()` lists them."""

    def __init__(self, admin_site, model_admin) -> None:
        self.admin_site = admin_site
        self.model_admin = model_admin


class ServiceAdmin(admin.ModelAdmin):
    """Admin whose writes call services (which audit themselves: no generic admin audit)."""

    audit_admin_changes = False
    form = ServiceModelForm

    @contextmanager
    def refusal_as_form_error(self) -> Iterator[None]:
        """Turn a service's refusal inside save_model/save_related into a re-rendered form."""
        try:
            yield
        except APIError as exc:
            raise ServiceRefused(exc) from exc

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            # The first attempt's transaction has rolled back. Validate the same input again,
            # this time with the service's error on the form: nothing is saved, nothing is
            # claimed, and the user keeps what they typed.
            request._service_refusal = refused.error  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form_class

        def clean(form):
            cleaned = form_class.clean(form)
            apply_service_error(form, refusal)
            return cleaned

        return type(form_class.__name__, (form_class,), {"clean": clean})

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRefused as refused:
            self.message_user(request, refused.error.message, messages.ERROR)
            url = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                args=[object_id],
                current_app=self.admin_site.name,
            )
            return HttpResponseRedirect(url)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # The bulk delete would bypass the services (and report success before they answer).
        actions.pop("delete_selected", None)
        return actions

    def confirm_then_each(
        self,
        request,
        objects: list,
        call,
        *,
        success,
        verb: str,
        effect: str,
        describe=str,
        carry: tuple[str, ...] = (),
    ) -> TemplateResponse | None:
        """A list action that puts rows in the books for good asks first, as Django's own bulk
        delete does: the list's POST shows what will happen to which rows, and does nothing else;
        the page's POST (`post=yes`, the same action and rows, and the action form's `carry`
        fields) runs `call` on each row (`report_each`)."""
        if request.POST.get("post") == "yes":
            self.report_each(request, objects, call, success=success)
            return None
        shown = objects[:CONFIRM_LISTED]
        noun = self.opts.verbose_name if len(objects) == 1 else self.opts.verbose_name_plural
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb} {len(objects)} {noun}?",
            "opts": self.opts,
            "verb": verb,
            "yes": f"Yes, {verb.lower()}",
            "effect": effect,
            "rows": [describe(obj) for obj in shown],
            "more": len(objects) - len(shown),
            "ids": [obj.pk for obj in objects],
            "action": request.POST.get("action", ""),
            "carried": [(name, request.POST.get(name, "")) for name in carry],
            "form_action": request.get_full_path(),
            "back_url": request.get_full_path(),
            "yes_id": "confirm-selected",
        }
        return TemplateResponse(request, "admin/sofinance/action_confirm_selected.html", context)

    def report_each(self, request, objects, call, *, success) -> None:
        """Run one service call per object, each in its own transaction, and report each outcome."""
        for obj in objects:
            try:
                result = call(obj)
            except APIError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, success(obj, result), messages.SUCCESS)


def post_or_back(change_url_name: str):
    """For a page of one object that acts only on POST (issue, void, unallocate, reconcile): a GET,
    such as a reload of its confirmation page or a bookmark, goes back to the object's page
    (`change_url_name`, e.g. "admin:sales_invoice_change") instead of a bare 405."""

    def decorate(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any):
            if request.method != "POST":
                return HttpResponseRedirect(reverse(change_url_name, args=[kwargs["pk"]]))
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def confirmed(request: HttpRequest) -> bool:
    """The request came from a confirmation page's "Yes" (confirm_page, the invoice's and entry's)."""
    return request.POST.get("confirmed") == "yes"


def confirm_page(
    request: HttpRequest,
    admin_site,
    *,
    obj: Any,
    verb: str,
    effect: str,
    back_url: str,
    facts: list[tuple[str, str]] | None = None,
    carry: dict[str, str] | None = None,
    acknowledge: tuple[str, str] | None = None,
) -> TemplateResponse:
    """The page a write on one object asks first on, when the write cannot simply be taken back
    (void a payment, unallocate, delete a statement): what will happen, the facts it acts on, and
    "Yes" posting the same request again with `confirmed=yes` and the `carry` values.
    `acknowledge` (name, words): a box to tick before "Yes" (sent as name=yes; the view checks it)."""
    return TemplateResponse(
        request,
        "admin/sofinance/confirm_one.html",
        {
            **admin_site.each_context(request),
            "title": f"{verb} {obj}?",
            "opts": obj._meta,
            "object": obj,
            "verb": verb,
            "effect": effect,
            "facts": facts or [],
            "carried": list((carry or {}).items()),
            "back_url": back_url,
            "yes": f"Yes, {verb.lower()} it",
            "yes_id": f"confirm-{verb.lower()}",
            "acknowledge": acknowledge,
        },
    )


def adopt(target: Any, saved: Any) -> None:
    """Make the admin's in-memory object the one the service saved (pk, computed fields)."""
    target.__dict__.update(saved.__dict__)


# --------------------------------------------------------------------------- report pages


def report_company(request: HttpRequest, admin_site, *, action: Action = Action.REPORTS_VIEW):
    """The company a report page reports on: the current one, when the user's role there allows
    `action` (403 otherwise). A link naming another company (`?company=<id>`) of the user's
    answers with the page offering to switch to it; any other company is a 404, whether it
    exists or not. Returns the Company, or that page (a TemplateResponse) to return as is."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from sofinance.company_context import current_company

    company = current_company(request)
    raw = (request.GET.get("company") or "").strip()
    if raw and (company is None or raw != str(company.pk)):
        other = next((c for c in selectable_companies(request) if str(c.pk) == raw), None)
        if other is None or not admin_can(request, other.pk, action):
            raise Http404("No such company.")
        return switch_company_page(request, admin_site, other, what="report")
    if company is None or not admin_can(request, company.pk, action):
        raise PermissionDenied("Your role in this company does not allow reading its reports.")
    return company


def date_widget() -> forms.DateInput:
    """The one date input of the admin: YYYY-MM-DD text with the admin's calendar and Today."""
    from django.contrib.admin.widgets import AdminDateWidget

    return AdminDateWidget(attrs={"placeholder": "YYYY-MM-DD", "autocomplete": "off"}, format="%Y-%m-%d")


# --------------------------------------------------------------------------- quarantine


class QuarantineWarningAdmin(admin.ModelAdmin):
    """A quarantined record's page (a record an open discrepancy names) opens with a warning
    naming the discrepancies that flag it."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # Only on the record's own page, shown to someone allowed to see it (not on a refusal or
        # the page offering to switch company); the message joins the page as it renders.
        original = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and original is not None and not response.is_rendered:
            self.warn_if_quarantined(request, original)
        return response

    def warn_if_quarantined(self, request, obj) -> None:
        """A quarantined record's page says so at the top, linking the discrepancies that flag it."""
        from django.utils.html import format_html, format_html_join

        from sofinance.quarantine import discrepancy_url, open_discrepancy_ids

        ids = open_discrepancy_ids(object_type=self.model._meta.label_lower, object_id=obj.pk)
        if not ids:
            return
        links = format_html_join(
            ", ",
            "{}",
            (
                (format_html('<a href="{}">#{}</a>', url, d) if (url := discrepancy_url(d)) else f"#{d}",)
                for d in ids
            ),
        )
        messages.warning(
            request,
            format_html(
                "⚠ Quarantined: an integrity check found this {} in disagreement with the books "
                "(open discrepancy {}). Review it before relying on it; resolving the discrepancy "
                "lifts the flag.",
                self.model._meta.verbose_name,
                links,
            ),
        )


class QuarantineMarkerAdmin(QuarantineWarningAdmin):
    """Adds the `quarantine_marker` column: ⚠ on rows an open discrepancy names (read in the list's
    own query). Put "quarantine_marker" in `list_display`. Their pages warn as well."""

    def get_queryset(self, request):
        from sofinance.quarantine import quarantined_annotation

        return (
            super()
            .get_queryset(request)
            .annotate(quarantined=quarantined_annotation(self.model._meta.label_lower))
        )

    @admin.display(description="quarantined", boolean=True, ordering="quarantined")
    def quarantine_marker(self, obj) -> bool:
        return bool(getattr(obj, "quarantined", False))
