"""What each kind of export contains: a header and a stream of rows, with a row count for progress.

Reports that fit in a response (trial balance, balance sheet, income statement, AR aging) are
read whole, in the same shape as their API CSV (ledger.report_tables, sales.report_tables); the
long ones (general ledger, journal lines, invoices, audit events) stream by keyset pages, so a
million rows cost the memory of one page.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounts.models import Account, Company
from audit.models import AuditEvent
from jobs.models import ExportKind
from ledger.models import FIRST_BOOK_DATE, LAST_BOOK_DATE, JournalLine
from ledger.report_tables import (
    GENERAL_LEDGER_HEADER,
    STATEMENT_HEADER,
    TRIAL_BALANCE_HEADER,
    balance_sheet_rows,
    general_ledger_rows,
    income_statement_rows,
    trial_balance_rows,
)
from ledger.reports import balance_sheet, income_statement, trial_balance
from ledger.selectors import posted_lines_count, posted_lines_stream
from sales.models import Invoice
from sales.report_tables import AR_AGING_HEADER, ar_aging_rows
from sales.reports import ar_aging
from sofinance.money import format_amount, money_from_sum

PAGE = 2000


@dataclass
class Table:
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]
    total: int  # rows expected (progress); the stream may end up a little longer or shorter
    title: str
    numeric: frozenset[str] = frozenset()  # columns holding amounts (numbers in a spreadsheet)


@dataclass(frozen=True)
class ExportParameters:
    """An export's parameters, parsed (see jobs.services.exports.export_parameters_parse)."""

    as_of: datetime.date | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    account: Account | None = None


def _rate(value: Any) -> str:
    rate = value if isinstance(value, Decimal) else Decimal(repr(value))
    return format(rate.normalize(), "f")


JOURNAL_LINES_HEADER = [
    "date",
    "number",
    "line",
    "account_code",
    "account_name",
    "description",
    "reference",
    "source",
    "debit",
    "credit",
    "currency",
    "amount",
    "fx_rate",
    "base_amount",
]


def _journal_lines(company: Company, params: ExportParameters) -> Table:
    date_from = params.date_from or FIRST_BOOK_DATE
    date_to = params.date_to or LAST_BOOK_DATE
    account_id = params.account.pk if params.account else None
    functional = company.currency

    def rows() -> Iterator[list]:
        for (
            _line_id,
            date,
            _sequence,
            _entry_id,
            number,
            reference,
            entry_description,
            source,
            line_no,
            code,
            name,
            description,
            debit,
            credit,
            currency,
            amount,
            fx_rate,
            base,
        ) in posted_lines_stream(
            company=company, date_from=date_from, date_to=date_to, account_id=account_id, page_size=PAGE
        ):
            base = money_from_sum(base)
            yield [
                date.isoformat(),
                number,
                line_no,
                code,
                name,
                description or entry_description,
                reference,
                source,
                format_amount(money_from_sum(debit), currency),
                format_amount(money_from_sum(credit), currency),
                currency,
                format_amount(money_from_sum(amount), currency),
                _rate(fx_rate),
                format_amount(base, functional),
            ]

    total = posted_lines_count(company=company, date_from=date_from, date_to=date_to, account_id=account_id)
    return Table(
        JOURNAL_LINES_HEADER,
        rows(),
        total,
        "journal-lines",
        frozenset({"debit", "credit", "amount", "fx_rate", "base_amount"}),
    )


INVOICES_HEADER = [
    "number",
    "date",
    "due_date",
    "customer_id",
    "customer",
    "status",
    "currency",
    "fx_rate",
    "subtotal",
    "tax_total",
    "total",
    "amount_credited",
    "amount_paid",
    "amount_due",
    "total_base",
    "journal_entry",
]


def _invoices(company: Company, params: ExportParameters) -> Table:
    invoices = Invoice.objects.filter(company=company).exclude(number__isnull=True)
    if params.date_from:
        invoices = invoices.filter(date__gte=params.date_from)
    if params.date_to:
        invoices = invoices.filter(date__lte=params.date_to)

    def rows() -> Iterator[list]:
        last: tuple[datetime.date, int] | None = None
        while True:
            page = invoices.select_related("customer", "journal_entry").order_by("date", "id")
            if last is not None:
                page = page.filter(date__gte=last[0]).exclude(date=last[0], id__lte=last[1])
            chunk = list(page[:PAGE])
            if not chunk:
                return
            for inv in chunk:
                cur = inv.currency
                yield [
                    inv.number,
                    inv.date.isoformat(),
                    inv.due_date.isoformat(),
                    inv.customer_id,
                    inv.customer.name,
                    inv.status,
                    cur,
                    _rate(inv.fx_rate) if inv.fx_rate is not None else "",
                    format_amount(inv.subtotal, cur),
                    format_amount(inv.tax_total, cur),
                    format_amount(inv.total, cur),
                    format_amount(inv.amount_credited, cur),
                    format_amount(inv.amount_paid, cur),
                    format_amount(inv.amount_due, cur),
                    format_amount(inv.total_base, company.currency) if inv.total_base is not None else "",
                    inv.journal_entry.number if inv.journal_entry_id else "",
                ]
            last = (chunk[-1].date, chunk[-1].pk)

    amounts = {"fx_rate", "subtotal", "tax_total", "total", "amount_credited", "amount_paid", "amount_due"}
    return Table(INVOICES_HEADER, rows(), invoices.count(), "invoices", frozenset({*amounts, "total_base"}))


AUDIT_HEADER = [
    "id",
    "created_at",
    "actor_type",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "request_id",
    "ip",
    "changes",
    "metadata",
]


def _audit_events(company: Company, params: ExportParameters) -> Table:
    import json

    events = AuditEvent.objects.filter(company_id=company.pk)
    if params.date_from:
        events = events.filter(created_at__date__gte=params.date_from)
    if params.date_to:
        events = events.filter(created_at__date__lte=params.date_to)

    def rows() -> Iterator[list]:
        last = 0
        while True:
            chunk = list(events.filter(pk__gt=last).order_by("pk")[:PAGE])
            if not chunk:
                return
            for e in chunk:
                yield [
                    e.pk,
                    e.created_at.isoformat(),
                    e.actor_type,
                    e.actor_repr,
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.object_repr,
                    e.request_id,
                    e.ip or "",
                    json.dumps(e.changes, sort_keys=True, ensure_ascii=False),
                    json.dumps(e.metadata, sort_keys=True, ensure_ascii=False),
                ]
            last = chunk[-1].pk

    return Table(AUDIT_HEADER, rows(), events.count(), "audit-events")


def _general_ledger(company: Company, params: ExportParameters) -> Table:
    assert params.account is not None
    date_from = params.date_from or FIRST_BOOK_DATE
    date_to = params.date_to or datetime.date.today()
    total = (
        JournalLine.objects.filter(
            company=company,
            account=params.account,
            entry_sequence__isnull=False,
            date__gte=date_from,
            date__lte=date_to,
        ).count()
        + 2
    )
    rows = general_ledger_rows(
        company=company, account=params.account, date_from=date_from, date_to=date_to, page_size=500
    )
    return Table(
        GENERAL_LEDGER_HEADER,
        rows,
        total,
        f"general-ledger-{params.account.code}",
        frozenset({"debit", "credit", "running_balance"}),
    )


MONEY_COLUMNS = frozenset(
    {"debit", "credit", "balance", "amount", "current", "days_1_30", "days_31_60", "days_61_90"}
    | {"days_over_90", "unapplied_credit", "total"}
)


def _whole(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> Table:
    materialised = list(rows)
    return Table(columns, materialised, len(materialised), title, MONEY_COLUMNS & set(columns))


def export_table(kind: str, company: Company, params: ExportParameters) -> Table:
    """The table of an export of `kind` (every kind but Beancount, which is not a table)."""
    today = datetime.date.today()
    if kind == ExportKind.TRIAL_BALANCE:
        report = trial_balance(company=company, as_of=params.as_of or today)
        return _whole(TRIAL_BALANCE_HEADER, trial_balance_rows(report), "trial-balance")
    if kind == ExportKind.BALANCE_SHEET:
        report = balance_sheet(company=company, as_of=params.as_of or today)
        return _whole(STATEMENT_HEADER, balance_sheet_rows(report), "balance-sheet")
    if kind == ExportKind.INCOME_STATEMENT:
        assert params.date_from is not None and params.date_to is not None
        report = income_statement(company=company, date_from=params.date_from, date_to=params.date_to)
        return _whole(STATEMENT_HEADER, income_statement_rows(report), "income-statement")
    if kind == ExportKind.AR_AGING:
        report = ar_aging(company=company, as_of=params.as_of or today)
        return _whole(AR_AGING_HEADER, ar_aging_rows(report), "ar-aging")
    if kind == ExportKind.GENERAL_LEDGER:
        return _general_ledger(company, params)
    if kind == ExportKind.JOURNAL_LINES:
        return _journal_lines(company, params)
    if kind == ExportKind.INVOICES:
        return _invoices(company, params)
    if kind == ExportKind.AUDIT_EVENTS:
        return _audit_events(company, params)
    raise ValueError(f"{kind!r} is not a tabular export")
