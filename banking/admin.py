"""Admin for banking: bank accounts, statements, their lines and matches, import jobs, settings.

Thin and service-backed: bank accounts and settings save through their services; statements are
uploaded, reconciled, reopened and deleted on pages that call the services; a bank line's page
shows its suggestions (confirm with one click), the candidate ledger lines (tick and match), an
entry to post for it (fees, interest) and the open invoice its reference names (record the
payment). For a month of 300 lines: the lines list filters by status and statement and confirms
the best suggestion of every selected line at once. The custom pages are in banking.admin_views.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db.models import Value
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.models import Account
from banking import services
from banking.admin_dashboard import register_panels as register_dashboard_panels
from banking.admin_forms import CSV_FIELDSET_LINES, BankAccountForm, csv_mapping_in_words
from banking.admin_links import bank_lines_of_entries
from banking.admin_reports import (
    BankReportPages,
    reconciled_month_notes,
    reconciliation_url,
    unreconciled_statement_notes,
)
from banking.admin_views import BankingPages
from banking.models import (
    BankAccount,
    BankingSettings,
    BankStatement,
    BankStatementLine,
    ImportJob,
    LineStatus,
)
from banking.reports import changes_since_reconciled
from banking.services.bank_accounts import BANK_ACCOUNT_FIELDS
from ledger.models import JournalLine
from sofinance import admin_links, admin_menu, close_notes, posting_notes
from sofinance.admin import (
    CompanyScopedAdmin,
    ServiceAdmin,
    ServiceModelForm,
    admin_can,
    admin_companies,
    adopt,
)
from sofinance.admin_menu import Section
from sofinance.admin_site import may_in_current_company
from sofinance.company_context import current_company_id
from sofinance.display import display_amount
from sofinance.errors import APIError
from sofinance.permissions import Action


class _ReadOnly(CompanyScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ActiveFilter(admin.SimpleListFilter):
    title = "in use"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", "Active"), ("no", "Closed")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(is_active=self.value() == "yes")
        return queryset


@admin.register(BankAccount)
class BankAccountAdmin(ServiceAdmin, CompanyScopedAdmin):
    form = BankAccountForm
    view_action = Action.BANKING_VIEW
    manage_action = Action.BANKING_MANAGE
    list_display = ["name", "account", "currency", "iban", "active", "company", "links"]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter), ActiveFilter]
    list_select_related = ["company", "account"]
    search_fields = ["name", "iban", "number"]
    ordering = ["company", "name"]
    change_form_template = "banking/admin/bank_account_form.html"

    def get_readonly_fields(self, request, obj=None):
        return ["company"] if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        account = ["company", "name", "account", "currency", "iban", "number", "is_active"]
        if obj is not None and not self.has_change_permission(request, obj):
            csv = {"fields": ["csv_mapping_in_words"]}  # a role that reads: the mapping in words
        else:
            # Folded while nothing is set; open on a refused save (Django opens a fieldset only
            # when a field of its own, not of a multi-field line, has an error).
            folded = request.method == "GET" and not (obj is not None and obj.csv_mapping)
            csv = {
                "fields": CSV_FIELDSET_LINES,
                "classes": ["csv-mapping", *(["collapse"] if folded else [])],
                "description": "How this bank's CSV statements read. Columns are named by their header "
                "in the file (capitals and spaces around it do not matter).",
            }
        return [(None, {"fields": account}), ("CSV statements", csv)]

    @admin.display(description="How the file reads")
    def csv_mapping_in_words(self, obj: BankAccount) -> str:
        return csv_mapping_in_words(obj.csv_mapping)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Account:
            allowed = admin_companies(request, self.manage_action)
            accounts = Account.objects.filter(type__in=["asset", "liability"], is_active=True).order_by(
                "company_id", "path"
            )
            kwargs["queryset"] = accounts if allowed is None else accounts.filter(company_id__in=allowed)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        # Whether the user may upload statements here, read by the row's links (per request).
        may_upload = admin_can(request, current_company_id(request), Action.BANKING_IMPORT)
        return super().get_queryset(request).annotate(may_upload=Value(may_upload))

    @admin.display(description="active", boolean=True, ordering="is_active")
    def active(self, obj: BankAccount) -> bool:
        return obj.is_active

    @staticmethod
    def account_links(obj: BankAccount, *, may_upload: bool) -> list[tuple[str, str, str]]:
        """(label, url, id) of the account's pages, in the order of a month's work."""
        links = [
            (
                "Statements",
                reverse("admin:banking_bankstatement_changelist") + f"?bank_account__id__exact={obj.pk}",
                "account-statements",
            ),
            (
                "Lines",
                reverse("admin:banking_bankstatementline_changelist") + f"?bank_account__id__exact={obj.pk}",
                "account-lines",
            ),
            ("Reconciliation", reconciliation_url(obj.pk), "account-reconciliation"),
        ]
        if may_upload:
            upload = reverse("admin:banking_bankaccount_upload", args=[obj.pk])
            links.insert(0, ("Upload statement", upload, "account-upload"))
        return links

    @admin.display(description="")
    def links(self, obj: BankAccount) -> str:
        shown = self.account_links(obj, may_upload=getattr(obj, "may_upload", False))
        return format_html_join(
            " · ",
            '<a href="{}" class="{}">{}</a>',
            ((url, id_, label) for label, url, id_ in shown if id_ != "account-statements"),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            may_upload = admin_can(request, obj.company_id, Action.BANKING_IMPORT)
            extra_context = {
                **(extra_context or {}),
                "account_links": self.account_links(obj, may_upload=may_upload),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        with self.refusal_as_form_error():
            mapping = form.csv_mapping_to_save()  # None: the CSV fields say what is saved
            if change:
                changes = {name: data.get(name) for name in form.changed_data if name in BANK_ACCOUNT_FIELDS}
                if mapping is not None:
                    changes["csv_mapping"] = mapping
                saved = (
                    services.bank_account_update(bank_account=obj, by=request.user, **changes)
                    if changes
                    else obj
                )
            else:
                values = {name: data.get(name) for name in BANK_ACCOUNT_FIELDS if name in data}
                if mapping is not None:
                    values["csv_mapping"] = mapping
                saved = services.bank_account_create(company=data["company"], by=request.user, **values)
        adopt(obj, saved)

    def get_urls(self):
        return [
            *BankReportPages(self.admin_site).urls(),
            *BankingPages(self.admin_site, self).bank_account_urls(),
            *super().get_urls(),
        ]


@admin.register(BankStatement)
class BankStatementAdmin(_ReadOnly):
    view_action = Action.BANKING_VIEW
    list_display = [
        "__str__",
        "start_date",
        "end_date",
        "balances",
        "line_count",
        "duplicates_skipped",
        "status",
    ]
    list_filter = [
        ("company", admin.RelatedOnlyFieldListFilter),
        ("bank_account", admin.RelatedOnlyFieldListFilter),
        "status",
    ]
    list_select_related = ["bank_account", "company"]
    ordering = ["-end_date", "-id"]
    change_form_template = "admin/banking/bankstatement/change_form.html"
    readonly_fields = [
        "bank_account", "start_date", "end_date", "opening_shown", "closing_shown", "chain_break_shown",
        "line_count", "duplicates_skipped", "format", "file_name", "file_hash", "status", "imported_by", "created_at",
    ]  # fmt: skip
    fields = readonly_fields

    @admin.display(description="opening balance")
    def opening_shown(self, obj: BankStatement) -> str:
        return display_amount(obj.opening_balance, obj.bank_account.currency)

    @admin.display(description="closing balance")
    def closing_shown(self, obj: BankStatement) -> str:
        return display_amount(obj.closing_balance, obj.bank_account.currency)

    @admin.display(description="difference from the previous closing balance")
    def chain_break_shown(self, obj: BankStatement) -> str:
        return display_amount(obj.chain_break, obj.bank_account.currency) or "—"

    @admin.display(description="opening → closing")
    def balances(self, obj: BankStatement) -> str:
        currency = obj.bank_account.currency
        return f"{display_amount(obj.opening_balance, currency)} → {display_amount(obj.closing_balance, currency)}"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        statement = self.get_object(request, object_id)
        extra: dict[str, Any] = dict(extra_context or {})
        if statement is not None:
            stored = statement.reconciliations.filter(reopened_at__isnull=True).first()
            currency = statement.bank_account.currency
            changes = changes_since_reconciled(statement=statement) if stored is not None else None
            moved = None
            if changes is not None and changes["changed"]:
                moved = {
                    "book_balance_now": display_amount(changes["book_balance_now"], currency),
                    "entries": list(
                        JournalLine.objects.filter(pk__in=changes["lines_posted_since"])
                        .order_by("date", "id")
                        .values("entry_id", "entry__number", "date")
                    ),
                }

            def items(rows):
                return [{**row, "amount": display_amount(Decimal(row["amount"]), currency)} for row in rows]

            extra.update(
                moved=moved,
                carried_items=items(stored.unmatched_bank_lines) if stored is not None else [],
                outstanding_items=items(stored.unmatched_book_lines) if stored is not None else [],
                earlier=statement.reconciliations.filter(reopened_at__isnull=False)
                .select_related("reconciled_by", "reopened_by")
                .order_by("-reconciled_at"),
                can_reconcile=admin_can(request, statement.company_id, Action.BANKING_RECONCILE),
                can_reopen=admin_can(request, statement.company_id, Action.BANKING_REOPEN),
                can_delete_statement=admin_can(request, statement.company_id, Action.BANKING_IMPORT),
                lines_url=reverse("admin:banking_bankstatementline_changelist")
                + f"?statement__id__exact={statement.pk}",
                reconciliation=stored,
                stored={
                    name: display_amount(getattr(stored, name), statement.bank_account.currency)
                    for name in (
                        "statement_balance",
                        "book_balance",
                        "unmatched_bank_total",
                        "unmatched_book_total",
                    )
                }
                if stored is not None
                else {},
                reconciliation_url=reconciliation_url(statement.bank_account_id, statement.end_date),
            )
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self):
        return [*BankingPages(self.admin_site, self).statement_urls(), *super().get_urls()]


class MatchedFilter(admin.SimpleListFilter):
    """Matched or not: "not matched" holds the unmatched lines and those with a suggestion only."""

    title = "matching"
    parameter_name = "matched"

    def lookups(self, request, model_admin):
        return [("no", "Not matched yet"), ("yes", "Matched")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.exclude(status=LineStatus.MATCHED)
        if self.value() == "yes":
            return queryset.filter(status=LineStatus.MATCHED)
        return queryset


# How many lines (or refusals) a bulk action's message names before it says "and N more".
MESSAGES_LISTED = 10


def _count(lines: list) -> str:
    return f"{len(lines)} line{'s' if len(lines) > 1 else ''}"


def _listed(lines: list) -> str:
    """The first lines of a bulk action's outcome, by date, amount and counterparty."""
    shown = "; ".join(str(line) for line in lines[:MESSAGES_LISTED])
    more = len(lines) - MESSAGES_LISTED
    return f"{shown}; and {more} more" if more > 0 else shown


@admin.register(BankStatementLine)
class BankStatementLineAdmin(_ReadOnly):
    """The lines of a month: filter what is left to match, confirm the best suggestions at once,
    open a line to match it by hand or post its entry (fees, interest).

    A month of a few hundred lines is one page (`list_per_page`); each row's suggestions are read
    in one prefetch, and the list counts its rows once (no second count of the whole table).
    """

    view_action = Action.BANKING_VIEW
    list_display = [
        "date",
        "amount_shown",
        "counterparty",
        "reference",
        "description_shown",
        "match_state",
        "match_link",
    ]
    list_filter = [
        MatchedFilter,
        "status",
        ("bank_account", admin.RelatedOnlyFieldListFilter),
        ("statement", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["bank_account"]
    search_fields = ["counterparty", "reference", "description"]
    ordering = ["date", "id"]
    list_per_page = 400
    show_full_result_count = False
    actions = ["confirm_best_suggestions", "unmatch_selected"]
    readonly_fields = [
        "bank_account", "statement", "date", "value_date", "amount_shown", "counterparty", "reference", "description",
        "unique_id", "status", "match_confidence", "matched_at", "matched_by",
    ]  # fmt: skip
    fields = readonly_fields

    def get_queryset(self, request):
        # Whether the user may post entries from lines, read by the row's links (per request).
        may_post = admin_can(request, current_company_id(request), Action.BANKING_POST)
        return (
            super().get_queryset(request).prefetch_related("suggestions").annotate(may_post=Value(may_post))
        )

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Bank lines", **(extra_context or {})})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not admin_can(request, current_company_id(request), Action.BANKING_MATCH):
            return {}  # viewers and auditors read the lines; matching is not theirs
        return actions

    @admin.display(description="description")
    def description_shown(self, obj: BankStatementLine) -> str:
        # the bank's own words tell a fee from interest when counterparty and reference are blank
        text = obj.description or ""
        return text if len(text) <= 40 else text[:39] + "…"

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, obj: BankStatementLine) -> str:
        return display_amount(obj.amount, obj.bank_account.currency)

    @admin.display(description="status", ordering="status")
    def match_state(self, obj: BankStatementLine) -> str:
        """The line's state and, while it is not matched, its best suggestion under it: one
        column, so that the month's table fits beside the menu and the filters."""
        state = obj.get_status_display()
        suggestions = list(obj.suggestions.all())
        if not suggestions or obj.status == LineStatus.MATCHED:
            return state
        best = min(suggestions, key=lambda s: s.rank)
        count = len(best.journal_line_ids)
        return format_html(
            '{}<br><span class="best-suggestion">best: {}%, {} ledger line{}</span>',
            state,
            best.confidence,
            count,
            "s" if count > 1 else "",
        )

    @admin.display(description="")
    def match_link(self, obj: BankStatementLine) -> str:
        """Each row opens its match page; "Entry…" (post its entry) for those who may post one."""
        url = reverse("admin:banking_bankstatementline_match", args=[obj.pk])
        if obj.status == LineStatus.MATCHED:
            return format_html('<a href="{}" class="line-view">View</a>', url)
        match = format_html('<a href="{}" class="line-match">Match…</a>', url)
        if not getattr(obj, "may_post", False):
            return match
        # one under the other: the column stays narrow enough for the month to fit beside the menu
        return format_html('{}<br><a href="{}#create-entry" class="line-entry">Entry…</a>', match, url)

    def _each(self, request, queryset, call, done: str) -> None:
        """Run `call` on each selected line the user may match; say what happened in one message
        per outcome (a month's confirmation is one line of text, not 300 banners): the lines
        done, then each refusal (a line `call` passes over, returning None, is not counted)."""
        allowed = [
            line
            for line in queryset.order_by("date", "id")
            if admin_can(request, line.company_id, Action.BANKING_MATCH)
        ]
        finished: list[BankStatementLine] = []
        refused: list[str] = []
        for line in allowed:
            try:
                result = call(line)
            except APIError as exc:
                refused.append(f"{line}: {exc.message}")
            else:
                if result is not None:
                    finished.append(line)
        if finished:
            self.message_user(request, f"{_count(finished)} {done}: {_listed(finished)}.", level="success")
        for text in refused[:MESSAGES_LISTED]:
            self.message_user(request, text, level="error")
        if len(refused) > MESSAGES_LISTED:
            more = len(refused) - MESSAGES_LISTED
            self.message_user(
                request, f"… and {more} more line{'s' if more > 1 else ''} refused.", level="error"
            )

    @admin.action(description="Confirm the best suggestion of the selected lines")
    def confirm_best_suggestions(self, request, queryset):
        def confirm(line):
            if line.status == LineStatus.MATCHED:
                return None
            best = line.suggestions.order_by("rank").first()
            if best is None:
                # Said, not skipped in silence: the line is left for a match by hand or an entry.
                unsuggested.append(line)
                return None
            return services.bank_line_match(bank_line=line, suggestion=best.pk, by=request.user)

        unsuggested: list[BankStatementLine] = []
        self._each(request, queryset, confirm, "matched")
        if unsuggested:
            self.message_user(
                request,
                f"{_count(unsuggested)} with no suggestion, not matched (open each to match it by hand "
                f"or post its entry): {_listed(unsuggested)}.",
                level="warning",
            )

    @admin.action(description="Unmatch the selected lines")
    def unmatch_selected(self, request, queryset):
        def unmatch(line):
            if line.status != LineStatus.MATCHED:
                return None
            return services.bank_line_unmatch(bank_line=line, by=request.user)

        self._each(request, queryset, unmatch, "unmatched")

    def get_urls(self):
        return [*BankingPages(self.admin_site, self).line_urls(), *super().get_urls()]


@admin.register(ImportJob)
class ImportJobAdmin(_ReadOnly):
    view_action = Action.BANKING_VIEW
    list_display = [
        "__str__",
        "kind",
        "file_name",
        "status",
        "progress",
        "line_count",
        "error_message",
        "created_at",
    ]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter), "kind", "status"]
    ordering = ["-created_at"]
    readonly_fields = [
        "kind", "bank_account", "status", "progress", "file_name", "file_hash", "format", "dry_run", "row_count",
        "entry_count", "line_count", "duplicates_skipped", "result", "error_code", "error_message", "errors",
        "requested_by", "created_at", "started_at", "finished_at",
    ]  # fmt: skip
    fields = readonly_fields

    def get_urls(self):
        return [*BankingPages(self.admin_site, self).journal_import_urls(), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = dict(extra_context or {})
        # the button only for who may import a journal into some company (others got a bare 403)
        if admin_companies(request, Action.JOURNAL_IMPORT):
            extra["journal_import_url"] = reverse("admin:banking_importjob_journal")
        return super().changelist_view(request, extra)


class BankingSettingsForm(ServiceModelForm):
    class Meta:
        model = BankingSettings
        fields = ["company", "date_window_days", "auto_confirm_confidence"]


@admin.register(BankingSettings)
class BankingSettingsAdmin(ServiceAdmin, CompanyScopedAdmin):
    form = BankingSettingsForm
    view_action = Action.BANKING_VIEW
    manage_action = Action.BANKING_MANAGE
    list_display = ["company", "date_window_days", "auto_confirm_confidence"]

    def get_readonly_fields(self, request, obj=None):
        return ["company"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        company = obj.company if change else data["company"]
        with self.refusal_as_form_error():
            saved = services.banking_settings_update(
                company=company,
                by=request.user,
                date_window_days=data["date_window_days"],
                auto_confirm_confidence=data.get("auto_confirm_confidence"),
            )
        adopt(obj, saved)


register_dashboard_panels()
admin_links.register_document_resolver(bank_lines_of_entries)
close_notes.register("banking", unreconciled_statement_notes)
posting_notes.register("banking", reconciled_month_notes)

admin_menu.place_model("banking.bankaccount", section=Section.BANKING, order=10, title="Bank accounts")
admin_menu.place_model("banking.bankstatement", section=Section.BANKING, order=20, title="Statements")
admin_menu.place_model("banking.bankstatementline", section=Section.BANKING, order=30, title="Bank lines")
admin_menu.place_model("banking.importjob", section=Section.BANKING, order=40, title="Imports")
admin_menu.place_model(
    "banking.bankingsettings", section=Section.SETTINGS, order=45, title="Banking settings"
)
admin_menu.place_link(
    section=Section.LEDGER,
    key="journal-import",
    title="Import a journal (CSV, XLSX)",
    url_name="admin:banking_importjob_journal",
    order=25,
    visible=may_in_current_company(Action.JOURNAL_IMPORT),
)
