"""Sales reports over the API: JSON in the envelope, or CSV with `?format=csv` (Accept: text/csv).

Each report is a frozen dataclass from sales.reports rendered by one serializer; the CSV is the
same rows, flat."""

from __future__ import annotations

import datetime

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.settings import api_settings

from sales import reports, selectors
from sales.api import serializers as s
from sales.report_tables import AR_AGING_HEADER, ar_aging_rows
from sofinance.api.renderers import CSVRenderer
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import csv_response, ok, query_date, refuse_undocumented_query
from sofinance.errors import NotFound, ValidationFailed
from sofinance.ids import id_from_text
from sofinance.money import format_amount, is_valid_currency
from sofinance.permissions import Action

FORMAT = OpenApiParameter("format", str, enum=["json", "csv"], description="`csv` for a CSV download.")


class _ReportView(CompanyScopedMixin, GenericAPIView):
    # The API's renderers (the browsable API only with DEBUG: settings.py), and CSV downloads.
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    actions = {"get": Action.REPORTS_VIEW}
    pagination_class = None
    filter_backends: list = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_undocumented_query(request, self)

    def wants_csv(self) -> bool:
        return getattr(self.request.accepted_renderer, "format", None) == "csv"

    def money(self, amount) -> str:
        return format_amount(amount, self.company.currency)

    def context(self) -> dict:
        return {"currency": self.company.currency, "request": self.request}

    def range(self) -> tuple[datetime.date, datetime.date]:
        today = timezone.localdate()
        date_to = query_date(self.request, "to", default=today)
        date_from = query_date(self.request, "from", default=date_to.replace(month=1, day=1))
        if date_to < date_from:
            raise ValidationFailed("`to` is before `from`.", details={"to": ["Must not be before from."]})
        return date_from, date_to


class ArAgingView(_ReportView):
    query_parameters = ("as_of",)
    serializer_class = s.ArAgingOutput

    @extend_schema(
        operation_id="companies_reports_ar_aging",
        summary="Accounts receivable aging",
        description="What each customer owed at the end of `as_of` (default today; any past date "
        "gives what was open then), by days past due: `current` (not yet due), `days_1_30`, "
        "`days_31_60`, `days_61_90`, `days_over_90`; `unapplied_credit` is unallocated payments, and "
        "`total` = buckets − unapplied credit. In the company's currency (foreign-currency invoices at "
        "their own rate), so `totals.total` equals the receivables account's balance on that date. "
        "Customers owing nothing are left out.",
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="YYYY-MM-DD, default today."),
            FORMAT,
        ],
        responses={200: s.ArAgingOutput, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, company_id):
        as_of = query_date(request, "as_of", default=timezone.localdate())
        report = reports.ar_aging(company=self.company, as_of=as_of)
        if self.wants_csv():
            rows = [AR_AGING_HEADER, *ar_aging_rows(report)]
            return csv_response(rows, f"ar-aging-{as_of}.csv")
        return ok(s.ArAgingOutput(report, context=self.context()).data)


class CustomerStatementView(_ReportView):
    query_parameters = ("customer", "from", "to", "currency")
    serializer_class = s.CustomerStatementOutput

    @extend_schema(
        operation_id="companies_reports_customer_statement",
        summary="Customer statement",
        description="For one `customer` over `from`..`to` (default: 1 January of `to`'s year to today): "
        "the opening balance, every invoice, credit note, payment and void in the range with a "
        "running balance, and the closing balance, in the customer's currency (or `currency`). "
        "`debit` raises what the customer owes, `credit` lowers it.",
        parameters=[
            OpenApiParameter("customer", int, required=True, description="Customer id."),
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description="First day (default: 1 January of `to`'s year)."
            ),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (default: today)."),
            OpenApiParameter("currency", str, description="Default: the customer's currency."),
            FORMAT,
        ],
        responses={200: s.CustomerStatementOutput, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, company_id):
        customer_id = id_from_text(request.query_params.get("customer"))
        if customer_id is None:
            raise ValidationFailed(
                "The query parameter 'customer' (an id) is required.", details={"customer": ["Required."]}
            )
        customer = selectors.customer_get(company=self.company, pk=customer_id)
        if customer is None:
            raise NotFound("No such customer in this company.")
        currency = (request.query_params.get("currency") or customer.currency).upper()
        if not is_valid_currency(currency):
            message = f"{currency!r} is not an ISO 4217 currency."
            raise ValidationFailed(message, details={"currency": [message]})
        date_from, date_to = self.range()
        report = reports.customer_statement(
            company=self.company, customer=customer, date_from=date_from, date_to=date_to, currency=currency
        )
        context = {**self.context(), "currency": currency}
        if self.wants_csv():
            money = lambda amount: format_amount(amount, currency)  # noqa: E731
            rows = [["date", "kind", "number", "reference", "description", "debit", "credit", "balance"]]
            rows.append(
                [date_from.isoformat(), "", "", "", "Opening balance", "", "", money(report.opening_balance)]
            )
            rows += [
                [
                    ln.date.isoformat(),
                    ln.kind,
                    ln.number,
                    ln.reference,
                    ln.description,
                    money(ln.debit),
                    money(ln.credit),
                    money(ln.balance),
                ]
                for ln in report.lines
            ]
            rows.append(
                [date_to.isoformat(), "", "", "", "Closing balance", "", "", money(report.closing_balance)]
            )
            for other in report.other_currencies:  # not on this statement, not to be missed
                said = "Also owed" if other.closing_balance > 0 else "Customer's credit"
                rows.append(
                    [
                        date_to.isoformat(),
                        "",
                        "",
                        "",
                        f"{said} in {other.currency} (another statement)",
                        "",
                        "",
                        format_amount(other.closing_balance, other.currency),
                    ]
                )
            return csv_response(rows, f"statement-{customer.pk}-{currency}-{date_from}-{date_to}.csv")
        return ok(s.CustomerStatementOutput(report, context=context).data)


class SalesSummaryView(_ReportView):
    query_parameters = ("from", "to", "group_by")
    serializer_class = s.SalesSummaryOutput

    @extend_schema(
        operation_id="companies_reports_sales_summary",
        summary="Sales summary",
        description="Net sales (invoiced, less credited and voided) and tax over `from`..`to` (default: "
        "this year to today), in the company's currency, `group_by` `day` (default) or `month` (from "
        "the stored daily summary, kept by every posting) or `customer`, `item` or `tax_rate` (from the "
        "documents). Invoices count on their date, credit notes on theirs, voids on the void date. "
        "By item, foreign-currency lines are converted line by line at their invoice's rate. By "
        "`tax_rate` (a sales tax or VAT return: the taxable sales and the tax per rate, a row for "
        "lines without a rate), a document's lines at one rate are converted together at its rate, "
        "as its posting does: each rate's `tax` is exactly what the documents moved on its account.",
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description="First day (default: 1 January of `to`'s year)."
            ),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (default: today)."),
            OpenApiParameter(
                "group_by",
                str,
                enum=list(reports.SummaryGrouping.CHOICES),
                description="One row per `day` (default), `month`, `customer`, `item` or `tax_rate`.",
            ),
            FORMAT,
        ],
        responses={200: s.SalesSummaryOutput, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, company_id):
        group_by = request.query_params.get("group_by") or reports.SummaryGrouping.DAY
        if group_by not in reports.SummaryGrouping.CHOICES:
            message = f"group_by is one of {', '.join(reports.SummaryGrouping.CHOICES)}."
            raise ValidationFailed(
                message,
                details={"group_by": [message]},
            )
        date_from, date_to = self.range()
        report = reports.sales_summary(
            company=self.company, date_from=date_from, date_to=date_to, group_by=group_by
        )
        if self.wants_csv():
            rows = [
                [group_by, "label", "invoices", "credit_notes", "voids", "net", "tax", "total", "quantity"]
            ]
            for row in [*report.rows, report.totals]:
                quantity = "" if row.quantity is None else format(row.quantity.normalize(), "f")
                rows.append(
                    [
                        row.key,
                        row.label,
                        row.invoice_count,
                        row.credit_note_count,
                        row.void_count,
                        self.money(row.net),
                        self.money(row.tax),
                        self.money(row.total),
                        quantity,
                    ]
                )
            return csv_response(rows, f"sales-summary-{group_by}-{date_from}-{date_to}.csv")
        return ok(s.SalesSummaryOutput(report, context=self.context()).data)
