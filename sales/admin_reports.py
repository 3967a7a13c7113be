"""Sales report pages in the admin: AR aging (with each customer's open invoices), customer
statement, sales summary.

Where they live: CustomerAdmin.get_urls() mounts them at /admin/sales/customer/reports/...; they
are registered in sofinance.report_pages (the Reports menu and index, next to the ledger's). Who
may read what: the current company, when the user's role there allows `reports.view`
(superusers: always), as for the ledger's report pages (sofinance.admin.report_company).

Thin: a GET form (so a report is a link that can be kept), one selector of sales.reports, amounts
formatted at the company's (or the statement's) currency, a CSV link to the report API for
members.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from accounts.models import Company
from ledger.admin_reports import ledger_url
from sales import reports, selectors
from sales.models import Customer
from sofinance import admin_menu, report_pages
from sofinance.admin import DateFormField, admin_roles, date_widget, report_company
from sofinance.admin_menu import Section
from sofinance.admin_site import may_in_current_company
from sofinance.display import display_amount as format_amount
from sofinance.ids import id_from_text
from sofinance.money import is_valid_currency
from sofinance.permissions import Action, role_can

TEMPLATES = "admin/sales/reports"
MIN_DATE, MAX_DATE = datetime.date(1900, 1, 1), datetime.date(9998, 12, 31)


SALES_REPORTS = [
    report_pages.ReportPage(
        key="ar_aging",
        title="AR aging",
        description="What each customer owes as of a date, by days past due.",
        url_name="admin:sales_reports_ar_aging",
        group="Sales",
        order=110,
        export_kind="ar_aging",
    ),
    report_pages.ReportPage(
        key="customer_statement",
        title="Customer statement",
        description="A customer's documents over a range, with opening, running and closing balances.",
        url_name="admin:sales_reports_customer_statement",
        group="Sales",
        order=120,
    ),
    report_pages.ReportPage(
        key="sales_summary",
        title="Sales summary",
        description="Net sales and tax by day, month, customer or item.",
        url_name="admin:sales_reports_sales_summary",
        group="Sales",
        order=130,
    ),
]
for _page in SALES_REPORTS:
    report_pages.register(_page)
    admin_menu.place_link(
        section=Section.REPORTS,
        key=f"report-{_page.key}",
        title=_page.title,
        url_name=_page.url_name,
        order=_page.order,
        visible=may_in_current_company(_page.action),
    )


def _date_field(label: str, required: bool = True) -> forms.DateField:
    return DateFormField(
        label=label,
        required=required,
        input_formats=["%Y-%m-%d"],
        widget=date_widget(),
    )


class _CompanyForm(forms.Form):
    """A report's query; the company is the current one (resolved before the form is built)."""

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company

    def clean(self):
        cleaned = super().clean()
        for name in ("as_of", "date_from", "date_to"):
            value = cleaned.get(name)
            if value is not None and not MIN_DATE <= value <= MAX_DATE:
                self.add_error(name, f"Enter a date between {MIN_DATE} and {MAX_DATE}.")
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


class AgingForm(_CompanyForm):
    as_of = _date_field("As of")


class StatementForm(_CompanyForm):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), label="Customer")
    date_from = _date_field("From")
    date_to = _date_field("To")
    currency = forms.CharField(
        max_length=3, required=False, label="Currency", help_text="Blank: the customer's currency."
    )

    field_order = ["customer", "date_from", "date_to", "currency"]

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if currency and not is_valid_currency(currency):
            raise forms.ValidationError(f"{currency} is not an ISO 4217 currency code.")
        return currency

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(company=self.company).order_by("name")


class SummaryForm(_CompanyForm):
    date_from = _date_field("From")
    date_to = _date_field("To")
    group_by = forms.ChoiceField(
        choices=[(c, c.replace("_", " ").capitalize()) for c in reports.SummaryGrouping.CHOICES],
        label="Group by",
    )


class SalesReportPages:
    """The sales report pages of one admin site; `urls()` is mounted by the Customer admin."""

    def __init__(self, admin_site: AdminSite) -> None:
        self.admin_site = admin_site

    def urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("reports/", view(self.index_view), name="sales_reports"),
            path("reports/ar-aging/", view(self.aging_view), name="sales_reports_ar_aging"),
            path(
                "reports/customer-statement/",
                view(self.statement_view),
                name="sales_reports_customer_statement",
            ),
            path("reports/sales-summary/", view(self.summary_view), name="sales_reports_sales_summary"),
        ]

    @staticmethod
    def csv_url(request: HttpRequest, company: Company, url_name: str, params: dict[str, Any]) -> str | None:
        role = admin_roles(request).get(company.pk)
        if role is None or not role_can(role, Action.REPORTS_VIEW):
            return None  # the report API serves members only
        return (
            f"{reverse(url_name, kwargs={'company_id': company.pk})}?{urlencode({**params, 'format': 'csv'})}"
        )

    def render(
        self, request, template: str, title: str, form_class, defaults: dict[str, str], build, key: str = ""
    ) -> TemplateResponse:
        company = report_company(request, self.admin_site)
        if not isinstance(company, Company):
            return company  # the page offering to switch to the company the link names
        given = {k: value for k, value in request.GET.items() if value.strip() and k != "company"}
        values = {**defaults, **given}
        form = form_class(values, company=company)
        if not given and not form.is_valid():
            # Opened from the menu, the page asks for what its defaults cannot choose (a
            # customer) without saying the user got something wrong.
            form = form_class(initial=values, company=company)
        shown = build(request, company, form.cleaned_data) if form.is_bound and form.is_valid() else {}
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": company.name,
            "form": form,
            "company": company,
            "has_report": bool(shown),
            **shown,
        }
        page = next((p for p in SALES_REPORTS if p.key == key), None)
        if page is not None and shown.get("export_params") is not None:
            context["export_offer"] = report_pages.export_offer(
                company_id=company.pk, kind=page.export_kind, params=shown["export_params"]
            )
        return TemplateResponse(request, f"{TEMPLATES}/{template}", context)

    # ----- pages

    def index_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """One reports index for every app: the ledger's (sofinance.report_pages)."""
        return HttpResponseRedirect(reverse("admin:ledger_reports"))

    def aging_view(self, request: HttpRequest) -> TemplateResponse:
        return self.render(
            request,
            "ar_aging.html",
            "AR aging",
            AgingForm,
            {"as_of": timezone.localdate().isoformat()},
            self.aging_context,
            key="ar_aging",
        )

    def aging_context(self, request: HttpRequest, company: Company, data: dict) -> dict[str, Any]:
        as_of = data["as_of"]
        report = reports.ar_aging(company=company, as_of=as_of)
        currency = company.currency
        names = (
            "current",
            "days_1_30",
            "days_31_60",
            "days_61_90",
            "days_over_90",
            "unapplied_credit",
            "total",
        )

        def shown(row) -> dict[str, str]:
            amounts = {name: format_amount(getattr(row, name), currency) for name in names}
            # credit the customer has not applied lowers what they owe: shown negative, in
            # parentheses as on the dashboard, so that a row's columns add up to its total
            credit = row.unapplied_credit
            amounts["unapplied_credit"] = format_amount(-credit if credit else credit, currency)
            return amounts

        customer = None
        customer_id = id_from_text(request.GET.get("customer"))
        if customer_id is not None:
            customer = Customer.objects.filter(company=company, pk=customer_id).first()
        items = reports.ar_open_items(company=company, as_of=as_of, customer=customer) if customer else []
        base = {"as_of": as_of.isoformat()}
        # The aging adds up the sales documents; the receivables accounts what was posted to them.
        # An entry posted to one outside sales (a manual entry, an entry from a bank line) parts
        # them: said here, with where to look, rather than left for an integrity run to find.
        held = selectors.receivables_balance(company=company, as_of=as_of)
        apart = None
        if held != report.totals.total:
            accounts = sorted(selectors.receivables_account_ids(company))
            apart = {
                "held": format_amount(held, currency),
                "documents": format_amount(report.totals.total, currency),
                "difference": format_amount(held - report.totals.total, currency),
                "ledger_url": ledger_url(accounts[0], as_of.replace(month=1, day=1), as_of)
                if accounts
                else None,
            }
        return {
            "apart": apart,
            "export_params": {"as_of": as_of.isoformat()},
            "report": report,
            "rows": [
                {
                    "customer": row.customer,
                    "amounts": shown(row),
                    "detail_url": "?" + urlencode({**base, "customer": row.customer.id}),
                }
                for row in report.rows
            ],
            "totals": shown(report.totals),
            "customer": customer,
            "open_items": [
                {
                    "item": item,
                    "open_amount": format_amount(item.open_amount, item.currency),
                    "open_base": format_amount(item.open_base, currency),
                    "url": reverse("admin:sales_invoice_change", args=[item.invoice_id]),
                }
                for item in items
            ],
            "csv_url": self.csv_url(request, company, "report-ar-aging", {"as_of": as_of.isoformat()}),
        }

    def statement_view(self, request: HttpRequest) -> TemplateResponse:
        today = timezone.localdate()
        return self.render(
            request,
            "customer_statement.html",
            "Customer statement",
            StatementForm,
            {"date_from": today.replace(month=1, day=1).isoformat(), "date_to": today.isoformat()},
            self.statement_context,
        )

    def statement_context(self, request: HttpRequest, company: Company, data: dict) -> dict[str, Any]:
        customer: Customer = data["customer"]
        report = reports.customer_statement(
            company=company,
            customer=customer,
            date_from=data["date_from"],
            date_to=data["date_to"],
            currency=data.get("currency") or None,
        )
        currency = report.currency
        base_query = {
            "company": company.pk,
            "customer": customer.pk,
            "date_from": data["date_from"].isoformat(),
            "date_to": data["date_to"].isoformat(),
        }

        def money(amount) -> str:
            return format_amount(amount, currency)

        return {
            "report": report,
            "opening": money(report.opening_balance),
            "closing": money(report.closing_balance),
            "lines": [
                {
                    "line": line,
                    "document": reports.StatementKind.LABELS[line.kind],
                    "debit": money(line.debit) if line.debit else "",
                    "credit": money(line.credit) if line.credit else "",
                    "balance": money(line.balance),
                }
                for line in report.lines
            ],
            # The customer's balances in other currencies, each linking to its own statement.
            "other_currencies": [
                {
                    "currency": other.currency,
                    "closing": format_amount(abs(other.closing_balance), other.currency),
                    "said": "owed" if other.closing_balance > 0 else "in the customer's credit",
                    "url": f"{request.path}?{urlencode({**base_query, 'currency': other.currency})}",
                }
                for other in report.other_currencies
            ],
            "csv_url": self.csv_url(
                request,
                company,
                "report-customer-statement",
                {
                    "customer": customer.pk,
                    "from": data["date_from"].isoformat(),
                    "to": data["date_to"].isoformat(),
                    "currency": currency,
                },
            ),
        }

    def summary_view(self, request: HttpRequest) -> TemplateResponse:
        today = timezone.localdate()
        return self.render(
            request,
            "sales_summary.html",
            "Sales summary",
            SummaryForm,
            {
                "date_from": today.replace(month=1, day=1).isoformat(),
                "date_to": today.isoformat(),
                "group_by": "month",
            },
            self.summary_context,
        )

    def summary_context(self, request: HttpRequest, company: Company, data: dict) -> dict[str, Any]:
        report = reports.sales_summary(
            company=company, date_from=data["date_from"], date_to=data["date_to"], group_by=data["group_by"]
        )

        def shown(row) -> dict[str, Any]:
            return {
                "row": row,
                "net": format_amount(row.net, company.currency),
                "tax": format_amount(row.tax, company.currency),
                "total": format_amount(row.total, company.currency),
                "quantity": "" if row.quantity is None else format(row.quantity.normalize(), "f"),
            }

        tax_accounts = None
        if report.group_by == reports.SummaryGrouping.TAX_RATE:
            # A return is filed from these figures: what else moved the tax accounts is said here
            # (cash sales posted as journal entries, payments to the tax authority), with where to look.
            accounts, moved = selectors.tax_accounts_movement(
                company=company, date_from=data["date_from"], date_to=data["date_to"]
            )
            if accounts:
                other = moved - report.totals.tax
                tax_accounts = {
                    "names": ", ".join(f"{a.code} {a.name}" for a in accounts),
                    "moved": format_amount(moved, company.currency),
                    "documents": format_amount(report.totals.tax, company.currency),
                    "other": format_amount(other, company.currency) if other else None,
                    "ledger_url": ledger_url(accounts[0].pk, data["date_from"], data["date_to"]),
                }
        return {
            "report": report,
            "tax_accounts": tax_accounts,
            "group_label": report.group_by.replace("_", " "),
            "rows": [shown(row) for row in report.rows],
            "totals": shown(report.totals),
            "csv_url": self.csv_url(
                request,
                company,
                "report-sales-summary",
                {
                    "from": data["date_from"].isoformat(),
                    "to": data["date_to"].isoformat(),
                    "group_by": data["group_by"],
                },
            ),
        }
