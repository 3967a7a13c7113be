"""Admin for the ledger: the chart with balances, journal entries, exchange rates and periods.

Thin: drafts are validated by the ledger's own checks (build_lines, check_balanced,
check_period_open) while the form is cleaned, so problems show beside the user's input, and
every write goes through a service (journal_entry_create/update/delete/post/reverse,
exchange_rate_set/delete, account_*). Posted entries are read-only: they change only by reversal.
The report pages (trial balance, balance sheet, income statement, general ledger) are in
ledger.admin_reports, mounted by the Account admin's get_urls().
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import DecimalField, Exists, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.models import Account
from accounts.services import ACCOUNT_FIELDS, account_create, account_delete, account_update
from ledger.admin_close import ClosePages
from ledger.admin_dashboard import register_panels as register_dashboard_panels
from ledger.admin_reports import ReportPages
from ledger.balance_queries import AccountTotals
from ledger.calendar import fiscal_year_of
from ledger.models import (
    AccountingPeriod,
    EntryStatus,
    ExchangeRate,
    FiscalYearClose,
    JournalEntry,
    JournalLine,
    PeriodStatus,
)
from ledger.selectors import (
    account_balances_rolled_up,
    closed_fiscal_years,
    closed_period_after,
    period_blocking,
    period_covering,
    period_reopenings,
)
from ledger.services import (
    build_lines,
    check_balanced,
    check_period_open,
    exchange_rate_delete,
    exchange_rate_set,
    journal_entry_create,
    journal_entry_delete,
    journal_entry_post,
    journal_entry_reverse,
    journal_entry_update,
    period_close,
    period_lock,
    period_reopen,
)
from sofinance import admin_menu
from sofinance.admin import (
    ChoicesWithoutDeleteMixin,
    CompanyScopedAdmin,
    DecimalFormField,
    DecimalInput,
    QuarantineMarkerAdmin,
    QuarantineWarningAdmin,
    ServiceAdmin,
    ServiceModelForm,
    admin_can,
    admin_companies,
    admin_may,
    adopt,
    date_widget,
)
from sofinance.admin_links import documents_of_entries
from sofinance.admin_menu import Section
from sofinance.admin_site import may_in_current_company
from sofinance.company_context import current_company
from sofinance.display import display_amount, display_rate, display_side
from sofinance.errors import APIError
from sofinance.errors import PermissionDenied as RoleDenied
from sofinance.money import MoneySum, currency_exponent, quantize
from sofinance.permissions import Action
from sofinance.posting_notes import posting_notes

ZERO = Decimal(0)


def balance_text(totals: AccountTotals | None, currency: str) -> str:
    """A balance as accountants read it: "1,250.00 Dr", "300.00 Cr" or "0.00"."""
    return display_side(totals.balance if totals is not None else ZERO, currency)


# --------------------------------------------------------------------------- chart with balances


def balance_as_of(request: HttpRequest) -> datetime.date:
    """The date balances are read at: ?as_of=YYYY-MM-DD, today when absent or not a date."""
    value = request.GET.get(BalanceAsOfFilter.parameter_name, "")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return timezone.localdate()


class BalanceAsOfFilter(admin.SimpleListFilter):
    """Not a filter of rows: chooses the date of the balance column (quick picks or any date)."""

    title = "balance date"
    parameter_name = "as_of"
    template = "admin/ledger/account/balance_as_of_filter.html"

    def lookups(self, request, model_admin):
        today = timezone.localdate()
        end_of_last_month = today.replace(day=1) - datetime.timedelta(days=1)
        end_of_last_year = datetime.date(today.year - 1, 12, 31)
        return [
            (end_of_last_month.isoformat(), "End of last month"),
            (end_of_last_year.isoformat(), "End of last year"),
        ]

    def queryset(self, request, queryset):
        return queryset

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {}

    def choices(self, changelist):
        # The date form keeps the other filters and the search of the page.
        self.other_params = [(k, v) for k, v in changelist.params.items() if k != self.parameter_name]
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Today",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


# --------------------------------------------------------------------------- chart of accounts

ACCOUNT_FORM_FIELDS = list(ACCOUNT_FIELDS)  # the fields account_update may change


class AccountForm(ServiceModelForm):
    class Meta:
        model = Account
        fields = ["company", *ACCOUNT_FORM_FIELDS]

    def clean_currency(self):
        return (self.cleaned_data.get("currency") or "").strip().upper()


class AccountAdmin(ServiceAdmin, CompanyScopedAdmin):
    """The chart as a tree (company, then path order; names indented by depth)."""

    form = AccountForm
    view_action = Action.ACCOUNTS_VIEW
    manage_action = Action.ACCOUNTS_MANAGE
    list_display = ["code", "tree_name", "type", "normal_balance", "currency_shown", "is_active", "company"]
    list_display_links = ["code", "tree_name"]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter), "type", "is_active"]
    list_select_related = ["company"]
    search_fields = ["code", "name"]
    ordering = ["company", "path"]
    sortable_by: tuple[str, ...] = ()  # the tree order is the only order that reads as a tree
    autocomplete_fields = ["parent"]
    list_per_page = 200
    actions = ["deactivate"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(has_children=Exists(Account.objects.filter(parent=OuterRef("pk"))))
        )

    def get_fieldsets(self, request, obj=None):
        main = ["company", *ACCOUNT_FORM_FIELDS]
        if obj is not None:
            main += ["path"]
        return [(None, {"fields": main})]

    def get_readonly_fields(self, request, obj=None):
        # The company of an account never changes (its postings and sub-accounts belong to it).
        return ["company", "path"] if obj is not None else []

    @admin.display(description="name")
    def tree_name(self, obj: Account):
        if getattr(obj, "has_children", False):
            return format_html(
                '<span style="padding-left:{}em; font-weight:bold">{}</span>', obj.depth * 1.5, obj.name
            )
        return format_html('<span style="padding-left:{}em">{}</span>', obj.depth * 1.5, obj.name)

    @admin.display(description="normal balance")
    def normal_balance(self, obj: Account) -> str:
        return str(obj.normal_balance)

    @admin.display(description="currency")
    def currency_shown(self, obj: Account) -> str:
        return obj.currency or obj.company.currency

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "journalline" and request.GET.get("field_name") == "account":
            # Autocomplete for journal lines: only accounts that can be posted to.
            queryset = queryset.filter(is_active=True).exclude(
                Exists(Account.objects.filter(parent=OuterRef("pk")))
            )
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        with self.refusal_as_form_error():
            if not change:
                saved = account_create(
                    company=data["company"],
                    code=data["code"],
                    name=data["name"],
                    type=data["type"],
                    parent=data.get("parent"),
                    currency=data.get("currency") or "",
                    is_active=data.get("is_active", True),
                    system_role=data.get("system_role") or "",
                    description=data.get("description") or "",
                    by=request.user,
                )
            else:
                changes = {name: data.get(name) for name in form.changed_data if name in ACCOUNT_FORM_FIELDS}
                saved = account_update(account=obj, by=request.user, **changes) if changes else obj
        adopt(obj, saved)

    def delete_model(self, request, obj):
        with self.refusal_as_form_error():
            account_delete(account=obj, by=request.user)

    @admin.action(description="Deactivate selected accounts", permissions=["change"])
    def deactivate(self, request, queryset: QuerySet[Account]):
        accounts = [a for a in queryset.order_by("company_id", "path") if self._may_manage(request, a)]
        self.report_each(
            request,
            accounts,
            lambda account: account_update(account=account, by=request.user, is_active=False),
            success=lambda account, _: f"{account}: deactivated.",
        )


class AccountBalanceChangeList(ChangeList):
    """After the page is read, attach each account's rolled-up balance (one read per company)."""

    def get_results(self, request):
        super().get_results(request)
        as_of = balance_as_of(request)
        per_company: dict[int, dict[int, AccountTotals]] = {}
        for account in self.result_list:
            if account.company_id not in per_company:
                per_company[account.company_id] = account_balances_rolled_up(
                    company_id=account.company_id, as_of=as_of
                )
            account.admin_balance = per_company[account.company_id].get(account.pk)


class AccountBalanceAdmin(QuarantineWarningAdmin, AccountAdmin):
    """The chart as a tree with each account's balance; a parent's is the sum of its subtree."""

    list_display = [
        "code",
        "tree_name",
        "type",
        "normal_balance",
        "currency_shown",
        "is_active",
        "balance",
        "company",
    ]
    list_filter = [BalanceAsOfFilter, *AccountAdmin.list_filter]

    def get_changelist(self, request, **kwargs):
        return AccountBalanceChangeList

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "subtitle": f"Balances as of {balance_as_of(request).isoformat()}",
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description="balance (functional currency)")
    def balance(self, obj: Account) -> str:
        return balance_text(getattr(obj, "admin_balance", None), obj.company.currency)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            fieldsets = [*fieldsets, ("Balance", {"fields": ["balance_today"]})]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "balance_today"] if obj is not None else readonly

    @admin.display(description="balance today (with sub-accounts)")
    def balance_today(self, obj: Account) -> str:
        rolled = account_balances_rolled_up(company_id=obj.company_id, as_of=timezone.localdate())
        return balance_text(rolled.get(obj.pk), obj.company.currency)

    def get_urls(self):
        """The report pages (ledger.admin_reports) live beside the chart they report on:
        /admin/accounts/account/reports/..., before the catch-all object URLs."""
        return [*ReportPages(self.admin_site).urls(), *super().get_urls()]


admin.site.register(Account, AccountBalanceAdmin)


# --------------------------------------------------------------------------- journal entries


class JournalLineForm(ServiceModelForm):
    """One line as typed: a debit or a credit, optionally a currency and a rate (else stored/1)."""

    debit = DecimalFormField(required=False, label="Debit")
    credit = DecimalFormField(required=False, label="Credit")
    currency = forms.CharField(
        required=False,
        max_length=3,
        label="Currency",
        help_text="Blank: the account's or the company's currency.",
        widget=forms.TextInput(attrs={"placeholder": "auto", "size": 4}),
    )
    fx_rate = DecimalFormField(
        required=False,
        label="FX rate",
        help_text="Foreign currency only; blank: the stored rate for the date.",
        widget=DecimalInput(attrs={"placeholder": "stored"}),
    )

    class Meta:
        model = JournalLine
        fields = ["account", "debit", "credit", "currency", "fx_rate", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        line = self.instance
        if line.pk is not None:
            # Show the saved line as it was entered: one side, and a rate only when it matters.
            self.initial["debit"] = quantize(line.debit, line.currency) if line.debit else None
            self.initial["credit"] = quantize(line.credit, line.currency) if line.credit else None
            self.initial["fx_rate"] = line.fx_rate.normalize() if line.fx_rate != 1 else None

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()


class JournalLineFormSet(forms.BaseInlineFormSet):
    """Validates the lines as a whole with the ledger's own checks, before anything is written.

    Per-line problems land on their fields; entry-level ones (unbalanced, period closed) above
    the lines. `service_lines` holds the lines for journal_entry_create / journal_entry_update.
    """

    service_lines: list[dict[str, Any]]

    def clean(self) -> None:
        super().clean()
        self.service_lines = []
        if any(self.errors):
            return
        line_forms = []
        for form in self.forms:
            if not form.cleaned_data or (self.can_delete and self._should_delete_form(form)):
                continue
            data = form.cleaned_data
            line_forms.append(form)
            self.service_lines.append(
                {
                    "account": data["account"],
                    "debit": data.get("debit"),
                    "credit": data.get("credit"),
                    "currency": data.get("currency") or None,
                    "fx_rate": data.get("fx_rate"),
                    "description": data.get("description") or "",
                }
            )
        entry = self.instance
        if entry.company_id is None or entry.date is None:
            return  # the entry's own fields are invalid; the form says so
        try:
            built = build_lines(company=entry.company, date=entry.date, lines=self.service_lines)
            check_balanced(company=entry.company, lines=built)
        except APIError as exc:
            per_line = exc.details.get("lines")
            if isinstance(per_line, dict):
                for index, problems in per_line.items():
                    form = line_forms[int(index)]
                    for field, field_messages in problems.items():
                        for message in field_messages:
                            form.add_error(field if field in form.fields else None, message)
            raise forms.ValidationError(exc.message, code=str(exc.code)) from exc


def _entry_writable(request: HttpRequest, entry: JournalEntry | None) -> bool:
    if entry is None:
        return admin_may(request, Action.JOURNAL_DRAFT, "ledger.add_journalentry")
    return (
        entry.status == EntryStatus.DRAFT
        and request.user.has_perm("ledger.change_journalentry")
        and admin_can(request, entry.company_id, Action.JOURNAL_DRAFT)
    )


class JournalLineInline(ChoicesWithoutDeleteMixin, admin.TabularInline):
    model = JournalLine
    form = JournalLineForm
    formset = JournalLineFormSet
    fk_name = "entry"
    template = "admin/ledger/journalentry/lines_tabular.html"
    verbose_name = "line"
    verbose_name_plural = "lines"
    autocomplete_fields = ["account"]
    ordering = ["line_no"]
    draft_fields = ["account", "debit", "credit", "currency", "fx_rate", "description", "base_amount_shown"]
    posted_fields = [
        "line_no",
        "account",
        "debit_shown",
        "credit_shown",
        "currency",
        "fx_rate_shown",
        "base_amount_shown",
        "description",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account", "company")

    def get_fields(self, request, obj=None):
        return self.posted_fields if obj is not None and obj.is_posted else self.draft_fields

    def get_readonly_fields(self, request, obj=None):
        return self.posted_fields if obj is not None and obj.is_posted else ["base_amount_shown"]

    def get_extra(self, request, obj=None, **kwargs):
        if obj is None:
            return 2
        return 1 if obj.status == EntryStatus.DRAFT else 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "account":
            allowed = admin_companies(request, Action.JOURNAL_DRAFT)
            queryset = Account.objects.select_related("company").order_by("company_id", "path")
            kwargs["queryset"] = queryset.filter(company_id__in=allowed)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Lines follow their entry: editable while it is a draft the user may change, else shown only.
    def has_add_permission(self, request, obj=None):
        return _entry_writable(request, obj)

    def has_change_permission(self, request, obj=None):
        return _entry_writable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _entry_writable(request, obj)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("ledger.view_journalentry") or request.user.has_perm(
            "ledger.change_journalentry"
        )

    @admin.display(description="debit")
    def debit_shown(self, line: JournalLine) -> str:
        return self._in_own_currency(line, line.debit)

    @admin.display(description="credit")
    def credit_shown(self, line: JournalLine) -> str:
        return self._in_own_currency(line, line.credit)

    @staticmethod
    def _in_own_currency(line: JournalLine, amount) -> str:
        """A line's amount in its currency, the code said when it is not the company's (an entry's
        debit column then mixes currencies, and the totals are the company's)."""
        if not amount:
            return ""
        shown = display_amount(amount, line.currency)
        return shown if line.currency == line.company.currency else f"{shown} {line.currency}"

    @admin.display(description="FX rate")
    def fx_rate_shown(self, line: JournalLine) -> str:
        return display_rate(line.fx_rate)

    @admin.display(description="in functional currency")
    def base_amount_shown(self, line: JournalLine) -> str:
        if line.pk is None:
            return ""
        return display_side(line.base_amount, line.company.currency)  # "1,188.00 Dr", "54.00 Cr"


class JournalEntryForm(ServiceModelForm):
    class Meta:
        model = JournalEntry
        fields = ["company", "date", "description", "reference"]

    def clean(self):
        """A date in a closed or locked period is said at the date, where it is corrected (the
        lines' checks run in their formset; the service checks the period again as it writes)."""
        cleaned = super().clean()
        company = cleaned.get("company") or (self.instance.company if self.instance.company_id else None)
        date = cleaned.get("date")
        if company is not None and date is not None:
            try:
                check_period_open(company=company, date=date)
            except APIError as exc:
                self.add_error("date", exc.message)
        return cleaned


_ENTRY_TOTAL = DecimalField(max_digits=22, decimal_places=4)


@admin.register(JournalEntry)
class JournalEntryAdmin(QuarantineMarkerAdmin, ServiceAdmin, CompanyScopedAdmin):
    form = JournalEntryForm
    view_action = Action.JOURNAL_VIEW
    manage_action = Action.JOURNAL_DRAFT
    inlines = [JournalLineInline]
    list_display = [
        "entry",
        "date",
        "description",
        "reference",
        "source",
        "status",
        "total",
        "quarantine_marker",
        "company",
    ]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter), "status", "source"]
    list_select_related = ["company"]
    search_fields = ["number", "reference", "description"]
    date_hierarchy = "date"
    ordering = ["-date", "-id"]
    show_full_result_count = False
    actions = ["post_drafts", "reverse_entries", "delete_drafts"]
    change_form_template = "admin/ledger/journalentry/change_form.html"

    def get_queryset(self, request):
        debits = (
            JournalLine.objects.filter(entry=OuterRef("pk"), base_amount__gt=0)
            .order_by()
            .values("entry")
            .annotate(total=MoneySum("base_amount"))
            .values("total")
        )
        return super().get_queryset(request).annotate(admin_total=Subquery(debits, output_field=_ENTRY_TOTAL))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["company", "date", "description", "reference"]})]
        return [
            (
                None,
                {
                    "fields": [
                        "company",
                        "number_explained",
                        "status",
                        "source",
                        "date",
                        "description",
                        "reference",
                        "document",
                        ("total_debit", "total_credit"),
                    ]
                },
            ),
            (
                "History",
                {
                    "fields": [
                        ("created_by", "created_at"),
                        ("posted_by", "posted_at"),
                        ("reversal_of", "reversed_by"),
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "company",
            "number_explained",
            "status",
            "source",
            "document",
            "total_debit",
            "total_credit",
            "created_by",
            "created_at",
            "posted_by",
            "posted_at",
            "reversal_of",
            "reversed_by",
        ]

    # A posted entry is read-only and never deleted: it changes only by reversal.
    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != EntryStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != EntryStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def has_post_permission(self, request):
        return admin_may(request, Action.JOURNAL_POST, "ledger.change_journalentry")

    def has_reverse_permission(self, request):
        return admin_may(request, Action.JOURNAL_REVERSE, "ledger.change_journalentry")

    # ----- display

    @admin.display(description="entry", ordering="sequence")
    def entry(self, obj: JournalEntry) -> str:
        return str(obj)

    @admin.display(description="document")
    def document(self, obj: JournalEntry) -> str:
        """The invoice, credit note or payment that posted the entry (sofinance.admin_links)."""
        link = documents_of_entries([obj.pk]).get(obj.pk)
        return format_html('<a href="{}" id="entry-document">{}</a>', link.url, link.label) if link else "—"

    @admin.display(description="number")
    def number_explained(self, obj: JournalEntry) -> str:
        """Why a draft and its posted entry carry two numbers."""
        if obj.number:
            return f"{obj.number} (entered as draft #{obj.pk}; numbers are given in order when entries are posted)"
        return (
            f"Draft #{obj.pk}: a working reference. The entry gets its number, the next of the "
            f"company's gapless JE-{obj.date:%Y}-… sequence, when it is posted."
        )

    @admin.display(description="total")
    def total(self, obj: JournalEntry) -> str:
        return display_amount(getattr(obj, "admin_total", None) or ZERO, obj.company.currency)

    def _side_total(self, obj: JournalEntry, debit: bool) -> str:
        amounts = [ln.base_amount for ln in obj.lines.all()]
        total = (
            sum((a for a in amounts if a > 0), ZERO) if debit else -sum((a for a in amounts if a < 0), ZERO)
        )
        return f"{display_amount(total, obj.company.currency)} {obj.company.currency}"

    @admin.display(description="total debit")
    def total_debit(self, obj: JournalEntry) -> str:
        return self._side_total(obj, debit=True)

    @admin.display(description="total credit")
    def total_credit(self, obj: JournalEntry) -> str:
        return self._side_total(obj, debit=False)

    # ----- writes

    def save_model(self, request, obj, form, change):
        """Nothing yet: the entry and its lines are written together in save_related."""

    def save_related(self, request, form, formsets, change):
        line_formsets = [fs for fs in formsets if isinstance(fs, JournalLineFormSet)]
        lines_changed = any(fs.has_changed() for fs in line_formsets)
        lines = [line for fs in line_formsets for line in fs.service_lines]
        data = form.cleaned_data
        with self.refusal_as_form_error():
            if change:
                saved = journal_entry_update(
                    entry=form.instance,
                    by=request.user,
                    date=data["date"],
                    description=data.get("description") or "",
                    reference=data.get("reference") or "",
                    lines=lines if lines_changed else None,
                )
            else:
                saved = journal_entry_create(
                    company=data["company"],
                    date=data["date"],
                    lines=lines,
                    by=request.user,
                    description=data.get("description") or "",
                    reference=data.get("reference") or "",
                )
        adopt(form.instance, saved)

    def construct_change_message(self, request, form, formsets, add):
        if add:
            return [{"added": {}}]
        fields = list(form.changed_data)
        if any(fs.has_changed() for fs in formsets):
            fields.append("lines")
        return [{"changed": {"fields": fields}}] if fields else []

    def delete_model(self, request, obj):
        with self.refusal_as_form_error():
            journal_entry_delete(entry=obj, by=request.user)

    # ----- actions

    def _checked(self, request, entry: JournalEntry, action: Action) -> JournalEntry:
        if not admin_can(request, entry.company_id, action):
            raise RoleDenied("Your role in this company does not allow this.")
        return entry

    @staticmethod
    def _listed(entry: JournalEntry) -> str:
        return (
            f"{entry} of {entry.date:%Y-%m-%d}: {entry.description or '—'} "
            f"({entry.get_status_display().lower()})"
        )

    @classmethod
    def _listed_posting(cls, entry: JournalEntry) -> str:
        """As listed, and when its day comes before closed periods, that posting moves them."""
        closed_after = closed_period_after(company=entry.company, on=entry.date)
        if closed_after is None:
            return cls._listed(entry)
        return f"{cls._listed(entry)} — ⚠ dated before {closed_after.span()}: the balances they start from change"

    @admin.action(description="Post selected drafts", permissions=["post"])
    def post_drafts(self, request, queryset):
        entries = list(queryset.order_by("date", "id"))
        return self.confirm_then_each(
            request,
            entries,
            lambda e: journal_entry_post(
                entry=self._checked(request, e, Action.JOURNAL_POST), posted_by=request.user
            ),
            success=lambda e, posted: f"{e}: posted as {posted.number}.",
            verb="Post",
            effect="Posting puts each draft in the books for good: it takes the next number in its "
            "year and can afterwards be undone only by a reversal, never edited or deleted. A draft "
            "the books refuse (unbalanced, in a closed period) stays a draft and is named after.",
            describe=self._listed_posting,
        )

    @admin.action(description="Reverse selected entries", permissions=["reverse"])
    def reverse_entries(self, request, queryset):
        entries = list(queryset.order_by("date", "id"))
        return self.confirm_then_each(
            request,
            entries,
            lambda e: journal_entry_reverse(
                entry=self._checked(request, e, Action.JOURNAL_REVERSE), by=request.user
            ),
            success=lambda e, reversal: f"{e}: reversed by {reversal.number}.",
            verb="Reverse",
            effect="Each posted entry gets a new entry, dated like it, with every line's side "
            "swapped, so the two cancel out; the original stays as it is, marked reversed. To date "
            "a reversal otherwise, use Reverse on the entry's own page.",
            describe=self._listed_posting,
        )

    @admin.action(description="Delete selected drafts", permissions=["delete"])
    def delete_drafts(self, request, queryset):
        entries = list(queryset.order_by("date", "id"))
        return self.confirm_then_each(
            request,
            entries,
            lambda e: journal_entry_delete(
                entry=self._checked(request, e, Action.JOURNAL_DRAFT), by=request.user
            ),
            success=lambda e, _: f"{e}: deleted.",
            verb="Delete",
            effect="Each draft and its lines are deleted (the audit trail keeps that they were). "
            "Posted entries are never deleted: they are named after, untouched.",
            describe=self._listed,
        )

    # ----- Post / Reverse buttons on the change page

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/post/",
                self.admin_site.admin_view(self.post_view),
                name="{}_{}_post".format(*info),
            ),
            path(
                "<path:object_id>/reverse/",
                self.admin_site.admin_view(self.reverse_view),
                name="{}_{}_reverse".format(*info),
            ),
            *super().get_urls(),
        ]

    def _change_url(self, entry_id: int) -> str:
        return reverse("admin:ledger_journalentry_change", args=[entry_id], current_app=self.admin_site.name)

    def _entry_for(self, request, object_id: str) -> JournalEntry:
        return get_object_or_404(self.get_queryset(request), pk=object_id)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["can_post_entry"] = obj.status == EntryStatus.DRAFT and admin_can(
                request, obj.company_id, Action.JOURNAL_POST
            )
            context["can_reverse_entry"] = (
                obj.is_posted
                and obj.reversed_by_id is None
                and admin_can(request, obj.company_id, Action.JOURNAL_REVERSE)
            )
            context["can_post_entry"] &= self.has_post_permission(request)
            context["can_reverse_entry"] &= self.has_reverse_permission(request)
        company = obj.company if obj is not None else current_company(request)
        if company is not None:
            # What the running totals need: the functional currency and the places of each currency.
            context["entry_totals"] = {
                "currency": company.currency,
                "places": {code: currency_exponent(code) for code in self.line_currencies(company)},
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def line_currencies(company) -> set[str]:
        currencies = set(
            Account.objects.filter(company=company).exclude(currency="").values_list("currency", flat=True)
        )
        return {company.currency, *currencies}

    def entry_lines_shown(self, entry: JournalEntry, *, swapped: bool = False) -> list[dict[str, str]]:
        """The entry's lines as a confirmation page lists them (sides swapped for a reversal)."""
        currency = entry.company.currency
        shown = []
        for line in entry.lines.select_related("account").order_by("line_no"):
            base = -line.base_amount if swapped else line.base_amount
            shown.append(
                {
                    "account": f"{line.account.code} {line.account.name}",
                    "description": line.description,
                    "debit": display_amount(base, currency) if base > 0 else "",
                    "credit": display_amount(-base, currency) if base < 0 else "",
                }
            )
        return shown

    def confirmation(self, request, entry: JournalEntry, *, template: str, title: str, **extra):
        lines = self.entry_lines_shown(entry, swapped=extra.get("swapped", False))
        debit = sum((ln.base_amount for ln in entry.lines.all() if ln.base_amount > 0), ZERO)
        credit = -sum((ln.base_amount for ln in entry.lines.all() if ln.base_amount < 0), ZERO)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "original": entry,
            "entry": entry,
            "lines": lines,
            "total_debit": display_amount(debit, entry.company.currency),
            "total_credit": display_amount(credit, entry.company.currency),
            "difference": display_amount(debit - credit, entry.company.currency),
            "balanced": debit == credit,
            "currency": entry.company.currency,
            "change_url": self._change_url(entry.pk),
            **extra,
        }
        return TemplateResponse(request, template, context)

    @staticmethod
    def _closed_after_text(entry: JournalEntry, day: datetime.date) -> str | None:
        """Said when `day` comes before closed periods (their opening balances would move)."""
        closed_after = closed_period_after(company=entry.company, on=day)
        if closed_after is None:
            return None
        return closed_after.sentence(day, covered=period_covering(company=entry.company, on=day) is not None)

    @staticmethod
    def _posting_notes(entry: JournalEntry, day: datetime.date) -> list:
        """What the apps above the ledger say posting `entry`'s lines on `day` changes (a bank
        statement reconciled through it: sofinance.posting_notes)."""
        account_ids = set(entry.lines.values_list("account_id", flat=True))
        return posting_notes(company_id=entry.company_id, day=day, account_ids=account_ids)

    def post_view(self, request, object_id):
        """GET: what posting will do (number, period, totals); POST: post through the service."""
        entry = self._entry_for(request, object_id)
        if not (
            self.has_post_permission(request) and admin_can(request, entry.company_id, Action.JOURNAL_POST)
        ):
            raise PermissionDenied
        if request.method != "POST":
            if entry.status != EntryStatus.DRAFT:
                self.message_user(request, f"{entry} is already posted.", messages.WARNING)
                return HttpResponseRedirect(self._change_url(entry.pk))
            blocking = period_blocking(company=entry.company, on=entry.date)
            return self.confirmation(
                request,
                entry,
                template="admin/ledger/journalentry/post_confirm.html",
                title=f"Post {entry}?",
                blocking_period=blocking,
                closed_after_text=None if blocking else self._closed_after_text(entry, entry.date),
                notes=[] if blocking else self._posting_notes(entry, entry.date),
            )
        try:
            posted = journal_entry_post(entry=entry, posted_by=request.user)
        except APIError as exc:
            self.message_user(request, f"{entry}: {exc.message}", messages.ERROR)
        else:
            self.message_user(request, f"{entry}: posted as {posted.number}.", messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(entry.pk))

    def reverse_view(self, request, object_id):
        """GET: the reversal that will be posted (date, swapped lines); POST: reverse it."""
        entry = self._entry_for(request, object_id)
        if not (
            self.has_reverse_permission(request)
            and admin_can(request, entry.company_id, Action.JOURNAL_REVERSE)
        ):
            raise PermissionDenied
        if request.method != "POST":
            if not entry.is_posted or entry.reversed_by_id is not None:
                self.message_user(request, f"{entry} cannot be reversed.", messages.WARNING)
                return HttpResponseRedirect(self._change_url(entry.pk))
            raw = (request.GET.get("reversal_date") or "").strip()
            try:
                chosen = datetime.date.fromisoformat(raw) if raw else entry.date
            except ValueError:
                chosen = entry.date
            return self.confirmation(
                request,
                entry,
                template="admin/ledger/journalentry/reverse_confirm.html",
                title=f"Reverse {entry}?",
                swapped=True,
                reversal_date=chosen,
                blocking_period=period_blocking(company=entry.company, on=chosen),
                closed_after_text=self._closed_after_text(entry, chosen),
                notes=self._posting_notes(entry, chosen),
                date_widget=date_widget().render("reversal_date", chosen, attrs={"id": "id_reversal_date"}),
            )
        raw_date = (request.POST.get("reversal_date") or "").strip()
        try:
            date = datetime.date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            self.message_user(request, f"{raw_date!r} is not a date (YYYY-MM-DD).", messages.ERROR)
            return HttpResponseRedirect(self._change_url(entry.pk))
        # what the new entry says it is, the reason included ("Customer paid twice", say)
        description = " ".join((request.POST.get("reversal_description") or "").split())[:500]
        try:
            reversal = journal_entry_reverse(entry=entry, by=request.user, date=date, description=description)
        except APIError as exc:
            self.message_user(request, f"{entry}: {exc.message}", messages.ERROR)
            return HttpResponseRedirect(self._change_url(entry.pk))
        self.message_user(request, f"{entry}: reversed by {reversal.number}.", messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(reversal.pk))


# --------------------------------------------------------------------------- rates and periods


class ExchangeRateForm(ServiceModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["company", "from_currency", "to_currency", "date", "rate"]

    def clean_from_currency(self) -> str:
        return (self.cleaned_data.get("from_currency") or "").strip().upper()

    def clean_to_currency(self) -> str:
        return (self.cleaned_data.get("to_currency") or "").strip().upper()


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ServiceAdmin, CompanyScopedAdmin):
    """Rates are stored (or replaced, for the same pair and day) by exchange_rate_set."""

    form = ExchangeRateForm
    view_action = Action.RATES_VIEW
    manage_action = Action.RATES_MANAGE
    list_display = ["date", "from_currency", "to_currency", "rate", "company", "created_at"]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter), "from_currency", "to_currency"]
    list_select_related = ["company"]
    search_fields = ["from_currency", "to_currency"]
    date_hierarchy = "date"
    ordering = ["company", "from_currency", "to_currency", "-date"]

    def get_readonly_fields(self, request, obj=None):
        # A rate is identified by its company, pair and day; only its value changes.
        return ["company", "from_currency", "to_currency", "date", "created_at"] if obj is not None else []

    def get_fields(self, request, obj=None):
        fields = ["company", "from_currency", "to_currency", "date", "rate"]
        return [*fields, "created_at"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        key = obj if change else None
        with self.refusal_as_form_error():
            saved = exchange_rate_set(
                company=key.company if key else data["company"],
                from_currency=key.from_currency if key else data["from_currency"],
                to_currency=key.to_currency if key else data["to_currency"],
                date=key.date if key else data["date"],
                rate=data["rate"],
                by=request.user,
            )
        adopt(obj, saved)

    def delete_model(self, request, obj):
        with self.refusal_as_form_error():
            exchange_rate_delete(rate=obj, by=request.user)


class PeriodActionForm(admin.helpers.ActionForm):
    reason = forms.CharField(required=False, label="Reason (to reopen)", max_length=500)


@admin.register(AccountingPeriod)
class AccountingPeriodAdmin(ServiceAdmin, CompanyScopedAdmin):
    """Periods are created, closed, reopened and locked only through the ledger's period services.

    Add and change are off: a fiscal year's months are generated in one step, and each period's
    row links its next step (close, reopen with a reason, lock), each a confirmation page saying
    what it will do (ledger.admin_close), as are closing and reopening the fiscal year. The bulk
    actions do the same for several periods at once, each reporting the service's answer.
    """

    view_action = Action.PERIODS_VIEW
    manage_action = Action.PERIODS_MANAGE
    action_form = PeriodActionForm
    actions = ["close_periods", "reopen_periods", "lock_periods"]
    list_display = ["name", "start_date", "end_date", "status", "closed", "last_reopened", "next_steps"]
    list_filter = ["status"]
    list_select_related = ["company", "closed_by"]
    date_hierarchy = "start_date"
    ordering = ["company", "start_date"]
    change_list_template = "admin/ledger/accountingperiod/change_list.html"

    def get_urls(self):
        return [*ClosePages(self.admin_site, self).urls(), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {"can_manage_periods": self.has_manage_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    @admin.display(description="")
    def next_steps(self, obj: AccountingPeriod) -> str:
        if not admin_can(self._request, obj.company_id, Action.PERIODS_MANAGE):
            return ""
        steps = {
            PeriodStatus.OPEN: [("close", "Close…"), ("lock", "Lock…")],
            PeriodStatus.CLOSED: [("reopen", "Reopen…"), ("lock", "Lock…")],
            PeriodStatus.LOCKED: [],
        }[obj.status]
        if obj.status == PeriodStatus.CLOSED and self._in_closed_year(obj):
            # Its year is closed: the period reopens only with the year (a Reopen… here would be
            # refused), so the link goes to the year's reopening, which says what it reverses.
            year = fiscal_year_of(company=obj.company, day=obj.start_date)
            return format_html(
                '<a href="{}?fiscal_year={}" class="button period-step" id="reopen-year-{}" '
                'title="Fiscal year {} is closed: its periods reopen with the year">Reopen the year…</a> '
                '<a href="{}" class="button period-step" id="lock-{}">Lock…</a>',
                reverse("admin:ledger_accountingperiod_reopen_year"),
                year,
                obj.pk,
                year,
                reverse("admin:ledger_accountingperiod_lock", args=[obj.pk]),
                obj.pk,
            )
        return format_html_join(
            " ",
            '<a href="{}" class="button period-step" id="{}-{}">{}</a>',
            (
                (reverse(f"admin:ledger_accountingperiod_{step}", args=[obj.pk]), step, obj.pk, label)
                for step, label in steps
            ),
        )

    def get_changelist_instance(self, request):
        self._request = request  # next_steps checks the role of the user who is looking
        changelist = super().get_changelist_instance(request)
        # Each listed period's reopenings, read at once (the reasons live in the audit trail).
        by_company: dict[int, list[int]] = {}
        for period in changelist.result_list:
            by_company.setdefault(period.company_id, []).append(period.pk)
        self._reopenings = {}
        self._closed_years = {}
        for company_id, ids in by_company.items():
            self._reopenings.update(period_reopenings(company_id=company_id, period_ids=ids))
            self._closed_years[company_id] = closed_fiscal_years(company_id=company_id)
        return changelist

    def _in_closed_year(self, obj: AccountingPeriod) -> bool:
        years = getattr(self, "_closed_years", {}).get(obj.company_id, ())
        return any(start <= obj.start_date and obj.end_date <= end for start, end in years)

    @admin.display(description="Closed", ordering="closed_at")
    def closed(self, obj: AccountingPeriod) -> str:
        if obj.closed_at is None:
            return ""
        by = f" by {obj.closed_by}" if obj.closed_by_id else ""
        return f"{timezone.localtime(obj.closed_at):%Y-%m-%d %H:%M}{by}"

    @admin.display(description="Last reopened")
    def last_reopened(self, obj: AccountingPeriod) -> str:
        reopenings = getattr(self, "_reopenings", {}).get(obj.pk)
        if not reopenings:
            return ""
        latest = reopenings[0]
        return format_html(
            '<span class="reopened">{} by {}: {}</span>',
            timezone.localtime(latest.at).strftime("%Y-%m-%d %H:%M"),
            latest.by or "the system",
            latest.reason,
        )

    @admin.display(description="Reopened")
    def reopenings(self, obj: AccountingPeriod) -> str:
        found = period_reopenings(company_id=obj.company_id, period_ids=[obj.pk]).get(obj.pk)
        if not found:
            return "Never"
        return format_html(
            '<ul class="reopenings">{}</ul>',
            format_html_join(
                "",
                "<li>{} by {}: {}</li>",
                (
                    (timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M"), r.by or "the system", r.reason)
                    for r in found
                ),
            ),
        )

    readonly_fields = [
        "company", "name", "start_date", "end_date", "status", "closed_at", "closed_by", "reopenings",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_manage_permission(self, request):
        return admin_may(request, Action.PERIODS_MANAGE, "ledger.view_accountingperiod")

    def _checked(self, request, period: AccountingPeriod) -> AccountingPeriod:
        if not admin_can(request, period.company_id, Action.PERIODS_MANAGE):
            raise RoleDenied("Your role in this company does not allow this.")
        return period

    @staticmethod
    def _listed(period: AccountingPeriod) -> str:
        return f"{period} ({period.get_status_display().lower()})"

    @admin.action(description="Close selected periods", permissions=["manage"])
    def close_periods(self, request, queryset):
        periods = list(queryset.order_by("start_date"))
        return self.confirm_then_each(
            request,
            periods,
            lambda p: period_close(period=self._checked(request, p), by=request.user),
            success=lambda p, _: f"{p}: closed.",
            verb="Close",
            effect="Closing a period refuses every new posting dated in it until it is reopened, with a "
            "reason, by someone allowed to manage periods.",
            describe=self._listed,
        )

    @admin.action(description="Reopen selected periods (give a reason)", permissions=["manage"])
    def reopen_periods(self, request, queryset):
        reason = request.POST.get("reason", "")
        periods = list(queryset.order_by("start_date"))
        return self.confirm_then_each(
            request,
            periods,
            lambda p: period_reopen(period=self._checked(request, p), reason=reason, by=request.user),
            success=lambda p, _: f"{p}: reopened.",
            verb="Reopen",
            effect=f"Reopening lets postings dated in each period again; the reason is kept in the audit "
            f"trail: “{reason}”."
            if reason.strip()
            else "Reopening needs a reason, and none was "
            "given: each period will be refused. Go back and type the reason beside the action.",
            describe=self._listed,
            carry=("reason",),
        )

    @admin.action(description="Lock selected periods (for good)", permissions=["manage"])
    def lock_periods(self, request, queryset):
        periods = list(queryset.order_by("start_date"))
        return self.confirm_then_each(
            request,
            periods,
            lambda p: period_lock(period=self._checked(request, p), by=request.user),
            success=lambda p, _: f"{p}: locked.",
            verb="Lock",
            effect="Locking is for good: nothing dated in a locked period is ever posted again, and no one "
            "can reopen it.",
            describe=self._listed,
        )


@admin.register(FiscalYearClose)
class FiscalYearCloseAdmin(CompanyScopedAdmin):
    """Closed fiscal years and their closing entries (closing and reopening: ledger.admin_close)."""

    view_action = Action.PERIODS_VIEW
    list_display = [
        "start_date",
        "end_date",
        "closing_entry",
        "closed_at",
        "closed_by",
        "reopened_at",
    ]
    list_select_related = ["company", "closing_entry", "closed_by"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------- menu and dashboard

admin_menu.place_model("accounts.account", section=Section.LEDGER, order=10, title="Chart of accounts")
admin_menu.place_model("ledger.journalentry", section=Section.LEDGER, order=20, title="Journal entries")
admin_menu.place_model("ledger.exchangerate", section=Section.LEDGER, order=30, title="Exchange rates")
admin_menu.place_model("ledger.accountingperiod", section=Section.CLOSE, order=10, title="Accounting periods")
admin_menu.place_model("ledger.fiscalyearclose", section=Section.CLOSE, order=40, title="Closed fiscal years")
admin_menu.place_link(
    section=Section.CLOSE,
    key="generate-periods",
    title="Generate a fiscal year's periods",
    url_name="admin:ledger_accountingperiod_generate",
    order=20,
    visible=may_in_current_company(Action.PERIODS_MANAGE),
)
admin_menu.place_link(
    section=Section.CLOSE,
    key="close-year",
    title="Close a fiscal year",
    url_name="admin:ledger_accountingperiod_close_year",
    order=30,
    visible=may_in_current_company(Action.PERIODS_MANAGE),
)
register_dashboard_panels()
