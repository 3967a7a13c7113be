"""Report endpoints: JSON in the envelope, or CSV with `?format=csv` (or Accept: text/csv)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.settings import api_settings

from accounts.models import Account
from ledger import reports
from ledger.api import report_serializers as rs
from ledger.models import FIRST_BOOK_DATE, LAST_BOOK_DATE
from ledger.report_tables import (
    GENERAL_LEDGER_HEADER,
    STATEMENT_HEADER,
    TRIAL_BALANCE_HEADER,
    balance_sheet_rows,
    general_ledger_rows,
    income_statement_rows,
    trial_balance_rows,
)
from ledger.reports import LedgerCursor
from sofinance.api.pagination import CURSOR_DESCRIPTION, invalid_cursor
from sofinance.api.renderers import CSVRenderer
from sofinance.api.tenancy import CompanyScopedMixin
from sofinance.api.views import csv_response, ok, query_bool, query_date, refuse_undocumented_query
from sofinance.errors import NotFound, ValidationFailed
from sofinance.ids import MAX_ID, id_from_text
from sofinance.money import format_amount
from sofinance.permissions import Action

MAX_GL_PAGE = 500

FORMAT = OpenApiParameter(
    "format",
    str,
    enum=["json", "csv"],
    description="`csv` for a CSV download of the same rows (default `json`; `Accept: text/csv` works too).",
)
CSV = (200, "text/csv")


def _date_param(request, name: str, *, default: datetime.date | None = None) -> datetime.date:
    return query_date(request, name, default=default, first=FIRST_BOOK_DATE, last=LAST_BOOK_DATE)


def _account(ref: reports.AccountRef) -> dict:
    return {"id": ref.id, "code": ref.code, "name": ref.name, "type": ref.type}


class _ReportView(CompanyScopedMixin, GenericAPIView):
    # The API's renderers (the browsable API only with DEBUG: settings.py), and CSV downloads.
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    actions = {"get": Action.REPORTS_VIEW}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_undocumented_query(request, self)

    def money(self, amount: Decimal | None) -> str | None:
        return None if amount is None else format_amount(amount, self.company.currency)

    def wants_csv(self) -> bool:
        return getattr(self.request.accepted_renderer, "format", None) == "csv"


def _ledger_cursor(token: str) -> LedgerCursor:
    """The general ledger's cursor, exactly as its links write it (anything else, even the same
    position written another way, is the platform's invalid cursor), its sequence and line id
    within a bigint, so nothing malformed reaches the database."""
    try:
        cursor = LedgerCursor.decode(token)
    except ValueError:  # not base64, not text, not its four fields
        raise invalid_cursor() from None
    if cursor.encode() != token or not (0 <= cursor.sequence <= MAX_ID and 0 < cursor.line_id <= MAX_ID):
        raise invalid_cursor()
    return cursor


class TrialBalanceView(_ReportView):
    """Trial balance as of a date (default today): each account's debit or credit balance."""

    query_parameters = ("as_of", "include_zero", "before_closing")

    serializer_class = rs.TrialBalanceOutput

    @extend_schema(
        summary="Trial balance",
        description=(
            "Every account's balance at the end of `as_of` (default today), from all posted "
            "entries up to that day: `debit` or `credit` (the other is zero) and `balance` "
            "(debit minus credit), in the company's functional currency; `totals` are equal when "
            "the books balance. Accounts kept in a foreign currency also give their balance in it. "
            "Accounts with a zero balance are left out unless `include_zero=true`. "
            "`before_closing=true` leaves out the closing entry dated `as_of` (and a reversal of it "
            "dated then): on a fiscal year's last day, the adjusted trial balance the year is closed "
            "from, its income and expenses still on their accounts; earlier years' closings stay, "
            "and on other days nothing is left out. All rows in one response; `?format=csv` for a "
            "download. A malformed date is 400."
        ),
        responses={200: rs.TrialBalanceOutput, CSV: OpenApiTypes.STR},
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="YYYY-MM-DD (default: today)."),
            OpenApiParameter(
                "include_zero", bool, description="`true`: list accounts with a zero balance too."
            ),
            OpenApiParameter(
                "before_closing",
                bool,
                description="`true`: without the closing entry dated `as_of` (a fiscal year's last "
                "day: the pre-closing trial balance).",
            ),
            FORMAT,
        ],
    )
    def get(self, request, company_id):
        as_of = _date_param(request, "as_of", default=datetime.date.today())
        include_zero = query_bool(request, "include_zero")
        report = reports.trial_balance(
            company=self.company,
            as_of=as_of,
            include_zero=include_zero,
            before_closing=query_bool(request, "before_closing"),
        )
        if self.wants_csv():
            rows = [TRIAL_BALANCE_HEADER, *trial_balance_rows(report)]
            return csv_response(rows, f"trial-balance-{as_of}.csv")
        return ok(
            {
                "as_of": as_of.isoformat(),
                "currency": report.currency,
                "rows": [
                    {
                        "account": _account(r.account),
                        "debit": self.money(r.debit),
                        "credit": self.money(r.credit),
                        "balance": self.money(r.balance),
                        **(
                            {
                                "account_currency": r.account.currency,
                                "balance_in_account_currency": format_amount(
                                    r.balance_in_currency, r.account.currency
                                ),
                            }
                            if r.account.currency
                            else {}
                        ),
                    }
                    for r in report.rows
                ],
                "totals": {
                    "debit": self.money(report.total_debit),
                    "credit": self.money(report.total_credit),
                },
            }
        )


def _section_json(view: _ReportView, section: reports.StatementSection) -> dict:
    return {
        "rows": [
            {
                "account": {**_account(r.account), "parent": r.account.parent, "depth": r.account.depth},
                "balance": view.money(r.balance),
                "is_leaf": r.is_leaf,
            }
            for r in section.rows
        ],
        "total": view.money(section.total),
    }


class BalanceSheetView(_ReportView):
    """Balance sheet as of a date: assets = liabilities + equity + current earnings."""

    query_parameters = ("as_of",)

    serializer_class = rs.BalanceSheetOutput

    @extend_schema(
        summary="Balance sheet",
        description=(
            "Assets, liabilities and equity at the end of `as_of` (default today), each a tree of "
            "accounts with sub-totals (`is_leaf` false) and a `total`, in their natural sign. "
            "`current_earnings` is the income less expenses not yet closed into retained earnings; "
            "of it, `earlier_years_earnings` is what fiscal years before the one of `as_of` left "
            "unclosed (zero once their year-end close is done), so `current_earnings` minus it is the "
            "year's earnings to date, the income statement's net income from the fiscal year's start. "
            "`balanced` says assets = liabilities + equity + current earnings. `?format=csv` for a "
            "download."
        ),
        responses={200: rs.BalanceSheetOutput, CSV: OpenApiTypes.STR},
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="YYYY-MM-DD (default: today)."),
            FORMAT,
        ],
    )
    def get(self, request, company_id):
        as_of = _date_param(request, "as_of", default=datetime.date.today())
        report = reports.balance_sheet(company=self.company, as_of=as_of)
        if self.wants_csv():
            rows = [STATEMENT_HEADER, *balance_sheet_rows(report)]
            return csv_response(rows, f"balance-sheet-{as_of}.csv")
        return ok(
            {
                "as_of": as_of.isoformat(),
                "currency": report.currency,
                "assets": _section_json(self, report.assets),
                "liabilities": _section_json(self, report.liabilities),
                "equity": _section_json(self, report.equity),
                "current_earnings": self.money(report.current_earnings),
                "earlier_years_earnings": self.money(report.earlier_years_earnings),
                "total_liabilities_and_equity": self.money(report.total_liabilities_and_equity),
                "balanced": report.balanced,
            }
        )


class IncomeStatementView(_ReportView):
    """Income statement for a date range (closing entries left out)."""

    query_parameters = ("from", "to")

    serializer_class = rs.IncomeStatementOutput

    @extend_schema(
        summary="Income statement",
        description=(
            "Income and expenses posted from `from` to `to` (both required, both inclusive), each "
            "a tree of accounts with sub-totals and a `total`, and `net_income` (income less "
            "expenses). Year-end closing entries are left out, so a closed year still shows its "
            "result. `?format=csv` for a download. A missing or malformed date, or `to` before "
            "`from`, is 400."
        ),
        responses={200: rs.IncomeStatementOutput, CSV: OpenApiTypes.STR},
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day (YYYY-MM-DD)."),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last day (YYYY-MM-DD)."),
            FORMAT,
        ],
    )
    def get(self, request, company_id):
        date_from = _date_param(request, "from")
        date_to = _date_param(request, "to")
        if date_to < date_from:
            raise ValidationFailed("`to` is before `from`.", details={"to": ["Must not be before from."]})
        report = reports.income_statement(company=self.company, date_from=date_from, date_to=date_to)
        if self.wants_csv():
            rows = [STATEMENT_HEADER, *income_statement_rows(report)]
            return csv_response(rows, f"income-statement-{date_from}-{date_to}.csv")
        return ok(
            {
                "from": date_from.isoformat(),
                "to": date_to.isoformat(),
                "currency": report.currency,
                "income": _section_json(self, report.income),
                "expenses": _section_json(self, report.expenses),
                "net_income": self.money(report.net_income),
            }
        )


class GeneralLedgerView(_ReportView):
    """An account's posted lines over a range with running balances (debit minus credit).

    `account` is matched as a code first, then as an id; `account_id` / `account_code` are
    unambiguous. Lines are paginated by keyset cursor; opening and closing balances always cover
    the whole range.
    """

    query_parameters = ("account", "account_id", "account_code", "from", "to", "cursor", "page_size")

    serializer_class = rs.GeneralLedgerOutput

    @extend_schema(
        summary="General ledger of an account",
        description=(
            "One account's posted lines from `from` to `to` in date order, each with its "
            "`running_balance` (debit minus credit, in the functional currency), between the "
            "`opening_balance` (everything before `from`) and the `closing_balance`. Name the "
            "account with `account` (a code, or else an id), or unambiguously with `account_id` "
            "or `account_code`. An account kept in a foreign currency also gives its balances in "
            "that currency.\n\n"
            "`lines` are paginated (keyset cursor: follow `meta.pagination.next`, `page_size` up "
            f"to {MAX_GL_PAGE}); the opening and closing balances and the totals always cover the "
            "whole range, whatever the page. `?format=csv` downloads every line at once.\n\n"
            "Refused: 400 without an account, for a parent account (lines are posted to its "
            "accounts: the message names them), with a malformed date, or `to` before `from`; 404 "
            "for an account that is not the company's, or a malformed cursor."
        ),
        responses={200: rs.GeneralLedgerOutput, CSV: OpenApiTypes.STR},
        parameters=[
            OpenApiParameter(
                "account", str, description="The account's code, or its id when no account has that code."
            ),
            OpenApiParameter("account_id", int, description="The account's id."),
            OpenApiParameter("account_code", str, description="The account's code."),
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description="First day, YYYY-MM-DD (default: the start of the account's history).",
            ),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, YYYY-MM-DD (default: today)."),
            OpenApiParameter(
                "page_size", int, description=f"Lines per page (default 50, at most {MAX_GL_PAGE})."
            ),
            OpenApiParameter("cursor", str, description=CURSOR_DESCRIPTION),
            FORMAT,
        ],
    )
    def get(self, request, company_id):
        account = self._account()
        date_to = _date_param(request, "to", default=datetime.date.today())
        date_from = _date_param(request, "from", default=FIRST_BOOK_DATE)
        if date_to < date_from:
            raise ValidationFailed("`to` is before `from`.", details={"to": ["Must not be before from."]})
        if self.wants_csv():
            return self._csv(account, date_from, date_to)
        raw = request.query_params.get("page_size") or "50"
        if not (raw.isascii() and raw.isdigit() and int(raw) > 0):  # as every list: -5 is no page size
            raise ValidationFailed(
                "The request is invalid.",
                details={"page_size": [f"A whole number from 1 (at most {MAX_GL_PAGE} are sent)."]},
            )
        page_size = min(MAX_GL_PAGE, int(raw))
        token = request.query_params.get("cursor")
        cursor = _ledger_cursor(token) if token else None
        report = reports.general_ledger(
            company=self.company,
            account=account,
            date_from=date_from,
            date_to=date_to,
            page_size=page_size,
            cursor=cursor,
        )
        return ok(
            {
                "account": {**_account(report.account), "currency": report.account.currency},
                "from": date_from.isoformat(),
                "to": date_to.isoformat(),
                "currency": report.currency,
                "opening_balance": self.money(report.opening_balance),
                "lines": [self._line(line, report.account.currency) for line in report.lines],
                "closing_balance": self.money(report.closing_balance),
                "total_debit": self.money(report.total_debit),
                "total_credit": self.money(report.total_credit),
                **self._own_currency_balances(report),
            },
            meta={
                "pagination": {
                    "next": self._link(report.next_cursor),
                    "previous": self._link(report.previous_cursor),
                    "page_size": page_size,
                }
            },
        )

    def _own_currency_balances(self, report: reports.GeneralLedger) -> dict:
        """An account kept in a foreign currency also shows its balances in that currency."""
        currency = report.account.currency
        if not currency:
            return {}
        return {
            "opening_balance_in_account_currency": format_amount(
                report.opening_balance_in_currency, currency
            ),
            "closing_balance_in_account_currency": format_amount(
                report.closing_balance_in_currency, currency
            ),
        }

    def _line(self, line: reports.LedgerLine, account_currency: str | None) -> dict:
        extra = {}
        if account_currency and line.running_balance_in_currency is not None:
            extra["running_balance_in_account_currency"] = format_amount(
                line.running_balance_in_currency, account_currency
            )
        return {
            **extra,
            "id": line.id,
            "entry": line.entry_id,
            "number": line.number,
            "date": line.date.isoformat(),
            "description": line.description or line.entry_description,
            "entry_description": line.entry_description,
            "reference": line.reference,
            "source": line.source,
            "debit": self.money(line.debit),
            "credit": self.money(line.credit),
            "running_balance": self.money(line.running_balance),
            "currency": line.currency,
            "amount": format_amount(line.amount, line.currency),
        }

    def _account(self) -> Account:
        params = self.request.query_params
        queryset = Account.objects.filter(company=self.company)
        account = None
        if params.get("account_id"):
            if (account_id := id_from_text(params["account_id"])) is not None:
                account = queryset.filter(pk=account_id).first()
        elif params.get("account_code"):
            account = queryset.filter(code=params["account_code"]).first()
        elif params.get("account"):
            ref = params["account"]
            account = queryset.filter(code=ref).first()
            if account is None and (account_id := id_from_text(ref)) is not None:
                account = queryset.filter(pk=account_id).first()
        else:
            raise ValidationFailed(
                "The query parameter 'account' is required.", details={"account": ["Required."]}
            )
        if account is None:
            raise NotFound("No such account in this company.")
        children = list(account.children.order_by("code").values_list("code", flat=True))
        if children:  # no line is ever posted to a parent: its ledger would read as empty
            listed = ", ".join(children[:10]) + (", …" if len(children) > 10 else "")
            message = (
                f"{account.code} {account.name} is a parent account: lines are posted to its accounts "
                f"({listed}). Ask for one of them, or read its total in the trial balance."
            )
            raise ValidationFailed(message, details={"account": [message]})
        return account

    def _link(self, cursor: LedgerCursor | None) -> str | None:
        if cursor is None:
            return None
        params = self.request.query_params.copy()
        params["cursor"] = cursor.encode()
        path = reverse("report-general-ledger", kwargs={"company_id": self.company.pk})
        return self.request.build_absolute_uri(f"{path}?{params.urlencode()}")

    def _csv(self, account: Account, date_from: datetime.date, date_to: datetime.date) -> HttpResponse:
        rows = [
            GENERAL_LEDGER_HEADER,
            *general_ledger_rows(
                company=self.company,
                account=account,
                date_from=date_from,
                date_to=date_to,
                page_size=MAX_GL_PAGE,
            ),
        ]
        return csv_response(rows, f"general-ledger-{account.code}-{date_from}-{date_to}.csv")
