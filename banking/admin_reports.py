"""The bank reconciliation report page of the admin (sofinance.report_pages): a bank account as
of a date, the bank's balance from its statements against the book balance, and the unmatched
items on each side that explain the difference, each drilling down to its bank line (to match
it) or its journal entry.

Where it lives: BankAccountAdmin.get_urls() mounts it at /admin/banking/bankaccount/reports/
reconciliation/ (a bank account's own "Reconciliation" link opens it for that account). Who may
read it: the current company, when the user's role there allows banking.view (superusers:
always), as every report page (sofinance.admin.report_company). Thin: a GET form, one selector
(banking.reports.reconciliation_report), amounts formatted for people (sofinance.display).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from accounts.models import Company
from banking import reports, selectors
from banking.models import BankAccount, BankStatement, LineStatus, StatementStatus
from ledger.models import FIRST_BOOK_DATE, LAST_BOOK_DATE
from sofinance import admin_menu, report_pages
from sofinance.admin import DateFormField, admin_can, date_widget, report_company
from sofinance.admin_menu import Section
from sofinance.admin_site import may_in_current_company
from sofinance.close_notes import CloseNote
from sofinance.display import display_amount
from sofinance.permissions import Action

RECONCILIATION = report_pages.ReportPage(
    key="bank_reconciliation",
    title="Bank reconciliation",
    description="A bank account's statement against the books as of a date, and what explains the gap.",
    url_name="admin:banking_reports_bank_reconciliation",
    group="Banking",
    order=210,
    action=Action.BANKING_VIEW,
)
report_pages.register(RECONCILIATION)
admin_menu.place_link(
    section=Section.REPORTS,
    key=f"report-{RECONCILIATION.key}",
    title=RECONCILIATION.title,
    url_name=RECONCILIATION.url_name,
    order=RECONCILIATION.order,
    visible=may_in_current_company(RECONCILIATION.action),
)


class BankAccountChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: BankAccount) -> str:
        return f"{obj.name} ({obj.currency})"


class ReconciliationForm(forms.Form):
    bank_account = BankAccountChoice(
        queryset=BankAccount.objects.none(),
        label="Bank account",
        empty_label=None,
        error_messages={"invalid_choice": "Choose a bank account of the selected company."},
    )
    as_of = DateFormField(label="As of", input_formats=["%Y-%m-%d"], widget=date_widget())

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].queryset = BankAccount.objects.filter(company=company).order_by("name")

    def clean_as_of(self) -> datetime.date:
        as_of = self.cleaned_data["as_of"]
        if not FIRST_BOOK_DATE <= as_of <= LAST_BOOK_DATE:
            raise forms.ValidationError(
                f"Enter a date between {FIRST_BOOK_DATE.isoformat()} and {LAST_BOOK_DATE.isoformat()}."
            )
        return as_of


def reconciliation_url(bank_account_id: int, as_of: datetime.date | None = None) -> str:
    """The report of one bank account (as of its last statement's date unless given)."""
    query = {"bank_account": bank_account_id, **({"as_of": as_of.isoformat()} if as_of else {})}
    return f"{reverse(RECONCILIATION.url_name)}?{urlencode(query)}"


def unreconciled_statement_notes(
    company_id: int, start: datetime.date, end: datetime.date
) -> list[CloseNote]:
    """The close pages' notes (sofinance.close_notes): each statement in the dates being closed
    that is not marked reconciled, with its reconciliation as of its last day."""
    return [
        CloseNote(
            text=(
                f"{statement.bank_account.name}: the statement {statement.start_date:%Y-%m-%d} – "
                f"{statement.end_date:%Y-%m-%d} is not reconciled"
                + (
                    f" ({statement.unmatched} of {statement.line_total} line{'s' if statement.line_total != 1 else ''} not matched)."
                    if statement.unmatched
                    else " (every line is matched; mark it reconciled)."
                )
            ),
            url=reconciliation_url(statement.bank_account_id, statement.end_date),
            link_text="Reconcile it",
        )
        for statement in selectors.statements_unreconciled_between(
            company_id=company_id, start=start, end=end
        )
    ]


def reconciled_month_notes(company_id: int, day: datetime.date, account_ids) -> list[CloseNote]:
    """The Post and Reverse pages' notes (sofinance.posting_notes): each bank account on one of the
    entry's accounts whose statements are reconciled through `day` or later. Posting there changes
    a reconciled position: the statement then says the books moved since it was reconciled."""
    notes = []
    for bank in BankAccount.objects.filter(company_id=company_id, account_id__in=list(account_ids)).order_by(
        "name", "id"
    ):
        through = selectors.reconciled_through(bank_account_id=bank.pk)
        if through is None or day > through:
            continue
        notes.append(
            CloseNote(
                text=(
                    f"{bank.name} is reconciled through {through:%Y-%m-%d}: a line on its account dated "
                    f"{day:%Y-%m-%d} changes a reconciled month, whose statement will then say the "
                    "books moved since it was reconciled. Date it after the last reconciled day if "
                    "the money went through the bank later."
                ),
                url=reconciliation_url(bank.pk, through),
                link_text="The reconciliation",
            )
        )
    return notes


def last_statement_date(bank: BankAccount) -> datetime.date:
    last = BankStatement.objects.filter(bank_account=bank).order_by("-end_date", "-id").first()
    return last.end_date if last is not None else timezone.localdate()


class BankReportPages:
    """The banking report pages of one admin site; `urls()` is mounted by the BankAccount admin."""

    def __init__(self, admin_site: AdminSite) -> None:
        self.admin_site = admin_site

    def urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "reports/reconciliation/",
                view(self.reconciliation_view),
                name="banking_reports_bank_reconciliation",
            ),
            path(
                "<int:pk>/reconciliation/",
                view(self.account_reconciliation_view),
                name="banking_bankaccount_reconciliation",
            ),
        ]

    def account_reconciliation_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A bank account's own reconciliation link: the report page, for that account."""
        as_of = request.GET.get("as_of", "").strip()
        query = {"bank_account": pk, **({"as_of": as_of} if as_of else {})}
        return HttpResponseRedirect(f"{reverse(RECONCILIATION.url_name)}?{urlencode(query)}")

    def reconciliation_view(self, request: HttpRequest) -> HttpResponse:
        company = report_company(request, self.admin_site, action=RECONCILIATION.action)
        if not isinstance(company, Company):
            return company  # the page offering to switch to the company the link names
        given = {k: v for k, v in request.GET.items() if v.strip() and k != "company"}
        values = dict(given)
        banks = BankAccount.objects.filter(company=company).order_by("name")
        chosen = (
            banks.filter(pk=values["bank_account"]).first()
            if values.get("bank_account", "").isdigit()
            else None
        )
        if "bank_account" not in values and (first := banks.first()) is not None:
            chosen = first
            values["bank_account"] = str(first.pk)
        if "as_of" not in values and chosen is not None:
            values["as_of"] = last_statement_date(chosen).isoformat()
        if chosen is None and not banks.exists():
            # Nothing to reconcile yet: the empty form and a pointer, no errors.
            form = ReconciliationForm(initial=values, company=company)
            messages.info(
                request, "This company has no bank account yet: add one under Banking, Bank accounts."
            )
        else:
            form = ReconciliationForm(values, company=company)
        shown = (
            self.reconciliation_context(request, form.cleaned_data)
            if form.is_bound and form.is_valid()
            else {}
        )
        context = {
            **self.admin_site.each_context(request),
            "title": RECONCILIATION.title,
            "subtitle": company.name,
            "form": form,
            "company": company,
            "report_page": RECONCILIATION,
            "has_report": bool(shown),
            "without_csv": True,
            **shown,
        }
        return TemplateResponse(request, "admin/banking/reports/bank_reconciliation.html", context)

    def reconciliation_context(self, request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
        bank: BankAccount = data["bank_account"]
        report = reports.reconciliation_report(bank_account=bank, as_of=data["as_of"])
        currency = bank.currency

        def money(value) -> str:
            return display_amount(value, currency) if value is not None else "—"

        open_statement = (
            BankStatement.objects.filter(
                bank_account=bank, end_date=report.as_of, status=StatementStatus.OPEN
            )
            .order_by("-id")
            .first()
        )
        ledger_account = bank.account
        partners = reports.same_amount_partners(report)
        later = [item for item in report.unmatched_bank if item.status == LineStatus.MATCHED]
        not_in_books = [
            item
            for item in report.unmatched_bank
            if item.id not in partners and item.status != LineStatus.MATCHED
        ]
        return {
            "bank": bank,
            "report": report,
            "currency": currency,
            "same_amount_count": len(partners),
            "not_in_books_count": len(not_in_books),
            "not_in_books_total": money(sum((item.amount for item in not_in_books), Decimal(0))),
            "matched_later_count": len(later),
            "summary": [
                ("statement-balance", "Bank balance (statements)", money(report.statement_balance)),
                (
                    "unmatched-bank-total",
                    "− bank lines not matched to the books",
                    money(report.unmatched_bank_total),
                ),
                (
                    "unmatched-book-total",
                    "+ book lines not through the bank",
                    money(report.unmatched_book_total),
                ),
                ("adjusted-bank-balance", "= adjusted bank balance", money(report.adjusted_bank_balance)),
                (
                    "book-balance",
                    f"Book balance ({ledger_account.code} {ledger_account.name})",
                    money(report.book_balance),
                ),
                ("difference", "Difference (books − adjusted bank balance)", money(report.difference)),
            ],
            "unmatched_bank_total": money(report.unmatched_bank_total),
            "unmatched_book_total": money(report.unmatched_book_total),
            "opening_difference": money(report.opening_difference) if report.opening_difference else "",
            "bank_items": [
                {
                    "item": item,
                    "amount": money(item.amount),
                    "status": item.status.capitalize(),
                    "matched_later": item.status == LineStatus.MATCHED,
                    "url": reverse("admin:banking_bankstatementline_match", args=[item.id]),
                    "partner": partners[item.id].number if item.id in partners else None,
                }
                for item in report.unmatched_bank
            ],
            "book_items": [
                {
                    "item": item,
                    "amount": money(item.amount),
                    "url": reverse("admin:ledger_journalentry_change", args=[item.entry]),
                }
                for item in report.unmatched_book
            ],
            "cancelled_pairs": report.cancelled_pairs,
            "statement_url": (
                reverse("admin:banking_bankstatement_change", args=[report.statement.pk])
                if report.statement is not None
                else None
            ),
            "lines_url": reverse("admin:banking_bankstatementline_changelist")
            + f"?bank_account__id__exact={bank.pk}&matched=no",
            "ledger_url": f"{reverse('admin:ledger_reports_general_ledger')}?"
            + urlencode(
                {
                    "account": ledger_account.pk,
                    "date_from": report.as_of.replace(day=1).isoformat(),
                    "date_to": report.as_of.isoformat(),
                }
            ),
            "open_statement": open_statement,
            "can_reconcile": admin_can(request, bank.company_id, Action.BANKING_RECONCILE),
        }
