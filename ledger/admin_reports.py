"""Report pages in the admin: trial balance, balance sheet, income statement, general ledger.

Where they live: `AccountBalanceAdmin.get_urls()` (ledger/admin.py) mounts `ReportPages.urls()`
under the chart of accounts, at /admin/accounts/account/reports/..., each view wrapped in
`admin_site.admin_view` (staff login required, never cached). That admin is already the ledger's
view of the chart with balances, and every report is a view of those accounts. The other homes
were worse: a custom AdminSite would change the project's URL wiring for four pages, and a proxy
model made only to get an admin entry would add a migration and a meaningless permission.
The admin index and the ledger app index link here (templates/admin/index.html), and an account's
change page links to its statement (templates/admin/accounts/account/change_form.html).

Who may read what: every page reports on the company the user works in (the header's company
switcher: sofinance.company_context) when their role there allows `reports.view` (superusers:
always), else 403. A link naming another of the user's companies (`?company=<id>`) offers to
switch to it; any other company is a 404, exactly like a company that does not exist.

Thin: each page parses its query with a GET form (so every report is a link that can be kept),
calls one selector of `ledger.reports`, formats amounts for people (sofinance.display: thousands
separators, negatives in parentheses) at the company's (or the account's) currency, and renders.
Rows drill down: a trial balance, balance sheet or income statement row opens the account's
general ledger, and a general ledger line its entry and the document that posted it
(sofinance.admin_links). Each page is registered in sofinance.report_pages (the Reports menu and
index) and offers the export job of its kind when an exporter is registered (the jobs app).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.admin import AdminSite
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from accounts.models import Account, Company
from ledger import reports
from ledger.calendar import fiscal_year_bounds, fiscal_year_of
from ledger.models import FIRST_BOOK_DATE, LAST_BOOK_DATE
from ledger.reports import LedgerCursor
from sofinance import admin_menu, report_pages
from sofinance.admin import DateFormField, admin_roles, date_widget, report_company
from sofinance.admin_links import DocumentLink, documents_of_entries
from sofinance.admin_menu import Section
from sofinance.admin_site import may_in_current_company
from sofinance.display import display_amount
from sofinance.permissions import Action, role_can

MIN_DATE, MAX_DATE = FIRST_BOOK_DATE, LAST_BOOK_DATE  # the dates the books accept
GL_PAGE_SIZE = 50
GL_MAX_PAGE_SIZE = 500  # as the report API's MAX_GL_PAGE
TEMPLATES = "admin/ledger/reports"


LEDGER_REPORTS = [
    report_pages.ReportPage(
        key="trial_balance",
        title="Trial balance",
        description="Every account's balance as of a date.",
        url_name="admin:ledger_reports_trial_balance",
        group="Ledger",
        order=10,
        export_kind="trial_balance",
    ),
    report_pages.ReportPage(
        key="balance_sheet",
        title="Balance sheet",
        description="Assets, liabilities and equity as of a date, with current earnings.",
        url_name="admin:ledger_reports_balance_sheet",
        group="Ledger",
        order=20,
        export_kind="balance_sheet",
    ),
    report_pages.ReportPage(
        key="income_statement",
        title="Income statement",
        description="Income and expenses over a range, beside the previous period or year.",
        url_name="admin:ledger_reports_income_statement",
        group="Ledger",
        order=30,
        export_kind="income_statement",
    ),
    report_pages.ReportPage(
        key="general_ledger",
        title="General ledger",
        description="One account's lines over a range: opening, running and closing balances.",
        url_name="admin:ledger_reports_general_ledger",
        group="Ledger",
        order=40,
        export_kind="general_ledger",
    ),
]
for _page in LEDGER_REPORTS:
    report_pages.register(_page)
    admin_menu.place_link(
        section=Section.REPORTS,
        key=f"report-{_page.key}",
        title=_page.title,
        url_name=_page.url_name,
        order=_page.order,
        visible=may_in_current_company(_page.action),
    )


# --------------------------------------------------------------------------- query forms

_DATE_RANGE_MESSAGE = f"Enter a date between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}."


def _date_field(label: str) -> forms.DateField:
    return DateFormField(
        label=label,
        input_formats=["%Y-%m-%d"],
        widget=date_widget(),
        validators=[
            MinValueValidator(MIN_DATE, message=_DATE_RANGE_MESSAGE),
            MaxValueValidator(MAX_DATE, message=_DATE_RANGE_MESSAGE),
        ],
    )


class ReportForm(forms.Form):
    """A report's query; the company is the current one (resolved before the form is built)."""

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company


class TrialBalanceForm(ReportForm):
    as_of = _date_field("As of")
    include_zero = forms.BooleanField(required=False, label="Include zero balances")
    before_closing = forms.BooleanField(
        required=False,
        label="Before the year-end closing entries",
        help_text="On a fiscal year's last day: the adjusted trial balance the year is closed from.",
    )


class BalanceSheetForm(ReportForm):
    as_of = _date_field("As of")


class RangeForm(ReportForm):
    date_from = _date_field("From")
    date_to = _date_field("To")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


COMPARE_CHOICES = [
    ("", "No comparison"),
    ("previous_period", "Previous period"),
    ("previous_year", "Same period last year"),
]


class IncomeStatementForm(RangeForm):
    compare = forms.ChoiceField(choices=COMPARE_CHOICES, required=False, label="Compare with")


class PostableAccountChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Account) -> str:
        return f"{obj.code} {obj.name}" + (f" ({obj.currency})" if obj.currency else "")


class GeneralLedgerForm(RangeForm):
    """The statement's account: a postable (leaf) account of the selected company.

    The page cursor is not a field: changing the account or the dates starts again at page one.
    """

    field_order = ["account", "date_from", "date_to", "page_size"]
    account = PostableAccountChoice(
        queryset=Account.objects.none(),
        label="Account",
        error_messages={"invalid_choice": "Choose a postable account of the selected company."},
    )
    page_size = forms.IntegerField(
        required=False, min_value=1, max_value=GL_MAX_PAGE_SIZE, label="Lines per page"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = (
            Account.objects.filter(company=self.company)
            .exclude(Exists(Account.objects.filter(parent=OuterRef("pk"))))
            .order_by("path")
        )
        self.fields["page_size"].widget.attrs["placeholder"] = str(GL_PAGE_SIZE)


# --------------------------------------------------------------------------- rows as shown


def _indent(depth: int) -> str:
    """CSS em of left padding for an account at `depth` in the chart (as the chart admin)."""
    return f"{depth * 1.5:g}"


@dataclass(frozen=True)
class TrialBalanceLine:
    code: str
    name: str
    depth: int
    indent: str
    debit: str
    credit: str
    balance: str
    balance_in_currency: str  # "490.00 EUR" for an account kept in a foreign currency, else ""
    url: str  # the account's general ledger over the fiscal year to the date


@dataclass(frozen=True)
class StatementLine:
    code: str
    name: str
    depth: int
    indent: str
    is_leaf: bool
    balance: str
    url: str | None = None  # postable accounts: their general ledger over the report's range
    compared: str | None = None  # the comparative column, when there is one


@dataclass(frozen=True)
class StatementSectionShown:
    title: str
    key: str
    lines: list[StatementLine]
    total: str
    compared_total: str | None = None


@dataclass(frozen=True)
class LedgerLineShown:
    date: datetime.date
    number: str
    entry_url: str | None
    document: DocumentLink | None
    reference: str
    description: str
    debit: str
    credit: str
    running_balance: str
    amount: str  # in the line's currency, with its code
    running_balance_in_currency: str


def _money(currency: str) -> Callable[[Decimal | None], str]:
    return lambda amount: display_amount(amount or Decimal(0), currency)


def _own(amount: Decimal | None, currency: str | None) -> str:
    return f"{display_amount(amount, currency)} {currency}" if currency and amount is not None else ""


def ledger_url(account_id: int, date_from: datetime.date, date_to: datetime.date) -> str:
    """The general ledger of one account over a range: where a report row drills down to."""
    query = urlencode(
        {"account": account_id, "date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    )
    return f"{reverse('admin:ledger_reports_general_ledger')}?{query}"


def _section(
    title: str,
    key: str,
    section: reports.StatementSection,
    currency: str,
    drill: Callable[[int], str],
) -> StatementSectionShown:
    money = _money(currency)
    return StatementSectionShown(
        title=title,
        key=key,
        lines=[
            StatementLine(
                code=row.account.code,
                name=row.account.name,
                depth=row.account.depth,
                indent=_indent(row.account.depth),
                is_leaf=row.is_leaf,
                balance=money(row.balance),
                url=drill(row.account.id) if row.is_leaf else None,
            )
            for row in section.rows
        ],
        total=money(section.total),
    )


def _compared_section(
    title: str, key: str, section: reports.ComparedSection, currency: str, drill: Callable[[int], str]
) -> StatementSectionShown:
    money = _money(currency)
    return StatementSectionShown(
        title=title,
        key=key,
        lines=[
            StatementLine(
                code=row.account.code,
                name=row.account.name,
                depth=row.account.depth,
                indent=_indent(row.account.depth),
                is_leaf=row.is_leaf,
                balance=money(row.balance),
                url=drill(row.account.id) if row.is_leaf else None,
                compared=money(row.compared),
            )
            for row in section.rows
        ],
        total=money(section.total),
        compared_total=money(section.compared_total),
    )


# --------------------------------------------------------------------------- pages


class ReportPages:
    """The report pages of one admin site; `urls()` is mounted by the Account admin's get_urls()."""

    def __init__(self, admin_site: AdminSite) -> None:
        self.admin_site = admin_site

    def urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("reports/", view(self.index_view), name="ledger_reports"),
            path(
                "reports/trial-balance/", view(self.trial_balance_view), name="ledger_reports_trial_balance"
            ),
            path(
                "reports/balance-sheet/", view(self.balance_sheet_view), name="ledger_reports_balance_sheet"
            ),
            path(
                "reports/income-statement/",
                view(self.income_statement_view),
                name="ledger_reports_income_statement",
            ),
            path(
                "reports/general-ledger/",
                view(self.general_ledger_view),
                name="ledger_reports_general_ledger",
            ),
        ]

    # ----- tenancy

    @staticmethod
    def api_reads_reports(request: HttpRequest, company: Company) -> bool:
        """The report API serves members only (no superuser bypass), so its CSV link works for
        a user whose own membership allows reports.view."""
        role = admin_roles(request).get(company.pk)
        return role is not None and role_can(role, Action.REPORTS_VIEW)

    def csv_url(
        self, request: HttpRequest, company: Company, url_name: str, params: dict[str, Any]
    ) -> str | None:
        if not self.api_reads_reports(request, company):
            return None
        base = reverse(url_name, kwargs={"company_id": company.pk})
        return f"{base}?{urlencode({**params, 'format': 'csv'})}"

    # ----- one page: resolve the company, bind the query, call the selector, render

    def render_page(
        self,
        request: HttpRequest,
        *,
        template: str,
        title: str,
        form_class: type[ReportForm],
        defaults: Callable[[Company], dict[str, str]],
        build: Callable[[HttpRequest, Company, dict[str, Any]], dict[str, Any]],
        required: tuple[str, ...] = (),
        key: str,
    ) -> TemplateResponse:
        company = report_company(request, self.admin_site)
        if not isinstance(company, Company):
            return company  # the page offering to switch to the company the link names
        given = {key: value for key, value in request.GET.items() if value.strip() and key != "company"}
        form_kwargs = {"company": company}
        values = {**defaults(company), **given}
        if all(name in given for name in required):
            form = form_class(values, **form_kwargs)
            shown = build(request, company, form.cleaned_data) if form.is_valid() else {}
        else:
            # Nothing to report on yet (the statement needs its account): the form, no errors.
            form = form_class(initial=values, **form_kwargs)
            shown = {}
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": company.name,
            "form": form,
            "company": company,
            "report_page": next(page for page in LEDGER_REPORTS if page.key == key),
            "has_report": bool(shown),
            **shown,
        }
        if shown.get("export_params") is not None:
            context["export_offer"] = report_pages.export_offer(
                company_id=company.pk, kind=context["report_page"].export_kind, params=shown["export_params"]
            )
        return TemplateResponse(request, f"{TEMPLATES}/{template}", context)

    @staticmethod
    def today() -> datetime.date:
        return timezone.localdate()

    def as_of_default(self, company: Company) -> dict[str, str]:
        return {"as_of": self.today().isoformat()}

    @staticmethod
    def fiscal_year_start(company: Company, day: datetime.date) -> datetime.date:
        start, _ = fiscal_year_bounds(company=company, year=fiscal_year_of(company=company, day=day))
        return start

    def range_default(self, company: Company) -> dict[str, str]:
        """From the first day of the current fiscal year (company.fiscal_year_start) to today."""
        today = self.today()
        start, _ = fiscal_year_bounds(company=company, year=fiscal_year_of(company=company, day=today))
        return {"date_from": start.isoformat(), "date_to": today.isoformat()}

    # ----- index

    def index_view(self, request: HttpRequest) -> TemplateResponse:
        """Every registered report page the user may open in the current company, by group."""
        from sofinance.admin import admin_can

        company = report_company(request, self.admin_site)
        if not isinstance(company, Company):
            return company
        pages = [page for page in report_pages.registered() if admin_can(request, company.pk, page.action)]
        groups: dict[str, list[report_pages.ReportPage]] = {}
        for page in pages:
            groups.setdefault(page.group, []).append(page)
        context = {
            **self.admin_site.each_context(request),
            "title": "Reports",
            "subtitle": company.name,
            "groups": groups,
        }
        return TemplateResponse(request, f"{TEMPLATES}/index.html", context)

    # ----- trial balance

    def trial_balance_view(self, request: HttpRequest) -> TemplateResponse:
        return self.render_page(
            request,
            template="trial_balance.html",
            key="trial_balance",
            title="Trial balance",
            form_class=TrialBalanceForm,
            defaults=self.as_of_default,
            build=self.trial_balance_context,
        )

    def trial_balance_context(self, request: HttpRequest, company: Company, data: dict) -> dict[str, Any]:
        report = reports.trial_balance(
            company=company,
            as_of=data["as_of"],
            include_zero=data["include_zero"],
            before_closing=data["before_closing"],
        )
        money = _money(company.currency)
        params = {
            "as_of": report.as_of.isoformat(),
            **({"include_zero": "true"} if data["include_zero"] else {}),
            **({"before_closing": "true"} if data["before_closing"] else {}),
        }
        year_start = self.fiscal_year_start(company, report.as_of)
        return {
            # The export job writes the trial balance as posted: not offered for the one before
            # the closing entries (its CSV download, below, is that one).
            "export_params": None if data["before_closing"] else {"as_of": report.as_of.isoformat()},
            "before_closing": data["before_closing"],
            "report": report,
            "rows": [
                TrialBalanceLine(
                    code=row.account.code,
                    name=row.account.name,
                    depth=row.account.depth,
                    indent=_indent(row.account.depth),
                    debit=display_amount(row.debit, company.currency, blank_zero=True),
                    credit=display_amount(row.credit, company.currency, blank_zero=True),
                    balance=money(row.balance),
                    balance_in_currency=_own(row.balance_in_currency, row.account.currency),
                    url=ledger_url(row.account.id, year_start, report.as_of),
                )
                for row in report.rows
            ],
            "has_foreign_accounts": any(row.account.currency for row in report.rows),
            "total_debit": money(report.total_debit),
            "total_credit": money(report.total_credit),
            "csv_url": self.csv_url(request, company, "report-trial-balance", params),
        }

    # ----- balance sheet

    def balance_sheet_view(self, request: HttpRequest) -> TemplateResponse:
        return self.render_page(
            request,
            template="balance_sheet.html",
            key="balance_sheet",
            title="Balance sheet",
            form_class=BalanceSheetForm,
            defaults=self.as_of_default,
            build=self.balance_sheet_context,
        )

    def balance_sheet_context(self, request: HttpRequest, company: Company, data: dict) -> dict[str, Any]:
        report = reports.balance_sheet(company=company, as_of=data["as_of"])
        money = _money(company.currency)
        year_start = self.fiscal_year_start(company, report.as_of)

        def drill(account_id: int) -> str:
            return ledger_url(account_id, year_start, report.as_of)

        return {
            "export_params": {"as_of": report.as_of.isoformat()},
            "report": report,
            "assets": _section("Assets", "assets", report.assets, company.currency, drill),
            "liabilities": _section(
                "Liabilities", "liabilities", report.liabilities, company.currency, drill
            ),
            "equity": _section("Equity", "equity", report.equity, company.currency, drill),
            "current_earnings": money(report.current_earnings),
            "earlier_years_earnings": money(report.earlier_years_earnings)
            if report.earlier_years_earnings
            else "",
            "year_earnings": money(report.year_earnings),
            "total_liabilities_and_equity": money(report.total_liabilities_and_equity),
            "csv_url": self.csv_url(
                request, company, "report-balance-sheet", {"as_of": report.as_of.isoformat()}
            ),
        }

    # ----- income statement

    def income_statement_view(self, request: HttpRequest) -> TemplateResponse:
        return self.render_page(
            request,
            template="income_statement.html",
            key="income_statement",
            title="Income statement",
            form_class=IncomeStatementForm,
            defaults=self.range_default,
            build=self.income_statement_context,
        )

    def income_statement_context(self, request: HttpRequest, company: Company, data: dict) -> dict[str, Any]:
        date_from, date_to = data["date_from"], data["date_to"]
        params = {"from": date_from.isoformat(), "to": date_to.isoformat()}

        def drill(account_id: int) -> str:
            return ledger_url(account_id, date_from, date_to)

        money = _money(company.currency)
        shown: dict[str, Any] = {"export_params": dict(params)}
        if data.get("compare"):
            compared = reports.income_statement_compared(
                company=company, date_from=date_from, date_to=date_to, basis=data["compare"]
            )
            report = compared.current
            shown |= {
                "compared": compared.previous,
                "compare_label": dict(COMPARE_CHOICES)[data["compare"]],
                "current_label": f"{date_from:%Y-%m-%d} – {date_to:%Y-%m-%d}",
                "compared_label": f"{compared.previous.date_from:%Y-%m-%d} – {compared.previous.date_to:%Y-%m-%d}",
                "income": _compared_section("Income", "income", compared.income, company.currency, drill),
                "expenses": _compared_section(
                    "Expenses", "expenses", compared.expenses, company.currency, drill
                ),
                "compared_net_income": money(compared.previous.net_income),
            }
        else:
            report = reports.income_statement(company=company, date_from=date_from, date_to=date_to)
            shown |= {
                "income": _section("Income", "income", report.income, company.currency, drill),
                "expenses": _section("Expenses", "expenses", report.expenses, company.currency, drill),
            }
        return {
            **shown,
            "report": report,
            "net_income": money(report.net_income),
            "csv_url": self.csv_url(request, company, "report-income-statement", params),
        }

    # ----- general ledger

    def general_ledger_view(self, request: HttpRequest) -> TemplateResponse:
        return self.render_page(
            request,
            template="general_ledger.html",
            key="general_ledger",
            title="General ledger",
            form_class=GeneralLedgerForm,
            defaults=self.range_default,
            build=self.general_ledger_context,
            required=("account",),
        )

    @staticmethod
    def cursor(request: HttpRequest) -> LedgerCursor | None:
        raw = request.GET.get("cursor", "").strip()
        if not raw:
            return None
        try:
            return LedgerCursor.decode(raw)
        except (ValueError, UnicodeDecodeError):
            raise Http404("Invalid page link.") from None

    def general_ledger_context(self, request: HttpRequest, company: Company, data: dict) -> dict[str, Any]:
        account: Account = data["account"]
        page_size = data["page_size"] or GL_PAGE_SIZE
        report = reports.general_ledger(
            company=company,
            account=account,
            date_from=data["date_from"],
            date_to=data["date_to"],
            page_size=page_size,
            cursor=self.cursor(request),
        )
        money = _money(company.currency)
        own_currency = report.account.currency
        query = {
            "account": account.pk,
            "date_from": report.date_from.isoformat(),
            "date_to": report.date_to.isoformat(),
            "page_size": page_size,
        }

        def page_link(cursor: LedgerCursor | None) -> str | None:
            return None if cursor is None else "?" + urlencode({**query, "cursor": cursor.encode()})

        may_open_entries = request.user.has_perm("ledger.view_journalentry")

        def entry_url(entry_id: int) -> str | None:
            if not may_open_entries:
                return None
            return reverse(
                "admin:ledger_journalentry_change", args=[entry_id], current_app=self.admin_site.name
            )

        documents = documents_of_entries(line.entry_id for line in report.lines) if may_open_entries else {}
        return {
            # the account by its code: the exports API reads a string as a code (an id is a JSON number)
            "export_params": {"account": account.code, "from": query["date_from"], "to": query["date_to"]},
            "report": report,
            "own_currency": own_currency,
            "opening_balance": money(report.opening_balance),
            "closing_balance": money(report.closing_balance),
            "total_debit": money(report.total_debit),
            "total_credit": money(report.total_credit),
            "opening_balance_in_currency": _own(report.opening_balance_in_currency, own_currency),
            "closing_balance_in_currency": _own(report.closing_balance_in_currency, own_currency),
            "lines": [
                LedgerLineShown(
                    date=line.date,
                    number=line.number,
                    entry_url=entry_url(line.entry_id),
                    document=documents.get(line.entry_id),
                    reference=line.reference,
                    description=line.description or line.entry_description,
                    debit=display_amount(line.debit, company.currency, blank_zero=True),
                    credit=display_amount(line.credit, company.currency, blank_zero=True),
                    running_balance=money(line.running_balance),
                    amount=_own(line.amount, line.currency),
                    running_balance_in_currency=_own(line.running_balance_in_currency, own_currency),
                )
                for line in report.lines
            ],
            "next_url": page_link(report.next_cursor),
            "previous_url": page_link(report.previous_cursor),
            "first_url": "?" + urlencode(query) if report.previous_cursor is not None else None,
            "csv_url": self.csv_url(
                request,
                company,
                "report-general-ledger",
                {"account_id": account.pk, "from": query["date_from"], "to": query["date_to"]},
            ),
        }
